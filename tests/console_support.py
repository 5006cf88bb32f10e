"""Helpers for the requester console's tests: requesters made with the CLI, a signed-in
HTTP client for the console's pages and forms, and a deployment with real data (flows and
loops made with boto3, answers given through the worker portal)."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa

from tests.portal_support import PortalClient, add_worker, make_flow, wait_for
from tests.support import LiveServer

PASSWORD = "console-password-1"
TEMPLATE = (
    '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>\n'
    "<crowd-form>\n"
    "  <p>Is <strong>{{ task.input.item }}</strong> right?</p>\n"
    '  <crowd-input name="label" label="Your label" required></crowd-input>\n'
    "</crowd-form>\n"
)


def add_requester(server: LiveServer, email: str, password: str = PASSWORD) -> None:
    result = server.cli("requesters", "add", email, "--password-stdin", input=password + "\n")
    assert result.returncode == 0, result.stderr


def form_token(html: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', html)
    assert found, "no form token on the page"
    return found.group(1)


def csrf_of(html: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


class ConsoleClient:
    """A requester signed in to the console through its sign-in page."""

    def __init__(self, server: LiveServer, email: str, password: str = PASSWORD) -> None:
        self.http = httpx.Client(base_url=server.url, timeout=30)
        page = self.http.get("/console/signin")
        assert page.status_code == 200, page.text
        response = self.http.post(
            "/console/signin",
            data={
                "email": email,
                "password": password,
                "form_token": form_token(page.text),
                "next": "/console",
            },
        )
        assert response.status_code == 303, response.text
        self.csrf = csrf_of(self.http.get("/console").text)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None) -> httpx.Response:
        return self.http.post(path, data={"csrf_token": self.csrf, **(data or {})})

    def post_json(self, path: str, body: Any) -> httpx.Response:
        return self.http.post(path, json=body, headers={"X-CSRF-Token": self.csrf})

    def close(self) -> None:
        self.http.close()


def database_engine(server: LiveServer) -> sa.Engine:
    return sa.create_engine(server.database_url or f"sqlite:///{server.data_dir / 'handloop.db'}")


def counted(server: LiveServer) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    """(the counters the triggers keep, a COUNT(*) of the loops), per (flow, status)."""
    engine = database_engine(server)
    try:
        with engine.connect() as conn:
            kept = {
                (r[0], r[1]): int(r[2])
                for r in conn.execute(
                    sa.text(
                        "SELECT flow_definition_name, status, loops FROM flow_loop_counts "
                        "WHERE loops != 0"
                    )
                )
            }
            real = {
                (r[0], r[1]): int(r[2])
                for r in conn.execute(
                    sa.text(
                        "SELECT flow_definition_name, status, COUNT(*) FROM human_loops "
                        "GROUP BY flow_definition_name, status"
                    )
                )
            }
    finally:
        engine.dispose()
    return kept, real


@dataclass
class Deployment:
    """A server with a requester, a worker, a flow whose loops are partly answered."""

    server: LiveServer
    flow: str
    flow_arn: str
    requester: str
    worker: str
    loops: list[str]


def start_loops(server: LiveServer, flow_arn: str, names: list[str]) -> None:
    a2i = server.client("sagemaker-a2i-runtime")
    for name in names:
        a2i.start_human_loop(
            HumanLoopName=name,
            FlowDefinitionArn=flow_arn,
            HumanLoopInput={"InputContent": json.dumps({"item": name})},
        )


def answer(server: LiveServer, worker: str, flow: str, count: int) -> list[str]:
    """The worker answers ``count`` tasks of the flow; the loops answered."""
    client = PortalClient(server, worker)
    done = []
    try:
        for k in range(count):
            task = client.claim(flow)
            assert task is not None, "no task left to answer"
            response = client.submit(task["taskId"], {"label": f"answer {k}"})
            assert response.status_code == 204, response.text
            done.append(task["humanLoopName"])
    finally:
        client.close()
    return done


def loop_status(server: LiveServer, name: str) -> str:
    a2i = server.client("sagemaker-a2i-runtime")
    status: str = a2i.describe_human_loop(HumanLoopName=name)["HumanLoopStatus"]
    return status


def make_deployment(
    server: LiveServer, prefix: str, loops: int = 6, answered: int = 3
) -> Deployment:
    requester = f"{prefix}-requester@example.com"
    worker = f"{prefix}-worker@example.com"
    add_requester(server, requester)
    add_worker(server, worker, f"{prefix}-group")
    flow = f"{prefix}-flow"
    arn = make_flow(server, flow, f"{prefix}-group", TEMPLATE)
    names = [f"{prefix}-loop-{k}" for k in range(loops)]
    start_loops(server, arn, names)
    for name in answer(server, worker, flow, answered):
        wait_for(lambda n=name: loop_status(server, n) == "Completed", what=f"{name} Completed")
    return Deployment(server, flow, arn, requester, worker, names)


def wait_until(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


class Receiver:
    """A webhook receiver on loopback: answers with the statuses in ``replies`` (then 200)
    and keeps the bodies it received."""

    def __init__(self, replies: list[int] | None = None) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.received: list[bytes] = []
        pending = list(replies or [])
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(pending.pop(0) if pending else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
