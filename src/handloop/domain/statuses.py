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
