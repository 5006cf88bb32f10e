"""crowd-form's hand-off: validation, onsubmit semantics, submit(), and page behaviours
templates rely on (ready event, run-time labels, blocked CDNs, no navigation)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handloop.templating import render_template
from tests.element_pages import Frames, frames, wait_for
from tests.task_pages import STATIC

__all__ = ["frames"]
pytestmark = pytest.mark.browser


def banner(frame: object) -> str:
    return str(
        frame.evaluate(  # type: ignore[attr-defined]
            "document.querySelector('crowd-form').shadowRoot.querySelector('.banner').innerText"
        )
    )


def test_required_fields_block_submit_and_show_errors(frames: Frames) -> None:
    frame = frames.open(
        "<crowd-form><crowd-input name='a' label='Your answer' required></crowd-input>"
        "<select name='s' required><option value=''>-</option><option>x</option></select>"
        "<crowd-classifier name='c' categories=\"['A']\"></crowd-classifier></crowd-form>"
    )
    frame.locator("crowd-form button[type=submit]").click()
    assert "This field is required (Your answer)" in banner(frame)
    assert "Choose a category" in banner(frame)
    assert frames.answers(frame) == []
    frame.locator("crowd-input input").fill("ok")
    frame.locator("crowd-classifier").press("1")
    frame.evaluate("document.querySelector('crowd-form').submit()")
    assert "(s)" in banner(frame)
    assert frames.answers(frame) == []
    frame.locator("select").select_option("x")
    frame.evaluate("document.querySelector('crowd-form').submit()")
    assert frames.answer(frame) == {"a": "ok", "s": "x", "c": {"label": "A"}}


def test_onsubmit_can_cancel_and_change_hidden_inputs(frames: Frames) -> None:
    frame = frames.open(
        "<crowd-form><input type='hidden' name='h' value='before'>"
        "<crowd-input name='a' value='x'></crowd-input></crowd-form>"
        "<script>var n = 0; document.querySelector('crowd-form').onsubmit = function (e) {"
        " n++; if (n === 1) { e.preventDefault(); return; }"
        " document.querySelector('[name=h]').value = 'after ' + n; };</script>"
    )
    frame.locator("crowd-form button[type=submit]").click()
    assert frame.evaluate("n") == 1
    assert frames.answers(frame) == []
    frame.locator("crowd-form button[type=submit]").click()
    assert frames.answer(frame) == {"h": "after 2", "a": "x"}


def test_explicit_submit_button_replaces_the_automatic_one(frames: Frames) -> None:
    frame = frames.open(
        "<crowd-form><crowd-input name='a' value='v'></crowd-input>"
        "<crowd-button form-action='submit' variant='primary'>Send</crowd-button></crowd-form>"
    )
    assert frame.locator("crowd-form button[type=submit]:visible").count() == 0
    frame.locator("crowd-button").click()
    assert frames.answer(frame) == {"a": "v"}


def test_submit_never_navigates(frames: Frames) -> None:
    frame = frames.open(
        "<crowd-form><form action='https://example.com/steal' method='post'>"
        "<input name='q' value='1'><button id='native'>Go</button></form></crowd-form>"
    )
    url = frame.url
    frame.locator("#native").click()
    frame.locator("crowd-form button[type=submit]").click()
    assert frames.answer(frame) == {"q": "1"}
    assert frame.url == url


def test_ready_event_runtime_labels_and_change_events(frames: Frames) -> None:
    frame = frames.open(
        "<crowd-form><crowd-classifier name='c' categories=\"['old']\"></crowd-classifier>"
        "<crowd-bounding-box name='b' src='/objects/b/i.png' labels=\"['x']\">"
        "</crowd-bounding-box></crowd-form>"
        "<script>window.readyCount = 0; window.changes = [];"
        "document.addEventListener('all-crowd-elements-ready', function () {"
        " window.readyCount++;"
        " window.pickerFound = !!document.querySelector('crowd-classifier').shadowRoot"
        "   .querySelector('.annotation-area .category-picker-wrapper');"
        " var c = document.querySelector('crowd-classifier'); c.categories = ['new1', 'new2'];"
        " c.addEventListener('change', function (e) { window.changes.push(e.target.value); });"
        " document.querySelector('crowd-bounding-box').labels = ['p', 'q'];"
        "});</script>"
    )
    assert frame.evaluate("[window.readyCount, window.pickerFound]") == [1, True]
    frame.locator("crowd-classifier").press("2")
    assert frame.evaluate("window.changes") == ["new2"]
    assert frame.evaluate("document.querySelector('crowd-bounding-box').labels") == ["p", "q"]
    texts = frame.locator("crowd-bounding-box .label-panel button").all_inner_texts()
    assert [t.split()[-1] for t in texts] == ["p", "q"]


def test_blocked_cdn_scripts_do_not_break_the_elements(frames: Frames) -> None:
    frame = frames.open(
        "<script src='https://code.jquery.com/jquery-3.6.0.min.js'></script>"
        "<crowd-form><crowd-classifier name='c' categories=\"['A']\"></crowd-classifier>"
        "</crowd-form><script>$(function () {});</script>"
    )
    frame.locator("crowd-classifier").press("1")
    frame.locator("crowd-form button[type=submit]").click()
    assert frames.answer(frame) == {"c": {"label": "A"}}
    errors = frame.evaluate("window.__errors.map(e => e.message)")
    assert errors == ["Uncaught ReferenceError: $ is not defined"]


def test_rendered_xss_payloads_stay_inert(frames: Frames) -> None:
    payload = (
        "<script>window.__xss=1</script><img src=x onerror=window.__xss=2>"
        "\"' onmouseover=window.__xss=3 </textarea></script><svg onload=window.__xss=4>"
    )
    source = (
        "<crowd-form><p>{{ task.input.v }}</p><div title='{{ task.input.v }}'>hover me</div>"
        '<crowd-input name="i" value="{{ task.input.v }}"></crowd-input>'
        "<textarea name='t'>{{ task.input.v }}</textarea>"
        "<script>window.copy = {{ task.input.v | to_json }};</script>"
        "<crowd-classifier name='c' categories='{{ task.input.list | to_json | escape }}'>"
        "</crowd-classifier></crowd-form>"
    )
    frame = frames.open(render_template(source, {"v": payload, "list": [payload]}))
    frame.locator("div[title]").hover()
    assert frame.evaluate("window.__xss") is None
    assert frame.evaluate("window.copy") == payload
    assert frame.evaluate("document.querySelector('crowd-input').value") == payload
    frame.locator("crowd-classifier").press("1")
    frame.locator("crowd-form button[type=submit]").click()
    answer = frames.answer(frame)
    assert answer["c"] == {"label": payload}
    assert answer["t"] == payload
    assert frame.evaluate("window.__xss") is None


def test_entity_annotation_submits_without_a_crowd_form(frames: Frames) -> None:
    frame = frames.open(
        "<crowd-entity-annotation name='ner' text='Alice met Bob in Paris.' "
        "labels=\"[{'label': 'person', 'shortDisplayName': 'per', 'fullDisplayName': 'Person'},"
        " {'label': 'place', 'shortDisplayName': 'pla', 'fullDisplayName': 'Place'}]\">"
        "<crowd-radio-group><crowd-radio-button name='news' value='news'>News"
        "</crowd-radio-button></crowd-radio-group></crowd-entity-annotation>"
    )
    text = frame.locator("crowd-entity-annotation .text")
    box = text.bounding_box()
    assert box is not None
    # Select "Alice" with the mouse (a drag over the first word), label 1 is current.
    frame.evaluate(
        """() => {
        const host = document.querySelector('crowd-entity-annotation');
        const node = host.shadowRoot.querySelector('.text').firstChild;
        const r = document.createRange(); r.setStart(node, 0); r.setEnd(node, 5);
        const sel = host.shadowRoot.getSelection(); sel.removeAllRanges(); sel.addRange(r);
        host.shadowRoot.querySelector('.text').dispatchEvent(new MouseEvent('mouseup'));
    }"""
    )
    text.press("2")  # label hotkey: the next selection becomes a place
    frame.evaluate(
        """() => {
        const host = document.querySelector('crowd-entity-annotation');
        const nodes = Array.from(host.shadowRoot.querySelector('.text').childNodes);
        const node = nodes[nodes.length - 1];
        const start = node.data.indexOf('Paris');
        const r = document.createRange(); r.setStart(node, start); r.setEnd(node, start + 5);
        host.applySelection(r);
    }"""
    )
    text.press("Control+z")
    frame.evaluate(
        """() => {
        const host = document.querySelector('crowd-entity-annotation');
        const nodes = Array.from(host.shadowRoot.querySelector('.text').childNodes);
        const node = nodes[nodes.length - 1];
        const start = node.data.indexOf('Bob');
        const r = document.createRange(); r.setStart(node, start); r.setEnd(node, start + 3);
        host.applySelection(r);
    }"""
    )
    frame.locator("crowd-entity-annotation crowd-radio-button input").click()
    wait_for(lambda: frame.locator("crowd-entity-annotation button[type=submit]").count(), "submit")
    frame.locator("crowd-entity-annotation button[type=submit]").click()
    assert frames.answer(frame) == {
        "ner": {
            "entities": [
                {"label": "person", "startOffset": 0, "endOffset": 5},
                {"label": "place", "startOffset": 10, "endOffset": 13},
            ]
        },
        "news": {"news": True},
    }


def test_entity_annotation_with_the_keyboard_only(frames: Frames) -> None:
    frame = frames.open(
        "<crowd-form><crowd-entity-annotation name='e' text='New York is big' "
        "labels=\"['place', 'size']\"></crowd-entity-annotation></crowd-form>"
    )
    text = frame.locator("crowd-entity-annotation .text")
    text.focus()
    for key in ("ArrowRight", "Shift+ArrowRight", "Enter", "2"):
        text.press(key)
    for key in ("ArrowRight", "ArrowRight", "ArrowRight", "Enter"):
        text.press(key)
    frame.locator("crowd-form button[type=submit]:visible").click()
    assert frames.answer(frame) == {
        "e": {
            "entities": [
                {"label": "place", "startOffset": 0, "endOffset": 8},
                {"label": "size", "startOffset": 12, "endOffset": 15},
            ]
        }
    }


def test_portal_submit_message_reaches_a_standalone_entity_annotation(frames: Frames) -> None:
    frame = frames.open(
        "<crowd-entity-annotation name='e' text='Hi there' labels=\"['x']\">"
        "</crowd-entity-annotation>"
    )
    frame.evaluate(
        """() => {
        const host = document.querySelector('crowd-entity-annotation');
        const node = host.shadowRoot.querySelector('.text').firstChild;
        const r = document.createRange(); r.setStart(node, 3); r.setEnd(node, 8);
        host.applySelection(r);
    }"""
    )
    frame.page.evaluate(
        "document.querySelector('iframe').contentWindow.postMessage({type: 'handloop:submit'}, '*')"
    )
    entity = {"label": "x", "startOffset": 3, "endOffset": 8}
    assert frames.answer(frame) == {"e": {"entities": [entity]}}


def test_library_size_and_no_storage_use() -> None:
    modules = [STATIC / "crowd-html-elements.js", *sorted((STATIC / "elements").glob("*.js"))]
    assert len(modules) > 1
    script = "".join(module.read_text() for module in modules)
    assert len(script.encode()) < 150_000
    apis = ["localStorage", "sessionStorage", "document.cookie", "indexedDB"]
    apis += ["fetch(", "XMLHttpRequest", "import("]
    for api in apis:
        assert api not in script, api
    assert Path(STATIC / "crowd-html-elements.css").is_file()
