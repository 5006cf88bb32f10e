"""The task lifecycle: claim the next task, release, decline, submit; lease and
availability expiry.

Invariants the database holds, whatever the code does: one task row per (loop, worker)
(``uq_tasks_loop_worker``), ``claimed <= task_count`` and ``submitted <= claimed`` (checks on
``human_loops``). ``claimed`` counts active and submitted tasks. Claims lock the loop row
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers in several processes never wait on one
another); on SQLite the one writer thread serialises them. Every deadline is read from the
server's clock.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from handloop.domain.arns import ArnFactory
from handloop.domain.records import Job, Task, Worker, member_groups
from handloop.domain.statuses import FailureCode, HumanLoopStatus
from handloop.errors import ResourceNotFound, TaskGone, ValidationError
from handloop.services.clock import Clock
from handloop.services.events import record_status_change
from handloop.services.outputs import DueOutput, Outputs
from handloop.store import Database
from handloop.store.tables import flow_definitions, human_loops, human_task_uis, tasks, workteams

IN_PROGRESS = HumanLoopStatus.IN_PROGRESS.value
MAX_ANSWER_BYTES = 1_000_000
NO_TASK = "No such task is assigned to you."


def flows_of(conn: Connection, worker: Worker) -> list[Any]:
    """The flow definitions of the teams ``worker`` belongs to (through a group)."""
    mine = set(worker.groups)
    team_ids = [
        team.id
        for team in conn.execute(select(workteams.c.id, workteams.c.config)).all()
        if mine.intersection(member_groups(team.config))
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
    """Loops a worker may take now: in progress, unexpired, short of claims, never theirs."""
    return and_(
        human_loops.c.status == IN_PROGRESS,
        human_loops.c.claimed < human_loops.c.task_count,
        human_loops.c.expires_at > now,
        ~exists().where(tasks.c.human_loop_id == human_loops.c.id, tasks.c.worker_id == worker_pk),
    )


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
        tasks.c.worker_id == bindparam("worker"),
        tasks.c.state == "active",
        tasks.c.lease_until > bindparam("now"),
        human_loops.c.flow_definition_id == bindparam("flow"),
        human_loops.c.status == IN_PROGRESS,
    )
    .limit(1)
)
_NEXT_LOOP = (
    select(
        human_loops.c.id,
        human_loops.c.name,
        human_loops.c.input_content,
        human_loops.c.task_time_limit_seconds,
    )
    .where(
        human_loops.c.flow_definition_id == bindparam("flow"),
        _open_loops(bindparam("worker"), bindparam("now")),
    )
    .order_by(human_loops.c.id)
    .limit(1)
    .with_for_update(skip_locked=True)
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
_LOAD = (
    select(
        tasks.c.public_id,
        tasks.c.accepted_at,
        tasks.c.lease_until,
        human_loops.c.name.label("loop_name"),
        human_loops.c.input_content,
        human_loops.c.status,
        flow_definitions.c.name.label("flow_name"),
        flow_definitions.c.config,
        human_task_uis.c.content,
    )
    .join(human_loops, human_loops.c.id == tasks.c.human_loop_id)
    .join(flow_definitions, flow_definitions.c.id == human_loops.c.flow_definition_id)
    .join(human_task_uis, human_task_uis.c.id == flow_definitions.c.human_task_ui_id)
    .where(
        tasks.c.public_id == bindparam("public_id"),
        tasks.c.worker_id == bindparam("worker"),
        tasks.c.state == "active",
    )
)
# Locks the task and its loop (PostgreSQL), so the last two answers of a loop count in turn.
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
    )
    .join(human_loops, human_loops.c.id == tasks.c.human_loop_id)
    .where(tasks.c.public_id == bindparam("public_id"), tasks.c.worker_id == bindparam("worker"))
    .with_for_update()
)
_RECORD_ANSWER = (
    update(tasks)
    .where(tasks.c.id == bindparam("task"))
    .values(
        state="submitted",
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
        task is left for them."""
        now = self._clock()

        return await self._db.write(lambda conn: self._claim(conn, worker, flow_name, now))

    def _claim(self, conn: Connection, worker: Worker, flow_name: str, now: int) -> Task | None:
        flow = conn.execute(_FLOW_FOR_CLAIM, {"flow_name": flow_name}).first()
        if flow is None or not set(worker.groups).intersection(member_groups(flow.team_config)):
            raise ResourceNotFound(f"No job {flow_name} is open to you.")
        held = conn.scalar(_HELD, {"worker": worker.id, "now": now, "flow": flow.id})
        if held is not None:
            return self._load(conn, worker, str(held), now)
        for _ in range(8):
            loop = conn.execute(
                _NEXT_LOOP, {"flow": flow.id, "worker": worker.id, "now": now}
            ).first()
            if loop is None:
                return None
            lease_until = now + int(loop.task_time_limit_seconds * 1_000_000 / self._scale)
            public_id = self._take(conn, worker, loop.id, now, lease_until)
            if public_id is not None:
                config = flow.config["HumanLoopConfig"]
                return Task(
                    public_id=public_id,
                    human_loop_name=loop.name,
                    flow_definition_name=flow.name,
                    title=config["TaskTitle"],
                    description=config["TaskDescription"],
                    template=flow.content,
                    input_content=loop.input_content,
                    accepted_us=now,
                    lease_until_us=lease_until,
                )
        return None

    def _take(
        self, conn: Connection, worker: Worker, loop_id: int, now: int, lease_until: int
    ) -> str | None:
        if conn.dialect.name == "sqlite":
            # One writer thread is SQLite's only writer: the select above was authoritative.
            return self._count_and_insert(conn, worker, loop_id, now, lease_until)
        savepoint = conn.begin_nested()
        try:
            taken = self._count_and_insert(conn, worker, loop_id, now, lease_until)
        except IntegrityError:
            # The same worker took this loop from another process meanwhile.
            savepoint.rollback()
            return None
        savepoint.commit()
        return taken

    def _count_and_insert(
        self, conn: Connection, worker: Worker, loop_id: int, now: int, lease_until: int
    ) -> str | None:
        # The update refuses a loop another process filled since the select.
        if conn.execute(_COUNT_CLAIM, {"loop": loop_id}).rowcount != 1:
            return None
        public_id = secrets.token_urlsafe(16)
        conn.execute(
            _INSERT_TASK,
            {
                "public_id": public_id,
                "human_loop_id": loop_id,
                "worker_id": worker.id,
                "state": "active",
                "accepted_at": now,
                "lease_until": lease_until,
            },
        )
        return public_id

    async def get(self, worker: Worker, public_id: str) -> Task:
        """The worker's own active task, with its template and input."""
        now = self._clock()
        return await self._db.read(lambda conn: self._load(conn, worker, public_id, now))

    def _load(self, conn: Connection, worker: Worker, public_id: str, now: int) -> Task:
        row = conn.execute(_LOAD, {"public_id": public_id, "worker": worker.id}).first()
        if row is None:
            raise ResourceNotFound(NO_TASK)
        if row.lease_until <= now or row.status != IN_PROGRESS:
            raise TaskGone("This task is no longer yours: its time ran out or it was stopped.")
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

    # -- giving a task back -----------------------------------------------------------------

    async def release(self, worker: Worker, public_id: str) -> None:
        """Back to the pool now; the worker may be offered it again. The work is lost."""
        await self._db.write(lambda conn: self._give_back(conn, worker, public_id, False))

    async def decline(self, worker: Worker, public_id: str) -> None:
        """Back to the pool; the worker is never offered this loop again."""
        await self._db.write(lambda conn: self._give_back(conn, worker, public_id, True))

    def _give_back(self, conn: Connection, worker: Worker, public_id: str, decline: bool) -> None:
        task = conn.execute(
            select(tasks.c.id, tasks.c.human_loop_id)
            .where(
                tasks.c.public_id == public_id,
                tasks.c.worker_id == worker.id,
                tasks.c.state == "active",
            )
            .with_for_update()
        ).first()
        if task is None:
            raise ResourceNotFound(NO_TASK)
        if decline:
            conn.execute(
                update(tasks)
                .where(tasks.c.id == task.id)
                .values(state="declined", lease_until=None)
            )
        else:
            conn.execute(delete(tasks).where(tasks.c.id == task.id))
        conn.execute(
            update(human_loops)
            .where(human_loops.c.id == task.human_loop_id)
            .values(claimed=human_loops.c.claimed - 1)
        )

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
                "issuer": self._issuer,
                "sub": worker.subject,
            },
        }

        def op(conn: Connection) -> tuple[int, DueOutput | None]:
            task = conn.execute(
                _TASK_TO_SUBMIT, {"public_id": public_id, "worker": worker.id}
            ).first()
            if task is None or task.state == "declined":
                raise ResourceNotFound(NO_TASK)
            if task.state == "submitted":
                raise TaskGone("You already submitted this task.")
            if task.lease_until <= now:
                raise TaskGone("The time for this task ran out; it went back to the pool.")
            if task.status != IN_PROGRESS:
                raise TaskGone(f"This task's human loop is {task.status}; it needs no answer.")
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
            if task.submitted + 1 < task.task_count:
                return task.human_loop_id, None
            return task.human_loop_id, self._outputs.due_output(conn, task.human_loop_id)

        loop_id, due = await self._db.write(op)
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

        def op(conn: Connection) -> int:
            freed = conn.execute(
                delete(tasks)
                .where(tasks.c.state == "active", tasks.c.lease_until <= now)
                .returning(tasks.c.human_loop_id)
            ).all()
            for row in freed:
                conn.execute(
                    update(human_loops)
                    .where(human_loops.c.id == row.human_loop_id)
                    .values(claimed=human_loops.c.claimed - 1)
                )
            return len(freed)

        return await self._db.write(op)

    async def expire_loops(self) -> int:
        """Fail (Expired) loops not completed within TaskAvailabilityLifetimeInSeconds."""
        now = self._clock()

        def op(conn: Connection) -> int:
            due = conn.execute(
                select(human_loops.c.id).where(
                    human_loops.c.status == IN_PROGRESS,
                    human_loops.c.expires_at <= now,
                    human_loops.c.submitted < human_loops.c.task_count,
                )
            ).all()
            failed = 0
            for row in due:
                conn.execute(
                    delete(tasks).where(tasks.c.human_loop_id == row.id, tasks.c.state == "active")
                )
                moved = conn.execute(
                    update(human_loops)
                    .where(human_loops.c.id == row.id, human_loops.c.status == IN_PROGRESS)
                    .values(
                        status=HumanLoopStatus.FAILED.value,
                        failure_code=FailureCode.EXPIRED.value,
                        failure_reason="The human loop was not completed within its flow "
                        "definition's TaskAvailabilityLifetimeInSeconds.",
                        claimed=human_loops.c.submitted,
                        updated_at=now,
                    )
                )
                if moved.rowcount == 1:
                    loop = conn.execute(select(human_loops).where(human_loops.c.id == row.id)).one()
                    record_status_change(conn, self._arns, loop, loop.status, now)
                    failed += 1
            return failed

        return await self._db.write(op)
