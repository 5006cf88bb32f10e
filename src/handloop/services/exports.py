"""Read-only queries the export needs: a flow's loops in creation order, its template, and
its quality-control figures (workers' trust, gold accuracy, the overlap its loops got)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from handloop.domain.output_layout import output_uri
from handloop.domain.quality import QualitySettings, trust
from handloop.services.quality import figures_of, settings_of
from handloop.store import Database
from handloop.store.tables import (
    flow_definitions,
    human_loops,
    human_task_uis,
    worker_quality,
    workers,
)


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


def _loops_of(
    flow_name: str,
    statuses: Sequence[str] | None,
    created_after_us: int | None,
    created_before_us: int | None,
) -> list[ColumnElement[bool]]:
    """The conditions that pick the loops an export reads."""
    where = [human_loops.c.flow_definition_name == flow_name]
    if statuses is not None:
        where.append(human_loops.c.status.in_(list(statuses)))
    if created_after_us is not None:
        where.append(human_loops.c.created_at >= created_after_us)
    if created_before_us is not None:
        where.append(human_loops.c.created_at < created_before_us)
    return where


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
            ).where(*_loops_of(flow_name, statuses, created_after_us, created_before_us))
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


@dataclass(frozen=True)
class WorkerStandingRow:
    """One worker's record on a flow (worker_quality), as the export uses it."""

    worker_id: str
    trust: float
    paused: bool
    gold_answers: int
    gold_score_sum: float


@dataclass(frozen=True)
class LoopOverlap:
    """How many of the exported loops asked for ``task_count`` answers and stopped for
    ``stop_reason`` ("agreement", "cap", or None: not adaptive, or not finished)."""

    task_count: int
    stop_reason: str | None
    loops: int
    rounds: int  # extra answers asked by adaptive overlap, summed over these loops


@dataclass(frozen=True)
class FlowQuality:
    """A flow's quality control as the export reports it: its settings (None when the flow
    definition is gone), its workers' records, and the overlap of the exported loops."""

    settings: QualitySettings | None
    workers: list[WorkerStandingRow]
    overlap: list[LoopOverlap]

    @property
    def enabled(self) -> bool:
        """Whether the flow has quality control (or had it: its workers have records)."""
        return bool(self.workers) or (self.settings is not None and self.settings.enabled)


def worker_standing(db: Database, flow_name: str) -> list[WorkerStandingRow]:
    """Every worker with a record on the flow: trust (as last assessed; computed from the
    figures when never assessed), paused or not, gold answers and their score.

    Gold figures come from the records' sums: the gold tasks themselves, and the answers to
    them, are never read by an export."""

    def op(conn: Connection) -> list[WorkerStandingRow]:
        rows = conn.execute(
            select(worker_quality, workers.c.worker_id)
            .join(workers, workers.c.id == worker_quality.c.worker_pk)
            .where(worker_quality.c.flow_definition_name == flow_name)
            .order_by(workers.c.worker_id)
        ).all()
        out = []
        for row in rows:
            figures = figures_of(row)
            out.append(
                WorkerStandingRow(
                    worker_id=row.worker_id,
                    trust=float(row.trust) if row.trust is not None else trust(figures),
                    paused=row.paused_at is not None,
                    gold_answers=int(row.gold_answers),
                    gold_score_sum=float(row.gold_score_sum),
                )
            )
        return out

    return db.read_now(op)


def flow_quality(
    db: Database,
    flow_name: str,
    *,
    statuses: Sequence[str] | None = ("Completed",),
    created_after_us: int | None = None,
    created_before_us: int | None = None,
) -> FlowQuality:
    """The flow's settings, its workers' records, and the answers per loop (TaskCount as
    adaptive overlap left it) and stop reasons of the loops an export with these filters
    reads."""

    def op(conn: Connection) -> tuple[Any, list[LoopOverlap]]:
        config = conn.scalar(
            select(flow_definitions.c.config).where(flow_definitions.c.name == flow_name)
        )
        rows = conn.execute(
            select(
                human_loops.c.task_count,
                human_loops.c.stop_reason,
                func.count().label("loops"),
                func.coalesce(func.sum(human_loops.c.rounds), 0).label("rounds"),
            )
            .where(*_loops_of(flow_name, statuses, created_after_us, created_before_us))
            .group_by(human_loops.c.task_count, human_loops.c.stop_reason)
        ).all()
        overlap = [
            LoopOverlap(int(r.task_count), r.stop_reason, int(r.loops), int(r.rounds)) for r in rows
        ]
        overlap.sort(key=lambda o: (o.task_count, o.stop_reason or ""))
        return config, overlap

    config, overlap = db.read_now(op)
    settings = settings_of(dict(config)) if config else None
    return FlowQuality(settings, worker_standing(db, flow_name), overlap)
