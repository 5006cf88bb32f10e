"""Portal sessions: an opaque cookie token (only its hash is stored) and a CSRF token."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select

from handloop.domain.records import Worker
from handloop.services.clock import Clock
from handloop.services.workers import load_worker, token_digest
from handloop.store import Database
from handloop.store.tables import portal_sessions


@dataclass(frozen=True)
class Session:
    worker: Worker
    csrf_token: str


class Sessions:
    # Every portal request looks its session up; a short cache spares the database. A
    # worker disabled from another process is signed out within this time.
    CACHE_SECONDS = 2.0

    def __init__(self, db: Database, clock: Clock, *, hours: float) -> None:
        self._db = db
        self._clock = clock
        self._lifetime_us = int(hours * 3600 * 1_000_000)
        self._cache: dict[str, tuple[float, Session | None, int]] = {}

    async def start(self, worker: Worker) -> tuple[str, str]:
        """A new session for ``worker``: (cookie token, CSRF token)."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = self._clock()

        def op(conn: Connection) -> None:
            conn.execute(delete(portal_sessions).where(portal_sessions.c.expires_at <= now))
            conn.execute(
                insert(portal_sessions).values(
                    token_sha256=token_digest(token),
                    worker_pk=worker.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + self._lifetime_us,
                )
            )

        await self._db.write(op)
        return token, csrf

    async def get(self, token: str) -> Session | None:
        """The live session of an enabled worker for this cookie token, else None."""
        now = self._clock()
        digest = token_digest(token)
        hit = self._cache.get(digest)
        if hit is not None and time.monotonic() - hit[0] < self.CACHE_SECONDS and hit[2] > now:
            return hit[1]

        def op(conn: Connection) -> tuple[Session | None, int]:
            row = conn.execute(
                select(portal_sessions).where(portal_sessions.c.token_sha256 == digest)
            ).first()
            if row is None or row.expires_at <= now:
                return None, now
            worker = load_worker(conn, id=row.worker_pk)
            if worker is None or worker.disabled:
                return None, now
            return Session(worker, row.csrf_token), row.expires_at

        session, expires = await self._db.read(op)
        if len(self._cache) > 50_000:
            self._cache.clear()
        self._cache[digest] = (time.monotonic(), session, expires)
        return session

    async def end(self, token: str) -> None:
        self._cache.pop(token_digest(token), None)
        await self._db.write(
            lambda conn: conn.execute(
                delete(portal_sessions).where(portal_sessions.c.token_sha256 == token_digest(token))
            )
        )
