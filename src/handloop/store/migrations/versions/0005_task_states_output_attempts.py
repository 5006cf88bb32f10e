"""task rows outlive their turn; output writes are counted

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# TaskState's values when this revision was written.
STATES = "state IN ('active', 'submitted', 'declined', 'released', 'expired', 'revoked')"


def upgrade() -> None:
    # In place, even on SQLite: rebuilding human_loops there would delete every task
    # (ON DELETE CASCADE) and drop its triggers.
    op.add_column(
        "human_loops",
        sa.Column("output_attempts", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column("human_loops", sa.Column("output_retry_at", sa.BigInteger(), nullable=True))
    # SQLite cannot add a CHECK constraint in place: batch mode rebuilds ``tasks`` there.
    with op.batch_alter_table("tasks") as batch:
        batch.create_check_constraint(op.f("ck_tasks_known_state"), STATES)


def downgrade() -> None:
    # Rows of the states this revision added were deleted before it.
    op.execute("DELETE FROM tasks WHERE state IN ('released', 'expired', 'revoked')")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_constraint(op.f("ck_tasks_known_state"), type_="check")
    # In place again (SQLite drops columns since 3.35).
    op.drop_column("human_loops", "output_retry_at")
    op.drop_column("human_loops", "output_attempts")
