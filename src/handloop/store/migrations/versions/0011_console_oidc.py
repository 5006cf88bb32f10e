"""Console sign-in through the workforce's OIDC provider

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 09:00:00

A sign-in under way now says whom it signs in (``purpose``: ``worker`` for the portal,
``console`` for the requester console), so the one callback, ``/oauth2/idpresponse``,
knows which session to open. Requesters who sign in through the provider are rows of
``requesters`` with its issuer and subject (added in place, NULL for password accounts;
unique together) and no password (an empty hash, which no password verifies against).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "oidc_sign_ins",
        sa.Column("purpose", sa.String(16), nullable=False, server_default="worker"),
    )
    op.add_column("requesters", sa.Column("issuer", sa.String(500), nullable=True))
    op.add_column("requesters", sa.Column("subject", sa.String(255), nullable=True))
    op.create_index(
        "uq_requesters_issuer_subject", "requesters", ["issuer", "subject"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_requesters_issuer_subject", table_name="requesters")
    # In place (SQLite 3.35+ and PostgreSQL both have DROP COLUMN): rebuilding the table, as
    # a batch operation would, deletes what cascades from its rows on SQLite. Requesters of
    # the provider stay, with no way to sign in (no password).
    op.execute("ALTER TABLE requesters DROP COLUMN subject")
    op.execute("ALTER TABLE requesters DROP COLUMN issuer")
    op.execute("ALTER TABLE oidc_sign_ins DROP COLUMN purpose")
