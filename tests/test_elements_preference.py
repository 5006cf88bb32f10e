"""The preference elements in Chromium: each completed by mouse and by keyboard only, their
validation, answers that name responses by id, the per-task order, and inert Markdown."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from handloop.templating import render_template
from tests.element_pages import SCRIPT, Frames, frames, wait_for

__all__ = ["frames"]
pytestmark = pytest.mark.browser

_pages = itertools.count()
MARKDOWN = "Use **`sorted`**:\n\n```python\nprint(sorted([3, 1, 2]))\n```\n\n- one\n- two"
RESPONSES = [MARKDOWN, "Plain answer about *lists*.", "A third answer."]
OBJECTS = [{"id": "gpt", "text": "From gpt."}, {"id": "llama", "content": "From llama."}]


def page(frames: Frames, body: str, task_input: Any, seed: str | None = None) -> Any:
    """A task frame with ``body`` (Liquid, inside a crowd-form) rendered with ``task_input``."""
    html = render_template(f"<crowd-form>{body}</crowd-form>", task_input)
    frame = frames.browser.open(f"pref{next(_pages)}.html", SCRIPT + html, seed)
    wait_for(lambda: frame.evaluate("window.__ready"), "all-crowd-elements-ready")
    return frame


def shown(frame: Any, tag: str) -> list[str]:
    """The response ids of ``tag``'s boxes, in the order they are on screen."""
    ids: list[str] = frame.evaluate(
        """tag => Array.from(
               document.querySelector(tag).shadowRoot.querySelectorAll('section.card'))
             .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top
                          || a.getBoundingClientRect().left - b.getBoundingClientRect().left)
             .map(c => c.dataset.id)""",
        tag,
    )
    return ids


def submit(frame: Any) -> None:
    # A form that just sent an answer holds the next one back for 3 s (a double click);
    # these tests submit several answers on one page in a row.
    frame.evaluate(
        "(f => { f._sending = false; f.submit(); })(document.querySelector('crowd-form'))"
    )


def banner(frame: Any) -> str:
    text: str = frame.evaluate(
        "document.querySelector('crowd-form').shadowRoot.querySelector('.banner').innerText"
    )
    return text


def keys(frame: Any, *presses: str) -> None:
    """Keys pressed in the task frame with nothing focused (no click anywhere)."""
    frame.evaluate("document.activeElement && document.activeElement.blur(); window.focus()")
    for key in presses:
        frame.page.keyboard.press(key)


def answer_of(frames: Frames, frame: Any, name: str) -> dict[str, Any]:
    before = len(frames.answers(frame))
    submit(frame)
    wait_for(lambda: len(frames.answers(frame)) > before, "a new answer")
    value: dict[str, Any] = frames.answers(frame)[-1][name]
    return value


CHOICE = (
    "<hl-comparison-choice name='pick' responses='{{ task.input.r | to_json }}' "
    "allow-tie allow-both-bad strength></hl-comparison-choice>"
)


def test_choice_by_mouse_names_the_response_id(frames: Frames) -> None:
    frame = page(frames, CHOICE, {"r": OBJECTS})
    order = shown(frame, "hl-comparison-choice")
    assert sorted(order) == ["gpt", "llama"]
    frame.locator("hl-comparison-choice .opt[data-outcome='chosen:llama']").click()
    frame.locator("hl-comparison-choice .opt", has_text="Significantly better").click()
    value = answer_of(frames, frame, "pick")
    assert value == {
        "kind": "comparison-choice",
        "shownOrder": order,
        "outcome": "chosen",
        "chosen": "llama",
        "strength": {"value": 3, "label": "Significantly better"},
    }


def test_choice_by_keyboard_only(frames: Frames) -> None:
    frame = page(frames, CHOICE, {"r": RESPONSES[:2]})
    order = shown(frame, "hl-comparison-choice")
    keys(frame, "2", "ArrowUp", "ArrowUp")
    value = answer_of(frames, frame, "pick")
    assert value["chosen"] == order[1]  # the digit is the place on screen; the answer, the id
    assert value["strength"]["value"] == 1
    keys(frame, "t")
    assert (
        json.loads(
            json.dumps(frame.evaluate("document.querySelector('hl-comparison-choice').value"))
        )["outcome"]
        == "tie"
    )
    keys(frame, "b")
    value = answer_of(frames, frame, "pick")
    assert (value["outcome"], value["chosen"], "strength" in value) == ("both-bad", None, False)


def test_choice_validation_and_required_reason(frames: Frames) -> None:
    body = CHOICE.replace("strength", "strength reason='required'")
    frame = page(frames, body, {"r": RESPONSES[:2]})
    submit(frame)
    assert "Choose the better response" in banner(frame)
    keys(frame, "1")
    submit(frame)
    assert "Say how much better response A is." in banner(frame)
    keys(frame, "ArrowUp")
    submit(frame)
    assert "Give a reason for your answer." in banner(frame)
    assert frames.answers(frame) == []
    frame.locator("hl-comparison-choice textarea").fill("clearer code")
    assert answer_of(frames, frame, "pick")["reason"] == "clearer code"


RANK = (
    "<hl-comparison-rank name='rank' responses='{{ task.input.r | to_json }}'"
    "{{ task.input.ties }}></hl-comparison-rank>"
)


def test_rank_by_keyboard_picks_best_first(frames: Frames) -> None:
    frame = page(frames, RANK, {"r": RESPONSES, "ties": ""})
    order = shown(frame, "hl-comparison-rank")
    keys(frame, "3", "1")
    submit(frame)
    assert "Rank every response: B has no rank yet." in banner(frame)
    keys(frame, "1", "1", "Backspace", "2", "1")  # take A out, put it back
    value = answer_of(frames, frame, "rank")
    assert value["ranks"] == {order[2]: 1, order[1]: 2, order[0]: 3}
    assert value["allowTies"] is False


def test_rank_by_mouse_refuses_a_rank_given_twice(frames: Frames) -> None:
    frame = page(frames, RANK, {"r": RESPONSES, "ties": ""})
    order = shown(frame, "hl-comparison-rank")
    for position, rank in ((0, 1), (1, 1), (2, 3)):
        frame.locator(
            f"hl-comparison-rank .row[data-id='{order[position]}'] .opt[data-rank='{rank}']"
        ).click()
    submit(frame)
    assert "Rank 1 is given to A and B: give each response its own rank." in banner(frame)
    frame.locator(f"hl-comparison-rank .row[data-id='{order[1]}'] .opt[data-rank='2']").click()
    assert answer_of(frames, frame, "rank")["ranks"] == {order[0]: 1, order[1]: 2, order[2]: 3}


def test_rank_with_ties_and_by_dragging(frames: Frames) -> None:
    frame = page(frames, RANK, {"r": RESPONSES, "ties": " allow-ties"})
    order = shown(frame, "hl-comparison-rank")
    keys(frame, "2", "=", "3", "1")
    assert frame.evaluate("document.querySelector('hl-comparison-rank').value.ranks") == {
        order[1]: 1,
        order[2]: 1,
        order[0]: 3,
    }
    # Drag C's header above A: the rows' order becomes C, A, B and the ranks follow it.
    handle = f"hl-comparison-rank .row[data-id='{order[2]}'] .card-head"
    target = f"hl-comparison-rank .row[data-id='{order[0]}']"
    frame.locator(handle).drag_to(frame.locator(target), target_position={"x": 40, "y": 4})
    value = answer_of(frames, frame, "rank")
    assert value["ranks"] == {order[2]: 1, order[0]: 2, order[1]: 3}
    assert value["allowTies"] is True


def test_rank_rows_move_with_space_and_arrows(frames: Frames) -> None:
    frame = page(frames, RANK, {"r": RESPONSES, "ties": ""})
    order = shown(frame, "hl-comparison-rank")
    row = frame.locator(f"hl-comparison-rank .row[data-id='{order[2]}']")
    row.focus()
    for key in (" ", "ArrowUp", "ArrowUp", " "):
        frame.page.keyboard.press(key)
    assert shown(frame, "hl-comparison-rank") == [order[2], order[0], order[1]]
    frame.locator(f"hl-comparison-rank .row[data-id='{order[1]}']").focus()
    frame.page.keyboard.press("ArrowLeft")  # 3 -> 2: now a rank given twice
    submit(frame)
    assert "Rank 2 is given to A and B" in banner(frame)


LIKERT = (
    "<hl-comparison-likert name='cl' responses='{{ task.input.r | to_json }}'>"
    "</hl-comparison-likert>"
)


def test_comparison_likert_by_keyboard_and_mouse(frames: Frames) -> None:
    frame = page(frames, LIKERT, {"r": OBJECTS})
    left, right = shown(frame, "hl-comparison-likert")
    submit(frame)
    assert "Choose a point on the scale (keys 1–5)." in banner(frame)
    keys(frame, "1")
    value = answer_of(frames, frame, "cl")
    assert (value["preferred"], value["margin"], value["label"]) == (left, 2, "A is much better")
    keys(frame, "ArrowRight", "ArrowRight")
    assert frame.evaluate("document.querySelector('hl-comparison-likert').value.preferred") is None
    frame.locator("hl-comparison-likert .opt", has_text="B is slightly better").click()
    value = answer_of(frames, frame, "cl")
    assert (value["preferred"], value["margin"]) == (right, 1)


def test_comparison_likert_needs_exactly_two(frames: Frames) -> None:
    frame = page(frames, LIKERT, {"r": RESPONSES})
    keys(frame, "3")
    submit(frame)
    assert "needs exactly two responses (it has 3)" in banner(frame)


RATINGS = (
    "<hl-likert name='lk' responses='{{ task.input.r | to_json }}' "
    """criteria='["helpfulness", {"name": "harmless", "label": "Harmlessness"}]'></hl-likert>"""
)


def test_likert_by_keyboard_and_validation(frames: Frames) -> None:
    frame = page(frames, RATINGS, {"r": OBJECTS})
    a, b = shown(frame, "hl-likert")
    keys(frame, "4", "ArrowDown", "2", "ArrowDown", "5")
    submit(frame)
    assert "Rate every response on every criterion: B (Harmlessness) not rated yet." in banner(
        frame
    )
    frame.page.keyboard.press("ArrowDown")
    frame.page.keyboard.press("ArrowRight")
    value = answer_of(frames, frame, "lk")
    assert value["criteria"] == ["helpfulness", "harmless"]
    assert value["ratings"] == {"helpfulness": {a: 4, b: 5}, "harmless": {a: 2, b: 1}}
    assert value["scale"] == {"min": 1, "max": 5}


def test_likert_by_mouse_with_labels(frames: Frames) -> None:
    body = RATINGS.replace("criteria=", """labels='["Bad", "Fine", "Good"]' criteria=""")
    frame = page(frames, body, {"r": [*OBJECTS[:1], {"id": "x", "text": "y"}]})
    for group in frame.locator("hl-likert .rating").all():
        group.locator(".opt", has_text="Good").click()
    value = answer_of(frames, frame, "lk")
    assert value["scale"] == {"min": 1, "max": 3}
    assert value["ratings"]["harmless"] == {"gpt": 3, "x": 3}


THUMBS = "<hl-thumbs name='th' responses='{{ task.input.r | to_json }}' reason></hl-thumbs>"


def test_thumbs_by_keyboard_and_mouse(frames: Frames) -> None:
    frame = page(frames, THUMBS, {"r": OBJECTS})
    a, b = shown(frame, "hl-thumbs")
    keys(frame, "1", "u")
    submit(frame)
    assert "Give every response a thumbs up or down: B not done yet." in banner(frame)
    keys(frame, "2", "d")
    frame.locator(f"hl-thumbs section.card[data-id='{b}'] input").fill("made up a year")
    frame.locator(f"hl-thumbs section.card[data-id='{a}'] .thumb", has_text="Bad").click()
    value = answer_of(frames, frame, "th")
    assert value["thumbs"] == {a: "down", b: "down"}
    assert value["reasons"] == {b: "made up a year"}


EDIT = (
    "<hl-response-edit name='ed' responses='{{ task.input.r | to_json }}'"
    "{{ task.input.extra }}></hl-response-edit>"
)


def test_edit_needs_a_change_and_records_the_text(frames: Frames) -> None:
    frame = page(frames, EDIT, {"r": ["Paris is in Italy."], "extra": " reason"})
    submit(frame)
    assert "Edit the response before you submit: it is unchanged." in banner(frame)
    frame.locator("hl-response-edit textarea.editor").fill("Paris is in France.")
    value = answer_of(frames, frame, "ed")
    assert value == {
        "kind": "response-edit",
        "shownOrder": ["0"],
        "responseId": "0",
        "edited": "Paris is in France.",
        "changed": True,
    }


def test_edit_picks_one_of_several_by_keyboard(frames: Frames) -> None:
    frame = page(frames, EDIT, {"r": OBJECTS, "extra": ""})
    order = shown(frame, "hl-response-edit")
    submit(frame)
    assert "Choose the response you will edit." in banner(frame)
    keys(frame, "2")
    editor = frame.locator("hl-response-edit textarea.editor")
    assert editor.input_value() == {"gpt": "From gpt.", "llama": "From llama."}[order[1]]
    # The editor has the focus after the pick, the caret and the view at the text's start.
    assert editor.evaluate("e => [e.selectionStart, e.scrollTop]") == [0, 0]
    frame.page.keyboard.type("Better: ")
    value = answer_of(frames, frame, "ed")
    assert value["responseId"] == order[1]
    assert value["edited"] == "Better: " + {"gpt": "From gpt.", "llama": "From llama."}[order[1]]


def test_conversation_shows_turns_and_adds_nothing(frames: Frames) -> None:
    body = (
        "<hl-conversation messages='{{ task.input.m | to_json }}'></hl-conversation>"
        "<input name='x' value='1'>"
    )
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Why **2**?"},
    ]
    frame = page(frames, body, {"m": messages})
    turns = frame.locator("hl-conversation .turn")
    assert turns.count() == 2
    assert turns.nth(1).locator("strong").text_content() == "2"
    submit(frame)
    assert frames.answer(frame) == {"x": "1"}


def test_order_is_fixed_per_task_and_drawn_per_task(frames: Frames) -> None:
    """The same seed (a reload of one task) shows the same order; across 40 seeds (40
    assignments) both orders of two responses occur; randomize='false' keeps the list's."""
    body = (
        "<hl-comparison-choice name='p' responses='{{ task.input.r | to_json }}'>"
        "</hl-comparison-choice>"
    )
    data = {"r": ["first", "second"]}
    assert shown(page(frames, body, data, seed="task-7"), "hl-comparison-choice") == shown(
        page(frames, body, data, seed="task-7"), "hl-comparison-choice"
    )
    orders = set()
    for n in range(40):
        frame = page(frames, body, data, seed=f"assignment-{n}")
        orders.add(
            tuple(frame.evaluate("document.querySelector('hl-comparison-choice').value.shownOrder"))
        )
    assert orders == {("0", "1"), ("1", "0")}
    fixed = body.replace("<hl-comparison-choice ", "<hl-comparison-choice randomize='false' ")
    for n in range(6):
        assert shown(page(frames, fixed, data, seed=f"s{n}"), "hl-comparison-choice") == ["0", "1"]


HOSTILE = [
    "<script>window.__pwned = 1</script> **bold**",
    '<img src="x" onerror="window.__pwned = 2">',
    "[click me](javascript:window.__pwned=3) and <a href='javascript:window.__pwned=4'>raw</a>",
    "<iframe src='javascript:parent.__pwned=5'></iframe>"
    "<b onmouseover='window.__pwned=6'>hover</b>",
]


@pytest.mark.parametrize("markdown", ["", " markdown='false'"])
def test_hostile_responses_render_inert(frames: Frames, markdown: str) -> None:
    body = (
        f"<hl-thumbs name='t' responses='{{{{ task.input.r | to_json }}}}'{markdown}></hl-thumbs>"
    )
    frame = page(frames, body, {"r": HOSTILE})
    for box in frame.locator("hl-thumbs .body").all():
        box.hover()
    frame.locator("hl-thumbs .body a").all()  # links, if any, are checked below
    found = frame.evaluate(
        """() => { const root = document.querySelector('hl-thumbs').shadowRoot;
          return {
            active: root.querySelectorAll(
              'script, iframe, img[onerror], [onmouseover], object, embed').length,
            badLinks: Array.from(root.querySelectorAll('a'))
              .filter(a => !/^https?:|^mailto:/.test(a.getAttribute('href') || 'http:')).length,
            text: Array.from(root.querySelectorAll('.body')).map(b => b.textContent).join(' '),
            bold: root.querySelectorAll('.body strong').length,
          }; }"""
    )
    for link in frame.locator("hl-thumbs .body a").all():
        link.click()
    assert frame.evaluate("window.__pwned") is None
    assert found["active"] == 0 and found["badLinks"] == 0
    assert "window.__pwned = 1" in found["text"]  # the script's text is shown, not run
    assert found["bold"] == (1 if not markdown else 0)
    assert frame.evaluate("window.__errors") == []


def test_help_overlay_lists_every_element_and_keys_are_shown(frames: Frames) -> None:
    body = CHOICE + RANK.replace("{{ task.input.ties }}", "")
    frame = page(frames, body, {"r": RESPONSES[:2]})
    assert frame.locator("hl-comparison-choice .opt .key").first.text_content() == "1"
    keys(frame, "?")
    dialog = frame.locator("dialog.hl-help")
    wait_for(lambda: dialog.is_visible(), "the help overlay")
    text = dialog.inner_text()
    assert (
        "Keyboard shortcuts" in text
        and "both are bad" in text
        and "take back the last pick" in text
    )
    frame.page.keyboard.press("Escape")
    wait_for(lambda: not dialog.is_visible(), "the overlay to close")


def test_every_control_has_an_accessible_name(frames: Frames) -> None:
    body = CHOICE + RATINGS + THUMBS + EDIT.replace("{{ task.input.extra }}", " reason")
    frame = page(frames, body, {"r": OBJECTS, "extra": ""})
    unnamed = frame.evaluate(
        """() => Array.from(document.querySelectorAll(
               'hl-comparison-choice, hl-likert, hl-thumbs, hl-response-edit'))
             .flatMap(h => Array.from(h.shadowRoot.querySelectorAll(
               'button, textarea, input, [role=radio], [role=radiogroup]')))
             .filter(n => !(n.getAttribute('aria-label') || n.textContent.trim()
                            || n.closest('label')))
             .map(n => n.outerHTML.slice(0, 80))"""
    )
    assert unnamed == []


def test_ctrl_enter_inside_the_frame_submits(frames: Frames) -> None:
    frame = page(frames, CHOICE.replace(" strength", ""), {"r": RESPONSES[:2]})
    keys(frame, "1", "Control+Enter")
    assert frames.answer(frame)["pick"]["outcome"] == "chosen"


TOPS = """Array.from(document.querySelector('hl-comparison-choice').shadowRoot
  .querySelectorAll('section.card')).map(c => c.getBoundingClientRect().top)"""


def test_comparisons_sit_side_by_side_and_stack_on_a_phone(frames: Frames) -> None:
    frame = page(frames, CHOICE, {"r": [MARKDOWN * 40, "short"]})
    tops = frame.evaluate(TOPS)
    assert tops[0] == tops[1]
    long_box = frame.locator("hl-comparison-choice section.card .body").first
    scrolls = "e => e.scrollHeight > e.clientHeight"
    assert any(b.evaluate(scrolls) for b in frame.locator("hl-comparison-choice .body").all())
    frame.locator("hl-comparison-choice .expand").first.click()
    assert long_box.evaluate("e => e.classList.contains('open')") or not long_box.evaluate(scrolls)
    frames.browser.page.set_viewport_size({"width": 390, "height": 800})
    try:
        tops = frame.evaluate(TOPS)
        assert tops[0] < tops[1]
    finally:
        frames.browser.page.set_viewport_size({"width": 1280, "height": 720})
