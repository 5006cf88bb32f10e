"""evaluation jobs, and the job a human loop belongs to

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 16:00:00

Bedrock-style human model-evaluation jobs start one loop per prompt on a flow definition,
with a task UI generated from the job's metrics; each loop points at its job.
The column is added in place, without a foreign key (see tables.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "evaluation_jobs",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(12), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("flow_definition_name", sa.String(63), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("client_request_token", sa.String(256), nullable=True),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("failure_messages", sa.JSON(), nullable=True),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evaluation_jobs"),
        sa.UniqueConstraint("job_id", name="uq_evaluation_jobs_job_id"),
        sa.UniqueConstraint("name", name="uq_evaluation_jobs_name"),
    )
    # A plain column (see tables.py): SQLite and PostgreSQL both add it in place.
    op.add_column("human_loops", sa.Column("evaluation_job_id", Id, nullable=True))
    op.create_index("ix_human_loops_evaluation_job_id", "human_loops", ["evaluation_job_id"])


def downgrade() -> None:
    op.drop_index("ix_human_loops_evaluation_job_id", table_name="human_loops")
    op.drop_column("human_loops", "evaluation_job_id")
    op.drop_table("evaluation_jobs")
