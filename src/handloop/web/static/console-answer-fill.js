// In the console's read-only view of a task: fill the task's form with one answer (from
// the JSON beside this script) once the elements are ready, then make every field
// read-only. Best effort: fields are found by name, as crowd-form's answer names them.
(function () {
  "use strict";
  var holder = document.getElementById("hl-console-answer");
  if (!holder) {
    return;
  }
  var answer;
  try {
    answer = JSON.parse(holder.textContent);
  } catch {
    return;
  }

  function fields(name) {
    return Array.prototype.slice.call(document.querySelectorAll("[name]")).filter(function (el) {
      return el.getAttribute("name") === name;
    });
  }

  function setField(el, value) {
    var tag = el.tagName.toLowerCase();
    if (el.type === "checkbox" || el.type === "radio" || tag === "crowd-checkbox" || tag === "crowd-radio-button") {
      var on = value === true || (value && typeof value === "object" && value.on === true);
      if (typeof value === "string") {
        on = el.value === value;
      }
      el.checked = Boolean(on);
      return;
    }
    if ("value" in el) {
      try {
        el.value = typeof value === "object" ? JSON.stringify(value) : String(value);
      } catch {
        // an element that refuses this value keeps its own
      }
    }
  }

  function fill() {
    if (answer && typeof answer === "object" && !Array.isArray(answer)) {
      Object.keys(answer).forEach(function (name) {
        var value = answer[name];
        var found = fields(name);
        if (!found.length && value && typeof value === "object" && !Array.isArray(value)) {
          // crowd-radio-group and crowd-checkbox groups: {name: {label: {on: true}}}
          Object.keys(value).forEach(function (inner) {
            fields(inner).forEach(function (el) { setField(el, value[inner]); });
          });
        }
        found.forEach(function (el) { setField(el, value); });
      });
    }
    Array.prototype.forEach.call(document.querySelectorAll("[name], input, textarea, select, button, crowd-button"), function (el) {
      el.setAttribute("disabled", "");
    });
    document.documentElement.setAttribute("data-console-readonly", "");
    document.addEventListener("submit", function (event) { event.preventDefault(); }, true);
  }

  if (window.__ready === true) {
    fill();
  } else {
    document.addEventListener("all-crowd-elements-ready", fill);
    setTimeout(fill, 1500);
  }
})();
