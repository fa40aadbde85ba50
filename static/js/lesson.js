/* 智慧党建 — verified study time on a lesson page.
 *
 * Sends a heartbeat about every 30 s, only while the page is visible and the member
 * has scrolled, touched or typed in the last 90 s. The server decides what counts:
 * it credits wall-clock time between accepted heartbeats, never this script's clock.
 * Also reports when the end of the lesson has been reached and how much of a video
 * has been watched. Every [data-study-status] block (the top of the lesson and its
 * end) shows the same heartbeat answer. No library, no build step.
 */
(function () {
  "use strict";

  var config = document.getElementById("study-config");
  if (!config) return;

  var url = config.dataset.url;
  var intervalMs = (parseInt(config.dataset.interval, 10) || 30) * 1000;
  var requiredMinutes = parseInt(config.dataset.required, 10) || 0;
  var completed = config.dataset.completed === "true";
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
  var bars = document.querySelectorAll("[data-study-bar]");
  var texts = document.querySelectorAll("[data-study-text]");
  var statuses = document.querySelectorAll("[data-study-status]");
  var IDLE_MS = 90 * 1000;

  var lastInteraction = Date.now();
  var reachedEnd = false;
  var videoPercent = null;
  var timer = null;

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (match, key) {
      return key in values ? String(values[key]) : match;
    });
  }

  function active() {
    return Date.now() - lastInteraction < IDLE_MS;
  }

  function each(nodes, callback) {
    Array.prototype.forEach.call(nodes, callback);
  }

  function showText(message) {
    each(texts, function (text) {
      text.textContent = message;
    });
  }

  function render(data) {
    // Heartbeats may be answered out of order: one sent before the lesson was completed
    // must not turn "completed" back into "read to the end".
    if (completed && !data.completed) return;
    var studied = Math.floor(data.verified_seconds / 60);
    var required = Math.max(1, Math.ceil(data.required_seconds / 60));
    var remaining = Math.max(0, Math.ceil((data.required_seconds - data.verified_seconds) / 60));
    var share = data.required_seconds ? data.verified_seconds / data.required_seconds : 1;
    each(bars, function (bar) {
      bar.value = data.completed ? 100 : Math.min(100, Math.round(share * 100));
    });
    if (data.completed) {
      showText(data.completed_now ? config.dataset.textDoneNow : config.dataset.textDone);
      each(statuses, function (status) {
        status.classList.add("is-done");
      });
      completed = true;
    } else if (data.verified_seconds >= data.required_seconds && !data.reached_end) {
      showText(config.dataset.textReadEnd);
    } else {
      var values = { studied: studied, required: required, remaining: remaining };
      each(texts, function (text) {
        // The end of the lesson also says how much more time completing it takes.
        var template = text.dataset.studyText === "remaining"
          ? config.dataset.textRemaining
          : config.dataset.textProgress;
        text.textContent = format(template, values);
      });
    }
  }

  function send(visible, closing) {
    var body = JSON.stringify({
      visible: visible,
      closing: Boolean(closing),
      active: active(),
      reached_end: reachedEnd,
      video_percent: videoPercent,
    });
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: true,
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": csrf ? csrf.value : "",
      },
      body: body,
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data) render(data);
      })
      .catch(function () {
        /* Offline for a moment: the next heartbeat simply credits nothing extra. */
      });
  }

  function tick() {
    if (document.visibilityState !== "visible") return;
    if (!active() && !completed) showText(config.dataset.textPaused);
    send(true);
  }

  // Each beat 80–120 % of the interval after the last: a person's page never beats like
  // a metronome, so hours of beats at exact intervals can only be a script (the nightly
  // integrity check, docs/integrity.md). Every gap stays within what one beat credits.
  function schedule() {
    timer = window.setTimeout(function () {
      tick();
      if (timer) schedule();
    }, intervalMs * (0.8 + 0.4 * Math.random()));
  }

  function start() {
    if (timer) return;
    schedule();
  }

  function stop() {
    if (!timer) return;
    window.clearTimeout(timer);
    timer = null;
  }

  ["scroll", "touchstart", "pointerdown", "keydown", "wheel"].forEach(function (name) {
    window.addEventListener(
      name,
      function () {
        lastInteraction = Date.now();
      },
      { passive: true }
    );
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      lastInteraction = Date.now();
      send(true);
      start();
    } else {
      // Closes the run: the server credits up to now and nothing while hidden.
      send(true, true);
      stop();
    }
  });

  var end = document.querySelector("[data-lesson-end]");
  if (end && "IntersectionObserver" in window) {
    new IntersectionObserver(function (entries, observer) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) {
          reachedEnd = true;
          observer.disconnect();
          send(document.visibilityState === "visible");
        }
      });
    }).observe(end);
  }

  Array.prototype.forEach.call(document.querySelectorAll("video"), function (video) {
    video.addEventListener("timeupdate", function () {
      if (!video.duration || !isFinite(video.duration)) return;
      var watched = 0;
      for (var i = 0; i < video.played.length; i += 1) {
        watched += video.played.end(i) - video.played.start(i);
      }
      videoPercent = Math.min(100, Math.round((watched / video.duration) * 100));
      lastInteraction = Date.now();
    });
  });

  render({
    verified_seconds: parseInt(config.dataset.verified, 10) || 0,
    required_seconds: requiredMinutes * 60,
    reached_end: false,
    completed: completed,
    completed_now: false,
  });
  if (document.visibilityState === "visible") {
    send(true);
    start();
  }
})();
