"""Migrations on databases that already hold data: nothing is lost on the way up or down."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy.exc import IntegrityError

from handloop.store import Database
from handloop.store.database import MIGRATIONS
from tests.support import create_postgres_database, drop_postgres_database

ROWS = [
    "INSERT INTO workforces (name, config, created_at, updated_at) VALUES ('d', '{}', 1, 1)",
    "INSERT INTO workteams (name, workforce_id, description, config, created_at, updated_at) "
    "VALUES ('t', 1, 'd', '{}', 1, 1)",
    "INSERT INTO human_task_uis (name, content, content_sha256, config, created_at) "
    "VALUES ('u', 'x', 'x', '{}', 1)",
    "INSERT INTO flow_definitions (name, workteam_id, human_task_ui_id, task_count, "
    "task_time_limit_seconds, task_availability_lifetime_seconds, s3_output_path, config, "
    "created_at) VALUES ('f', 1, 1, 2, 60, 100, 's3://b', '{}', 1)",
    "INSERT INTO human_loops (name, flow_definition_id, flow_definition_name, s3_output_path, "
    "input_content, input_sha256, status, created_at, updated_at) "
    "VALUES ('l', 1, 'f', 's3://b', '{}', 'x', 'InProgress', 5, 5)",
]


@contextlib.contextmanager
def database_at(
    revision: str, rows: list[str], tmp_path: Path, database_url: str | None
) -> Iterator[tuple[Database, Config]]:
    """A database of its own (SQLite, or PostgreSQL on that backend) migrated to
    ``revision`` with ``rows`` inserted, and the Alembic config to move it on with."""
    admin = os.environ.get("HANDLOOP_TEST_POSTGRES_URL")
    url = create_postgres_database(admin) if database_url and admin else None
    db = Database(url or f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with db.write_engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            for row in rows:
                conn.exec_driver_sql(row)
        yield db, config
    finally:
        db.close()
        if url and admin:
            drop_postgres_database(admin, url)


def test_loops_from_before_0002_take_their_flows_terms(
    tmp_path: Path, database_url: str | None
) -> None:
    with database_at("0001", ROWS, tmp_path, database_url) as (db, _):
        db.migrate()
        with db.read_engine.connect() as conn:
            loop = conn.exec_driver_sql(
                "SELECT task_count, task_time_limit_seconds, expires_at, claimed, submitted "
                "FROM human_loops"
            ).one()
        assert tuple(loop) == (2, 60, 5 + 100 * 1_000_000, 0, 0)


TASK_ROWS = [
    "INSERT INTO workers (worker_id, email, identity_provider, subject, created_at, "
    "updated_at) VALUES ('w1', 'a@example.com', 'Cognito', 's1', 1, 1)",
    "INSERT INTO workers (worker_id, email, identity_provider, subject, created_at, "
    "updated_at) VALUES ('w2', 'b@example.com', 'Cognito', 's2', 1, 1)",
    "UPDATE human_loops SET task_count = 2, claimed = 2, submitted = 1",
    "INSERT INTO tasks (public_id, human_loop_id, worker_id, state, accepted_at, lease_until) "
    "VALUES ('t1', 1, 1, 'active', 5, 99)",
    "INSERT INTO tasks (public_id, human_loop_id, worker_id, state, accepted_at) "
    "VALUES ('t2', 1, 2, 'submitted', 5)",
]


def test_0005_keeps_tasks_and_loops_and_refuses_unknown_task_states(
    tmp_path: Path, database_url: str | None
) -> None:
    with database_at("0004", ROWS + TASK_ROWS, tmp_path, database_url) as (db, config):
        db.migrate()
        with db.write_engine.begin() as conn:
            states = conn.exec_driver_sql("SELECT public_id, state FROM tasks ORDER BY id").all()
            assert [tuple(r) for r in states] == [("t1", "active"), ("t2", "submitted")]
            loop = conn.exec_driver_sql(
                "SELECT claimed, submitted, output_attempts, output_retry_at FROM human_loops"
            ).one()
            assert tuple(loop) == (2, 1, 0, None)
            conn.exec_driver_sql("UPDATE tasks SET state = 'expired' WHERE public_id = 't1'")
            # The triggers that count a flow's active loops survived the rebuilds.
            conn.exec_driver_sql("UPDATE human_loops SET status = 'Stopped'")
            assert conn.exec_driver_sql("SELECT active_loops FROM flow_definitions").scalar() == 0
        with pytest.raises(IntegrityError), db.write_engine.begin() as conn:
            conn.exec_driver_sql("UPDATE tasks SET state = 'lost' WHERE public_id = 't2'")
        # Down again: the states 0005 added go (their tasks were deleted before it).
        with db.write_engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0004")
            left = conn.exec_driver_sql("SELECT public_id FROM tasks").scalars().all()
            assert left == ["t2"]


def test_0006_renames_worker_references_and_keeps_them(
    tmp_path: Path, database_url: str | None
) -> None:
    rows = [
        *ROWS,
        *TASK_ROWS,
        "INSERT INTO worker_groups (worker_id, group_name) VALUES (1, 'g')",
        "INSERT INTO portal_sessions (token_sha256, worker_id, csrf_token, created_at, "
        "expires_at) VALUES ('s', 2, 'c', 1, 2)",
    ]
    with database_at("0005", rows, tmp_path, database_url) as (db, config):
        db.migrate()
        with db.write_engine.begin() as conn:
            for table, expected in [
                ("tasks", [1, 2]),
                ("worker_groups", [1]),
                ("portal_sessions", [2]),
            ]:
                found = conn.exec_driver_sql(f"SELECT worker_pk FROM {table} ORDER BY 1")
                assert found.scalars().all() == expected
            # The references still cascade from the worker's row.
            conn.exec_driver_sql("DELETE FROM workers WHERE id = 2")
            assert conn.exec_driver_sql("SELECT count(*) FROM portal_sessions").scalar() == 0
            tasks = conn.exec_driver_sql("SELECT worker_pk FROM tasks ORDER BY id")
            assert tasks.scalars().all() == [1, None]
        with db.write_engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0005")
            found = conn.exec_driver_sql("SELECT worker_id FROM worker_groups").scalars().all()
            assert found == [1]
