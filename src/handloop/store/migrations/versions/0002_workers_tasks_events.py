"""workers, portal sessions, tasks, events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from handloop.store import triggers

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column[int]:
    return sa.Column("id", Id, autoincrement=True, nullable=False)


def upgrade() -> None:
    # SQLite cannot add CHECK constraints in place: batch mode rebuilds the table there.
    with op.batch_alter_table("human_loops") as batch:
        batch.add_column(sa.Column("task_count", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(
            sa.Column(
                "task_time_limit_seconds", sa.Integer(), server_default="3600", nullable=False
            )
        )
        batch.add_column(sa.Column("expires_at", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("claimed", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("submitted", sa.Integer(), server_default="0", nullable=False))
        batch.create_check_constraint(
            op.f("ck_human_loops_claims_within_task_count"), "claimed <= task_count"
        )
        batch.create_check_constraint(
            op.f("ck_human_loops_submitted_within_claims"), "submitted <= claimed"
        )
    triggers.restore_after_sqlite_rebuild(op.get_bind())
    # Loops started before this revision take their terms from their flow definition.
    op.execute(
        """
        UPDATE human_loops SET
          task_count = (SELECT f.task_count FROM flow_definitions f
                        WHERE f.id = human_loops.flow_definition_id),
          task_time_limit_seconds = (SELECT f.task_time_limit_seconds FROM flow_definitions f
                                     WHERE f.id = human_loops.flow_definition_id),
          expires_at = created_at + 1000000 * (
            SELECT f.task_availability_lifetime_seconds FROM flow_definitions f
            WHERE f.id = human_loops.flow_definition_id)
        WHERE flow_definition_id IS NOT NULL
        """
    )
    open_loops = sa.text("status = 'InProgress'")
    op.create_index(
        "ix_human_loops_open",
        "human_loops",
        ["flow_definition_id", "id"],
        postgresql_where=open_loops,
        sqlite_where=open_loops,
    )
    op.create_table(
        "workers",
        _id(),
        sa.Column("worker_id", sa.String(32), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=True),
        sa.Column("identity_provider", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("disabled_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
        sa.UniqueConstraint("worker_id", name=op.f("uq_workers_worker_id")),
        sa.UniqueConstraint("email", name=op.f("uq_workers_email")),
        sa.UniqueConstraint("subject", name=op.f("uq_workers_subject")),
    )
    op.create_table(
        "worker_groups",
        sa.Column("worker_id", Id, nullable=False),
        sa.Column("group_name", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["workers.id"],
            name=op.f("fk_worker_groups_worker_id_workers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("worker_id", "group_name", name=op.f("pk_worker_groups")),
    )
    op.create_index("ix_worker_groups_group_name", "worker_groups", ["group_name"])
    op.create_table(
        "invitations",
        _id(),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_invitations_token_sha256")),
    )
    op.create_table(
        "portal_sessions",
        _id(),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("worker_id", Id, nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["workers.id"],
            name=op.f("fk_portal_sessions_worker_id_workers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_sessions")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_portal_sessions_token_sha256")),
    )
    op.create_table(
        "tasks",
        _id(),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("human_loop_id", Id, nullable=False),
        sa.Column("worker_id", Id, nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("accepted_at", sa.BigInteger(), nullable=False),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.Column("submitted_at", sa.BigInteger(), nullable=True),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.Column("time_spent_ms", sa.BigInteger(), nullable=True),
        sa.Column("identity", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["human_loop_id"],
            ["human_loops.id"],
            name=op.f("fk_tasks_human_loop_id_human_loops"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["workers.id"],
            name=op.f("fk_tasks_worker_id_workers"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("public_id", name=op.f("uq_tasks_public_id")),
        sa.UniqueConstraint("human_loop_id", "worker_id", name="uq_tasks_loop_worker"),
    )
    op.create_index("ix_tasks_worker_state", "tasks", ["worker_id", "state"])
    op.create_index("ix_tasks_state_lease", "tasks", ["state", "lease_until"])
    op.create_table(
        "webhooks",
        _id(),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
        sa.UniqueConstraint("url", name=op.f("uq_webhooks_url")),
    )
    op.create_table(
        "events",
        _id(),
        sa.Column("human_loop_name", sa.String(63), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_table(
        "deliveries",
        sa.Column("event_id", Id, nullable=False),
        sa.Column("webhook_id", Id, nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger(), nullable=False),
        sa.Column("delivered_at", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.String(512), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_deliveries_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_deliveries_webhook_id_webhooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "webhook_id", name=op.f("pk_deliveries")),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["delivered_at", "next_attempt_at"])


def downgrade() -> None:
    for table in ("deliveries", "events", "webhooks", "tasks", "portal_sessions", "invitations"):
        op.drop_table(table)
    op.drop_table("worker_groups")
    op.drop_index("ix_human_loops_open", table_name="human_loops")
    op.drop_table("workers")
    with op.batch_alter_table("human_loops") as batch:
        batch.drop_constraint(op.f("ck_human_loops_submitted_within_claims"), type_="check")
        batch.drop_constraint(op.f("ck_human_loops_claims_within_task_count"), type_="check")
        for column in ("submitted", "claimed", "expires_at", "task_time_limit_seconds"):
            batch.drop_column(column)
        batch.drop_column("task_count")
    triggers.restore_after_sqlite_rebuild(op.get_bind())
