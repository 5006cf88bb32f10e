"""Access-key lookups: a key that is not cached is read off the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from handloop.services.access_keys import AccessKeys
from handloop.services.clock import system_clock
from handloop.store import Database


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'handloop.db'}")
    db.migrate()
    yield db
    db.close()


def test_a_lookup_reads_in_a_worker_thread_then_from_the_cache(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = AccessKeys(database, Fernet.generate_key(), system_clock, cache_seconds=60)
    new = keys.create("lookup")
    readers: list[int] = []
    read_now = database.read_now

    def spy(op: Any) -> Any:
        readers.append(threading.get_ident())
        return read_now(op)

    monkeypatch.setattr(database, "read_now", spy)

    async def lookups() -> tuple[int, list[str | None]]:
        found = [
            await keys.secret_for(new.access_key_id),
            await keys.secret_for(new.access_key_id),
            await keys.secret_for("HLNOSUCHKEY000000000"),
        ]
        return threading.get_ident(), found

    loop_thread, found = asyncio.run(lookups())
    assert found == [new.secret_access_key, new.secret_access_key, None]
    assert len(readers) == 2  # the second lookup of the key came from the cache
    assert loop_thread not in readers
