// What every crowd element shares: its shadow root and look, the build once the page is
// parsed, and the page's one all-crowd-elements-ready event.
import { BASE_CSS, el, sheet } from "./dom.js";

let pending = 0;
let contentLoaded = false;
let readyFired = false;

function whenParsed(fn) {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn, { once: true });
  else fn();
}

// Module scripts run once the page is parsed, before DOMContentLoaded: a template's own
// DOMContentLoaded handler, which may start listening for all-crowd-elements-ready, runs
// before the event is sent. (A library loaded later waits for the load event instead.)
function whenContentLoaded(fn) {
  if (document.readyState === "complete") { fn(); return; }
  let done = false;
  const once = function () { if (!done) { done = true; fn(); } };
  document.addEventListener("DOMContentLoaded", once, { once: true });
  window.addEventListener("load", once, { once: true });
}

function maybeAllReady() {
  if (readyFired || pending > 0 || !contentLoaded) return;
  readyFired = true;
  setTimeout(function () {
    document.dispatchEvent(new CustomEvent("all-crowd-elements-ready", { bubbles: true }));
  }, 0);
}

// Sends all-crowd-elements-ready once the page's elements are built; called once, after
// the elements are defined.
export function announceWhenReady() {
  whenContentLoaded(function () {
    contentLoaded = true;
    setTimeout(maybeAllReady, 0);
  });
}

// A template's script runs before the library (module scripts wait for the page to be
// parsed), so it may set a property such as value, labels or categories on an element that
// is not defined yet: the plain element keeps it as its own property, which would hide the
// class's accessor. On upgrade, each such property goes through the accessor.
function adoptEarlyProperties(node) {
  Object.keys(node).forEach(function (key) {
    let found = null;
    for (let proto = Object.getPrototypeOf(node); proto && proto !== HTMLElement.prototype && !found; proto = Object.getPrototypeOf(proto)) {
      found = Object.getOwnPropertyDescriptor(proto, key) || null;
    }
    if (!found || !found.set) return;
    const value = node[key];
    delete node[key];
    node[key] = value;
  });
}

export class CrowdElement extends HTMLElement {
  constructor() {
    super();
    this._built = false;
    this.attachShadow({ mode: "open", delegatesFocus: this.constructor.delegatesFocus || false });
    this.shadowRoot.adoptedStyleSheets = [sheet(BASE_CSS), sheet(this.constructor.css || "")];
    adoptEarlyProperties(this);
  }
  connectedCallback() {
    if (this._built || this._scheduled) return;
    this._scheduled = true;
    pending++;
    var self = this;
    whenParsed(function () {
      try {
        if (!self._built) { self._built = true; self.build(); }
      } finally {
        pending--;
        maybeAllReady();
      }
    });
  }
  build() {}
  get name() { return this.getAttribute("name") || ""; }
  set name(v) { this.setAttribute("name", v); }
  get disabled() { return this.hasAttribute("disabled"); }
  set disabled(v) { this.toggleAttribute("disabled", !!v); if (this._built) this.refresh(); }
  get required() { return this.hasAttribute("required"); }
  set required(v) { this.toggleAttribute("required", !!v); }
  refresh() {}
  // Ask the element for its part of the answer; returns nothing to leave it out.
  contribute() {}
  validate() { return null; }
  showError(message) {
    var box = this.shadowRoot.querySelector(".error");
    if (box) box.textContent = message || "";
  }
  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { bubbles: true, composed: true, detail: detail }));
  }
  // Move light-DOM children with the given tags into named slots.
  slotChildren(tags) {
    Array.prototype.forEach.call(this.children, function (child) {
      var tag = child.tagName.toLowerCase();
      if (tags.indexOf(tag) >= 0 && !child.hasAttribute("slot")) child.setAttribute("slot", tag);
    });
  }
  instructionsPanel() {
    this.slotChildren(["short-instructions", "full-instructions"]);
    var side = el("div", { class: "side", part: "instructions" });
    var full = this.querySelector(":scope > full-instructions");
    var short = this.querySelector(":scope > short-instructions");
    if (short) {
      var sh = short.getAttribute("header");
      if (sh) side.appendChild(el("h3", { text: sh, style: "font-size:14px;margin:0 0 6px" }));
      side.appendChild(el("slot", { name: "short-instructions" }));
    }
    if (full) {
      var dialog = el("dialog", { "aria-label": full.getAttribute("header") || "Instructions" }, [
        el("h2", { class: "header", text: full.getAttribute("header") || "Instructions" }),
        el("slot", { name: "full-instructions" }),
        el("div", { style: "text-align:right;margin-top:12px" }, [
          el("button", { type: "button", text: "Close", onclick: function () { dialog.close(); } })])
      ]);
      side.appendChild(el("p", { class: "instructions-link" }, [el("button", {
        type: "button", class: "link", text: "View full instructions",
        onclick: function () { dialog.showModal(); }
      })]));
      side.appendChild(dialog);
    }
    return side;
  }
}
