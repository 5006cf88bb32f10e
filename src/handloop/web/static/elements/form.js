// crowd-form and how an answer is collected: every crowd element's contribution and the
// named native fields, as AWS's crowd-form submits them (the answer's shape is AWS's).
import { CrowdElement } from "./base.js";
import { el } from "./dom.js";

/* Walk a crowd-form's members: its light DOM and what scripts put inside its inner form. */
function members(form) {
  var nodes = Array.prototype.slice.call(form.querySelectorAll("*"));
  if (form.form) {
    Array.prototype.forEach.call(form.form.children, function (child) {
      if (child.tagName === "SLOT" || child.classList.contains("hl-internal")) return;
      nodes.push(child);
      nodes = nodes.concat(Array.prototype.slice.call(child.querySelectorAll("*")));
    });
  }
  var root = form.getRootNode();
  if (root instanceof ShadowRoot && root.host && typeof root.host.contribute === "function") {
    nodes.push(root.host);
    nodes = nodes.concat(Array.prototype.slice.call(root.host.querySelectorAll("*")));
  }
  return nodes;
}

function isCrowd(node) { return node instanceof CrowdElement; }

export function mergeFlag(answer, name, key, value) {
  if (!name) return;
  var slot = answer[name];
  if (!slot || typeof slot !== "object" || Array.isArray(slot)) slot = answer[name] = {};
  slot[key] = value;
}

function nativeContribution(node, answer) {
  var tag = node.tagName;
  if (tag !== "INPUT" && tag !== "SELECT" && tag !== "TEXTAREA") return;
  var name = node.getAttribute("name");
  if (!name || node.disabled) return;
  var type = (node.getAttribute("type") || "").toLowerCase();
  if (["submit", "button", "reset", "image", "file"].indexOf(type) >= 0) return;
  if (type === "checkbox" || type === "radio") {
    mergeFlag(answer, name, node.getAttribute("value") || "on", node.checked);
  } else if (tag === "SELECT" && node.multiple) {
    answer[name] = Array.prototype.filter.call(node.options, function (o) { return o.selected; })
      .map(function (o) { return o.value; });
  } else {
    answer[name] = node.value;
  }
}

export class CrowdForm extends CrowdElement {
  static get css() {
    return ":host{display:block}form{display:flex;flex-direction:column}.content{display:block}.actions{order:2;margin-top:16px;display:flex;gap:8px;align-items:center}" +
      ".actions[hidden]{display:none}.banner{border:1px solid #b3261e;background:#fdecea;color:#5f1410;border-radius:6px;padding:8px 12px;margin:12px 0}" +
      ".banner{order:-1}.banner[hidden]{display:none}.banner ul{margin:4px 0 0;padding-left:18px}.sent{color:#1d7d36;font-weight:600}";
  }
  constructor() {
    super();
    var self = this;
    this._form = el("form", { novalidate: true, part: "form" }, [el("div", { class: "content hl-internal" }, [el("slot")])]);
    this._banner = el("div", { class: "banner hl-internal", role: "alert", hidden: true });
    this._status = el("span", { class: "sent", "aria-live": "polite" });
    this._submitButton = el("button", { type: "submit", class: "primary", text: "Submit" });
    this._actions = el("div", { class: "actions hl-internal" }, [this._submitButton, this._status]);
    this._form.appendChild(this._banner);
    this._form.appendChild(this._actions);
    this._form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.submit();
    });
    this.shadowRoot.appendChild(this._form);
  }
  get form() { return this._form; }
  build() {
    var explicit = this.querySelector('crowd-button[form-action="submit"], button[type="submit"], input[type="submit"]');
    var owner = this.getRootNode().host;
    this._actions.hidden = !!explicit || !!(owner && owner._hideSubmit);
  }
  // The answer as the worker's page would record it (answerContent).
  serialize() {
    var answer = {};
    members(this).forEach(function (node) {
      if (isCrowd(node)) {
        if (node === this || node instanceof CrowdForm) return;
        node.contribute(answer);
      } else {
        nativeContribution(node, answer);
      }
    }, this);
    return answer;
  }
  validate() {
    var problems = [];
    var firstNative = null;
    members(this).forEach(function (node) {
      if (isCrowd(node)) {
        if (node instanceof CrowdForm) return;
        var message = node.disabled ? null : node.validate();
        node.showError(message);
        if (message) problems.push({ node: node, message: message });
      } else if (/^(INPUT|SELECT|TEXTAREA)$/.test(node.tagName) && node.willValidate && !node.checkValidity()) {
        if (!firstNative) firstNative = node;
        var label = node.getAttribute("name") || node.id || node.tagName.toLowerCase();
        problems.push({ node: node, message: (node.validationMessage || "This field is not valid") + " (" + label + ")" });
      }
    });
    return { problems: problems, firstNative: firstNative };
  }
  submit() {
    if (this._sending) return false;
    var result = this.validate();
    if (result.problems.length) {
      this._banner.replaceChildren(el("strong", { text: "Please fix the following before you submit:" }),
        el("ul", null, result.problems.map(function (p) { return el("li", { text: p.message }); })));
      this._banner.hidden = false;
      var first = result.problems[0].node;
      if (result.firstNative && first === result.firstNative) first.reportValidity();
      if (first.focus) first.focus();
      if (first.scrollIntoView) first.scrollIntoView({ block: "center" });
      return false;
    }
    this._banner.hidden = true;
    var proceed = this.dispatchEvent(new Event("submit", { cancelable: true }));
    if (!proceed) return false;
    var answer = this.serialize();
    this._sending = true;
    var self = this;
    this._submitButton.disabled = true;
    this._status.textContent = "Submitting…";
    setTimeout(function () { self._sending = false; self._submitButton.disabled = false; self._status.textContent = ""; }, 3000);
    window.dispatchEvent(new CustomEvent("handloop:answer", { detail: answer }));
    return true;
  }
  reset() {
    members(this).forEach(function (node) { if (isCrowd(node) && node.resetValue) node.resetValue(); });
  }
}

export function listenToPage() {
  // No form inside a task page may navigate or post anywhere.
  document.addEventListener("submit", function (event) {
    var target = event.target;
    if (target instanceof HTMLFormElement && !(target.getRootNode() instanceof ShadowRoot && target.getRootNode().host instanceof CrowdForm)) {
      event.preventDefault();
    }
  }, true);

  // The portal's Ctrl+Enter asks the page's crowd-form to submit; an element that carries its
  // own form (crowd-entity-annotation without a crowd-form) answers it instead.
  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || !event.data || event.data.type !== "handloop:submit") return;
    if (document.querySelector("crowd-form")) return;
    var form = owningForm(document.body);
    if (form) form.submit();
  });
}

// The crowd-form a control belongs to: its nearest one (across shadow roots), else the
// own form of an element that submits by itself, else the page's.
export function owningForm(node) {
  for (var cur = node; cur; ) {
    if (cur instanceof CrowdForm) return cur;
    if (cur._innerForm && !cur.closest("crowd-form")) return cur._innerForm;
    if (cur.parentElement) cur = cur.parentElement;
    else {
      var root = cur.getRootNode();
      cur = root instanceof ShadowRoot ? root.host : null;
    }
  }
  var standalone = document.querySelector("crowd-entity-annotation");
  return document.querySelector("crowd-form") || (standalone && standalone._innerForm) || null;
}
