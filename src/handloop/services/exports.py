"""Read-only queries the export needs: a flow's loops in creation order, and its template."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from handloop.domain.output_layout import output_uri
from handloop.store import Database
from handloop.store.tables import flow_definitions, human_loops, human_task_uis


@dataclass(frozen=True)
class LoopOutputRef:
    name: str
    status: str
    created_us: int
    output_uri: str


@dataclass(frozen=True)
class FlowProvenance:
    flow_definition_name: str
    human_task_ui_name: str | None
    human_task_ui_sha256: str | None
    s3_output_path: str | None


def iter_flow_loops(
    db: Database,
    flow_name: str,
    *,
    statuses: Sequence[str] | None = ("Completed",),
    created_after_us: int | None = None,
    created_before_us: int | None = None,
    batch_size: int = 1000,
) -> Iterator[list[LoopOutputRef]]:
    """The flow's loops (any status when ``statuses`` is None) in batches, oldest first.

    Pages by keyset on (created_at, id), so each batch is one short indexed read.
    """
    after: tuple[int, int] | None = None
    while True:

        def op(conn: Connection, after: tuple[int, int] | None = after) -> list[Any]:
            query = select(
                human_loops.c.id,
                human_loops.c.name,
                human_loops.c.status,
                human_loops.c.created_at,
                human_loops.c.s3_output_path,
            ).where(human_loops.c.flow_definition_name == flow_name)
            if statuses is not None:
                query = query.where(human_loops.c.status.in_(list(statuses)))
            if created_after_us is not None:
                query = query.where(human_loops.c.created_at >= created_after_us)
            if created_before_us is not None:
                query = query.where(human_loops.c.created_at < created_before_us)
            if after is not None:
                query = query.where(
                    or_(
                        human_loops.c.created_at > after[0],
                        and_(human_loops.c.created_at == after[0], human_loops.c.id > after[1]),
                    )
                )
            query = query.order_by(human_loops.c.created_at, human_loops.c.id).limit(batch_size)
            return list(conn.execute(query).all())

        rows = db.read_now(op)
        if not rows:
            return
        yield [
            LoopOutputRef(
                row.name,
                row.status,
                row.created_at,
                output_uri(row.s3_output_path, flow_name, row.name, row.created_at),
            )
            for row in rows
        ]
        if len(rows) < batch_size:
            return
        after = (rows[-1].created_at, rows[-1].id)


def flow_provenance(db: Database, flow_name: str) -> FlowProvenance | None:
    """The flow definition's template and output path; None when neither flow nor loop exist."""

    def op(conn: Connection) -> FlowProvenance | None:
        row = conn.execute(
            select(
                flow_definitions.c.s3_output_path,
                human_task_uis.c.name,
                human_task_uis.c.content_sha256,
            )
            .select_from(
                flow_definitions.join(
                    human_task_uis, human_task_uis.c.id == flow_definitions.c.human_task_ui_id
                )
            )
            .where(flow_definitions.c.name == flow_name)
        ).first()
        if row is not None:
            return FlowProvenance(flow_name, row.name, row.content_sha256, row.s3_output_path)
        # A deleted flow definition's finished loops keep its name.
        loop = conn.execute(
            select(human_loops.c.s3_output_path)
            .where(human_loops.c.flow_definition_name == flow_name)
            .limit(1)
        ).first()
        return None if loop is None else FlowProvenance(flow_name, None, None, loop.s3_output_path)

    return db.read_now(op)
