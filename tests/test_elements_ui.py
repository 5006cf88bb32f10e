"""UI-only elements, attribute literals, and the list of defined elements."""

from __future__ import annotations

from typing import Any

import pytest

from tests.element_pages import Frames, frames

__all__ = ["frames"]
pytestmark = pytest.mark.browser

DOCUMENTED = [
    "crowd-form", "crowd-button", "crowd-icon-button", "crowd-fab", "crowd-alert", "crowd-badge",
    "crowd-card", "crowd-modal", "crowd-tabs", "crowd-tab", "crowd-toast", "crowd-instructions",
    "crowd-input", "crowd-text-area", "crowd-checkbox", "crowd-radio-group", "crowd-radio-button",
    "crowd-slider", "crowd-slider-label", "crowd-toggle-button", "crowd-classifier",
    "crowd-classifier-multi-select", "crowd-image-classifier",
    "crowd-image-classifier-multi-select", "crowd-entity-annotation", "crowd-bounding-box",
    "crowd-polygon", "crowd-line", "crowd-polyline", "crowd-keypoint",
    "crowd-semantic-segmentation", "crowd-instance-segmentation", "crowd-text-ranking",
    "crowd-question-answer-generation",
]  # fmt: skip

LITERALS: list[tuple[str, Any]] = [
    ('["a", "b"]', ["a", "b"]),
    ("['a', 'b']", ["a", "b"]),
    ("{ text: 'None' }", {"text": "None"}),
    ("[{label: 'x', n: 2,}, ]", [{"label": "x", "n": 2}]),
    ("{'a': [1, -2.5, true, false, null]}", {"a": [1, -2.5, True, False, None]}),
    ("['it\\'s', \"q\\\"\"]", ["it's", 'q"']),
    ("[\n  // a comment\n  'x'\n]", ["x"]),
    ("plain words", "plain words"),
    ("", None),
]


@pytest.fixture(scope="module")
def frame(frames: Frames) -> Any:
    return frames.open(
        "<crowd-alert type='error' dismissible>Careful</crowd-alert>"
        "<crowd-badge label='3'></crowd-badge><crowd-card heading='Card'>body</crowd-card>"
        "<crowd-modal link-text='Open' title='M'>inside</crowd-modal>"
        "<crowd-tabs><crowd-tab header='One'>first</crowd-tab>"
        "<crowd-tab header='Two'>second</crowd-tab></crowd-tabs>"
        "<crowd-toast text='Saved' duration='0'></crowd-toast>"
        "<crowd-instructions link-text='How'><short-summary>s</short-summary>"
        "<detailed-instructions>d</detailed-instructions><positive-example>p</positive-example>"
        "<negative-example>n</negative-example></crowd-instructions>"
        "<crowd-icon-button icon='close'></crowd-icon-button><crowd-fab label='+'></crowd-fab>"
    )


def test_every_documented_element_is_defined(frame: Any) -> None:
    defined = frame.evaluate("tags => tags.filter(t => customElements.get(t))", DOCUMENTED)
    assert defined == DOCUMENTED


@pytest.mark.parametrize(("text", "want"), LITERALS)
def test_lenient_attribute_literals(frame: Any, text: str, want: Any) -> None:
    assert frame.evaluate("t => window.handloopCrowd.lenient(t, null)", text) == want


def test_alert_dismisses(frame: Any) -> None:
    frame.locator("crowd-alert button[aria-label=Dismiss]").click()
    assert frame.evaluate("document.querySelector('crowd-alert').hidden") is True


def test_tabs_switch(frame: Any) -> None:
    assert frame.locator("crowd-tab[header=Two]").is_hidden()
    frame.locator("crowd-tabs button[role=tab] >> text=Two").click()
    assert frame.locator("crowd-tab[header=Two]").is_visible()
    assert frame.locator("crowd-tab[header=One]").is_hidden()


def test_modal_and_instructions_open_and_close(frame: Any) -> None:
    frame.locator("crowd-modal button >> text=Open").click()
    assert frame.locator("crowd-modal dialog").is_visible()
    frame.locator("crowd-modal dialog button >> text=Close").click()
    assert frame.locator("crowd-modal dialog").is_hidden()
    frame.locator("crowd-instructions button >> text=How").click()
    assert frame.locator("crowd-instructions dialog").is_visible()
    assert frame.locator("positive-example").is_visible()
    frame.locator("crowd-instructions dialog button >> text=Close").click()


def test_toast_badge_card(frame: Any) -> None:
    frame.evaluate("document.querySelector('crowd-toast').show()")
    assert frame.locator("crowd-toast div[role=status]").inner_text() == "Saved"
    assert frame.locator("crowd-badge span").inner_text() == "3"
    assert frame.locator("crowd-card .heading").inner_text() == "Card"
