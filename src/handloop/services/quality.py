"""Quality control built into collection, for flows tagged with handloop's settings
(docs/quality.md): gold items served among real tasks and scored, adaptive overlap (a loop
whose answers disagree gets one more answer at a time, up to a cap), each worker's figures
and trust per flow, and pausing a worker whose trust falls below the flow's minimum.

The functions that run inside a claim's or a submit's transaction take its connection, so
a gold task, a raised TaskCount or a pause commits with the answer that caused it. A flow
without handloop tags takes none of these paths: it behaves exactly as A2I.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import statistics
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from handloop.domain import json_values
from handloop.domain.arns import ArnFactory
from handloop.domain.quality import (
    QualitySettings,
    WorkerFigures,
    agreement,
    consensus_similarity,
    evidence,
    first_position_pick,
    gold_score,
    trust,
)
from handloop.domain.records import Task
from handloop.domain.statuses import TaskState
from handloop.domain.timestamps import to_datetime
from handloop.errors import HandloopError, ResourceNotFound, TaskGone, ValidationError
from handloop.services.clock import Clock
from handloop.services.events import record_event
from handloop.services.lifecycle import return_to_pool
from handloop.store import Database
from handloop.store.tables import (
    flow_definitions,
    gold_items,
    gold_tasks,
    human_loops,
    human_task_uis,
    tasks,
    worker_quality,
    workers,
)

GOLD_ACTIVE, GOLD_SUBMITTED, GOLD_RETURNED = "active", "submitted", "returned"
PAUSED_EVENT = "handloop.worker.paused"
MEDIAN_EVERY = 10  # answers between refreshes of a worker's median time
GONE = "This task is no longer yours: it was submitted, given back or timed out."


class WorkerPaused(HandloopError):
    """The worker is paused on this flow (trust below its minimum)."""

    code = "WorkerPaused"
    status = 403


@functools.lru_cache(maxsize=1024)
def _settings(tags_json: str, task_count: int) -> QualitySettings:
    return QualitySettings.from_tags(json.loads(tags_json), task_count)


def settings_of(config: dict[str, Any]) -> QualitySettings:
    """A flow's quality settings from its CreateFlowDefinition request (its Tags)."""
    tags = config.get("Tags") or []
    task_count = int(config["HumanLoopConfig"].get("TaskCount", 1))
    return _settings(json.dumps(tags, sort_keys=True), task_count)


def _ensure(conn: Connection, worker_pk: int, flow: str, now: int) -> None:
    values = {"worker_pk": worker_pk, "flow_definition_name": flow, "updated_at": now}
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(worker_quality).values(values).on_conflict_do_nothing())
    else:
        conn.execute(sqlite.insert(worker_quality).values(values).on_conflict_do_nothing())


def _row(conn: Connection, worker_pk: int, flow: str) -> Any:
    return conn.execute(
        select(worker_quality).where(
            worker_quality.c.worker_pk == worker_pk,
            worker_quality.c.flow_definition_name == flow,
        )
    ).first()


def _mine(worker_pk: int, flow: str) -> Any:
    return and_(
        worker_quality.c.worker_pk == worker_pk, worker_quality.c.flow_definition_name == flow
    )


def figures_of(row: Any) -> WorkerFigures:
    return WorkerFigures(
        answers=row.answers,
        gold_answers=row.gold_answers,
        gold_score_sum=row.gold_score_sum,
        agreement_n=row.agreement_n,
        agreement_sum=row.agreement_sum,
        first_picks=row.first_picks,
        position_choices=row.position_choices,
        median_seconds=row.median_ms / 1000 if row.median_ms is not None else None,
        flow_median_seconds=row.flow_median_ms / 1000 if row.flow_median_ms is not None else None,
    )


# -- claims --------------------------------------------------------------------------------


def check_not_paused(conn: Connection, worker_pk: int, flow: str) -> None:
    row = conn.execute(select(worker_quality.c.paused_at).where(_mine(worker_pk, flow))).first()
    if row is not None and row.paused_at is not None:
        raise WorkerPaused(
            f"You are paused on the job {flow}: your answers there agree too little with the "
            "expected ones. Your other jobs are not affected; the requester can resume you."
        )


def held_gold(conn: Connection, worker_pk: int, flow: str, now: int) -> str | None:
    return conn.scalar(
        select(gold_tasks.c.public_id).where(
            gold_tasks.c.worker_pk == worker_pk,
            gold_tasks.c.flow_definition_name == flow,
            gold_tasks.c.state == GOLD_ACTIVE,
            gold_tasks.c.lease_until > now,
        )
    )


def gold_due(conn: Connection, worker_pk: int, flow: str, rate: float, now: int) -> bool:
    """Whether the worker's next task on the flow is a gold item: the first, then one in
    every 1/rate, evenly spread (claims counted per worker and flow)."""
    _ensure(conn, worker_pk, flow, now)
    k = conn.scalar(select(worker_quality.c.claims).where(_mine(worker_pk, flow))) or 0
    return k == 0 or int((k + 1) * rate) > int(k * rate)


def count_claim(conn: Connection, worker_pk: int, flow: str, now: int) -> None:
    _ensure(conn, worker_pk, flow, now)
    conn.execute(
        update(worker_quality)
        .where(_mine(worker_pk, flow))
        .values(claims=worker_quality.c.claims + 1, updated_at=now)
    )


def take_gold(
    conn: Connection, worker_pk: int, flow: Any, now: int, lease_until: int
) -> Task | None:
    """A gold item of the flow the worker has not met, as a task like any other; None when
    every gold item is used up for them."""
    item = conn.execute(
        select(gold_items.c.id, gold_items.c.input_content)
        .where(
            gold_items.c.flow_definition_name == flow.name,
            ~select(gold_tasks.c.id)
            .where(
                gold_tasks.c.gold_item_id == gold_items.c.id, gold_tasks.c.worker_pk == worker_pk
            )
            .exists(),
        )
        .order_by(gold_items.c.id)
        .limit(1)
    ).first()
    if item is None:
        return None
    public_id = secrets.token_urlsafe(16)
    # A loop name as A2I users often make them: nothing in it says "gold".
    loop_name = str(uuid.uuid4())
    conn.execute(
        insert(gold_tasks).values(
            public_id=public_id,
            gold_item_id=item.id,
            worker_pk=worker_pk,
            flow_definition_name=flow.name,
            loop_name=loop_name,
            state=GOLD_ACTIVE,
            accepted_at=now,
            lease_until=lease_until,
        )
    )
    count_claim(conn, worker_pk, flow.name, now)
    config = flow.config["HumanLoopConfig"]
    return Task(
        public_id=public_id,
        human_loop_name=loop_name,
        flow_definition_name=flow.name,
        title=config["TaskTitle"],
        description=config["TaskDescription"],
        template=flow.content,
        input_content=item.input_content,
        accepted_us=now,
        lease_until_us=lease_until,
    )


def load_gold(conn: Connection, worker_pk: int, public_id: str, now: int) -> Task | None:
    row = conn.execute(
        select(
            gold_tasks.c.public_id,
            gold_tasks.c.loop_name,
            gold_tasks.c.state,
            gold_tasks.c.accepted_at,
            gold_tasks.c.lease_until,
            gold_tasks.c.flow_definition_name,
            gold_items.c.input_content,
        )
        .join(gold_items, gold_items.c.id == gold_tasks.c.gold_item_id)
        .where(gold_tasks.c.public_id == public_id, gold_tasks.c.worker_pk == worker_pk)
    ).first()
    if row is None:
        return None
    if row.state != GOLD_ACTIVE or (row.lease_until or 0) <= now:
        raise TaskGone(GONE)
    flow = conn.execute(
        select(flow_definitions.c.config, human_task_uis.c.content)
        .join(human_task_uis, human_task_uis.c.id == flow_definitions.c.human_task_ui_id)
        .where(flow_definitions.c.name == row.flow_definition_name)
    ).first()
    if flow is None:
        raise TaskGone("This task's job no longer exists.")
    config = flow.config["HumanLoopConfig"]
    return Task(
        public_id=row.public_id,
        human_loop_name=row.loop_name,
        flow_definition_name=row.flow_definition_name,
        title=config["TaskTitle"],
        description=config["TaskDescription"],
        template=flow.content,
        input_content=row.input_content,
        accepted_us=row.accepted_at,
        lease_until_us=row.lease_until,
    )


def give_back_gold(conn: Connection, worker_pk: int, public_id: str) -> bool:
    """Release or decline of a gold task: the worker is not offered that item again."""
    found = conn.execute(
        update(gold_tasks)
        .where(
            gold_tasks.c.public_id == public_id,
            gold_tasks.c.worker_pk == worker_pk,
            gold_tasks.c.state == GOLD_ACTIVE,
        )
        .values(state=GOLD_RETURNED, lease_until=None)
    ).rowcount
    return bool(found)


def expire_gold(conn: Connection, now: int) -> int:
    return int(
        conn.execute(
            update(gold_tasks)
            .where(gold_tasks.c.state == GOLD_ACTIVE, gold_tasks.c.lease_until <= now)
            .values(state=GOLD_RETURNED, lease_until=None)
        ).rowcount
    )


# -- answers -------------------------------------------------------------------------------


def submit_gold(
    conn: Connection,
    worker_pk: int,
    public_id: str,
    answer: dict[str, Any],
    spent_ms: int | None,
    now: int,
    arns: ArnFactory,
) -> bool:
    """Score an answer to a gold task; False when ``public_id`` is not a gold task."""
    row = conn.execute(
        select(
            gold_tasks.c.id,
            gold_tasks.c.state,
            gold_tasks.c.lease_until,
            gold_tasks.c.accepted_at,
            gold_tasks.c.flow_definition_name,
            gold_items.c.answers,
        )
        .join(gold_items, gold_items.c.id == gold_tasks.c.gold_item_id)
        .where(gold_tasks.c.public_id == public_id, gold_tasks.c.worker_pk == worker_pk)
        .with_for_update(of=gold_tasks)
    ).first()
    if row is None:
        return False
    if row.state != GOLD_ACTIVE or (row.lease_until or 0) <= now:
        raise TaskGone(GONE)
    elapsed = max(0, (now - row.accepted_at) // 1000)
    spent = elapsed if spent_ms is None else min(elapsed, spent_ms)
    score = gold_score(answer, list(row.answers))
    conn.execute(
        update(gold_tasks)
        .where(gold_tasks.c.id == row.id)
        .values(
            state=GOLD_SUBMITTED,
            lease_until=None,
            submitted_at=now,
            answer=answer,
            score=score,
            time_spent_ms=spent,
        )
    )
    flow = row.flow_definition_name
    _ensure(conn, worker_pk, flow, now)
    conn.execute(
        update(worker_quality)
        .where(_mine(worker_pk, flow))
        .values(
            gold_answers=worker_quality.c.gold_answers + 1,
            gold_score_sum=worker_quality.c.gold_score_sum + score,
            updated_at=now,
        )
    )
    settings = settings_of(_flow_config(conn, flow))
    reassess(conn, worker_pk, flow, settings, now, arns)
    return True


def note_answer(
    conn: Connection, worker_pk: int, flow: str, answer: dict[str, Any], now: int
) -> None:
    """A real answer's part in the worker's figures: counts, position, median time."""
    _ensure(conn, worker_pk, flow, now)
    pick = first_position_pick(answer)
    values: dict[str, Any] = {"answers": worker_quality.c.answers + 1, "updated_at": now}
    if pick is not None:
        values["position_choices"] = worker_quality.c.position_choices + 1
        if pick:
            values["first_picks"] = worker_quality.c.first_picks + 1
    conn.execute(update(worker_quality).where(_mine(worker_pk, flow)).values(values))
    answers = conn.scalar(select(worker_quality.c.answers).where(_mine(worker_pk, flow))) or 0
    if answers % MEDIAN_EVERY == 0:
        _refresh_medians(conn, worker_pk, flow, now)


def _times(conn: Connection, flow: str, worker_pk: int | None, limit: int) -> list[int]:
    query = (
        select(tasks.c.time_spent_ms)
        .join(human_loops, human_loops.c.id == tasks.c.human_loop_id)
        .where(
            human_loops.c.flow_definition_name == flow,
            tasks.c.state == TaskState.SUBMITTED.value,
            tasks.c.time_spent_ms.is_not(None),
        )
        .order_by(tasks.c.id.desc())
        .limit(limit)
    )
    if worker_pk is not None:
        query = query.where(tasks.c.worker_pk == worker_pk)
    return [int(row[0]) for row in conn.execute(query).all()]


def _refresh_medians(conn: Connection, worker_pk: int, flow: str, now: int) -> None:
    mine, everyone = _times(conn, flow, worker_pk, 100), _times(conn, flow, None, 1000)
    conn.execute(
        update(worker_quality)
        .where(_mine(worker_pk, flow))
        .values(
            median_ms=int(statistics.median(mine)) if mine else None,
            flow_median_ms=int(statistics.median(everyone)) if everyone else None,
            updated_at=now,
        )
    )


def round_done(
    conn: Connection, loop_id: int, flow: str, settings: QualitySettings, now: int
) -> bool:
    """The loop has its round's answers. True: it gets one more (answers disagree and the
    cap allows; the update itself refuses to pass the cap). False: it is done; why is
    recorded, and each answer's agreement with the others goes into its worker's figures."""
    answers = conn.execute(
        select(tasks.c.worker_pk, tasks.c.answer)
        .where(tasks.c.human_loop_id == loop_id, tasks.c.state == TaskState.SUBMITTED.value)
        .order_by(tasks.c.id)
    ).all()
    contents = [dict(a.answer) for a in answers]
    level = agreement(contents)
    reason: str | None = None
    if settings.adaptive:
        threshold = settings.agreement or 0.0
        if level is not None and level >= threshold:
            reason = "agreement"
        else:
            raised = conn.execute(
                update(human_loops)
                .where(
                    human_loops.c.id == loop_id,
                    human_loops.c.max_task_count.is_not(None),
                    human_loops.c.task_count < human_loops.c.max_task_count,
                )
                .values(
                    task_count=human_loops.c.task_count + 1,
                    rounds=human_loops.c.rounds + 1,
                    updated_at=now,
                )
            ).rowcount
            if raised:
                return True
            reason = "cap"
    if reason is not None:
        conn.execute(
            update(human_loops).where(human_loops.c.id == loop_id).values(stop_reason=reason)
        )
    for index, row in enumerate(answers):
        if row.worker_pk is None:
            continue  # a removed worker's answer: it counts for the others, has no figures
        others = contents[:index] + contents[index + 1 :]
        score = consensus_similarity(contents[index], others)
        if score is None:
            continue
        _ensure(conn, row.worker_pk, flow, now)
        conn.execute(
            update(worker_quality)
            .where(_mine(row.worker_pk, flow))
            .values(
                agreement_n=worker_quality.c.agreement_n + 1,
                agreement_sum=worker_quality.c.agreement_sum + score,
                updated_at=now,
            )
        )
    return False


def loop_workers(conn: Connection, loop_id: int) -> list[int]:
    """The workers who answered the loop; a removed worker (whose answer stays, without a
    worker) is left out."""
    rows = conn.execute(
        select(tasks.c.worker_pk).where(
            tasks.c.human_loop_id == loop_id,
            tasks.c.state == TaskState.SUBMITTED.value,
            tasks.c.worker_pk.is_not(None),
        )
    ).all()
    return [int(row[0]) for row in rows]


def reassess(
    conn: Connection,
    worker_pk: int,
    flow: str,
    settings: QualitySettings,
    now: int,
    arns: ArnFactory,
) -> None:
    """Recompute the worker's trust; pause them (once) when it is below the flow's minimum
    with enough evidence: their open tasks go back to the pool, and an event is sent."""
    row = _row(conn, worker_pk, flow)
    if row is None:
        return
    figures = figures_of(row)
    score = trust(figures)
    conn.execute(update(worker_quality).where(_mine(worker_pk, flow)).values(trust=score))
    minimum = settings.min_trust
    if minimum is None or row.paused_at is not None:
        return
    if evidence(figures) < settings.min_evidence or score >= minimum:
        return
    reason = f"trust {score:.2f} below {minimum:.2f} after {evidence(figures)} observations"
    paused = conn.execute(
        update(worker_quality)
        .where(_mine(worker_pk, flow), worker_quality.c.paused_at.is_(None))
        .values(paused_at=now, paused_reason=reason, updated_at=now)
    ).rowcount
    if paused != 1:
        return  # paused meanwhile by another answer: one event only
    in_flow = select(human_loops.c.id).where(human_loops.c.flow_definition_name == flow)
    return_to_pool(
        conn,
        and_(tasks.c.worker_pk == worker_pk, tasks.c.human_loop_id.in_(in_flow)),
        TaskState.REVOKED,
    )
    conn.execute(
        update(gold_tasks)
        .where(
            gold_tasks.c.worker_pk == worker_pk,
            gold_tasks.c.flow_definition_name == flow,
            gold_tasks.c.state == GOLD_ACTIVE,
        )
        .values(state=GOLD_RETURNED, lease_until=None)
    )
    person = conn.execute(
        select(workers.c.worker_id, workers.c.email).where(workers.c.id == worker_pk)
    ).first()
    flow_arn = arns.build("flow-definition", flow)
    record_event(
        conn,
        arns,
        detail_type=PAUSED_EVENT,
        source="handloop",
        resources=[flow_arn],
        detail={
            "flowDefinitionArn": flow_arn,
            "flowDefinitionName": flow,
            "workerId": person.worker_id if person else None,
            "email": person.email if person else None,
            "trust": round(score, 4),
            "reason": reason,
            "pausedAt": to_datetime(now).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        key=flow,
        now=now,
    )


def _flow_config(conn: Connection, flow: str) -> dict[str, Any]:
    config = conn.scalar(select(flow_definitions.c.config).where(flow_definitions.c.name == flow))
    return dict(config) if config else {"HumanLoopConfig": {"TaskCount": 1}}


# -- the requester's side --------------------------------------------------------------------


@dataclass(frozen=True)
class GoldItem:
    id: int
    flow_definition_name: str
    input: Any
    answers: list[Any]
    created_us: int
    served: int
    mean_score: float | None


@dataclass(frozen=True)
class WorkerRecord:
    worker_id: str
    email: str
    figures: WorkerFigures
    trust: float
    paused: bool
    paused_reason: str | None


def parse_gold_line(line: bytes, number: int) -> tuple[str, list[Any]]:
    """One line of a gold file: (InputContent as stored, accepted answers); ValidationError
    naming the line."""
    where = f"line {number}"
    try:
        doc = json_values.parse(line, where)
    except ValidationError as exc:
        raise ValidationError(f"{where}: not valid JSON ({exc.message})") from None
    if not isinstance(doc, dict) or "input" not in doc:
        raise ValidationError(f'{where}: give {{"input": {{...}}, "answer": {{...}}}}')
    if "answer" in doc and "answers" in doc:
        raise ValidationError(f'{where}: give "answer" or "answers", not both')
    answers = [doc["answer"]] if "answer" in doc else doc.get("answers")
    if (
        not isinstance(answers, list)
        or not answers
        or not all(isinstance(a, dict) for a in answers)
    ):
        raise ValidationError(
            f'{where}: "answer" must be an answerContent object, or "answers" a non-empty '
            "list of them"
        )
    if not isinstance(doc["input"], dict):
        raise ValidationError(f'{where}: "input" must be the InputContent object')
    return json.dumps(doc["input"], ensure_ascii=False), answers


class Quality:
    """What the requester does: gold items, workers' figures, resuming a paused worker."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def add_gold(self, flow: str, data: bytes) -> tuple[int, int]:
        """Load a gold file (JSON Lines); (added, already there). Nothing is added unless
        every line is good."""
        items = []
        for number, line in enumerate(data.split(b"\n"), start=1):
            if line.strip():
                items.append(parse_gold_line(line, number))
        if not items:
            raise ValidationError("the gold file holds no items")
        now = self._clock()

        def op(conn: Connection) -> tuple[int, int]:
            if (
                conn.scalar(select(flow_definitions.c.id).where(flow_definitions.c.name == flow))
                is None
            ):
                raise ResourceNotFound(f"Flow definition {flow} does not exist.")
            added = 0
            for content, answers in items:
                sha = hashlib.sha256(content.encode()).hexdigest()
                found = conn.scalar(
                    select(gold_items.c.id).where(
                        gold_items.c.flow_definition_name == flow,
                        gold_items.c.input_sha256 == sha,
                    )
                )
                if found is not None:
                    conn.execute(
                        update(gold_items).where(gold_items.c.id == found).values(answers=answers)
                    )
                    continue
                conn.execute(
                    insert(gold_items).values(
                        flow_definition_name=flow,
                        input_content=content,
                        input_sha256=sha,
                        answers=answers,
                        created_at=now,
                    )
                )
                added += 1
            return added, len(items) - added

        return await self._db.write(op)

    async def list_gold(self, flow: str) -> list[GoldItem]:
        def op(conn: Connection) -> list[GoldItem]:
            served = (
                select(
                    gold_tasks.c.gold_item_id,
                    func.count().label("served"),
                    func.avg(gold_tasks.c.score).label("mean"),
                )
                .where(gold_tasks.c.state == GOLD_SUBMITTED)
                .group_by(gold_tasks.c.gold_item_id)
                .subquery()
            )
            rows = conn.execute(
                select(gold_items, served.c.served, served.c.mean)
                .outerjoin(served, served.c.gold_item_id == gold_items.c.id)
                .where(gold_items.c.flow_definition_name == flow)
                .order_by(gold_items.c.id)
            ).all()
            return [
                GoldItem(
                    r.id,
                    r.flow_definition_name,
                    json.loads(r.input_content),
                    list(r.answers),
                    r.created_at,
                    int(r.served or 0),
                    float(r.mean) if r.mean is not None else None,
                )
                for r in rows
            ]

        return await self._db.read(op)

    async def remove_gold(self, flow: str, item_id: int | None) -> int:
        """Remove one gold item (or all of the flow's, ``item_id`` None); how many."""

        def op(conn: Connection) -> int:
            where = gold_items.c.flow_definition_name == flow
            if item_id is not None:
                where = and_(where, gold_items.c.id == item_id)
            ids = [int(row[0]) for row in conn.execute(select(gold_items.c.id).where(where)).all()]
            if not ids:
                return 0
            conn.execute(delete(gold_tasks).where(gold_tasks.c.gold_item_id.in_(ids)))
            conn.execute(delete(gold_items).where(gold_items.c.id.in_(ids)))
            return len(ids)

        return await self._db.write(op)

    async def workers(self, flow: str) -> list[WorkerRecord]:
        def op(conn: Connection) -> list[WorkerRecord]:
            rows = conn.execute(
                select(worker_quality, workers.c.worker_id, workers.c.email)
                .join(workers, workers.c.id == worker_quality.c.worker_pk)
                .where(worker_quality.c.flow_definition_name == flow)
                .order_by(workers.c.email)
            ).all()
            out = []
            for r in rows:
                figures = figures_of(r)
                out.append(
                    WorkerRecord(
                        r.worker_id,
                        r.email,
                        figures,
                        trust(figures),
                        r.paused_at is not None,
                        r.paused_reason,
                    )
                )
            return out

        return await self._db.read(op)

    async def resume(self, worker_pk: int, flow: str) -> bool:
        """Lift a pause; False when the worker was not paused on the flow. Their evidence
        starts afresh (gold, agreement and position counts are zeroed; answer count and
        times stay), so the pause is re-checked only after ``min-evidence`` new
        observations: an old record does not pause them again on their next answer."""
        now = self._clock()

        def op(conn: Connection) -> bool:
            row = _row(conn, worker_pk, flow)
            if row is None or row.paused_at is None:
                return False
            conn.execute(
                update(worker_quality)
                .where(_mine(worker_pk, flow))
                .values(
                    paused_at=None,
                    paused_reason=None,
                    # A fresh start: earlier evidence no longer counts against them.
                    gold_answers=0,
                    gold_score_sum=0.0,
                    agreement_n=0,
                    agreement_sum=0.0,
                    first_picks=0,
                    position_choices=0,
                    updated_at=now,
                )
            )
            return True

        return await self._db.write(op)
