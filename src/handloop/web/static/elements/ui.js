// Buttons and page furniture: button, icon button, fab, alert, badge, card, modal, tabs,
// toast, instructions.
import { CrowdElement } from "./base.js";
import { el } from "./dom.js";
import { owningForm } from "./form.js";

export class CrowdButton extends CrowdElement {
  static get delegatesFocus() { return true; }
  static get css() { return ":host{display:inline-block;margin:2px}button{display:inline-flex;gap:6px;align-items:center}"; }
  build() {
    var self = this;
    var variant = this.getAttribute("variant") || "normal";
    var classes = variant === "primary" ? "primary" : variant === "link" ? "link" : "";
    this._button = el("button", { type: "button", class: classes, part: "button", onclick: function (e) { self.activate(e); } }, [
      this.getAttribute("icon") ? el("span", { "aria-hidden": "true", text: iconGlyph(this.getAttribute("icon")) }) : null,
      el("slot")]);
    this.shadowRoot.appendChild(this._button);
    this.refresh();
  }
  refresh() { if (this._button) this._button.disabled = this.disabled || this.hasAttribute("loading"); }
  static get observedAttributes() { return ["disabled", "loading"]; }
  attributeChangedCallback() { this.refresh(); }
  activate() {
    if (this.disabled) return;
    var href = this.getAttribute("href");
    if (href) { window.open(href, this.getAttribute("target") || "_blank", "noopener"); return; }
    var action = this.getAttribute("form-action");
    var form = action ? owningForm(this) : null;
    if (form && action === "submit") form.submit();
    else if (form && action === "reset") form.reset();
  }
}

export function iconGlyph(name) {
  var map = { close: "×", add: "+", remove: "−", delete: "🗑", check: "✓", info: "ℹ", search: "⌕", edit: "✎",
    "arrow-back": "←", "arrow-forward": "→", help: "?", warning: "⚠", "zoom-in": "+", "zoom-out": "−", undo: "↶", redo: "↷" };
  return map[name] || "•";
}

export class CrowdIconButton extends CrowdButton {
  build() {
    var self = this;
    this._button = el("button", { type: "button", part: "button", "aria-label": this.getAttribute("aria-label") || this.getAttribute("icon") || "button",
      onclick: function (e) { self.activate(e); } }, [iconGlyph(this.getAttribute("icon"))]);
    this.shadowRoot.appendChild(this._button);
    this.refresh();
  }
}

export class CrowdFab extends CrowdButton {
  static get css() { return ":host{position:fixed;right:24px;bottom:24px;z-index:10}button{border-radius:28px;min-width:56px;min-height:56px;background:#0b5cad;color:#fff;border:none;box-shadow:0 3px 8px rgba(0,0,0,.3)}"; }
  build() {
    var self = this;
    this._button = el("button", { type: "button", part: "button", "aria-label": this.getAttribute("label") || this.getAttribute("icon") || "action",
      onclick: function (e) { self.activate(e); } }, [this.getAttribute("label") || iconGlyph(this.getAttribute("icon") || "add")]);
    this.shadowRoot.appendChild(this._button);
    this.refresh();
  }
}

export class CrowdAlert extends CrowdElement {
  static get css() {
    return ":host{display:block;margin:8px 0}.box{display:flex;gap:10px;border-radius:6px;padding:10px 12px;border:1px solid;align-items:flex-start}" +
      ".info{background:#eaf3fb;border-color:#0b5cad}.success{background:#e9f6ec;border-color:#1d7d36}.error{background:#fdecea;border-color:#b3261e;color:#5f1410}" +
      ".warning{background:#fff6e0;border-color:#b26b00}.body{flex:1}.close{border:none;background:none;padding:0 4px;font-size:18px}";
  }
  build() {
    var self = this;
    var type = this.getAttribute("type") || "info";
    var box = el("div", { class: "box " + type, role: type === "error" ? "alert" : "status" }, [
      el("div", { class: "body" }, [el("slot")]),
      this.hasAttribute("dismissible") ? el("button", { class: "close", type: "button", "aria-label": "Dismiss", text: "×",
        onclick: function () { self.hidden = true; } }) : null]);
    this.shadowRoot.appendChild(box);
  }
}

export class CrowdBadge extends CrowdElement {
  static get css() { return ":host{display:inline-block}span{display:inline-block;min-width:20px;padding:1px 7px;border-radius:10px;background:#0b5cad;color:#fff;font-size:12px;text-align:center}"; }
  build() {
    var label = this.getAttribute("label");
    this.shadowRoot.appendChild(el("span", { part: "badge" }, [label !== null ? label : iconGlyph(this.getAttribute("icon") || "info")]));
  }
}

export class CrowdCard extends CrowdElement {
  static get css() { return ":host{display:block;background:#fff;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.18);margin:8px 0;overflow:hidden}.heading{font-weight:600;font-size:16px;padding:12px 16px 0}.content{padding:12px 16px}img{max-width:100%;display:block}"; }
  build() {
    var img = this.getAttribute("image");
    var heading = this.getAttribute("heading");
    if (img) this.shadowRoot.appendChild(el("img", { src: img, alt: this.getAttribute("alt") || "" }));
    if (heading) this.shadowRoot.appendChild(el("div", { class: "heading", role: "heading", "aria-level": "2", text: heading }));
    this.shadowRoot.appendChild(el("div", { class: "content" }, [el("slot")]));
  }
}

export class CrowdModal extends CrowdElement {
  static get css() { return ":host{display:inline}"; }
  build() {
    var self = this;
    var linkText = this.getAttribute("link-text");
    this._dialog = el("dialog", { "aria-label": this.getAttribute("title") || linkText || "Dialog" }, [
      this.getAttribute("title") ? el("h2", { class: "header", text: this.getAttribute("title") }) : null,
      el("slot"),
      el("div", { style: "text-align:right;margin-top:12px" }, [el("button", { type: "button", text: "Close", onclick: function () { self.close(); } })])]);
    if (linkText) {
      var kind = this.getAttribute("link-type") === "button" ? "" : "link";
      this.shadowRoot.appendChild(el("button", { type: "button", class: kind, text: linkText, onclick: function () { self.open(); } }));
    }
    this.shadowRoot.appendChild(this._dialog);
    if (this.hasAttribute("opened")) this.open();
  }
  open() { if (this._dialog && !this._dialog.open) this._dialog.showModal(); }
  close() { if (this._dialog && this._dialog.open) this._dialog.close(); }
}

export class CrowdTabs extends CrowdElement {
  static get css() { return ":host{display:block}.strip{display:flex;gap:2px;border-bottom:1px solid #aab7b8;margin-bottom:10px}.strip button{border:none;border-radius:0;border-bottom:3px solid transparent}.strip button[aria-selected=true]{border-bottom-color:#0b5cad;font-weight:600}"; }
  build() {
    var self = this;
    var tabs = Array.prototype.filter.call(this.children, function (c) { return c.tagName === "CROWD-TAB"; });
    var strip = el("div", { class: "strip", role: "tablist" });
    tabs.forEach(function (tab, index) {
      strip.appendChild(el("button", { type: "button", role: "tab", text: tab.getAttribute("header") || "Tab " + (index + 1),
        onclick: function () { self.select(index); } }));
    });
    this._tabs = tabs;
    this._strip = strip;
    this.shadowRoot.append(strip, el("slot"));
    this.select(0);
  }
  select(index) {
    this._tabs.forEach(function (tab, i) { tab.hidden = i !== index; });
    Array.prototype.forEach.call(this._strip.children, function (b, i) { b.setAttribute("aria-selected", String(i === index)); });
  }
}

export class CrowdTab extends CrowdElement {
  static get css() { return ":host{display:block}"; }
  build() { this.setAttribute("role", "tabpanel"); this.shadowRoot.appendChild(el("slot")); }
}

export class CrowdToast extends CrowdElement {
  static get css() { return ":host{position:fixed;left:50%;bottom:24px;transform:translateX(-50%);z-index:20}div{background:#232f3e;color:#fff;padding:10px 16px;border-radius:6px}div[hidden]{display:none}"; }
  build() {
    this._box = el("div", { role: "status", hidden: true }, [this.getAttribute("text") || "", el("slot")]);
    this.shadowRoot.appendChild(this._box);
    if (this.hasAttribute("opened")) this.show();
  }
  show() {
    var self = this;
    if (!this._box) return;
    this._box.hidden = false;
    var duration = Number(this.getAttribute("duration") || 3000);
    clearTimeout(this._timer);
    if (duration > 0) this._timer = setTimeout(function () { self.hide(); }, duration);
  }
  hide() { if (this._box) this._box.hidden = true; }
  open() { this.show(); }
  close() { this.hide(); }
}

export class CrowdInstructions extends CrowdElement {
  static get css() { return ":host{display:block}.examples{display:flex;gap:12px;flex-wrap:wrap}.pos,.neg{flex:1 1 200px;border-left:4px solid;padding-left:8px}.pos{border-color:#1d7d36}.neg{border-color:#b3261e}h3{font-size:14px;margin:12px 0 4px}"; }
  build() {
    this.slotChildren(["short-summary", "detailed-instructions", "positive-example", "negative-example"]);
    var dialog = el("dialog", { "aria-label": "Instructions" }, [
      el("h2", { class: "header", text: "Instructions" }),
      el("slot", { name: "short-summary" }),
      el("slot", { name: "detailed-instructions" }),
      el("div", { class: "examples" }, [
        el("div", { class: "pos" }, [el("h3", { text: "Good examples" }), el("slot", { name: "positive-example" })]),
        el("div", { class: "neg" }, [el("h3", { text: "Bad examples" }), el("slot", { name: "negative-example" })])]),
      el("div", { style: "text-align:right;margin-top:12px" }, [el("button", { type: "button", text: "Close", onclick: function () { dialog.close(); } })])]);
    var kind = this.getAttribute("link-type") === "button" ? "" : "link";
    this.shadowRoot.append(el("button", { type: "button", class: kind, text: this.getAttribute("link-text") || "View instructions",
      onclick: function () { dialog.showModal(); } }), dialog);
    this._dialog = dialog;
  }
  open() { if (this._dialog) this._dialog.showModal(); }
  close() { if (this._dialog) this._dialog.close(); }
}
