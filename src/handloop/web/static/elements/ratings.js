// Judging responses one by one: ratings on named criteria (hl-likert), thumbs up or down
// (hl-thumbs), and rewriting a response (hl-response-edit).
import { el, isTrue } from "./dom.js";
import { lenient } from "./literal.js";
import { PreferenceElement, checked, digit, inBody, keyCap, letter } from "./preference.js";


export class HlLikert extends PreferenceElement {
  static get extraCss() {
    return ".rating{display:grid;grid-template-columns:minmax(7em,1fr) minmax(0,2.4fr);gap:8px;align-items:center;margin:6px 0 0;border-radius:4px}" +
      ".rating:focus-visible{outline:2px solid #0073bb}.criterion-note{display:block;font-size:12px;font-weight:400;color:#545b64}.legend{margin:0 0 8px;color:#414750}" +
      "@media (max-width:640px){.rating{grid-template-columns:1fr}}";
  }
  criteria() {
    const list = lenient(this.getAttribute("criteria"), null);
    const items = Array.isArray(list) && list.length ? list : ["overall"];
    return items.map((c) => {
      const object = c && typeof c === "object";
      const name = String(object ? c.name || c.label : c);
      return { name: name, label: object && c.label ? String(c.label) : name.charAt(0).toUpperCase() + name.slice(1),
        description: object && c.description ? String(c.description) : "" };
    });
  }
  scale() {
    const labels = lenient(this.getAttribute("labels"), null);
    if (Array.isArray(labels) && labels.length >= 2) return labels.map(String);
    const points = Math.max(2, Math.min(9, Number(this.getAttribute("scale")) || 5));
    return Array.from({ length: points }, (_, i) => String(i + 1));
  }
  reset() {
    this._criteria = this.criteria();
    this._labels = this.scale();
    this._ratings = {};
    this._criteria.forEach((c) => { this._ratings[c.name] = {}; });
  }
  render() {
    this._groups = [];
    const cards = this._shown.map((item, p) => {
      const foot = el("div", { class: "card-foot", style: "display:block" }, this._criteria.map((c) => {
        const aria = c.label + " of response " + letter(p);
        const buttons = this._labels.map((text, v) => {
          const b = this.option(text, this._labels.length <= 9 && !/^\d+$/.test(text) ? String(v + 1) : null, aria + ": " + text, () => this.rate(c.name, item.id, v + 1));
          b.dataset.value = String(v + 1);
          return b;
        });
        const group = el("div", { class: "rating", role: "radiogroup", tabindex: "0", "aria-label": aria, "data-id": item.id, "data-criterion": c.name },
          [el("span", { class: "label", text: c.label }, c.description ? [el("span", { class: "criterion-note", text: c.description })] : []),
            el("span", { class: "scale", style: "--points:" + buttons.length }, buttons)]);
        this._groups.push({ group: group, buttons: buttons, id: item.id, criterion: c.name });
        return group;
      }));
      return this.card(item, p, { foot: foot });
    });
    const labels = this._labels;
    return el("div", null, [el("p", { class: "legend", text: "Rate from " + labels[0] + (/^\d+$/.test(labels[0]) ? " (worst)" : "") + " to " +
      labels[labels.length - 1] + (/^\d+$/.test(labels[0]) ? " (best)" : "") + "." }),
    el("div", { class: "cards" + (this._shown.length <= 2 ? " across" : "") }, cards)]);
  }
  rate(criterion, id, value) {
    if (this.disabled) return;
    this._ratings[criterion][id] = value;
    this.changed();
  }
  refresh() {
    if (!this._groups) return;
    this._groups.forEach((g) => {
      const value = this._ratings[g.criterion][g.id];
      g.buttons.forEach((b) => { checked(b, Number(b.dataset.value) === value); b.disabled = this.disabled; });
    });
  }
  focusedGroup(target) {
    const group = target && target.closest ? target.closest(".rating") : null;
    return this._groups.find((g) => g.group === group) || null;
  }
  keys(event, target) {
    let g = this.focusedGroup(target);
    const n = digit(event);
    if (n !== null && n <= this._labels.length) {
      if (!g) g = this._groups.find((x) => this._ratings[x.criterion][x.id] === undefined) || this._groups[0];
      this.rate(g.criterion, g.id, n);
      g.group.focus();
      return true;
    }
    if ((event.key === "ArrowUp" || event.key === "ArrowDown") && !inBody(target)) {
      PreferenceElement.moveFocus(this._groups.map((x) => x.group), event.key === "ArrowDown" ? 1 : -1);
      return true;
    }
    if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && g) {
      const v = this._ratings[g.criterion][g.id];
      const max = this._labels.length;
      this.rate(g.criterion, g.id, event.key === "ArrowRight" ? (v === undefined ? 1 : Math.min(max, v + 1)) : (v === undefined ? 1 : Math.max(1, v - 1)));
      return true;
    }
    return false;
  }
  keyHelp() {
    return [["1–" + this._labels.length, "rate the focused row (the first unrated one if none)"], ["↑ ↓", "move between rows (response × criterion)"], ["← →", "change the rating"]];
  }
  missing() {
    const gaps = this._groups.filter((g) => this._ratings[g.criterion][g.id] === undefined);
    if (!gaps.length) return null;
    const first = gaps.slice(0, 3).map((g) => {
      const c = this._criteria.find((x) => x.name === g.criterion);
      return letter(this._order.indexOf(g.id)) + (this._criteria.length > 1 ? " (" + c.label + ")" : "");
    });
    return "Rate every response" + (this._criteria.length > 1 ? " on every criterion" : "") + ": " + first.join(", ") + (gaps.length > 3 ? " and " + (gaps.length - 3) + " more" : "") + " not rated yet.";
  }
  judgement() {
    const ratings = {};
    this._criteria.forEach((c) => { ratings[c.name] = Object.assign({}, this._ratings[c.name]); });
    return { scale: { min: 1, max: this._labels.length }, labels: this._labels.slice(), criteria: this._criteria.map((c) => c.name), ratings: ratings };
  }
}

export class HlThumbs extends PreferenceElement {
  get perResponseReason() { return true; }
  reset() { this._thumbs = {}; this._notes = {}; }
  render() {
    const mode = this.reasonMode();
    this._controls = {};
    const cards = this._shown.map((item, p) => {
      const name = "response " + letter(p);
      const up = el("button", { type: "button", class: "opt thumb", "aria-pressed": "false", "aria-label": "Thumbs up for " + name,
        onclick: () => this.set(item.id, "up") }, [keyCap("U"), "✓ Good"]);
      const down = el("button", { type: "button", class: "opt thumb", "aria-pressed": "false", "aria-label": "Thumbs down for " + name,
        onclick: () => this.set(item.id, "down") }, [keyCap("D"), "✗ Bad"]);
      const foot = el("div", { class: "card-foot" }, [up, down]);
      let note = null;
      if (mode) {
        note = el("input", { type: "text", "aria-label": "Reason for " + name + (mode === "required" ? " (required)" : " (optional)"),
          placeholder: this.getAttribute("reason-label") || (mode === "required" ? "Why? (required)" : "Why? (optional)"), style: "flex:1 1 12em;font:inherit;padding:4px 6px;border:1px solid #aab7b8;border-radius:4px" });
        note.addEventListener("input", () => { this._notes[item.id] = note.value; this.showError(""); });
        foot.appendChild(note);
      }
      this._controls[item.id] = { up: up, down: down, note: note };
      return this.card(item, p, { key: true, foot: foot });
    });
    return el("div", { class: "cards" + (this._shown.length <= 3 ? " across" : "") }, cards);
  }
  set(id, value) {
    if (this.disabled) return;
    this._thumbs[id] = value;
    this.changed();
  }
  refresh() {
    if (!this._controls) return;
    Object.keys(this._controls).forEach((id) => {
      const c = this._controls[id];
      c.up.setAttribute("aria-pressed", String(this._thumbs[id] === "up"));
      c.down.setAttribute("aria-pressed", String(this._thumbs[id] === "down"));
      c.up.disabled = c.down.disabled = this.disabled;
    });
  }
  focusedId(target) {
    const card = target && target.closest ? target.closest(".card") : null;
    return card ? card.dataset.id : this._focusId || null;
  }
  keys(event, target) {
    const n = digit(event);
    if (n !== null && n <= this._shown.length) {
      this._focusId = this._shown[n - 1].id;
      const c = this._controls[this._focusId];
      (this._thumbs[this._focusId] === "down" ? c.down : c.up).focus();
      return true;
    }
    const id = this.focusedId(target) || (this._shown[0] && this._shown[0].id);
    const key = event.key.toLowerCase();
    if (id && (key === "u" || key === "d")) { this.set(id, key === "u" ? "up" : "down"); this._controls[id][key === "u" ? "up" : "down"].focus(); return true; }
    if (id && event.key === " " && !(target && target.tagName === "BUTTON")) { this.set(id, this._thumbs[id] === "up" ? "down" : "up"); return true; }
    if ((event.key === "ArrowUp" || event.key === "ArrowDown") && !inBody(target)) {
      const at = this._shown.findIndex((item) => item.id === id);
      const next = this._shown[Math.max(0, Math.min(this._shown.length - 1, at + (event.key === "ArrowDown" ? 1 : -1)))];
      this._focusId = next.id;
      this._controls[next.id].up.focus();
      return true;
    }
    return false;
  }
  keyHelp() {
    return [["1–" + Math.min(9, this._shown.length), "go to the response shown there"], ["U", "thumbs up"], ["D", "thumbs down"],
      ["Space", "toggle up and down"], ["↑ ↓", "move between responses"]];
  }
  missing() {
    const open = this._order.filter((id) => !this._thumbs[id]);
    if (open.length) return "Give every response a thumbs up or down: " + open.map((id) => letter(this._order.indexOf(id))).join(", ") + " not done yet.";
    if (this.reasonMode() === "required") {
      const bare = this._order.filter((id) => !(this._notes[id] || "").trim());
      if (bare.length) return "Give a reason for every response: " + bare.map((id) => letter(this._order.indexOf(id))).join(", ") + " has none.";
    }
    return null;
  }
  judgement() {
    const out = { thumbs: Object.assign({}, this._thumbs) };
    const reasons = {};
    Object.keys(this._notes).forEach((id) => { if (this._notes[id].trim()) reasons[id] = this._notes[id].trim(); });
    if (Object.keys(reasons).length) out.reasons = reasons;
    return out;
  }
}

export class HlResponseEdit extends PreferenceElement {
  static get extraCss() { return ".editor{display:block;width:100%;min-height:12em;font:13px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;padding:8px;border:1px solid #aab7b8;border-radius:4px;margin-top:6px}.edit-label{display:block;margin-top:12px;font-weight:600}"; }
  reset() { this._target = this._shown.length === 1 ? this._shown[0].id : null; this._edits = {}; }
  render() {
    const several = this._shown.length > 1;
    this._options = several ? this._shown.map((item, p) => {
      const b = this.option("Edit " + letter(p), p < 9 ? String(p + 1) : null, "Edit response " + letter(p), () => this.choose(item.id));
      b.dataset.id = item.id;
      return b;
    }) : [];
    this._editor = el("textarea", { class: "editor", "aria-label": "Your improved response", spellcheck: "true" });
    this._editor.addEventListener("input", () => {
      if (this._target !== null) this._edits[this._target] = this._editor.value;
      this.changed();
    });
    this._editLabel = el("label", { class: "edit-label" }, ["Your improved response", this._editor]);
    return el("div", null, [
      el("div", { class: "cards" + (this._shown.length <= 3 ? " across" : "") }, this._shown.map((item, p) => { return this.card(item, p, { key: several }); })),
      several ? el("div", { class: "bar", role: "radiogroup", "aria-label": "Which response will you edit?" }, [el("span", { class: "label", text: "Which response will you edit?" })].concat(this._options)) : null,
      this._editLabel]);
  }
  choose(id) {
    if (this.disabled) return;
    this._target = id;
    if (this._edits[id] === undefined) this._edits[id] = this._byId[id].text;
    this._editor.value = this._edits[id];
    this.changed();
    this._editor.focus();
    this._editor.setSelectionRange(0, 0);  // the text from its start, not its end
    this._editor.scrollTop = 0;
  }
  refresh() {
    if (!this._editor) return;
    this._options.forEach((b) => { checked(b, b.dataset.id === this._target); b.disabled = this.disabled; });
    this._editor.disabled = this._target === null || this.disabled;
    if (this._target !== null && this._edits[this._target] === undefined) {
      this._edits[this._target] = this._byId[this._target].text;
      this._editor.value = this._edits[this._target];
    }
    this._editor.placeholder = this._target === null ? "Choose the response to edit first." : "";
  }
  keys(event) {
    const n = digit(event);
    if (n !== null && this._options.length && n <= this._shown.length) { this.choose(this._shown[n - 1].id); return true; }
    return false;
  }
  keyHelp() {
    const rows = [["Tab", "go to the text box and type"]];
    if (this._options.length) rows.unshift(["1–" + Math.min(9, this._shown.length), "choose the response to edit"]);
    return rows;
  }
  missing() {
    if (!this._shown.length) return null;
    if (this._target === null) return "Choose the response you will edit.";
    const text = this._editor.value;
    if (!text.trim()) return "The improved response is empty.";
    if (text === this._byId[this._target].text && !isTrue(this, "allow-unchanged")) return "Edit the response before you submit: it is unchanged.";
    return null;
  }
  judgement() {
    const text = this._editor ? this._editor.value : "";
    return { responseId: this._target, edited: text, changed: this._target !== null && text !== this._byId[this._target].text };
  }
}
