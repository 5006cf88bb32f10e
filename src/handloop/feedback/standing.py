"""Workers' standing on the exported flow (trust, paused), for ``--min-trust`` and
``--weights trust``.

The store knows it (worker_quality: docs/quality.md); the export only reads it, once, before
the first output file. It travels to worker processes inside ExportOptions, so it holds
plain values only: a dict worker_id → trust and a frozenset of paused worker ids.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from handloop.domain.quality import WorkerFigures, trust
from handloop.feedback.output_files import LoopOutput

# Why an answer was left out (the keys of ExportResult.dropped).
BELOW_MIN_TRUST = "below-min-trust"
PAUSED = "paused"

# The trust of a worker of whom nothing is known yet: the prior that trust() starts from.
# A worker without a record on the flow (answers from before its quality settings, or a flow
# without them) is weighed as that, not as 1: a stranger is not worth more than a worker
# whose record shows them careful.
NO_RECORD_TRUST = trust(WorkerFigures())


@dataclass(frozen=True)
class WorkerStanding:
    """Each worker's trust on the flow (workers with a record) and who is paused there."""

    trust: dict[str, float] = field(default_factory=dict)
    paused: frozenset[str] = frozenset()
    no_record: float = NO_RECORD_TRUST

    def weight(self, worker_id: str | None) -> float:
        """The worker's answers' weight under ``--weights trust``: their trust."""
        if worker_id is None:
            return self.no_record
        return self.trust.get(worker_id, self.no_record)

    def drop_reason(self, worker_id: str, min_trust: float) -> str | None:
        """Why ``--min-trust`` leaves out this worker's answers, or None to keep them.

        A paused worker is left out whatever ``min_trust`` (the flow itself stopped trusting
        them; ``handloop workers resume`` lifts that), so ``--min-trust 0`` drops exactly the
        paused workers' answers. A worker without a record keeps theirs: nothing speaks
        against them."""
        if worker_id in self.paused:
            return PAUSED
        known = self.trust.get(worker_id)
        if known is not None and known < min_trust:
            return BELOW_MIN_TRUST
        return None


@dataclass
class Dropped:
    """Answers ``--min-trust`` left out: how many per reason, and whose."""

    answers: Counter[str] = field(default_factory=Counter)
    workers: dict[str, set[str]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.answers.values())

    def merge(self, other: Dropped) -> None:
        self.answers.update(other.answers)
        for reason, who in other.workers.items():
            self.workers.setdefault(reason, set()).update(who)

    def describe(self, min_trust: float | None) -> str:
        """``"5 answer(s): 3 of 1 worker(s) below --min-trust 0.6, 2 of 1 paused worker(s)"``."""
        parts = []
        if self.answers[BELOW_MIN_TRUST]:
            parts.append(
                f"{self.answers[BELOW_MIN_TRUST]} of {len(self.workers[BELOW_MIN_TRUST])} "
                f"worker(s) below --min-trust {min_trust}"
            )
        if self.answers[PAUSED]:
            parts.append(f"{self.answers[PAUSED]} of {len(self.workers[PAUSED])} paused worker(s)")
        return f"{self.total} answer(s)" + (f": {', '.join(parts)}" if parts else "")


def keep_trusted(
    output: LoopOutput, standing: WorkerStanding, min_trust: float, dropped: Dropped
) -> LoopOutput:
    """The output without the answers ``min_trust`` leaves out (counted in ``dropped``).

    The kept answers keep their ``position`` in ``humanAnswers``, so a row still points at
    the answer it came from."""
    kept = []
    for answer in output.answers:
        reason = standing.drop_reason(answer.worker_id, min_trust)
        if reason is None:
            kept.append(answer)
        else:
            dropped.answers[reason] += 1
            dropped.workers.setdefault(reason, set()).add(answer.worker_id)
    if len(kept) == len(output.answers):
        return output
    return replace(output, answers=tuple(kept))
