/* handloop's crowd HTML elements: web components with the tags, attributes and answer
   shapes of Amazon SageMaker Ground Truth / Augmented AI worker templates.
   No build step, no network, no storage. Serves both crowd-html-elements.js and -v2.js. */
(function () {
  "use strict";
  if (window.customElements.get("crowd-form")) return;

  /* ---------- lenient attribute values (JSON or JavaScript literals) ---------- */

  function parseLiteral(text) {
    var i = 0;
    var s = String(text);
    function ws() {
      while (i < s.length) {
        if (/\s/.test(s[i])) i++;
        else if (s.startsWith("//", i)) { while (i < s.length && s[i] !== "\n") i++; }
        else if (s.startsWith("/*", i)) { var e = s.indexOf("*/", i + 2); i = e < 0 ? s.length : e + 2; }
        else break;
      }
    }
    function fail() { throw new SyntaxError("not a literal at " + i); }
    function str() {
      var q = s[i++], out = "";
      while (i < s.length && s[i] !== q) {
        if (s[i] === "\\") {
          var c = s[i + 1];
          var map = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", v: "\v", "0": "\0" };
          if (c === "u") { out += String.fromCharCode(parseInt(s.substr(i + 2, 4), 16)); i += 6; }
          else if (c === "x") { out += String.fromCharCode(parseInt(s.substr(i + 2, 2), 16)); i += 4; }
          else if (c === "\n") { i += 2; }
          else { out += map[c] !== undefined ? map[c] : c; i += 2; }
        } else out += s[i++];
      }
      if (s[i] !== q) fail();
      i++;
      return out;
    }
    function ident() {
      var m = /^[A-Za-z_$][\w$-]*/.exec(s.slice(i));
      if (!m) fail();
      i += m[0].length;
      return m[0];
    }
    function value() {
      ws();
      var c = s[i];
      if (c === "[") {
        i++;
        var arr = [];
        for (;;) {
          ws();
          if (s[i] === "]") { i++; return arr; }
          if (s[i] === ",") { i++; continue; }
          arr.push(value());
          ws();
          if (s[i] === ",") i++;
          else if (s[i] !== "]") fail();
        }
      }
      if (c === "{") {
        i++;
        var obj = {};
        for (;;) {
          ws();
          if (s[i] === "}") { i++; return obj; }
          if (s[i] === ",") { i++; continue; }
          var key = s[i] === '"' || s[i] === "'" ? str() : /[\d.-]/.test(s[i]) ? String(number()) : ident();
          ws();
          if (s[i] !== ":") fail();
          i++;
          obj[key] = value();
          ws();
          if (s[i] === ",") i++;
          else if (s[i] !== "}") fail();
        }
      }
      if (c === '"' || c === "'" || c === "`") return str();
      if (/[\d.+-]/.test(c)) return number();
      var word = ident();
      if (word === "true") return true;
      if (word === "false") return false;
      if (word === "null" || word === "undefined") return null;
      fail();
    }
    function number() {
      var m = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(s.slice(i));
      if (!m) fail();
      i += m[0].length;
      return Number(m[0]);
    }
    var result = value();
    ws();
    if (i < s.length) fail();
    return result;
  }

  function lenient(text, fallback) {
    if (text === null || text === undefined) return fallback;
    var t = String(text).trim();
    if (!t) return fallback;
    try { return JSON.parse(t); } catch { /* try a JavaScript literal */ }
    try { return parseLiteral(t); } catch { /* plain text */ }
    return t;
  }

  function asList(value) {
    if (Array.isArray(value)) return value;
    if (value === null || value === undefined || value === "") return [];
    if (typeof value === "string") return value.split(",").map(function (x) { return x.trim(); }).filter(Boolean);
    return [value];
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "text") node.textContent = v;
        else if (k === "class") node.className = v;
        else if (k.slice(0, 2) === "on" && typeof v === "function") node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? "" : v);
      });
    }
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function isTrue(node, name) {
    if (!node.hasAttribute(name)) return false;
    var v = node.getAttribute(name).trim().toLowerCase();
    return v !== "false" && v !== "0";
  }

  var PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777",
    "#65a30d", "#ea580c", "#4f46e5", "#0d9488", "#b91c1c", "#7c3aed", "#ca8a04", "#0369a1"];
  function colorFor(index) { return PALETTE[index % PALETTE.length]; }

  /* ---------- shared look ---------- */

  var BASE_CSS = [
    ":host{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#16191f;font-size:14px;box-sizing:border-box}",
    ":host([hidden]){display:none!important}",
    "*,*::before,*::after{box-sizing:inherit}",
    "button,.btn{font:inherit;border:1px solid #545b64;background:#fff;color:#16191f;border-radius:4px;padding:6px 14px;cursor:pointer;line-height:1.3}",
    "button:hover,.btn:hover{background:#f2f3f3}",
    "button:focus-visible,input:focus-visible,textarea:focus-visible,select:focus-visible,[tabindex]:focus-visible{outline:2px solid #0073bb;outline-offset:2px}",
    "button.primary{background:#0b5cad;border-color:#0b5cad;color:#fff;font-weight:600}",
    "button.primary:hover{background:#094a8c}",
    "button.link{border:none;background:none;color:#0b5cad;text-decoration:underline;padding:2px}",
    "button[disabled]{opacity:.55;cursor:not-allowed}",
    "h2.header{font-size:16px;margin:0 0 12px;font-weight:600}",
    ".error{color:#b3261e;font-size:13px;margin-top:4px}",
    ".error:empty{display:none}",
    ".layout{display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap}",
    ".side{flex:0 0 220px;max-width:260px;border-right:1px solid #e1e4e8;padding-right:12px;font-size:13px}",
    ".side:empty{display:none}",
    ".main{flex:1 1 420px;min-width:0}",
    ".panel{flex:0 0 220px}",
    ".choice{display:flex;align-items:center;gap:8px;width:100%;text-align:left;margin:0 0 6px;border-color:#aab7b8}",
    ".choice[aria-pressed=true],.choice[aria-checked=true]{background:#e8f1fb;border-color:#0b5cad;box-shadow:inset 3px 0 0 #0b5cad}",
    ".key{display:inline-block;min-width:18px;padding:0 4px;border:1px solid #aab7b8;border-radius:3px;font-size:11px;text-align:center;color:#545b64}",
    "dialog{border:none;border-radius:8px;padding:20px;max-width:min(760px,92vw);box-shadow:0 8px 32px rgba(0,0,0,.3)}",
    "dialog::backdrop{background:rgba(0,0,0,.4)}",
    ".instructions-link{margin:4px 0 8px}"
  ].join("\n");

  var sheets = {};
  function sheet(css) {
    if (!sheets[css]) {
      var s = new CSSStyleSheet();
      s.replaceSync(css);
      sheets[css] = s;
    }
    return sheets[css];
  }

  /* ---------- document readiness and all-crowd-elements-ready ---------- */

  var pending = 0;
  var readyFired = false;
  function whenParsed(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn, { once: true });
    else fn();
  }
  function maybeAllReady() {
    if (readyFired || pending > 0 || document.readyState === "loading") return;
    readyFired = true;
    setTimeout(function () {
      document.dispatchEvent(new CustomEvent("all-crowd-elements-ready", { bubbles: true }));
    }, 0);
  }
  whenParsed(function () { setTimeout(maybeAllReady, 0); });

  /* ---------- base element ---------- */

  class CrowdElement extends HTMLElement {
    constructor() {
      super();
      this._built = false;
      this.attachShadow({ mode: "open", delegatesFocus: this.constructor.delegatesFocus || false });
      this.shadowRoot.adoptedStyleSheets = [sheet(BASE_CSS), sheet(this.constructor.css || "")];
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

  function mergeFlag(answer, name, key, value) {
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

  /* ---------- crowd-form ---------- */

  class CrowdForm extends CrowdElement {
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

  // The crowd-form a control belongs to: its nearest one (across shadow roots), else the
  // own form of an element that submits by itself, else the page's.
  function owningForm(node) {
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

  /* ---------- buttons and UI elements ---------- */

  class CrowdButton extends CrowdElement {
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

  function iconGlyph(name) {
    var map = { close: "×", add: "+", remove: "−", delete: "🗑", check: "✓", info: "ℹ", search: "⌕", edit: "✎",
      "arrow-back": "←", "arrow-forward": "→", help: "?", warning: "⚠", "zoom-in": "+", "zoom-out": "−", undo: "↶", redo: "↷" };
    return map[name] || "•";
  }

  class CrowdIconButton extends CrowdButton {
    build() {
      var self = this;
      this._button = el("button", { type: "button", part: "button", "aria-label": this.getAttribute("aria-label") || this.getAttribute("icon") || "button",
        onclick: function (e) { self.activate(e); } }, [iconGlyph(this.getAttribute("icon"))]);
      this.shadowRoot.appendChild(this._button);
      this.refresh();
    }
  }

  class CrowdFab extends CrowdButton {
    static get css() { return ":host{position:fixed;right:24px;bottom:24px;z-index:10}button{border-radius:28px;min-width:56px;min-height:56px;background:#0b5cad;color:#fff;border:none;box-shadow:0 3px 8px rgba(0,0,0,.3)}"; }
    build() {
      var self = this;
      this._button = el("button", { type: "button", part: "button", "aria-label": this.getAttribute("label") || this.getAttribute("icon") || "action",
        onclick: function (e) { self.activate(e); } }, [this.getAttribute("label") || iconGlyph(this.getAttribute("icon") || "add")]);
      this.shadowRoot.appendChild(this._button);
      this.refresh();
    }
  }

  class CrowdAlert extends CrowdElement {
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

  class CrowdBadge extends CrowdElement {
    static get css() { return ":host{display:inline-block}span{display:inline-block;min-width:20px;padding:1px 7px;border-radius:10px;background:#0b5cad;color:#fff;font-size:12px;text-align:center}"; }
    build() {
      var label = this.getAttribute("label");
      this.shadowRoot.appendChild(el("span", { part: "badge" }, [label !== null ? label : iconGlyph(this.getAttribute("icon") || "info")]));
    }
  }

  class CrowdCard extends CrowdElement {
    static get css() { return ":host{display:block;background:#fff;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.18);margin:8px 0;overflow:hidden}.heading{font-weight:600;font-size:16px;padding:12px 16px 0}.content{padding:12px 16px}img{max-width:100%;display:block}"; }
    build() {
      var img = this.getAttribute("image");
      var heading = this.getAttribute("heading");
      if (img) this.shadowRoot.appendChild(el("img", { src: img, alt: this.getAttribute("alt") || "" }));
      if (heading) this.shadowRoot.appendChild(el("div", { class: "heading", role: "heading", "aria-level": "2", text: heading }));
      this.shadowRoot.appendChild(el("div", { class: "content" }, [el("slot")]));
    }
  }

  class CrowdModal extends CrowdElement {
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

  class CrowdTabs extends CrowdElement {
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

  class CrowdTab extends CrowdElement {
    static get css() { return ":host{display:block}"; }
    build() { this.setAttribute("role", "tabpanel"); this.shadowRoot.appendChild(el("slot")); }
  }

  class CrowdToast extends CrowdElement {
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

  class CrowdInstructions extends CrowdElement {
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

  /* ---------- input elements ---------- */

  class CrowdInput extends CrowdElement {
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

  class CrowdTextArea extends CrowdInput {
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

  class CrowdCheckbox extends CrowdToggleLike {
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

  class CrowdToggleButton extends CrowdToggleLike {
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

  class CrowdRadioButton extends CrowdToggleLike {
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

  class CrowdRadioGroup extends CrowdElement {
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

  class CrowdSlider extends CrowdElement {
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

  class CrowdSliderLabel extends HTMLElement {
    connectedCallback() { this.hidden = true; }
  }

  /* ---------- classifiers ---------- */

  function categoryText(c) {
    if (c && typeof c === "object") return String(c.text !== undefined ? c.text : c.label !== undefined ? c.label : c.name !== undefined ? c.name : JSON.stringify(c));
    return String(c);
  }

  class ClassifierBase extends CrowdElement {
    static get css() {
      return ":host{display:block;outline:none}.annotation-area{display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap}" +
        ".target{flex:1 1 380px;min-width:0;overflow:auto}.target img{max-width:100%}.category-picker-wrapper{flex:0 0 240px}" +
        ".category-picker-wrapper h3{font-size:13px;margin:0 0 8px;color:#545b64;text-transform:uppercase;letter-spacing:.04em}";
    }
    get multi() { return false; }
    build() {
      var self = this;
      this.tabIndex = this.tabIndex < 0 ? 0 : this.tabIndex;
      if (!this._categories) this._categories = asList(lenient(this.getAttribute("categories"), []));
      this.slotChildren(["classification-target"]);
      this._picker = el("div", { class: "category-picker", role: this.multi ? "group" : "radiogroup", "aria-label": this.getAttribute("header") || "Categories" });
      var wrapper = el("div", { class: "category-picker-wrapper" }, [el("h3", { text: this.multi ? "Choose all that apply" : "Choose one" }), this._picker,
        el("div", { class: "error", role: "alert" })]);
      var target = el("div", { class: "target", part: "target" }, [this.targetContent()]);
      this.shadowRoot.append(
        this.getAttribute("header") ? el("h2", { class: "header", text: this.getAttribute("header") }) : "",
        el("div", { class: "layout" }, [this.instructionsPanel(), el("div", { class: "main annotation-area" }, [target, wrapper])]));
      this.addEventListener("keydown", function (e) { self.hotkey(e); });
      this.renderChoices();
    }
    targetContent() { return el("slot", { name: "classification-target" }); }
    choices() {
      var list = this._categories.map(categoryText);
      var ex = this.exclusion();
      if (ex !== null) list = list.concat([ex]);
      return list;
    }
    exclusion() { return null; }
    get categories() { return this._categories ? this._categories.slice() : asList(lenient(this.getAttribute("categories"), [])); }
    set categories(v) {
      this._categories = asList(typeof v === "string" ? lenient(v, []) : v);
      this._selected = [];
      if (this._built) this.renderChoices();
    }
    renderChoices() {
      var self = this;
      this._selected = (this._selected || []).filter(function (s) { return self.choices().indexOf(s) >= 0; });
      this._picker.replaceChildren();
      this.choices().forEach(function (text, index) {
        var button = el("button", { type: "button", class: "choice", role: self.multi ? "checkbox" : "radio", part: "choice",
          onclick: function () { self.choose(text); } }, [index < 9 ? el("span", { class: "key", "aria-hidden": "true", text: String(index + 1) }) : "", text]);
        self._picker.appendChild(button);
      });
      this.refresh();
    }
    refresh() {
      var self = this;
      if (!this._picker) return;
      Array.prototype.forEach.call(this._picker.children, function (b, i) {
        b.setAttribute("aria-checked", String(self._selected.indexOf(self.choices()[i]) >= 0));
        b.disabled = self.disabled;
      });
    }
    choose(text) {
      if (this.disabled) return;
      var ex = this.exclusion();
      if (!this.multi) this._selected = [text];
      else if (this._selected.indexOf(text) >= 0) this._selected = this._selected.filter(function (s) { return s !== text; });
      else if (text === ex) this._selected = [text];
      else this._selected = this._selected.filter(function (s) { return s !== ex; }).concat([text]);
      this.refresh();
      this.showError("");
      this.emit("change", { value: this.value });
    }
    hotkey(e) {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      var path = e.composedPath();
      if (path[0] && /^(INPUT|TEXTAREA|SELECT)$/.test(path[0].tagName)) return;
      var n = Number(e.key);
      if (n >= 1 && n <= 9 && this.choices()[n - 1] !== undefined) { e.preventDefault(); this.choose(this.choices()[n - 1]); }
    }
    get value() { return this.multi ? (this._selected || []).slice() : (this._selected && this._selected[0]) || null; }
    set value(v) { this._selected = v === null || v === undefined ? [] : Array.isArray(v) ? v.slice() : [String(v)]; this.refresh(); }
    validate() {
      return this._selected && this._selected.length ? null : (this.multi ? "Choose at least one category" : "Choose a category") + (this.getAttribute("header") ? " (" + this.getAttribute("header") + ")" : "");
    }
    contribute(answer) {
      if (!this.name) return;
      answer[this.name] = this.multi ? { labels: this._selected.slice() } : { label: this._selected[0] };
    }
  }

  class CrowdClassifier extends ClassifierBase {}

  class CrowdClassifierMultiSelect extends ClassifierBase {
    get multi() { return true; }
    exclusion() {
      var ex = lenient(this.getAttribute("exclusion-category"), null);
      return ex === null ? null : categoryText(ex);
    }
  }

  class CrowdImageClassifier extends ClassifierBase {
    targetContent() {
      var img = el("img", { src: this.getAttribute("src") || "", alt: this.getAttribute("header") || "Image to classify", part: "image" });
      img.style.maxHeight = "70vh";
      return img;
    }
    get src() { return this.getAttribute("src"); }
    set src(v) { this.setAttribute("src", v); var img = this.shadowRoot.querySelector(".target img"); if (img) img.src = v; }
  }

  class CrowdImageClassifierMultiSelect extends CrowdImageClassifier {
    get multi() { return true; }
    exclusion() { return CrowdClassifierMultiSelect.prototype.exclusion.call(this); }
  }

  // A2I built-in task type: Amazon Rekognition DetectModerationLabels review.
  class CrowdRekognitionDetectModerationLabels extends CrowdImageClassifierMultiSelect {
    build() {
      var raw = asList(lenient(this.getAttribute("categories"), []));
      this._labels = raw.map(function (c) { return typeof c === "object" && c ? c : { name: String(c) }; });
      this._categories = this._labels.map(function (c) { return c.name; });
      super.build();
    }
    exclusion() { return "None of the above"; }
    contribute(answer) {
      var labels = this._labels || [];
      var chosen = this._selected.filter(function (s) { return s !== "None of the above"; });
      answer[this.name || "AWS/Rekognition/DetectModerationLabels/Image/V3"] = {
        moderationLabels: chosen.map(function (name) {
          var found = labels.find(function (l) { return l.name === name; }) || {};
          return { name: name, parentName: found.parentName || "" };
        })
      };
    }
  }

  /* ---------- text annotation ---------- */

  function labelPanel(self, labels, title) {
    var panel = el("div", { class: "panel label-panel" }, [el("h3", { text: title || "Labels", style: "font-size:13px;margin:0 0 8px;color:#545b64;text-transform:uppercase" })]);
    var list = el("div", { role: "radiogroup", "aria-label": "Labels" });
    labels.forEach(function (label, index) {
      list.appendChild(el("button", { type: "button", class: "choice", role: "radio", "data-index": index,
        onclick: function () { self.pickLabel(index); } }, [
        el("span", { style: "width:12px;height:12px;border-radius:2px;display:inline-block;background:" + colorFor(index) }),
        index < 9 ? el("span", { class: "key", "aria-hidden": "true", text: String(index + 1) }) : "",
        label.display]));
    });
    panel.appendChild(list);
    self._labelList = list;
    return panel;
  }

  function markLabel(self) {
    if (!self._labelList) return;
    Array.prototype.forEach.call(self._labelList.children, function (b, i) { b.setAttribute("aria-checked", String(i === self._labelIndex)); });
  }

  class CrowdEntityAnnotation extends CrowdElement {
    static get css() {
      return ":host{display:block;outline:none}.text{white-space:pre-wrap;line-height:2.1;font-size:15px;border:1px solid #e1e4e8;border-radius:6px;padding:12px;user-select:text}" +
        "mark{background:var(--c);background:color-mix(in srgb,var(--c) 22%,white);border-bottom:2px solid var(--c);border-radius:2px;padding:1px 0;color:inherit;cursor:pointer}" +
        "mark::after{content:attr(data-short);font-size:10px;font-weight:700;color:var(--c);margin-left:2px;vertical-align:super}" +
        "mark[aria-selected=true]{outline:2px solid #16191f}.entities{margin-top:12px;font-size:13px}.entities li{margin:2px 0}.inner{margin-top:12px}";
    }
    get _hideSubmit() { return !!this.closest("crowd-form"); }
    build() {
      var self = this;
      this.tabIndex = this.tabIndex < 0 ? 0 : this.tabIndex;
      this._labels = asList(lenient(this.getAttribute("labels"), [])).map(function (l) {
        if (typeof l !== "object" || !l) return { label: String(l), display: String(l), short: String(l).slice(0, 3) };
        var label = String(l.label);
        return { label: label, display: l.fullDisplayName || l.longDisplayName || l.label, short: l.shortDisplayName || label.slice(0, 3) };
      });
      this._text = this.getAttribute("text") || "";
      this._entities = [];
      var initial = lenient(this.getAttribute("initial-value"), null);
      if (initial && Array.isArray(initial.entities || initial)) this._entities = (initial.entities || initial).slice();
      this._labelIndex = 0;
      this._undo = [];
      this._textBox = el("div", { class: "text", part: "text", tabindex: "0", "aria-label": "Text to annotate; select words, then pick or press a label number" });
      this._textBox.addEventListener("mouseup", function () { self.applySelection(); });
      this._list = el("ul", { class: "entities", "aria-label": "Entities" });
      var inner = document.createElement("crowd-form");
      inner.className = "inner";
      this._innerForm = inner;
      this.shadowRoot.append(
        this.getAttribute("header") ? el("h2", { class: "header", text: this.getAttribute("header") }) : "",
        el("div", { class: "layout" }, [this.instructionsPanel(),
          el("div", { class: "main" }, [this._textBox, this._list, el("div", { class: "error", role: "alert" }), el("slot")]),
          labelPanel(this, this._labels)]),
        inner);
      this.addEventListener("keydown", function (e) { self.keys(e); });
      markLabel(this);
      this.draw();
    }
    pickLabel(index) {
      this._labelIndex = index;
      markLabel(this);
      this.applySelection();
    }
    keys(e) {
      var path = e.composedPath();
      if (path[0] && /^(INPUT|TEXTAREA|SELECT)$/.test(path[0].tagName)) return;
      var n = Number(e.key);
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") { e.preventDefault(); this.undo(); return; }
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (n >= 1 && n <= 9 && this._labels[n - 1]) { e.preventDefault(); this.pickLabel(n - 1); }
      else if (e.key === "Enter" && path[0] === this._textBox) { e.preventDefault(); this.applySelection(); }
      else if ((e.key === "ArrowRight" || e.key === "ArrowLeft") && path[0] === this._textBox) { e.preventDefault(); this.moveWord(e.key === "ArrowRight" ? 1 : -1, e.shiftKey); }
      else if ((e.key === "Delete" || e.key === "Backspace") && this._selectedEntity !== undefined) { e.preventDefault(); this.remove(this._selectedEntity); }
    }
    // Keyboard selection by whole words: arrows move, Shift+arrows extend, Enter labels.
    moveWord(step, extend) {
      var spans = [], re = /\S+/g, m;
      while ((m = re.exec(this._text))) spans.push([m.index, m.index + m[0].length]);
      if (!spans.length) return;
      var k = this._kbd || { anchor: -1, focus: -1 };
      var focus = Math.max(0, Math.min(spans.length - 1, k.focus + step));
      this._kbd = { anchor: extend && k.anchor >= 0 ? k.anchor : focus, focus: focus };
      var a = Math.min(this._kbd.anchor, focus), b = Math.max(this._kbd.anchor, focus);
      this.selectOffsets(spans[a][0], spans[b][1]);
    }
    selectOffsets(start, end) {
      var walker = document.createTreeWalker(this._textBox, NodeFilter.SHOW_TEXT), node, pos = 0, range = document.createRange();
      var startSet = false;
      while ((node = walker.nextNode())) {
        var len = node.data.length;
        if (!startSet && start <= pos + len) { range.setStart(node, start - pos); startSet = true; }
        if (startSet && end <= pos + len) { range.setEnd(node, end - pos); break; }
        pos += len;
      }
      var sel = this.shadowRoot.getSelection ? this.shadowRoot.getSelection() : document.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
    }
    offsetOf(node, offset) {
      var walker = document.createTreeWalker(this._textBox, NodeFilter.SHOW_TEXT);
      var total = 0, cur;
      if (node.nodeType !== Node.TEXT_NODE) {
        var child = node.childNodes[offset];
        if (!child) return node === this._textBox ? this._text.length : null;
        var first = document.createTreeWalker(child, NodeFilter.SHOW_TEXT).nextNode();
        if (!first) return null;
        node = first;
        offset = 0;
      }
      while ((cur = walker.nextNode())) {
        if (cur === node) return total + offset;
        total += cur.data.length;
      }
      return null;
    }
    currentRange() {
      var sel = this.shadowRoot.getSelection ? this.shadowRoot.getSelection() : document.getSelection();
      if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
      return sel.getRangeAt(0);
    }
    applySelection(range) {
      range = range || this.currentRange();
      if (!range || this.disabled || !this._labels.length) return;
      var start = this.offsetOf(range.startContainer, range.startOffset);
      var end = this.offsetOf(range.endContainer, range.endOffset);
      if (start === null || end === null) return;
      if (start > end) { var t = start; start = end; end = t; }
      while (start < end && /\s/.test(this._text[start])) start++;
      while (end > start && /\s/.test(this._text[end - 1])) end--;
      if (end <= start) return;
      this.addEntity(this._labels[this._labelIndex].label, start, end);
      if (this._kbd) this._kbd.anchor = this._kbd.focus;
      var sel = this.shadowRoot.getSelection ? this.shadowRoot.getSelection() : document.getSelection();
      if (sel) sel.removeAllRanges();
    }
    addEntity(label, start, end) {
      var clash = this._entities.filter(function (x) { return x.startOffset < end && start < x.endOffset; });
      var same = clash.length === 1 && clash[0].startOffset === start && clash[0].endOffset === end;
      if (clash.length && !same) { this.showError("Entities cannot overlap."); return; }
      this._undo.push(this._entities.slice());
      if (same) this._entities = this._entities.filter(function (x) { return x !== clash[0]; });
      this._entities.push({ label: label, startOffset: start, endOffset: end });
      this._entities.sort(function (a, b) { return a.startOffset - b.startOffset; });
      this.showError("");
      this.draw();
      this.emit("change", { entities: this.value.entities });
    }
    remove(index) {
      this._undo.push(this._entities.slice());
      this._entities.splice(index, 1);
      this._selectedEntity = undefined;
      this.draw();
    }
    undo() { if (this._undo.length) { this._entities = this._undo.pop(); this._selectedEntity = undefined; this.draw(); } }
    draw() {
      var self = this;
      var box = this._textBox, text = this._text, pos = 0;
      box.replaceChildren();
      this._entities.forEach(function (entity, index) {
        if (entity.startOffset > pos) box.appendChild(document.createTextNode(text.slice(pos, entity.startOffset)));
        var li = self._labels.findIndex(function (l) { return l.label === entity.label; });
        var mark = el("mark", { "data-short": li >= 0 ? self._labels[li].short : entity.label, style: "--c:" + colorFor(Math.max(li, 0)),
          "aria-selected": String(self._selectedEntity === index), title: li >= 0 ? self._labels[li].display : entity.label,
          onclick: function () { self._selectedEntity = index; self.draw(); } }, [text.slice(entity.startOffset, entity.endOffset)]);
        box.appendChild(mark);
        pos = entity.endOffset;
      });
      if (pos < text.length) box.appendChild(document.createTextNode(text.slice(pos)));
      this._list.replaceChildren();
      this._entities.forEach(function (entity, index) {
        self._list.appendChild(el("li", null, [entity.label + ": “" + text.slice(entity.startOffset, entity.endOffset) + "” ",
          el("button", { type: "button", class: "link", "aria-label": "Remove " + entity.label + " " + text.slice(entity.startOffset, entity.endOffset), text: "remove",
            onclick: function () { self.remove(index); } })]));
      });
    }
    get value() { return { entities: (this._entities || []).map(function (x) { return { label: x.label, startOffset: x.startOffset, endOffset: x.endOffset }; }) }; }
    get labels() { return (this._labels || []).map(function (l) { return l.label; }); }
    contribute(answer) { answer[this.name || "crowd-entity-annotation"] = this.value; }
  }

  class CrowdTextRanking extends CrowdElement {
    static get css() {
      return ":host{display:block}.prompt{background:#f2f3f3;border-radius:6px;padding:10px 12px;white-space:pre-wrap;margin-bottom:12px}" +
        "table{border-collapse:collapse;width:100%}th,td{border:1px solid #d5dbdb;padding:8px;vertical-align:top;text-align:left}td.resp{white-space:pre-wrap}select{font:inherit;padding:4px}";
    }
    build() {
      var self = this;
      this._responses = asList(lenient(this.getAttribute("responses"), [])).map(function (r) { return typeof r === "object" && r ? (r.text || r.response || JSON.stringify(r)) : String(r); });
      this._dims = asList(lenient(this.getAttribute("ordinal-ranking-dimensions"), [{ name: "Rank", allowTie: false }])).map(function (d) {
        return typeof d === "object" && d ? { name: String(d.name), allowTie: !!d.allowTie } : { name: String(d), allowTie: false };
      });
      this._selects = {};
      var n = this._responses.length;
      var head = el("tr", null, [el("th", { text: "Response" })].concat(this._dims.map(function (d) { return el("th", { text: d.name + (d.allowTie ? " (ties allowed)" : "") }); })));
      var rows = this._responses.map(function (text, i) {
        return el("tr", null, [el("td", { class: "resp" }, [el("strong", { text: "Response " + (i + 1) + ": " }), text])].concat(self._dims.map(function (d) {
          var select = el("select", { "aria-label": d.name + " rank of response " + (i + 1), onchange: function () { self.showError(""); } },
            [el("option", { value: "", text: "—" })].concat(Array.from({ length: n }, function (_, k) { return el("option", { value: String(k + 1), text: String(k + 1) }); })));
          (self._selects[d.name] = self._selects[d.name] || [])[i] = select;
          return el("td", null, [select]);
        })));
      });
      this.slotChildren(["short-instructions", "full-instructions"]);
      this.shadowRoot.append(el("div", { class: "layout" }, [this.instructionsPanel(), el("div", { class: "main" }, [
        el("div", { class: "prompt", part: "prompt" }, [el("strong", { text: "Prompt: " }), this.getAttribute("text") || ""]),
        el("table", null, [el("thead", null, [head]), el("tbody", null, rows)]),
        el("p", { style: "font-size:12px;color:#545b64", text: "1 is the best rank." }),
        el("div", { class: "error", role: "alert" })])]));
    }
    get value() {
      var self = this;
      return { ranking: (this._dims || []).map(function (d) {
        return { dimension: d.name, ranks: self._selects[d.name].map(function (s) { return s.value ? Number(s.value) : null; }) };
      }) };
    }
    validate() {
      var problems = [];
      this.value.ranking.forEach(function (r, i) {
        if (r.ranks.some(function (x) { return x === null; })) problems.push("Rank every response for " + r.dimension);
        else if (!this._dims[i].allowTie && new Set(r.ranks).size !== r.ranks.length) problems.push(r.dimension + " does not allow ties");
      }, this);
      return problems.length ? problems.join("; ") : null;
    }
    contribute(answer) { if (this.name) answer[this.name] = this.value; }
  }

  function wordCount(text) { return String(text || "").trim().split(/\s+/).filter(Boolean).length; }

  class CrowdQuestionAnswerGeneration extends CrowdElement {
    static get css() {
      return ":host{display:block}.passage{white-space:pre-wrap;line-height:1.7;border:1px solid #e1e4e8;border-radius:6px;padding:10px 12px;margin-bottom:12px}" +
        ".pair{border:1px solid #d5dbdb;border-radius:6px;padding:10px;margin:8px 0}.pair[aria-current=true]{border-color:#0b5cad;box-shadow:inset 3px 0 0 #0b5cad}" +
        "label{display:block;font-weight:600;margin:6px 0 2px}input,textarea,select{font:inherit;width:100%;padding:5px 7px;border:1px solid #879596;border-radius:4px}.refs{font-size:12px;color:#545b64}";
    }
    build() {
      var self = this;
      this._text = this.getAttribute("text") || "";
      this._tags = asList(lenient(this.getAttribute("question-tags"), []));
      this._pairs = [];
      this._current = 0;
      this._passage = el("div", { class: "passage", part: "passage", tabindex: "0", "aria-label": "Text passage; select text to add it as a reference of the current pair" }, [this._text]);
      this._passage.addEventListener("mouseup", function () { self.addReference(); });
      this._list = el("div");
      this.slotChildren(["short-instructions", "full-instructions"]);
      this.shadowRoot.append(el("div", { class: "layout" }, [this.instructionsPanel(), el("div", { class: "main" }, [
        this._passage, this._list,
        el("button", { type: "button", text: "Add question", onclick: function () { self.addPair(); } }),
        el("div", { class: "error", role: "alert" })])]));
      var min = Number(this.getAttribute("min-questions") || 1);
      for (var i = 0; i < Math.max(1, min); i++) this.addPair();
    }
    addPair() {
      var max = Number(this.getAttribute("max-questions") || 0);
      if (max && this._pairs.length >= max) { this.showError("At most " + max + " questions."); return; }
      this._pairs.push({ question: "", answer: "", questionTag: "", references: [] });
      this._current = this._pairs.length - 1;
      this.draw();
    }
    addReference() {
      var sel = this.shadowRoot.getSelection ? this.shadowRoot.getSelection() : document.getSelection();
      if (!sel || sel.isCollapsed || !this._pairs[this._current]) return;
      var range = sel.getRangeAt(0);
      var node = this._passage.firstChild;
      if (range.startContainer !== node || range.endContainer !== node) return;
      this._pairs[this._current].references.push({ startOffset: range.startOffset, endOffset: range.endOffset });
      sel.removeAllRanges();
      this.draw();
    }
    draw() {
      var self = this;
      this._list.replaceChildren();
      this._pairs.forEach(function (pair, i) {
        var tag = el("select", { id: "tag" + i, onchange: function (e) { pair.questionTag = e.target.value; } },
          [el("option", { value: "", text: "—" })].concat(self._tags.map(function (t) { return el("option", { value: String(t), text: String(t) }); })));
        tag.value = pair.questionTag;
        var custom = isTrue(self, "allow-custom-question-tags");
        var box = el("div", { class: "pair", "aria-current": String(i === self._current), onfocusin: function () { if (self._current !== i) { self._current = i; Array.prototype.forEach.call(self._list.children, function (c, k) { c.setAttribute("aria-current", String(k === i)); }); } } }, [
          el("strong", { text: "Question " + (i + 1) }),
          el("label", { for: "q" + i, text: "Question" }), el("input", { id: "q" + i, value: pair.question, oninput: function (e) { pair.question = e.target.value; self.showError(""); } }),
          el("label", { for: "a" + i, text: "Answer" }), el("textarea", { id: "a" + i, rows: "2", oninput: function (e) { pair.answer = e.target.value; self.showError(""); } }, [pair.answer]),
          el("label", { for: "tag" + i, text: "Question tag" }), tag,
          custom ? el("input", { "aria-label": "Custom question tag", placeholder: "or type a custom tag", oninput: function (e) { pair.questionTag = e.target.value; } }) : "",
          el("div", { class: "refs", text: pair.references.length ? pair.references.length + " text reference(s)" : "Select text in the passage to add a reference." }),
          el("button", { type: "button", class: "link", text: "Remove question", onclick: function () { self._pairs.splice(i, 1); self._current = Math.max(0, self._pairs.length - 1); self.draw(); } })]);
        self._list.appendChild(box);
      });
    }
    get value() {
      return { questionAnswerPairs: (this._pairs || []).map(function (p) { return { question: p.question, answer: p.answer, questionTag: p.questionTag, references: p.references.slice() }; }) };
    }
    validate() {
      var min = Number(this.getAttribute("min-questions") || 1), max = Number(this.getAttribute("max-questions") || 0);
      var limits = { qmin: Number(this.getAttribute("question-min-words") || 1), qmax: Number(this.getAttribute("question-max-words") || 0),
        amin: Number(this.getAttribute("answer-min-words") || 1), amax: Number(this.getAttribute("answer-max-words") || 0) };
      var pairs = this._pairs || [];
      if (pairs.length < min) return "Write at least " + min + " question(s)";
      if (max && pairs.length > max) return "Write at most " + max + " questions";
      for (var i = 0; i < pairs.length; i++) {
        var q = wordCount(pairs[i].question), a = wordCount(pairs[i].answer);
        if (q < limits.qmin || (limits.qmax && q > limits.qmax)) return "Question " + (i + 1) + " needs " + limits.qmin + "–" + (limits.qmax || "any") + " words";
        if (a < limits.amin || (limits.amax && a > limits.amax)) return "Answer " + (i + 1) + " needs " + limits.amin + "–" + (limits.amax || "any") + " words";
      }
      return null;
    }
    contribute(answer) { if (this.name) answer[this.name] = this.value; }
  }

  // A2I built-in task type: Amazon Textract AnalyzeDocument key-value review.
  class CrowdTextractAnalyzeDocument extends CrowdElement {
    static get css() { return ":host{display:block}img{max-width:100%;border:1px solid #e1e4e8}table{border-collapse:collapse;width:100%}td,th{border:1px solid #d5dbdb;padding:4px 6px;text-align:left}input{font:inherit;width:100%}"; }
    build() {
      var blocks = lenient(this.getAttribute("initial-value"), []);
      this._blocks = Array.isArray(blocks) ? blocks : [];
      var byId = {};
      this._blocks.forEach(function (b) { if (b && b.id) byId[b.id] = b; });
      function textOf(block) {
        var ids = [];
        (block.relationships || []).forEach(function (r) { if (r.type === "CHILD") ids = ids.concat(r.ids || []); });
        return ids.map(function (id) { return byId[id] && byId[id].text || ""; }).join(" ");
      }
      var rows = [];
      this._blocks.forEach(function (b) {
        if (!b || b.blockType !== "KEY_VALUE_SET" || !(b.entityTypes || []).includes("KEY")) return;
        var valueIds = [];
        (b.relationships || []).forEach(function (r) { if (r.type === "VALUE") valueIds = valueIds.concat(r.ids || []); });
        rows.push(el("tr", null, [el("td", { text: textOf(b) }), el("td", { text: valueIds.map(function (id) { return byId[id] ? textOf(byId[id]) : ""; }).join(" ") })]));
      });
      this.shadowRoot.append(this.getAttribute("header") ? el("h2", { class: "header", text: this.getAttribute("header") }) : "",
        el("div", { class: "layout" }, [this.instructionsPanel(), el("div", { class: "main" }, [el("img", { src: this.getAttribute("src") || "", alt: "Document" })]),
          el("div", { class: "panel", style: "flex:1 1 260px" }, [el("table", null, [el("thead", null, [el("tr", null, [el("th", { text: "Key" }), el("th", { text: "Value" })])]), el("tbody", null, rows)])])]));
    }
    contribute(answer) { answer[this.name || "AWS/Textract/AnalyzeDocument/Forms/V1"] = { blocks: this._blocks || [] }; }
  }

  /* ---------- image annotation tools ---------- */

  class ImageAnnotator extends CrowdElement {
    static get css() {
      return ":host{display:block;outline:none}.viewport{max-width:100%;max-height:80vh;overflow:auto}.stage{position:relative;display:inline-block;line-height:0;user-select:none}" +
        ".stage img{display:block;max-width:100%;max-height:75vh}.stage.zoomed img{max-width:none;max-height:none}canvas.upper-canvas{position:absolute;left:0;top:0;cursor:crosshair;touch-action:none}" +
        ".toolbar{display:flex;gap:6px;flex-wrap:wrap;margin:0 0 8px;align-items:center}.hint{font-size:12px;color:#545b64}" +
        ".shapes{font-size:13px;margin:10px 0 0;padding-left:18px}.shapes li[aria-current=true]{font-weight:700}";
    }
    get tool() { return "box"; }
    get plural() { return "boundingBoxes"; }
    build() {
      var self = this;
      this.tabIndex = this.tabIndex < 0 ? 0 : this.tabIndex;
      if (!this._labelNames) this._labelNames = asList(lenient(this.getAttribute("labels"), [])).map(function (l) { return typeof l === "object" && l ? String(l.label || l.name) : String(l); });
      this._labelIndex = 0;
      this._shapes = this.initialShapes();
      this._initialJSON = JSON.stringify(this._shapes);
      this._undo = [];
      this._draft = null;
      this._cursor = { x: 20, y: 20 };
      this._image = el("img", { src: this.getAttribute("src") || "", alt: this.getAttribute("header") || "Image to annotate", draggable: "false" });
      this._canvas = el("canvas", { class: "upper-canvas", part: "canvas", tabindex: "0", role: "application",
        "aria-label": "Annotation canvas. Arrow keys move the cursor, Space or Enter marks a point, number keys pick a label, Delete removes, Ctrl+Z undoes." });
      this._image.addEventListener("load", function () { self.imageLoaded(); });
      this._image.addEventListener("error", function () { self.showError("The image could not be loaded."); });
      this._stage = el("div", { class: "stage" }, [this._image, this._canvas]);
      this._zoom = 1;
      this._list = el("ol", { class: "shapes", "aria-label": "Annotations" });
      var toolbar = el("div", { class: "toolbar" }, this.toolbarButtons().concat([el("span", { class: "hint", text: this.hint() })]));
      this._panelHost = el("div");
      this.shadowRoot.append(
        this.getAttribute("header") ? el("h2", { class: "header", text: this.getAttribute("header") }) : "",
        el("div", { class: "layout" }, [this.instructionsPanel(), el("div", { class: "main" }, [toolbar, el("div", { class: "viewport" }, [this._stage]), el("div", { class: "error", role: "alert" }), this._list]), this._panelHost]));
      this.renderLabels();
      this._canvas.addEventListener("pointerdown", function (e) { self.pointer("down", e); });
      this._canvas.addEventListener("pointermove", function (e) { self.pointer("move", e); });
      this._canvas.addEventListener("pointerup", function (e) { self.pointer("up", e); });
      this._canvas.addEventListener("dblclick", function (e) { e.preventDefault(); self.finish(); });
      this.addEventListener("keydown", function (e) { self.keys(e); });
      if (window.ResizeObserver) new ResizeObserver(function () { self.fit(); }).observe(this._image);
      if (this._image.complete && this._image.naturalWidth) this.imageLoaded();
    }
    toolbarButtons() {
      var self = this;
      return [el("button", { type: "button", text: "Undo", title: "Undo (Ctrl+Z)", onclick: function () { self.undo(); } }),
        el("button", { type: "button", text: "Delete", title: "Delete the selected annotation (Delete)", onclick: function () { self.deleteSelected(); } })]
        .concat(this.zoomButtons());
    }
    zoomButtons() {
      var self = this;
      return [el("button", { type: "button", text: "Zoom in", title: "Zoom in (+)", onclick: function () { self.zoom(1.25); } }),
        el("button", { type: "button", text: "Fit", title: "Fit the image (0)", onclick: function () { self.zoom(0); } })];
    }
    zoom(factor) {
      if (!this._natural) return;
      var fitted = this._stage.classList.contains("zoomed") ? this._zoom : this._image.clientWidth / this._natural.width;
      this._zoom = factor ? Math.min(8, fitted * factor) : 1;
      this._stage.classList.toggle("zoomed", !!factor);
      this._image.style.width = factor ? Math.round(this._natural.width * this._zoom) + "px" : "";
      this.fit();
    }
    hint() { return "Drag on the image to draw a box."; }
    initialShapes() {
      var initial = lenient(this.getAttribute("initial-value"), null);
      if (!initial) return [];
      var list = Array.isArray(initial) ? initial : initial[this.plural] || [];
      return list.map(function (s) { return Object.assign({}, s); });
    }
    renderLabels() {
      if (!this._panelHost) return;
      this._panelHost.replaceChildren(labelPanel(this, this._labelNames.map(function (l) { return { label: l, display: l }; })));
      if (this._labelIndex >= this._labelNames.length) this._labelIndex = 0;
      markLabel(this);
    }
    get labels() { return (this._labelNames || asList(lenient(this.getAttribute("labels"), []))).slice(); }
    set labels(v) {
      this._labelNames = asList(typeof v === "string" ? lenient(v, []) : v).map(String);
      this.renderLabels();
    }
    get src() { return this.getAttribute("src"); }
    set src(v) { this.setAttribute("src", v); if (this._image) this._image.src = v; }
    pickLabel(i) { this._labelIndex = i; markLabel(this); }
    currentLabel() { return this._labelNames[this._labelIndex]; }
    imageLoaded() { this._natural = { width: this._image.naturalWidth, height: this._image.naturalHeight }; this.setupMask(); this.fit(); }
    setupMask() {}
    fit() {
      var w = this._image.clientWidth, h = this._image.clientHeight;
      if (!w || !h) return;
      this._canvas.width = w;
      this._canvas.height = h;
      this._canvas.style.width = w + "px";
      this._canvas.style.height = h + "px";
      this.draw();
    }
    scale() { return this._natural && this._natural.width ? this._canvas.width / this._natural.width : 1; }
    toImage(e) {
      var r = this._canvas.getBoundingClientRect(), k = this.scale();
      var x = Math.max(0, Math.min(r.width, e.clientX - r.left)), y = Math.max(0, Math.min(r.height, e.clientY - r.top));
      return { x: x / k, y: y / k };
    }
    record() { this._undo.push(JSON.stringify(this._shapes)); if (this._undo.length > 50) this._undo.shift(); }
    undo() {
      if (this._draft) { this._draft = null; this.draw(); return; }
      if (!this._undo.length) return;
      this._shapes = JSON.parse(this._undo.pop());
      this._selected = undefined;
      this.changed();
    }
    deleteSelected() {
      if (this._draft && this._draft.points && this._draft.points.length) { this._draft.points.pop(); if (!this._draft.points.length) this._draft = null; this.draw(); return; }
      var index = this._selected !== undefined ? this._selected : this._shapes.length - 1;
      if (index < 0 || !this._shapes[index]) return;
      this.record();
      this._shapes.splice(index, 1);
      this._selected = undefined;
      this.changed();
    }
    changed() { this.draw(); this.emit("change", this.value); }
    requireLabel() {
      if (this.currentLabel() === undefined) { this.showError("Add a label first."); return false; }
      this.showError("");
      return true;
    }
    keys(e) {
      var path = e.composedPath();
      if (path[0] && /^(INPUT|TEXTAREA|SELECT)$/.test(path[0].tagName)) return;
      var k = e.key;
      if ((e.ctrlKey || e.metaKey) && k.toLowerCase() === "z") { e.preventDefault(); this.undo(); return; }
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      var n = Number(k);
      if (n >= 1 && n <= 9 && this._labelNames[n - 1] !== undefined) { e.preventDefault(); this.pickLabel(n - 1); return; }
      if (k === "Delete" || k === "Backspace") { e.preventDefault(); this.deleteSelected(); return; }
      if (k === "+" || k === "=") { e.preventDefault(); this.zoom(1.25); return; }
      if (k === "0") { e.preventDefault(); this.zoom(0); return; }
      if (k === "Escape") { this._draft = null; this._selected = undefined; this.draw(); return; }
      if (path[0] !== this._canvas) { if (k === "Enter") this.finish(); return; }
      var step = e.shiftKey ? 1 : 10, moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
      if (moves[k]) {
        e.preventDefault();
        this._cursor.x = Math.max(0, Math.min(this._canvas.width, this._cursor.x + moves[k][0]));
        this._cursor.y = Math.max(0, Math.min(this._canvas.height, this._cursor.y + moves[k][1]));
        this._showCursor = true;
        this.keyboardMove();
        this.draw();
        return;
      }
      if (k === "Enter" && this._draft && this._draft.points) { e.preventDefault(); this.finish(); return; }
      if (k === " " || k === "Enter") {
        e.preventDefault();
        var kk = this.scale();
        this.keyboardMark({ x: this._cursor.x / kk, y: this._cursor.y / kk }, k === "Enter");
      }
    }
    keyboardMove() {}
    keyboardMark(p) {
      if (!this._draft) { if (this.requireLabel()) this._draft = { kind: "box", a: p, b: p }; }
      else { this._draft.b = p; this.commitBox(); }
      this.draw();
    }
    pointer(phase, e) {
      var p = this.toImage(e);
      if (phase === "down") {
        this._canvas.focus();
        this._canvas.setPointerCapture(e.pointerId);
        var hit = this.hitTest(p);
        if (hit >= 0) { this._selected = hit; this._dragging = false; this.draw(); return; }
        if (!this.requireLabel()) return;
        this._selected = undefined;
        this._draft = { kind: "box", a: p, b: p };
        this._dragging = true;
      } else if (phase === "move" && this._dragging && this._draft) {
        this._draft.b = p;
        this.draw();
      } else if (phase === "up" && this._dragging) {
        this._dragging = false;
        if (this._draft) { this._draft.b = p; this.commitBox(); }
      }
    }
    commitBox() {
      var a = this._draft.a, b = this._draft.b;
      this._draft = null;
      var left = Math.round(Math.min(a.x, b.x)), top = Math.round(Math.min(a.y, b.y));
      var width = Math.round(Math.abs(a.x - b.x)), height = Math.round(Math.abs(a.y - b.y));
      if (width < 2 || height < 2) { this.draw(); return; }
      this.record();
      this._shapes.push({ label: this.currentLabel(), left: left, top: top, width: width, height: height });
      this._selected = this._shapes.length - 1;
      this.changed();
    }
    hitTest(p) {
      for (var i = this._shapes.length - 1; i >= 0; i--) {
        var s = this._shapes[i];
        if (p.x >= s.left && p.x <= s.left + s.width && p.y >= s.top && p.y <= s.top + s.height) {
          var edge = 6 / this.scale();
          var inner = p.x > s.left + edge && p.x < s.left + s.width - edge && p.y > s.top + edge && p.y < s.top + s.height - edge;
          if (!inner || this._selected === i) return i;
        }
      }
      return -1;
    }
    labelColor(label) { var i = this._labelNames.indexOf(label); return colorFor(i < 0 ? this._labelNames.length : i); }
    draw() {
      var c = this._canvas, ctx = c.getContext("2d"), k = this.scale(), self = this;
      ctx.clearRect(0, 0, c.width, c.height);
      this.drawShapes(ctx, k);
      if (this._showCursor && document.activeElement === this && this.shadowRoot.activeElement === c) {
        ctx.strokeStyle = "#000"; ctx.lineWidth = 1;
        ctx.beginPath(); ctx.moveTo(this._cursor.x - 8, this._cursor.y); ctx.lineTo(this._cursor.x + 8, this._cursor.y);
        ctx.moveTo(this._cursor.x, this._cursor.y - 8); ctx.lineTo(this._cursor.x, this._cursor.y + 8); ctx.stroke();
      }
      this._list.replaceChildren();
      this._shapes.forEach(function (s, i) {
        self._list.appendChild(el("li", { "aria-current": String(i === self._selected) }, [self.describe(s) + " ",
          el("button", { type: "button", class: "link", text: "select", "aria-label": "Select " + self.describe(s), onclick: function () { self._selected = i; self.draw(); } }),
          el("button", { type: "button", class: "link", text: "delete", "aria-label": "Delete " + self.describe(s), onclick: function () { self._selected = i; self.deleteSelected(); } })]));
      });
    }
    describe(s) { return s.label + " box " + s.width + "×" + s.height + " at " + s.left + "," + s.top; }
    drawShapes(ctx, k) {
      var self = this;
      this._shapes.forEach(function (s, i) {
        ctx.strokeStyle = self.labelColor(s.label);
        ctx.lineWidth = i === self._selected ? 3 : 2;
        ctx.strokeRect(s.left * k, s.top * k, s.width * k, s.height * k);
        ctx.fillStyle = ctx.strokeStyle;
        ctx.font = "12px system-ui";
        ctx.fillText(s.label, s.left * k + 3, Math.max(12, s.top * k - 3));
      });
      if (this._draft && this._draft.kind === "box") {
        var a = this._draft.a, b = this._draft.b;
        ctx.setLineDash([5, 3]);
        ctx.strokeStyle = this.labelColor(this.currentLabel());
        ctx.strokeRect(Math.min(a.x, b.x) * k, Math.min(a.y, b.y) * k, Math.abs(a.x - b.x) * k, Math.abs(a.y - b.y) * k);
        ctx.setLineDash([]);
      }
    }
    finish() {}
    imageProperties() { return { height: this._natural ? this._natural.height : this._image ? this._image.naturalHeight : 0, width: this._natural ? this._natural.width : this._image ? this._image.naturalWidth : 0 }; }
    get value() {
      var v = {};
      v[this.plural] = JSON.parse(JSON.stringify(this._shapes || []));
      v.inputImageProperties = this.imageProperties();
      if (this.hasAttribute("initial-value")) v.initialValueModified = JSON.stringify(this._shapes) !== this._initialJSON;
      return v;
    }
    get _submittableValue() { return this.value; }
    contribute(answer) { if (this.name) answer[this.name] = this.value; }
  }

  class CrowdBoundingBox extends ImageAnnotator {}

  // Tools whose shapes are lists of vertices.
  class VertexAnnotator extends ImageAnnotator {
    get minPoints() { return 3; }
    get maxPoints() { return Infinity; }
    get closed() { return true; }
    hint() { return "Click to add points; " + (this.closed ? "click the first point or press Enter to close." : "press Enter or double-click to finish."); }
    keyboardMark(p) { this.addPoint(p); }
    pointer(phase, e) {
      if (phase !== "down") return;
      var p = this.toImage(e);
      this._canvas.focus();
      if (!this._draft) {
        var hit = this.hitTest(p);
        if (hit >= 0) { this._selected = hit; this.draw(); return; }
      }
      this.addPoint(p);
    }
    addPoint(p) {
      if (!this._draft) {
        if (!this.requireLabel()) return;
        this._selected = undefined;
        this._draft = { kind: "points", points: [] };
      }
      var pts = this._draft.points, k = this.scale();
      if (this.closed && pts.length >= this.minPoints && Math.hypot((pts[0].x - p.x) * k, (pts[0].y - p.y) * k) < 9) { this.finish(); return; }
      pts.push({ x: Math.round(p.x), y: Math.round(p.y) });
      if (pts.length >= this.maxPoints) { this.finish(); return; }
      this.draw();
    }
    finish() {
      if (!this._draft || this._draft.points.length < this.minPoints) return;
      this.record();
      this._shapes.push({ label: this.currentLabel(), vertices: this._draft.points.slice() });
      this._draft = null;
      this._selected = this._shapes.length - 1;
      this.changed();
    }
    hitTest(p) {
      var k = this.scale();
      for (var i = this._shapes.length - 1; i >= 0; i--) {
        var v = this._shapes[i].vertices;
        for (var j = 0; j < v.length; j++) {
          var a = v[j], b = v[(j + 1) % v.length];
          if (!this.closed && j === v.length - 1) break;
          if (segmentDistance(p, a, b) * k < 6) return i;
        }
      }
      return -1;
    }
    describe(s) { return s.label + " (" + s.vertices.length + " points)"; }
    drawShapes(ctx, k) {
      var self = this;
      function path(points, close) {
        ctx.beginPath();
        points.forEach(function (q, j) { if (j) ctx.lineTo(q.x * k, q.y * k); else ctx.moveTo(q.x * k, q.y * k); });
        if (close) ctx.closePath();
      }
      this._shapes.forEach(function (s, i) {
        var color = self.labelColor(s.label);
        ctx.strokeStyle = color; ctx.lineWidth = i === self._selected ? 3 : 2;
        path(s.vertices, self.closed);
        if (self.closed) { ctx.globalAlpha = 0.2; ctx.fillStyle = color; ctx.fill(); ctx.globalAlpha = 1; }
        ctx.stroke();
        s.vertices.forEach(function (q) { ctx.fillStyle = color; ctx.fillRect(q.x * k - 3, q.y * k - 3, 6, 6); });
      });
      if (this._draft && this._draft.points) {
        ctx.setLineDash([5, 3]); ctx.strokeStyle = this.labelColor(this.currentLabel()); ctx.lineWidth = 2;
        path(this._draft.points, false); ctx.stroke(); ctx.setLineDash([]);
        this._draft.points.forEach(function (q) { ctx.fillRect(q.x * k - 3, q.y * k - 3, 6, 6); });
      }
    }
  }

  function segmentDistance(p, a, b) {
    var dx = b.x - a.x, dy = b.y - a.y, len = dx * dx + dy * dy;
    var t = len ? Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len)) : 0;
    return Math.hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy));
  }

  class CrowdPolygon extends VertexAnnotator { get plural() { return "polygons"; } }
  class CrowdPolyline extends VertexAnnotator {
    get plural() { return "polylines"; }
    get minPoints() { return 2; }
    get closed() { return false; }
  }
  class CrowdLine extends VertexAnnotator {
    get plural() { return "lines"; }
    get minPoints() { return 2; }
    get maxPoints() { return 2; }
    get closed() { return false; }
    hint() { return "Click the start and the end of each line."; }
  }

  class CrowdKeypoint extends ImageAnnotator {
    get plural() { return "keypoints"; }
    hint() { return "Click to place a point with the chosen label."; }
    keyboardMark(p) { this.place(p); }
    pointer(phase, e) {
      if (phase !== "down") return;
      var p = this.toImage(e);
      this._canvas.focus();
      var hit = this.hitTest(p);
      if (hit >= 0) { this._selected = hit; this.draw(); return; }
      this.place(p);
    }
    place(p) {
      if (!this.requireLabel()) return;
      this.record();
      this._shapes.push({ label: this.currentLabel(), x: Math.round(p.x), y: Math.round(p.y) });
      this._selected = this._shapes.length - 1;
      this.changed();
    }
    hitTest(p) {
      var k = this.scale();
      for (var i = this._shapes.length - 1; i >= 0; i--) if (Math.hypot((this._shapes[i].x - p.x) * k, (this._shapes[i].y - p.y) * k) < 7) return i;
      return -1;
    }
    describe(s) { return s.label + " at " + s.x + "," + s.y; }
    drawShapes(ctx, k) {
      var self = this;
      this._shapes.forEach(function (s, i) {
        ctx.fillStyle = self.labelColor(s.label);
        ctx.beginPath(); ctx.arc(s.x * k, s.y * k, i === self._selected ? 7 : 5, 0, Math.PI * 2); ctx.fill();
        ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.5; ctx.stroke();
        ctx.font = "12px system-ui"; ctx.fillText(s.label, s.x * k + 8, s.y * k - 6);
      });
    }
  }

  class SegmentationAnnotator extends ImageAnnotator {
    hint() { return "Paint with the mouse (Space paints at the keyboard cursor); [ and ] change the brush, E toggles the eraser."; }
    toolbarButtons() {
      var self = this;
      this._eraserButton = el("button", { type: "button", text: "Eraser", "aria-pressed": "false", onclick: function () { self.toggleEraser(); } });
      this._brushLabel = el("span", { class: "hint" });
      return [el("button", { type: "button", text: "Undo", onclick: function () { self.undo(); } }),
        el("button", { type: "button", text: "Clear", onclick: function () { self.deleteSelected(); } }), this._eraserButton,
        el("button", { type: "button", text: "Brush −", onclick: function () { self.brush(-2); } }),
        el("button", { type: "button", text: "Brush +", onclick: function () { self.brush(2); } })].concat(this.zoomButtons(), [this._brushLabel]);
    }
    initialShapes() { this._radius = 8; this._maskUndo = []; this._erasing = false; return []; }
    brush(delta) { this._radius = Math.max(1, Math.min(60, this._radius + delta)); this._brushLabel.textContent = "brush " + this._radius + " px"; }
    toggleEraser() { this._erasing = !this._erasing; this._eraserButton.setAttribute("aria-pressed", String(this._erasing)); }
    setupMask() {
      var n = this._natural;
      if (!this._mask || this._mask.width !== n.width || this._mask.height !== n.height) {
        this._mask = el("canvas", { width: n.width, height: n.height });
      }
      this.brush(0);
    }
    keys(e) {
      if (!e.ctrlKey && !e.metaKey && !e.altKey) {
        if (e.key === "[" || e.key === "]") { e.preventDefault(); this.brush(e.key === "[" ? -2 : 2); return; }
        if (e.key === "e" || e.key === "E") { e.preventDefault(); this.toggleEraser(); return; }
      }
      super.keys(e);
    }
    keyboardMark(p) { if (this.beginStroke()) { this.paint(p, p); this.endStroke(); } }
    beginStroke() {
      if (!this._mask) return false;
      if (!this._erasing && !this.requireLabel()) return false;
      var ctx = this._mask.getContext("2d");
      this._maskUndo.push(ctx.getImageData(0, 0, this._mask.width, this._mask.height));
      if (this._maskUndo.length > 15) this._maskUndo.shift();
      this._strokeColor = this._erasing ? null : this.strokeColor();
      return true;
    }
    endStroke() { this.changed(); }
    strokeColor() { return this.labelColor(this.currentLabel()); }
    paint(from, to) {
      var ctx = this._mask.getContext("2d"), r = Math.max(1, Math.round(this._radius / this.scale()));
      var steps = Math.max(1, Math.ceil(Math.hypot(to.x - from.x, to.y - from.y) / Math.max(1, r / 2)));
      if (this._strokeColor) ctx.fillStyle = this._strokeColor;
      for (var s = 0; s <= steps; s++) {
        var cx = Math.round(from.x + ((to.x - from.x) * s) / steps), cy = Math.round(from.y + ((to.y - from.y) * s) / steps);
        for (var dy = -r; dy <= r; dy++) {
          var w = Math.floor(Math.sqrt(r * r - dy * dy));
          if (this._strokeColor) ctx.fillRect(cx - w, cy + dy, 2 * w + 1, 1);
          else ctx.clearRect(cx - w, cy + dy, 2 * w + 1, 1);
        }
      }
    }
    pointer(phase, e) {
      var p = this.toImage(e);
      if (phase === "down") {
        this._canvas.focus();
        this._canvas.setPointerCapture(e.pointerId);
        if (!this.beginStroke()) return;
        this._last = p;
        this.paint(p, p);
        this._painting = true;
        this.draw();
      } else if (phase === "move" && this._painting) {
        this.paint(this._last, p);
        this._last = p;
        this.draw();
      } else if (phase === "up" && this._painting) {
        this._painting = false;
        this.endStroke();
      }
    }
    undo() {
      if (!this._maskUndo.length) return;
      this._mask.getContext("2d").putImageData(this._maskUndo.pop(), 0, 0);
      this.undoInstances();
      this.changed();
    }
    undoInstances() {}
    deleteSelected() {
      if (!this._mask) return;
      var ctx = this._mask.getContext("2d");
      this._maskUndo.push(ctx.getImageData(0, 0, this._mask.width, this._mask.height));
      ctx.clearRect(0, 0, this._mask.width, this._mask.height);
      this.changed();
    }
    drawShapes(ctx) {
      if (!this._mask) return;
      ctx.globalAlpha = 0.55;
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(this._mask, 0, 0, this._canvas.width, this._canvas.height);
      ctx.globalAlpha = 1;
    }
    draw() { super.draw(); this._list.replaceChildren(); }
    pngData() {
      if (!this._mask) return "";
      return this._mask.toDataURL("image/png").split(",")[1];
    }
    get value() {
      return { labeledImage: { pngImageData: this.pngData() }, inputImageProperties: this.imageProperties() };
    }
  }

  class CrowdSemanticSegmentation extends SegmentationAnnotator {
    get value() {
      var v = super.value, self = this;
      v.labelMappings = {};
      this._labelNames.forEach(function (l) { v.labelMappings[l] = { color: self.labelColor(l) }; });
      return v;
    }
  }

  class CrowdInstanceSegmentation extends SegmentationAnnotator {
    initialShapes() { this._instances = []; this._instanceUndo = []; this._fresh = true; return super.initialShapes(); }
    toolbarButtons() {
      var self = this;
      var buttons = super.toolbarButtons();
      buttons.splice(buttons.length - 1, 0, el("button", { type: "button", text: "New instance", title: "Start a new instance (N)", onclick: function () { self._fresh = true; } }));
      return buttons;
    }
    keys(e) {
      if ((e.key === "n" || e.key === "N") && !e.ctrlKey && !e.metaKey) { e.preventDefault(); this._fresh = true; return; }
      super.keys(e);
    }
    pickLabel(i) { if (i !== this._labelIndex) this._fresh = true; super.pickLabel(i); }
    strokeColor() {
      this._instanceUndo.push(this._instances.length);
      if (this._fresh || !this._instances.length) {
        var n = this._instances.length;
        var color = n < PALETTE.length ? PALETTE[n] : hslHex((n * 137.508) % 360, 70, 45 + (n % 3) * 10);
        this._instances.push({ color: color, label: this.currentLabel() });
        this._fresh = false;
      }
      return this._instances[this._instances.length - 1].color;
    }
    undoInstances() { if (this._instanceUndo.length) this._instances.length = this._instanceUndo.pop(); }
    get value() {
      var v = super.value;
      v.instances = this._instances.map(function (x) { return { color: x.color, label: x.label }; });
      return v;
    }
  }

  function hslHex(h, s, l) {
    s /= 100; l /= 100;
    var f = function (n) {
      var k = (n + h / 30) % 12, c = l - s * Math.min(l, 1 - l) * Math.max(-1, Math.min(k - 3, 9 - k, 1));
      return Math.round(255 * c).toString(16).padStart(2, "0");
    };
    return "#" + f(0) + f(8) + f(4);
  }

  /* ---------- registration ---------- */

  var ELEMENTS = {
    "crowd-form": CrowdForm, "crowd-button": CrowdButton, "crowd-icon-button": CrowdIconButton, "crowd-fab": CrowdFab,
    "crowd-alert": CrowdAlert, "crowd-badge": CrowdBadge, "crowd-card": CrowdCard, "crowd-modal": CrowdModal,
    "crowd-tabs": CrowdTabs, "crowd-tab": CrowdTab, "crowd-toast": CrowdToast, "crowd-instructions": CrowdInstructions,
    "crowd-input": CrowdInput, "crowd-text-area": CrowdTextArea, "crowd-checkbox": CrowdCheckbox,
    "crowd-radio-group": CrowdRadioGroup, "crowd-radio-button": CrowdRadioButton, "crowd-slider": CrowdSlider,
    "crowd-slider-label": CrowdSliderLabel, "crowd-toggle-button": CrowdToggleButton,
    "crowd-classifier": CrowdClassifier, "crowd-classifier-multi-select": CrowdClassifierMultiSelect,
    "crowd-image-classifier": CrowdImageClassifier, "crowd-image-classifier-multi-select": CrowdImageClassifierMultiSelect,
    "crowd-entity-annotation": CrowdEntityAnnotation, "crowd-bounding-box": CrowdBoundingBox, "crowd-polygon": CrowdPolygon,
    "crowd-line": CrowdLine, "crowd-polyline": CrowdPolyline, "crowd-keypoint": CrowdKeypoint,
    "crowd-semantic-segmentation": CrowdSemanticSegmentation, "crowd-instance-segmentation": CrowdInstanceSegmentation,
    "crowd-text-ranking": CrowdTextRanking, "crowd-question-answer-generation": CrowdQuestionAnswerGeneration,
    "crowd-rekognition-detect-moderation-labels": CrowdRekognitionDetectModerationLabels,
    "crowd-textract-analyze-document": CrowdTextractAnalyzeDocument
  };
  Object.keys(ELEMENTS).forEach(function (tag) { customElements.define(tag, ELEMENTS[tag]); });

  // Helper tags are plain blocks; giving them a display keeps templates' layout as on AWS.
  var helperStyle = document.createElement("style");
  helperStyle.textContent = "short-instructions,full-instructions,classification-target,short-summary,detailed-instructions," +
    "positive-example,negative-example,classification-reasons-container{display:block}full-instructions:not([slot]){margin:8px 0}" +
    "crowd-form{display:block}body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}";
  (document.head || document.documentElement).appendChild(helperStyle);

  window.handloopCrowd = { parseLiteral: parseLiteral, lenient: lenient, elements: Object.keys(ELEMENTS) };
})();
