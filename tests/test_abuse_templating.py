"""Hostile templates and inputs against a live server: renders that compute without writing,
numbers Python cannot print, script links through grant_read_access, forged frame messages."""

from __future__ import annotations

import html
import json
import re
import threading
from typing import Any

import httpx
import pytest

from tests.portal_support import add_worker, make_flow, wait_for
from tests.support import LiveServer

pytestmark = [pytest.mark.abuse, pytest.mark.shared_server]

ROLE = "arn:aws:iam::123456789012:role/handloop"

# A long string built in the template, then copied again and again without writing
# anything: each step is cheap, all of them together run for seconds without a limit.
APPEND_LOOP = """{% liquid
assign s = 'xxxxxxxxxx'
for i in (1..15)
  assign s = s | append: s
endfor
for i in (1..99999)
  assign t = s | append: s
endfor
%}"""
REPLACE_LOOP = """{% liquid
assign s = 'xxxxxxxxxx'
for i in (1..13)
  assign s = s | append: s
endfor
for i in (1..99999)
  assign t = s | replace: 'x', 'y'
endfor
%}"""
TIMES_LOOP = """{% liquid
assign n = 9
for i in (1..5000)
  assign n = n | times: 10
endfor
echo n
%}"""
BIG_INT = "9" * 4300
# Control flow that evaluates nothing and writes nothing, 100,000 times over.
# All on line 2, so that the error names it whichever tag the deadline falls on.
EMPTY_TAGS = "\n{% for i in (1..99999) %}" + "{% if true %}{% endif %}" * 200 + "{% endfor %}"


def _long(doublings: int) -> str:
    """A ``{% liquid %}`` block making ``s`` 10 * 2**doublings characters long."""
    return (
        "{% liquid\nassign s = 'xxxxxxxxxx'\n"
        f"for i in (1..{doublings})\n  assign s = s | append: s\nendfor\n%}}"
    )


# One filter call that makes a value bigger than any page (each line 7 of its template).
ONE_STEP = {
    "replace": _long(16) + "\n{{ s | replace: 'x', 'xxxxxxxxxxxxxxx' | size }}",
    "join": _long(13) + "\n{{ s | split: '' | join: '" + "-" * 200 + "' | size }}",
    "concat": _long(13)
    + "\n{% assign a = s | split: 'none' %}{% for i in (1..7) %}"
    + "{% assign a = a | concat: a %}{% endfor %}{{ a | size }}",
    "date": "{% assign f = '%Y' %}{% for i in (1..18) %}{% assign f = f | append: f %}"
    + "{% endfor %}\n\n\n\n\n\n{{ 'now' | date: f | size }}",
    "split": _long(15) + "\n{{ s | split: '' | size }}",
}


def _render(server: LiveServer, content: str, task_input: str = "{}") -> dict[str, Any]:
    result: dict[str, Any] = server.client("sagemaker").render_ui_template(
        RoleArn=ROLE, UiTemplate={"Content": content}, Task={"Input": task_input}
    )
    return result


@pytest.mark.parametrize(
    ("content", "task_input", "code", "message"),
    [
        pytest.param(
            APPEND_LOOP,
            "{}",
            "ResourceLimitExceeded",
            "line 7: resource limit: rendering took longer than 1 s",
            id="append loop",
        ),
        pytest.param(
            REPLACE_LOOP,
            "{}",
            "ResourceLimitExceeded",
            "line 7: resource limit: rendering took longer than 1 s",
            id="replace loop",
        ),
        pytest.param(
            EMPTY_TAGS,
            "{}",
            "ResourceLimitExceeded",
            "line 2: resource limit: rendering took longer than 1 s",
            id="tags that do nothing",
        ),
        pytest.param(
            TIMES_LOOP,
            "{}",
            "ResourceLimitExceeded",
            "line 4: resource limit: a number with more than 4300 digits",
            id="times loop past 4300 digits",
        ),
        pytest.param(
            "<p>\n{{ task.input.n | times: 10 }}</p>",
            f'{{"n": {BIG_INT}}}',
            "ResourceLimitExceeded",
            "line 2: resource limit: a number with more than 4300 digits",
            id="4300-digit input grown by a filter",
        ),
        pytest.param(
            "{{ task.input.n }}",
            f'{{"n": {BIG_INT}9}}',
            "InvalidTaskInput",
            "Task.Input holds an integer with more than 4300 digits.",
            id="4301-digit input",
        ),
    ],
)
def test_a_runaway_render_is_a_template_error(
    server: LiveServer, content: str, task_input: str, code: str, message: str
) -> None:
    result = _render(server, content, task_input)
    assert result["RenderedContent"] == ""
    assert result["Errors"] == [{"Code": code, "Message": message}]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (ONE_STEP["replace"], "a string longer than 8000000 characters"),
        (ONE_STEP["join"], "a string longer than 8000000 characters"),
        (ONE_STEP["concat"], "an array that prints as more than 8000000 characters"),
        (ONE_STEP["date"], "a date format longer than 500000 characters"),
        (ONE_STEP["split"], "an array of more than 100000 items"),
        ("\n\n\n\n\n\n{{ (1..1000000000000000000000000000000) | size }}", "a range of more"),
    ],
    ids=[*ONE_STEP, "range of 10**30"],
)
def test_one_filter_step_cannot_make_a_huge_value(
    server: LiveServer, content: str, message: str
) -> None:
    result = _render(server, content)
    [error] = result["Errors"]
    assert error["Code"] == "ResourceLimitExceeded"
    assert error["Message"].startswith(f"line 7: resource limit: {message}")


def test_healthz_answers_while_a_slow_render_runs(server: LiveServer) -> None:
    client = server.client("sagemaker")
    sent = threading.Event()
    client.meta.events.register("before-send.sagemaker.RenderUiTemplate", lambda **_: sent.set())
    outcome: list[dict[str, Any]] = []
    returned = threading.Event()

    def render() -> None:
        try:
            outcome.append(
                client.render_ui_template(
                    RoleArn=ROLE, UiTemplate={"Content": APPEND_LOOP}, Task={"Input": "{}"}
                )
            )
        finally:
            returned.set()

    thread = threading.Thread(target=render)
    thread.start()
    try:
        wait_for(sent.is_set, what="the render request to be sent")
        # Several probes in a row, each sent once the previous one answered: the first could
        # reach the server before the render does; the later ones cannot.
        answered_during_render = 0
        with httpx.Client(base_url=server.url, timeout=120) as http:
            for _ in range(3):
                assert http.get("/healthz").status_code == 200
                if returned.is_set():
                    break
                answered_during_render += 1
        assert answered_during_render == 3, "/healthz waited for the render to finish"
    finally:
        thread.join()
    assert [e["Code"] for e in outcome[0]["Errors"]] == ["ResourceLimitExceeded"]


BLOCKED = [
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "\x01javascript:alert(1)",
    " \x00 javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "jav&#x09;ascript:alert(1)",
    "javascript&colon;alert(1)",
    "vbscript:msgbox(1)",
    "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
    "data:application/xhtml+xml,<html xmlns='http://www.w3.org/1999/xhtml'/>",
    "data:text/html,<script>alert(1)</script>",
    "DATA:Text/HTML;base64,PHNjcmlwdD4=",
]


def _link(server: LiveServer, url: str) -> str:
    result = _render(
        server, '<img src="{{ task.input.u | grant_read_access }}">', json.dumps({"u": url})
    )
    assert result["Errors"] == []
    match = re.fullmatch(r'<img src="([^"]*)">', result["RenderedContent"])
    assert match, result["RenderedContent"]
    return html.unescape(match.group(1))


@pytest.mark.parametrize("url", BLOCKED, ids=[repr(u)[1:-1] for u in BLOCKED])
def test_grant_read_access_blocks_script_links(server: LiveServer, url: str) -> None:
    assert _link(server, url) == "about:blank#blocked"


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("https://example.com/a.png", "https://example.com/a.png"),
        ("http://example.com/a.png?x=1&y=2", "http://example.com/a.png?x=1&y=2"),
        (" HTTPS://example.com/a.png\n", "https://example.com/a.png"),
        ("/media/a.png", "/media/a.png"),
        ("a.png", "a.png"),
        ("data:image/png;base64,iVBORw0KGgo=", "data:image/png;base64,iVBORw0KGgo="),
    ],
)
def test_grant_read_access_keeps_web_links(server: LiveServer, url: str, link: str) -> None:
    assert _link(server, url) == link


@pytest.mark.parametrize("url", ["s3://example-bucket/a.png", "\tS3://example-bucket/a.png"])
def test_grant_read_access_still_signs_s3(server: LiveServer, url: str) -> None:
    link = httpx.URL(_link(server, url))
    assert link.path == "/objects/example-bucket/a.png"
    assert {"expires", "signature"} <= set(link.params)


# Messages the task's content could post from the frame; none is the bridge's one shape.
FORGED = [
    "{type: 'handloop:answer', answer: {label: 'forged'}, extra: 1}",
    "{type: 'handloop:answer', answer: 'forged'}",
    "{type: 'handloop:answer', answer: ['forged']}",
    "{type: 'handloop:answer', answer: null}",
    "{type: 'handloop:answer'}",
    "['handloop:answer', {label: 'forged'}]",
    "'handloop:answer'",
]


@pytest.mark.browser
def test_a_message_of_the_wrong_shape_from_the_frame_does_not_submit(
    server: LiveServer, browser: Any
) -> None:
    template = "<crowd-form><input name='label' value='real'></crowd-form>"
    flow_arn = make_flow(server, "forged", "forgers", template)
    add_worker(server, "forger@example.com", "forgers")
    server.client("sagemaker-a2i-runtime").start_human_loop(
        HumanLoopName="forged-1",
        FlowDefinitionArn=flow_arn,
        HumanLoopInput={"InputContent": "{}"},
    )

    page = browser.new_page()
    submitted: list[Any] = []
    page.on(
        "request",
        lambda r: r.url.endswith("/submit") and submitted.append(r.post_data_json["answer"]),
    )
    page.goto(f"{server.url}/signin")
    page.fill("input[name=email]", "forger@example.com")
    page.fill("input[name=password]", "password123")
    page.click("button[type=submit]")
    page.click("text=Start working")
    page.wait_for_url("**/tasks/*")
    frame = wait_for(
        lambda: next((f for f in page.frames if f.url.endswith("/frame")), None),
        what="the task frame",
    )
    frame.wait_for_function("document.readyState === 'complete'")
    for message in FORGED:
        frame.evaluate(f"parent.postMessage({message}, '*')")
    # Messages from one window arrive in order: once the real answer is in, every forged
    # one before it has been seen and refused.
    page.click("#submit")
    page.wait_for_url("**/jobs/forged/done")
    assert submitted == [{"label": "real"}]
    page.close()
