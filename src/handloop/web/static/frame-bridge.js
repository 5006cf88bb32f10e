// Runs inside the sandboxed task frame. The frame has an opaque origin: it cannot read the
// portal's cookies or page, and it speaks to the portal page only through these messages.
(function () {
  "use strict";
  function submitForm() {
    var form = document.querySelector("crowd-form");
    if (form && typeof form.submit === "function") form.submit();
  }
  function isPlainObject(value) {
    if (value === null || typeof value !== "object") return false;
    var proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
  }
  // crowd-form announces a valid answer (an object of fields); the portal page records it.
  window.addEventListener("handloop:answer", function (event) {
    if (!isPlainObject(event.detail)) return;
    parent.postMessage({ type: "handloop:answer", answer: event.detail }, "*");
  });
  // The portal page's Submit button and Ctrl+Enter ask the form to submit; that message
  // is {type: "handloop:submit"} and nothing else.
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.source !== parent || !isPlainObject(data)) return;
    if (Object.keys(data).join(",") === "type" && data.type === "handloop:submit") submitForm();
  });
  // Ctrl+Enter while the focus is inside the task.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submitForm();
    }
  });
})();
