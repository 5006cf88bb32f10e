"""Revision 0002 on a database that already holds loops: they get their flow's terms."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from handloop.store import Database
from handloop.store.database import MIGRATIONS

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


def test_loops_from_before_0002_take_their_flows_terms(
    tmp_path: Path, database_url: str | None
) -> None:
    db = Database(database_url or f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with db.write_engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0001")
            for row in ROWS:
                conn.exec_driver_sql(row)
        db.migrate()
        with db.read_engine.connect() as conn:
            loop = conn.exec_driver_sql(
                "SELECT task_count, task_time_limit_seconds, expires_at, claimed, submitted "
                "FROM human_loops"
            ).one()
        assert tuple(loop) == (2, 60, 5 + 100 * 1_000_000, 0, 0)
    finally:
        db.close()
