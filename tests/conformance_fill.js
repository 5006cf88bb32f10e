// Runs inside a task frame: lists the crowd elements, then fills what a worker would fill
// (everything except the image tools, which are driven with the mouse from Python).
(() => {
  const crowd = [];
  const scan = (root) => {
    root.querySelectorAll("*").forEach((node) => {
      if (node.tagName.startsWith("CROWD-")) {
        crowd.push(node);
        if (node.shadowRoot) scan(node.shadowRoot);
      }
    });
  };
  scan(document);
  const text = "sample answer text";
  const fire = (node, type) => node.dispatchEvent(new Event(type, { bubbles: true }));
  const fillNative = (node) => {
    const type = (node.getAttribute("type") || "text").toLowerCase();
    if (node.disabled || ["hidden", "submit", "button", "reset", "file", "image"].includes(type)) return;
    if (node.tagName === "SELECT") {
      const option = Array.from(node.options).find((o) => o.value && !o.disabled);
      if (option && !node.value) { node.value = option.value; fire(node, "change"); }
      return;
    }
    if (type === "checkbox") { if (node.required) { node.checked = true; fire(node, "change"); } return; }
    if (type === "radio") {
      const group = node.form ? [] : Array.from(document.getElementsByName(node.name));
      if (!group.some((r) => r.checked)) { node.checked = true; fire(node, "change"); }
      return;
    }
    if (node.value) return;
    const samples = { number: "3", date: "2024-01-02", email: "worker@example.com", url: "https://example.com/",
      time: "10:30", range: node.value, color: "#336699", "datetime-local": "2024-01-02T10:30", tel: "5550100" };
    node.value = node.max || node.min || (samples[type] !== undefined ? samples[type] : text);
    fire(node, "input");
    fire(node, "change");
  };
  for (const node of crowd) {
    const tag = node.tagName.toLowerCase();
    const sr = node.shadowRoot;
    if (tag === "crowd-classifier" || tag === "crowd-image-classifier" || tag.endsWith("multi-select") ||
        tag === "crowd-rekognition-detect-moderation-labels") {
      const first = sr && sr.querySelector(".category-picker button");
      if (first && !node.value?.length) first.click();
    } else if (tag === "crowd-input" || tag === "crowd-text-area") {
      if (!node.value && node.getAttribute("type") !== "hidden") {
        const type = node.getAttribute("type");
        node.value = type === "number" ? "3" : type === "date" ? "2024-01-02" : text;
      }
    } else if (tag === "crowd-radio-button") {
      const siblings = node.siblings();
      if (!siblings.some((b) => b.checked)) node.select();
    } else if (tag === "crowd-checkbox" || tag === "crowd-toggle-button") {
      if (node.required && !node.checked) node.toggle();
    } else if (tag === "crowd-slider") {
      node.value = Number(node.getAttribute("max") || 100) > 2 ? 2 : 1;
    } else if (tag === "crowd-entity-annotation") {
      const box = sr.querySelector(".text");
      const textNode = Array.from(box.childNodes).find((n) => n.nodeType === 3 && /\w/.test(n.data));
      if (textNode) {
        const match = /\w+/.exec(textNode.data);
        const range = document.createRange();
        range.setStart(textNode, match.index);
        range.setEnd(textNode, match.index + match[0].length);
        node.applySelection(range);
      }
    } else if (tag === "crowd-text-ranking") {
      sr.querySelectorAll("tbody tr").forEach((row, i) => {
        row.querySelectorAll("select").forEach((select) => { select.value = String(i + 1); fire(select, "change"); });
      });
    } else if (tag === "crowd-question-answer-generation") {
      sr.querySelectorAll(".pair").forEach((pair) => {
        const q = pair.querySelector("input"), a = pair.querySelector("textarea"), tagSelect = pair.querySelector("select");
        q.value = "What does the passage describe"; fire(q, "input");
        a.value = "It describes a sample"; fire(a, "input");
        if (tagSelect.options.length > 1) { tagSelect.value = tagSelect.options[1].value; fire(tagSelect, "change"); }
      });
    }
  }
  document.querySelectorAll("input, select, textarea").forEach(fillNative);
  const nativeNames = Array.from(document.querySelectorAll("input[name], select[name], textarea[name]")).map((n) => n.name);
  const crowdNames = crowd.filter((n) => n.getRootNode() === document).map((n) => n.getAttribute("name")).filter(Boolean);
  const shared = new Set(crowdNames.filter((n, i) => crowdNames.indexOf(n) !== i || nativeNames.includes(n)));
  window.__nativeNames = Array.from(document.querySelectorAll(
    "crowd-form input[name], crowd-form select[name], crowd-form textarea[name]"))
    .filter((n) => !n.disabled && !["submit", "button", "reset", "image", "file"].includes((n.type || "").toLowerCase()))
    .map((n) => n.name);
  return crowd.map((node) => ({
    nameShared: shared.has(node.getAttribute("name")) && !["CROWD-RADIO-BUTTON", "CROWD-CHECKBOX", "CROWD-TOGGLE-BUTTON"].includes(node.tagName),
    tag: node.tagName.toLowerCase(),
    name: node.getAttribute("name"),
    upgraded: !!customElements.get(node.tagName.toLowerCase()) && node.constructor !== HTMLElement,
    inShadow: node.getRootNode() !== document,
    labels: node.labels && !(node.labels instanceof NodeList) ? Array.from(node.labels) : null,
    categories: node.categories ? node.categories.map((c) => (typeof c === "object" ? (c.text || c.label || c.name) : String(c))) : null,
  }));
})()
