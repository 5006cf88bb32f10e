"""Human loops: one item under review, from StartHumanLoop to a final status."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from handloop.domain import json_values
from handloop.domain.arns import ArnFactory
from handloop.domain.records import HumanLoop, Page
from handloop.domain.statuses import HumanLoopStatus
from handloop.errors import Conflict, ResourceNotFound, ServiceQuotaExceeded, ValidationError
from handloop.services import quality
from handloop.services.clock import Clock
from handloop.services.lifecycle import end_loop
from handloop.services.listing import list_page
from handloop.store import Database
from handloop.store.tables import flow_definitions, human_loops

# Everything but the (possibly 3 MB) input, for listings.
SUMMARY_COLUMNS = [c for c in human_loops.c if c.name != "input_content"]

# StartHumanLoop's statements, built once: it is the API's hottest write.
_BY_NAME = select(*SUMMARY_COLUMNS, human_loops.c.input_sha256).where(
    human_loops.c.name == bindparam("name")
)
# The row lock (PostgreSQL) makes concurrent starts on one flow count one by one;
# active_loops is kept by triggers on human_loops.
_FLOW_FOR_START = (
    select(
        flow_definitions.c.id,
        flow_definitions.c.created_at,
        flow_definitions.c.s3_output_path,
        flow_definitions.c.active_loops,
        flow_definitions.c.task_count,
        flow_definitions.c.task_time_limit_seconds,
        flow_definitions.c.task_availability_lifetime_seconds,
        flow_definitions.c.config,
    )
    .where(flow_definitions.c.name == bindparam("flow_name"))
    .with_for_update()
)
_INSERT = insert(human_loops)
# Inputs shorter than this are checked in place (a couple of milliseconds at worst).
_INLINE_CHECK_CHARS = 16_000


def _adaptive_cap(config: dict[str, Any]) -> int | None:
    settings = quality.settings_of(config)
    return settings.max_task_count if settings.adaptive else None


def _record(row: Row[Any]) -> HumanLoop:
    return HumanLoop(
        id=row.id,
        name=row.name,
        flow_definition_name=row.flow_definition_name,
        s3_output_path=row.s3_output_path,
        input_content=getattr(row, "input_content", ""),
        status=HumanLoopStatus(row.status),
        failure_code=row.failure_code,
        failure_reason=row.failure_reason,
        created_us=row.created_at,
        updated_us=row.updated_at,
        data_attributes=row.data_attributes,
    )


class HumanLoops:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        max_in_progress: int,
        activation_seconds: float,
        arns: ArnFactory,
        time_scale: float = 1.0,
    ) -> None:
        self._db = db
        self._clock = clock
        self._max_in_progress = max_in_progress
        self._activation_us = int(activation_seconds * 1_000_000)
        self._arns = arns
        self._time_scale = time_scale

    @property
    def max_in_progress(self) -> int:
        """Loops a flow may have in progress at once (the quota StartHumanLoop checks)."""
        return self._max_in_progress

    async def start(
        self,
        name: str,
        flow_name: str,
        input_content: str,
        data_attributes: dict[str, Any] | None,
        *,
        evaluation_job_id: int | None = None,
    ) -> HumanLoop:
        """Start a loop; the same name and input again answer the loop already started.
        ``evaluation_job_id``: the evaluation job starting it (its task UI is the job's)."""
        # Bounded here, so that no stored loop can break a claim, a page or an output later.
        # Checking a large input takes a while: off the event loop, so others are served.
        what = "HumanLoopInput.InputContent"
        if len(input_content) < _INLINE_CHECK_CHARS:
            json_values.parse(input_content, what)
        else:
            await asyncio.to_thread(json_values.parse, input_content, what)
        sha = hashlib.sha256(input_content.encode()).hexdigest()
        now = self._clock()
        return await self._db.write(
            lambda conn: self._start(
                conn, name, flow_name, input_content, sha, data_attributes, now, evaluation_job_id
            )
        )

    def _start(
        self,
        conn: Connection,
        name: str,
        flow_name: str,
        input_content: str,
        sha: str,
        data_attributes: dict[str, Any] | None,
        now: int,
        evaluation_job_id: int | None = None,
    ) -> HumanLoop:
        existing = conn.execute(_BY_NAME, {"name": name}).first()
        if existing is not None:
            return self._same_or_conflict(existing, flow_name, sha, input_content)
        flow = conn.execute(_FLOW_FOR_START, {"flow_name": flow_name}).first()
        if flow is None:
            raise ValidationError(f"Flow definition {flow_name} does not exist.")
        if now < flow.created_at + self._activation_us:
            raise ValidationError(
                f"Flow definition {flow_name} is Initializing; start loops once it is Active."
            )
        if flow.active_loops >= self._max_in_progress:
            raise ServiceQuotaExceeded(
                f"Flow definition {flow_name} has {flow.active_loops} human loops in progress, "
                "the most allowed (HANDLOOP_MAX_IN_PROGRESS_LOOPS_PER_FLOW)."
            )
        values = {
            "name": name,
            "flow_definition_id": flow.id,
            "flow_definition_name": flow_name,
            "s3_output_path": flow.s3_output_path,
            "input_content": input_content,
            "input_sha256": sha,
            "data_attributes": data_attributes,
            "status": HumanLoopStatus.IN_PROGRESS.value,
            "created_at": now,
            "updated_at": now,
            "task_count": flow.task_count,
            "task_time_limit_seconds": flow.task_time_limit_seconds,
            "evaluation_job_id": evaluation_job_id,
            # Adaptive overlap (handloop:max-task-count): the cap the loop's answers grow to.
            "max_task_count": _adaptive_cap(flow.config),
            "expires_at": now
            + int(flow.task_availability_lifetime_seconds * 1_000_000 / self._time_scale),
        }
        if conn.dialect.name == "sqlite":
            # One writer thread is SQLite's only writer: the read above was authoritative.
            key = conn.execute(_INSERT, values).inserted_primary_key
        else:
            savepoint = conn.begin_nested()
            try:
                key = conn.execute(_INSERT, values).inserted_primary_key
            except IntegrityError:
                # Another process started a loop of this name between our read and insert.
                savepoint.rollback()
                raced = conn.execute(_BY_NAME, {"name": name}).one()
                return self._same_or_conflict(raced, flow_name, sha, input_content)
            savepoint.commit()
        assert key is not None
        return HumanLoop(
            id=key[0],
            name=name,
            flow_definition_name=flow_name,
            s3_output_path=flow.s3_output_path,
            input_content=input_content,
            status=HumanLoopStatus.IN_PROGRESS,
            failure_code=None,
            failure_reason=None,
            created_us=now,
            updated_us=now,
            data_attributes=data_attributes,
        )

    @staticmethod
    def _same_or_conflict(row: Any, flow_name: str, sha: str, input_content: str) -> HumanLoop:
        if row.flow_definition_name == flow_name and row.input_sha256 == sha:
            return _record(row)
        raise Conflict(
            f"A human loop named {row.name} already exists with different input data or flow "
            "definition; use a new name."
        )

    async def get(self, name: str) -> HumanLoop:
        row = await self._db.read(
            lambda conn: conn.execute(
                select(*SUMMARY_COLUMNS).where(human_loops.c.name == name)
            ).first()
        )
        if row is None:
            raise ResourceNotFound(f"Human loop {name} does not exist.")
        return _record(row)

    async def page(
        self,
        flow_name: str,
        *,
        created_after: datetime | None,
        created_before: datetime | None,
        ascending: bool,
        token: str | None,
        max_results: int,
    ) -> Page[HumanLoop]:
        return await list_page(
            self._db,
            human_loops,
            _record,
            created_after=created_after,
            created_before=created_before,
            ascending=ascending,
            token=token,
            max_results=max_results,
            where=[human_loops.c.flow_definition_name == flow_name],
            query_key={"f": flow_name},
            columns=SUMMARY_COLUMNS,
        )

    async def flow_exists(self, flow_name: str) -> bool:
        found = await self._db.read(
            lambda conn: conn.scalar(
                select(flow_definitions.c.id).where(flow_definitions.c.name == flow_name)
            )
        )
        return found is not None

    async def stop(self, name: str) -> None:
        """InProgress -> Stopping; the scheduler finishes it (revoking leases) as Stopped.

        A loop whose last answer is in is being completed; stopping it changes nothing.
        """

        def op(conn: Connection) -> None:
            row = conn.execute(
                select(human_loops.c.status, human_loops.c.submitted, human_loops.c.task_count)
                .where(human_loops.c.name == name)
                .with_for_update()
            ).first()
            if row is None:
                raise ResourceNotFound(f"Human loop {name} does not exist.")
            status = row.status
            if status == HumanLoopStatus.IN_PROGRESS.value and row.submitted >= row.task_count:
                return
            if status in (HumanLoopStatus.STOPPING.value, HumanLoopStatus.STOPPED.value):
                return
            if status != HumanLoopStatus.IN_PROGRESS.value:
                raise ValidationError(
                    f"Human loop {name} is {status}; only a loop in progress can be stopped."
                )
            conn.execute(
                update(human_loops)
                .where(
                    human_loops.c.name == name,
                    human_loops.c.status == HumanLoopStatus.IN_PROGRESS.value,
                )
                .values(status=HumanLoopStatus.STOPPING.value, updated_at=self._clock())
            )

        await self._db.write(op)

    async def finish_stopping(self) -> list[str]:
        """Move every Stopping loop to Stopped, revoking its leases and recording the
        event; the names of those moved."""

        def op(conn: Connection) -> list[str]:
            now = self._clock()
            due: Sequence[Row[Any]] = conn.execute(
                select(human_loops.c.id, human_loops.c.name).where(
                    human_loops.c.status == HumanLoopStatus.STOPPING.value
                )
            ).all()
            return [
                loop.name
                for loop in due
                if end_loop(conn, self._arns, loop.id, HumanLoopStatus.STOPPED, now)
            ]

        return await self._db.write(op)

    async def delete(self, name: str) -> None:
        def op(conn: Connection) -> None:
            status = conn.scalar(select(human_loops.c.status).where(human_loops.c.name == name))
            if status is None:
                raise ResourceNotFound(f"Human loop {name} does not exist.")
            if not HumanLoopStatus(status).is_final:
                raise ValidationError(
                    f"Human loop {name} is {status}; only Completed, Failed or Stopped loops can "
                    "be deleted (stop it first)."
                )
            conn.execute(human_loops.delete().where(human_loops.c.name == name))

        await self._db.write(op)
