"""The requester console in headless Chromium: every page passes axe-core with no serious
or critical violation; the overview updates live from the stream; the template editor
previews as one types and lists problems by line; an answer shows filled in, read-only."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console_pages import AXE, AXE_SHA256, Seeded, pages, run_axe, seed, settle, sign_in
from tests.console_support import start_loops
from tests.support import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    base: Path = tmp_path_factory.mktemp("console-browser")
    with LiveServer(data_dir=base / "data") as server:
        made = seed(server)
        try:
            yield made
        finally:
            made.receiver.close()


@pytest.fixture(scope="module")
def page(browser: Any, seeded: Seeded) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    yield tab
    context.close()


def signed_in(page: Any, seeded: Seeded) -> Any:
    """The page, signed in as the requester (each test may run alone, or after others)."""
    page.goto(f"{seeded.server.url}/console")
    if "/console/signin" in page.url:
        sign_in(page, seeded.server, seeded.requester)
    return page


def test_the_vendored_axe_core_is_the_published_file() -> None:
    assert hashlib.sha256(AXE.read_bytes()).hexdigest() == AXE_SHA256


def test_every_console_page_passes_axe_core(page: Any, seeded: Seeded) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    all_pages = pages(seeded)
    name, path = all_pages[0]
    page.goto(f"{seeded.server.url}{path}")
    settle(page, name)
    found[name] = run_axe(page)
    sign_in(page, seeded.server, seeded.requester)
    for name, path in all_pages[1:]:
        page.goto(f"{seeded.server.url}{path}")
        settle(page, name)
        found[name] = run_axe(page)
    serious = {
        name: [v for v in violations if v["impact"] in ("serious", "critical")]
        for name, violations in found.items()
    }
    assert not any(serious.values()), serious
    assert len(found) == len(all_pages)


def test_the_overview_updates_live(page: Any, seeded: Seeded) -> None:
    page.goto(f"{seeded.server.url}/console")
    settle(page, "overview")
    card = f'li.flow[data-flow="{seeded.flow}"]'
    before = int(page.text_content(f'{card} [data-count="InProgress"]').replace(",", ""))
    flow_arn = seeded.server.client("sagemaker").describe_flow_definition(
        FlowDefinitionName=seeded.flow
    )["FlowDefinitionArn"]
    start_loops(seeded.server, flow_arn, ["reviews-live-1", "reviews-live-2"])
    page.wait_for_function(
        f"""() => Number(document.querySelector('{card} [data-count="InProgress"]')
            .textContent.replace(/,/g, '')) === {before + 2}""",
        timeout=20_000,
    )
    label = page.get_attribute(f"{card} svg.progress", "aria-label")
    assert f"InProgress {before + 2}" in label
    assert "Live: updated" in page.text_content("#live-note")


def test_the_editor_previews_and_points_at_problems(page: Any, seeded: Seeded) -> None:
    signed_in(page, seeded)
    page.goto(f"{seeded.server.url}/console/templates/new")
    settle(page, "editor")
    frame = page.frame_locator("#preview-frame")
    frame.locator("text=Is this sentence well written?").wait_for(timeout=15_000)
    page.fill("#content", "<p>{{ task.input.text }}</p>\n<p>\n{% for x in y %}\n")
    page.wait_for_selector("#problems li", timeout=15_000)
    problem = page.text_content("#problems li")
    assert "template, line 3" in problem and "TemplateSyntaxError" in problem
    page.click("#problems li button")
    caret = page.evaluate("document.getElementById('content').selectionStart")
    assert caret == len("<p>{{ task.input.text }}</p>\n<p>\n")
    page.fill("#content", "<p>Hello {{ task.input.text }}</p>")
    page.wait_for_selector("#no-problems", timeout=15_000)
    frame.locator("text=Hello Is this sentence well written?").wait_for(timeout=15_000)


def test_an_answer_is_shown_filled_in_and_read_only(page: Any, seeded: Seeded) -> None:
    signed_in(page, seeded)
    page.goto(f"{seeded.server.url}/console/loops/{seeded.completed_loop}")
    page.wait_for_load_state("load")
    frame = page.frame_locator("iframe[src$='frame?answer=0']")
    field = frame.locator("crowd-input[name=label]")
    field.wait_for(timeout=15_000)
    page.wait_for_function(
        """() => {
            const f = document.querySelector("iframe[src$='frame?answer=0']");
            return f !== null;
        }"""
    )
    value = frame.locator("html[data-console-readonly]")
    value.wait_for(timeout=15_000)
    assert frame.locator("crowd-input[name=label]").evaluate("e => e.value").startswith("answer")
    assert frame.locator("crowd-input[name=label]").evaluate("e => e.hasAttribute('disabled')")


def test_the_accessibility_check_finds_what_it_should(page: Any) -> None:
    """The check is live: a page with an unlabelled field and an image without text fails."""
    page.set_content("<html><body><img src='x.png'><input type=text></body></html>")
    found = {v["id"]: v["impact"] for v in run_axe(page)}
    assert found["image-alt"] == "critical" and found["label"] == "critical"
