// A minimal crowd-form: collects the named native inputs, selects and text areas inside it,
// honours `required`, and hands the answer to the page as a "handloop:answer" event.
(function () {
  "use strict";
  if (customElements.get("crowd-form")) return;

  function collect(root) {
    var answer = {};
    root.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (el) {
      if (el.disabled) return;
      if (el.type === "checkbox") {
        answer[el.name] = answer[el.name] || {};
        answer[el.name][el.value || "on"] = el.checked;
      } else if (el.type === "radio") {
        if (el.checked) answer[el.name] = el.value;
      } else if (el.type !== "submit" && el.type !== "button") {
        answer[el.name] = el.value;
      }
    });
    return answer;
  }

  class CrowdForm extends HTMLElement {
    connectedCallback() {
      var self = this;
      this.addEventListener("click", function (event) {
        var button = event.target.closest("button, input[type=submit]");
        if (button && (button.type === "submit" || button.getAttribute("form-action") === "submit")) {
          event.preventDefault();
          self.submit();
        }
      });
      // Children are parsed after the element connects: look for a button once they are.
      var addButton = function () {
        if (self.querySelector("button[type=submit], input[type=submit]")) return;
        var submit = document.createElement("button");
        submit.type = "submit";
        submit.textContent = "Submit";
        self.appendChild(submit);
      };
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", addButton);
      } else {
        addButton();
      }
    }

    submit() {
      var fields = this.querySelectorAll("input, select, textarea");
      for (var i = 0; i < fields.length; i++) {
        if (!fields[i].checkValidity()) {
          fields[i].reportValidity();
          return false;
        }
      }
      var event = new CustomEvent("submit", { cancelable: true });
      if (!this.dispatchEvent(event)) return false;
      window.dispatchEvent(new CustomEvent("handloop:answer", { detail: collect(this) }));
      return true;
    }
  }

  customElements.define("crowd-form", CrowdForm);
})();
