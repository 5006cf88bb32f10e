"""the requester console: requesters, their sessions, and counters kept by triggers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 20:00:00

Requesters sign in to /console with accounts of their own (not workers). The console's
overview reads a flow's loops per status and its answers and completions per hour from
counters that database triggers keep (store/console_counters.py), filled here from the
loops and tasks already stored; a new index lists a flow's loops of one status by creation
time at any depth. Nothing is rebuilt: tables and an index are added, triggers created.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from handloop.store import console_counters

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "requesters",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_requesters"),
        sa.UniqueConstraint("email", name="uq_requesters_email"),
    )
    op.create_table(
        "console_sessions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("requester_id", Id, nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_console_sessions"),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["requesters.id"],
            name="fk_console_sessions_requester_id_requesters",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("token_sha256", name="uq_console_sessions_token_sha256"),
    )
    op.create_table(
        "flow_loop_counts",
        sa.Column("flow_definition_name", sa.String(63), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("loops", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("flow_definition_name", "status", name="pk_flow_loop_counts"),
    )
    op.create_table(
        "flow_hourly",
        sa.Column("flow_definition_name", sa.String(63), nullable=False),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("answers", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("completed", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("flow_definition_name", "hour", name="pk_flow_hourly"),
    )
    op.create_index(
        "ix_human_loops_flow_status_created",
        "human_loops",
        ["flow_definition_name", "status", "created_at", "id"],
    )
    bind = op.get_bind()
    console_counters.fill_console_counters(bind)
    console_counters.create_console_triggers(bind)


def downgrade() -> None:
    console_counters.drop_console_triggers(op.get_bind())
    op.drop_index("ix_human_loops_flow_status_created", table_name="human_loops")
    op.drop_table("flow_hourly")
    op.drop_table("flow_loop_counts")
    op.drop_table("console_sessions")
    op.drop_table("requesters")
