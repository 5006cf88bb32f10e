"""Every page of the requester console, on a live server with real data: for the
accessibility check (tests/test_console_axe.py) and `make screenshots` (tests/screenshots.py).

``seed(server)`` makes the data (two flows with loops in every status, answers from two
workers, a webhook with a delivery, a finished export); ``pages(seeded)`` lists each page
as (name, path), the signed-out sign-in page first."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.console_support import (
    PASSWORD,
    ConsoleClient,
    Receiver,
    add_requester,
    answer,
    loop_status,
    make_deployment,
    start_loops,
)
from tests.portal_support import add_worker, wait_for
from tests.support import LiveServer

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"


@dataclass
class Seeded:
    server: LiveServer
    requester: str
    flow: str
    completed_loop: str
    open_loop: str
    export_id: str
    receiver: Receiver


def seed(server: LiveServer) -> Seeded:
    main = make_deployment(server, "reviews", loops=12, answered=7)
    # A second worker answers too; one loop is stopped, and a second flow waits.
    add_worker(server, "second-reviewer@example.com", "reviews-group")
    answer(server, "second-reviewer@example.com", main.flow, 2)
    open_loops = [n for n in main.loops if loop_status(server, n) == "InProgress"]
    server.client("sagemaker-a2i-runtime").stop_human_loop(HumanLoopName=open_loops[-1])
    other = make_deployment(server, "labels", loops=4, answered=1)
    start_loops(server, other.flow_arn, ["labels-extra"])
    receiver = Receiver()
    client = ConsoleClient(server, main.requester)
    try:
        assert (
            client.post("/console/webhooks", {"url": receiver.url, "secret": "s"}).status_code
            == 303
        )
        server.client("sagemaker-a2i-runtime").stop_human_loop(HumanLoopName=open_loops[-2])
        wait_for(lambda: receiver.received, what="a webhook delivery")
        started = client.post(
            "/console/data/exports",
            {"flow": main.flow, "format": "tidy", "test_size": "0", "kind": "jsonl"},
        )
        export_id = started.headers["location"].rsplit("/", 1)[1]
        wait_for(
            lambda: client.get(f"/console/api/exports/{export_id}").json()["state"] != "running",
            what="the export",
        )
    finally:
        client.close()
    completed = next(n for n in main.loops if loop_status(server, n) == "Completed")
    still_open = next(n for n in main.loops if loop_status(server, n) == "InProgress")
    return Seeded(server, main.requester, main.flow, completed, still_open, export_id, receiver)


def pages(seeded: Seeded) -> list[tuple[str, str]]:
    """(name, path) of every console page; the first is seen signed out."""
    return [
        ("signin", "/console/signin"),
        ("overview", "/console"),
        ("flow", f"/console/flows/{seeded.flow}"),
        ("flow-filtered", f"/console/flows/{seeded.flow}?status=Completed"),
        ("loop", f"/console/loops/{seeded.completed_loop}"),
        ("loop-open", f"/console/loops/{seeded.open_loop}"),
        ("confirm-stop", f"/console/loops/{seeded.open_loop}/stop"),
        ("templates", "/console/templates"),
        ("editor", f"/console/templates/new?from={seeded.flow}-ui"),
        ("workforce", "/console/workforce"),
        ("webhooks", "/console/webhooks"),
        ("data", "/console/data"),
        ("export", f"/console/data/exports/{seeded.export_id}"),
        ("error", "/console/flows/no-such-flow"),
    ]


def sign_in(page: Any, server: LiveServer, email: str) -> None:
    page.goto(f"{server.url}/console/signin")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/console")


def settle(page: Any, name: str) -> None:
    """Wait until a page has what it loads after its HTML: frames, the live figures, the
    editor's preview."""
    page.wait_for_load_state("load")
    if name == "overview":
        page.wait_for_function("() => document.body.dataset.live === 'on'", timeout=15_000)
    if name == "editor":
        page.wait_for_selector("#no-problems, #problems li", timeout=15_000)
    if name.startswith("loop"):
        # Each answer's frame is filled in after it loads: wait until every one says so.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            answers = [f for f in page.frames if "answer=" in f.url]
            if all(
                f.evaluate("() => 'consoleReadonly' in document.documentElement.dataset")
                for f in answers
            ):
                break
            time.sleep(0.1)
    time.sleep(0.3)  # frames finish drawing (pictures only; no assertion waits on this)


def run_axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page (the top document; frames are the templates')."""
    # Through the DevTools protocol: the page's CSP allows no inline script.
    page.evaluate(f"() => {{ {AXE.read_text()}\n; window.axe = axe; }}")
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {
                resultTypes: ["violations"],
                iframes: false,
            });
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5),
            }));
        }"""
    )
    return list(json.loads(json.dumps(result)))


def add_requester_for(server: LiveServer, email: str) -> None:
    add_requester(server, email)
