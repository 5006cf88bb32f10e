"""The conformance run: every distinct corpus template rendered with its sample input,
loaded in a sandboxed frame in headless Chromium, filled, submitted and its answer checked.

`python -m tests.conformance` (or `make conformance`) prints the table and the totals.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handloop.templating import render_template
from tests.chromium import launch
from tests.task_pages import TaskPages, task_pages

CORPUS = Path(__file__).resolve().parent / "conformance"
FILL = (Path(__file__).resolve().parent / "conformance_fill.js").read_text()
# Where the element library's errors come from: its entry and its modules.
OURS = ("/static/crowd-html-elements.js", "/static/elements/")
IMAGE_TOOLS = {
    "crowd-bounding-box": "boundingBoxes",
    "crowd-polygon": "polygons",
    "crowd-line": "lines",
    "crowd-polyline": "polylines",
    "crowd-keypoint": "keypoints",
    "crowd-semantic-segmentation": None,
    "crowd-instance-segmentation": None,
}


@dataclass(frozen=True)
class Template:
    path: str  # "<corpus folder>/<path in it>"
    source: str
    task_input: Any


@dataclass
class Result:
    template: str
    elements: list[str] = field(default_factory=list)
    passed: bool = False
    reason: str = ""
    answer: dict[str, Any] | None = None


def templates() -> list[Template]:
    """The distinct templates (by content); the Ground Truth copy names shared ones."""
    found: dict[str, Template] = {}
    for folder in ("amazon-sagemaker-ground-truth-task-uis", "amazon-a2i-sample-task-uis"):
        inputs = json.loads((CORPUS / folder / "inputs.json").read_text())
        for path in sorted(inputs):
            source = (CORPUS / folder / path).read_text()
            found.setdefault(source, Template(f"{folder}/{path}", source, inputs[path]))
    return sorted(found.values(), key=lambda t: t.path)


# Templates whose own scripts demand more than the generic fill: what a worker would do.
EXTRA_STEPS: dict[str, str] = {
    # Drag-and-drop grouping (the Draggable CDN script is blocked): one image per group.
    "multi-image-classification-draggable": """
        const groups = document.querySelectorAll('.right .StackedList');
        const images = Array.from(document.querySelectorAll('.StackedList img'));
        groups.forEach((g, i) => {
            if (images[i]) g.appendChild(images[i].closest('.draggable') || images[i]);
        });
    """,
}
# The template checks the keypoint count against its labels attribute parsed by string
# slicing, which on its own single-quoted labels yields one label: one keypoint passes.
KEYPOINTS = {"keypoint-additional-answer-validation": 1}
# Custom-label templates: the worker types a label and presses Add before drawing.
CUSTOM_LABELS = """
    const input = document.querySelector('crowd-input#customLabel, crowd-input[name=_customLabel]');
    const add = document.querySelector('crowd-button#addLabel');
    if (input && add) { input.value = 'thing'; add.click(); }
"""


def _ours(error: dict[str, str]) -> bool:
    stack = [line for line in error.get("stack", "").splitlines() if " at " in line]
    top = stack[0] if stack else ""
    return any(ours in error.get("file", "") or ours in top for ours in OURS)


def _wait(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


def _draw(frame: Any, tag: str, index: int, labels: list[str]) -> None:
    """Annotate with the mouse like a worker: one shape (one keypoint per label)."""
    tool = frame.locator(tag).nth(index)
    canvas = tool.locator("canvas.upper-canvas")
    _wait(lambda: bool(canvas.evaluate("c => c.width > 0 && c.height > 0")), 10, f"{tag} image")
    box = canvas.bounding_box()
    assert box is not None
    page = frame.page
    x0, y0 = box["x"], box["y"]
    w, h = box["width"], box["height"]

    def click(fx: float, fy: float) -> None:
        page.mouse.click(x0 + w * fx, y0 + h * fy)

    if tag == "crowd-bounding-box":
        page.mouse.move(x0 + w * 0.2, y0 + h * 0.2)
        page.mouse.down()
        page.mouse.move(x0 + w * 0.5, y0 + h * 0.6, steps=4)
        page.mouse.up()
    elif tag == "crowd-polygon":
        for fx, fy in ((0.2, 0.2), (0.6, 0.25), (0.4, 0.7), (0.2, 0.2)):
            click(fx, fy)
    elif tag == "crowd-line":
        click(0.1, 0.1)
        click(0.8, 0.7)
    elif tag == "crowd-polyline":
        for fx, fy in ((0.1, 0.1), (0.5, 0.3), (0.8, 0.8)):
            click(fx, fy)
        canvas.press("Enter")
    elif tag == "crowd-keypoint":
        for i in range(max(1, len(labels))):
            if i < 9 and labels:
                canvas.press(str(i + 1))
            click(0.1 + 0.8 * (i + 1) / (len(labels) + 1), 0.5)
    else:
        page.mouse.move(x0 + w * 0.3, y0 + h * 0.3)
        page.mouse.down()
        page.mouse.move(x0 + w * 0.6, y0 + h * 0.5, steps=6)
        page.mouse.up()


def _check_shape(el: dict[str, Any], answer: dict[str, Any]) -> str | None:
    tag, name = el["tag"], el["name"]
    if el["nameShared"]:
        return None  # several fields write the same key; the last one wins, as on AWS
    value = answer.get(name) if name else None
    if tag in ("crowd-classifier", "crowd-image-classifier"):
        if not isinstance(value, dict) or set(value) != {"label"}:
            return f"{tag} {name}: {value!r} is not {{label}}"
        if el["categories"] is not None and value["label"] not in el["categories"]:
            return f"{tag} {name}: {value['label']!r} is not a category"
    elif tag.endswith("multi-select"):
        labels = value.get("labels") if isinstance(value, dict) else None
        if not isinstance(labels, list) or not labels:
            return f"{tag} {name}: {value!r} is not {{labels: [...]}}"
    elif tag in ("crowd-input", "crowd-text-area"):
        if value is not None and not isinstance(value, str):
            return f"{tag} {name}: {value!r} is not a string"
    elif tag in ("crowd-checkbox", "crowd-radio-button", "crowd-toggle-button"):
        if not isinstance(value, dict) or not all(isinstance(v, bool) for v in value.values()):
            return f"{tag} {name}: {value!r} is not {{value: bool}}"
    elif tag == "crowd-slider":
        if not isinstance(value, (int, float)):
            return f"{tag} {name}: {value!r} is not a number"
    elif tag == "crowd-entity-annotation":
        value = answer.get(name or "crowd-entity-annotation")
        entities = value.get("entities") if isinstance(value, dict) else None
        if not entities or set(entities[0]) != {"label", "startOffset", "endOffset"}:
            return f"{tag}: {value!r} has no entities"
    elif tag in IMAGE_TOOLS:
        return _check_image_tool(tag, value)
    elif tag == "crowd-text-ranking":
        if not isinstance(value, dict) or not value.get("ranking"):
            return f"{tag}: {value!r} has no ranking"
    elif tag == "crowd-question-answer-generation" and (
        not isinstance(value, dict) or not value.get("questionAnswerPairs")
    ):
        return f"{tag}: {value!r} has no questionAnswerPairs"
    return None


def _check_image_tool(tag: str, value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"{tag}: no answer"
    if value.get("inputImageProperties") != {"height": 240, "width": 320}:
        return f"{tag}: inputImageProperties {value.get('inputImageProperties')!r}"
    key = IMAGE_TOOLS[tag]
    if key is not None:
        shapes = value.get(key)
        if not isinstance(shapes, list) or not shapes:
            return f"{tag}: no {key}"
        wanted = {"label", "left", "top", "width", "height"} if key == "boundingBoxes" else None
        wanted = wanted or ({"label", "x", "y"} if key == "keypoints" else {"label", "vertices"})
        if set(shapes[0]) != wanted:
            return f"{tag}: {key}[0] has keys {sorted(shapes[0])}"
        return None
    data = base64.b64decode(value["labeledImage"]["pngImageData"])
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[16:24] != bytes.fromhex("00000140000000f0"):
        return f"{tag}: labeledImage is not a 320x240 PNG"
    if tag == "crowd-semantic-segmentation" and not value.get("labelMappings"):
        return f"{tag}: no labelMappings"
    if tag == "crowd-instance-segmentation" and not value.get("instances"):
        return f"{tag}: no instances"
    return None


def run_one(browser: TaskBrowser, template: Template) -> Result:
    result = Result(template.path)
    rendered = render_template(
        template.source, template.task_input, grant_read_access=browser.pages.grant
    )
    page = browser.page
    try:
        frame = browser.open(template.path.replace("/", "_"), rendered)
        _wait(lambda: bool(frame.evaluate("window.__ready")), 10, "all-crowd-elements-ready")
        for suffix, steps in EXTRA_STEPS.items():
            if suffix in template.path:
                frame.evaluate(f"() => {{ {steps} }}")
        frame.evaluate(f"() => {{ {CUSTOM_LABELS} }}")
        elements = frame.evaluate(FILL)
        result.elements = sorted({e["tag"] for e in elements if not e["inShadow"]})
        missing = sorted({e["tag"] for e in elements if not e["upgraded"]})
        if missing:
            result.reason = "not defined/upgraded: " + ", ".join(missing)
            return result
        counts: dict[str, int] = {}
        for el in elements:
            if el["tag"] in IMAGE_TOOLS and not el["inShadow"]:
                index = counts.get(el["tag"], 0)
                counts[el["tag"]] = index + 1
                labels = el["labels"] or []
                for suffix, count in KEYPOINTS.items():
                    if suffix in template.path:
                        labels = labels[:count]
                _draw(frame, el["tag"], index, labels)
        result.reason = _submit(frame)
        _wait(lambda: bool(frame.evaluate("window.__answers.length")), 5, "an answer")
        answer = frame.evaluate("window.__answers[0]")
        result.answer = answer
        checked = (_check_shape(e, answer) for e in elements if not e["inShadow"])
        problems = [p for p in checked if p]
        natives = frame.evaluate("window.__nativeNames")
        missing_natives = sorted({n for n in natives if n not in answer})
        if missing_natives:
            problems.append("named native fields missing: " + ", ".join(missing_natives))
        errors = [e for e in frame.evaluate("window.__errors") if _ours(e)]
        if errors:
            problems.append("uncaught error: " + errors[0]["message"])
        result.passed = not problems
        result.reason = "; ".join(problems) or result.reason
    except Exception as exc:  # one template's failure must not stop the run
        result.reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        try:
            state = page.frames[1].evaluate(
                "[window.__errors.map(e => e.message), "
                "Array.from(document.querySelectorAll('crowd-form')).map(f => f.shadowRoot"
                ".querySelector('.banner').textContent)]"
            )
            result.reason += f" (page errors: {state[0][:3]}; form: {state[1]})"
        except Exception:
            pass
        browser.renew()
    return result


def _submit(frame: Any) -> str:
    """Press the page's Submit button; a note when only the keyboard path could submit."""
    explicit = frame.locator('crowd-button[form-action="submit"]')
    if explicit.count() and not explicit.first.evaluate("b => b.disabled"):
        explicit.first.click()
        return ""
    auto = frame.locator("crowd-form button[type=submit]:visible")
    if auto.count():
        auto.first.click()
        return ""
    # What the portal's Ctrl+Enter does.
    frame.evaluate("document.querySelector('crowd-form').submit()")
    return "note: submitted with crowd-form.submit(); the template's own Submit stayed disabled"


class TaskBrowser:
    """One page of a headless Chromium that goes from task page to task page (a new page
    for each would start new renderer processes: twice the time), replaced after a
    failure so that one broken task cannot spoil the next."""

    def __init__(self, context: Any, pages: TaskPages) -> None:
        self.context = context
        self.pages = pages
        self.page = context.new_page()

    def open(self, page_id: str, rendered: str, seed: str | None = None) -> Any:
        """Load ``rendered`` in the sandboxed task frame; return the frame once it exists."""
        page = self.page
        page.goto(self.pages.add(page_id, rendered, seed))
        _wait(lambda: len(page.frames) > 1 and page.frames[1].url.endswith(".html"), 10, "frame")
        return page.frames[1]

    def renew(self) -> None:
        with suppress(Exception):  # a page that is past closing is gone anyway
            self.page.close()
        self.page = self.context.new_page()


@contextmanager
def browser_context() -> Iterator[TaskBrowser]:
    """A TaskBrowser whose Chromium reaches only the task pages' server."""
    from playwright.sync_api import sync_playwright

    with task_pages() as pages, sync_playwright() as pw:
        browser = launch(pw, offline=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            yield TaskBrowser(context, pages)
        finally:
            browser.close()


def main() -> int:
    results = []
    with browser_context() as browser:
        for template in templates():
            results.append(run_one(browser, template))
    width = max(len(r.template) for r in results)
    print(f"{'template':<{width}}  {'result':<6}  elements / reason")
    for r in results:
        status = "pass" if r.passed else "FAIL"
        detail = ", ".join(r.elements) + (f"  [{r.reason}]" if r.reason else "")
        print(f"{r.template:<{width}}  {status:<6}  {detail}")
    passed = sum(r.passed for r in results)
    print(f"\n{passed} of {len(results)} templates pass, {len(results) - passed} fail")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
