// Image annotation tools on a canvas over the image: bounding box, polygon, polyline,
// line and keypoint, by mouse or keyboard. Shapes are kept in the image's own pixels.
import { CrowdElement } from "./base.js";
import { colorFor, el, labelPanel, markLabel } from "./dom.js";
import { asList, lenient } from "./literal.js";

export class ImageAnnotator extends CrowdElement {
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

export class CrowdBoundingBox extends ImageAnnotator {}

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

export class CrowdPolygon extends VertexAnnotator { get plural() { return "polygons"; } }
export class CrowdPolyline extends VertexAnnotator {
  get plural() { return "polylines"; }
  get minPoints() { return 2; }
  get closed() { return false; }
}
export class CrowdLine extends VertexAnnotator {
  get plural() { return "lines"; }
  get minPoints() { return 2; }
  get maxPoints() { return 2; }
  get closed() { return false; }
  hint() { return "Click the start and the end of each line."; }
}

export class CrowdKeypoint extends ImageAnnotator {
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
