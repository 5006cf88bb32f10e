"""Status-change events: the SigV4-signed event stream and webhook delivery (signature,
retries, nothing to URLs that are not registered)."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.portal_support import make_flow, start_and_stop, wait_for
from tests.support import LiveServer


class Receiver:
    """Answers with the statuses in ``replies`` (then 200) and keeps what it received."""

    def __init__(self, replies: list[int] | None = None, redirect: str | None = None) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        pending = list(replies or [])
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = pending.pop(0) if pending else 200
                if redirect:
                    self.send_response(307)
                    self.send_header("Location", redirect)
                else:
                    self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/events"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    made: list[Receiver] = []
    yield made
    for r in made:
        r.close()


def signed_headers(server: LiveServer, url: str) -> dict[str, str]:
    key = server.default_key
    request = AWSRequest(method="GET", url=url)
    credentials = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    SigV4Auth(credentials, "sagemaker", "us-east-1").add_auth(request)
    return dict(request.headers)


def test_the_event_stream_needs_a_signature(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/events", timeout=10)
    assert response.status_code in (400, 403)


def test_the_event_stream_delivers_status_changes(server: LiveServer) -> None:
    flow = make_flow(server, "streamed", "g", "<crowd-form><input name='a'></crowd-form>")
    url = f"{server.url}/events"
    lines: queue.Queue[str] = queue.Queue()
    opened = threading.Event()

    def read() -> None:
        with (
            httpx.Client(timeout=httpx.Timeout(30, read=30)) as client,
            client.stream("GET", url, headers=signed_headers(server, url)) as response,
        ):
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                opened.set()
                lines.put(line)
                if line.startswith("data:"):
                    return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    wait_for(opened.is_set, what="the stream to open")
    start_and_stop(server, flow, "streamed-1")
    data = wait_for(
        lambda: next((ln for ln in list(lines.queue) if ln.startswith("data:")), None),
        what="an event on the stream",
    )
    event = json.loads(data[len("data:") :])
    assert event["detail-type"] == "SageMaker A2I HumanLoop Status Change"
    assert event["detail"]["humanLoopName"] == "streamed-1"
    assert event["detail"]["humanLoopStatus"] == "Stopped"
    ids = [ln for ln in list(lines.queue) if ln.startswith("id:")]
    assert ids
    # Replaying from the start gives the same event to a client that was not connected.
    replay_url = f"{server.url}/events?after=0"
    with (
        httpx.Client(timeout=30) as client,
        client.stream("GET", replay_url, headers=signed_headers(server, replay_url)) as response,
    ):
        for line in response.iter_lines():
            if line.startswith("data:"):
                assert json.loads(line[5:])["detail"]["humanLoopName"] == "streamed-1"
                break


def test_webhooks_are_signed_retried_and_only_sent_where_registered(
    server: LiveServer, receivers: list[Receiver]
) -> None:
    flaky = Receiver(replies=[500, 503])
    elsewhere = Receiver()
    redirecting = Receiver(redirect=elsewhere.url)
    late = Receiver()
    receivers.extend([flaky, elsewhere, redirecting, late])
    for hook, secret in ((flaky, "s1"), (redirecting, "s2")):
        result = server.cli("webhooks", "add", hook.url, "--secret", secret)
        assert result.returncode == 0, result.stderr
    listed = server.cli("webhooks", "list")
    assert flaky.url in listed.stdout and redirecting.url in listed.stdout
    flow = make_flow(server, "hooked", "g", "<crowd-form><input name='a'></crowd-form>")
    start_and_stop(server, flow, "hooked-1")

    # Two failures, then delivered: three attempts, each signed.
    wait_for(lambda: len(flaky.received) >= 3, timeout=30, what="retries")
    bodies = {body for _, body in flaky.received}
    assert len(bodies) == 1
    for headers, body in flaky.received:
        mac = hmac.new(
            b"s1", headers["x-handloop-timestamp"].encode() + b"." + body, hashlib.sha256
        )
        assert headers["x-handloop-signature"] == "sha256=" + mac.hexdigest()
    assert json.loads(bodies.pop())["detail"]["humanLoopName"] == "hooked-1"
    wait_for(lambda: redirecting.received, what="the redirecting receiver")
    # A webhook registered after the event never gets it; a redirect is not followed.
    assert server.cli("webhooks", "add", late.url, "--secret", "s3").returncode == 0
    removed = server.cli("webhooks", "remove", flaky.url)
    assert removed.returncode == 0, removed.stderr
    start_and_stop(server, flow, "hooked-2")
    wait_for(lambda: late.received, what="the late receiver")
    assert [json.loads(b)["detail"]["humanLoopName"] for _, b in late.received] == ["hooked-2"]
    assert elsewhere.received == []
    assert len(flaky.received) == 3
    missing = server.cli("webhooks", "remove", "http://127.0.0.1:9/never")
    assert missing.returncode != 0 and "Traceback" not in missing.stderr


def test_webhook_urls_are_checked(server: LiveServer) -> None:
    bad = server.cli("webhooks", "add", "ftp://example.com/x")
    assert bad.returncode != 0 and "http" in bad.stderr and "Traceback" not in bad.stderr
    made = server.cli("webhooks", "add", "https://example.com/generated")
    assert made.returncode == 0 and "Signing secret" in made.stdout
    assert server.cli("webhooks", "remove", "https://example.com/generated").returncode == 0
