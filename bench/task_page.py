"""The task page in Chromium: bytes the page itself loads (without the task's frame) and
the time until it is interactive, on localhost; then the task's frame: the time from its
request until its crowd elements are ready (`all-crowd-elements-ready`), for a one-field
form and for an LLM comparison (hl-conversation and hl-comparison-choice over two
Markdown answers with code, rendered on the server), against the 300 ms target.
Usage: python bench/task_page.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
from tests.chromium import launch  # HANDLOOP_TEST_CHROMIUM, else Debian's chromium

from workers import PASSWORD, free_port, make_flow_with_loops, prepare, serve

TEMPLATE = "<crowd-form><input name='label'></crowd-form>"
PREFERENCE = """<crowd-form>
<hl-conversation messages='{{ task.input.messages | to_json }}'></hl-conversation>
<hl-comparison-choice name="preference" responses='{{ task.input.responses | to_json }}'
  allow-tie allow-both-bad strength reason></hl-comparison-choice>
</crowd-form>"""
ANSWER = (
    "Here is a **merge sort** in Python:\n\n```python\ndef merge_sort(items):\n"
    "    if len(items) <= 1:\n        return items\n    middle = len(items) // 2\n"
    "    left, right = merge_sort(items[:middle]), merge_sort(items[middle:])\n"
    "    return merge(left, right)\n```\n\n| case | time |\n|---|---|\n"
    "| best | O(n log n) |\n| worst | O(n log n) |\n\n"
)
PREFERENCE_INPUT = {
    "messages": [
        {"role": "system", "content": "You are a careful programming tutor."},
        {"role": "user", "content": "Show me merge sort and its complexity."},
    ],
    "responses": [ANSWER * 4, ANSWER.replace("merge sort", "*merge sort*") * 3],
}
TARGET_MS = 300.0
MEASURE = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const own = performance.getEntriesByType("resource").filter(e => e.initiatorType !== "iframe");
  return {
    interactive: nav.domInteractive,
    load: nav.loadEventEnd,
    bytes: nav.decodedBodySize + own.reduce((sum, e) => sum + e.decodedBodySize, 0),
  };
}"""
# Runs in every frame before its own scripts: when the element library says it is ready, on
# the frame's own clock (0 is the frame's navigation start).
READY_PROBE = """document.addEventListener("all-crowd-elements-ready", () => {
  window.__elementsReady = performance.now();
});"""
FRAME_READY = "() => window.__elementsReady || null"


def frame_ready(page: Any) -> float:
    """Milliseconds from the task frame's request until its elements were ready."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        frames = page.frames
        if len(frames) > 1:
            ready = frames[1].evaluate(FRAME_READY)
            if ready is not None:
                return float(ready)
        time.sleep(0.01)
    raise TimeoutError("the task frame's elements never became ready")


def measure(runs: int, template: str, task_input: dict[str, Any] | None) -> dict[str, list[float]]:
    """Page figures and frame readiness over ``runs`` task pages of one flow."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        key = prepare(data_dir, None, 1)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = serve(data_dir, None, port)
        try:
            make_flow_with_loops(url, key, "page", runs, template, task_input)
            with sync_playwright() as p:
                browser = launch(p)
                page = browser.new_page()
                page.add_init_script(READY_PROBE)
                page.goto(f"{url}/signin")
                page.fill("input[name=email]", "bench000@example.com")
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_selector("text=Start working")
                interactive: list[float] = []
                loaded: list[float] = []
                sizes: list[int] = []
                ready: list[float] = []
                for _ in range(runs):
                    page.goto(f"{url}/")
                    page.click("text=Start working")
                    page.wait_for_url("**/tasks/*")
                    page.wait_for_load_state("load")
                    # The page's own timeline: the frame's document and what it loads are not
                    # the page's (the frame shows as one "iframe" entry, left out here).
                    figures = page.evaluate(MEASURE)
                    interactive.append(figures["interactive"])
                    loaded.append(figures["load"])
                    sizes.append(figures["bytes"])
                    ready.append(frame_ready(page))
                    page.click("#release")
                    page.wait_for_url(f"{url}/")
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
    return {"interactive": interactive, "loaded": loaded, "sizes": sizes, "ready": ready}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    plain = measure(args.runs, TEMPLATE, None)
    compare = measure(args.runs, PREFERENCE, PREFERENCE_INPUT)
    interactive, loaded, sizes = plain["interactive"], plain["loaded"], plain["sizes"]
    print("handloop bench/task_page.py: the task page without its frame, Chromium, localhost")
    print(
        f"runs {args.runs}: page bytes p50 {statistics.median(sizes):.0f} (max {max(sizes)}); "
        f"interactive p50 {statistics.median(interactive):.1f} ms "
        f"(max {max(interactive):.1f}); load p50 {statistics.median(loaded):.1f} ms"
    )
    for label, figures in (("a one-field form", plain), ("an LLM comparison", compare)):
        ready = figures["ready"]
        p50 = statistics.median(ready)
        print(
            f"task frame, {label}: elements ready p50 {p50:.1f} ms (max {max(ready):.1f}) "
            f"after the frame's request; p50 / {TARGET_MS:.0f} ms target = {p50 / TARGET_MS:.2f}"
        )


if __name__ == "__main__":
    main()
