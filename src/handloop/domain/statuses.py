"""Statuses and failure codes, spelt as A2I spells them."""

from __future__ import annotations

from enum import StrEnum


class HumanLoopStatus(StrEnum):
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"

    @property
    def is_final(self) -> bool:
        return self in (HumanLoopStatus.COMPLETED, HumanLoopStatus.FAILED, HumanLoopStatus.STOPPED)


class FailureCode(StrEnum):
    VALIDATION_ERROR = "ValidationError"
    EXPIRED = "Expired"
    INTERNAL_ERROR = "InternalError"


class FlowDefinitionStatus(StrEnum):
    INITIALIZING = "Initializing"
    ACTIVE = "Active"
    FAILED = "Failed"
    DELETING = "Deleting"


class TaskState(StrEnum):
    """A worker's turn at a loop: one ``tasks`` row per loop and worker, kept after the
    turn ends so the worker can be told why their task is gone."""

    ACTIVE = "active"  # leased: the worker holds it until its lease ends
    SUBMITTED = "submitted"
    DECLINED = "declined"  # back in the pool; never offered to this worker again
    RELEASED = "released"  # back in the pool at the worker's request
    EXPIRED = "expired"  # back in the pool: its time limit passed
    REVOKED = "revoked"  # taken back: the loop was stopped or ended, or the worker left


# A worker whose turn at a loop ended in one of these may be given that loop again: the
# same row becomes active once more.
RETURNED = (TaskState.RELEASED, TaskState.EXPIRED, TaskState.REVOKED)
