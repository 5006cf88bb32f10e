// Comparing responses: pick the best (hl-comparison-choice), rank them all
// (hl-comparison-rank), or place two on a five-point scale (hl-comparison-likert).
import { el, isTrue } from "./dom.js";
import { lenient } from "./literal.js";
import { PreferenceElement, checked, digit, inBody, keyCap, letter } from "./preference.js";

function names(ids, self) {
  const letters = ids.map((id) => letter(self._order.indexOf(id))).sort();
  return letters.length === 1 ? letters[0] : letters.slice(0, -1).join(", ") + " and " + letters[letters.length - 1];
}

export const STRENGTHS = ["Negligibly better / unsure", "Slightly better", "Better", "Significantly better"];

export class HlComparisonChoice extends PreferenceElement {
  reset() { this._outcome = null; this._chosen = null; this._strength = null; }
  render() {
    const two = this._shown.length === 2;
    this._cards = el("div", { class: "cards" + (this._shown.length <= 3 ? " across" : "") },
      this._shown.map((item, p) => { return this.card(item, p, { key: true }); }));
    this._options = this._shown.map((item, p) => {
      const text = letter(p) + (two ? " is better" : " is best");
      const button = this.option(text, p < 9 ? String(p + 1) : null, "Response " + text, () => this.pick("chosen", item.id));
      button.dataset.outcome = "chosen:" + item.id;
      return button;
    });
    if (isTrue(this, "allow-tie")) this._options.push(this.tagged(this.option("Tie", "T", "Tie: equally good", () => this.pick("tie")), "tie"));
    if (isTrue(this, "allow-both-bad")) this._options.push(this.tagged(this.option("Both are bad", "B", two ? "Both are bad" : "All are bad", () => this.pick("both-bad")), "both-bad"));
    const parts = [this._cards, el("div", { class: "bar", role: "radiogroup", "aria-label": "Which response is better?" },
      [el("span", { class: "label", text: two ? "Which is better?" : "Which is best?" })].concat(this._options))];
    this._strengths = null;
    if (isTrue(this, "strength")) {
      this._strengthLabel = el("span", { class: "label", text: "How much better?" });
      this._strengths = STRENGTHS.map((text, value) => { return this.option(text, null, text, () => this.setStrength(value)); });
      parts.push(el("div", { class: "bar", role: "radiogroup", "aria-label": "How much better is it?" },
        [this._strengthLabel].concat(this._strengths, [keyCap("↑↓")])));
    }
    return el("div", null, parts);
  }
  tagged(button, outcome) { button.dataset.outcome = outcome; return button; }
  current() { return this._outcome === "chosen" ? "chosen:" + this._chosen : this._outcome; }
  pick(outcome, id) {
    if (this.disabled) return;
    this._outcome = outcome;
    this._chosen = outcome === "chosen" ? id : null;
    if (outcome !== "chosen") this._strength = null;
    this.changed();
  }
  setStrength(value) {
    if (this.disabled || this._outcome !== "chosen") return;
    this._strength = value;
    this.changed();
  }
  refresh() {
    if (!this._options) return;
    const current = this.current();
    this._options.forEach((b) => { checked(b, b.dataset.outcome === current); b.disabled = this.disabled; });
    Array.from(this._cards.children).forEach((card) => {
      card.classList.toggle("picked", this._outcome === "chosen" && card.dataset.id === this._chosen);
    });
    if (this._strengths) {
      const chosen = this._outcome === "chosen";
      this._strengthLabel.textContent = chosen ? "How much better is " + letter(this._order.indexOf(this._chosen)) + "?" : "How much better? (choose a response first)";
      this._strengths.forEach((b, v) => { b.disabled = !chosen || this.disabled; checked(b, this._strength === v); });
    }
  }
  keys(event, target) {
    const n = digit(event);
    const key = event.key.toLowerCase();
    if (n !== null && n <= this._shown.length) { this.pick("chosen", this._shown[n - 1].id); return true; }
    if (key === "t" && isTrue(this, "allow-tie")) { this.pick("tie"); return true; }
    if (key === "b" && isTrue(this, "allow-both-bad")) { this.pick("both-bad"); return true; }
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      const at = this._options.findIndex((b) => b.dataset.outcome === this.current());
      const step = event.key === "ArrowRight" ? 1 : -1;
      const next = this._options[at < 0 ? (step > 0 ? 0 : this._options.length - 1) : (at + step + this._options.length) % this._options.length];
      next.click();
      next.focus();
      return true;
    }
    if ((event.key === "ArrowUp" || event.key === "ArrowDown") && this._strengths && this._outcome === "chosen" && !inBody(target)) {
      const s = this._strength;
      this.setStrength(event.key === "ArrowUp" ? (s === null ? 0 : Math.min(3, s + 1)) : (s === null ? 0 : Math.max(0, s - 1)));
      return true;
    }
    return false;
  }
  keyHelp() {
    const rows = [["1–" + Math.min(9, this._shown.length), "choose the response shown there (A, B, …)"], ["← →", "move the choice"]];
    if (isTrue(this, "allow-tie")) rows.push(["T", "tie"]);
    if (isTrue(this, "allow-both-bad")) rows.push(["B", "both are bad"]);
    if (this._strengths) rows.push(["↑ ↓", "how much better"]);
    return rows;
  }
  missing() {
    if (this._shown.length < 2) return "This comparison needs two or more responses; tell the requester.";
    if (!this._outcome) {
      const extra = [isTrue(this, "allow-tie") ? "Tie" : null, isTrue(this, "allow-both-bad") ? "Both are bad" : null].filter(Boolean);
      return "Choose the better response (keys 1–" + Math.min(9, this._shown.length) + ")" + (extra.length ? ", or " + extra.join(" or ") : "") + ".";
    }
    if (this._strengths && this._outcome === "chosen" && this._strength === null) {
      return "Say how much better response " + letter(this._order.indexOf(this._chosen)) + " is.";
    }
    return null;
  }
  judgement() {
    const out = { outcome: this._outcome, chosen: this._chosen };
    if (this._strengths && this._outcome === "chosen" && this._strength !== null) out.strength = { value: this._strength, label: STRENGTHS[this._strength] };
    return out;
  }
}

export class HlComparisonRank extends PreferenceElement {
  static get extraCss() {
    return ".rows{display:flex;flex-direction:column;gap:10px}.row{border-radius:8px;outline-offset:2px}" +
      ".row.grabbed .card{border-color:#d97706;box-shadow:0 0 0 2px #d97706}.row.over-before{box-shadow:0 -3px 0 #0b5cad}.row.over-after{box-shadow:0 3px 0 #0b5cad}" +
      ".card-head[draggable=true]{cursor:grab}.grip{color:#879596;letter-spacing:-2px}.ranked{font-weight:600;color:#0b5cad}.summary{margin:10px 0 0}" +
      ".card.dup{border-color:#b3261e}";
  }
  get allowTies() { return isTrue(this, "allow-ties"); }
  reset() {
    this._ranks = {};
    this._order.forEach((id) => { this._ranks[id] = null; });
    this._history = [];
    this._tieNext = false;
    this._rowOrder = this._order.slice();
    this._grabbed = null;
  }
  render() {
    const n = this._shown.length;
    this._rowsBox = el("div", { class: "rows", role: "list", "aria-label": "Responses to rank, 1 is best" });
    this._rows = {};
    this._shown.forEach((item, p) => {
      const buttons = [];
      for (let r = 1; r <= n; r++) {
        const b = this.option(String(r), null, "Rank " + r + (r === 1 ? " (best)" : r === n ? " (worst)" : "") + " for response " + letter(p),
          () => this.setRank(item.id, r));
        b.dataset.rank = String(r);
        buttons.push(b);
      }
      const group = el("div", { class: "card-foot", role: "radiogroup", "aria-label": "Rank of response " + letter(p) },
        [el("span", { class: "label", text: "Rank" })].concat(buttons));
      const card = this.card(item, p, { key: true, foot: group });
      const head = card.querySelector(".card-head");
      head.setAttribute("draggable", "true");
      head.insertBefore(el("span", { class: "grip", "aria-hidden": "true", text: "⋮⋮" }), head.firstChild);
      head.appendChild(el("span", { class: "ranked", "aria-live": "polite" }));
      const row = el("div", { class: "row", role: "listitem", tabindex: "0", "data-id": item.id,
        "aria-label": "Response " + letter(p) + " (Space: move, ← →: rank)" }, [card]);
      this.dragging(row, head, item.id);
      this._rows[item.id] = { row: row, buttons: buttons, card: card, label: head.querySelector(".ranked") };
      this._rowsBox.appendChild(row);
    });
    this._summary = el("p", { class: "summary", "aria-live": "polite" });
    const parts = [this._rowsBox, this._summary];
    if (this.allowTies) {
      this._tieButton = el("button", { type: "button", class: "opt", "aria-pressed": "false", onclick: () => { this._tieNext = !this._tieNext; this.refresh(); } },
        [keyCap("="), "Tie the next pick with the last"]);
      parts.push(el("div", { class: "bar" }, [this._tieButton]));
    }
    return el("div", null, parts);
  }
  dragging(row, handle, id) {
    handle.addEventListener("dragstart", (event) => {
      this._dragged = id;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", "response " + id);
    });
    handle.addEventListener("dragend", () => { this._dragged = null; this.clearOver(); });
    row.addEventListener("dragover", (event) => {
      if (this._dragged === null || this._dragged === undefined) return;
      event.preventDefault();
      this.clearOver();
      row.classList.add(this.after(row, event) ? "over-after" : "over-before");
    });
    row.addEventListener("drop", (event) => {
      if (this._dragged === null || this._dragged === undefined) return;
      event.preventDefault();
      const after = this.after(row, event);
      const moved = this._dragged;
      this._dragged = null;
      this.clearOver();
      if (moved === id) return;
      const order = this._rowOrder.filter((x) => x !== moved);
      order.splice(order.indexOf(id) + (after ? 1 : 0), 0, moved);
      this.followRows(order);
    });
  }
  after(row, event) { const box = row.getBoundingClientRect(); return event.clientY > box.top + box.height / 2; }
  clearOver() { Object.values(this._rows).forEach((r) => { r.row.classList.remove("over-before", "over-after"); }); }
  // Rows put in an order: ranks follow it, 1 at the top.
  followRows(order) {
    this._rowOrder = order;
    order.forEach((id, i) => { this._ranks[id] = i + 1; this._rowsBox.appendChild(this._rows[id].row); });
    this._history = [];
    this.changed();
  }
  setRank(id, rank) {
    if (this.disabled) return;
    this._ranks[id] = rank;
    this._history = this._history.filter((x) => x !== id);
    this.changed();
  }
  // Picking best first: the next pick gets the next free rank (or the last pick's rank).
  pickNext(id) {
    if (this._ranks[id] !== null) {
      this._ranks[id] = null;
      this._history = this._history.filter((x) => x !== id);
    } else {
      const last = this._history[this._history.length - 1];
      const ranked = Object.values(this._ranks).filter((r) => r !== null).length;
      this._ranks[id] = this._tieNext && last !== undefined && this._ranks[last] !== null ? this._ranks[last] : ranked + 1;
      this._history.push(id);
    }
    this._tieNext = false;
    this.changed();
  }
  refresh() {
    if (!this._rows) return;
    const dup = this.duplicates();
    Object.keys(this._rows).forEach((id) => {
      const r = this._rows[id];
      const rank = this._ranks[id];
      r.buttons.forEach((b) => { checked(b, Number(b.dataset.rank) === rank); b.disabled = this.disabled; });
      r.label.textContent = rank === null ? "not ranked" : "ranked " + rank;
      r.row.classList.toggle("grabbed", this._grabbed === id);
      r.card.classList.toggle("dup", dup.indexOf(id) >= 0);
    });
    const ranked = this._order.filter((id) => this._ranks[id] !== null)
      .sort((a, b) => this._ranks[a] - this._ranks[b]);
    this._summary.textContent = ranked.length
      ? "Your ranking: " + ranked.map((id) => this._ranks[id] + ". " + letter(this._order.indexOf(id))).join("  ") +
        (ranked.length < this._order.length ? "  (" + (this._order.length - ranked.length) + " left)" : "")
      : "Press the keys best first, click ranks, or drag rows into order (top is best).";
    if (this._tieButton) this._tieButton.setAttribute("aria-pressed", String(this._tieNext));
  }
  duplicates() {
    if (this.allowTies) return [];
    const seen = {};
    Object.keys(this._ranks).forEach((id) => { const r = this._ranks[id]; if (r !== null) (seen[r] = seen[r] || []).push(id); });
    return [].concat.apply([], Object.values(seen).filter((ids) => ids.length > 1));
  }
  keys(event, target) {
    const n = digit(event);
    const rowNode = target && target.classList && target.classList.contains("row") ? target : null;
    const focused = rowNode ? rowNode.dataset.id : null;
    if (n !== null && n <= this._shown.length) { this.pickNext(this._shown[n - 1].id); return true; }
    if (event.key === "=" && this.allowTies) { this._tieNext = !this._tieNext; this.refresh(); return true; }
    if (event.key === "Backspace" && this._history.length) {
      const last = this._history.pop();
      this._ranks[last] = null;
      this.changed();
      return true;
    }
    if (event.key === " " && focused) { this._grabbed = this._grabbed === focused ? null : focused; this.refresh(); return true; }
    if ((event.key === "ArrowUp" || event.key === "ArrowDown") && !inBody(target)) {
      const step = event.key === "ArrowDown" ? 1 : -1;
      if (this._grabbed) {
        const order = this._rowOrder.slice();
        const at = order.indexOf(this._grabbed);
        const to = Math.max(0, Math.min(order.length - 1, at + step));
        order.splice(at, 1);
        order.splice(to, 0, this._grabbed);
        const grabbed = this._rows[this._grabbed].row;
        this.followRows(order);
        grabbed.focus();
      } else {
        PreferenceElement.moveFocus(this._rowOrder.map((id) => this._rows[id].row), step);
      }
      return true;
    }
    if ((event.key === "ArrowLeft" || event.key === "ArrowRight") && focused) {
      const r = this._ranks[focused];
      const n2 = this._shown.length;
      this.setRank(focused, event.key === "ArrowLeft" ? (r === null ? 1 : Math.max(1, r - 1)) : (r === null ? 1 : Math.min(n2, r + 1)));
      return true;
    }
    return false;
  }
  keyHelp() {
    const rows = [["1–" + Math.min(9, this._shown.length), "pick responses best first (again: take it out)"], ["Backspace", "take back the last pick"],
      ["↑ ↓", "move between responses"], ["← →", "change its rank"], ["Space", "pick it up or put it down; ↑ ↓ move it"]];
    if (this.allowTies) rows.splice(1, 0, ["=", "tie the next pick with the last"]);
    return rows;
  }
  missing() {
    if (this._shown.length < 2) return "This ranking needs two or more responses; tell the requester.";
    const unranked = this._order.filter((id) => this._ranks[id] === null);
    if (unranked.length) return "Rank every response: " + names(unranked, this) + (unranked.length === 1 ? " has" : " have") + " no rank yet.";
    const dup = this.duplicates();
    if (dup.length) {
      const rank = this._ranks[dup[0]];
      const same = dup.filter((id) => this._ranks[id] === rank);
      return "Rank " + rank + " is given to " + names(same, this) + ": give each response its own rank.";
    }
    return null;
  }
  judgement() { return { ranks: Object.assign({}, this._ranks), allowTies: this.allowTies }; }
}

export class HlComparisonLikert extends PreferenceElement {
  labels() {
    const own = lenient(this.getAttribute("labels"), null);
    if (Array.isArray(own) && own.length === 5) return own.map(String);
    const a = letter(0), b = letter(1);
    return [a + " is much better", a + " is slightly better", "About the same", b + " is slightly better", b + " is much better"];
  }
  reset() { this._point = null; }
  render() {
    this._points = this.labels().map((text, v) => { return this.option(text, String(v + 1), text, () => this.setPoint(v)); });
    return el("div", null, [
      el("div", { class: "cards across" }, this._shown.map((item, p) => { return this.card(item, p, {}); })),
      el("div", { class: "bar scale wide", style: "--points:5", role: "radiogroup", "aria-label": "Which response is better, and by how much?" }, this._points)]);
  }
  setPoint(v) { if (this.disabled) return; this._point = v; this.changed(); }
  refresh() {
    if (!this._points) return;
    this._points.forEach((b, v) => { checked(b, this._point === v); b.disabled = this.disabled; });
  }
  keys(event) {
    const n = digit(event);
    if (n !== null && n <= 5) { this.setPoint(n - 1); return true; }
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      const p = this._point;
      this.setPoint(event.key === "ArrowRight" ? (p === null ? 2 : Math.min(4, p + 1)) : (p === null ? 2 : Math.max(0, p - 1)));
      this._points[this._point].focus();
      return true;
    }
    return false;
  }
  keyHelp() { return [["1–5", "choose the point on the scale"], ["← →", "move along the scale"]]; }
  missing() {
    if (this._shown.length !== 2) return "This comparison needs exactly two responses (it has " + this._shown.length + "); tell the requester.";
    if (this._point === null) return "Choose a point on the scale (keys 1–5).";
    return null;
  }
  judgement() {
    const p = this._point;
    if (p === null) return { preferred: null, margin: null, label: null };
    return { preferred: p === 2 ? null : this._order[p < 2 ? 0 : 1], margin: Math.abs(p - 2), label: this.labels()[p] };
  }
}
