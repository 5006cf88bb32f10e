"""The workforce's people: built-in sign-in accounts, their groups, one-time invitations.

Workers are identified to requesters only by ``worker_id`` (A2I's opaque workerId) and
identity data (provider, issuer, subject), as A2I's output does; other tables refer to a
worker's row by ``worker_pk``. OIDC workers are rows with
``identity_provider="Oidc"``, the provider's subject and its issuer; sign-in is the only
part that differs (``services.oidc`` finds or creates them by issuer and subject, and sets
their groups from the provider's claim at each sign-in).
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from handloop.domain.json_values import check_text
from handloop.domain.records import Worker
from handloop.domain.statuses import TaskState
from handloop.errors import NotSignedIn, ResourceInUse, ResourceNotFound, ValidationError
from handloop.services.clock import Clock
from handloop.services.lifecycle import return_to_pool, revoke_outside_teams
from handloop.store import Database
from handloop.store.tables import invitations, portal_sessions, tasks, worker_groups
from handloop.store.tables import workers as workers_table

BUILT_IN = "Cognito"  # A2I's identityProviderType for a workforce's own sign-in
MIN_PASSWORD = 8
# Verifying against this keeps unknown emails as slow as wrong passwords.
_DUMMY_PASSWORD = "not a password of anyone"
_DUMMY_HASH = PasswordHasher().hash(_DUMMY_PASSWORD)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    """The one form handloop stores and looks up an email in: surrounding white space
    removed, Unicode NFC, lower case (so an address typed with a composed or a decomposed
    accent, or in capitals, is one account). Invalid Unicode, NUL and other control
    characters are refused: they are never part of an address."""
    check_text(email, "An email address")
    email = email.strip()
    if any(unicodedata.category(c) == "Cc" for c in email):
        raise ValidationError("An email address cannot contain control characters.")
    return unicodedata.normalize("NFC", email.lower())


def check_email(email: str) -> str:
    """``email`` in its one form (``normalise_email``) if it looks like an address."""
    email = normalise_email(email)
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254 or any(c.isspace() for c in email):
        raise ValidationError(f"'{email}' is not an email address.")
    return email


def check_password(password: str) -> None:
    check_text(password, "A password")
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"A password needs at least {MIN_PASSWORD} characters.")
    if len(password) > 1024:
        raise ValidationError("A password can have at most 1024 characters.")


def check_groups(groups: Iterable[str]) -> list[str]:
    names = sorted({check_text(g, "A group name").strip() for g in groups})
    for name in names:
        if not name or len(name) > 128:
            raise ValidationError(f"'{name}' is not a group name (1 to 128 characters).")
    return names


def load_worker(conn: Connection, **where: Any) -> Worker | None:
    query = select(workers_table)
    for column, value in where.items():
        query = query.where(workers_table.c[column] == value)
    row = conn.execute(query).first()
    if row is None:
        return None
    groups: Sequence[str] = conn.scalars(
        select(worker_groups.c.group_name)
        .where(worker_groups.c.worker_pk == row.id)
        .order_by(worker_groups.c.group_name)
    ).all()
    return Worker(
        id=row.id,
        worker_id=row.worker_id,
        email=row.email,
        identity_provider=row.identity_provider,
        subject=row.subject,
        groups=tuple(groups),
        disabled=row.disabled_at is not None,
        created_us=row.created_at,
        issuer=row.issuer,
    )


class Workers:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        invitation_hours: float,
        insecure_cheap_hashes: bool = False,
    ) -> None:
        self._db = db
        self._clock = clock
        self._hasher = PasswordHasher()
        self._dummy_hash = _DUMMY_HASH
        if insecure_cheap_hashes:  # test suites only: see Settings.insecure_cheap_password_hashes
            self._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
            self._dummy_hash = self._hasher.hash(_DUMMY_PASSWORD)
        self._invitation_us = int(invitation_hours * 3600 * 1_000_000)

    # -- provisioning (CLI, demo) ------------------------------------------------------------

    def _insert(
        self, conn: Connection, email: str, password_hash: str | None, groups: list[str]
    ) -> Worker:
        now = self._clock()
        try:
            key = conn.execute(
                insert(workers_table).values(
                    worker_id=secrets.token_hex(8),
                    email=email,
                    password_hash=password_hash,
                    identity_provider=BUILT_IN,
                    subject=str(uuid.uuid4()),
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key
        except IntegrityError:
            raise ResourceInUse(f"A worker with email {email} already exists.") from None
        assert key is not None
        for group in groups:
            conn.execute(insert(worker_groups).values(worker_pk=key[0], group_name=group))
        found = load_worker(conn, id=key[0])
        assert found is not None
        return found

    def add(self, email: str, password: str, groups: Iterable[str]) -> Worker:
        """A worker who signs in with ``password``."""
        email = check_email(email)
        check_password(password)
        names = check_groups(groups)
        hashed = self._hasher.hash(password)

        def op(conn: Connection) -> Worker:
            if load_worker(conn, email=email) is not None:
                raise ResourceInUse(f"A worker with email {email} already exists.")
            return self._insert(conn, email, hashed, names)

        return self._db.write_now(op)

    def invite(self, email: str, groups: Iterable[str]) -> str:
        """A one-time sign-up token for ``email``; the link is the portal's /join/{token}."""
        email = check_email(email)
        names = check_groups(groups)
        token = secrets.token_urlsafe(32)
        now = self._clock()

        def op(conn: Connection) -> None:
            if load_worker(conn, email=email) is not None:
                raise ResourceInUse(f"A worker with email {email} already exists.")
            conn.execute(
                insert(invitations).values(
                    token_sha256=token_digest(token),
                    email=email,
                    groups=names,
                    created_at=now,
                    expires_at=now + self._invitation_us,
                )
            )

        self._db.write_now(op)
        return token

    def list_all(self) -> list[Worker]:
        def op(conn: Connection) -> list[Worker]:
            ids: Sequence[int] = conn.scalars(
                select(workers_table.c.id).order_by(workers_table.c.email)
            ).all()
            return [w for w in (load_worker(conn, id=i) for i in ids) if w is not None]

        return self._db.read_now(op)

    def _find(self, conn: Connection, who: str) -> Worker:
        found = load_worker(conn, email=normalise_email(who)) or load_worker(conn, worker_id=who)
        if found is None:
            raise ResourceNotFound(f"No worker {who}.")
        return found

    def set_disabled(self, who: str, disabled: bool) -> Worker:
        """Disable (sessions end, held tasks go back to the pool) or enable a worker."""

        def op(conn: Connection) -> Worker:
            worker = self._find(conn, who)
            conn.execute(
                update(workers_table)
                .where(workers_table.c.id == worker.id)
                .values(disabled_at=self._clock() if disabled else None, updated_at=self._clock())
            )
            if disabled:
                conn.execute(
                    delete(portal_sessions).where(portal_sessions.c.worker_pk == worker.id)
                )
                return_to_pool(conn, tasks.c.worker_pk == worker.id, TaskState.REVOKED)
            found = load_worker(conn, id=worker.id)
            assert found is not None
            return found

        return self._db.write_now(op)

    def set_groups(self, who: str, add: Iterable[str], remove: Iterable[str]) -> Worker:
        """Add the worker to groups and take them out of others (team membership). Tasks
        they hold in a team they are no longer part of go back to the pool at once."""
        joining, leaving = check_groups(add), check_groups(remove)

        def op(conn: Connection) -> Worker:
            worker = self._find(conn, who)
            for group in leaving:
                conn.execute(
                    delete(worker_groups).where(
                        worker_groups.c.worker_pk == worker.id,
                        worker_groups.c.group_name == group,
                    )
                )
            for group in joining:
                if group not in worker.groups or group in leaving:
                    conn.execute(
                        insert(worker_groups).values(worker_pk=worker.id, group_name=group)
                    )
            found = load_worker(conn, id=worker.id)
            assert found is not None
            revoke_outside_teams(conn, found)
            return found

        return self._db.write_now(op)

    def remove(self, who: str) -> Worker:
        """Delete a worker; answers they submitted stay in their loops' outputs."""

        def op(conn: Connection) -> Worker:
            worker = self._find(conn, who)
            return_to_pool(conn, tasks.c.worker_pk == worker.id, TaskState.REVOKED)
            # Their answers stay, without a worker; their other turns go with them.
            conn.execute(
                delete(tasks).where(
                    tasks.c.worker_pk == worker.id, tasks.c.state != TaskState.SUBMITTED.value
                )
            )
            conn.execute(delete(workers_table).where(workers_table.c.id == worker.id))
            return worker

        return self._db.write_now(op)

    # -- sign-in ----------------------------------------------------------------------------

    def verify_password(self, email: str, password: str) -> Worker:
        """The active worker with this email and password, else NotSignedIn (CPU-bound).
        Text no email or password can hold (invalid Unicode, NUL) is a ValidationError."""
        email = normalise_email(email)
        check_text(password, "The password")
        try:
            email = check_email(email)
        except ValidationError:
            raise NotSignedIn("Wrong email or password.") from None
        found = self._db.read_now(
            lambda conn: (
                load_worker(conn, email=email),
                conn.scalar(
                    select(workers_table.c.password_hash).where(workers_table.c.email == email)
                ),
            )
        )
        worker, hashed = found
        try:
            self._hasher.verify(hashed or self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            raise NotSignedIn("Wrong email or password.") from None
        if worker is None or hashed is None:
            raise NotSignedIn("Wrong email or password.")
        if worker.disabled:
            raise NotSignedIn("This account is disabled; ask your administrator.")
        return worker

    def invitation_email(self, token: str) -> str:
        """The email an unused, unexpired invitation is for, else NotSignedIn."""
        row = self._db.read_now(
            lambda conn: conn.execute(
                select(invitations).where(invitations.c.token_sha256 == token_digest(token))
            ).first()
        )
        if row is None or row.used_at is not None or row.expires_at <= self._clock():
            raise ValidationError("This sign-up link is not valid: it was used or has expired.")
        return str(row.email)

    async def accept_invitation(self, token: str, password: str) -> Worker:
        """Create the invited worker with ``password``; the link then stops working."""
        check_password(password)
        hashed = self._hasher.hash(password)
        now = self._clock()

        def op(conn: Connection) -> Worker:
            row = conn.execute(
                select(invitations).where(invitations.c.token_sha256 == token_digest(token))
            ).first()
            if row is None or row.used_at is not None or row.expires_at <= now:
                raise ValidationError("This sign-up link is not valid: it was used or has expired.")
            used = conn.execute(
                update(invitations)
                .where(invitations.c.id == row.id, invitations.c.used_at.is_(None))
                .values(used_at=now)
            )
            if used.rowcount != 1:
                raise ValidationError("This sign-up link was just used.")
            return self._insert(conn, row.email, hashed, list(row.groups))

        return await self._db.write(op)
