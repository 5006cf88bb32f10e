"""Scheduled work of a running server: finishing stops, lease and availability expiry,
completing loops whose output is due, webhook delivery, and pruning old events.

With several processes on one PostgreSQL, one of them runs it: the one holding a
session-level advisory lock (released by PostgreSQL when that process dies, so another
takes over). With SQLite there is one process. Every step is also safe to run twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import Connection, text

from handloop.services import Services
from handloop.store import Database

log = logging.getLogger(__name__)

RUNNER_LOCK = 0x68616E646C6F6F70 & 0x7FFFFFFFFFFFFFFF  # "handloop"


class RunnerElection:
    """Whether this process is the one that runs scheduled work."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn: Connection | None = None
        self._held = False

    def is_runner(self) -> bool:
        if self._db.is_sqlite:
            return True
        try:
            if self._conn is None or self._conn.closed or self._conn.invalidated:
                self._held = False
                self._conn = self._db.write_engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                )
            if self._held:
                self._conn.execute(text("SELECT 1"))  # still connected, so still holding it
                return True
            self._held = bool(
                self._conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": RUNNER_LOCK})
            )
        except Exception:
            log.warning("lost the scheduler's database connection; re-electing")
            self.close()
        return self._held

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None
        self._held = False


class Scheduler:
    # Old events go in batches, a few minutes apart: no hurry, and no long write.
    PRUNE_EVERY_SECONDS = 300.0

    def __init__(self, services: Services, interval_seconds: float = 0.5) -> None:
        self._services = services
        self._interval = interval_seconds
        self._election = RunnerElection(services.db)
        self._electing = asyncio.Lock()
        self._pruned_at: float | None = None

    async def _is_runner(self) -> bool:
        async with self._electing:  # the election's connection is used by one at a time
            return await asyncio.to_thread(self._election.is_runner)

    async def tick(self) -> None:
        """Sweeps: finish stops, expire leases and loops, complete loops whose output is due,
        and finish evaluation jobs whose loops have all ended."""
        if not await self._is_runner():
            return
        s = self._services
        await s.human_loops.finish_stopping()
        await s.tasks.expire_leases()
        await s.tasks.expire_loops()
        await s.outputs.repair()
        await s.evaluations.advance()
        now = time.monotonic()
        if self._pruned_at is None or now - self._pruned_at >= self.PRUNE_EVERY_SECONDS:
            self._pruned_at = now
            pruned = await s.events.prune()
            if pruned:
                log.info("deleted %d status-change events past their retention time", pruned)

    async def deliver(self) -> None:
        """Start webhook deliveries, each webhook on a task of its own: neither the sweeps nor
        the other webhooks wait for a slow receiver."""
        if await self._is_runner():
            await self._services.events.start_deliveries()

    async def _every_interval(self, step: Callable[[], Awaitable[None]]) -> None:
        # A step that keeps failing the same way logs its traceback once, then one line a
        # time: the log stays readable while, say, the database is away.
        last_error: str | None = None
        while True:
            try:
                await step()
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                if error != last_error:
                    log.exception("scheduled work failed; retrying")
                else:
                    log.warning("scheduled work failed again; retrying: %s", error[:300])
                last_error = error
            else:
                last_error = None
            await asyncio.sleep(self._interval)

    async def run(self) -> None:
        """Run the sweeps and the deliveries forever; a failing step is logged and retried."""
        try:
            await asyncio.gather(
                self._every_interval(self.tick), self._every_interval(self.deliver)
            )
        finally:
            await self._services.events.stop_deliveries()
            await asyncio.to_thread(self._election.close)
