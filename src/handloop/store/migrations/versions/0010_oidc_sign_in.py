"""OIDC sign-in: the issuer of a worker's subject, and sign-ins under way

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:00:00

Workers who sign in through the workforce's OIDC provider are rows like any other, with
``identity_provider="Oidc"``, the provider's subject and now its issuer (the column is
added in place, NULL for built-in accounts). A sign-in under way keeps its state (hashed),
nonce and PKCE verifier in ``oidc_sign_ins`` until the provider sends the worker back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("workers", sa.Column("issuer", sa.String(500), nullable=True))
    op.create_table(
        "oidc_sign_ins",
        sa.Column("state_sha256", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("next_path", sa.String(2048), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("state_sha256", name=op.f("pk_oidc_sign_ins")),
    )
    op.create_index("ix_oidc_sign_ins_expires_at", "oidc_sign_ins", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_oidc_sign_ins_expires_at", table_name="oidc_sign_ins")
    op.drop_table("oidc_sign_ins")
    # In place (SQLite 3.35+ and PostgreSQL both have DROP COLUMN): rebuilding the table, as
    # a batch operation would, deletes what cascades from its rows on SQLite.
    op.execute("ALTER TABLE workers DROP COLUMN issuer")
