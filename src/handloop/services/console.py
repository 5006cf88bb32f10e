"""What the requester console reads and the few things it changes beyond other services:
flows with their loops per status and answers per hour (from the counters the database's
triggers keep, see ``store/console_counters.py``), a flow's loops by keyset paging, one
loop's answers, workers' figures, webhook deliveries and retrying one, and a template's
preview with its problems by line.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update

from handloop.domain import json_values
from handloop.domain.output_layout import output_uri
from handloop.domain.statuses import HumanLoopStatus, TaskState
from handloop.errors import ResourceNotFound, ValidationError
from handloop.services.clock import Clock
from handloop.store import Database
from handloop.store.console_counters import HOUR_US
from handloop.store.tables import (
    deliveries,
    evaluation_jobs,
    events,
    flow_definitions,
    flow_hourly,
    flow_loop_counts,
    human_loops,
    human_task_uis,
    tasks,
    webhooks,
    worker_groups,
    workers,
    workteams,
)
from handloop.templating import TemplateRenderError, check_syntax, render_template

# The statuses in the order the console shows them (the progress bar's segments).
STATUSES = [s.value for s in HumanLoopStatus]
ORDER = ["Completed", "Failed", "Stopped", "Stopping", "InProgress"]
# The rate behind "expected time to finish": loops completed over this many hours.
RATE_HOURS = 3
# Answers per hour are charted over this many hours.
CHART_HOURS = 24
# A worker's median time is over their latest answers, at most this many.
MEDIAN_OF = 200


# -- the overview --------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowSummary:
    name: str
    title: str
    # False for a deleted flow definition whose loops remain.
    defined: bool
    created_us: int | None
    counts: dict[str, int]
    # (hour since the epoch, answers, loops completed) for the last CHART_HOURS hours.
    hourly: list[tuple[int, int, int]]
    # Loops completed per hour lately, and the seconds left at that rate (None: no rate).
    rate_per_hour: float
    eta_seconds: float | None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def in_progress(self) -> int:
        return self.counts.get("InProgress", 0)

    @property
    def done(self) -> int:
        return self.total - self.in_progress - self.counts.get("Stopping", 0)

    @property
    def answers_last_hours(self) -> int:
        return sum(answers for _, answers, _ in self.hourly)

    def segments(self) -> list[tuple[str, int, float]]:
        """(status, loops, percent of all loops) in the bar's order, empty ones left out."""
        total = self.total or 1
        return [
            (s, self.counts[s], 100.0 * self.counts[s] / total) for s in ORDER if self.counts.get(s)
        ]

    def live(self) -> dict[str, Any]:
        """What the overview's live updates carry for this flow."""
        return {
            "name": self.name,
            "counts": {s: self.counts.get(s, 0) for s in ORDER},
            "total": self.total,
            "hourly": [[hour, answers, completed] for hour, answers, completed in self.hourly],
            "ratePerHour": round(self.rate_per_hour, 3),
            "etaSeconds": None if self.eta_seconds is None else round(self.eta_seconds),
        }


def expected_finish(
    in_progress: int, completed_by_hour: dict[int, int], now_us: int, since_us: int | None
) -> tuple[float, float | None]:
    """(loops completed per hour over the last RATE_HOURS hours, seconds until the loops in
    progress are done at that rate); the seconds are None without a rate or without loops."""
    current = now_us // HOUR_US
    start_us = (current - RATE_HOURS + 1) * HOUR_US
    if since_us is not None:
        start_us = max(start_us, since_us)
    # At least ten minutes, so a first answer does not promise the moon.
    elapsed_hours = max(now_us - start_us, 600_000_000) / HOUR_US
    done = sum(n for hour, n in completed_by_hour.items() if current - RATE_HOURS < hour <= current)
    rate = done / elapsed_hours
    if rate <= 0 or in_progress <= 0:
        return rate, None
    return rate, in_progress / rate * 3600


# -- a flow's loops --------------------------------------------------------------------------


@dataclass(frozen=True)
class LoopRow:
    name: str
    status: str
    created_us: int
    updated_us: int
    submitted: int
    task_count: int
    failure_reason: str | None


@dataclass(frozen=True)
class Cursor:
    """A position in a flow's loop list (newest first): the page after it (``older``) or
    before it (``newer``), or the oldest page (``last``)."""

    direction: str  # "older", "newer", "last"
    created_us: int = 0
    id: int = 0

    def text(self) -> str:
        return (
            self.direction
            if self.direction == "last"
            else f"{self.direction}:{self.created_us}.{self.id}"
        )

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        if not text:
            return None
        if text == "last":
            return cls("last")
        direction, _, position = text.partition(":")
        created, _, row_id = position.partition(".")
        if (
            direction not in ("older", "newer")
            or not (created.isascii() and created.isdigit() and len(created) <= 18)
            or not (row_id.isascii() and row_id.isdigit() and len(row_id) <= 18)
        ):
            raise ValidationError("That page position is not valid; start from the first page.")
        return cls(direction, int(created), int(row_id))


@dataclass(frozen=True)
class LoopPage:
    rows: list[LoopRow]
    newer: Cursor | None  # the page before this one, if any
    older: Cursor | None  # the page after this one, if any


_LOOP_COLUMNS = (
    human_loops.c.id,
    human_loops.c.name,
    human_loops.c.status,
    human_loops.c.created_at,
    human_loops.c.updated_at,
    human_loops.c.submitted,
    human_loops.c.task_count,
    human_loops.c.failure_reason,
)


def _before(created: int, row_id: int) -> Any:
    # The first conjunct bounds the index range; the second settles ties on created_at.
    return and_(
        human_loops.c.created_at <= created,
        or_(human_loops.c.created_at < created, human_loops.c.id < row_id),
    )


def _after(created: int, row_id: int) -> Any:
    return and_(
        human_loops.c.created_at >= created,
        or_(human_loops.c.created_at > created, human_loops.c.id > row_id),
    )


def loop_page_query(
    flow: str,
    *,
    status: str | None,
    created_after_us: int | None,
    created_before_us: int | None,
    cursor: Cursor | None,
    limit: int,
) -> tuple[Any, bool]:
    """The statement of one page (``limit`` + 1 rows) and whether it reads oldest first."""
    where = [human_loops.c.flow_definition_name == flow]
    if status is not None:
        where.append(human_loops.c.status == status)
    if created_after_us is not None:
        where.append(human_loops.c.created_at >= created_after_us)
    if created_before_us is not None:
        where.append(human_loops.c.created_at < created_before_us)
    ascending = cursor is not None and cursor.direction in ("newer", "last")
    if cursor is not None and cursor.direction == "older":
        where.append(_before(cursor.created_us, cursor.id))
    elif cursor is not None and cursor.direction == "newer":
        where.append(_after(cursor.created_us, cursor.id))
    created, row_id = human_loops.c.created_at, human_loops.c.id
    order = (created.asc(), row_id.asc()) if ascending else (created.desc(), row_id.desc())
    return select(*_LOOP_COLUMNS).where(*where).order_by(*order).limit(limit + 1), ascending


def page_from_rows(
    rows: Sequence[Any], cursor: Cursor | None, ascending: bool, limit: int
) -> LoopPage:
    more = len(rows) > limit
    rows = list(rows[:limit])
    if ascending:
        rows.reverse()
    items = [
        LoopRow(
            r.name,
            r.status,
            r.created_at,
            r.updated_at,
            r.submitted,
            r.task_count,
            r.failure_reason,
        )
        for r in rows
    ]
    if not rows:
        return LoopPage([], None, None)
    direction = cursor.direction if cursor is not None else "first"
    # Coming from a newer page, there is one; from an older page, likewise.
    newer_exists = more if ascending else direction == "older"
    older_exists = direction == "newer" if ascending else more
    first, last = rows[0], rows[-1]
    return LoopPage(
        items,
        Cursor("newer", first.created_at, first.id) if newer_exists else None,
        Cursor("older", last.created_at, last.id) if older_exists else None,
    )


# -- one loop ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    worker_id: str | None
    email: str | None
    submitted_us: int | None
    time_spent_ms: int | None
    content: Any


@dataclass(frozen=True)
class LoopDetail:
    name: str
    flow_definition_name: str
    status: str
    failure_code: str | None
    failure_reason: str | None
    created_us: int
    updated_us: int
    task_count: int
    claimed: int
    submitted: int
    input_content: str
    # The task UI the loop's workers saw (an evaluation job's own, else the flow's); None
    # once the flow definition is deleted.
    template: str | None
    template_name: str | None
    output_uri: str
    answers: list[Answer] = field(default_factory=list)

    @property
    def is_final(self) -> bool:
        return HumanLoopStatus(self.status).is_final

    @property
    def input_pretty(self) -> str:
        try:
            return json.dumps(json.loads(self.input_content), indent=2, ensure_ascii=False)
        except ValueError:
            return self.input_content


# -- workers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerFigures:
    answers: int
    median_seconds: float | None


# -- webhooks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    event_id: int
    webhook_id: int
    url: str
    loop_name: str
    detail_type: str
    status: str | None
    created_us: int
    attempts: int
    delivered_us: int | None
    next_attempt_us: int
    last_error: str | None
    given_up: bool


# -- template previews -------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    line: int | None = None
    column: int | None = None
    # Which text it is in: the template, or the sample input.
    where: str = "template"

    def describe(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "where": self.where,
        }


@dataclass(frozen=True)
class Preview:
    rendered: str
    problems: list[Problem]


def render_preview(source: str, input_text: str, grant: Callable[[str], str]) -> Preview:
    """A template rendered with a sample input, the steps RenderUiTemplate takes (input
    parsed within handloop's bounds, syntax checked, rendered), its problems with the line
    (and column) they are at. CPU-bound: call it off the event loop."""
    try:
        json.loads(input_text)
    except json.JSONDecodeError as exc:
        return Preview("", [Problem("InvalidTaskInput", exc.msg, exc.lineno, exc.colno, "input")])
    try:
        task_input = json_values.parse(input_text, "The sample input")
    except ValidationError as exc:
        return Preview("", [Problem("InvalidTaskInput", exc.message, None, None, "input")])
    problems = check_syntax(source)
    if problems:
        return Preview(
            "", [Problem("TemplateSyntaxError", p.message, p.line, p.column) for p in problems]
        )
    try:
        rendered = render_template(source, task_input, grant_read_access=grant)
    except TemplateRenderError as exc:
        code = "ResourceLimitExceeded" if exc.limit else "TemplateRenderError"
        return Preview("", [Problem(code, exc.message, exc.line)])
    return Preview(rendered, [])


# -- the service ---------------------------------------------------------------------------


class Console:
    def __init__(self, db: Database, clock: Clock, *, max_delivery_attempts: int) -> None:
        self._db = db
        self._clock = clock
        self._max_attempts = max_delivery_attempts

    # -- overview ----------------------------------------------------------------------------

    async def overview(self) -> list[FlowSummary]:
        """Every flow definition (and every deleted one whose loops remain), with its loops
        per status and its answers per hour: a read of the counters, not of the loops."""
        now = self._clock()
        first_hour = now // HOUR_US - CHART_HOURS + 1

        def op(conn: Connection) -> list[FlowSummary]:
            flows = conn.execute(
                select(
                    flow_definitions.c.name,
                    flow_definitions.c.created_at,
                    flow_definitions.c.config,
                )
            ).all()
            counts: dict[str, dict[str, int]] = {}
            for row in conn.execute(select(flow_loop_counts).where(flow_loop_counts.c.loops != 0)):
                counts.setdefault(row.flow_definition_name, {})[row.status] = int(row.loops)
            hours: dict[str, dict[int, tuple[int, int]]] = {}
            for row in conn.execute(select(flow_hourly).where(flow_hourly.c.hour >= first_hour)):
                hours.setdefault(row.flow_definition_name, {})[int(row.hour)] = (
                    int(row.answers),
                    int(row.completed),
                )
            defined = {f.name: f for f in flows}
            names = sorted(set(defined) | set(counts))
            out = []
            for name in names:
                flow = defined.get(name)
                by_hour = hours.get(name, {})
                hourly = [
                    (hour, *by_hour.get(hour, (0, 0)))
                    for hour in range(first_hour, first_hour + CHART_HOURS)
                ]
                flow_counts = counts.get(name, {})
                rate, eta = expected_finish(
                    flow_counts.get("InProgress", 0),
                    {hour: completed for hour, (_, completed) in by_hour.items()},
                    now,
                    flow.created_at if flow is not None else None,
                )
                title = ""
                if flow is not None:
                    title = str(flow.config.get("HumanLoopConfig", {}).get("TaskTitle", ""))
                out.append(
                    FlowSummary(
                        name=name,
                        title=title,
                        defined=flow is not None,
                        created_us=flow.created_at if flow is not None else None,
                        counts=flow_counts,
                        hourly=hourly,
                        rate_per_hour=rate,
                        eta_seconds=eta,
                    )
                )
            return out

        return await self._db.read(op)

    async def flow_summary(self, flow: str) -> FlowSummary:
        for summary in await self.overview():
            if summary.name == flow:
                return summary
        raise ResourceNotFound(f"No flow definition {flow}, and no loops of one by that name.")

    # -- a flow's loops ----------------------------------------------------------------------

    async def loops(
        self,
        flow: str,
        *,
        status: str | None = None,
        created_after_us: int | None = None,
        created_before_us: int | None = None,
        cursor: Cursor | None = None,
        limit: int = 50,
    ) -> LoopPage:
        if status is not None and status not in STATUSES:
            raise ValidationError(f"'{status}' is not a loop status ({', '.join(STATUSES)}).")
        stmt, ascending = loop_page_query(
            flow,
            status=status,
            created_after_us=created_after_us,
            created_before_us=created_before_us,
            cursor=cursor,
            limit=limit,
        )
        rows = await self._db.read(lambda conn: list(conn.execute(stmt).all()))
        return page_from_rows(rows, cursor, ascending, limit)

    # -- one loop ----------------------------------------------------------------------------

    async def loop(self, name: str) -> LoopDetail:
        job_template = (
            select(evaluation_jobs.c.template)
            .where(evaluation_jobs.c.id == human_loops.c.evaluation_job_id)
            .scalar_subquery()
        )

        def op(conn: Connection) -> LoopDetail:
            row = conn.execute(
                select(
                    human_loops,
                    job_template.label("job_template"),
                    human_task_uis.c.content.label("ui_content"),
                    human_task_uis.c.name.label("ui_name"),
                )
                .select_from(
                    human_loops.outerjoin(
                        flow_definitions, flow_definitions.c.id == human_loops.c.flow_definition_id
                    ).outerjoin(
                        human_task_uis, human_task_uis.c.id == flow_definitions.c.human_task_ui_id
                    )
                )
                .where(human_loops.c.name == name)
            ).first()
            if row is None:
                raise ResourceNotFound(f"Human loop {name} does not exist.")
            answers = [
                Answer(a.worker_id, a.email, a.submitted_at, a.time_spent_ms, a.answer)
                for a in conn.execute(
                    select(
                        tasks.c.answer,
                        tasks.c.submitted_at,
                        tasks.c.time_spent_ms,
                        tasks.c.identity,
                        workers.c.worker_id,
                        workers.c.email,
                    )
                    .select_from(tasks.outerjoin(workers, workers.c.id == tasks.c.worker_pk))
                    .where(
                        tasks.c.human_loop_id == row.id,
                        tasks.c.state == TaskState.SUBMITTED.value,
                    )
                    .order_by(tasks.c.submitted_at, tasks.c.id)
                ).all()
            ]
            return LoopDetail(
                name=row.name,
                flow_definition_name=row.flow_definition_name,
                status=row.status,
                failure_code=row.failure_code,
                failure_reason=row.failure_reason,
                created_us=row.created_at,
                updated_us=row.updated_at,
                task_count=row.task_count,
                claimed=row.claimed,
                submitted=row.submitted,
                input_content=row.input_content,
                template=row.job_template or row.ui_content,
                template_name=("the evaluation job's" if row.job_template else row.ui_name),
                output_uri=output_uri(
                    row.s3_output_path, row.flow_definition_name, row.name, row.created_at
                ),
                answers=answers,
            )

        return await self._db.read(op)

    async def sample_input(self, ui_name: str) -> str | None:
        """The input of the latest loop of a flow that shows this task UI (the editor's
        sample when it opens that template), if there is one."""

        def op(conn: Connection) -> str | None:
            flows = (
                select(flow_definitions.c.id)
                .join(human_task_uis, human_task_uis.c.id == flow_definitions.c.human_task_ui_id)
                .where(human_task_uis.c.name == ui_name)
            )
            found: str | None = conn.scalar(
                select(human_loops.c.input_content)
                .where(human_loops.c.flow_definition_id.in_(flows.scalar_subquery()))
                .order_by(human_loops.c.id.desc())
                .limit(1)
            )
            return found

        text = await self._db.read(op)
        if text is None:
            return None
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
        except ValueError:
            return text

    # -- workforce ---------------------------------------------------------------------------

    async def worker_figures(self) -> dict[int, WorkerFigures]:
        """Each worker's answers, and the median time of their latest MEDIAN_OF answers."""
        submitted = TaskState.SUBMITTED.value

        def op(conn: Connection) -> dict[int, WorkerFigures]:
            counted = conn.execute(
                select(tasks.c.worker_pk, func.count())
                .where(tasks.c.state == submitted, tasks.c.worker_pk.is_not(None))
                .group_by(tasks.c.worker_pk)
            ).all()
            out = {}
            for row in counted:
                worker_pk, answers = int(row[0]), int(row[1])
                spent: list[int | None] = list(
                    conn.scalars(
                        select(tasks.c.time_spent_ms)
                        .where(tasks.c.worker_pk == worker_pk, tasks.c.state == submitted)
                        .order_by(tasks.c.submitted_at.desc())
                        .limit(MEDIAN_OF)
                    )
                )
                times = [ms for ms in spent if ms is not None]
                median = statistics.median(times) / 1000 if times else None
                out[worker_pk] = WorkerFigures(answers, median)
            return out

        return await self._db.read(op)

    async def groups(self) -> list[str]:
        """Every group a worker is in or a work team names."""

        def op(conn: Connection) -> list[str]:
            names = set(conn.scalars(select(worker_groups.c.group_name).distinct()))
            configs: list[dict[str, Any]] = list(conn.scalars(select(workteams.c.config)))
            for config in configs:
                for member in config.get("MemberDefinitions", []):
                    if "CognitoMemberDefinition" in member:
                        names.add(member["CognitoMemberDefinition"]["UserGroup"])
                    names.update(member.get("OidcMemberDefinition", {}).get("Groups", []))
            return sorted(names)

        return await self._db.read(op)

    # -- webhooks ----------------------------------------------------------------------------

    async def deliveries(self, limit: int = 50) -> list[Delivery]:
        """The latest deliveries to every webhook, newest event first."""

        def op(conn: Connection) -> list[Delivery]:
            rows = conn.execute(
                select(
                    deliveries,
                    webhooks.c.url,
                    events.c.human_loop_name,
                    events.c.body,
                    events.c.created_at,
                )
                .join(webhooks, webhooks.c.id == deliveries.c.webhook_id)
                .join(events, events.c.id == deliveries.c.event_id)
                .order_by(deliveries.c.event_id.desc(), deliveries.c.webhook_id)
                .limit(limit)
            ).all()
            return [
                Delivery(
                    event_id=r.event_id,
                    webhook_id=r.webhook_id,
                    url=r.url,
                    loop_name=r.human_loop_name,
                    detail_type=str(r.body.get("detail-type", "")),
                    status=(r.body.get("detail") or {}).get("humanLoopStatus"),
                    created_us=r.created_at,
                    attempts=r.attempts,
                    delivered_us=r.delivered_at,
                    next_attempt_us=r.next_attempt_at,
                    last_error=r.last_error,
                    given_up=r.delivered_at is None and r.attempts >= self._max_attempts,
                )
                for r in rows
            ]

        return await self._db.read(op)

    async def retry_delivery(self, event_id: int, webhook_id: int) -> None:
        """Deliver an event to a webhook again, now: a delivery that failed, gave up, or
        went through (the receiver asks for it again)."""
        now = self._clock()

        def op(conn: Connection) -> int:
            return conn.execute(
                update(deliveries)
                .where(deliveries.c.event_id == event_id, deliveries.c.webhook_id == webhook_id)
                .values(attempts=0, next_attempt_at=now, delivered_at=None)
            ).rowcount

        if not await self._db.write(op):
            raise ResourceNotFound(f"No delivery of event {event_id} to webhook {webhook_id}.")
