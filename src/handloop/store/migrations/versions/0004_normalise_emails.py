"""emails in their one form: Unicode NFC, lower case

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 09:00:00

Sign-in, the command line and invitations now look emails up in NFC and lower case
(``services.workers.normalise_email``). Stored emails are brought to that form here. When
two workers' emails have the same form (the same address typed once composed, once
decomposed, both accepted before), the one already in that form keeps it and the other is
left unchanged and logged: an administrator removes it by its worker id. The rule is
copied, not imported, so that this revision does what it did whatever the code becomes.
"""

from __future__ import annotations

import logging
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

log = logging.getLogger("handloop.migrations")

workers = sa.table(
    "workers", sa.column("id", sa.Integer), sa.column("worker_id"), sa.column("email")
)
invitations = sa.table("invitations", sa.column("id", sa.Integer), sa.column("email"))


def _normal(email: str) -> str:
    return unicodedata.normalize("NFC", email.strip().lower())


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(workers.c.id, workers.c.worker_id, workers.c.email).order_by(workers.c.id)
    ).all()
    taken = {row.email for row in rows}
    for row in rows:
        normal = _normal(row.email)
        if normal == row.email:
            continue
        if normal in taken or len(normal) > 254:
            log.warning(
                "worker %s keeps its email %a: its normal form %a is another worker's; "
                "it cannot sign in until one of them is removed",
                row.worker_id,
                row.email,
                normal,
            )
            continue
        conn.execute(sa.update(workers).where(workers.c.id == row.id).values(email=normal))
        taken.discard(row.email)
        taken.add(normal)
    for invitation in conn.execute(sa.select(invitations.c.id, invitations.c.email)).all():
        normal = _normal(invitation.email)
        if normal != invitation.email and len(normal) <= 254:
            conn.execute(
                sa.update(invitations).where(invitations.c.id == invitation.id).values(email=normal)
            )


def downgrade() -> None:
    """Nothing to undo: the normal form is a valid stored email too."""
