// Runs inside the sandboxed task frame. The frame has an opaque origin: it cannot read the
// portal's cookies or page, and it speaks to the portal page only through these messages.
(function () {
  "use strict";
  function submitForm() {
    var form = document.querySelector("crowd-form");
    if (form && typeof form.submit === "function") form.submit();
  }
  // crowd-form announces a valid answer; the portal page records it.
  window.addEventListener("handloop:answer", function (event) {
    parent.postMessage({ type: "handloop:answer", answer: event.detail }, "*");
  });
  // The portal page's Submit button and Ctrl+Enter ask the form to submit.
  window.addEventListener("message", function (event) {
    if (event.source !== parent || !event.data) return;
    if (event.data.type === "handloop:submit") submitForm();
  });
  // Ctrl+Enter while the focus is inside the task.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submitForm();
    }
  });
})();
