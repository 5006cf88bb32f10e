"""Each element's answer shape, driven by mouse and keyboard in the sandboxed frame."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.element_pages import Frames, frames

__all__ = ["frames"]

Step = Callable[[Any], None]


def click(selector: str) -> Step:
    return lambda frame: frame.locator(selector).first.click()


def fill(selector: str, text: str) -> Step:
    return lambda frame: frame.locator(selector).first.fill(text)


def press(selector: str, key: str) -> Step:
    return lambda frame: frame.locator(selector).first.press(key)


def select(selector: str, value: str) -> Step:
    return lambda frame: frame.locator(selector).first.select_option(value)


def submit(frame: Any) -> None:
    frame.locator("crowd-form button[type=submit]").first.click()


@dataclass(frozen=True)
class Case:
    name: str
    html: str
    steps: list[Step] = field(default_factory=list)
    want: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case(
        "classifier with JS-literal categories and a hotkey",
        "<crowd-form><crowd-classifier name='x' categories=\"['Cat', 'Dog']\" header='Pet?'>"
        "<classification-target>a pet</classification-target></crowd-classifier></crowd-form>",
        [press("crowd-classifier", "2")],
        {"x": {"label": "Dog"}},
    ),
    Case(
        "classifier by click",
        "<crowd-form><crowd-classifier name='x' categories='[\"A\", \"B\"]'></crowd-classifier>"
        "</crowd-form>",
        [click("crowd-classifier .category-picker button >> nth=0")],
        {"x": {"label": "A"}},
    ),
    Case(
        "multi-select with exclusion category written as a JS object",
        "<crowd-form><crowd-classifier-multi-select name='m' categories=\"['A','B','C']\" "
        "exclusion-category=\"{ text: 'None of these' }\"></crowd-classifier-multi-select>"
        "</crowd-form>",
        [
            click("crowd-classifier-multi-select .category-picker button >> nth=0"),
            click("crowd-classifier-multi-select .category-picker button >> nth=2"),
        ],
        {"m": {"labels": ["A", "C"]}},
    ),
    Case(
        "exclusion category clears the others",
        "<crowd-form><crowd-classifier-multi-select name='m' categories=\"['A','B']\" "
        "exclusion-category=\"{ text: 'None' }\"></crowd-classifier-multi-select></crowd-form>",
        [press("crowd-classifier-multi-select", "1"), press("crowd-classifier-multi-select", "3")],
        {"m": {"labels": ["None"]}},
    ),
    Case(
        "image classifier",
        "<crowd-form><crowd-image-classifier name='i' src='/objects/b/k.png' "
        "categories=\"['Day','Night']\"></crowd-image-classifier></crowd-form>",
        [press("crowd-image-classifier", "1")],
        {"i": {"label": "Day"}},
    ),
    Case(
        "image multi-select",
        "<crowd-form><crowd-image-classifier-multi-select name='i' src='/objects/b/k.png' "
        "categories=\"['Tree','Sky']\"></crowd-image-classifier-multi-select></crowd-form>",
        [press("crowd-image-classifier-multi-select", "2")],
        {"i": {"labels": ["Sky"]}},
    ),
    Case(
        "input and text area give strings and are left out when empty",
        "<crowd-form><crowd-input name='a' label='A'></crowd-input>"
        "<crowd-input name='empty' label='E'></crowd-input>"
        "<crowd-text-area name='t' label='T'></crowd-text-area></crowd-form>",
        [
            fill("crowd-input[name=a] input", "hello"),
            fill("crowd-text-area textarea", "line1\nline2"),
        ],
        {"a": "hello", "t": "line1\nline2"},
    ),
    Case(
        "checkboxes sharing a name merge",
        "<crowd-form><crowd-checkbox name='attrs' value='blurry'>Blurry</crowd-checkbox>"
        "<crowd-checkbox name='attrs' value='dim' checked>Dim</crowd-checkbox>"
        "<crowd-checkbox name='ok'>OK</crowd-checkbox></crowd-form>",
        [click("crowd-checkbox[value=blurry] input"), click("crowd-checkbox[value=dim] input")],
        {"attrs": {"blurry": True, "dim": False}, "ok": {"on": False}},
    ),
    Case(
        "radio buttons give one flag each",
        "<crowd-form><crowd-radio-group><crowd-radio-button name='yes' value='yes'>Yes"
        "</crowd-radio-button><crowd-radio-button name='no' value='no'>No</crowd-radio-button>"
        "</crowd-radio-group></crowd-form>",
        [click("crowd-radio-button[name=yes] input"), click("crowd-radio-button[name=no] input")],
        {"yes": {"yes": False}, "no": {"no": True}},
    ),
    Case(
        "toggle button value defaults to on",
        "<crowd-form><crowd-toggle-button name='flag'></crowd-toggle-button></crowd-form>",
        [click("crowd-toggle-button button")],
        {"flag": {"on": True}},
    ),
    Case(
        "slider gives a number",
        "<crowd-form><crowd-slider name='s' min='0' max='10' value='5'>"
        "<crowd-slider-label position='0'>low</crowd-slider-label></crowd-slider></crowd-form>",
        [press("crowd-slider input[type=range]", "ArrowRight")],
        {"s": 6},
    ),
    Case(
        "the notebook's ranking template: named native selects",
        "<crowd-form>"
        + "".join(
            f"<select name='response_{i}_ranking'><option value=''>-</option>"
            "<option>1</option><option>2</option><option>3</option></select>"
            for i in (1, 2, 3)
        )
        + "</crowd-form>",
        [select(f"select[name=response_{i}_ranking]", str(i)) for i in (1, 2, 3)],
        {"response_1_ranking": "1", "response_2_ranking": "2", "response_3_ranking": "3"},
    ),
    Case(
        "native inputs, checkboxes and radios",
        "<crowd-form><input name='note' value='n'><input type='checkbox' name='c'>"
        "<input type='radio' name='r' value='a'><input type='radio' name='r' value='b'>"
        "<textarea name='ta'>x</textarea><input type='button' name='b' value='ignored'>"
        "</crowd-form>",
        [click("input[type=checkbox]"), click("input[value=b]")],
        {"note": "n", "c": {"on": True}, "r": {"a": False, "b": True}, "ta": "x"},
    ),
    Case(
        "text ranking",
        "<crowd-form><crowd-text-ranking name='tr' text='Prompt' responses='[\"a\", \"b\"]' "
        'ordinal-ranking-dimensions=\'[{"name":"Clarity","allowTie":true}]\'>'
        "</crowd-text-ranking></crowd-form>",
        [
            select("crowd-text-ranking select >> nth=0", "2"),
            select("crowd-text-ranking select >> nth=1", "1"),
        ],
        {"tr": {"ranking": [{"dimension": "Clarity", "ranks": [2, 1]}]}},
    ),
    Case(
        "question answer generation",
        "<crowd-form><crowd-question-answer-generation name='qa' text='The sky is blue.' "
        "min-questions=1 question-tags='[\"What\"]'></crowd-question-answer-generation>"
        "</crowd-form>",
        [
            fill("crowd-question-answer-generation .pair input >> nth=0", "What colour is it"),
            fill("crowd-question-answer-generation .pair textarea", "Blue"),
            select("crowd-question-answer-generation .pair select", "What"),
        ],
        {
            "qa": {
                "questionAnswerPairs": [
                    {
                        "question": "What colour is it",
                        "answer": "Blue",
                        "questionTag": "What",
                        "references": [],
                    }
                ]
            }
        },
    ),
]


@pytest.mark.browser
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_answer_shape(frames: Frames, case: Case) -> None:
    frame = frames.open(case.html)
    for step in case.steps:
        step(frame)
    submit(frame)
    assert frames.answer(frame) == case.want
