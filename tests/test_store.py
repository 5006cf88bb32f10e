"""The store: migrations match the tables, WAL mode, and the batching write funnel."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, insert, select, text

from handloop.errors import ResourceInUse
from handloop.store import Database
from handloop.store.database import MIGRATIONS
from handloop.store.tables import human_task_uis, metadata


@pytest.fixture
def db(database_url: str | None, tmp_path: Path) -> Iterator[Database]:
    url = database_url or f"sqlite:///{tmp_path / 'handloop.db'}"
    database = Database(url, batch_size=64)
    database.migrate()
    database.start()
    try:
        yield database
    finally:
        database.close()


def test_migrations_produce_exactly_the_declared_schema(db: Database) -> None:
    with db.read_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_migrate_is_idempotent(db: Database) -> None:
    second = Database(db.url)  # another process starting on the same database
    try:
        second.migrate()
        with second.read_engine.connect() as conn:
            version = conn.scalar(text("SELECT version_num FROM alembic_version"))
        assert version == ScriptDirectory(str(MIGRATIONS)).get_current_head()
    finally:
        second.close()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        database.migrate()
        with database.read_engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        database.close()


def _insert_ui(name: str, fail: bool = False):  # type: ignore[no-untyped-def]
    def op(conn: Connection) -> str:
        conn.execute(
            insert(human_task_uis).values(
                name=name, content="x", content_sha256="0" * 64, config={}, created_at=1
            )
        )
        if fail:
            raise ResourceInUse(f"{name} refused after writing")
        return name

    return op


def test_a_failing_write_rolls_back_alone_in_a_shared_batch(db: Database) -> None:
    async def run() -> list[object]:
        ops = [db.write(_insert_ui(f"ui-{i}", fail=i % 3 == 0)) for i in range(30)]
        return await asyncio.gather(*ops, return_exceptions=True)

    results = asyncio.run(run())
    failed = [r for r in results if isinstance(r, ResourceInUse)]
    assert len(failed) == 10
    with db.read_engine.connect() as conn:
        stored = set(conn.scalars(select(human_task_uis.c.name)))
    assert stored == {f"ui-{i}" for i in range(30) if i % 3 != 0}


def test_a_constraint_violation_fails_only_its_own_write(db: Database) -> None:
    async def run() -> list[object]:
        return await asyncio.gather(
            db.write(_insert_ui("same")),
            db.write(_insert_ui("same")),
            db.write(_insert_ui("other")),
            return_exceptions=True,
        )

    results = asyncio.run(run())
    assert results[0] == "same" and results[2] == "other"
    assert isinstance(results[1], Exception)


def test_active_loop_counter_follows_every_status_change(db: Database) -> None:
    """Triggers keep flow_definitions.active_loops equal to its InProgress/Stopping loops."""
    from sqlalchemy import delete, func, update

    from handloop.store.tables import flow_definitions, human_loops, workforces, workteams

    def setup(conn: Connection) -> int:
        wf = conn.execute(
            insert(workforces).values(name="wf", config={}, created_at=1, updated_at=1)
        )
        team = conn.execute(
            insert(workteams).values(
                name="t",
                workforce_id=wf.inserted_primary_key[0],
                description="d",
                config={},
                created_at=1,
                updated_at=1,
            )
        )
        ui = conn.execute(
            insert(human_task_uis).values(
                name="u", content="x", content_sha256="0", config={}, created_at=1
            )
        )
        flow = conn.execute(
            insert(flow_definitions).values(
                name="f",
                workteam_id=team.inserted_primary_key[0],
                human_task_ui_id=ui.inserted_primary_key[0],
                task_count=1,
                task_time_limit_seconds=30,
                task_availability_lifetime_seconds=60,
                s3_output_path="s3://b/p",
                config={},
                created_at=1,
            )
        )
        flow_id = int(flow.inserted_primary_key[0])
        for i, status in enumerate(["InProgress", "InProgress", "Stopping", "Completed"]):
            conn.execute(
                insert(human_loops).values(
                    name=f"l{i}",
                    flow_definition_id=flow_id,
                    flow_definition_name="f",
                    s3_output_path="s3://b/p",
                    input_content="{}",
                    input_sha256="0",
                    status=status,
                    created_at=i,
                    updated_at=i,
                )
            )
        return flow_id

    flow_id = asyncio.run(db.write(setup))

    def counts(conn: Connection) -> tuple[int, int]:
        kept = conn.scalar(
            select(flow_definitions.c.active_loops).where(flow_definitions.c.id == flow_id)
        )
        actual = conn.scalar(
            select(func.count()).where(
                human_loops.c.flow_definition_id == flow_id,
                human_loops.c.status.in_(["InProgress", "Stopping"]),
            )
        )
        return int(kept or 0), int(actual or 0)

    assert db.read_now(counts) == (3, 3)
    changes = [
        update(human_loops).where(human_loops.c.name == "l0").values(status="Completed"),
        update(human_loops).where(human_loops.c.name == "l2").values(status="Stopped"),
        update(human_loops).where(human_loops.c.name == "l3").values(status="InProgress"),
        update(human_loops).where(human_loops.c.name == "l1").values(status="Stopping"),
        delete(human_loops).where(human_loops.c.name == "l3"),
        delete(human_loops).where(human_loops.c.name == "l0"),
    ]
    for change in changes:
        asyncio.run(db.write(lambda conn, c=change: conn.execute(c)))
        kept, actual = db.read_now(counts)
        assert kept == actual
    assert db.read_now(counts) == (1, 1)
