"""Preference elements through the real portal in Chromium: each assignment shows the two
responses in its own order (the same again on a reload), the worker judges with the keyboard
alone, output.json names responses by id with the order that was on screen, and
`handloop export` reads those answers without a mapping, position bias included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.portal_support import (
    PortalClient,
    add_worker,
    loop_status,
    make_flow,
    read_output,
    wait_for,
)
from tests.support import LiveServer

pytestmark = pytest.mark.browser

MARKER = "MARKER"
PLAIN = "plain answer"
MARKED = f"answer with {MARKER}"
# Text responses: their ids are their indices, so the marked one is "1" in every loop.
RESPONSES = [PLAIN, MARKED]
MARKED_ID = "1"
LOOPS = 40
CHOICE_TEMPLATE = """<crowd-form>
  <p class="prompt">{{ task.input.prompt }}</p>
  <hl-comparison-choice name="preference"
      responses='{{ task.input.responses | to_json }}'></hl-comparison-choice>
</crowd-form>"""
CARDS = "hl-comparison-choice section.card"
# Each card's response id and whether its text holds the marker, in the order shown.
READ_CARDS = f"cards => cards.map(c => [c.dataset.id, c.textContent.includes({MARKER!r})])"


def prompt(number: int) -> str:
    return f"Question {number:02d}: which answer is better?"


def start_loops(server: LiveServer, flow_arn: str, prefix: str, count: int) -> dict[str, str]:
    """``count`` loops over RESPONSES, each with its own prompt; {prompt: loop name}."""
    a2i = server.client("sagemaker-a2i-runtime")
    names = {}
    for number in range(1, count + 1):
        name = f"{prefix}-{number:02d}"
        a2i.start_human_loop(
            HumanLoopName=name,
            FlowDefinitionArn=flow_arn,
            HumanLoopInput={
                "InputContent": json.dumps({"prompt": prompt(number), "responses": RESPONSES})
            },
        )
        names[prompt(number)] = name
    return names


def sign_in_and_start(page: Any, server: LiveServer, email: str) -> None:
    page.goto(f"{server.url}/signin")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "password123")
    page.click("button[type=submit]")
    page.click("text=Start working")
    page.wait_for_url("**/tasks/*")


def cards_shown(page: Any) -> list[tuple[str, bool]]:
    """(id, holds the marker) of each response card, in the order on screen, once the
    element has built both."""
    cards = page.frame_locator("#task-frame").locator(CARDS)
    cards.nth(1).wait_for()
    shown: list[tuple[str, bool]] = [tuple(c) for c in cards.evaluate_all(READ_CARDS)]
    return shown


def focus_frame(page: Any) -> None:
    """Give the task frame's document the keyboard focus, as a click into it would (the
    iframe element's own focus() does nothing once it is the active element already)."""
    page.evaluate("document.getElementById('task-frame').contentWindow.focus()")


def marked_key(shown: list[tuple[str, bool]]) -> str:
    """The digit a worker presses for the response with the marker: its place on screen."""
    [position] = [p for p, (_, marked) in enumerate(shown) if marked]
    return str(position + 1)


def answer_of(server: LiveServer, loop: str) -> dict[str, Any]:
    a2i = server.client("sagemaker-a2i-runtime")
    described = a2i.describe_human_loop(HumanLoopName=loop)
    assert described["HumanLoopStatus"] == "Completed", loop
    output = read_output(server, described["HumanLoopOutput"]["OutputS3Uri"])
    [answer] = output["humanAnswers"]
    assert output["inputContent"]["responses"] == RESPONSES
    content: dict[str, Any] = answer["answerContent"]
    return content


@dataclass
class Session:
    """What one worker saw and did on the 40 task pages of the `prefs` flow."""

    shown: dict[str, list[str]] = field(default_factory=dict)  # loop -> ids, first shown first
    reloads: list[tuple[list[str], list[str]]] = field(default_factory=list)  # before, after
    page_errors: list[str] = field(default_factory=list)
    end_url: str = ""


@pytest.fixture(scope="module")
def session(server: LiveServer, browser: Any) -> Iterator[Session]:
    """One worker works through 40 one-task loops of one comparison in Chromium, by keyboard:
    the digit of the response with the marker (read off the screen), then Ctrl+Enter; every
    tenth page is reloaded first to see its order again."""
    flow_arn = make_flow(server, "prefs", "judges", CHOICE_TEMPLATE)
    add_worker(server, "judge@example.com", "judges")
    loops = start_loops(server, flow_arn, "pref", LOOPS)
    done = Session()
    page = browser.new_page()
    page.on("pageerror", lambda exc: done.page_errors.append(str(exc)))
    try:
        sign_in_and_start(page, server, "judge@example.com")
        for count in range(LOOPS):
            url = page.url
            shown = cards_shown(page)
            if count % 10 == 0:
                page.reload()
                done.reloads.append(([i for i, _ in shown], [i for i, _ in cards_shown(page)]))
            text = page.frame_locator("#task-frame").locator(".prompt").text_content()
            done.shown[loops[text]] = [i for i, _ in shown]
            focus_frame(page)
            page.keyboard.press(marked_key(shown))
            page.keyboard.press("Control+Enter")
            page.wait_for_url(lambda now, before=url: now != before)
        done.end_url = page.url
        yield done
    finally:
        page.close()


def test_each_assignment_has_its_own_order_and_the_answer_names_ids(
    server: LiveServer, session: Session
) -> None:
    """The point of the seed: across 40 assignments of the same two responses both orders
    turn up (both at once by chance: 2 in 2^40), a reload keeps a task's order, and every
    answer says what was on screen and which response won by id, whatever its place."""
    assert len(session.shown) == LOOPS, "a task page came twice or a loop was never shown"
    assert session.end_url.endswith("/jobs/prefs/done")
    assert session.page_errors == []
    assert {tuple(order) for order in session.shown.values()} == {("0", "1"), ("1", "0")}
    assert session.reloads and all(before == after for before, after in session.reloads)
    for loop, order in session.shown.items():
        answer = answer_of(server, loop)
        assert answer == {
            "preference": {
                "kind": "comparison-choice",
                "shownOrder": order,
                "outcome": "chosen",
                "chosen": MARKED_ID,
            }
        }, loop


def export(server: LiveServer, flow: str, folder: Path) -> tuple[list[dict[str, Any]], Any]:
    """`handloop export flow:FLOW` with no --mapping: its JSONL rows and its statistics."""
    out, stats = folder / "out.jsonl", folder / "stats.json"
    result = server.cli(
        "export", f"flow:{flow}", "--to", str(out), "--stats-json", str(stats), "--quiet"
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    return rows, json.loads(stats.read_text())


def test_the_export_reads_the_browser_answers_without_a_mapping(
    server: LiveServer, session: Session, tmp_path: Path
) -> None:
    """The answers above, exported as they are: each loop gives one pair whose chosen text
    is the marked response; the position-bias figure comes from the orders the worker saw
    (the marked response won every time, so the first shown won exactly when it was the
    marked one), not from the input's order, in which the marked response is always
    second and the figure would be 0."""
    rows, stats = export(server, "prefs", tmp_path)
    assert len(rows) == LOOPS
    assert all(row["chosen"] == MARKED and row["rejected"] == PLAIN for row in rows)
    assert {row["prompt"] for row in rows} == {prompt(n) for n in range(1, LOOPS + 1)}
    assert stats["valid_answers"] == LOOPS
    first_marked = sum(order[0] == MARKED_ID for order in session.shown.values())
    bias = stats["position_bias"]
    assert bias["first_shown_pair_win_rate"] == round(first_marked / LOOPS, 4)


def test_crafted_workers_who_judge_by_content_show_no_position_bias(
    server: LiveServer, tmp_path: Path
) -> None:
    """Three workers (through the portal's JSON API) who always pick the marked response
    while seeing it first in half their tasks and second in the other half: the export
    names the marked text as chosen in every row and finds no position bias (the first
    shown wins half its pairs, within 0.3 to 0.7), and the workers agree fully. The
    responses are objects with ids of their own, which answers and the export use."""
    flow_arn = make_flow(server, "crafted", "crafters", CHOICE_TEMPLATE, task_count=3)
    responses = [{"id": "p", "text": PLAIN}, {"id": "m", "text": MARKED}]
    a2i = server.client("sagemaker-a2i-runtime")
    for number in range(1, 7):
        a2i.start_human_loop(
            HumanLoopName=f"crafted-{number}",
            FlowDefinitionArn=flow_arn,
            HumanLoopInput={
                "InputContent": json.dumps({"prompt": prompt(number), "responses": responses})
            },
        )
    for w in range(3):
        email = f"crafter{w}@example.com"
        add_worker(server, email, "crafters")
        worker = PortalClient(server, email)
        count = 0
        while (task := worker.claim("crafted")) is not None:
            order = ["m", "p"] if (count + w) % 2 == 0 else ["p", "m"]
            choice = {"kind": "comparison-choice", "shownOrder": order}
            choice |= {"outcome": "chosen", "chosen": "m"}
            assert worker.submit(task["taskId"], {"preference": choice}).status_code == 204
            count += 1
        assert count == 6
        worker.close()
    # The last answer of a loop writes its output in the background: export once all are in.
    names = [f"crafted-{number}" for number in range(1, 7)]
    wait_for(lambda: all(loop_status(server, name) == "Completed" for name in names))
    rows, stats = export(server, "crafted", tmp_path)
    assert len(rows) == 18
    assert all(row["chosen"] == MARKED and row["rejected"] == PLAIN for row in rows)
    assert stats["valid_answers"] == 18
    assert stats["pairwise_agreement"] == 1.0
    rate = stats["position_bias"]["first_shown_pair_win_rate"]
    assert 0.3 <= rate <= 0.7
    assert rate == 0.5  # 9 of the 18 answers saw the marked response first


def test_the_keys_work_from_the_portal_page_without_a_click(
    server: LiveServer, browser: Any
) -> None:
    """task.js gives the task frame the focus when it loads, so a worker who opens a task
    can press the response's digit and Ctrl+Enter at once: no click into the frame."""
    flow_arn = make_flow(server, "keys", "typists", CHOICE_TEMPLATE)
    add_worker(server, "typist@example.com", "typists")
    [loop] = start_loops(server, flow_arn, "key", 1).values()
    page = browser.new_page()
    try:
        sign_in_and_start(page, server, "typist@example.com")
        shown = cards_shown(page)  # reads the page; moves no focus
        assert page.evaluate("document.activeElement && document.activeElement.id") == (
            "task-frame"
        )
        page.keyboard.press(marked_key(shown))
        choice = page.frame_locator("#task-frame").locator("hl-comparison-choice")
        assert choice.evaluate("e => [e.value.chosen, document.hasFocus()]") == [
            MARKED_ID,
            True,
        ], "the digit did not reach the task: its frame's document has no keyboard focus"
        page.keyboard.press("Control+Enter")
        page.wait_for_url("**/jobs/keys/done")
    finally:
        page.close()
    assert answer_of(server, loop)["preference"]["chosen"] == MARKED_ID
