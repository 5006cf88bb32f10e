"""Serving rendered task pages to headless Chromium the way the portal frames them: a
sandboxed iframe holding the portal's frame document (the element library's modules from
/static/) and generated media for s3:// URIs. The browser that loads them reaches no
other host (tests/chromium.py, offline)."""

from __future__ import annotations

import io
import struct
import threading
import wave
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from handloop.templating.prerender import prerender_markdown
from handloop.web.frame import frame_document
from tests.chromium import CHROMIUM_ARGS as CHROMIUM_ARGS  # still importable from here

STATIC = Path(__file__).resolve().parent.parent / "src" / "handloop" / "web" / "static"
SANDBOX = "allow-scripts allow-forms allow-popups allow-modals"

# Recorded inside the frame before the template runs: answers, errors and readiness.
PROBE = """<script>
window.__answers = []; window.__errors = []; window.__ready = false;
window.addEventListener("handloop:answer", function (e) { window.__answers.push(e.detail); });
window.addEventListener("error", function (e) {
  window.__errors.push({message: String(e.message), file: String(e.filename || ""),
    stack: String(e.error && e.error.stack || "")});
});
window.addEventListener("unhandledrejection", function (e) {
  window.__errors.push({message: String(e.reason), file: "",
    stack: String(e.reason && e.reason.stack || "")});
});
document.addEventListener("all-crowd-elements-ready", function () { window.__ready = true; });
</script>"""


def png(width: int, height: int) -> bytes:
    """A small RGB test card (a gradient), so annotation tools have pixels to show."""
    rows = b"".join(
        b"\0" + bytes(v for x in range(width) for v in (x * 255 // width, y * 255 // height, 128))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        checksum = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + checksum

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(b"\x80" * 4000)
    return out.getvalue()


IMAGE = png(320, 240)
MEDIA = {
    (".mp3", ".wav", ".ogg", ".flac", ".m4a"): ("audio/wav", wav()),
    (".pdf",): ("application/pdf", b"%PDF-1.1\n%%EOF\n"),
    (".txt", ".json", ".csv"): ("text/plain", b"sample text"),
    (".mp4", ".webm", ".mov"): ("video/mp4", b""),
}


def media_for(key: str) -> tuple[str, bytes]:
    lowered = key.lower()
    for suffixes, (kind, body) in MEDIA.items():
        if lowered.endswith(suffixes):
            return kind, body
    return "image/png", IMAGE


class TaskPages:
    """A local HTTP server for task pages; ``add`` returns the framing page's URL."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, and no Nagle delay between a response's headers and its body:
            # a page's dozen module scripts then arrive in a few milliseconds.
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def send(self, status: int, kind: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "max-age=3600")
                # The frame's origin is opaque: its module scripts are CORS requests.
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = unquote(urlsplit(self.path).path)
                if path.startswith("/static/"):
                    file = STATIC / path[len("/static/") :]
                    if file.is_file() and STATIC in file.resolve().parents:
                        kind = "text/javascript" if file.suffix == ".js" else "text/css"
                        self.send(200, kind + "; charset=utf-8", file.read_bytes())
                        return
                elif path.startswith("/objects/"):
                    kind, body = media_for(path)
                    self.send(200, kind, body)
                    return
                elif path.startswith("/task/") and path[6:] in pages:
                    self.send(200, "text/html; charset=utf-8", pages[path[6:]].encode())
                    return
                elif path.startswith("/frame/") and path[7:] in pages:
                    frame = (
                        "<!doctype html><meta charset=utf-8><title>task</title>"
                        "<style>body{margin:0}iframe{border:0;width:100vw;height:100vh}</style>"
                        f'<iframe sandbox="{SANDBOX}" src="/task/{path[7:]}"></iframe>'
                    )
                    self.send(200, "text/html; charset=utf-8", frame.encode())
                    return
                self.send(404, "text/plain", b"not found")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def grant(self, uri: str) -> str:
        bucket, _, key = uri[len("s3://") :].partition("/")
        return f"{self.origin}/objects/{quote(bucket)}/{quote(key)}?expires=1&signature=test"

    def add(self, page_id: str, rendered: str, seed: str | None = None) -> str:
        """The frame URL of a page; ``seed`` orders preference elements' responses, as the
        portal's per-task seed does (default: the page id)."""
        document = prerender_markdown(PROBE + rendered)
        self.pages[page_id] = frame_document(
            document, static_base="/static", seed=page_id if seed is None else seed
        )
        return f"{self.origin}/frame/{page_id}"


@contextmanager
def task_pages() -> Iterator[TaskPages]:
    pages = TaskPages()
    pages.thread.start()
    try:
        yield pages
    finally:
        pages.server.shutdown()
        pages.server.server_close()
