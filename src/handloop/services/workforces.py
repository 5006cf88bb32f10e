"""The deployment's one private workforce: its workers' sign-in and allowed addresses."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, exists, insert, select, update

from handloop.domain.records import Workforce
from handloop.errors import ResourceInUse, ResourceLimitExceeded, ResourceNotFound, ValidationError
from handloop.services.clock import Clock
from handloop.store import Database
from handloop.store.tables import workforces, workteams

DEFAULT_WORKFORCE = "default"


def _record(row: Row[Any]) -> Workforce:
    return Workforce(row.id, row.name, row.config, row.created_at, row.updated_at)


def _check_cidrs(config: dict[str, Any]) -> None:
    import ipaddress

    for cidr in config.get("SourceIpConfig", {}).get("Cidrs", []):
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ValidationError(f"SourceIpConfig.Cidrs: '{cidr}' is not a CIDR block.") from None


class Workforces:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        # Counts this process's changes, so a cache of workforce settings here (the portal's
        # address check) sees them at once; other processes' changes reach it by expiry.
        self.generation = 0

    def ensure_default(self, conn: Connection) -> None:
        """Create the built-in sign-in workforce when the deployment has none."""
        if conn.scalar(select(exists().select_from(workforces))):
            return
        now = self._clock()
        conn.execute(
            insert(workforces).values(
                name=DEFAULT_WORKFORCE,
                config={"SourceIpConfig": {"Cidrs": []}},
                created_at=now,
                updated_at=now,
            )
        )

    async def create(self, name: str, config: dict[str, Any]) -> Workforce:
        if "CognitoConfig" in config and "OidcConfig" in config:
            raise ValidationError("Give either CognitoConfig or OidcConfig, not both.")
        _check_cidrs(config)
        now = self._clock()

        def op(conn: Connection) -> Workforce:
            existing = conn.scalar(select(workforces.c.name))
            if existing is not None:
                raise ResourceLimitExceeded(
                    f"A deployment has one private workforce and it exists ({existing}); "
                    "update it with UpdateWorkforce, or delete it first."
                )
            new_id = conn.execute(
                insert(workforces).values(name=name, config=config, created_at=now, updated_at=now)
            ).inserted_primary_key
            assert new_id is not None
            return Workforce(new_id[0], name, config, now, now)

        created = await self._db.write(op)
        self.generation += 1
        return created

    async def get(self, name: str) -> Workforce:
        row = await self._db.read(
            lambda conn: conn.execute(select(workforces).where(workforces.c.name == name)).first()
        )
        if row is None:
            raise ResourceNotFound(f"Workforce {name} does not exist.")
        return _record(row)

    async def list_all(self) -> list[Workforce]:
        rows = await self._db.read(lambda conn: conn.execute(select(workforces)).all())
        return [_record(r) for r in rows]

    async def update(self, name: str, changes: dict[str, Any]) -> Workforce:
        _check_cidrs(changes)

        def op(conn: Connection) -> Workforce:
            row = conn.execute(select(workforces).where(workforces.c.name == name)).first()
            if row is None:
                raise ResourceNotFound(f"Workforce {name} does not exist.")
            config = dict(row.config)
            if "OidcConfig" in changes and "OidcConfig" not in config:
                raise ValidationError(
                    "OidcConfig can only be updated on a workforce created with OidcConfig."
                )
            config.update(changes)
            now = self._clock()
            conn.execute(
                update(workforces)
                .where(workforces.c.id == row.id)
                .values(config=config, updated_at=now)
            )
            return Workforce(row.id, row.name, config, row.created_at, now)

        updated = await self._db.write(op)
        self.generation += 1
        return updated

    async def delete(self, name: str) -> None:
        def op(conn: Connection) -> None:
            wf_id = conn.scalar(select(workforces.c.id).where(workforces.c.name == name))
            if wf_id is None:
                raise ResourceNotFound(f"Workforce {name} does not exist.")
            if conn.scalar(select(exists().where(workteams.c.workforce_id == wf_id))):
                raise ResourceInUse(f"Workforce {name} has work teams; delete them first.")
            conn.execute(workforces.delete().where(workforces.c.id == wf_id))

        await self._db.write(op)
        self.generation += 1
