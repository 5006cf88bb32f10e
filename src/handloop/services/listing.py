"""Creation-time listings shared by the SageMaker List* operations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Row, Table, and_, or_, select

from handloop.domain.records import Page
from handloop.domain.timestamps import from_datetime
from handloop.services.paging import decode_token, encode_token
from handloop.store import Database

T = TypeVar("T")


def keyset_after(
    created: Any, row_id: Any, position: list[Any], ascending: bool
) -> ColumnElement[bool]:
    """Rows strictly after ``position`` = [created, id] in the listing's order."""
    at_created, at_id = position
    if ascending:
        return or_(created > at_created, and_(created == at_created, row_id > at_id))
    return or_(created < at_created, and_(created == at_created, row_id < at_id))


async def list_page(
    db: Database,
    table: Table,
    to_record: Callable[[Row[Any]], T],
    *,
    created_after: datetime | None,
    created_before: datetime | None,
    ascending: bool,
    token: str | None,
    max_results: int,
    where: list[ColumnElement[bool]] | None = None,
    query_key: dict[str, Any] | None = None,
    columns: list[Any] | None = None,
    joins: list[tuple[Table, ColumnElement[bool]]] | None = None,
) -> Page[T]:
    """One page of ``table`` by (created_at, id), filtered by creation time."""
    after_us = from_datetime(created_after) if created_after else None
    before_us = from_datetime(created_before) if created_before else None
    query = {"t": table.name, "a": after_us, "b": before_us, "asc": ascending, **(query_key or {})}
    created, row_id = table.c.created_at, table.c.id
    conditions = list(where or [])
    if after_us is not None:
        conditions.append(created > after_us)
    if before_us is not None:
        conditions.append(created < before_us)
    if token:
        conditions.append(
            keyset_after(created, row_id, decode_token(token, query, length=2), ascending)
        )
    order = (created.asc(), row_id.asc()) if ascending else (created.desc(), row_id.desc())
    source: Any = table
    for other, on in joins or []:
        source = source.join(other, on)
    stmt = (
        select(*(columns or [table]))
        .select_from(source)
        .where(*conditions)
        .order_by(*order)
        .limit(max_results + 1)
    )

    def op(conn: Connection) -> list[Row[Any]]:
        return list(conn.execute(stmt).all())

    rows = await db.read(op)
    more = len(rows) > max_results
    rows = rows[:max_results]
    next_token = encode_token([rows[-1].created_at, rows[-1].id], query) if more else None
    return Page([to_record(r) for r in rows], next_token)
