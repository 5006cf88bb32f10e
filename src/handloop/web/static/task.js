// The task page: holds the session's CSRF token, the timer and the buttons; the task itself
// runs in a sandboxed frame and reaches this page only by postMessage.
(function () {
  "use strict";
  var root = document.getElementById("task");
  var frame = document.getElementById("task-frame");
  var message = document.getElementById("message");
  var timeLeft = document.getElementById("time-left");
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var taskId = root.dataset.taskId;
  var job = root.dataset.job;
  var deadline = performance.now() + Number(root.dataset.leaseMs);
  var busy = false;

  // Active time: counted only while the page is visible.
  var activeMs = 0;
  var visibleSince = document.hidden ? null : performance.now();
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      if (visibleSince !== null) activeMs += performance.now() - visibleSince;
      visibleSince = null;
    } else {
      visibleSince = performance.now();
    }
  });
  function activeSeconds() {
    var now = visibleSince === null ? 0 : performance.now() - visibleSince;
    return (activeMs + now) / 1000;
  }

  function show(text) {
    message.textContent = text;
    message.hidden = false;
  }
  function setBusy(value) {
    busy = value;
    document.querySelectorAll(".task-actions button").forEach(function (b) { b.disabled = value; });
  }

  function format(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)) + ":" + String(s).padStart(2, "0");
    return h ? h + ":" + mm : mm;
  }
  function tick() {
    var left = Math.max(0, Math.ceil((deadline - performance.now()) / 1000));
    timeLeft.textContent = format(left);
    timeLeft.parentElement.classList.toggle("low", left < 60);
    if (left === 0) {
      setBusy(true);
      show("Time is up: this task went back to the pool.");
      return;
    }
    setTimeout(tick, 500);
  }
  tick();

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      if (response.ok) return response.status === 204 ? null : response.json();
      return response.json().catch(function () { return {}; }).then(function (data) {
        var detail = typeof data.detail === "string" ? data.detail : response.statusText;
        throw new Error(detail || "The request failed.");
      });
    });
  }

  function nextTask() {
    return post("/api/jobs/" + encodeURIComponent(job) + "/claim").then(function (data) {
      if (data && data.task) location.assign("/tasks/" + encodeURIComponent(data.task.taskId));
      else location.assign("/jobs/" + encodeURIComponent(job) + "/done");
    });
  }

  function act(path, then) {
    if (busy) return;
    setBusy(true);
    post(path).then(then).catch(function (error) { setBusy(false); show(error.message); });
  }

  // The frame runs the task's content: a message from it is taken only in the one shape
  // the bridge sends, {type: "handloop:answer", answer: {...}}, and nothing else.
  function isPlainObject(value) {
    if (value === null || typeof value !== "object") return false;
    var proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
  }
  function isAnswerMessage(data) {
    return (
      isPlainObject(data) &&
      Object.keys(data).sort().join(",") === "answer,type" &&
      data.type === "handloop:answer" &&
      isPlainObject(data.answer)
    );
  }

  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow || !isAnswerMessage(event.data)) return;
    if (busy) return;
    setBusy(true);
    post("/api/tasks/" + encodeURIComponent(taskId) + "/submit", {
      answer: event.data.answer,
      timeSpentInSeconds: activeSeconds(),
    })
      .then(nextTask)
      .catch(function (error) { setBusy(false); show(error.message); });
  });

  // Keyboard first: the task's keys work from the start, without a click into the frame.
  // (Focusing the iframe element alone leaves its page without focus: the window inside
  // must be focused once it has loaded.)
  frame.addEventListener("load", function () {
    var active = document.activeElement;
    if (active === null || active === document.body || active === frame) frame.contentWindow.focus();
  });

  function askSubmit() {
    if (!busy) frame.contentWindow.postMessage({ type: "handloop:submit" }, "*");
  }
  document.getElementById("submit").addEventListener("click", askSubmit);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      askSubmit();
    }
  });
  document.getElementById("release").addEventListener("click", function () {
    act("/api/tasks/" + encodeURIComponent(taskId) + "/release", function () { location.assign("/"); });
  });
  document.getElementById("decline").addEventListener("click", function () {
    act("/api/tasks/" + encodeURIComponent(taskId) + "/decline", nextTask);
  });
})();
