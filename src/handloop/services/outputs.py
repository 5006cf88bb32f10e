"""A2I's output.json: built from the database, written once, then the loop is Completed.

The last answer's transaction leaves the loop InProgress with ``submitted == task_count``.
The file is then written with ``if_absent`` (a second writer keeps the first file) and a
second transaction marks the loop Completed and records the event. A crash in between
leaves a loop that :meth:`Outputs.repair` finishes at start-up and on every scheduler tick,
so a loop is never Completed without its file and never gets two different files.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from handloop.blobs.base import BlobStore
from handloop.domain.arns import ArnFactory
from handloop.domain.outputs import output_uri, split_s3_uri
from handloop.domain.statuses import HumanLoopStatus
from handloop.services.clock import Clock
from handloop.services.events import iso_ms, record_status_change
from handloop.store import Database
from handloop.store.tables import human_loops, tasks

log = logging.getLogger(__name__)

COMPLETABLE = (HumanLoopStatus.IN_PROGRESS.value, HumanLoopStatus.STOPPING.value)

# Every loop's last answer runs these: built once.
_LOOP = select(human_loops).where(human_loops.c.id == bindparam("loop"))
_ANSWERS = (
    select(tasks)
    .where(tasks.c.human_loop_id == bindparam("loop"), tasks.c.state == "submitted")
    .order_by(tasks.c.submitted_at, tasks.c.id)
)
_MARK_COMPLETED = (
    update(human_loops)
    .where(
        human_loops.c.id == bindparam("loop"),
        human_loops.c.status.in_(COMPLETABLE),
        human_loops.c.submitted >= human_loops.c.task_count,
    )
    .values(status=HumanLoopStatus.COMPLETED.value, updated_at=bindparam("now"))
)


def output_document(arns: ArnFactory, loop: Any, answers: list[Any]) -> dict[str, Any]:
    """The output file's content, in A2I's shape, from the loop and its submitted tasks."""
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
        "inputContent": json.loads(loop.input_content),
    }


@dataclass(frozen=True)
class DueOutput:
    """A loop whose answers are all in: its row, its output file's URI and content."""

    loop: Any
    uri: str
    data: bytes


class Outputs:
    def __init__(self, db: Database, clock: Clock, arns: ArnFactory, blobs: BlobStore) -> None:
        self._db = db
        self._clock = clock
        self._arns = arns
        self._blobs = blobs
        # File writes wait on fsync: their own threads, so they never hold up database reads.
        self._writers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="handloop-outputs")
        self._pending: set[asyncio.Task[bool]] = set()

    def due_output(self, conn: Connection, loop_id: int) -> DueOutput | None:
        """The output of a loop whose answers are all in, else None."""
        loop = conn.execute(_LOOP, {"loop": loop_id}).first()
        if loop is None or loop.status not in COMPLETABLE:
            return None
        if loop.submitted < loop.task_count:
            return None
        answers = conn.execute(_ANSWERS, {"loop": loop_id}).all()
        document = output_document(self._arns, loop, list(answers))
        uri = output_uri(loop.s3_output_path, loop.flow_definition_name, loop.name, loop.created_at)
        return DueOutput(loop, uri, json.dumps(document, ensure_ascii=False).encode())

    async def complete(self, loop_id: int, due: DueOutput | None = None) -> bool:
        """Write the loop's output (once) and mark it Completed; False if it is not due.

        ``due`` is what :meth:`due_output` gave in the last answer's transaction, if known.
        """
        found = due or await self._db.read(lambda conn: self.due_output(conn, loop_id))
        if found is None:
            return False
        bucket, key = split_s3_uri(found.uri)
        await asyncio.get_running_loop().run_in_executor(
            self._writers, lambda: self._blobs.put(bucket, key, found.data, if_absent=True)
        )

        def mark(conn: Connection) -> bool:
            now = self._clock()
            done = conn.execute(_MARK_COMPLETED, {"loop": loop_id, "now": now})
            if done.rowcount != 1:
                return False
            # What the event tells of the loop (name, flow, output path, creation) was fixed
            # when it started: the row read with its answers serves.
            record_status_change(conn, self._arns, found.loop, HumanLoopStatus.COMPLETED.value, now)
            return True

        return await self._db.write(mark)

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
        """Finish every loop whose last answer is in but which is not Completed yet."""
        ids: Sequence[int] = await self._db.read(
            lambda conn: conn.scalars(
                select(human_loops.c.id).where(
                    human_loops.c.status.in_(COMPLETABLE),
                    human_loops.c.submitted >= human_loops.c.task_count,
                )
            ).all()
        )
        finished = 0
        for loop_id in ids:
            try:
                finished += await self.complete(loop_id)
            except Exception:
                log.exception("could not complete human loop %s; will retry", loop_id)
        return finished
