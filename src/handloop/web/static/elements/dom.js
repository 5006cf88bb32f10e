// What every element draws with: a small DOM builder, the shared look (one constructed
// style sheet per CSS text, adopted by each shadow root) and the label colours.

export function el(tag, attrs, children) {
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

export function isTrue(node, name) {
  if (!node.hasAttribute(name)) return false;
  var v = node.getAttribute(name).trim().toLowerCase();
  return v !== "false" && v !== "0";
}

export const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#db2777",
  "#65a30d", "#ea580c", "#4f46e5", "#0d9488", "#b91c1c", "#7c3aed", "#ca8a04", "#0369a1"];
export function colorFor(index) { return PALETTE[index % PALETTE.length]; }

export const BASE_CSS = [
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

const sheets = {};
export function sheet(css) {
  if (!sheets[css]) {
    var s = new CSSStyleSheet();
    s.replaceSync(css);
    sheets[css] = s;
  }
  return sheets[css];
}

// The label list of the annotation tools (entities, shapes): number keys pick a label.
export function labelPanel(self, labels, title) {
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

export function markLabel(self) {
  if (!self._labelList) return;
  Array.prototype.forEach.call(self._labelList.children, function (b, i) { b.setAttribute("aria-checked", String(i === self._labelIndex)); });
}
