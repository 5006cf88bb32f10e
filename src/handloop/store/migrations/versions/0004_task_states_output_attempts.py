"""task rows outlive their turn; output writes are counted

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from handloop.store import triggers

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# TaskState's values when this revision was written.
STATES = "state IN ('active', 'submitted', 'declined', 'released', 'expired', 'revoked')"


def upgrade() -> None:
    # Adding columns needs no rebuild, even on SQLite; the triggers stay.
    with op.batch_alter_table("human_loops") as batch:
        batch.add_column(
            sa.Column("output_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("output_retry_at", sa.BigInteger(), nullable=True))
    triggers.restore_after_sqlite_rebuild(op.get_bind())
    # SQLite cannot add a CHECK constraint in place: batch mode rebuilds ``tasks`` there.
    with op.batch_alter_table("tasks") as batch:
        batch.create_check_constraint(op.f("ck_tasks_known_state"), STATES)


def downgrade() -> None:
    # Rows of the states this revision added were deleted before it.
    op.execute("DELETE FROM tasks WHERE state IN ('released', 'expired', 'revoked')")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_constraint(op.f("ck_tasks_known_state"), type_="check")
    with op.batch_alter_table("human_loops") as batch:
        batch.drop_column("output_retry_at")
        batch.drop_column("output_attempts")
    triggers.restore_after_sqlite_rebuild(op.get_bind())
