/* 智慧党建 — office screen.
 *
 * The page is rendered once; this script fetches the screen's JSON snapshot right away and
 * then every `refresh_seconds`, sending the last ETag so an unchanged snapshot costs a
 * 304 with no body. It keeps the last good data on screen when the server cannot be
 * reached (with a discreet "reconnecting" mark) and retries with a backoff capped at the
 * interval; a 404 means the link was switched off, so the data is cleared and a notice
 * shown. When a deploy changes the page's own files, the snapshot's `version` no longer
 * matches the one the page was rendered with and the page reloads itself.
 *
 * Every text comes from the page (translated by Django); values are put into the
 * texts' {name} placeholders. No framework, no build step.
 */
(() => {
  "use strict";

  const body = document.body;
  const config = {
    snapshotUrl: body.dataset.snapshotUrl,
    refreshSeconds: Number(body.dataset.refreshSeconds) || 30,
    pageVersion: body.dataset.pageVersion,
    timeZone: body.dataset.timeZone || undefined,
    lang: document.documentElement.lang || "zh-Hans",
  };
  const strings = { ...document.getElementById("screen-strings").dataset };

  const FIRST_RETRY_MS = 2000;
  const REVOKED_POLL_MS = 5 * 60 * 1000;
  const REQUEST_TIMEOUT_MS = 15000;
  // Kiosk devices often have no time sync: trust the server's clock when they disagree.
  const CLOCK_SKEW_TOLERANCE_MS = 60 * 1000;
  // Do not reload for a new version more often than this (a rolling deploy can serve
  // two versions for a while).
  const RELOAD_GUARD_MS = 60 * 1000;
  // Pixels per second the ticker moves, per --u (1% of the viewport height).
  const TICKER_SPEED = 7;
  // How far names may shrink before they wrap onto more lines (a share of their CSS size):
  // the organisation's down to the panel titles' size, a branch's to the small text's.
  const TITLE_FIT = { oneLine: 0.8, lines: 2, smallest: 0.6 };
  const BRANCH_NAME_FIT = { lines: 2, smallest: 0.85 };

  const state = {
    etag: null,
    data: null,
    failures: 0,
    revoked: false,
    timer: null,
    clockOffset: 0,
    lastSuccess: null,
    tickerKey: null,
    pendingTicker: null,
  };

  const portrait = window.matchMedia("(orientation: portrait)");
  const field = (name) => document.querySelector(`[data-field="${name}"]`);
  const panel = (name) => document.querySelector(`[data-panel="${name}"]`);

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, (match, key) =>
      key in values ? String(values[key]) : match,
    );
  }

  function setText(element, text) {
    if (element && element.textContent !== text) element.textContent = text;
  }

  function el(tag, className, text) {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function now() {
    return new Date(Date.now() + state.clockOffset);
  }

  // --- Formatting ------------------------------------------------------------------

  const numberFormat = new Intl.NumberFormat(config.lang);
  const timeFormat = new Intl.DateTimeFormat(config.lang, {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone: config.timeZone,
  });
  const dateFormat = new Intl.DateTimeFormat(config.lang, {
    year: "numeric",
    month: "long",
    day: "numeric",
    timeZone: config.timeZone,
  });
  const weekdayFormat = new Intl.DateTimeFormat(config.lang, {
    weekday: "long",
    timeZone: config.timeZone,
  });
  const shortDate = new Intl.DateTimeFormat(config.lang, {
    month: "long",
    day: "numeric",
    timeZone: "UTC",
  });
  const longDate = new Intl.DateTimeFormat(config.lang, {
    year: "numeric",
    month: "long",
    day: "numeric",
    timeZone: "UTC",
  });

  function isoDay(text) {
    const [year, month, day] = String(text).split("-").map(Number);
    return new Date(Date.UTC(year, month - 1, day, 12));
  }

  function formatRange(period, range) {
    if (!Array.isArray(range) || range.length !== 2 || period === "all") return "";
    const start = isoDay(range[0]);
    const end = isoDay(range[1]);
    const thisYear = now().getFullYear();
    const format =
      start.getUTCFullYear() === thisYear && end.getUTCFullYear() === thisYear
        ? shortDate
        : longDate;
    if (period === "day" || range[0] === range[1]) return format.format(start);
    return `${format.format(start)} – ${format.format(end)}`;
  }

  function percent(share) {
    return `${Math.round((Number(share) || 0) * 100)}%`;
  }

  // --- Clock -------------------------------------------------------------------------

  function tick() {
    const current = now();
    setText(field("clock"), timeFormat.format(current));
    setText(field("date"), `${dateFormat.format(current)} ${weekdayFormat.format(current)}`);
    // Wake just after the next whole second, so the minutes turn over on time.
    setTimeout(tick, 1000 - (current.getTime() % 1000) + 20);
  }

  function showUpdated() {
    if (!state.lastSuccess) return;
    setText(field("updated"), fill(strings.updated, { time: timeFormat.format(state.lastSuccess) }));
  }

  function syncClock(response) {
    const serverTime = Date.parse(response.headers.get("Date") || "");
    if (!Number.isFinite(serverTime)) return;
    const offset = serverTime - Date.now();
    state.clockOffset = Math.abs(offset) > CLOCK_SKEW_TOLERANCE_MS ? offset : 0;
  }

  // --- Fetching ----------------------------------------------------------------------

  function schedule(ms) {
    clearTimeout(state.timer);
    state.timer = setTimeout(poll, ms);
  }

  function intervalMs() {
    return Math.max(1, state.data?.screen?.refresh_seconds || config.refreshSeconds) * 1000;
  }

  async function poll() {
    const headers = { Accept: "application/json" };
    if (state.etag && !state.revoked) headers["If-None-Match"] = state.etag;
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    let response;
    let data = null;
    try {
      response = await fetch(config.snapshotUrl, {
        headers,
        cache: "no-store",
        credentials: "omit",
        signal: controller.signal,
      });
      if (response.status === 200) data = await response.json();
    } catch (error) {
      response = null;
    } finally {
      clearTimeout(timeout);
    }

    if (!response || (response.status !== 304 && response.status !== 404 && !data)) {
      onFailure();
      return;
    }
    syncClock(response);
    if (response.status === 404) {
      onRevoked();
      return;
    }
    if (state.revoked) {
      // The link was switched on again: start afresh.
      window.location.reload();
      return;
    }
    if (data) {
      if (data.version && data.version !== config.pageVersion && reloadForNewVersion()) return;
      state.etag = response.headers.get("ETag");
      render(data);
    }
    onSuccess();
  }

  function onSuccess() {
    state.failures = 0;
    state.lastSuccess = now();
    field("reconnecting").hidden = true;
    showUpdated();
    schedule(intervalMs());
  }

  function onFailure() {
    state.failures += 1;
    field("reconnecting").hidden = false;
    const backoff = FIRST_RETRY_MS * 2 ** Math.min(state.failures - 1, 10);
    const jitter = 0.9 + Math.random() * 0.2;
    schedule(Math.min(backoff * jitter, intervalMs()));
  }

  function onRevoked() {
    state.revoked = true;
    state.data = null;
    state.etag = null;
    state.pendingTicker = null;
    // Nothing of the old data stays in the page once the link is off.
    for (const name of ["bars", "people", "ticker"]) field(name).replaceChildren();
    body.classList.add("is-revoked");
    body.classList.remove("is-loading");
    field("revoked").hidden = false;
    field("reconnecting").hidden = true;
    schedule(REVOKED_POLL_MS);
  }

  function reloadForNewVersion() {
    const key = "dangjian-screen-reloaded-at";
    let last = 0;
    try {
      last = Number(sessionStorage.getItem(key)) || 0;
      if (Date.now() - last < RELOAD_GUARD_MS) return false;
      sessionStorage.setItem(key, String(Date.now()));
    } catch (error) {
      // Storage may be off on a locked-down kiosk; reload anyway.
    }
    window.location.reload();
    return true;
  }

  // --- Rendering ---------------------------------------------------------------------

  function render(data) {
    state.data = data;
    const screen = data.screen || {};
    const panels = data.panels || {};

    body.classList.toggle("theme-dark", screen.theme !== "light");
    body.classList.toggle("theme-light", screen.theme === "light");
    setText(field("screen-name"), screen.name || "");
    setText(field("organization"), screen.organization || "");
    setText(field("period-label"), screen.period_label || "");
    setText(field("range"), formatRange(screen.period, screen.range));
    if (screen.name) document.title = `${screen.name} · ${document.title.split(" · ").pop()}`;

    panel("branches").hidden = !panels.branches;
    panel("today").hidden = !panels.today;
    panel("top_members").hidden = !panels.top_members;
    panel("activity").hidden = !panels.activity;
    const side = document.querySelector(".side");
    side.hidden = !panels.today && !panels.top_members;
    side.classList.toggle("only-today", Boolean(panels.today && !panels.top_members));

    if (panels.branches) renderBranches(data.branches || [], data.branch_count, screen);
    if (panels.today) renderToday(data.today || {});
    if (panels.top_members) renderPeople(data.top_members || []);
    if (panels.activity) renderTicker(data.activity || [], screen.names_shown);

    // Fit while still "loading" (no transitions), so the first data appears in place.
    fitText(field("organization"), TITLE_FIT);
    fitLists();
    body.classList.remove("is-loading");
  }

  function renderBranches(rows, total, screen) {
    setText(field("ranked-by"), fill(strings.rankedBy, { metric: screen.metric_label || "" }));
    const list = field("bars");
    const highest = Math.max(0, ...rows.map((row) => Number(row.value) || 0));
    syncChildren(list, rows.length, () => {
      const item = el("li", "bar");
      const name = el("span", "bar__name");
      name.append(el("span", "bar__label"), el("span", "small-mark"));
      const track = el("span", "bar__track");
      track.append(el("span", "bar__fill"));
      item.append(el("span", "rank"), name, track, el("span", "bar__value"));
      return item;
    });
    rows.forEach((row, index) => {
      const item = list.children[index];
      item.classList.toggle("is-top", row.rank <= 3 && Number(row.value) > 0);
      item.classList.toggle("is-small", Boolean(row.small));
      item.dataset.small = row.small ? "true" : "false";
      setText(item.querySelector(".rank"), String(row.rank));
      setText(item.querySelector(".bar__label"), row.name);
      item.querySelector(".small-mark").hidden = !row.small;
      const share = highest > 0 ? (Number(row.value) || 0) / highest : 0;
      item.querySelector(".bar__fill").style.width = `${(share * 100).toFixed(2)}%`;
      setText(item.querySelector(".bar__value"), row.display);
    });
    list.dataset.total = String(total ?? rows.length);
    field("bars-empty").hidden = rows.length > 0;
  }

  function renderToday(today) {
    setText(field("today-points"), numberFormat.format(today.points || 0));
    setText(field("today-active"), numberFormat.format(today.active_members || 0));
    setText(
      field("today-members"),
      fill(strings.membersOf, { members: numberFormat.format(today.members || 0) }),
    );
    setText(field("today-participation"), percent(today.participation));
    field("today-meter").style.width = percent(Math.min(1, today.participation || 0));
  }

  function renderPeople(rows) {
    const list = field("people");
    syncChildren(list, rows.length, () => {
      const item = el("li", "person");
      item.append(
        el("span", "rank"),
        el("span", "person__name"),
        el("span", "person__org"),
        el("span", "person__points"),
      );
      return item;
    });
    rows.forEach((row, index) => {
      const item = list.children[index];
      item.classList.toggle("is-top", row.rank <= 3);
      setText(item.querySelector(".rank"), String(row.rank));
      setText(item.querySelector(".person__name"), row.name);
      setText(item.querySelector(".person__org"), row.organization);
      setText(
        item.querySelector(".person__points"),
        fill(strings.points, { points: numberFormat.format(row.points) }),
      );
    });
    field("people-empty").hidden = rows.length > 0;
  }

  /* Keep `count` children in `list`, reusing the ones there so updates do not jump. */
  function syncChildren(list, count, make) {
    while (list.children.length > count) list.lastElementChild.remove();
    while (list.children.length < count) list.append(make());
  }

  /* Size a column to its widest cell (up to `share` of the list), the same for every row. */
  function sizeColumn(list, selector, property, share) {
    const cells = Array.from(list.querySelectorAll(selector));
    if (!cells.length) return;
    const widest = Math.max(...cells.map(contentWidth));
    const limit = list.clientWidth * share;
    list.style.setProperty(property, `${Math.ceil(Math.min(widest + 2, limit))}px`);
  }

  /* The width a cell's content wants, even while it is cut short with an ellipsis. */
  function contentWidth(cell) {
    if (!cell.children.length) return cell.scrollWidth;
    const gap = parseFloat(getComputedStyle(cell).columnGap) || 0;
    const parts = Array.from(cell.children).filter((child) => !child.hidden);
    const widths = parts.map((child) => {
      const style = getComputedStyle(child);
      const margins = parseFloat(style.marginLeft) + parseFloat(style.marginRight);
      return Math.max(child.scrollWidth, child.getBoundingClientRect().width) + margins;
    });
    return widths.reduce((sum, width) => sum + width, 0) + gap * Math.max(0, parts.length - 1);
  }

  /* Make a name smaller step by step until it takes at most `lines` lines, never below
   * `smallest` of its CSS size; past that it wraps onto more lines (it is never cut off).
   * A name a little too long for one line is first tried up to `oneLine` smaller. */
  function fitText(element, { lines, smallest, oneLine = 1 }) {
    if (!element) return;
    element.style.fontSize = "";
    const style = getComputedStyle(element);
    const largest = parseFloat(style.fontSize);
    const lineRatio = parseFloat(style.lineHeight) / largest || 1.2;
    const lineCount = (size) =>
      Math.round(element.getBoundingClientRect().height / (size * lineRatio));
    const shrinkTo = (limit, floor) => {
      let size = largest;
      element.style.fontSize = "";
      while (lineCount(size) > limit && size > floor) {
        size = Math.max(floor, size * 0.95);
        element.style.fontSize = `${size.toFixed(1)}px`;
      }
      return lineCount(size) <= limit;
    };
    if (oneLine < 1 && shrinkTo(1, largest * oneLine)) return;
    shrinkTo(lines, largest * smallest);
  }

  /* Let a row whose wrapped name needs more than the usual row height grow to fit it. */
  function markTallRows(list) {
    for (const row of list.children) {
      row.classList.remove("is-tall");
      row.classList.toggle("is-tall", row.scrollHeight > row.clientHeight + 1);
    }
  }

  /* Show only the rows that fit their panel; say how many branches are left out. */
  function fitLists() {
    for (const name of ["bars", "people"]) {
      for (const row of field(name).children) row.hidden = false;
    }
    const barList = field("bars");
    if (!barList.closest("[hidden]")) {
      const labels = Array.from(barList.querySelectorAll(".bar__label"));
      labels.forEach((label) => {
        label.style.fontSize = "";
      });
      // In the one-column (portrait) layout the bar has its own line: no sizing needed.
      if (!portrait.matches) {
        barList.classList.add("is-measuring");
        sizeColumn(barList, ".bar__name", "--name-width", 0.45);
        sizeColumn(barList, ".bar__value", "--value-width", 0.3);
        barList.classList.remove("is-measuring");
      }
      labels.forEach((label) => fitText(label, BRANCH_NAME_FIT));
      markTallRows(barList);
    }
    const peopleList = field("people");
    if (!peopleList.closest("[hidden]")) {
      sizeColumn(peopleList, ".person__name", "--name-width", 0.4);
      markTallRows(peopleList);
    }
    for (const name of ["bars", "people"]) {
      const list = field(name);
      if (!list || list.closest("[hidden]")) continue;
      const rows = Array.from(list.children);
      const bottom = list.getBoundingClientRect().bottom + 1;
      const fits = rows.map((row) => row.getBoundingClientRect().bottom <= bottom);
      rows.forEach((row, index) => {
        row.hidden = !fits[index];
      });
    }
    const bars = Array.from(field("bars").children);
    const shown = bars.filter((row) => !row.hidden);
    const total = Number(field("bars").dataset.total) || bars.length;
    field("small-legend").hidden = !shown.some((row) => row.dataset.small === "true");
    setText(
      field("bars-count"),
      shown.length < total ? fill(strings.shownOfTotal, { shown: shown.length, total }) : "",
    );
  }

  // --- Ticker ------------------------------------------------------------------------

  function renderTicker(items, namesShown) {
    const key = JSON.stringify(items);
    if (key === state.tickerKey) return;
    state.tickerKey = key;
    field("ticker-empty").hidden = items.length > 0;
    const list = el("div", "ticker__list");
    for (const item of items) {
      const event = el("span", "event");
      const who = namesShown && item.member ? item.member : strings.someone;
      event.append(
        el("span", "event__time", item.time),
        el("span", "event__branch", item.branch),
        el("span", "event__who", who),
        el("span", "event__rule", item.rule),
        el("span", "event__points", `+${item.points}`),
      );
      list.append(event);
    }
    const track = field("ticker");
    const moving = getComputedStyle(track).animationName !== "none";
    if (moving && track.classList.contains("is-scrolling") && track.childElementCount) {
      // Swap at the end of a loop, where the track is back at its start: no jump.
      state.pendingTicker = list;
    } else {
      showTicker(list);
    }
  }

  function showTicker(list) {
    const track = field("ticker");
    state.pendingTicker = null;
    track.classList.remove("is-scrolling");
    track.replaceChildren(list);
    const room = track.parentElement.clientWidth;
    const width = list.scrollWidth;
    if (width > room && list.childElementCount) {
      const copy = list.cloneNode(true);
      copy.setAttribute("aria-hidden", "true");
      track.append(copy);
      const unit = window.innerHeight / 100;
      track.style.setProperty("--ticker-duration", `${width / (TICKER_SPEED * unit)}s`);
      track.classList.add("is-scrolling");
    }
  }

  field("ticker").addEventListener("animationiteration", () => {
    if (state.pendingTicker) showTicker(state.pendingTicker);
  });

  // --- Start -------------------------------------------------------------------------

  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (!state.data) return;
      fitText(field("organization"), TITLE_FIT);
      fitLists();
      state.tickerKey = null;
      if (state.data.panels?.activity) {
        renderTicker(state.data.activity || [], state.data.screen?.names_shown);
        if (state.pendingTicker) showTicker(state.pendingTicker);
      }
    }, 200);
  });

  tick();
  poll();
})();
