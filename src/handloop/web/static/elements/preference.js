// What handloop's preference elements (hl-comparison-*, hl-likert, hl-thumbs,
// hl-response-edit, hl-conversation) share: reading responses and their ids, the order
// each assignment shows them in, the response boxes with server-rendered Markdown, the
// reason field, the keys and the one help overlay. Answers name responses by id, never by
// their place on screen (see docs/templates.md, "Preference elements").
import { CrowdElement } from "./base.js";
import { el, isTrue } from "./dom.js";
import { lenient } from "./literal.js";

export const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
export function letter(position) {
  return position < LETTERS.length ? LETTERS[position] : "#" + (position + 1);
}

function itemText(item) {
  if (typeof item === "string") return item;
  if (item && typeof item === "object") {
    for (const key of ["text", "content", "response"]) if (typeof item[key] === "string") return item[key];
  }
  return JSON.stringify(item);
}

// A list of strings or objects -> [{id, text, index}]; ids are the items' own `id`s when
// every item has one and none repeats, else the indices ("0", "1", ...).
export function readItems(list) {
  if (!Array.isArray(list)) return [];
  const own = list.map((item) => {
    return item && typeof item === "object" && item.id !== undefined && item.id !== null ? String(item.id) : null;
  });
  const usable = own.every((id) => id !== null) && new Set(own).size === own.length;
  return list.map((item, index) => {
    return { id: usable ? own[index] : String(index), text: itemText(item), index: index, raw: item };
  });
}

// FNV-1a, then mulberry32: a small seeded generator (no need for cryptographic strength).
function hash32(text) {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = Math.imul(h, 16777619); }
  return h >>> 0;
}
function generator(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The portal gives each task its seed; elements of one page with the same ids share the
// order. Without a seed (a preview), the order is still fixed by the ids.
export function pageSeed() {
  const meta = document.querySelector('meta[name="hl-order-seed"]');
  return meta ? meta.getAttribute("content") || "" : "";
}
export function shuffled(ids, seed) {
  const order = ids.slice();
  const next = generator(hash32(seed + "\u0000" + ids.join("\u0001")));
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const held = order[i];
    order[i] = order[j];
    order[j] = held;
  }
  return order;
}

// -- the help overlay: one per page, listing the keys of every preference element ---------

const registry = new Set();
let overlay = null;
let lastActive = null;

function helpDialog() {
  if (overlay && overlay.isConnected) return overlay;
  overlay = document.createElement("dialog");
  overlay.setAttribute("aria-label", "Keyboard shortcuts");
  overlay.className = "hl-help";
  overlay.style.cssText = "border:none;border-radius:8px;padding:20px 24px;max-width:min(640px,92vw);font:14px system-ui,sans-serif;box-shadow:0 8px 32px rgba(0,0,0,.3)";
  document.body.appendChild(overlay);
  return overlay;
}

export function showHelp() {
  const dialog = helpDialog();
  const rows = [el("h2", { text: "Keyboard shortcuts", style: "font-size:16px;margin:0 0 8px" }),
    el("p", { text: "Keys act on the focused part of the task (else the first). Ctrl+Enter submits." })];
  Array.from(registry).filter((node) => node.isConnected).forEach((node) => {
    rows.push(el("h3", { text: node.helpTitle(), style: "font-size:14px;margin:12px 0 4px" }));
    rows.push(el("table", { style: "border-collapse:collapse" }, node.keyHelp().map((pair) => {
      return el("tr", null, [el("th", { scope: "row", style: "text-align:left;padding:2px 12px 2px 0;white-space:nowrap" }, [
        el("kbd", { text: pair[0], style: "border:1px solid #aab7b8;border-radius:3px;padding:0 5px;font:12px ui-monospace,monospace" })]),
      el("td", { text: pair[1], style: "padding:2px 0" })]);
    })));
  });
  rows.push(el("p", { style: "text-align:right;margin:12px 0 0" }, [el("button", { type: "button", text: "Close", onclick: () => { dialog.close(); } })]));
  dialog.replaceChildren.apply(dialog, rows);
  if (!dialog.open) dialog.showModal();
}

export function keyCap(text) { return el("span", { class: "key", "aria-hidden": "true", text: text }); }
export function checked(node, on) { node.setAttribute("aria-checked", String(on)); }
export function digit(event) { return /^[1-9]$/.test(event.key) ? Number(event.key) : null; }
export function inBody(target) { return !!target && !!target.closest && !!target.closest(".body"); }

function typing(event) {
  const target = event.composedPath()[0];
  return !!target && (/^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) || target.isContentEditable);
}

// Keys pressed with nothing focused go to the element last used, else the page's first.
document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || typing(event) || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "?") { event.preventDefault(); showHelp(); return; }
  const target = event.target;
  if (target && target !== document.body && target !== document.documentElement) return;
  const live = Array.from(registry).filter((node) => node.isConnected && !node.disabled && node.takesKeys);
  const node = lastActive && live.indexOf(lastActive) >= 0 ? lastActive : live[0];
  if (node && node.keys(event, null)) event.preventDefault();
});

// -- the shared element ---------------------------------------------------------------------

export const PREFERENCE_CSS = [
  ":host{display:block;margin:12px 0}",
  ".head{display:flex;align-items:baseline;gap:12px;margin:0 0 8px}.head h2{margin:0;font-size:16px}",
  ".keys-hint{margin-left:auto;font-size:12px;color:#545b64}@media (max-width:640px){.keys-hint{display:none}}",
  ".cards{display:grid;gap:12px;grid-template-columns:1fr}",
  ".cards.across{grid-template-columns:repeat(auto-fit,minmax(260px,1fr))}",
  "@media (max-width:640px){.cards.across{grid-template-columns:1fr}}",
  ".card{border:1px solid #d5dbdb;border-radius:8px;background:#fff;display:flex;flex-direction:column;min-width:0}",
  ".card.picked{border-color:#0b5cad;box-shadow:0 0 0 2px #0b5cad}",
  ".card.worse{opacity:.8}",
  ".card-head{display:flex;align-items:center;gap:8px;padding:6px 10px;border-bottom:1px solid #eaeded;background:#fafafa;border-radius:8px 8px 0 0}",
  ".card-head .name{font-weight:600}.card-head .expand{margin-left:auto;font-size:12px;padding:2px 8px}",
  ".body{flex:1 1 auto;padding:8px 12px;overflow:auto;max-height:45vh;line-height:1.5;overflow-wrap:break-word}",
  ".body.open{max-height:none}",
  ".body.plain{white-space:pre-wrap}",
  ".body pre{background:#f6f8fa;padding:8px 10px;border-radius:4px;overflow-x:auto}",
  ".body code{background:#f6f8fa;border-radius:3px;padding:0 3px}.body pre code{padding:0;background:none}",
  ".body table{border-collapse:collapse}.body th,.body td{border:1px solid #d0d7de;padding:3px 8px}",
  ".body img{max-width:100%}.body blockquote{margin:0;padding-left:10px;border-left:3px solid #d5dbdb;color:#414750}",
  ".hl-markdown>:first-child{margin-top:0}.hl-markdown>:last-child{margin-bottom:0}",
  ".card-foot{padding:6px 10px;border-top:1px solid #eaeded;display:flex;flex-wrap:wrap;gap:6px;align-items:center}",
  ".scale,.bar.scale{display:grid;grid-template-columns:repeat(var(--points),minmax(2.2em,1fr));gap:6px}.scale .opt{justify-content:center}",
  "@media (max-width:640px){.bar.scale.wide{grid-template-columns:1fr}.scale.wide .opt{justify-content:flex-start}}",
  ".bar{display:flex;flex-wrap:wrap;gap:6px;margin:10px 0 0;align-items:center}",
  ".bar .label{font-weight:600;margin-right:4px}",
  ".opt{display:inline-flex;align-items:center;gap:6px;border-color:#aab7b8}",
  ".opt[aria-checked=true],.opt[aria-pressed=true]{background:#e8f1fb;border-color:#0b5cad;box-shadow:inset 0 -3px 0 #0b5cad;font-weight:600}",
  ".opt[disabled]{opacity:.45}",
  ".reason{display:block;margin-top:10px}.reason textarea,.reason input{display:block;width:100%;font:inherit;margin-top:4px;padding:6px;border:1px solid #aab7b8;border-radius:4px}",
  ".error{font-weight:600}"
].join("\n");

export class PreferenceElement extends CrowdElement {
  static get css() { return PREFERENCE_CSS + (this.extraCss || ""); }
  get kind() { return this.tagName.toLowerCase().replace(/^hl-/, ""); }
  get takesKeys() { return true; }
  get responses() { return this._items ? this._items.map((item) => item.raw) : lenient(this.getAttribute("responses"), []); }
  set responses(value) {
    this._fromProperty = true;
    this._list = value;
    if (this._built) this.rebuild();
  }
  get value() { const answer = {}; this.contribute(answer); return answer[this.answerKey()]; }
  answerKey() { return this.name || this.kind; }
  listAttribute() { return "responses"; }
  build() {
    registry.add(this);
    this.addEventListener("keydown", (event) => {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "?" && !typing(event)) { event.preventDefault(); showHelp(); return; }
      if (typing(event)) return;
      lastActive = this;
      if (this.keys(event, event.composedPath()[0])) event.preventDefault();
    });
    this.addEventListener("pointerdown", () => { lastActive = this; });
    this.addEventListener("focusin", () => { lastActive = this; });
    this.rebuild();
  }
  rebuild() {
    const list = this._fromProperty ? this._list : lenient(this.getAttribute(this.listAttribute()), []);
    this._items = readItems(list);
    this._html = {};
    const template = this._fromProperty ? null : this.querySelector(":scope > template[data-hl-markdown]");
    if (template && !(this.getAttribute("markdown") || "").match(/^\s*(false|0)\s*$/i)) {
      const html = this._html;
      template.content.querySelectorAll("[data-hl-item]").forEach((node) => { html[node.getAttribute("data-hl-item")] = node; });
    }
    const ids = this._items.map((item) => item.id);
    this._order = this.randomizes() ? shuffled(ids, pageSeed()) : ids;
    this._byId = {};
    this._items.forEach((item) => { this._byId[item.id] = item; });
    this._shown = this._order.map((id) => this._byId[id]);
    this.reset();
    const header = this.getAttribute("header");
    const parts = [el("div", { class: "head" }, [header ? el("h2", { text: header }) : null,
      el("button", { type: "button", class: "link keys-hint", text: "Keyboard: press ? for the keys", onclick: showHelp })]),
    this.render(), this.reasonField(), el("div", { class: "error", role: "alert" })];
    this.shadowRoot.replaceChildren.apply(this.shadowRoot, parts.filter(Boolean));
    this.refresh();
  }
  randomizes() { return !this.hasAttribute("randomize") || isTrue(this, "randomize"); }
  // The subclass's state and parts.
  reset() {}
  render() { return el("div"); }
  refresh() {}
  missing() { return null; }
  judgement() { return {}; }
  helpTitle() { return (this.getAttribute("header") || this.kind.replace(/-/g, " ")); }
  keyHelp() { return []; }
  keys() { return false; }

  // A response's box: its letter (place on screen), its text, and an Expand button.
  card(item, position, extra) {
    // hide-text: another element on the page shows these responses; this one names them.
    const body = el("div", { class: "body", tabindex: "0", role: "region", "aria-label": "Response " + letter(position), hidden: this.hasAttribute("hide-text") });
    const html = this._html[String(item.index)];
    if (html) body.appendChild(html.cloneNode(true));
    else { body.classList.add("plain"); body.textContent = item.text; }
    const expand = el("button", { type: "button", class: "expand", "aria-expanded": "false", text: "Expand",
      "aria-label": "Expand response " + letter(position) });
    expand.addEventListener("click", () => {
      const open = body.classList.toggle("open");
      expand.setAttribute("aria-expanded", String(open));
      expand.textContent = open ? "Collapse" : "Expand";
    });
    // Expand only where there is more to see.
    new ResizeObserver(() => { expand.hidden = !body.classList.contains("open") && body.scrollHeight <= body.clientHeight + 1; }).observe(body);
    const head = el("div", { class: "card-head" }, [el("span", { class: "name", text: "Response " + letter(position) }),
      position < 9 && extra && extra.key ? keyCap(String(position + 1)) : null,
      expand]);
    return el("section", { class: "card", "data-id": item.id, "data-position": String(position),
      "aria-label": "Response " + letter(position) }, [head, body].concat(extra && extra.foot ? [extra.foot] : []));
  }
  // A button in a radio group: role radio, its key shown, its label spoken.
  option(text, key, label, onpick) {
    return el("button", { type: "button", class: "opt", role: "radio", "aria-checked": "false", "aria-label": label || text,
      onclick: onpick }, [key ? keyCap(key) : null, text]);
  }
  reasonMode() {
    if (!this.hasAttribute("reason")) return null;
    const v = this.getAttribute("reason").trim().toLowerCase();
    return v === "false" || v === "0" ? null : v === "required" ? "required" : "optional";
  }
  reasonField() {
    const mode = this.reasonMode();
    if (!mode || this.perResponseReason) { this._reason = null; return null; }
    const caption = this.getAttribute("reason-label") || (mode === "required" ? "Why? (required)" : "Why? (optional)");
    this._reason = el("textarea", { rows: "2", "aria-label": caption });
    this._reason.addEventListener("input", this.changed.bind(this));
    return el("label", { class: "reason" }, [caption, this._reason]);
  }
  changed() {
    this.refresh();
    this.showError("");
    this.emit("change", this.value);
  }
  validate() {
    if (!this._items || !this._items.length) return (this.getAttribute("header") || this.kind) + ": this task lists no responses; tell the requester.";
    const problem = this.missing();
    if (problem) return problem;
    if (this._reason && this.reasonMode() === "required" && !this._reason.value.trim()) return "Give a reason for your answer.";
    return null;
  }
  contribute(answer) {
    if (!this._items) return;
    const value = Object.assign({ kind: this.kind, shownOrder: this._order.slice() }, this.judgement());
    if (this._reason && this._reason.value.trim()) value.reason = this._reason.value.trim();
    answer[this.answerKey()] = value;
  }
  // Focus moves between a list of controls with the arrow keys.
  static moveFocus(nodes, step) {
    const list = Array.from(nodes);
    const active = list.findIndex((node) => node.matches(":focus") || node.contains(node.getRootNode().activeElement));
    const next = list[Math.max(0, Math.min(list.length - 1, active < 0 ? 0 : active + step))];
    if (next) next.focus();
    return next;
  }
}

// hl-conversation: a multi-turn prompt, [{role, content}], shown as a conversation.
export class HlConversation extends PreferenceElement {
  static get extraCss() {
    return ".turns{display:flex;flex-direction:column;gap:8px}.turn{border-radius:8px;border:1px solid #e1e4e8;max-width:92%}" +
      ".turn.user{align-this:flex-end;background:#eef5fc;border-color:#c8dcf0}.turn.system{background:#fdf8e8;border-color:#eadcae;max-width:100%}" +
      ".role{font-size:12px;font-weight:600;color:#545b64;padding:6px 12px 0;text-transform:capitalize}.turn .body{max-height:none}";
  }
  get takesKeys() { return false; }
  listAttribute() { return "messages"; }
  get messages() { return this.responses; }
  set messages(value) { this.responses = value; }
  randomizes() { return false; }
  rebuild() {
    super.rebuild();
    this.shadowRoot.querySelector(".keys-hint").remove();
  }
  render() {
    const html = this._html;
    return el("div", { class: "turns", role: "log", "aria-label": "Conversation" }, this._items.map((item) => {
      const role = item.raw && typeof item.raw === "object" && typeof item.raw.role === "string" ? item.raw.role : "user";
      const body = el("div", { class: "body" });
      const rendered = html[String(item.index)];
      if (rendered) body.appendChild(rendered.cloneNode(true));
      else { body.classList.add("plain"); body.textContent = item.text; }
      return el("div", { class: "turn " + role.toLowerCase().replace(/[^a-z]/g, ""), role: "article", "aria-label": role }, [el("div", { class: "role", text: role }), body]);
    }));
  }
  validate() { return null; }
  contribute() {}
}
