"""Statistics over the judgements of an export, gathered item by item as it streams.

- agreement: Krippendorff's alpha (ordinal) with one unit per loop x response, and the
  pairwise agreement rate (two annotators give the same verdict — one wins, or a tie — on
  the same response pair);
- per-worker answer counts, invalid answers and time per task;
- position bias: how often the first-shown response is ranked best, against the 1/n
  expected without bias, and how often it wins the pairs it is in.

A response edit is a valid answer that ranks nothing: it counts as an answer, not in the
agreement or bias figures.
"""

from __future__ import annotations

import operator
import statistics
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from handloop.feedback.agreement import krippendorff_alpha
from handloop.feedback.rankings import RankedItem

_PAIRS: dict[int, list[tuple[int, int]]] = {}


@dataclass
class WorkerFigures:
    answers: int = 0
    invalid: int = 0
    seconds: array[float] = field(default_factory=lambda: array("d"))


@dataclass
class StatsCollector:
    """Add every ranked item; ``summary()`` gives the figures."""

    items: int = 0
    unusable_items: Counter[str] = field(default_factory=Counter)
    answers: int = 0
    edit_answers: int = 0  # valid, but no ranking: response edits
    invalid_reasons: Counter[str] = field(default_factory=Counter)
    workers: dict[str, WorkerFigures] = field(default_factory=dict)
    flows: Counter[str] = field(default_factory=Counter)
    response_pairs: int = 0  # per annotator
    tied_pairs: int = 0
    agree: int = 0
    compared: int = 0
    first_best: int = 0
    first_best_expected: float = 0.0
    first_pair_wins: int = 0
    first_pairs: int = 0
    best_by_position: Counter[int] = field(default_factory=Counter)
    shown_by_position: Counter[int] = field(default_factory=Counter)
    _units: array[int] = field(default_factory=lambda: array("q"))
    _values: array[float] = field(default_factory=lambda: array("d"))
    _next_unit: int = 0

    def add(self, item: RankedItem) -> None:
        self.items += 1
        self.flows[item.flow_definition_arn] += 1
        if item.problem is not None:
            self.unusable_items[_reason_kind(item.problem)] += 1
            return
        n = len(item.responses)
        base = self._next_unit
        self._next_unit += n
        signatures: list[tuple[int, ...]] = []
        pair_index = _PAIRS.get(n)
        if pair_index is None:
            pair_index = _PAIRS[n] = [(i, j) for i in range(n) for j in range(i + 1, n)]
        units, values = self._units, self._values
        for judgement in item.judgements:
            self.answers += 1
            figures = self.workers.get(judgement.worker_id)
            if figures is None:
                figures = self.workers[judgement.worker_id] = WorkerFigures()
            figures.answers += 1
            if judgement.time_spent_seconds is not None:
                figures.seconds.append(judgement.time_spent_seconds)
            ranks = judgement.ranks
            if ranks is None:
                if judgement.reason is None:
                    self.edit_answers += 1
                    continue
                figures.invalid += 1
                self.invalid_reasons[_reason_kind(judgement.reason or "invalid")] += 1
                continue
            units.extend(range(base, base + n))
            values.extend(ranks)
            self._position(ranks, judgement.shown_order)
            # Each response pair's verdict: 1 (first better), -1, or 0 (tie).
            signature = tuple((ranks[j] > ranks[i]) - (ranks[i] > ranks[j]) for i, j in pair_index)
            self.response_pairs += len(signature)
            self.tied_pairs += signature.count(0)
            for other in signatures:
                self.compared += len(signature)
                self.agree += sum(map(operator.eq, signature, other))
            signatures.append(signature)

    def merge(self, other: StatsCollector) -> None:
        """Fold in the figures of another collector (a later chunk of the same export)."""
        self.items += other.items
        self.unusable_items.update(other.unusable_items)
        self.answers += other.answers
        self.edit_answers += other.edit_answers
        self.invalid_reasons.update(other.invalid_reasons)
        for worker, theirs in other.workers.items():
            mine = self.workers.get(worker)
            if mine is None:
                self.workers[worker] = theirs
            else:
                mine.answers += theirs.answers
                mine.invalid += theirs.invalid
                mine.seconds.extend(theirs.seconds)
        self.flows.update(other.flows)
        self.response_pairs += other.response_pairs
        self.tied_pairs += other.tied_pairs
        self.agree += other.agree
        self.compared += other.compared
        self.first_best += other.first_best
        self.first_best_expected += other.first_best_expected
        self.first_pair_wins += other.first_pair_wins
        self.first_pairs += other.first_pairs
        self.best_by_position.update(other.best_by_position)
        self.shown_by_position.update(other.shown_by_position)
        offset = self._next_unit
        self._units.extend(unit + offset for unit in other._units)
        self._values.extend(other._values)
        self._next_unit += other._next_unit

    def _position(self, ranks: tuple[float, ...], shown: tuple[int, ...]) -> None:
        n = len(ranks)
        best = min(ranks)
        first = shown[0]
        self.first_best_expected += 1.0 / n
        if ranks[first] == best and ranks.count(best) == 1:
            self.first_best += 1
        for position, index in enumerate(shown):
            self.shown_by_position[position] += 1
            if ranks[index] == best and ranks.count(best) == 1:
                self.best_by_position[position] += 1
        for other in range(n):
            if other != first and ranks[other] != ranks[first]:
                self.first_pairs += 1
                if ranks[first] < ranks[other]:
                    self.first_pair_wins += 1

    def alpha(self) -> float:
        return krippendorff_alpha(self._units, self._values, "ordinal")

    def summary(self) -> dict[str, Any]:
        """Every figure, JSON-ready (NaN-free: undefined figures are None)."""
        valid = self.answers - sum(self.invalid_reasons.values())
        ranked = valid - self.edit_answers
        alpha = self.alpha()
        return {
            "items": self.items,
            "unusable_items": dict(self.unusable_items),
            "answers": self.answers,
            "valid_answers": valid,
            "edit_answers": self.edit_answers,
            "invalid_answers": dict(self.invalid_reasons),
            "krippendorff_alpha_ordinal": None if alpha != alpha else round(alpha, 4),
            "pairwise_agreement": _ratio(self.agree, self.compared),
            "annotator_pairs_compared": self.compared,
            "tie_rate": _ratio(self.tied_pairs, self.response_pairs),
            "position_bias": {
                "first_shown_best_rate": _ratio(self.first_best, ranked),
                "expected_without_bias": _ratio(self.first_best_expected, ranked),
                "first_shown_pair_win_rate": _ratio(self.first_pair_wins, self.first_pairs),
                "best_rate_by_position": {
                    str(p + 1): _ratio(self.best_by_position[p], self.shown_by_position[p])
                    for p in sorted(self.shown_by_position)
                },
            },
            "workers": {
                worker: {
                    "answers": f.answers,
                    "invalid": f.invalid,
                    "mean_seconds": round(statistics.fmean(f.seconds), 1) if f.seconds else None,
                    "median_seconds": round(statistics.median(f.seconds), 1) if f.seconds else None,
                }
                for worker, f in sorted(self.workers.items())
            },
            "flow_definitions": dict(self.flows),
        }

    def worker_seconds(self) -> dict[str, list[float]]:
        return {w: list(f.seconds) for w, f in self.workers.items()}


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def _reason_kind(reason: str) -> str:
    """Group reasons so counts stay readable: drop the value-specific tail."""
    for marker in ("=", ":", " is outside"):
        head, sep, _ = reason.partition(marker)
        if sep:
            return head.strip() + (" out of range" if marker != ":" else "")
    return reason


def format_table(summary: dict[str, Any]) -> str:
    """The summary as the text table ``handloop export --stats`` prints."""

    def show(value: Any) -> str:
        return "n/a" if value is None else str(value)

    bias = summary["position_bias"]
    lines = [
        f"items                       {summary['items']}",
        f"answers                     {summary['answers']}",
        f"valid answers               {summary['valid_answers']}",
    ]
    if summary["edit_answers"]:
        lines.append(f"  of which response edits   {summary['edit_answers']}")
    for reason, count in sorted(summary["invalid_answers"].items()):
        lines.append(f"  invalid: {reason:<40} {count}")
    for reason, count in sorted(summary["unusable_items"].items()):
        lines.append(f"  unusable item: {reason:<34} {count}")
    lines += [
        f"krippendorff alpha (ordinal) {show(summary['krippendorff_alpha_ordinal'])}",
        f"pairwise agreement          {show(summary['pairwise_agreement'])}",
        f"tie rate                    {show(summary['tie_rate'])}",
        f"first shown ranked best     {show(bias['first_shown_best_rate'])}"
        f" (no bias: {show(bias['expected_without_bias'])})",
        f"first shown wins its pairs  {show(bias['first_shown_pair_win_rate'])} (no bias: 0.5)",
        "",
        f"{'worker':<40} {'answers':>8} {'invalid':>8} {'mean s':>8} {'median s':>9}",
    ]
    for worker, f in summary["workers"].items():
        lines.append(
            f"{worker[:40]:<40} {f['answers']:>8} {f['invalid']:>8} "
            f"{show(f['mean_seconds']):>8} {show(f['median_seconds']):>9}"
        )
    return "\n".join(lines)
