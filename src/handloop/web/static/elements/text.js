// Text tasks: named entities, ranking responses to a prompt, question-answer pairs (and
// Amazon Textract's key-value review, an A2I built-in task type).
import { CrowdElement } from "./base.js";
import { colorFor, el, isTrue, labelPanel, markLabel } from "./dom.js";
import { asList, lenient } from "./literal.js";

export class CrowdEntityAnnotation extends CrowdElement {
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

export class CrowdTextRanking extends CrowdElement {
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

export class CrowdQuestionAnswerGeneration extends CrowdElement {
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
export class CrowdTextractAnalyzeDocument extends CrowdElement {
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
