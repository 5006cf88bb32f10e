"""A webhook receiver that answers one byte at a time held every later delivery to every
other webhook (23 s for a 23-byte status line), and never timed out: urllib's timeout is
per socket operation. Each delivery now has a total deadline, and each webhook is
delivered to on its own."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.portal_support import make_flow, start_and_stop, wait_for
from tests.support import LiveServer

pytestmark = [pytest.mark.abuse, pytest.mark.slow]

# The server under test gives each delivery this long in all; the dripping receiver never
# finishes its answer, so only a total deadline ends a delivery to it.
TIMEOUT_SECONDS = 3


@dataclass
class Drip:
    """One connection to the dripping receiver."""

    event: str  # the X-Handloop-Event-Id it carried
    loop: str
    open: bool = True


@dataclass
class DrippingReceiver:
    """Reads a POST, then sends its answer's status line and headers one byte at a time,
    never ending them, until the client hangs up (or the receiver is closed)."""

    drips: list[Drip] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                head += chunk
            header_text, _, body = head.partition(b"\r\n\r\n")
            headers = dict(line.split(": ", 1) for line in header_text.decode().split("\r\n")[1:])
            length = int({k.lower(): v for k, v in headers.items()}["content-length"])
            while len(body) < length:
                body += conn.recv(65536)
            drip = Drip(
                event={k.lower(): v for k, v in headers.items()}["x-handloop-event-id"],
                loop=json.loads(body)["detail"]["humanLoopName"],
            )
            with self.lock:
                self.drips.append(drip)
            answer = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100_000
            # At most a minute of dripping: the receiver stops by itself.
            for byte in answer[:600]:
                if self.stop.wait(0.1):
                    break
                try:
                    conn.sendall(bytes([byte]))
                except OSError:  # the client hung up: the delivery was bounded
                    break
            drip.open = False

    def loops(self) -> list[str]:
        with self.lock:
            return [d.loop for d in self.drips]

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


class FastReceiver:
    """Answers 200 at once; notes, for each event, whether the dripping receiver still
    held a connection open at that moment."""

    def __init__(self, slow: DrippingReceiver) -> None:
        self.received: list[tuple[str, bool]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                slow_busy = any(d.open for d in slow.drips)
                received.append((json.loads(body)["detail"]["humanLoopName"], slow_busy))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def loops(self) -> list[str]:
        return [loop for loop, _ in self.received]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def live(database_url: str | None, tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(
        data_dir=tmp_path / "data",
        database_url=database_url,
        extra_env={"HANDLOOP_WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT_SECONDS)},
    ) as server:
        yield server


def test_a_dripping_receiver_delays_no_other_and_is_cut_off(live: LiveServer) -> None:
    slow = DrippingReceiver()
    fast = FastReceiver(slow)
    try:
        for url in (slow.url, fast.url):  # the slow one first, as in the finding
            added = live.cli("webhooks", "add", url, "--secret", "s")
            assert added.returncode == 0, added.stderr
        flow = make_flow(live, "dripped", "g", "<crowd-form><input name='a'></crowd-form>")

        start_and_stop(live, flow, "first")
        wait_for(lambda: "first" in slow.loops(), what="the slow receiver to be sent 'first'")
        # While 'first' drips into the slow receiver, later events reach the fast one.
        start_and_stop(live, flow, "second")
        wait_for(lambda: "second" in fast.loops(), what="the fast receiver to get 'second'")
        assert fast.loops() == ["first", "second"]
        assert dict(fast.received)["second"] is True, "the slow delivery had already ended"

        # The slow delivery is cut off at the deadline (the receiver would drip for a
        # minute) and tried again later: the same event, on a new connection.
        first = next(d for d in slow.drips if d.loop == "first")
        wait_for(lambda: not first.open, what="the slow delivery to be cut off")
        wait_for(
            lambda: [d.event for d in slow.drips].count(first.event) >= 2,
            what="the slow delivery to be tried again",
        )
        assert fast.loops() == ["first", "second"]  # delivered once each
    finally:
        slow.close()
        fast.close()
