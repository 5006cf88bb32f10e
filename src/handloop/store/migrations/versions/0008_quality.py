"""quality control: gold items and their tasks, workers' figures, adaptive overlap

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 18:00:00

Flows tagged with handloop's quality settings serve gold items (scored, never output),
give a disagreeing loop more answers up to a cap (human_loops.max_task_count, rounds,
stop_reason: plain columns, added in place), and keep each worker's figures per flow.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("human_loops", sa.Column("max_task_count", sa.Integer(), nullable=True))
    op.add_column(
        "human_loops", sa.Column("rounds", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("human_loops", sa.Column("stop_reason", sa.String(16), nullable=True))
    op.create_table(
        "gold_items",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("flow_definition_name", sa.String(63), nullable=False),
        sa.Column("input_content", sa.Text(), nullable=False),
        sa.Column("input_sha256", sa.String(64), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gold_items"),
        sa.UniqueConstraint(
            "flow_definition_name", "input_sha256", name="uq_gold_items_flow_input"
        ),
    )
    op.create_index("ix_gold_items_flow_definition_name", "gold_items", ["flow_definition_name"])
    op.create_table(
        "gold_tasks",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("gold_item_id", Id, nullable=False),
        sa.Column("worker_pk", Id, nullable=False),
        sa.Column("flow_definition_name", sa.String(63), nullable=False),
        sa.Column("loop_name", sa.String(63), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("accepted_at", sa.BigInteger(), nullable=False),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.Column("submitted_at", sa.BigInteger(), nullable=True),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("time_spent_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_gold_tasks"),
        sa.ForeignKeyConstraint(
            ["gold_item_id"],
            ["gold_items.id"],
            name="fk_gold_tasks_gold_item_id_gold_items",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["worker_pk"],
            ["workers.id"],
            name="fk_gold_tasks_worker_pk_workers",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("public_id", name="uq_gold_tasks_public_id"),
        sa.UniqueConstraint("gold_item_id", "worker_pk", name="uq_gold_tasks_item_worker"),
    )
    op.create_index(
        "ix_gold_tasks_worker_flow", "gold_tasks", ["worker_pk", "flow_definition_name", "state"]
    )
    op.create_table(
        "worker_quality",
        sa.Column("worker_pk", Id, nullable=False),
        sa.Column("flow_definition_name", sa.String(63), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("answers", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("gold_answers", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("gold_score_sum", sa.Float(), nullable=False, server_default="0"),
        sa.Column("agreement_n", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("agreement_sum", sa.Float(), nullable=False, server_default="0"),
        sa.Column("first_picks", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("position_choices", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("median_ms", sa.BigInteger(), nullable=True),
        sa.Column("flow_median_ms", sa.BigInteger(), nullable=True),
        sa.Column("trust", sa.Float(), nullable=True),
        sa.Column("paused_at", sa.BigInteger(), nullable=True),
        sa.Column("paused_reason", sa.String(512), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("worker_pk", "flow_definition_name", name="pk_worker_quality"),
        sa.ForeignKeyConstraint(
            ["worker_pk"],
            ["workers.id"],
            name="fk_worker_quality_worker_pk_workers",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("worker_quality")
    op.drop_index("ix_gold_tasks_worker_flow", table_name="gold_tasks")
    op.drop_table("gold_tasks")
    op.drop_index("ix_gold_items_flow_definition_name", table_name="gold_items")
    op.drop_table("gold_items")
    op.drop_column("human_loops", "stop_reason")
    op.drop_column("human_loops", "rounds")
    op.drop_column("human_loops", "max_task_count")
