"""references to a worker's row are worker_pk; worker_id is only A2I's workerId

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:00:00

``workers.worker_id`` is the opaque id output files call ``workerId``; the columns of
``tasks``, ``worker_groups`` and ``portal_sessions`` that point at ``workers.id`` were
called ``worker_id`` too. They are renamed in place (SQLite 3.25+ and PostgreSQL both
have ``RENAME COLUMN``, which keeps indexes, constraints and triggers pointing at the
column), so no table is rebuilt.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = ("tasks", "worker_groups", "portal_sessions")


def _rename(old: str, new: str) -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} RENAME COLUMN {old} TO {new}")
        if postgres:
            # Foreign keys are named after their column (the metadata's naming convention).
            op.execute(
                f"ALTER TABLE {table} RENAME CONSTRAINT fk_{table}_{old}_workers "
                f"TO fk_{table}_{new}_workers"
            )


def upgrade() -> None:
    _rename("worker_id", "worker_pk")


def downgrade() -> None:
    _rename("worker_pk", "worker_id")
