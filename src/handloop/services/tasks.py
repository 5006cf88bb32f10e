"""The task lifecycle: claim the next task, release, decline, submit; lease and
availability expiry.

Invariants the database holds, whatever the code does: one task row per (loop, worker)
(``uq_tasks_loop_worker``), ``claimed <= task_count`` and ``submitted <= claimed`` (checks on
``human_loops``). ``claimed`` counts active and submitted tasks. A task row outlives its turn
(see ``TaskState``): the worker who held it is told why it is gone (409), and a new turn of
the same worker at the same loop (after a release or an expired lease) makes it active
again. Claims lock the loop row (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers in
several processes never wait on one another); on SQLite the one writer thread serialises
them. Every deadline is read from the server's clock.

Tasks go back to the pool and loops end only through :mod:`handloop.services.lifecycle`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import logging
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from handloop.domain import json_values
from handloop.domain.arns import ArnFactory
from handloop.domain.records import Job, Task, Worker, in_team
from handloop.domain.statuses import RETURNED, FailureCode, HumanLoopStatus, TaskState
from handloop.errors import ResourceNotFound, TaskGone, ValidationError
from handloop.services import quality
from handloop.services.clock import Clock
from handloop.services.lifecycle import end_loop, return_to_pool, state_in
from handloop.services.outputs import DueOutput, Outputs
from handloop.store import Database
from handloop.store.tables import (
    evaluation_jobs,
    flow_definitions,
    human_loops,
    human_task_uis,
    tasks,
    workteams,
)

log = logging.getLogger(__name__)

IN_PROGRESS = HumanLoopStatus.IN_PROGRESS.value
ACTIVE = TaskState.ACTIVE.value
MAX_ANSWER_BYTES = 1_000_000
NO_TASK = "No such task is assigned to you."
NOT_A_MEMBER = (
    "You are no longer a member of this task's work team; the task went back to the pool."
)
# Longer inputs are parsed off the event loop.
PARSE_INLINE_CHARS = 65_536


def flows_of(conn: Connection, worker: Worker) -> list[Any]:
    """The flow definitions of the teams ``worker`` belongs to (through a group)."""
    team_ids = [
        team.id
        for team in conn.execute(select(workteams.c.id, workteams.c.config)).all()
        if in_team(worker.groups, team.config)
    ]
    if not team_ids:
        return []
    return list(
        conn.execute(
            select(
                flow_definitions.c.id,
                flow_definitions.c.name,
                flow_definitions.c.config,
                flow_definitions.c.created_at,
            )
            .where(flow_definitions.c.workteam_id.in_(team_ids))
            .order_by(flow_definitions.c.name)
        ).all()
    )


def _open_loops(worker_pk: Any, now: Any) -> Any:
    """Loops a worker may take now: in progress, unexpired, short of claims, and not held,
    answered or declined by them."""
    return and_(
        human_loops.c.status == IN_PROGRESS,
        human_loops.c.claimed < human_loops.c.task_count,
        human_loops.c.expires_at > now,
        ~exists().where(
            tasks.c.human_loop_id == human_loops.c.id,
            tasks.c.worker_pk == worker_pk,
            state_in(TaskState.ACTIVE, TaskState.SUBMITTED, TaskState.DECLINED),
        ),
    )


def gone_reason(state: str, lease_until: int | None, loop_status: str, now: int) -> str | None:
    """Why a worker's task is no longer theirs to answer, or None while it is."""
    if state == TaskState.SUBMITTED:
        return "You already submitted this task."
    if state == TaskState.DECLINED:
        return "You declined this task."
    if state == TaskState.RELEASED:
        return "You released this task; it went back to the pool."
    if state == TaskState.EXPIRED or (
        state == TaskState.ACTIVE and lease_until is not None and lease_until <= now
    ):
        return "The time for this task ran out; it went back to the pool."
    if loop_status in (HumanLoopStatus.STOPPING, HumanLoopStatus.STOPPED):
        return "This task's human loop was stopped; it needs no answer."
    if loop_status != IN_PROGRESS:
        return f"This task's human loop is {loop_status}; it needs no answer."
    if state == TaskState.REVOKED:
        return "This task was taken back from you; it went back to the pool."
    return None


# The claim and submit statements, built once: they are the portal's hottest writes, and
# building a statement costs more than SQLite takes to run it.
_FLOW_FOR_CLAIM = (
    select(
        flow_definitions.c.id,
        flow_definitions.c.name,
        flow_definitions.c.config,
        workteams.c.config.label("team_config"),
        human_task_uis.c.content,
    )
    .join(workteams, workteams.c.id == flow_definitions.c.workteam_id)
    .join(human_task_uis, human_task_uis.c.id == flow_definitions.c.human_task_ui_id)
    .where(flow_definitions.c.name == bindparam("flow_name"))
)
_HELD = (
    select(tasks.c.public_id)
    .join(human_loops, human_loops.c.id == tasks.c.human_loop_id)
    .where(
        tasks.c.worker_pk == bindparam("worker"),
        tasks.c.state == ACTIVE,
        tasks.c.lease_until > bindparam("now"),
        human_loops.c.flow_definition_id == bindparam("flow"),
        human_loops.c.status == IN_PROGRESS,
    )
    .limit(1)
)
# The worker's earlier turn at the loop (released, expired or revoked), made active again
# rather than a second row: _open_loops leaves no other kind.
_EARLIER_TURN = (
    select(tasks.c.public_id)
    .where(tasks.c.human_loop_id == human_loops.c.id, tasks.c.worker_pk == bindparam("worker"))
    .scalar_subquery()
)
# An evaluation job's loops show the job's generated task UI, not the flow's.
_JOB_TEMPLATE = (
    select(evaluation_jobs.c.template)
    .where(evaluation_jobs.c.id == human_loops.c.evaluation_job_id)
    .scalar_subquery()
)
_NEXT_LOOP = (
    select(
        human_loops.c.id,
        human_loops.c.name,
        human_loops.c.input_content,
        human_loops.c.task_time_limit_seconds,
        _EARLIER_TURN.label("earlier_turn"),
        _JOB_TEMPLATE.label("job_template"),
    )
    .where(
        human_loops.c.flow_definition_id == bindparam("flow"),
        _open_loops(bindparam("worker"), bindparam("now")),
    )
    .order_by(human_loops.c.id)
    .limit(1)
    .with_for_update(skip_locked=True, of=human_loops)
)
_COUNT_CLAIM = (
    update(human_loops)
    .where(
        human_loops.c.id == bindparam("loop"),
        human_loops.c.status == IN_PROGRESS,
        human_loops.c.claimed < human_loops.c.task_count,
    )
    .values(claimed=human_loops.c.claimed + 1)
)
_INSERT_TASK = insert(tasks)
_REACTIVATE = (
    update(tasks)
    .where(tasks.c.public_id == bindparam("turn"), state_in(*RETURNED))
    .values(state=ACTIVE, accepted_at=bindparam("now"), lease_until=bindparam("until"))
)
_LOAD = (
    select(
        tasks.c.public_id,
        tasks.c.state,
        tasks.c.accepted_at,
        tasks.c.lease_until,
        human_loops.c.name.label("loop_name"),
        human_loops.c.input_content,
        human_loops.c.status,
        flow_definitions.c.name.label("flow_name"),
        flow_definitions.c.config,
        workteams.c.config.label("team_config"),
        func.coalesce(_JOB_TEMPLATE, human_task_uis.c.content).label("content"),
    )
    .join(human_loops, human_loops.c.id == tasks.c.human_loop_id)
    .outerjoin(flow_definitions, flow_definitions.c.id == human_loops.c.flow_definition_id)
    .outerjoin(workteams, workteams.c.id == flow_definitions.c.workteam_id)
    .outerjoin(human_task_uis, human_task_uis.c.id == flow_definitions.c.human_task_ui_id)
    .where(tasks.c.public_id == bindparam("public_id"), tasks.c.worker_pk == bindparam("worker"))
)
# Locks the task and its loop (PostgreSQL), so the last two answers of a loop count in turn;
# the flow and team rows are read, not locked (every submit of a flow would queue on them).
_TASK_TO_SUBMIT = (
    select(
        tasks.c.id,
        tasks.c.human_loop_id,
        tasks.c.state,
        tasks.c.accepted_at,
        tasks.c.lease_until,
        human_loops.c.status,
        human_loops.c.task_count,
        human_loops.c.submitted,
        workteams.c.config.label("team_config"),
        flow_definitions.c.config.label("flow_config"),
        human_loops.c.flow_definition_name.label("flow_name"),
    )
    .join(human_loops, human_loops.c.id == tasks.c.human_loop_id)
    .outerjoin(flow_definitions, flow_definitions.c.id == human_loops.c.flow_definition_id)
    .outerjoin(workteams, workteams.c.id == flow_definitions.c.workteam_id)
    .where(tasks.c.public_id == bindparam("public_id"), tasks.c.worker_pk == bindparam("worker"))
    .with_for_update(of=(tasks, human_loops))
)
_RECORD_ANSWER = (
    update(tasks)
    .where(tasks.c.id == bindparam("task"))
    .values(
        state=TaskState.SUBMITTED.value,
        lease_until=None,
        submitted_at=bindparam("now"),
        answer=bindparam("answer", type_=tasks.c.answer.type),
        time_spent_ms=bindparam("spent_ms"),
        identity=bindparam("identity", type_=tasks.c.identity.type),
    )
)
_COUNT_ANSWER = (
    update(human_loops)
    .where(human_loops.c.id == bindparam("loop"))
    .values(submitted=human_loops.c.submitted + 1, updated_at=bindparam("now"))
)


# What submit's transaction returns for an answer to a gold task (nothing more to do).
_GOLD: tuple[int, DueOutput | None] = (0, None)


class _TakenMeanwhile(Exception):
    """Another process gave the worker this loop between the select and the update."""


class Tasks:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        arns: ArnFactory,
        outputs: Outputs,
        *,
        time_scale: float,
        issuer: str,
    ) -> None:
        self._db = db
        self._clock = clock
        self._arns = arns
        self._outputs = outputs
        self._scale = time_scale
        self._issuer = issuer

    # -- what a worker sees -----------------------------------------------------------------

    async def jobs(self, worker: Worker) -> list[Job]:
        """The jobs of the worker's teams and how many tasks in each wait for them."""
        now = self._clock()

        def op(conn: Connection) -> list[Job]:
            jobs = []
            for flow in flows_of(conn, worker):
                waiting = conn.scalar(
                    select(func.count())
                    .select_from(human_loops)
                    .where(human_loops.c.flow_definition_id == flow.id, _open_loops(worker.id, now))
                )
                config = flow.config["HumanLoopConfig"]
                jobs.append(
                    Job(
                        flow.name,
                        config["TaskTitle"],
                        config["TaskDescription"],
                        tuple(config.get("TaskKeywords") or ()),
                        int(waiting or 0),
                    )
                )
            return jobs

        return await self._db.read(op)

    async def claim(self, worker: Worker, flow_name: str) -> Task | None:
        """The worker's task in this job: the one they hold, else a new one; None when no
        task is left for them. A loop whose stored input cannot be shown (stored before
        inputs were checked) is ended as Failed on the way, never handed out."""
        while True:
            now = self._clock()
            task = await self._db.write(
                functools.partial(self._claim, worker=worker, flow_name=flow_name, now=now)
            )
            if task is None:
                return None
            try:
                return await self._with_input(task)
            except ValidationError as exc:
                # That loop is now Failed (so no longer offered): on to the next one.
                await self._end_unreadable(task, exc)

    def _claim(self, conn: Connection, worker: Worker, flow_name: str, now: int) -> Task | None:
        flow = conn.execute(_FLOW_FOR_CLAIM, {"flow_name": flow_name}).first()
        if flow is None or not in_team(worker.groups, flow.team_config):
            raise ResourceNotFound(f"No job {flow_name} is open to you.")
        settings = quality.settings_of(flow.config)
        if settings.enabled:
            quality.check_not_paused(conn, worker.id, flow.name)
            gold = quality.held_gold(conn, worker.id, flow.name, now)
            if gold is not None:
                return quality.load_gold(conn, worker.id, gold, now)
        held = conn.scalar(_HELD, {"worker": worker.id, "now": now, "flow": flow.id})
        if held is not None:
            return self._load(conn, worker, str(held), now)
        # Gold among real work only: a worker with nothing left to do gets no gold.
        if (
            settings.gold_rate > 0
            and quality.gold_due(conn, worker.id, flow.name, settings.gold_rate, now)
            and conn.execute(_NEXT_LOOP, {"flow": flow.id, "worker": worker.id, "now": now}).first()
        ):
            limit = flow.config["HumanLoopConfig"].get("TaskTimeLimitInSeconds", 3600)
            lease = now + int(limit * 1_000_000 / self._scale)
            task = quality.take_gold(conn, worker.id, flow, now, lease)
            if task is not None:
                return task
        for _ in range(8):
            loop = conn.execute(
                _NEXT_LOOP, {"flow": flow.id, "worker": worker.id, "now": now}
            ).first()
            if loop is None:
                return None
            lease_until = now + int(loop.task_time_limit_seconds * 1_000_000 / self._scale)
            public_id = self._take(conn, worker, loop, now, lease_until)
            if public_id is not None:
                if settings.enabled:
                    quality.count_claim(conn, worker.id, flow.name, now)
                config = flow.config["HumanLoopConfig"]
                return Task(
                    public_id=public_id,
                    human_loop_name=loop.name,
                    flow_definition_name=flow.name,
                    title=config["TaskTitle"],
                    description=config["TaskDescription"],
                    template=loop.job_template or flow.content,
                    input_content=loop.input_content,
                    accepted_us=now,
                    lease_until_us=lease_until,
                )
        return None

    def _take(
        self, conn: Connection, worker: Worker, loop: Any, now: int, lease_until: int
    ) -> str | None:
        if conn.dialect.name == "sqlite":
            # One writer thread is SQLite's only writer: the select above was authoritative.
            return self._count_and_insert(conn, worker, loop, now, lease_until)
        savepoint = conn.begin_nested()
        try:
            taken = self._count_and_insert(conn, worker, loop, now, lease_until)
        except (IntegrityError, _TakenMeanwhile):
            # The same worker took this loop from another process meanwhile.
            savepoint.rollback()
            return None
        savepoint.commit()
        return taken

    def _count_and_insert(
        self, conn: Connection, worker: Worker, loop: Any, now: int, lease_until: int
    ) -> str | None:
        # The update refuses a loop another process filled since the select.
        if conn.execute(_COUNT_CLAIM, {"loop": loop.id}).rowcount != 1:
            return None
        if loop.earlier_turn is not None:
            again = {"turn": loop.earlier_turn, "now": now, "until": lease_until}
            if conn.execute(_REACTIVATE, again).rowcount != 1:
                raise _TakenMeanwhile
            return str(loop.earlier_turn)
        public_id = secrets.token_urlsafe(16)
        conn.execute(
            _INSERT_TASK,
            {
                "public_id": public_id,
                "human_loop_id": loop.id,
                "worker_pk": worker.id,
                "state": ACTIVE,
                "accepted_at": now,
                "lease_until": lease_until,
            },
        )
        return public_id

    async def get(self, worker: Worker, public_id: str) -> Task:
        """The worker's own active task, with its template and input."""
        now = self._clock()
        try:
            task = await self._db.read(lambda conn: self._load(conn, worker, public_id, now))
        except _NotAMember:
            await self._revoke(worker, public_id)
            raise TaskGone(NOT_A_MEMBER) from None
        try:
            return await self._with_input(task)
        except ValidationError as exc:
            await self._end_unreadable(task, exc)
            raise TaskGone(
                "This task's input cannot be shown; its human loop was ended as Failed."
            ) from None

    def _load(self, conn: Connection, worker: Worker, public_id: str, now: int) -> Task:
        row = conn.execute(_LOAD, {"public_id": public_id, "worker": worker.id}).first()
        if row is None:
            gold = quality.load_gold(conn, worker.id, public_id, now)
            if gold is None:
                raise ResourceNotFound(NO_TASK)
            return gold
        gone = gone_reason(row.state, row.lease_until, row.status, now)
        if gone is not None:
            raise TaskGone(gone)
        if not in_team(worker.groups, row.team_config):
            raise _NotAMember
        config = row.config["HumanLoopConfig"]
        return Task(
            public_id=row.public_id,
            human_loop_name=row.loop_name,
            flow_definition_name=row.flow_name,
            title=config["TaskTitle"],
            description=config["TaskDescription"],
            template=row.content,
            input_content=row.input_content,
            accepted_us=row.accepted_at,
            lease_until_us=row.lease_until,
        )

    async def _with_input(self, task: Task) -> Task:
        """``task`` with its input parsed and checked; ValidationError if it cannot be."""
        text = task.input_content
        if len(text) <= PARSE_INLINE_CHARS:
            value = json_values.parse(text, "InputContent")
        else:
            value = await asyncio.to_thread(json_values.parse, text, "InputContent")
        return dataclasses.replace(task, input=value)

    async def _end_unreadable(self, task: Task, error: ValidationError) -> None:
        """End the loop of ``task``, whose input cannot be shown, as Failed."""
        reason = (
            "The human loop's input, stored before inputs were checked, cannot be shown to "
            f"workers: {error.message}"
        )
        log.warning("ending human loop %s as Failed: %s", task.human_loop_name, error.message)

        def op(conn: Connection) -> None:
            loop_id = conn.scalar(
                select(human_loops.c.id).where(human_loops.c.name == task.human_loop_name)
            )
            if loop_id is not None:
                end_loop(
                    conn,
                    self._arns,
                    loop_id,
                    HumanLoopStatus.FAILED,
                    self._clock(),
                    failure_code=FailureCode.VALIDATION_ERROR,
                    failure_reason=reason,
                )

        await self._db.write(op)

    async def _revoke(self, worker: Worker, public_id: str) -> None:
        """Take back a task from a worker no longer in its work team."""
        await self._db.write(
            lambda conn: return_to_pool(
                conn,
                and_(tasks.c.public_id == public_id, tasks.c.worker_pk == worker.id),
                TaskState.REVOKED,
            )
        )

    # -- giving a task back -----------------------------------------------------------------

    async def release(self, worker: Worker, public_id: str) -> None:
        """Back to the pool now; the worker may be offered it again. The work is lost."""
        await self._give_back(worker, public_id, TaskState.RELEASED)

    async def decline(self, worker: Worker, public_id: str) -> None:
        """Back to the pool; the worker is never offered this loop again."""
        await self._give_back(worker, public_id, TaskState.DECLINED)

    async def _give_back(self, worker: Worker, public_id: str, state: TaskState) -> None:
        def op(conn: Connection) -> None:
            mine = and_(tasks.c.public_id == public_id, tasks.c.worker_pk == worker.id)
            if return_to_pool(conn, mine, state):
                return
            if quality.give_back_gold(conn, worker.id, public_id):
                return
            row = conn.execute(
                select(tasks.c.state, tasks.c.lease_until, human_loops.c.status)
                .join(human_loops, human_loops.c.id == tasks.c.human_loop_id)
                .where(mine)
            ).first()
            if row is None:
                raise ResourceNotFound(NO_TASK)
            raise TaskGone(gone_reason(row.state, row.lease_until, row.status, self._clock()) or "")

        await self._db.write(op)

    # -- answering --------------------------------------------------------------------------

    async def submit(
        self,
        worker: Worker,
        public_id: str,
        answer: Any,
        time_spent_seconds: float | None = None,
        *,
        wait: bool = True,
    ) -> None:
        """Record the worker's answer; the loop's last answer writes its output and
        completes it: before this returns, or in the background when ``wait`` is False (the
        answer is committed either way, and a completion cut short is repaired)."""
        if not isinstance(answer, dict):
            raise ValidationError("An answer is a JSON object.")
        if len(json.dumps(answer)) > MAX_ANSWER_BYTES:
            raise ValidationError(f"An answer can be at most {MAX_ANSWER_BYTES} bytes of JSON.")
        now = self._clock()
        identity = {
            "workerId": worker.worker_id,
            "identityData": {
                "identityProviderType": worker.identity_provider,
                # An OIDC worker's provider, as A2I writes it; else the portal's own address.
                "issuer": worker.issuer or self._issuer,
                "sub": worker.subject,
            },
        }

        def op(conn: Connection) -> tuple[int, DueOutput | None] | None:
            task = conn.execute(
                _TASK_TO_SUBMIT, {"public_id": public_id, "worker": worker.id}
            ).first()
            if task is None:
                spent = None if time_spent_seconds is None else int(time_spent_seconds * 1000)
                if quality.submit_gold(conn, worker.id, public_id, answer, spent, now, self._arns):
                    return _GOLD
                raise ResourceNotFound(NO_TASK)
            gone = gone_reason(task.state, task.lease_until, task.status, now)
            if gone is not None:
                raise TaskGone(gone)
            if not in_team(worker.groups, task.team_config):
                # Committed, unlike a raise: the task goes back to the pool at once.
                return_to_pool(conn, tasks.c.id == task.id, TaskState.REVOKED)
                return None
            elapsed_ms = max(0, (now - task.accepted_at) // 1000)
            spent_ms = elapsed_ms
            if time_spent_seconds is not None:
                spent_ms = min(elapsed_ms, max(0, int(time_spent_seconds * 1000)))
            conn.execute(
                _RECORD_ANSWER,
                {
                    "task": task.id,
                    "now": now,
                    "answer": answer,
                    "spent_ms": spent_ms,
                    "identity": identity,
                },
            )
            conn.execute(_COUNT_ANSWER, {"loop": task.human_loop_id, "now": now})
            settings = quality.settings_of(task.flow_config) if task.flow_config else None
            if settings is not None and settings.enabled:
                quality.note_answer(conn, worker.id, task.flow_name, answer, now)
            if task.submitted + 1 < task.task_count:
                if settings is not None and settings.enabled:
                    quality.reassess(conn, worker.id, task.flow_name, settings, now, self._arns)
                return task.human_loop_id, None
            if settings is not None and settings.enabled:
                more = quality.round_done(conn, task.human_loop_id, task.flow_name, settings, now)
                for someone in {worker.id, *quality.loop_workers(conn, task.human_loop_id)}:
                    quality.reassess(conn, someone, task.flow_name, settings, now, self._arns)
                if more:
                    return task.human_loop_id, None
            return task.human_loop_id, self._outputs.due_output(conn, task.human_loop_id)

        recorded = await self._db.write(op)
        if recorded is None:
            raise TaskGone(NOT_A_MEMBER)
        if recorded is _GOLD:
            return
        loop_id, due = recorded
        if due is None:
            return
        if wait:
            await self._outputs.complete(loop_id, due)
        else:
            self._outputs.complete_soon(loop_id, due)

    # -- scheduled sweeps -------------------------------------------------------------------

    async def expire_leases(self) -> int:
        """Return tasks whose time limit passed to the pool; how many."""
        now = self._clock()
        return await self._db.write(
            lambda conn: (
                return_to_pool(conn, tasks.c.lease_until <= now, TaskState.EXPIRED)
                + quality.expire_gold(conn, now)
            )
        )

    async def expire_loops(self) -> int:
        """Fail (Expired) loops not completed within TaskAvailabilityLifetimeInSeconds."""
        now = self._clock()

        def op(conn: Connection) -> tuple[int, list[tuple[int, DueOutput]]]:
            # A loop waiting for an extra answer of adaptive overlap already has its
            # round's answers: it completes with them (stop reason "lifetime").
            extra: Sequence[int] = conn.scalars(
                select(human_loops.c.id).where(
                    human_loops.c.status == IN_PROGRESS,
                    human_loops.c.expires_at <= now,
                    human_loops.c.rounds > 0,
                    human_loops.c.submitted < human_loops.c.task_count,
                )
            ).all()
            completing: list[tuple[int, DueOutput]] = []
            for loop_id in extra:
                # Its holders of the extra turn lose it; the answers in are kept.
                return_to_pool(conn, tasks.c.human_loop_id == loop_id, TaskState.EXPIRED)
                conn.execute(
                    update(human_loops)
                    .where(human_loops.c.id == loop_id, human_loops.c.submitted > 0)
                    .values(
                        task_count=human_loops.c.submitted,
                        claimed=human_loops.c.submitted,
                        stop_reason="lifetime",
                        updated_at=now,
                    )
                )
                due_output = self._outputs.due_output(conn, loop_id)
                if due_output is not None:
                    completing.append((loop_id, due_output))
            due: Sequence[int] = conn.scalars(
                select(human_loops.c.id).where(
                    human_loops.c.status == IN_PROGRESS,
                    human_loops.c.expires_at <= now,
                    human_loops.c.submitted < human_loops.c.task_count,
                )
            ).all()
            return sum(
                end_loop(
                    conn,
                    self._arns,
                    loop_id,
                    HumanLoopStatus.FAILED,
                    now,
                    failure_code=FailureCode.EXPIRED,
                    failure_reason="The human loop was not completed within its flow "
                    "definition's TaskAvailabilityLifetimeInSeconds.",
                    answered=False,
                )
                for loop_id in due
            ), completing

        ended, completing = await self._db.write(op)
        for loop_id, due_output in completing:
            await self._outputs.complete(loop_id, due_output)
        return ended + len(completing)


class _NotAMember(Exception):
    """The worker holds the task but left its work team."""
