"""A2I's output.json: built from the database, written once, then the loop is Completed.

The last answer's transaction leaves the loop InProgress with ``submitted == task_count``.
The file is then written with ``if_absent`` (a second writer keeps the first file) and a
second transaction marks the loop Completed and records the event. A crash in between
leaves a loop that :meth:`Outputs.repair` finishes at start-up and on every scheduler tick,
so a loop is never Completed without its file and never gets two different files.

A write that fails is tried again with backoff; after the last attempt (or at once, when
the input or an answer stored by an older version holds what JSON cannot) the loop ends
Failed with a reason, so no loop keeps its flow busy for ever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, or_, select, update

from handloop.blobs.base import BlobStore
from handloop.domain import json_values
from handloop.domain.arns import ArnFactory
from handloop.domain.output_layout import output_uri, split_s3_uri
from handloop.domain.statuses import FailureCode, HumanLoopStatus, TaskState
from handloop.errors import ValidationError
from handloop.services.clock import Clock
from handloop.services.events import iso_ms
from handloop.services.lifecycle import ENDABLE, end_loop
from handloop.store import Database
from handloop.store.tables import human_loops, tasks

log = logging.getLogger(__name__)

COMPLETABLE = ENDABLE
# A failed write is tried again after 1 s, then 2, 4 ... at most this long apart.
MAX_RETRY_SECONDS = 300

# Every loop's last answer runs these: built once.
_LOOP = select(human_loops).where(human_loops.c.id == bindparam("loop"))
_ANSWERS = (
    select(tasks)
    .where(
        tasks.c.human_loop_id == bindparam("loop"),
        tasks.c.state == TaskState.SUBMITTED.value,
    )
    .order_by(tasks.c.submitted_at, tasks.c.id)
)
_COUNT_FAILED_WRITE = (
    update(human_loops)
    .where(human_loops.c.id == bindparam("loop"), human_loops.c.status.in_(COMPLETABLE))
    .values(output_attempts=human_loops.c.output_attempts + 1)
    .returning(human_loops.c.output_attempts)
)


def output_document(
    arns: ArnFactory, loop: Any, answers: list[Any], input_value: Any
) -> dict[str, Any]:
    """The output file's content, in A2I's shape, from the loop, its submitted tasks and
    its parsed input."""
    return {
        "flowDefinitionArn": arns.build("flow-definition", loop.flow_definition_name),
        "humanAnswers": [
            {
                "answerContent": task.answer,
                "acceptanceTime": iso_ms(task.accepted_at),
                "submissionTime": iso_ms(task.submitted_at),
                "timeSpentInSeconds": round((task.time_spent_ms or 0) / 1000, 3),
                "workerId": task.identity["workerId"],
                "workerMetadata": {"identityData": task.identity["identityData"]},
            }
            for task in answers
        ],
        "humanLoopName": loop.name,
        "inputContent": input_value,
    }


@dataclass(frozen=True)
class DueOutput:
    """A loop whose answers are all in: its row and its submitted tasks, read in one
    transaction."""

    loop: Any
    answers: list[Any]

    @property
    def uri(self) -> str:
        loop = self.loop
        return output_uri(
            loop.s3_output_path, loop.flow_definition_name, loop.name, loop.created_at
        )

    def data(self, arns: ArnFactory) -> bytes:
        """The output file's bytes; ValidationError if the input or an answer holds what
        JSON cannot (stored by a version that did not check)."""
        input_value = json_values.parse(self.loop.input_content, "InputContent")
        for task in self.answers:
            json_values.check_value(
                task.answer, f"the answer of worker {task.identity['workerId']}"
            )
        document = output_document(arns, self.loop, self.answers, input_value)
        return json_values.dumps(document).encode()


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


class Outputs:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        arns: ArnFactory,
        blobs: BlobStore,
        *,
        write_attempts: int = 12,
    ) -> None:
        self._db = db
        self._clock = clock
        self._arns = arns
        self._blobs = blobs
        self._write_attempts = write_attempts
        # File writes wait on fsync: their own threads, so they never hold up database reads.
        self._writers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="handloop-outputs")
        self._pending: set[asyncio.Task[bool]] = set()
        # Loops this process is completing now, which the repair leaves alone.
        self._completing: set[int] = set()

    def due_output(self, conn: Connection, loop_id: int) -> DueOutput | None:
        """The output of a loop whose answers are all in, else None."""
        loop = conn.execute(_LOOP, {"loop": loop_id}).first()
        if loop is None or loop.status not in COMPLETABLE:
            return None
        if loop.submitted < loop.task_count:
            return None
        answers = conn.execute(_ANSWERS, {"loop": loop_id}).all()
        return DueOutput(loop, list(answers))

    async def complete(self, loop_id: int, due: DueOutput | None = None) -> bool:
        """Write the loop's output (once) and mark it Completed; False if it is not due or
        the write failed (counted: the repair tries again later, and after the last attempt
        the loop ends Failed).

        ``due`` is what :meth:`due_output` gave in the last answer's transaction, if known.
        """
        self._completing.add(loop_id)
        try:
            return await self._complete(loop_id, due)
        finally:
            self._completing.discard(loop_id)

    async def _complete(self, loop_id: int, due: DueOutput | None) -> bool:
        found = due or await self._db.read(lambda conn: self.due_output(conn, loop_id))
        if found is None:
            return False
        run = asyncio.get_running_loop().run_in_executor
        try:
            data = await run(self._writers, found.data, self._arns)
        except ValidationError as exc:
            await self._fail(
                found,
                FailureCode.VALIDATION_ERROR,
                f"The output file cannot be built: {exc.message}",
            )
            return False
        uri = found.uri
        try:
            bucket, key = split_s3_uri(uri)
            await run(self._writers, lambda: self._blobs.put(bucket, key, data, if_absent=True))
        except Exception as exc:
            await self._write_failed(found, uri, exc)
            return False

        def mark(conn: Connection) -> bool:
            # What the event tells of the loop (name, flow, output path, creation) was fixed
            # when it started: the row read with its answers serves.
            return end_loop(
                conn,
                self._arns,
                loop_id,
                HumanLoopStatus.COMPLETED,
                self._clock(),
                answered=True,
                loop=found.loop,
            )

        return await self._db.write(mark)

    async def _fail(self, due: DueOutput, code: FailureCode, reason: str) -> None:
        log.error("human loop %s is Failed: %s", due.loop.name, reason)
        await self._db.write(
            lambda conn: end_loop(
                conn,
                self._arns,
                due.loop.id,
                HumanLoopStatus.FAILED,
                self._clock(),
                failure_code=code,
                failure_reason=reason,
                answered=True,
            )
        )

    async def _write_failed(self, due: DueOutput, uri: str, exc: Exception) -> None:
        """Count a failed write: schedule the next attempt, or after the last end the loop."""
        error = _error_text(exc)

        def count(conn: Connection) -> int | None:
            attempts: int | None = conn.scalar(_COUNT_FAILED_WRITE, {"loop": due.loop.id})
            if attempts is not None and attempts < self._write_attempts:
                wait_us = min(MAX_RETRY_SECONDS, 2 ** (attempts - 1)) * 1_000_000
                conn.execute(
                    update(human_loops)
                    .where(human_loops.c.id == due.loop.id)
                    .values(output_retry_at=self._clock() + wait_us)
                )
            return attempts

        attempts = await self._db.write(count)
        if attempts is None:  # no longer InProgress or Stopping: someone else finished it
            return
        if attempts < self._write_attempts:
            log.warning(
                "could not write the output of human loop %s to %s (attempt %d of %d): %s",
                due.loop.name,
                uri,
                attempts,
                self._write_attempts,
                error,
            )
            return
        await self._fail(
            due,
            FailureCode.INTERNAL_ERROR,
            f"The output file could not be written to {uri} after {attempts} attempts: {error}",
        )

    def complete_soon(self, loop_id: int, due: DueOutput) -> None:
        """:meth:`complete` in the background, for a caller who need not wait for the file
        (a worker's submit). A failure is logged, and the scheduler's repair finishes the
        loop later."""
        task = asyncio.get_running_loop().create_task(self._complete_logged(loop_id, due))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _complete_logged(self, loop_id: int, due: DueOutput) -> bool:
        try:
            return await self.complete(loop_id, due)
        except Exception:
            log.exception("could not complete human loop %s; will retry", loop_id)
            return False

    async def drain(self) -> None:
        """Wait for the background completions under way (before shutting down)."""
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def repair(self) -> int:
        """Finish every loop whose last answer is in but which is not Completed yet, and
        whose next attempt is due."""
        now = self._clock()
        ids: Sequence[int] = await self._db.read(
            lambda conn: conn.scalars(
                select(human_loops.c.id).where(
                    human_loops.c.status.in_(COMPLETABLE),
                    human_loops.c.submitted >= human_loops.c.task_count,
                    or_(
                        human_loops.c.output_retry_at.is_(None),
                        human_loops.c.output_retry_at <= now,
                    ),
                )
            ).all()
        )
        finished = 0
        for loop_id in ids:
            if loop_id in self._completing:
                continue
            try:
                finished += await self.complete(loop_id)
            except Exception:
                log.exception("could not complete human loop %s; will retry", loop_id)
        return finished
