"""Requester access keys: created once, shown once, stored encrypted with the deployment key."""

from __future__ import annotations

import os
import secrets
import string
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Connection, func, insert, select, update

from handloop.errors import HandloopError, ResourceNotFound
from handloop.services.clock import Clock
from handloop.store import Database
from handloop.store.tables import access_keys

_ID_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"
DEPLOYMENT_KEY_FILE = "deployment.key"


class DeploymentKeyError(HandloopError):
    code = "InternalFailure"
    status = 500


def load_deployment_key(data_dir: Path, *, create: bool) -> bytes:
    """The deployment's secret key, from ``<data_dir>/deployment.key`` (made 0600 when new)."""
    path = data_dir / DEPLOYMENT_KEY_FILE
    if not path.exists():
        if not create:
            raise DeploymentKeyError(
                f"{path} does not exist: run `handloop init --data-dir {data_dir}` first."
            )
        # It holds the database (answers, password hashes) and this key: the owner's only.
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key())
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise DeploymentKeyError(
            f"{path} is readable by others (mode {mode:o}); run `chmod 600 {path}`."
        )
    return path.read_bytes().strip()


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    description: str
    created_us: int
    revoked_us: int | None


@dataclass(frozen=True)
class NewAccessKey:
    access_key_id: str
    secret_access_key: str


class AccessKeys:
    """Issues, lists, revokes and looks up requester keys."""

    def __init__(
        self, db: Database, deployment_key: bytes, clock: Clock, cache_seconds: float
    ) -> None:
        self._db = db
        self._fernet = Fernet(deployment_key)
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, str | None]] = {}

    def create(self, description: str = "") -> NewAccessKey:
        key_id = "HL" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(18))
        secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
        ciphertext = self._fernet.encrypt(secret.encode())
        self._db.write_now(
            lambda conn: conn.execute(
                insert(access_keys).values(
                    access_key_id=key_id,
                    secret_ciphertext=ciphertext,
                    description=description,
                    created_at=self._clock(),
                )
            )
        )
        return NewAccessKey(key_id, secret)

    def create_first(self) -> NewAccessKey | None:
        """A key when the deployment has none at all (fresh data directory), else None."""
        if self._db.read_now(
            lambda conn: conn.scalar(select(func.count()).select_from(access_keys))
        ):
            return None
        return self.create("first key, created at start-up")

    def list_all(self) -> list[AccessKey]:
        def op(conn: Connection) -> list[AccessKey]:
            rows = conn.execute(select(access_keys).order_by(access_keys.c.created_at)).all()
            return [
                AccessKey(r.access_key_id, r.description, r.created_at, r.revoked_at) for r in rows
            ]

        return self._db.read_now(op)

    def revoke(self, access_key_id: str) -> None:
        def op(conn: Connection) -> int:
            result = conn.execute(
                update(access_keys)
                .where(
                    access_keys.c.access_key_id == access_key_id, access_keys.c.revoked_at.is_(None)
                )
                .values(revoked_at=self._clock())
            )
            return result.rowcount

        if not self._db.write_now(op):
            raise ResourceNotFound(f"No active access key {access_key_id}.")
        self._cache.pop(access_key_id, None)

    async def secret_for(self, access_key_id: str) -> str | None:
        """The secret of an active key, or None. Cached for ``cache_seconds``; a key that
        is not cached is read (and decrypted) on the database's read pool, off the event
        loop."""
        hit = self._cache.get(access_key_id)
        if hit is not None and time.monotonic() - hit[0] < self._cache_seconds:
            return hit[1]

        def op(conn: Connection) -> str | None:
            ciphertext = conn.scalar(
                select(access_keys.c.secret_ciphertext).where(
                    access_keys.c.access_key_id == access_key_id,
                    access_keys.c.revoked_at.is_(None),
                )
            )
            if ciphertext is None:
                return None
            try:
                return self._fernet.decrypt(ciphertext).decode()
            except InvalidToken:
                raise DeploymentKeyError(
                    "An access key cannot be decrypted with this deployment key: the data "
                    "directory's deployment.key does not belong to this database."
                ) from None

        now = time.monotonic()
        secret = await self._db.read(op)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[access_key_id] = (now, secret)
        return secret
