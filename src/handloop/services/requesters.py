"""Requesters: the people who use the console (/console). They are not workers: accounts
of their own (``handloop requesters add``), no default account, sessions of their own.

Passwords are argon2 hashes as workers' are; a session is an opaque cookie token (only its
hash is stored) and a CSRF token, as the portal's sessions are.

With ``HANDLOOP_CONSOLE_OIDC_GROUP``, members of that group sign in through the workforce's
OIDC provider instead (``services.oidc`` verifies the provider's answer): such a requester
is found or created by the provider's (issuer, subject) and has no password.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from handloop.domain.json_values import check_text
from handloop.errors import (
    Forbidden,
    NotSignedIn,
    ResourceInUse,
    ResourceNotFound,
    ValidationError,
)
from handloop.services.clock import Clock
from handloop.services.oidc import Identity, SignInRefused
from handloop.services.workers import check_email, check_password, normalise_email, token_digest
from handloop.settings import Settings
from handloop.store import Database
from handloop.store.tables import console_sessions, requesters

_DUMMY_PASSWORD = "not a password of any requester"


@dataclass(frozen=True)
class Requester:
    id: int
    email: str
    created_us: int
    # The OIDC provider the requester signs in through; None for a password account.
    issuer: str | None = None


@dataclass(frozen=True)
class ConsoleSession:
    requester: Requester
    csrf_token: str


def _record(row: Any) -> Requester:
    return Requester(id=row.id, email=row.email, created_us=row.created_at, issuer=row.issuer)


class Requesters:
    """Requester accounts and their console sessions."""

    # Every console request looks its session up; a short cache spares the database. A
    # requester removed from another process is signed out within this time.
    CACHE_SECONDS = 2.0

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        session_hours: float,
        insecure_cheap_hashes: bool = False,
    ) -> None:
        self._db = db
        self._clock = clock
        self._hasher = PasswordHasher()
        if insecure_cheap_hashes:  # test suites only (Settings.insecure_cheap_password_hashes)
            self._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
        self._dummy_hash = self._hasher.hash(_DUMMY_PASSWORD)
        self._lifetime_us = int(session_hours * 3600 * 1_000_000)
        self._cache: dict[str, tuple[float, ConsoleSession | None, int]] = {}

    # -- accounts (CLI) -----------------------------------------------------------------------

    def add(self, email: str, password: str) -> Requester:
        email = check_email(email)
        check_password(password)
        hashed = self._hasher.hash(password)
        now = self._clock()

        def op(conn: Connection) -> Requester:
            if conn.scalar(select(requesters.c.id).where(requesters.c.email == email)):
                raise ResourceInUse(f"A requester with email {email} already exists.")
            try:
                key = conn.execute(
                    insert(requesters).values(
                        email=email, password_hash=hashed, created_at=now, updated_at=now
                    )
                ).inserted_primary_key
            except IntegrityError:
                raise ResourceInUse(f"A requester with email {email} already exists.") from None
            assert key is not None
            return Requester(key[0], email, now)

        return self._db.write_now(op)

    def list_all(self) -> list[Requester]:
        return self._db.read_now(
            lambda conn: [
                _record(row)
                for row in conn.execute(select(requesters).order_by(requesters.c.email)).all()
            ]
        )

    def remove(self, email: str) -> Requester:
        """Delete a requester; their sessions end with them."""
        email = normalise_email(email)

        def op(conn: Connection) -> Requester:
            row = conn.execute(select(requesters).where(requesters.c.email == email)).first()
            if row is None:
                raise ResourceNotFound(f"No requester {email}.")
            conn.execute(delete(console_sessions).where(console_sessions.c.requester_id == row.id))
            conn.execute(delete(requesters).where(requesters.c.id == row.id))
            return _record(row)

        found = self._db.write_now(op)
        self._cache.clear()
        return found

    # -- sign-in ------------------------------------------------------------------------------

    def verify_password(self, email: str, password: str) -> Requester:
        """The requester with this email and password, else NotSignedIn (CPU-bound). Text no
        email or password can hold (invalid Unicode, NUL) is a ValidationError."""
        email = normalise_email(email)
        check_text(password, "The password")
        try:
            email = check_email(email)
        except ValidationError:
            raise NotSignedIn("Wrong email or password.") from None
        row = self._db.read_now(
            lambda conn: conn.execute(select(requesters).where(requesters.c.email == email)).first()
        )
        try:
            self._hasher.verify(row.password_hash if row else self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            raise NotSignedIn("Wrong email or password.") from None
        if row is None:
            raise NotSignedIn("Wrong email or password.")
        return _record(row)

    async def has_passwords(self) -> bool:
        """Whether any requester signs in with a password."""
        found = await self._db.read(
            lambda conn: conn.scalar(
                select(requesters.c.id).where(requesters.c.issuer.is_(None)).limit(1)
            )
        )
        return found is not None

    async def from_provider(self, identity: Identity, group: str) -> Requester:
        """The requester the provider's verified answer signs in: Forbidden unless its
        groups include ``group`` (HANDLOOP_CONSOLE_OIDC_GROUP); found by (issuer, subject),
        or created with the provider's email (an address of the subject's own when the
        email is missing or another requester's)."""
        groups = identity.groups or []
        if group not in groups:
            held = ", ".join(groups) if groups else "none"
            raise Forbidden(
                f"You signed in to the identity provider, but the console is open only to the "
                f"members of its group '{group}', and the provider puts you in other groups "
                f"(yours: {held[:300]}). Ask your administrator to add you to '{group}'."
            )
        issuer, subject, email = identity.issuer, identity.subject, identity.email
        fallback = f"{token_digest(issuer + chr(10) + subject)[:32]}@oidc.invalid"
        now = self._clock()

        def op(conn: Connection) -> Requester:
            row = conn.execute(
                select(requesters).where(
                    requesters.c.issuer == issuer, requesters.c.subject == subject
                )
            ).first()
            address = email
            if address is not None:
                owner = conn.execute(
                    select(requesters.c.issuer, requesters.c.subject).where(
                        requesters.c.email == address
                    )
                ).first()
                if owner is not None and tuple(owner) != (issuer, subject):
                    address = None  # another account's (a password one's): not taken from it
            if row is None:
                key = conn.execute(
                    insert(requesters).values(
                        email=address or fallback,
                        password_hash="",  # no password verifies against an empty hash
                        issuer=issuer,
                        subject=subject,
                        created_at=now,
                        updated_at=now,
                    )
                ).inserted_primary_key
                assert key is not None
                return Requester(key[0], address or fallback, now, issuer)
            if address is not None and address != row.email:
                conn.execute(
                    update(requesters)
                    .where(requesters.c.id == row.id)
                    .values(email=address, updated_at=now)
                )
                return Requester(row.id, address, row.created_at, issuer)
            return _record(row)

        for attempt in range(2):
            try:
                found: Requester = await self._db.write(op)
                return found
            except IntegrityError:
                # The same person signing in twice at once; the second try sees the row.
                if attempt:
                    raise SignInRefused(
                        "This account was being signed in elsewhere at the same moment; "
                        "sign in again."
                    ) from None
        raise AssertionError("unreachable")

    # -- sessions -----------------------------------------------------------------------------

    async def start_session(self, requester: Requester) -> tuple[str, str]:
        """A new console session: (cookie token, CSRF token)."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = self._clock()

        def op(conn: Connection) -> None:
            conn.execute(delete(console_sessions).where(console_sessions.c.expires_at <= now))
            conn.execute(
                insert(console_sessions).values(
                    token_sha256=token_digest(token),
                    requester_id=requester.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + self._lifetime_us,
                )
            )

        await self._db.write(op)
        return token, csrf

    async def session(self, token: str) -> ConsoleSession | None:
        """The live session of this cookie token, else None."""
        now = self._clock()
        digest = token_digest(token)
        hit = self._cache.get(digest)
        if hit is not None and time.monotonic() - hit[0] < self.CACHE_SECONDS and hit[2] > now:
            return hit[1]

        def op(conn: Connection) -> tuple[ConsoleSession | None, int]:
            row = conn.execute(
                select(
                    console_sessions,
                    requesters.c.email,
                    requesters.c.created_at.label("since"),
                    requesters.c.issuer,
                )
                .join(requesters, requesters.c.id == console_sessions.c.requester_id)
                .where(console_sessions.c.token_sha256 == digest)
            ).first()
            if row is None or row.expires_at <= now:
                return None, now
            requester = Requester(row.requester_id, row.email, row.since, row.issuer)
            return ConsoleSession(requester, row.csrf_token), row.expires_at

        found, expires = await self._db.read(op)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (time.monotonic(), found, expires)
        return found

    async def end_session(self, token: str) -> None:
        digest = token_digest(token)
        self._cache.pop(digest, None)
        await self._db.write(
            lambda conn: conn.execute(
                delete(console_sessions).where(console_sessions.c.token_sha256 == digest)
            )
        )


def open_requesters(db: Database, clock: Clock, settings: Settings) -> Requesters:
    """The requesters of a deployment: the console and the CLI hash passwords alike."""
    return Requesters(
        db,
        clock,
        session_hours=settings.session_hours,
        insecure_cheap_hashes=settings.insecure_cheap_password_hashes,
    )
