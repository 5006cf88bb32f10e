// The template editor: as the template or the sample input changes (after a pause), the
// preview frame is rendered again (the Preview button's form post into the sandboxed
// frame) and the problems are listed with their lines; a problem's line is a button that
// puts the cursor there.

const form = document.getElementById("editor");
const content = document.getElementById("content");
const sample = document.getElementById("sample");
const problems = document.getElementById("problems");
const previewButton = document.getElementById("preview-button");
const csrf = document.querySelector('meta[name="csrf-token"]').content;
let timer = null;
let sequence = 0;

function goToLine(textarea, line, column) {
  const lines = textarea.value.split("\n");
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i += 1) {
    offset += lines[i].length + 1;
  }
  offset += Math.max(0, (column || 1) - 1);
  textarea.focus();
  textarea.setSelectionRange(offset, offset);
  const lineHeight = parseFloat(getComputedStyle(textarea).lineHeight) || 18;
  textarea.scrollTop = Math.max(0, (line - 3) * lineHeight);
}

function show(found) {
  problems.replaceChildren();
  if (!found.length) {
    const ok = document.createElement("p");
    ok.className = "muted";
    ok.id = "no-problems";
    ok.textContent = "No problems: the preview shows the template with the sample input.";
    problems.append(ok);
    return;
  }
  const head = document.createElement("p");
  head.className = "error";
  head.textContent = "Problems:";
  const list = document.createElement("ul");
  for (const problem of found) {
    const item = document.createElement("li");
    item.className = "error";
    const where = problem.where === "input" ? "sample input" : "template";
    if (problem.line) {
      const jump = document.createElement("button");
      jump.type = "button";
      jump.className = "link";
      jump.textContent = `${where}, line ${problem.line}${problem.column ? `, column ${problem.column}` : ""}`;
      jump.addEventListener("click", () => {
        goToLine(problem.where === "input" ? sample : content, problem.line, problem.column);
      });
      item.append(jump, `: ${problem.message} (${problem.code})`);
    } else {
      item.textContent = `${where}: ${problem.message} (${problem.code})`;
    }
    list.append(item);
  }
  problems.append(head, list);
}

async function check() {
  const mine = ++sequence;
  let found;
  try {
    const response = await fetch("/console/api/templates/check", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ content: content.value, sample: sample.value }),
    });
    const body = await response.json();
    found = response.ok ? body.problems : [{ code: body.code || "Error", message: body.detail, where: "template" }];
  } catch {
    found = [{ code: "NetworkError", message: "The server could not be reached.", where: "template" }];
  }
  if (mine !== sequence) {
    return; // a newer check is under way
  }
  show(found);
  form.requestSubmit(previewButton);
}

function later() {
  clearTimeout(timer);
  timer = setTimeout(check, 500);
}

content.addEventListener("input", later);
sample.addEventListener("input", later);
check();
