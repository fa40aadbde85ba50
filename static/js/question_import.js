// Progress of a question import in the admin: poll the status JSON until it finishes.
(function () {
  "use strict";
  var root = document.getElementById("question-import");
  if (!root) return;
  var url = root.getAttribute("data-status-url");
  var meter = root.querySelector(".quiz-progress");
  var percent = document.getElementById("import-percent");
  var label = document.getElementById("import-status-label");

  function show(status) {
    meter.value = status.progress;
    percent.textContent = String(status.progress);
    label.textContent = status.status_label;
  }

  function finish(status) {
    if (status.status === "done") {
      // Reload once so the server renders the full summary (counts, categories).
      if (document.getElementById("import-done").hidden) window.location.reload();
      return;
    }
    var list = document.getElementById("import-failed-problems");
    list.textContent = "";
    status.problems.forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      list.appendChild(item);
    });
    document.getElementById("import-failed").hidden = false;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (status) {
        show(status);
        if (status.finished) finish(status);
        else window.setTimeout(poll, 1000);
      })
      .catch(function () {
        // Keep the last known state and try again a little later.
        window.setTimeout(poll, 3000);
      });
  }

  if (root.querySelector("#import-done").hidden && root.querySelector("#import-failed").hidden) {
    poll();
  }
})();
