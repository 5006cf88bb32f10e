"""Worker task templates (HumanTaskUi)."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, exists, func, insert, select
from sqlalchemy.exc import IntegrityError

from handloop.domain.records import HumanTaskUi, Page
from handloop.errors import ResourceInUse, ResourceLimitExceeded, ResourceNotFound, ValidationError
from handloop.services.clock import Clock
from handloop.services.listing import list_page
from handloop.store import Database
from handloop.store.tables import flow_definitions, human_task_uis
from handloop.templating import check_syntax


def _record(row: Row[Any]) -> HumanTaskUi:
    return HumanTaskUi(row.id, row.name, row.content, row.content_sha256, row.created_at)


class HumanTaskUis:
    def __init__(self, db: Database, clock: Clock, limit: int) -> None:
        self._db = db
        self._clock = clock
        self._limit = limit

    async def create(
        self, name: str, content: str, tags: list[dict[str, str]] | None
    ) -> HumanTaskUi:
        # Parsing a template near the size limit takes a noticeable time: not on the event loop.
        problems = await asyncio.to_thread(check_syntax, content)
        if problems:
            raise ValidationError(f"The template is not valid Liquid: {problems[0]}")
        sha = hashlib.sha256(content.encode()).hexdigest()
        now = self._clock()

        def op(conn: Connection) -> HumanTaskUi:
            if conn.scalar(select(exists().where(human_task_uis.c.name == name))):
                raise ResourceInUse(f"Human task UI {name} already exists.")
            count = conn.scalar(select(func.count()).select_from(human_task_uis)) or 0
            if count >= self._limit:
                raise ResourceLimitExceeded(
                    f"This deployment allows {self._limit} human task UIs "
                    "(HANDLOOP_MAX_HUMAN_TASK_UIS)."
                )
            try:
                new_id = conn.execute(
                    insert(human_task_uis).values(
                        name=name,
                        content=content,
                        content_sha256=sha,
                        config={"Tags": tags or []},
                        created_at=now,
                    )
                ).inserted_primary_key
            except IntegrityError:
                raise ResourceInUse(f"Human task UI {name} already exists.") from None
            assert new_id is not None
            return HumanTaskUi(new_id[0], name, content, sha, now)

        return await self._db.write(op)

    async def get(self, name: str) -> HumanTaskUi:
        row = await self._db.read(
            lambda conn: conn.execute(
                select(human_task_uis).where(human_task_uis.c.name == name)
            ).first()
        )
        if row is None:
            raise ResourceNotFound(f"Human task UI {name} does not exist.")
        return _record(row)

    async def delete(self, name: str) -> None:
        def op(conn: Connection) -> None:
            ui_id = conn.scalar(select(human_task_uis.c.id).where(human_task_uis.c.name == name))
            if ui_id is None:
                raise ResourceNotFound(f"Human task UI {name} does not exist.")
            users: list[str] = list(
                conn.scalars(
                    select(flow_definitions.c.name).where(
                        flow_definitions.c.human_task_ui_id == ui_id
                    )
                )
            )
            if users:
                raise ResourceInUse(
                    f"Human task UI {name} is used by flow definition(s) {', '.join(users)}; "
                    "delete them first."
                )
            conn.execute(human_task_uis.delete().where(human_task_uis.c.id == ui_id))

        await self._db.write(op)

    async def page(
        self,
        *,
        created_after: datetime | None,
        created_before: datetime | None,
        ascending: bool,
        token: str | None,
        max_results: int,
    ) -> Page[HumanTaskUi]:
        return await list_page(
            self._db,
            human_task_uis,
            _record,
            created_after=created_after,
            created_before=created_before,
            ascending=ascending,
            token=token,
            max_results=max_results,
        )
