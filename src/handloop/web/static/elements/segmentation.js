// Segmentation tools: a label mask painted with a brush (semantic), or one colour per
// painted instance (instance), answered as a PNG of the image's size.
import { el, PALETTE } from "./dom.js";
import { ImageAnnotator } from "./image.js";

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

export class CrowdSemanticSegmentation extends SegmentationAnnotator {
  get value() {
    var v = super.value, self = this;
    v.labelMappings = {};
    this._labelNames.forEach(function (l) { v.labelMappings[l] = { color: self.labelColor(l) }; });
    return v;
  }
}

export class CrowdInstanceSegmentation extends SegmentationAnnotator {
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
