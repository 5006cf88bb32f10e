// Classifiers: one category or several, of a text or of an image (and Amazon Rekognition's
// moderation-label review, an A2I built-in task type).
import { CrowdElement } from "./base.js";
import { el } from "./dom.js";
import { asList, lenient } from "./literal.js";

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

export class CrowdClassifier extends ClassifierBase {}

export class CrowdClassifierMultiSelect extends ClassifierBase {
  get multi() { return true; }
  exclusion() {
    var ex = lenient(this.getAttribute("exclusion-category"), null);
    return ex === null ? null : categoryText(ex);
  }
}

export class CrowdImageClassifier extends ClassifierBase {
  targetContent() {
    var img = el("img", { src: this.getAttribute("src") || "", alt: this.getAttribute("header") || "Image to classify", part: "image" });
    img.style.maxHeight = "70vh";
    return img;
  }
  get src() { return this.getAttribute("src"); }
  set src(v) { this.setAttribute("src", v); var img = this.shadowRoot.querySelector(".target img"); if (img) img.src = v; }
}

export class CrowdImageClassifierMultiSelect extends CrowdImageClassifier {
  get multi() { return true; }
  exclusion() { return CrowdClassifierMultiSelect.prototype.exclusion.call(this); }
}

// A2I built-in task type: Amazon Rekognition DetectModerationLabels review.
export class CrowdRekognitionDetectModerationLabels extends CrowdImageClassifierMultiSelect {
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
