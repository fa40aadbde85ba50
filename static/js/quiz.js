/* Quiz pages: autosave of an attempt, the server's countdown, and answer checks.
 *
 * Every answer is saved on its own with a per-question sequence number that only grows,
 * so a slow save that arrives late can never overwrite a newer one (the server refuses
 * it as stale). A check (确认答案) waits for the question's saves already sent, drops the
 * one still waiting and carries the answer with the next number, so it never races them.
 * The countdown starts from the seconds the server computed; when it runs
 * out the page submits, and the server would submit on its own within a minute anyway.
 * Nothing here knows a correct answer: feedback comes from the server after a check.
 */
(function () {
  "use strict";

  var messagesEl = document.querySelector("[data-messages]");
  var text = messagesEl ? messagesEl.dataset : {};
  var csrf = (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value;

  function responseOf(fieldset) {
    var type = fieldset.dataset.type;
    if (type === "single" || type === "multiple") {
      var ids = Array.prototype.map.call(
        fieldset.querySelectorAll("input:checked"),
        function (input) { return parseInt(input.value, 10); }
      );
      return ids.length ? { choices: ids } : null;
    }
    if (type === "true_false") {
      var picked = fieldset.querySelector("input:checked");
      return picked ? { value: picked.value === "true" } : null;
    }
    if (type === "fill_blank") {
      var blanks = Array.prototype.map.call(
        fieldset.querySelectorAll("[data-blank]"),
        function (input) { return input.value; }
      );
      return blanks.some(function (value) { return value.trim() !== ""; }) ? { blanks: blanks } : null;
    }
    if (type === "short_answer") {
      var area = fieldset.querySelector("textarea");
      return area && area.value.trim() !== "" ? { text: area.value } : null;
    }
    return null;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      // A save sent as the page is left (reload, another app) still reaches the server.
      keepalive: true,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        data.status = response.status;
        return data;
      });
    });
  }

  // A verdict asked for sooner than the question takes to read is refused as too soon,
  // with the seconds left (docs/integrity.md); the page waits them out and asks again, so
  // a member is never refused for answering quickly.
  function paced(send, waiting, tries) {
    tries = tries || 0;
    return send().then(function (data) {
      if (data.code !== "too_soon" || !(data.retry_after > 0) || data.retry_after > 60 || tries >= 20) {
        return data;
      }
      if (waiting) { waiting(); }
      return new Promise(function (resolve) {
        window.setTimeout(resolve, data.retry_after * 1000 + 50);
      }).then(function () { return paced(send, waiting, tries + 1); });
    });
  }

  function renderFeedback(box, feedback) {
    box.textContent = "";
    var verdict = document.createElement("div");
    verdict.className = "quiz-verdict quiz-verdict--" + feedback.state;
    var state = document.createElement("p");
    state.className = "quiz-verdict__state";
    state.textContent = feedback.state_label || (feedback.correct ? text.correct : text.wrong);
    verdict.appendChild(state);
    [[text.answer, feedback.correct_answer], [text.explanation, feedback.explanation]].forEach(
      function (pair) {
        if (!pair[1]) { return; }
        // The translation carries the label's punctuation ("Correct answer: {value}",
        // "正确答案：{value}"): the part before {value} is the label.
        var parts = (pair[0] || "{value}").split("{value}");
        var line = document.createElement("p");
        var label = document.createElement("strong");
        label.textContent = parts[0];
        line.appendChild(label);
        line.appendChild(document.createTextNode(pair[1] + (parts[1] || "")));
        verdict.appendChild(line);
      }
    );
    box.appendChild(verdict);
  }

  function markOptions(fieldset, rightIds, rightValue) {
    fieldset.querySelectorAll(".quiz-option input").forEach(function (input) {
      var right = fieldset.dataset.type === "true_false"
        ? String(rightValue) === input.value
        : rightIds.indexOf(parseInt(input.value, 10)) !== -1;
      if (right) {
        input.closest(".quiz-option").classList.add("is-right");
      }
    });
  }

  /* --- An attempt -------------------------------------------------------------------- */
  var form = document.querySelector("[data-quiz-attempt]");
  var configEl = document.getElementById("quiz-config");
  if (form && configEl) {
    var config = JSON.parse(configEl.textContent);
    var stateEl = document.querySelector("[data-save-state]");
    var pending = {};
    var timers = {};
    var submitting = false;

    var setState = function (message, failed) {
      if (!stateEl) { return; }
      stateEl.textContent = message || "";
      stateEl.classList.toggle("is-failed", Boolean(failed));
    };

    var countAnswered = function () {
      var counter = document.querySelector("[data-answered]");
      if (!counter) { return; }
      var count = 0;
      form.querySelectorAll("fieldset[data-position]").forEach(function (fieldset) {
        if (responseOf(fieldset)) { count += 1; }
      });
      counter.textContent = String(count);
    };

    var submitNow = function () {
      if (submitting) { return; }
      submitting = true;
      HTMLFormElement.prototype.submit.call(form);
    };

    var inFlight = [];
    var inFlightOf = {};
    var track = function (position, request) {
      inFlight.push(request);
      inFlightOf[position] = (inFlightOf[position] || []).concat([request]);
      request.then(function () {
        inFlight = inFlight.filter(function (other) { return other !== request; });
        inFlightOf[position] = inFlightOf[position].filter(function (other) { return other !== request; });
      });
      return request;
    };
    var nextSeq = function (fieldset) {
      var seq = parseInt(fieldset.dataset.seq, 10) + 1;
      fieldset.dataset.seq = String(seq);
      return seq;
    };
    var save = function (fieldset, attempt) {
      var position = parseInt(fieldset.dataset.position, 10);
      if (fieldset.dataset.checking) {
        // Being confirmed: the check carries this answer and a higher number itself.
        delete pending[position];
        return Promise.resolve(null);
      }
      var seq = nextSeq(fieldset);
      var tries = attempt || 1;
      pending[position] = true;
      setState(text.saving);
      var retry = function () {
        setState(text.failed, true);
        if (tries < 5) {
          timers[position] = window.setTimeout(function () { save(fieldset, tries + 1); }, 3000);
        }
      };
      var request = post(config.save, { position: position, seq: seq, response: responseOf(fieldset) })
        .then(function (data) {
          if (data.ok && data.stale) {
            // Another phone (or a save sent as the page was left) stored a newer number:
            // send what this page shows again, after it — unless the question has been
            // confirmed meanwhile, which stored its answer for good.
            fieldset.dataset.seq = String(Math.max(data.seq, parseInt(fieldset.dataset.seq, 10)));
            delete pending[position];
            return data.checked ? null : save(fieldset, tries);
          }
          if (data.ok) {
            delete pending[position];
            if (!Object.keys(pending).length && !Object.keys(scheduled).length) {
              setState(text.saved);
            }
            return null;
          }
          if (data.code === "time_up" || data.code === "submitted") {
            setState(text.timeUp);
            window.location.href = config.result;
            return null;
          }
          delete pending[position];
          if (data.code === "locked") {
            setState("");  // confirmed meanwhile: the check stored this answer
            return null;
          }
          if (data.status >= 500 || !data.code) {
            retry();  // a server error, or not our JSON (a proxy page, a login page)
            return null;
          }
          setState(data.message || text.failed, true);
          return null;
        })
        .catch(function () {
          delete pending[position];
          retry();
        });
      return track(position, request);
    };

    var scheduled = {};
    // Send at once the saves still waiting for their pause.
    var sendScheduled = function () {
      Object.keys(scheduled).forEach(function (position) {
        window.clearTimeout(timers[position]);
        var fieldset = scheduled[position];
        delete scheduled[position];
        save(fieldset);
      });
    };
    // Before submitting: send what still waits and wait for every save, so the answer
    // typed last is stored before the attempt is scored.
    var saveEverything = function () {
      sendScheduled();
      return Promise.all(inFlight.map(function (request) {
        return request.catch(function () { return null; });
      }));
    };

    var scheduleSave = function (fieldset, delay) {
      var position = fieldset.dataset.position;
      window.clearTimeout(timers[position]);
      scheduled[position] = fieldset;
      setState(text.saving);
      timers[position] = window.setTimeout(function () {
        delete scheduled[position];
        save(fieldset);
      }, delay);
      countAnswered();
    };

    // Leaving the page (reload, another app, locking the phone) saves what is still
    // waiting for its pause (the requests are keepalive), so no typed answer is lost.
    window.addEventListener("pagehide", sendScheduled);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { sendScheduled(); }
    });

    // Every answer is saved as it is chosen or typed (a save reveals nothing), so one
    // chosen but not yet confirmed still counts at submit; a challenge is answered only
    // through its checks, in order.
    var autosaved = function (fieldset) {
      return fieldset && !config.challenge;
    };
    form.addEventListener("change", function (event) {
      var fieldset = event.target.closest("fieldset[data-position]");
      if (autosaved(fieldset)) { scheduleSave(fieldset, 150); } else { countAnswered(); }
    });
    form.addEventListener("input", function (event) {
      var fieldset = event.target.closest("fieldset[data-position]");
      if (autosaved(fieldset) && event.target.matches("textarea, [data-blank]")) {
        scheduleSave(fieldset, 800);
      }
    });

    // A check grades the answer it carries, exactly what the page shows. It is never
    // raced by this page's saves of the same question: the save still waiting for its
    // pause is dropped (the check carries that answer), the saves already sent are
    // waited for, and the check carries the next sequence number, so a save that still
    // arrived after it would be stale. The question is frozen on screen meanwhile.
    var lastCheck = Promise.resolve(null);
    var check = function (fieldset, button) {
      var position = parseInt(fieldset.dataset.position, 10);
      var response = responseOf(fieldset);
      if (!response) { setState(text.choose, true); return null; }
      fieldset.dataset.checking = "1";
      window.clearTimeout(timers[position]);
      delete scheduled[position];
      delete pending[position];
      button.disabled = true;
      fieldset.disabled = true;
      var earlier = (inFlightOf[position] || []).map(function (request) {
        return request.catch(function () { return null; });
      });
      // Checks go one after another: each question is read from the previous verdict on,
      // so a burst of confirmations is answered in turn, each after its reading time.
      earlier.push(lastCheck);
      var request = Promise.all(earlier).then(function () {
        return paced(function () {
          return post(config.check, { position: position, seq: nextSeq(fieldset), response: response });
        }, function () { setState(text.waiting); });
      });
      track(position, request.catch(function () { return null; }));
      lastCheck = request.catch(function () { return null; });
      return request;
    };
    // The check was not taken: the question can be changed and confirmed again, and
    // after a failure that was not a refusal its answer is saved as any other.
    var reopen = function (fieldset, button, resave) {
      delete fieldset.dataset.checking;
      fieldset.disabled = false;
      button.disabled = false;
      if (resave && autosaved(fieldset)) { scheduleSave(fieldset, 150); }
    };

    form.addEventListener("click", function (event) {
      var button = event.target.closest("[data-check]");
      if (!button) { return; }
      var fieldset = button.closest("fieldset[data-position]");
      var sent = check(fieldset, button);
      if (!sent) { return; }
      sent
        .then(function (data) {
          if (!data.ok) {
            reopen(fieldset, button, data.status >= 500 || !data.code);
            setState(data.message || text.failed, true);
            if (data.code === "time_up" || data.code === "submitted") { window.location.href = config.result; }
            return;
          }
          setState("");
          button.parentNode.removeChild(button);
          renderFeedback(fieldset.querySelector("[data-feedback]"), data.feedback);
          markOptions(fieldset, data.feedback.correct_option_ids || [], data.feedback.correct_value);
          fieldset.classList.add("is-checked");
          var next = form.querySelector("[data-next]");
          if (data.finished && next) {
            var link = document.createElement("a");
            link.className = "button button--large button--block";
            link.href = config.result;
            link.textContent = text.finished;
            next.replaceChildren(link);
            next.hidden = false;
          } else if (data.finished) {
            window.location.href = config.result;
          } else if (next) {
            next.hidden = false;
          }
        })
        .catch(function () { reopen(fieldset, button, true); setState(text.failed, true); });
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (submitting) { return; }
      if (!window.confirm(text.confirm)) { return; }
      setState(text.saving);
      saveEverything().then(submitNow, submitNow);
    });

    if (typeof config.secondsLeft === "number") {
      var clock = document.querySelector("[data-clock]");
      var deadline = Date.now() + config.secondsLeft * 1000;
      var tick = function () {
        var left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
        var minutes = Math.floor(left / 60);
        var seconds = left % 60;
        clock.textContent = (minutes < 10 ? "0" : "") + minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
        clock.parentNode.classList.toggle("is-urgent", left <= 60);
        if (left === 0) {
          setState(text.timeUp);
          submitNow();  // the deadline has passed: the server takes no more saves
          return;
        }
        window.setTimeout(tick, 500);
      };
      tick();
    }
  }

  /* --- Practice and the wrong-answer book -------------------------------------------- */
  var practice = document.querySelector("[data-practice]");
  if (practice) {
    practice.addEventListener("click", function (event) {
      var button = event.target.closest("[data-check]");
      if (!button) { return; }
      var fieldset = practice.querySelector("fieldset");
      var response = responseOf(fieldset);
      var box = fieldset.querySelector("[data-feedback]");
      if (!response) { box.textContent = text.choose; return; }
      button.disabled = true;
      paced(function () {
        return post(practice.dataset.checkUrl, {
          question: parseInt(practice.dataset.question, 10),
          served: practice.dataset.served,
          response: response,
        });
      }, function () { box.textContent = text.waiting; }).then(function (data) {
        if (!data.ok) { button.disabled = false; box.textContent = data.message || ""; return; }
        button.parentNode.removeChild(button);
        renderFeedback(box, {
          state: data.correct ? "correct" : "wrong",
          state_label: data.correct ? text.correct : text.wrong,
          correct_answer: data.correct_answer,
          explanation: data.explanation,
        });
        if (data.mastered) {
          var note = document.createElement("p");
          note.className = "quiz-verdict__mastered";
          note.textContent = text.mastered;
          box.appendChild(note);
        }
        markOptions(fieldset, data.correct_option_ids || [], data.correct_value);
        fieldset.disabled = true;
        practice.querySelector("[data-next]").hidden = false;
      }).catch(function () { button.disabled = false; });
    });
  }
})();
