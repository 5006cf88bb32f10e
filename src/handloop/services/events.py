"""Status-change events: written to an outbox in the transaction that changes the status,
then delivered at least once to registered webhooks (and read by the event stream)."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import json
import logging
import ssl
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from sqlalchemy import Connection, bindparam, delete, exists, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from handloop.domain.arns import ArnFactory
from handloop.domain.output_layout import output_uri
from handloop.domain.timestamps import to_datetime
from handloop.errors import ResourceInUse, ResourceNotFound, ValidationError
from handloop.services.clock import Clock
from handloop.store import Database
from handloop.store.tables import deliveries, events, webhooks

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

DETAIL_TYPE = "SageMaker A2I HumanLoop Status Change"
SIGNATURE_HEADER = "X-Handloop-Signature"
TIMESTAMP_HEADER = "X-Handloop-Timestamp"
MAX_BACKOFF_SECONDS = 3600

# Every status change runs these: built once.
_INSERT_EVENT = insert(events)
# A pending delivery to every webhook registered at this moment.
_INSERT_DELIVERIES = insert(deliveries).from_select(
    ["event_id", "webhook_id", "attempts", "next_attempt_at"],
    select(
        bindparam("event", type_=deliveries.c.event_id.type),
        webhooks.c.id,
        literal(0, deliveries.c.attempts.type),
        bindparam("now", type_=deliveries.c.next_attempt_at.type),
    ),
)


def iso_ms(us: int) -> str:
    return to_datetime(us).strftime("%Y-%m-%dT%H:%M:%S.") + f"{(us // 1000) % 1000:03d}Z"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``{timestamp}.{body}`` with the webhook's secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def record_status_change(
    conn: Connection, arns: ArnFactory, loop: Any, status: str, now: int
) -> None:
    """Add the EventBridge-shaped event of ``loop`` reaching ``status`` to the outbox, with a
    pending delivery to every webhook registered at this moment (same transaction)."""
    failure_code = getattr(loop, "failure_code", None)
    failure_reason = getattr(loop, "failure_reason", None)
    if status != "Failed":
        failure_code = failure_reason = None
    loop_arn = arns.build("human-loop", loop.name)
    body = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": "aws.sagemaker",
        "account": arns.account_id,
        "time": to_datetime(now).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": arns.region,
        "resources": [loop_arn],
        "detail": {
            "creationTime": iso_ms(loop.created_at),
            "failureCode": failure_code,
            "failureReason": failure_reason,
            "flowDefinitionArn": arns.build("flow-definition", loop.flow_definition_name),
            "humanLoopArn": loop_arn,
            "humanLoopName": loop.name,
            "humanLoopOutput": {
                "outputS3Uri": output_uri(
                    loop.s3_output_path, loop.flow_definition_name, loop.name, loop.created_at
                )
            },
            "humanLoopStatus": status,
        },
    }
    key = conn.execute(
        _INSERT_EVENT, {"human_loop_name": loop.name, "body": body, "created_at": now}
    ).inserted_primary_key
    assert key is not None
    conn.execute(_INSERT_DELIVERIES, {"event": key[0], "now": now})


def record_event(
    conn: Connection,
    arns: ArnFactory,
    *,
    detail_type: str,
    source: str,
    resources: list[str],
    detail: dict[str, Any],
    key: str,
    now: int,
) -> None:
    """Add an event of handloop's own (EventBridge-shaped, as the loops' status changes)
    to the outbox, with a pending delivery to every webhook (same transaction). ``key`` is
    what the event is about (stored where loop events store the loop's name)."""
    body = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": arns.account_id,
        "time": to_datetime(now).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": arns.region,
        "resources": resources,
        "detail": detail,
    }
    row = conn.execute(
        _INSERT_EVENT, {"human_loop_name": key[:63], "body": body, "created_at": now}
    ).inserted_primary_key
    assert row is not None
    conn.execute(_INSERT_DELIVERIES, {"event": row[0], "now": now})


@dataclass(frozen=True)
class Webhook:
    id: int
    url: str
    created_us: int
    pending: int


@dataclass(frozen=True)
class _Due:
    event_id: int
    webhook_id: int
    attempts: int
    url: str
    secret: str
    body: dict[str, Any]


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"'{url}' is not an http:// or https:// URL.")
    if len(url) > 2048:
        raise ValidationError("A webhook URL can have at most 2048 characters.")
    return url


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The system's trust store (as urllib used), made once: loading it takes a while."""
    return ssl.create_default_context()


class Events:
    """The outbox: webhooks registered by the administrator, delivery, and reading back."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        deployment_key: bytes,
        *,
        timeout_seconds: float,
        max_attempts: int,
        retention_days: float = 0.0,
    ) -> None:
        self._db = db
        self._clock = clock
        self._fernet = Fernet(deployment_key)
        self._timeout = timeout_seconds
        self._max_attempts = max_attempts
        self._retention_us = int(retention_days * 86_400 * 1_000_000)
        # Webhook id -> the task delivering to it (one at a time per webhook).
        self._busy: dict[int, asyncio.Task[int]] = {}

    # -- webhooks (CLI) --------------------------------------------------------------------

    def add_webhook(self, url: str, secret: str) -> Webhook:
        url = check_url(url)
        if not secret:
            raise ValidationError("A webhook secret cannot be empty.")
        now = self._clock()

        def op(conn: Connection) -> Webhook:
            try:
                key = conn.execute(
                    insert(webhooks).values(
                        url=url,
                        secret_ciphertext=self._fernet.encrypt(secret.encode()),
                        created_at=now,
                    )
                ).inserted_primary_key
            except IntegrityError:
                raise ResourceInUse(f"Webhook {url} is already registered.") from None
            assert key is not None
            return Webhook(key[0], url, now, 0)

        return self._db.write_now(op)

    def list_webhooks(self) -> list[Webhook]:
        def op(conn: Connection) -> list[Webhook]:
            found = []
            for row in conn.execute(select(webhooks).order_by(webhooks.c.id)).all():
                pending = conn.execute(
                    select(deliveries.c.event_id).where(
                        deliveries.c.webhook_id == row.id, deliveries.c.delivered_at.is_(None)
                    )
                ).all()
                found.append(Webhook(row.id, row.url, row.created_at, len(pending)))
            return found

        return self._db.read_now(op)

    def remove_webhook(self, url: str) -> None:
        def op(conn: Connection) -> int:
            return conn.execute(delete(webhooks).where(webhooks.c.url == url)).rowcount

        if not self._db.write_now(op):
            raise ResourceNotFound(f"No webhook {url} is registered.")

    # -- delivery (scheduler) ----------------------------------------------------------------

    async def start_deliveries(self, limit: int = 64) -> list[asyncio.Task[int]]:
        """Start delivering, on a task of its own, to each webhook that has deliveries due
        and none in flight; the tasks started (not waited for).

        A receiver that is slow or never answers holds up its own deliveries only: the
        others' are started on the next call as usual."""
        now = self._clock()
        busy = list(self._busy)

        def read(conn: Connection) -> list[int]:
            query = (
                select(deliveries.c.webhook_id)
                .where(*self._due(now))
                .distinct()
                .order_by(deliveries.c.webhook_id)
            )
            if busy:
                query = query.where(deliveries.c.webhook_id.not_in(busy))
            return list(conn.scalars(query).all())

        started: list[asyncio.Task[int]] = []
        for webhook_id in await self._db.read(read):
            if webhook_id in self._busy:  # started by another call meanwhile
                continue
            task = asyncio.create_task(
                self._deliver_to(webhook_id, limit), name=f"handloop-webhook-{webhook_id}"
            )
            self._busy[webhook_id] = task
            task.add_done_callback(functools.partial(self._done, webhook_id))
            started.append(task)
        return started

    async def deliver_due(self, limit: int = 64) -> int:
        """Deliver what is due now and wait for it; the number delivered."""
        started = await self.start_deliveries(limit)
        return sum(await asyncio.gather(*started))

    async def stop_deliveries(self) -> None:
        """Cancel the deliveries in flight (at shutdown): they stay due, and are retried."""
        running = list(self._busy.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    def _done(self, webhook_id: int, task: asyncio.Task[int]) -> None:
        if self._busy.get(webhook_id) is task:
            del self._busy[webhook_id]
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook delivery failed", exc_info=task.exception())

    def _due(self, now: int) -> tuple[ColumnElement[bool], ...]:
        return (
            deliveries.c.delivered_at.is_(None),
            deliveries.c.next_attempt_at <= now,
            deliveries.c.attempts < self._max_attempts,
        )

    async def _deliver_to(self, webhook_id: int, limit: int) -> int:
        """POST one webhook's due deliveries, ``limit`` at a time, while they succeed; the
        number delivered."""
        import httpx  # only the server delivers: commands need not load it

        delivered = 0
        # No redirects: one must not carry an event to a URL the administrator did not
        # register (a 3xx is a failed delivery).
        async with httpx.AsyncClient(
            verify=_tls_context(), follow_redirects=False, timeout=self._timeout
        ) as client:
            while True:
                due = await self._db.read(functools.partial(self._read_due, webhook_id, limit))
                if not due:
                    return delivered
                outcomes = await asyncio.gather(*(self._post(client, d) for d in due))
                await self._db.write(functools.partial(self._record, due, outcomes, self._clock()))
                succeeded = outcomes.count(None)
                delivered += succeeded
                # A full batch that all went through: more may be waiting for this receiver.
                if len(due) < limit or succeeded < len(due):
                    return delivered

    def _read_due(self, webhook_id: int, limit: int, conn: Connection) -> list[_Due]:
        rows = conn.execute(
            select(
                deliveries.c.event_id,
                deliveries.c.webhook_id,
                deliveries.c.attempts,
                webhooks.c.url,
                webhooks.c.secret_ciphertext,
                events.c.body,
            )
            .join(webhooks, webhooks.c.id == deliveries.c.webhook_id)
            .join(events, events.c.id == deliveries.c.event_id)
            .where(deliveries.c.webhook_id == webhook_id, *self._due(self._clock()))
            .order_by(deliveries.c.event_id)
            .limit(limit)
        ).all()
        return [
            _Due(
                r.event_id,
                r.webhook_id,
                r.attempts,
                r.url,
                self._fernet.decrypt(r.secret_ciphertext).decode(),
                r.body,
            )
            for r in rows
        ]

    @staticmethod
    def _record(due: list[_Due], outcomes: list[str | None], done: int, conn: Connection) -> None:
        for item, error in zip(due, outcomes, strict=True):
            where = (
                deliveries.c.event_id == item.event_id,
                deliveries.c.webhook_id == item.webhook_id,
            )
            if error is None:
                conn.execute(update(deliveries).where(*where).values(delivered_at=done))
                continue
            backoff = min(2**item.attempts, MAX_BACKOFF_SECONDS)
            conn.execute(
                update(deliveries)
                .where(*where)
                .values(
                    attempts=item.attempts + 1,
                    next_attempt_at=done + backoff * 1_000_000,
                    last_error=error[:512],
                )
            )

    async def _post(self, client: httpx.AsyncClient, item: _Due) -> str | None:
        """POST one event; None when the receiver answered 2xx, else what went wrong.

        The whole exchange (connecting, sending, the receiver's status line and headers)
        has ``timeout_seconds``: a receiver that drips its answer a byte at a time cannot
        hold a delivery longer. The response body is not read."""
        body = json.dumps(item.body, separators=(",", ":")).encode()
        stamp = str(self._clock() // 1_000_000)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "handloop-webhooks",
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: signature(item.secret, stamp, body),
            "X-Handloop-Event-Id": str(item.body["id"]),
        }
        try:
            async with (
                asyncio.timeout(self._timeout),
                client.stream("POST", item.url, content=body, headers=headers) as response,
            ):
                status = response.status_code
        except TimeoutError:
            return f"no answer within {self._timeout:g} s"
        except Exception as exc:  # whatever the receiver or the network did: retried later
            return f"{type(exc).__name__}: {exc}"
        return None if 200 <= status < 300 else f"HTTP {status}"

    # -- retention (scheduler) -------------------------------------------------------------

    async def prune(self, limit: int = 5000) -> int:
        """Delete up to ``limit`` events older than the retention time that no webhook still
        waits for (each delivery done or given up); how many. Nothing without a retention."""
        if not self._retention_us:
            return 0
        cutoff = self._clock() - self._retention_us
        waited_for = exists().where(
            deliveries.c.event_id == events.c.id,
            deliveries.c.delivered_at.is_(None),
            deliveries.c.attempts < self._max_attempts,
        )
        old = (
            select(events.c.id)
            .where(events.c.created_at < cutoff, ~waited_for)
            .order_by(events.c.id)
            .limit(limit)
        )

        def op(conn: Connection) -> int:
            ids: list[int] = list(conn.scalars(old).all())
            if not ids:
                return 0
            conn.execute(delete(deliveries).where(deliveries.c.event_id.in_(ids)))
            return conn.execute(delete(events).where(events.c.id.in_(ids))).rowcount

        return await self._db.write(op)

    # -- reading (the event stream) ----------------------------------------------------------

    async def after(self, event_id: int, limit: int = 100) -> list[tuple[int, dict[str, Any]]]:
        """Events with ids above ``event_id``, oldest first."""
        rows = await self._db.read(
            lambda conn: conn.execute(
                select(events.c.id, events.c.body)
                .where(events.c.id > event_id)
                .order_by(events.c.id)
                .limit(limit)
            ).all()
        )
        return [(r.id, r.body) for r in rows]

    async def last_id(self) -> int:
        found = await self._db.read(
            lambda conn: conn.scalar(select(events.c.id).order_by(events.c.id.desc()).limit(1))
        )
        return int(found or 0)
