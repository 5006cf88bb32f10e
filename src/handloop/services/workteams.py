"""Work teams: the workers who receive a flow's tasks, as the union of worker groups."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from handloop.domain.records import Workteam
from handloop.errors import ResourceInUse, ResourceNotFound, ValidationError
from handloop.services.clock import Clock
from handloop.store import Database
from handloop.store.tables import flow_definitions, workforces, workteams

_FIELDS = ("MemberDefinitions", "NotificationConfiguration", "WorkerAccessConfiguration", "Tags")


def _record(row: Row[Any]) -> Workteam:
    return Workteam(
        row.id,
        row.name,
        row.workforce_name,
        row.description,
        row.config,
        row.created_at,
        row.updated_at,
    )


def _select() -> Any:
    return select(workteams, workforces.c.name.label("workforce_name")).join(
        workforces, workforces.c.id == workteams.c.workforce_id
    )


def _check_members(members: list[dict[str, Any]], oidc: bool) -> None:
    kinds = {
        "OidcMemberDefinition" if "OidcMemberDefinition" in m else "CognitoMemberDefinition"
        for m in members
    }
    for member in members:
        if ("OidcMemberDefinition" in member) == ("CognitoMemberDefinition" in member):
            raise ValidationError(
                "Each of MemberDefinitions needs exactly one of CognitoMemberDefinition and "
                "OidcMemberDefinition."
            )
    if len(kinds) > 1:
        raise ValidationError("MemberDefinitions cannot mix Cognito and OIDC members.")
    wanted = "OidcMemberDefinition" if oidc else "CognitoMemberDefinition"
    if kinds and kinds != {wanted}:
        raise ValidationError(
            f"The workforce signs workers in with {'OIDC' if oidc else 'built-in sign-in'}: "
            f"use {wanted} in MemberDefinitions."
        )


class Workteams:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def create(
        self, name: str, workforce_name: str | None, description: str, config: dict[str, Any]
    ) -> Workteam:
        now = self._clock()

        def op(conn: Connection) -> Workteam:
            if workforce_name:
                wf = conn.execute(
                    select(workforces).where(workforces.c.name == workforce_name)
                ).first()
            else:
                wf = conn.execute(select(workforces).order_by(workforces.c.id)).first()
            if wf is None:
                missing = f"Workforce {workforce_name}" if workforce_name else "No workforce"
                raise ValidationError(f"{missing} exists; create it with CreateWorkforce.")
            _check_members(config["MemberDefinitions"], "OidcConfig" in wf.config)
            if conn.scalar(select(exists().where(workteams.c.name == name))):
                raise ResourceInUse(f"Workteam {name} already exists.")
            stored = {k: config[k] for k in _FIELDS if k in config}
            try:
                new_id = conn.execute(
                    insert(workteams).values(
                        name=name,
                        workforce_id=wf.id,
                        description=description,
                        config=stored,
                        created_at=now,
                        updated_at=now,
                    )
                ).inserted_primary_key
            except IntegrityError:
                raise ResourceInUse(f"Workteam {name} already exists.") from None
            assert new_id is not None
            return Workteam(new_id[0], name, wf.name, description, stored, now, now)

        return await self._db.write(op)

    async def get(self, name: str) -> Workteam:
        row = await self._db.read(
            lambda conn: conn.execute(_select().where(workteams.c.name == name)).first()
        )
        if row is None:
            raise ResourceNotFound(f"Workteam {name} does not exist.")
        return _record(row)

    async def list_all(self) -> list[Workteam]:
        rows = await self._db.read(lambda conn: conn.execute(_select()).all())
        return [_record(r) for r in rows]

    async def update(self, name: str, description: str | None, changes: dict[str, Any]) -> Workteam:
        def op(conn: Connection) -> Workteam:
            row = conn.execute(_select().where(workteams.c.name == name)).first()
            if row is None:
                raise ResourceNotFound(f"Workteam {name} does not exist.")
            if "MemberDefinitions" in changes:
                wf_config = conn.scalar(
                    select(workforces.c.config).where(workforces.c.id == row.workforce_id)
                )
                _check_members(changes["MemberDefinitions"], "OidcConfig" in (wf_config or {}))
            config = dict(row.config)
            config.update({k: changes[k] for k in _FIELDS if k in changes})
            now = self._clock()
            new_description = description if description is not None else row.description
            conn.execute(
                update(workteams)
                .where(workteams.c.id == row.id)
                .values(config=config, description=new_description, updated_at=now)
            )
            return Workteam(
                row.id, row.name, row.workforce_name, new_description, config, row.created_at, now
            )

        return await self._db.write(op)

    async def delete(self, name: str) -> None:
        def op(conn: Connection) -> None:
            team_id = conn.scalar(select(workteams.c.id).where(workteams.c.name == name))
            if team_id is None:
                raise ResourceNotFound(f"Workteam {name} does not exist.")
            users: list[str] = list(
                conn.scalars(
                    select(flow_definitions.c.name).where(flow_definitions.c.workteam_id == team_id)
                )
            )
            if users:
                raise ResourceInUse(
                    f"Workteam {name} is used by flow definition(s) {', '.join(users)}; "
                    "delete them first."
                )
            conn.execute(workteams.delete().where(workteams.c.id == team_id))

        await self._db.write(op)
