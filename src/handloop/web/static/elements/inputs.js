// Fields a worker fills: input, text area, checkbox, toggle button, radio group, slider.
import { CrowdElement } from "./base.js";
import { el, isTrue } from "./dom.js";
import { mergeFlag } from "./form.js";
import { iconGlyph } from "./ui.js";

export class CrowdInput extends CrowdElement {
  static get delegatesFocus() { return true; }
  static get css() { return ":host{display:block;margin:6px 0}label{display:block;font-weight:600;margin-bottom:4px}input,textarea{font:inherit;width:100%;padding:6px 8px;border:1px solid #879596;border-radius:4px}input[aria-invalid=true],textarea[aria-invalid=true]{border-color:#b3261e}.counter{font-size:12px;color:#545b64;text-align:right}"; }
  static get observedAttributes() { return ["disabled", "value", "label", "placeholder"]; }
  control() {
    var type = this.getAttribute("type") || "text";
    return el("input", { type: type === "password" ? "password" : type, id: "control", part: "input" });
  }
  build() {
    var self = this;
    var id = "control";
    var labelText = this.getAttribute("label");
    this._control = this.control();
    this._control.id = id;
    var placeholder = this.getAttribute("placeholder");
    if (placeholder) this._control.placeholder = placeholder;
    var max = this.getAttribute("max-length") || this.getAttribute("maxlength");
    if (max) this._control.maxLength = Number(max);
    if (!labelText) this._control.setAttribute("aria-label", placeholder || this.name || "text");
    if (this.hasAttribute("auto-focus") || this.hasAttribute("autofocus")) this._control.autofocus = true;
    ["min", "max", "step"].forEach(function (a) { if (self.hasAttribute(a)) self._control.setAttribute(a, self.getAttribute(a)); });
    if (this._pendingValue !== undefined) this._control.value = this._pendingValue;
    else if (this.hasAttribute("value")) this._control.value = this.getAttribute("value");
    else if (this.initialText) this._control.value = this.initialText();
    var pattern = this.getAttribute("allowed-pattern");
    this._control.addEventListener("input", function (e) {
      if (pattern && self._control.value) {
        var re = new RegExp(pattern);
        var filtered = Array.prototype.filter.call(self._control.value, function (ch) { return re.test(ch); }).join("");
        if (filtered !== self._control.value) self._control.value = filtered;
      }
      self.showError("");
      self.updateCounter();
      self._control.removeAttribute("aria-invalid");
      self.dispatchEvent(new Event("input", { bubbles: true }));
      e.stopPropagation();
    });
    this._control.addEventListener("change", function () { self.emit("change", { value: self.value }); });
    this._counter = el("div", { class: "counter", "aria-live": "polite" });
    this.shadowRoot.append(
      labelText ? el("label", { for: id, text: labelText }) : "",
      this._control,
      this.hasAttribute("char-counter") ? this._counter : "",
      el("div", { class: "error", role: "alert" }));
    this.refresh();
    this.updateCounter();
  }
  updateCounter() {
    if (!this._counter || !this._control) return;
    var max = this.getAttribute("max-length") || this.getAttribute("maxlength");
    this._counter.textContent = this._control.value.length + (max ? " / " + max : "");
  }
  attributeChangedCallback(name, old, value) {
    if (!this._control) return;
    if (name === "value" && value !== null && old !== value) this._control.value = value;
    else this.refresh();
  }
  refresh() { if (this._control) this._control.disabled = this.disabled; }
  get value() { return this._control ? this._control.value : (this._pendingValue !== undefined ? this._pendingValue : this.getAttribute("value") || ""); }
  set value(v) {
    v = v === null || v === undefined ? "" : String(v);
    if (this._control) { this._control.value = v; this.updateCounter(); }
    else this._pendingValue = v;
  }
  validate() {
    var v = this.value;
    if (this.required && !v.trim()) return (this.getAttribute("error-message") || "This field is required") + this.where();
    if (v && this._control && !this._control.checkValidity()) return (this.getAttribute("error-message") || this._control.validationMessage) + this.where();
    return null;
  }
  where() {
    var label = this.getAttribute("label") || this.getAttribute("placeholder") || this.name;
    return label ? " (" + label + ")" : "";
  }
  showError(message) {
    super.showError(message);
    if (this._control) this._control.setAttribute("aria-invalid", message ? "true" : "false");
  }
  contribute(answer) { if (this.name && this.value !== "") answer[this.name] = this.value; }
  resetValue() { this.value = this.getAttribute("value") || ""; }
  focus() { if (this._control) this._control.focus(); else super.focus(); }
}

export class CrowdTextArea extends CrowdInput {
  control() {
    var rows = Number(this.getAttribute("rows") || 3);
    var area = el("textarea", { rows: rows, part: "textarea" });
    var maxRows = Number(this.getAttribute("max-rows") || 0);
    area.addEventListener("input", function () {
      var lines = area.value.split("\n").length;
      area.rows = Math.max(rows, maxRows ? Math.min(lines, maxRows) : lines);
    });
    return area;
  }
  initialText() { return ""; }
}

class CrowdToggleLike extends CrowdElement {
  static get delegatesFocus() { return true; }
  static get observedAttributes() { return ["checked", "disabled"]; }
  get checked() { return this._checked === undefined ? this.hasAttribute("checked") : this._checked; }
  set checked(v) { this._checked = !!v; this.refresh(); }
  get value() { return this.getAttribute("value") || "on"; }
  set value(v) { this.setAttribute("value", v); }
  attributeChangedCallback(name) { if (name === "checked") this._checked = this.hasAttribute("checked"); this.refresh(); }
  toggle() {
    if (this.disabled) return;
    this.setChecked(!this.checked);
  }
  setChecked(v) {
    this.checked = v;
    this.showError("");
    this.emit("change", { checked: this.checked });
  }
  validate() { return this.required && !this.checked ? "This must be checked" + (this.textContent.trim() ? " (" + this.textContent.trim() + ")" : "") : null; }
  contribute(answer) { mergeFlag(answer, this.name, this.value, this.checked); }
  resetValue() { this.checked = this.hasAttribute("checked"); }
}

export class CrowdCheckbox extends CrowdToggleLike {
  static get css() { return ":host{display:block;margin:4px 0}label{display:inline-flex;align-items:center;gap:8px;cursor:pointer}input{width:16px;height:16px;margin:0}"; }
  build() {
    var self = this;
    this._box = el("input", { type: "checkbox", id: "box", part: "checkbox", onchange: function () { self.setChecked(self._box.checked); } });
    if (!this.textContent.trim()) this._box.setAttribute("aria-label", this.getAttribute("label") || this.value || this.name);
    this.shadowRoot.append(el("label", { for: "box" }, [this._box, el("slot"), this.getAttribute("label") || ""]), el("div", { class: "error", role: "alert" }));
    this.refresh();
  }
  refresh() { if (this._box) { this._box.checked = this.checked; this._box.disabled = this.disabled; } }
}

export class CrowdToggleButton extends CrowdToggleLike {
  static get css() { return ":host{display:inline-block;margin:2px}button[aria-pressed=true]{background:#0b5cad;color:#fff;border-color:#0b5cad}"; }
  build() {
    var self = this;
    this._button = el("button", { type: "button", part: "button", "aria-label": this.getAttribute("aria-label") || this.getAttribute("icon") || this.value,
      onclick: function () { self.toggle(); } }, [this.getAttribute("icon") ? iconGlyph(this.getAttribute("icon")) : "", el("slot")]);
    this.shadowRoot.append(this._button, el("div", { class: "error", role: "alert" }));
    this.refresh();
  }
  refresh() { if (this._button) { this._button.setAttribute("aria-pressed", String(this.checked)); this._button.disabled = this.disabled; } }
}

export class CrowdRadioButton extends CrowdToggleLike {
  static get css() { return ":host{display:block;margin:4px 0}label{display:inline-flex;align-items:center;gap:8px;cursor:pointer}input{width:16px;height:16px;margin:0}"; }
  build() {
    var self = this;
    this._radio = el("input", { type: "radio", id: "radio", part: "radio", onchange: function () { if (self._radio.checked) self.select(); } });
    this._radio.addEventListener("keydown", function (e) { self.arrow(e); });
    this.shadowRoot.append(el("label", { for: "radio" }, [this._radio, el("slot")]));
    this.refresh();
  }
  group() { return this.closest("crowd-radio-group"); }
  siblings() {
    var g = this.group();
    if (g) return Array.prototype.slice.call(g.querySelectorAll("crowd-radio-button"));
    var name = this.name;
    return Array.prototype.slice.call(document.querySelectorAll("crowd-radio-button")).filter(function (b) { return b.name === name; });
  }
  select() {
    var self = this;
    this.siblings().forEach(function (b) { if (b !== self && b.checked) { b.checked = false; } });
    this.setChecked(true);
    var g = this.group();
    if (g) g.showError("");
  }
  arrow(e) {
    var list = this.siblings();
    var i = list.indexOf(this);
    var next = e.key === "ArrowDown" || e.key === "ArrowRight" ? list[i + 1] : e.key === "ArrowUp" || e.key === "ArrowLeft" ? list[i - 1] : null;
    if (next) { e.preventDefault(); next.select(); next.focus(); }
  }
  toggle() { this.select(); }
  validate() { return null; }
  refresh() { if (this._radio) { this._radio.checked = this.checked; this._radio.disabled = this.disabled; this._radio.tabIndex = this.checked || !this.siblings().some(function (b) { return b.checked; }) ? 0 : -1; } }
  focus() { if (this._radio) this._radio.focus(); }
}

export class CrowdRadioGroup extends CrowdElement {
  static get css() { return ":host{display:block;margin:6px 0}"; }
  build() {
    this.setAttribute("role", "radiogroup");
    this.shadowRoot.append(el("slot"), el("div", { class: "error", role: "alert" }));
  }
  get value() {
    var on = this.querySelector("crowd-radio-button[checked]") || Array.prototype.find.call(this.querySelectorAll("crowd-radio-button"), function (b) { return b.checked; });
    return on ? on.value : null;
  }
  validate() {
    if (!this.required) return null;
    var any = Array.prototype.some.call(this.querySelectorAll("crowd-radio-button"), function (b) { return b.checked; });
    return any ? null : "Choose one of the options";
  }
}

export class CrowdSlider extends CrowdElement {
  static get delegatesFocus() { return true; }
  static get css() { return ":host{display:block;margin:8px 0}.row{display:flex;align-items:center;gap:10px}input[type=range]{flex:1}output{min-width:3ch;font-weight:600;text-align:right}.labels{position:relative;height:18px;font-size:12px;color:#545b64;margin:0 calc(3ch + 10px) 0 0}.labels span{position:absolute;transform:translateX(-50%);white-space:nowrap}input[type=number]{width:6em}"; }
  build() {
    var self = this;
    var min = Number(this.getAttribute("min") || 0), max = Number(this.getAttribute("max") || 100);
    var step = this.getAttribute("step") || "1";
    this._range = el("input", { type: "range", min: min, max: max, step: step, part: "slider", "aria-label": this.getAttribute("label") || this.name || "slider" });
    var initial = this._pendingValue !== undefined ? this._pendingValue : this.hasAttribute("value") ? Number(this.getAttribute("value")) : min;
    this._range.value = String(initial);
    this._out = el("output", { text: this._range.value });
    this._range.addEventListener("input", function () { self._out.textContent = self._range.value; if (self._num) self._num.value = self._range.value; self._touched = true; self.showError(""); });
    this._range.addEventListener("change", function () { self.emit("change", { value: self.value }); });
    var row = el("div", { class: "row" }, [this._range, this.isPinned() ? this._out : null]);
    if (isTrue(this, "editable")) {
      this._num = el("input", { type: "number", min: min, max: max, step: step, value: this._range.value, "aria-label": "value" });
      this._num.addEventListener("change", function () { self.value = self._num.value; self._touched = true; });
      row.appendChild(this._num);
    }
    var labels = el("div", { class: "labels", "aria-hidden": "true" });
    Array.prototype.forEach.call(this.querySelectorAll("crowd-slider-label"), function (lab) {
      var pos = Number(lab.getAttribute("position") || lab.getAttribute("value") || 0);
      var pct = max > min ? (100 * (pos - min)) / (max - min) : 0;
      labels.appendChild(el("span", { style: "left:" + pct + "%", text: lab.getAttribute("label") || lab.textContent.trim() }));
    });
    this.shadowRoot.append(this.getAttribute("label") ? el("div", { style: "font-weight:600", text: this.getAttribute("label") }) : "", row,
      labels.childNodes.length ? labels : "", el("div", { class: "error", role: "alert" }));
    this.refresh();
  }
  isPinned() { return this.hasAttribute("pin") ? isTrue(this, "pin") : true; }
  refresh() { if (this._range) this._range.disabled = this.disabled; }
  get value() { return this._range ? Number(this._range.value) : (this._pendingValue !== undefined ? this._pendingValue : Number(this.getAttribute("value") || this.getAttribute("min") || 0)); }
  set value(v) {
    this._touched = true;
    if (this._range) { this._range.value = String(v); this._out.textContent = this._range.value; if (this._num) this._num.value = this._range.value; }
    else this._pendingValue = Number(v);
  }
  validate() { return this.required && !this._touched ? "Move the slider to choose a value" + (this.name ? " (" + this.name + ")" : "") : null; }
  contribute(answer) { if (this.name) answer[this.name] = this.value; }
}

export class CrowdSliderLabel extends HTMLElement {
  connectedCallback() { this.hidden = true; }
}
