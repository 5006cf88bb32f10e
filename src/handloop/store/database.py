"""Engines, migrations and the write funnel.

Every state change goes through :meth:`Database.write`: one writer thread per process runs
queued operations back to back inside one transaction (each under its own savepoint, so a
failing operation is rolled back alone) and commits once. Concurrent requests therefore
share a commit, which is what makes SQLite fast under load, and SQLite never sees two
writers in one process. Reads run on a pool of their own connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from handloop.errors import MissingExtra, ValidationError

log = logging.getLogger(__name__)

T = TypeVar("T")
WriteOp = Callable[[Connection], T]
# Who waits for a write: a coroutine (an asyncio future of its loop) or a thread.
Waiter = asyncio.Future[Any] | Future[Any]
Outcome = tuple[Waiter, Any, BaseException | None]

MIGRATIONS = Path(__file__).parent / "migrations"
# PostgreSQL's deadlock_detected and serialization_failure: the operation was rolled back
# and can simply run again. Batches of operations from several processes lock rows in no
# common order, so deadlocks between processes are expected, if rare.
TRANSIENT_SQLSTATES = {"40P01", "40001"}
WRITE_ATTEMPTS = 5


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and (
        getattr(exc.orig, "sqlstate", None) in TRANSIENT_SQLSTATES
    )


def _sqlite_engine(url: str, *, writer: bool) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=1 if writer else 8,
        max_overflow=0 if writer else 8,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, issue BEGIN so savepoints work (SQLAlchemy docs,
        # "Serializable isolation / Savepoints / Transactional DDL").
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


def _create_private_file(path: Path) -> None:
    """Create the SQLite file (and its folder) readable by the owner only, if missing.

    SQLite gives the -wal and -shm files the database file's mode, so they are private too.
    An existing file or folder keeps the mode its owner chose."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _settle(outcomes: list[Outcome]) -> None:
    for fut, result, error in outcomes:
        if fut.done():  # an asyncio waiter that was cancelled
            continue
        if error is not None:
            fut.set_exception(error)
        else:
            fut.set_result(result)


def _settle_all(outcomes: list[Outcome]) -> None:
    """Hand each waiter its outcome: threads directly, coroutines through their event loop,
    with one wake-up per loop for the whole batch."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
    for outcome in outcomes:
        fut = outcome[0]
        if isinstance(fut, asyncio.Future):
            by_loop.setdefault(fut.get_loop(), []).append(outcome)
        else:
            _settle([outcome])
    for loop, settled in by_loop.items():
        # A closed loop raises RuntimeError: nobody waits there any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, settled)


class Database:
    """The store's engines and its single write funnel."""

    def __init__(self, url: str, *, batch_size: int = 256) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # The SQLite database file, when there is one.
        self.sqlite_path: Path | None = None
        if self.is_sqlite:
            path = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
            if path and path != ":memory:" and not path.startswith("file:"):
                self.sqlite_path = Path(path)
                _create_private_file(self.sqlite_path)
            self.write_engine = _sqlite_engine(url, writer=True)
            self.read_engine = _sqlite_engine(url, writer=False)
        else:
            try:
                self.write_engine = create_engine(
                    url, pool_size=4, max_overflow=4, pool_pre_ping=True
                )
            except ModuleNotFoundError as exc:
                scheme = url.partition(":")[0]
                if exc.name == "psycopg":
                    raise MissingExtra("postgres", f"A {scheme}:// database URL") from None
                raise ValidationError(
                    f"A {scheme}:// database URL needs the Python module '{exc.name}', which is "
                    "not installed (handloop speaks sqlite:/// and postgresql+psycopg://)."
                ) from None
            except (ArgumentError, NoSuchModuleError):
                raise ValidationError(
                    f"'{url.partition(':')[0]}' is not a database URL scheme handloop knows "
                    "(sqlite:///PATH or postgresql+psycopg://USER@HOST/DB)."
                ) from None
            self.read_engine = create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)
        self.batch_size = batch_size
        self._queue: queue.SimpleQueue[tuple[WriteOp[Any], Waiter] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    # -- schema -------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the newest migration."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.write_engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    # -- writes -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run_writer, name="handloop-writer", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self.write_engine.dispose()
        self.read_engine.dispose()

    async def write(self, op: WriteOp[T]) -> T:
        """Run ``op`` in the writer thread, in a transaction shared with concurrent writes."""
        if self._thread is None:
            raise RuntimeError("Database.start() was not called")
        loop = asyncio.get_running_loop()
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            fut: asyncio.Future[T] = loop.create_future()
            self._queue.put((op, fut))
            try:
                return await fut
            except Exception as exc:
                if attempt == WRITE_ATTEMPTS or not is_transient(exc):
                    raise
                log.info("write rolled back by the database (%s); running it again", exc)
        raise AssertionError("unreachable")

    def write_now(self, op: WriteOp[T]) -> T:
        """Run ``op`` in its own transaction on the calling thread (CLI, start-up); once the
        writer thread runs, through it (waiting), as SQLite has one writer connection."""
        if self._thread is not None and threading.current_thread() is not self._thread:
            fut: Future[T] = Future()
            self._queue.put((op, fut))
            return fut.result()
        with self.write_engine.begin() as conn:
            return op(conn)

    def _run_writer(self) -> None:
        conn = self.write_engine.connect()
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                batch = [item]
                stop = False
                while len(batch) < self.batch_size:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        stop = True
                        break
                    batch.append(nxt)
                conn = self._run_batch(conn, batch)
                if stop:
                    return
        finally:
            conn.close()

    def _run_batch(self, conn: Connection, batch: list[tuple[WriteOp[Any], Waiter]]) -> Connection:
        outcomes: list[Outcome] = []
        try:
            with conn.begin():
                if len(batch) == 1:
                    op, fut = batch[0]
                    try:
                        outcomes.append((fut, op(conn), None))
                    except Exception as exc:
                        outcomes.append((fut, None, exc))
                        raise
                else:
                    # Savepoints straight on the driver connection: SQLAlchemy's nested
                    # transaction objects cost more than the statements they wrap.
                    raw = conn.connection.driver_connection
                    assert raw is not None
                    for op, fut in batch:
                        raw.execute("SAVEPOINT handloop_op")
                        try:
                            result = op(conn)
                        except Exception as exc:
                            raw.execute("ROLLBACK TO SAVEPOINT handloop_op")
                            raw.execute("RELEASE SAVEPOINT handloop_op")
                            outcomes.append((fut, None, exc))
                        else:
                            raw.execute("RELEASE SAVEPOINT handloop_op")
                            outcomes.append((fut, result, None))
        except Exception as exc:  # the commit (or a lone op) failed: nothing was written
            if not (len(batch) == 1 and outcomes and outcomes[0][2] is exc):
                log.exception("write batch of %d failed", len(batch))
                outcomes = [(fut, None, exc) for _, fut in batch]
            if conn.invalidated or conn.closed:
                conn = self.write_engine.connect()
        _settle_all(outcomes)
        return conn

    # -- reads --------------------------------------------------------------------------

    async def read(self, op: Callable[[Connection], T]) -> T:
        """Run ``op`` on a read connection in a worker thread."""
        return await asyncio.to_thread(self.read_now, op)

    def read_now(self, op: Callable[[Connection], T]) -> T:
        with self.read_engine.connect() as conn:
            if self.is_sqlite:
                with conn.begin():
                    return op(conn)
            return op(conn)
