"""The state changes every part of the task lifecycle shares, each written once.

- :func:`return_to_pool`: active tasks leave their workers' hands (release, decline, lease
  expiry, a loop's end, a worker disabled or out of the team). The row stays, in the state
  that says why, and its loop counts one claim less.
- :func:`end_loop`: a loop reaches a final status, its leases are revoked and its
  status-change event is recorded, in the caller's transaction.

``claimed`` counts a loop's active and submitted tasks; these keep it so, and the database's
checks (``claimed <= task_count``, ``submitted <= claimed``) hold whatever the callers do.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, literal_column, select, update

from handloop.domain.arns import ArnFactory
from handloop.domain.records import Worker, in_team
from handloop.domain.statuses import FailureCode, HumanLoopStatus, TaskState
from handloop.services.events import record_status_change
from handloop.store.tables import flow_definitions, human_loops, tasks, workteams

# A loop ends from either: a Stopping loop whose answers are all in is still completed.
ENDABLE = (HumanLoopStatus.IN_PROGRESS.value, HumanLoopStatus.STOPPING.value)
MAX_REASON = 1024  # human_loops.failure_reason

_UNCLAIM = (
    update(human_loops)
    .where(human_loops.c.id == bindparam("loop"))
    .values(claimed=human_loops.c.claimed - bindparam("count"))
)
_END = (
    update(human_loops)
    .where(human_loops.c.id == bindparam("loop"), human_loops.c.status.in_(ENDABLE))
    .values(
        status=bindparam("new_status"),
        failure_code=bindparam("code"),
        failure_reason=bindparam("reason"),
        updated_at=bindparam("now"),
    )
)
# Whether the loop must have all its answers in (True), must not (False), or either (None).
_ENDS = {
    None: _END,
    True: _END.where(human_loops.c.submitted >= human_loops.c.task_count),
    False: _END.where(human_loops.c.submitted < human_loops.c.task_count),
}
# What a status-change event tells of a loop.
_EVENT_FIELDS = select(
    human_loops.c.name,
    human_loops.c.flow_definition_name,
    human_loops.c.s3_output_path,
    human_loops.c.created_at,
    human_loops.c.failure_code,
    human_loops.c.failure_reason,
).where(human_loops.c.id == bindparam("loop"))


def state_in(*states: TaskState) -> ColumnElement[bool]:
    """``tasks.state`` is one of ``states``, written out in the SQL (statements that use it
    are built once; a bound list would be expanded again at every run)."""
    return tasks.c.state.in_([literal_column(f"'{state.value}'") for state in states])


def return_to_pool(conn: Connection, where: ColumnElement[bool], state: TaskState) -> int:
    """Move the active tasks matching ``where`` to ``state`` (declined, released, expired or
    revoked), uncounting their claims; how many moved."""
    freed = conn.execute(
        update(tasks)
        .where(tasks.c.state == TaskState.ACTIVE.value, where)
        .values(state=state.value, lease_until=None)
        .returning(tasks.c.human_loop_id)
    ).all()
    for loop_id, count in Counter(row.human_loop_id for row in freed).items():
        conn.execute(_UNCLAIM, {"loop": loop_id, "count": count})
    return len(freed)


def revoke_outside_teams(conn: Connection, worker: Worker) -> int:
    """Take back the active tasks ``worker`` holds in flows whose work team they are no
    longer a member of (their groups changed); how many."""
    held = conn.execute(
        select(tasks.c.id, workteams.c.config)
        .join(human_loops, human_loops.c.id == tasks.c.human_loop_id)
        .join(flow_definitions, flow_definitions.c.id == human_loops.c.flow_definition_id)
        .join(workteams, workteams.c.id == flow_definitions.c.workteam_id)
        .where(tasks.c.worker_pk == worker.id, tasks.c.state == TaskState.ACTIVE.value)
    ).all()
    outside = [row.id for row in held if not in_team(worker.groups, row.config)]
    if not outside:
        return 0
    return return_to_pool(conn, tasks.c.id.in_(outside), TaskState.REVOKED)


def end_loop(
    conn: Connection,
    arns: ArnFactory,
    loop_id: int,
    status: HumanLoopStatus,
    now: int,
    *,
    failure_code: FailureCode | None = None,
    failure_reason: str | None = None,
    answered: bool | None = None,
    loop: Any = None,
) -> bool:
    """Move a loop InProgress or Stopping to the final ``status``, revoke its leases and
    record its event; False (nothing changed) when it is in neither status, or when
    ``answered`` is given and its answers are not (True) or are (False) all in.

    ``loop``, the loop's row read earlier in this transaction, spares reading it again for
    the event; only for Completed, whose event carries no failure.
    """
    assert status.is_final
    reason = failure_reason
    if reason is not None and len(reason) > MAX_REASON:
        reason = reason[: MAX_REASON - 3] + "..."
    moved = conn.execute(
        _ENDS[answered],
        {
            "loop": loop_id,
            "new_status": status.value,
            "code": failure_code.value if failure_code is not None else None,
            "reason": reason,
            "now": now,
        },
    )
    if moved.rowcount != 1:
        return False
    if status != HumanLoopStatus.COMPLETED:
        # A Completed loop holds no lease: its claims are its answers (claimed <= task_count).
        return_to_pool(conn, tasks.c.human_loop_id == loop_id, TaskState.REVOKED)
    if loop is None or status == HumanLoopStatus.FAILED:
        loop = conn.execute(_EVENT_FIELDS, {"loop": loop_id}).one()
    record_status_change(conn, arns, loop, status.value, now)
    return True
