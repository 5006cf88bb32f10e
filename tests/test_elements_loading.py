"""How the element library loads: ES modules from the frame's head, run once the template
is parsed, so the template's own scripts meet the elements before they are defined."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from handloop.web.frame import element_modules, frame_document
from tests.element_pages import Frames, frames
from tests.support import LiveServer
from tests.task_pages import STATIC

__all__ = ["frames"]
BASE = "http://portal.test/static"


def test_the_frame_loads_the_entry_as_a_module_and_preloads_every_module() -> None:
    template = (
        '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>'
        "<script src='https://assets.crowd.aws/crowd-html-elements-v2.js'></script>"
        "<crowd-form></crowd-form>"
    )
    document = frame_document(template, static_base=BASE)
    scripts = re.findall(r"<script\b[^>]*>", document)
    assert scripts == [
        f'<script type="module" src="{BASE}/crowd-html-elements.js">',
        f'<script src="{BASE}/frame-bridge.js">',
    ]
    on_disk = sorted(f"elements/{p.name}" for p in (STATIC / "elements").glob("*.js"))
    assert list(element_modules()) == on_disk
    preloaded = re.findall(r'<link rel="modulepreload" href="([^"]+)">', document)
    assert preloaded == [f"{BASE}/{path}" for path in on_disk]


def test_every_module_import_names_a_module_that_exists() -> None:
    for module in [STATIC / "crowd-html-elements.js", *(STATIC / "elements").glob("*.js")]:
        for target in re.findall(r'^import [^;]+ from "([^"]+)";', module.read_text(), re.M):
            assert target.startswith("./"), (module.name, target)
            assert (module.parent / target).resolve().is_file(), (module.name, target)


@pytest.mark.abuse
@pytest.mark.timeout(30)
@pytest.mark.parametrize("tag", ["<link ", "<script ", "<script src=x "])
def test_a_page_of_unclosed_tags_is_framed_in_linear_time(tag: str) -> None:
    """A template's Liquid loop can print hundreds of thousands of tags; the frame document
    is built while the server's event loop waits, so it must not take quadratic time (it
    took minutes: a regular expression spanning each tag's attributes)."""
    page = tag * 200_000
    assert page in frame_document(page, static_base=BASE)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(data_dir=Path(tmp_path_factory.mktemp("static")) / "data") as live:
        yield live


def test_the_portal_serves_the_modules_to_the_sandboxed_frame(portal: LiveServer) -> None:
    """The frame's origin is opaque, so module scripts are CORS requests: without the header
    Chromium refuses them and no element is defined."""
    for path in ["crowd-html-elements.js", *element_modules()]:
        response = httpx.get(f"{portal.url}/static/{path}")
        assert response.status_code == 200, path
        assert response.headers["content-type"].split(";")[0] in (
            "text/javascript",
            "application/javascript",
        )
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["cache-control"] == "public, max-age=300"
        assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.browser
def test_properties_a_template_sets_while_parsing_reach_the_elements(frames: Frames) -> None:
    frame = frames.open(
        "<crowd-form><crowd-input name='i'></crowd-input>"
        "<crowd-classifier name='c' categories=\"['old']\"></crowd-classifier>"
        "<crowd-checkbox name='k' value='yes'></crowd-checkbox>"
        "<crowd-slider name='s' min='0' max='10'></crowd-slider>"
        "<crowd-bounding-box name='b' src='/objects/b/i.png' labels=\"['x']\">"
        "</crowd-bounding-box></crowd-form>"
        "<script>window.definedWhileParsing = !!customElements.get('crowd-input');"
        "document.querySelector('crowd-input').value = 'early';"
        "document.querySelector('crowd-classifier').categories = ['p', 'q'];"
        "document.querySelector('crowd-checkbox').checked = true;"
        "document.querySelector('crowd-slider').value = 7;"
        "document.querySelector('crowd-bounding-box').labels = ['y', 'z'];</script>"
    )
    # What this test is about: the script above ran before the library defined anything.
    assert frame.evaluate("window.definedWhileParsing") is False
    assert frame.evaluate("document.querySelector('crowd-bounding-box').labels") == ["y", "z"]
    texts = frame.locator("crowd-bounding-box .label-panel button").all_inner_texts()
    assert [t.split()[-1] for t in texts] == ["y", "z"]
    frame.locator("crowd-classifier").press("2")
    frame.locator("crowd-form button[type=submit]").click()
    answer = frames.answer(frame)
    assert {k: answer[k] for k in "icks"} == {
        "i": "early",
        "c": {"label": "q"},
        "k": {"yes": True},
        "s": 7,
    }


@pytest.mark.browser
def test_dom_content_loaded_sees_built_elements_and_the_ready_event_follows(
    frames: Frames,
) -> None:
    frame = frames.open(
        "<script>window.seen = [];"
        "document.addEventListener('DOMContentLoaded', function () {"
        " var c = document.querySelector('crowd-classifier');"
        " window.seen.push(c.shadowRoot.querySelector('.category-picker') ? 'built' : 'bare');"
        " document.addEventListener('all-crowd-elements-ready', function () {"
        "  window.seen.push('ready'); });"
        "});</script>"
        "<crowd-form><crowd-classifier name='c' categories=\"['A']\"></crowd-classifier>"
        "</crowd-form>"
    )
    assert frame.evaluate("window.seen") == ["built", "ready"]
    assert frame.evaluate("window.__errors") == []


def test_the_library_stays_under_150_kb_as_served() -> None:
    """Every byte of it is sent to each worker's task frame, unminified (no build step)."""
    files = [STATIC / "crowd-html-elements.js", *(STATIC / path for path in element_modules())]
    size = sum(file.stat().st_size for file in files)
    assert 100_000 < size < 150_000, size
