"""The whole path in a real browser: boto3 starts loops, a worker signs in and ranks,
output.json holds the answer, DescribeHumanLoop says Completed, the webhook gets the event."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from handloop.services.demo import RANKING_TEMPLATE, demo_input
from tests.portal_support import add_worker, make_flow, read_output, wait_for
from tests.support import LiveServer

pytestmark = pytest.mark.browser
SECRET = "receiver-secret"


class Receiver:
    """A webhook receiver that keeps what it is sent."""

    def __init__(self) -> None:
        received: list[tuple[dict[str, str], bytes]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.received = received
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_a_worker_ranks_in_the_browser_and_the_requester_gets_everything(
    server: LiveServer, browser: Any, receiver: Receiver
) -> None:
    result = server.cli("webhooks", "add", receiver.url, "--secret", SECRET)
    assert result.returncode == 0, result.stderr
    flow_arn = make_flow(server, "ranking", "rankers", RANKING_TEMPLATE)
    add_worker(server, "ranker@example.com", "rankers")
    a2i = server.client("sagemaker-a2i-runtime")
    prompt = "Which is the <b>best</b> answer?"
    a2i.start_human_loop(
        HumanLoopName="rank-1",
        FlowDefinitionArn=flow_arn,
        HumanLoopInput={"InputContent": demo_input(prompt, ["first", "second", "third"])},
    )

    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server.url}/")
    assert "/signin" in page.url
    page.fill("input[name=email]", "ranker@example.com")
    page.fill("input[name=password]", "password123")
    page.click("button[type=submit]")
    page.wait_for_selector("text=ranking title")
    assert page.text_content("[data-waiting=ranking]") == "1"
    page.click("text=Start working")
    page.wait_for_url("**/tasks/*")
    frame = page.frame_locator("#task-frame")
    # The prompt is escaped by the template, not interpreted.
    assert frame.locator(".prompt").text_content() == prompt
    frame.locator("select[name=response_1_ranking]").select_option("1")
    frame.locator("select[name=response_2_ranking]").select_option("2")
    frame.locator("select[name=response_3_ranking]").select_option("3")
    page.click("#submit")
    page.wait_for_url("**/jobs/ranking/done")
    assert "No tasks left" in page.text_content("h1")
    assert errors == []

    described = wait_for(
        lambda: (
            (d := a2i.describe_human_loop(HumanLoopName="rank-1"))["HumanLoopStatus"] == "Completed"
            and d
        ),
        what="Completed",
    )
    uri = described["HumanLoopOutput"]["OutputS3Uri"]
    output = read_output(server, uri)
    [answer] = output["humanAnswers"]
    assert answer["answerContent"] == {
        "response_1_ranking": "1",
        "response_2_ranking": "2",
        "response_3_ranking": "3",
    }
    assert output["humanLoopName"] == "rank-1"
    assert output["inputContent"]["taskObject"]["prompt"] == prompt

    headers, body = wait_for(lambda: receiver.received and receiver.received[0], what="webhook")
    stamp = headers["x-handloop-timestamp"]
    expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    assert hmac.compare_digest(headers["x-handloop-signature"], "sha256=" + expected.hexdigest())
    event = json.loads(body)
    assert event["source"] == "aws.sagemaker"
    assert event["detail-type"] == "SageMaker A2I HumanLoop Status Change"
    assert event["detail"]["humanLoopStatus"] == "Completed"
    assert event["detail"]["humanLoopOutput"]["outputS3Uri"] == uri


def test_ctrl_enter_submits_then_the_next_task_opens_and_decline_ends_the_job(
    server: LiveServer, browser: Any
) -> None:
    form = (
        "<crowd-form><input name='label' required>"
        "<p class='item'>{{ task.input.item }}</p></crowd-form>"
    )
    flow_arn = make_flow(server, "keyboard", "typists", form)
    add_worker(server, "typist@example.com", "typists")
    a2i = server.client("sagemaker-a2i-runtime")
    for n in (1, 2):
        a2i.start_human_loop(
            HumanLoopName=f"key-{n}",
            FlowDefinitionArn=flow_arn,
            HumanLoopInput={"InputContent": json.dumps({"item": f"item {n}"})},
        )
    page = browser.new_page()
    page.goto(f"{server.url}/signin")
    page.fill("input[name=email]", "typist@example.com")
    page.fill("input[name=password]", "password123")
    page.click("button[type=submit]")
    page.click("text=Start working")
    page.wait_for_url("**/tasks/*")
    first_url = page.url
    frame = page.frame_locator("#task-frame")
    first_item = frame.locator(".item").text_content()
    # `required` holds the submit back while the field is empty.
    page.keyboard.press("Control+Enter")
    assert page.url == first_url
    frame.locator("input[name=label]").fill("typed")
    frame.locator("input[name=label]").press("Control+Enter")
    page.wait_for_url(lambda url: url != first_url and "/tasks/" in url)
    second_item = page.frame_locator("#task-frame").locator(".item").text_content()
    assert {first_item, second_item} == {"item 1", "item 2"}
    page.click("#decline")
    page.wait_for_url("**/jobs/keyboard/done")
    done = [
        n
        for n in (1, 2)
        if a2i.describe_human_loop(HumanLoopName=f"key-{n}")["HumanLoopStatus"] == "Completed"
    ]
    assert len(done) == 1


HIDE = """(hidden) => {
  Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_time_spent_leaves_out_time_the_page_was_hidden(server: LiveServer, browser: Any) -> None:
    from datetime import datetime

    flow_arn = make_flow(server, "timing", "timers", "<crowd-form><input name='a'></crowd-form>")
    add_worker(server, "timer@example.com", "timers")
    a2i = server.client("sagemaker-a2i-runtime")
    a2i.start_human_loop(
        HumanLoopName="timed-1",
        FlowDefinitionArn=flow_arn,
        HumanLoopInput={"InputContent": json.dumps({"x": 1})},
    )
    page = browser.new_page()
    page.goto(f"{server.url}/signin")
    page.fill("input[name=email]", "timer@example.com")
    page.fill("input[name=password]", "password123")
    page.click("button[type=submit]")
    page.click("text=Start working")
    page.wait_for_url("**/tasks/*")
    page.frame_locator("#task-frame").locator("input[name=a]").fill("done")
    page.evaluate(HIDE, True)
    page.wait_for_timeout(2000)  # two seconds spent away from the task: the subject of the test
    page.evaluate(HIDE, False)
    page.click("#submit")
    page.wait_for_url("**/jobs/timing/done")
    uri = a2i.describe_human_loop(HumanLoopName="timed-1")["HumanLoopOutput"]["OutputS3Uri"]
    [answer] = read_output(server, uri)["humanAnswers"]

    def stamp(text: str) -> float:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

    elapsed = stamp(answer["submissionTime"]) - stamp(answer["acceptanceTime"])
    assert elapsed >= 2.0
    assert 0 < answer["timeSpentInSeconds"] <= elapsed - 1.5
