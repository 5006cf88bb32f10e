"""``GET /events``: human loop status-change events as server-sent events, for requesters
(SigV4-signed like every AWS call; any signing service name handloop serves will do).

Each message is one EventBridge-shaped event (the webhooks' body)::

    id: 42
    event: HumanLoopStatusChange
    data: {"source": "aws.sagemaker", "detail-type": "...", "detail": {...}}

handloop's own events carry their detail-type as the event name (``handloop.worker.paused``,
docs/quality.md).

A client resumes with ``Last-Event-ID`` (or ``?after=ID``); without either it receives
events from the moment it connects. ``?after=0`` replays every stored event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

from starlette.types import Receive, Scope, Send

from handloop.errors import ValidationError
from handloop.protocols.request_text import parse_form
from handloop.services import Services

PATH = "/events"
POLL_SECONDS = 0.25
KEEPALIVE_SECONDS = 15.0


def is_events_request(scope: Scope) -> bool:
    return bool(scope["path"] == PATH)


async def _start_id(services: Services, scope: Scope, headers: dict[str, str]) -> int:
    query = parse_form(scope["query_string"].decode("latin-1"), "the query")
    given = headers.get("last-event-id") or query.get("after") or None
    if given is None:
        return await services.events.last_id()
    # ASCII digits only (str.isdigit takes '²'), and few enough for a 64-bit column.
    if not (given.isascii() and given.isdigit() and len(given) <= 18):
        raise ValidationError("Last-Event-ID and ?after= take an event id (an integer).")
    return int(given)


async def stream_events(
    services: Services, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
) -> None:
    if scope["method"] != "GET":
        raise ValidationError("The event stream is read with GET /events.")
    cursor = await _start_id(services, scope, headers)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/event-stream; charset=utf-8"),
                (b"cache-control", b"no-cache"),
                (b"x-accel-buffering", b"no"),
            ],
        }
    )
    disconnected = asyncio.Event()

    async def watch() -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected.set()
                return

    watcher = asyncio.create_task(watch())
    try:
        await send({"type": "http.response.body", "body": b": stream open\n\n", "more_body": True})
        quiet_since = time.monotonic()
        while not disconnected.is_set():
            batch = await services.events.after(cursor)
            for event_id, body in batch:
                chunk = (
                    f"id: {event_id}\nevent: {_event_name(body)}\n"
                    f"data: {json.dumps(body, separators=(',', ':'))}\n\n"
                )
                await send(
                    {"type": "http.response.body", "body": chunk.encode(), "more_body": True}
                )
                cursor = event_id
            if batch:
                quiet_since = time.monotonic()
                continue
            if time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                await send({"type": "http.response.body", "body": b": ping\n\n", "more_body": True})
                quiet_since = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(disconnected.wait(), POLL_SECONDS)
    except OSError:
        pass  # the client went away mid-write
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    with contextlib.suppress(Exception):
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _event_name(body: dict[str, object]) -> str:
    """A loop's status change is ``HumanLoopStatusChange``; handloop's own events are named
    by their detail-type."""
    kind = body.get("detail-type")
    if body.get("source") == "handloop" and isinstance(kind, str):
        return kind
    return "HumanLoopStatusChange"
