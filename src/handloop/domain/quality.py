"""The arithmetic of quality control: how alike two answers are, how far a worker is trusted,
and the order preference elements show responses in.

Gold items, adaptive overlap (more annotators when answers disagree), worker trust and
pausing workers all judge answers by the same measures, so they live here once, in the
domain layer: pure functions of JSON values, the standard library only. They run on every
task submit, so each is linear (or n log n) in the size of the answers and never raises on
a malformed answer: a value of an unexpected shape is compared as plain JSON.

An answer is an ``answerContent``, ``{fieldName: value}`` (see docs/templates.md, "The
answer"). What counts is its *judgement*: handloop's preference elements also record the
order they showed (``shownOrder``), free-text reasons and captions, which differ between
workers who judged alike, so ``judgement`` drops them before anything is compared.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handloop.errors import ValidationError

# -- settings ------------------------------------------------------------------------------

TAG_PREFIX = "handloop:"
GOLD_RATE_TAG = "handloop:gold-rate"
MAX_TASK_COUNT_TAG = "handloop:max-task-count"
AGREEMENT_TAG = "handloop:agreement"
MIN_TRUST_TAG = "handloop:min-trust"
MIN_EVIDENCE_TAG = "handloop:min-evidence"
QUALITY_TAGS = (GOLD_RATE_TAG, MAX_TASK_COUNT_TAG, AGREEMENT_TAG, MIN_TRUST_TAG, MIN_EVIDENCE_TAG)

MAX_GOLD_RATE = 0.5
# handloop's own ceiling for adaptive overlap (A2I's TaskCount stops at 3).
MAX_TASK_COUNT = 20
DEFAULT_MIN_EVIDENCE = 10
MAX_MIN_EVIDENCE = 1000

_INTEGER = re.compile(r"[0-9]{1,6}")
_DECIMAL = re.compile(r"[0-9]{1,6}(?:\.[0-9]{0,12})?|\.[0-9]{1,12}")


@dataclass(frozen=True, slots=True)
class QualitySettings:
    """A flow definition's quality control, read from its ``handloop:`` tags.

    The defaults are A2I's behaviour: no gold items, exactly ``TaskCount`` answers, nobody
    paused. ``task_count`` is the flow's ``TaskCount`` (``HumanLoopConfig``), kept so that
    ``adaptive`` can tell whether ``max_task_count`` asks for more.
    """

    gold_rate: float = 0.0
    max_task_count: int | None = None
    agreement: float | None = None
    min_trust: float | None = None
    min_evidence: int = DEFAULT_MIN_EVIDENCE
    task_count: int = 1

    @classmethod
    def from_tags(
        cls, tags: Sequence[Mapping[str, Any]] | None, task_count: int
    ) -> QualitySettings:
        """Settings from CreateFlowDefinition's ``Tags`` (``[{"Key": …, "Value": …}]``).

        Tags whose key does not start with ``handloop:`` are the user's and are ignored. A
        ``handloop:`` key that is not one of ``QUALITY_TAGS``, a value out of its range, or
        a tag given twice raises ``ValidationError`` naming the tag and what it accepts, so
        a typo fails at creation instead of silently turning quality control off.
        """
        seen: dict[str, str] = {}
        for tag in tags or ():
            if not isinstance(tag, Mapping):
                continue
            key = tag.get("Key")
            if not isinstance(key, str) or not key.startswith(TAG_PREFIX):
                continue
            if key not in QUALITY_TAGS:
                raise ValidationError(
                    f"Unknown tag {key!r}: handloop's tags are {', '.join(QUALITY_TAGS)}."
                )
            if key in seen:
                raise ValidationError(f"Tag {key!r} is given more than once.")
            value = tag.get("Value")
            if not isinstance(value, str):
                raise ValidationError(f"Tag {key!r} needs a text value.")
            seen[key] = value.strip()
        gold_rate = 0.0
        if GOLD_RATE_TAG in seen:
            gold_rate = _decimal_tag(GOLD_RATE_TAG, seen[GOLD_RATE_TAG], "from 0 to 0.5")
            if not 0.0 <= gold_rate <= MAX_GOLD_RATE:
                raise _range(GOLD_RATE_TAG, seen[GOLD_RATE_TAG], "from 0 to 0.5")
        max_task_count = None
        if MAX_TASK_COUNT_TAG in seen:
            allowed = f"a whole number from the flow's TaskCount ({task_count}) to {MAX_TASK_COUNT}"
            max_task_count = _integer_tag(MAX_TASK_COUNT_TAG, seen[MAX_TASK_COUNT_TAG], allowed)
            if not task_count <= max_task_count <= MAX_TASK_COUNT:
                raise _range(MAX_TASK_COUNT_TAG, seen[MAX_TASK_COUNT_TAG], allowed)
        agreement = None
        if AGREEMENT_TAG in seen:
            allowed = "greater than 0 and at most 1"
            agreement = _decimal_tag(AGREEMENT_TAG, seen[AGREEMENT_TAG], allowed)
            if not 0.0 < agreement <= 1.0:
                raise _range(AGREEMENT_TAG, seen[AGREEMENT_TAG], allowed)
        min_trust = None
        if MIN_TRUST_TAG in seen:
            allowed = "greater than 0 and less than 1"
            min_trust = _decimal_tag(MIN_TRUST_TAG, seen[MIN_TRUST_TAG], allowed)
            if not 0.0 < min_trust < 1.0:
                raise _range(MIN_TRUST_TAG, seen[MIN_TRUST_TAG], allowed)
        min_evidence = DEFAULT_MIN_EVIDENCE
        if MIN_EVIDENCE_TAG in seen:
            allowed = f"a whole number from 1 to {MAX_MIN_EVIDENCE}"
            min_evidence = _integer_tag(MIN_EVIDENCE_TAG, seen[MIN_EVIDENCE_TAG], allowed)
            if not 1 <= min_evidence <= MAX_MIN_EVIDENCE:
                raise _range(MIN_EVIDENCE_TAG, seen[MIN_EVIDENCE_TAG], allowed)
        return cls(
            gold_rate=gold_rate,
            max_task_count=max_task_count,
            agreement=agreement,
            min_trust=min_trust,
            min_evidence=min_evidence,
            task_count=task_count,
        )

    @property
    def adaptive(self) -> bool:
        """Whether a task whose answers disagree gets more annotators than ``task_count``."""
        return (
            self.agreement is not None
            and self.max_task_count is not None
            and self.max_task_count > self.task_count
        )

    @property
    def enabled(self) -> bool:
        """Whether any quality control differs from A2I's behaviour (the defaults)."""
        return (
            self.gold_rate > 0
            or self.max_task_count is not None
            or self.agreement is not None
            or self.min_trust is not None
            or self.min_evidence != DEFAULT_MIN_EVIDENCE
        )

    def wants_more_answers(self, answers: Sequence[Mapping[str, Any]]) -> bool:
        """Whether a task with these answers (its ``task_count`` required ones all in) should
        be offered to one more worker: adaptive, below ``max_task_count``, and the answers'
        ``agreement`` below the threshold. Fewer than ``task_count`` answers: ``False``
        (the task is not done yet in any case)."""
        if not self.adaptive or self.max_task_count is None or self.agreement is None:
            return False
        if not self.task_count <= len(answers) < self.max_task_count:
            return False
        level = agreement(answers)
        return level is not None and level < self.agreement

    def pauses(self, fig: WorkerFigures) -> bool:
        """Whether a worker with these figures is to be paused: ``min_trust`` set, at least
        ``min_evidence`` observations (``evidence``), and ``trust`` below ``min_trust``."""
        return (
            self.min_trust is not None
            and evidence(fig) >= self.min_evidence
            and trust(fig) < self.min_trust
        )


def _range(key: str, value: str, allowed: str) -> ValidationError:
    return ValidationError(f"Tag {key!r} must be {allowed}; got {value[:40]!r}.")


def _decimal_tag(key: str, value: str, allowed: str) -> float:
    if _DECIMAL.fullmatch(value) is None:
        raise _range(key, value, f"a decimal number {allowed}")
    return float(value)


def _integer_tag(key: str, value: str, allowed: str) -> int:
    if _INTEGER.fullmatch(value) is None:
        raise _range(key, value, allowed)
    return int(value)


# -- judgements ------------------------------------------------------------------------------

COMPARISON_CHOICE = "comparison-choice"
COMPARISON_RANK = "comparison-rank"
COMPARISON_LIKERT = "comparison-likert"
LIKERT = "likert"
THUMBS = "thumbs"
RESPONSE_EDIT = "response-edit"
OUTCOMES = ("chosen", "tie", "both-bad")
PREFERENCE_KINDS = frozenset(
    {COMPARISON_CHOICE, COMPARISON_RANK, COMPARISON_LIKERT, LIKERT, THUMBS, RESPONSE_EDIT}
)
# What a preference element records besides the judgement: the order shown, free text,
# captions, and echoes of the template's own settings.
NOT_JUDGEMENT = frozenset(
    {"shownOrder", "reason", "reasons", "labels", "label", "allowTies", "criteria"}
)


def _kind(value: Any) -> str | None:
    """The preference kind of a field's value: its ``kind``, else (gold answers written by
    hand may leave it out) the kind its keys can only belong to; ``None`` for other values."""
    if not isinstance(value, dict):
        return None
    if "kind" in value:
        kind = value["kind"]
        return kind if isinstance(kind, str) and kind in PREFERENCE_KINDS else None
    # Checkboxes ({value attribute: bool}) can have any keys: the values must fit too.
    if value.get("outcome") in OUTCOMES:
        return COMPARISON_CHOICE
    if isinstance(value.get("ranks"), dict):
        return COMPARISON_RANK
    if (
        "preferred" in value
        and (value["preferred"] is None or isinstance(value["preferred"], str))
        and (value.get("margin") is None or _number(value.get("margin")) is not None)
        and "margin" in value
    ):
        return COMPARISON_LIKERT
    if isinstance(value.get("ratings"), dict):
        return LIKERT
    if isinstance(value.get("thumbs"), dict):
        return THUMBS
    if "responseId" in value and isinstance(value.get("edited"), str):
        return RESPONSE_EDIT
    return None


def _is_text_ranking(value: Any) -> bool:
    return (
        isinstance(value, dict) and "kind" not in value and isinstance(value.get("ranking"), list)
    )


def _field_judgement(value: Any) -> Any:
    kind = _kind(value)
    if kind is not None:
        out = {k: v for k, v in value.items() if k not in NOT_JUDGEMENT}
        out["kind"] = kind
        return out
    if _is_text_ranking(value):
        return {k: v for k, v in value.items() if k != "displayOrder"}
    return value


def judgement(answer: Mapping[str, Any]) -> dict[str, Any]:
    """The answer without what is not part of the worker's judgement, so two answers that
    judge alike are equal whatever order each worker was shown.

    In each preference element's value (``kind`` given, or implied by its keys: then it is
    added) ``NOT_JUDGEMENT`` keys go: ``shownOrder``, ``reason``, ``reasons``, ``labels``,
    ``label`` (the chosen caption), and ``allowTies``/``criteria`` (the template's settings,
    repeated). A ``crowd-text-ranking`` value loses its ``displayOrder``, and a Bedrock
    evaluation answer (``evaluationResults``) its top-level ``displayOrder``. Every other
    field is kept as it is: a classifier's ``{"label": …}`` is its judgement.
    """
    out = {key: _field_judgement(value) for key, value in answer.items()}
    if "evaluationResults" in out:
        out.pop("displayOrder", None)
    return out


# -- similarity -----------------------------------------------------------------------------


def similarity(a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
    """How alike two answers are, from 0 (nothing in common) to 1 (the same judgement).

    The mean, over the union of the two judgements' fields, of each field's similarity; a
    field only one answer has counts 0. Two empty answers are alike (1). Per value:

    - comparison-choice: 1 when ``outcome`` and ``chosen`` are the same (``strength`` is
      not compared), else 0;
    - comparison-rank: Kendall's tau-b between the ranks of the ids both rank, as
      ``(tau + 1) / 2``; crowd-text-ranking the same per dimension (``ranks`` lists), the
      mean over the union of dimensions;
    - comparison-likert: the preference as a signed number, ``margin`` toward the smaller
      id (``-2..2``, 0 for "about the same"), similarity ``1 - |d| / 4``;
    - likert: per criterion ``1 - mean |difference| / (max - min)`` over the ids rated
      (an id or criterion only one rated counts 0), the mean over criteria;
    - thumbs: the share of ids (union) given the same thumb;
    - response-edit: with the same ``responseId``, ``text_similarity`` of the edited texts
      (difflib's ratio over words and punctuation), else 0;
    - classifier ``{"label"}``: equal labels; multi-select ``{"labels"}`` and lists of
      strings (``select multiple``): Jaccard; checkboxes (an object of booleans): the share
      of values alike, a value left out being ``false``;
    - numbers, or numbers as text (native inputs give ``"3"``): numerically equal; other
      text: equal after trimming, folding case and collapsing white space;
    - anything else: equal JSON (``1`` and ``1.0`` alike, ``true`` and ``1`` not).
    """
    ja = judgement(a) if isinstance(a, Mapping) else a
    jb = judgement(b) if isinstance(b, Mapping) else b
    if not isinstance(ja, dict) or not isinstance(jb, dict):
        return _value_similarity(ja, jb)
    keys = set(ja) | set(jb)
    if not keys:
        return 1.0
    total = 0.0
    for key in keys:
        if key in ja and key in jb:
            total += _value_similarity(ja[key], jb[key])
    return total / len(keys)


def agreement(answers: Sequence[Mapping[str, Any]]) -> float | None:
    """The mean ``similarity`` over every pair of answers; ``None`` for fewer than two."""
    if len(answers) < 2:
        return None
    judged = [judgement(answer) for answer in answers]
    total = 0.0
    pairs = 0
    for i in range(len(judged)):
        for j in range(i + 1, len(judged)):
            total += similarity(judged[i], judged[j])
            pairs += 1
    return total / pairs


def consensus_similarity(
    answer: Mapping[str, Any], others: Sequence[Mapping[str, Any]]
) -> float | None:
    """How well ``answer`` agrees with the consensus of the ``others`` (the other workers'
    answers to the task, leaving this one out): worker trust's evidence without gold.

    Each distinct judgement among the others scores its mean ``similarity`` to all the
    others (itself included); the best-scoring one is the consensus and the result is
    ``similarity(answer, consensus)``. When several tie for best, the result is the mean of
    ``answer``'s similarity to each of them: agreeing with one side of a 1–1 split counts
    0.5. ``None`` without others.
    """
    if not others:
        return None
    judged = [judgement(other) for other in others]
    distinct: list[dict[str, Any]] = []
    for candidate in judged:
        if not any(_json_equal(candidate, seen) for seen in distinct):
            distinct.append(candidate)
    scores = [sum(similarity(c, other) for other in judged) / len(judged) for c in distinct]
    best = max(scores)
    tied = [c for c, score in zip(distinct, scores, strict=True) if score >= best - 1e-9]
    mine = judgement(answer)
    return sum(similarity(mine, c) for c in tied) / len(tied)


def gold_score(answer: Mapping[str, Any], accepted: Sequence[Mapping[str, Any]]) -> float:
    """How right an answer to a gold item is: its best ``similarity`` to any of the accepted
    answers (several may be right). Accepted answers are written as an ``answerContent``
    and may leave out ``shownOrder``, ``kind`` and the like. No accepted answer: 0."""
    return max((similarity(answer, right) for right in accepted), default=0.0)


def first_position_pick(answer: Mapping[str, Any]) -> bool | None:
    """Whether the answer picked the response shown first, for finding workers who always
    do: ``None`` when it made no choice by position.

    The answer's first field (in key order) holding a comparison-choice, comparison-rank or
    comparison-likert value with a ``shownOrder`` decides: a choice with outcome
    ``chosen`` → whether ``chosen`` was shown first (tie, both-bad → ``None``); a ranking →
    whether the first shown is ranked best alone (best rank shared → ``None``); a
    comparison-likert → whether ``preferred`` was shown first ("about the same" →
    ``None``). No such field → ``None``.
    """
    for value in answer.values():
        kind = _kind(value)
        if kind not in (COMPARISON_CHOICE, COMPARISON_RANK, COMPARISON_LIKERT):
            continue
        order = value.get("shownOrder")
        if not isinstance(order, list) or not order:
            continue
        first = order[0]
        if kind == COMPARISON_CHOICE:
            if value.get("outcome") != "chosen" or value.get("chosen") is None:
                return None
            return bool(value.get("chosen") == first)
        if kind == COMPARISON_LIKERT:
            preferred = value.get("preferred")
            return None if preferred is None else bool(preferred == first)
        ranks = _rank_map(value.get("ranks"))
        if ranks is None or not isinstance(first, str) or first not in ranks:
            return None
        best = min(ranks.values())
        if sum(1 for rank in ranks.values() if rank == best) > 1:
            return None
        return ranks[first] == best
    return None


def _value_similarity(a: Any, b: Any) -> float:
    kind_a, kind_b = _kind(a), _kind(b)
    if kind_a is not None or kind_b is not None:
        if kind_a != kind_b:
            return 0.0
        found = _PREFERENCE[kind_a or ""](a, b)
        return (1.0 if _json_equal(a, b) else 0.0) if found is None else found
    if isinstance(a, dict) and isinstance(b, dict):
        found = _object_similarity(a, b)
        if found is not None:
            return found
    elif isinstance(a, list) and isinstance(b, list):
        if all(isinstance(x, str) for x in a) and all(isinstance(x, str) for x in b):
            return _jaccard(a, b)
    else:
        x, y = _number(a), _number(b)
        if x is not None and y is not None:
            return 1.0 if x == y else 0.0
        if isinstance(a, str) and isinstance(b, str):
            return 1.0 if _fold(a) == _fold(b) else 0.0
    return 1.0 if _json_equal(a, b) else 0.0


def _object_similarity(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    """Classifier, multi-select, text-ranking and checkbox values; ``None`` for others."""
    if set(a) == {"label"} and set(b) == {"label"}:
        return 1.0 if _json_equal(a["label"], b["label"]) else 0.0
    if set(a) == {"labels"} and set(b) == {"labels"}:
        la, lb = a["labels"], b["labels"]
        if isinstance(la, list) and isinstance(lb, list):
            return _jaccard(la, lb)
        return None
    if _is_text_ranking(a) and _is_text_ranking(b):
        return _text_ranking(a["ranking"], b["ranking"])
    if a and b and all(isinstance(v, bool) for v in (*a.values(), *b.values())):
        keys = set(a) | set(b)
        return sum(1 for k in keys if a.get(k, False) == b.get(k, False)) / len(keys)
    return None


def _jaccard(a: list[Any], b: list[Any]) -> float:
    sa = {_canonical(x) for x in a}
    sb = {_canonical(x) for x in b}
    union = sa | sb
    return 1.0 if not union else len(sa & sb) / len(union)


def _canonical(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else repr(value)


_SPACES = re.compile(r"\s+")


def _fold(text: str) -> str:
    return _SPACES.sub(" ", text.strip()).casefold()


_NUMBER_TEXT = re.compile(r"\s*[-+]?(?:[0-9]{1,30}(?:\.[0-9]{0,30})?|\.[0-9]{1,30})\s*")


def _number(value: Any) -> float | None:
    """A number, or text that is one (``"3"``, ``" 2.50 "``); ``None`` for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value) is None:
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        return None
    return number if math.isfinite(number) else None


def _json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON values: ``true`` is not ``1`` (Python says it is), ``1`` is ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict):
        return (
            isinstance(b, dict) and a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
        )
    if isinstance(a, list):
        return (
            isinstance(b, list)
            and len(a) == len(b)
            and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and bool(a == b)


# Each returns None for a value of an unexpected shape (then compared as plain JSON).


def _choice(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    if not isinstance(a.get("outcome"), str) or not isinstance(b.get("outcome"), str):
        return None
    same = a["outcome"] == b["outcome"] and _json_equal(a.get("chosen"), b.get("chosen"))
    return 1.0 if same else 0.0


def _rank_map(value: Any) -> dict[str, float] | None:
    if not isinstance(value, dict) or not value:
        return None
    out: dict[str, float] = {}
    for key, rank in value.items():
        number = _number(rank)
        if number is None:
            return None
        out[key] = number
    return out


def _rank(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    ra, rb = _rank_map(a.get("ranks")), _rank_map(b.get("ranks"))
    if ra is None or rb is None:
        return None
    common = [key for key in ra if key in rb]
    return _rank_agreement([ra[k] for k in common], [rb[k] for k in common])


def _text_ranking(a: list[Any], b: list[Any]) -> float | None:
    da, db = _dimensions(a), _dimensions(b)
    if da is None or db is None:
        return None
    names = set(da) | set(db)
    if not names:
        return 1.0
    total = 0.0
    for name in names:
        if name in da and name in db:
            xs, ys = da[name], db[name]
            n = min(len(xs), len(ys))
            total += _rank_agreement(xs[:n], ys[:n])
    return total / len(names)


def _dimensions(ranking: list[Any]) -> dict[str, list[float]] | None:
    out: dict[str, list[float]] = {}
    for entry in ranking:
        if not isinstance(entry, dict) or not isinstance(entry.get("ranks"), list):
            return None
        ranks = [_number(rank) for rank in entry["ranks"]]
        if any(rank is None for rank in ranks):
            return None
        out[str(entry.get("dimension"))] = [rank for rank in ranks if rank is not None]
    return out


def _rank_agreement(xs: list[float], ys: list[float]) -> float:
    """``(tau_b + 1) / 2`` for two rankings of the same items. One item: they agree; none:
    nothing in common (0). Ties everywhere in both: alike; in one only: tau 0."""
    n = len(xs)
    if n == 0:
        return 0.0
    if n == 1:
        return 1.0
    tau = kendall_tau_b(xs, ys)
    if tau is None:
        all_tied_x = len(set(xs)) == 1
        all_tied_y = len(set(ys)) == 1
        return 1.0 if all_tied_x and all_tied_y else 0.5
    return (tau + 1.0) / 2.0


def kendall_tau_b(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Kendall's tau-b of paired values, in O(n log n) (Knight's algorithm: sort by x, count
    the inversions of y by merge sort), so a hostile answer ranking many thousands of items
    costs no more than reading it. ``None`` when either side is all ties (tau-b undefined)."""
    n = len(xs)
    if n != len(ys):
        raise ValueError("kendall_tau_b needs two sequences of the same length")
    pairs = sorted(zip(xs, ys, strict=True))
    total = n * (n - 1) // 2
    tied_x = _tied_pairs(x for x, _ in pairs)
    tied_xy = _tied_pairs(pairs)
    ys_sorted = [y for _, y in pairs]
    swaps = _count_inversions(ys_sorted)  # sorts ys_sorted in place
    tied_y = _tied_pairs(ys_sorted)
    denominator = math.sqrt((total - tied_x) * (total - tied_y))
    if denominator == 0:
        return None
    # concordant - discordant, with pairs tied in x or y counted as neither
    difference = total - tied_x - tied_y + tied_xy - 2 * swaps
    return max(-1.0, min(1.0, difference / denominator))


def _tied_pairs(values: Iterable[Any]) -> int:
    """Pairs of equal values in a sorted sequence."""
    pairs = 0
    run = 0
    previous: Any = object()
    for value in values:
        if value == previous:
            run += 1
        else:
            pairs += run * (run - 1) // 2
            run = 1
            previous = value
    return pairs + run * (run - 1) // 2


def _count_inversions(values: list[float]) -> int:
    """Pairs ``i < j`` with ``values[i] > values[j]``; sorts ``values``. Bottom-up merge
    sort: no recursion."""
    n = len(values)
    inversions = 0
    width = 1
    source = values[:]
    while width < n:
        target: list[float] = []
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i, j = lo, mid
            while i < mid and j < hi:
                if source[j] < source[i]:
                    target.append(source[j])
                    inversions += mid - i
                    j += 1
                else:
                    target.append(source[i])
                    i += 1
            target.extend(source[i:mid])
            target.extend(source[j:hi])
        source = target
        width *= 2
    values[:] = source
    return inversions


def _likert_comparison(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    # Only the preferred ids are left in a judgement; which one is the reference does not
    # change |d| (both answers are measured toward the same id).
    preferred = [p for p in (a.get("preferred"), b.get("preferred")) if isinstance(p, str)]
    reference = min(preferred) if preferred else None
    sa, sb = _signed(a, reference), _signed(b, reference)
    if sa is None or sb is None:
        return None
    return 1.0 - abs(sa - sb) / 4.0


def _signed(value: dict[str, Any], reference: str | None) -> float | None:
    """The preference toward ``reference`` (the smaller id): ``+margin`` for it,
    ``-margin`` against it, 0 for "about the same"."""
    preferred = value.get("preferred")
    margin = _number(value.get("margin"))
    if preferred is None:
        return 0.0 if margin is None or margin == 0 else None
    if margin is None or not 0 <= margin <= 2:
        return None
    return margin if preferred == reference else -margin


def _likert(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    ra, rb = a.get("ratings"), b.get("ratings")
    if not isinstance(ra, dict) or not isinstance(rb, dict):
        return None
    parsed: list[dict[str, dict[str, float]]] = []
    for ratings in (ra, rb):
        criteria: dict[str, dict[str, float]] = {}
        for criterion, per_id in ratings.items():
            rates = _rank_map(per_id) if per_id != {} else {}
            if rates is None:
                return None
            criteria[criterion] = rates
        parsed.append(criteria)
    low, high = _scale(a, b, parsed)
    span = high - low
    names = set(parsed[0]) | set(parsed[1])
    if not names:
        return 1.0
    total = 0.0
    for name in names:
        xa, xb = parsed[0].get(name), parsed[1].get(name)
        if xa is None or xb is None:
            continue
        ids = set(xa) | set(xb)
        if not ids:
            total += 1.0
            continue
        alike = 0.0
        for key in ids:
            if key in xa and key in xb:
                diff = abs(xa[key] - xb[key])
                alike += (1.0 if diff == 0 else 0.0) if span <= 0 else max(0.0, 1 - diff / span)
        total += alike / len(ids)
    return total / len(names)


def _scale(
    a: dict[str, Any], b: dict[str, Any], parsed: list[dict[str, dict[str, float]]]
) -> tuple[float, float]:
    """The rating scale: either answer's ``scale`` (a gold answer may leave it out), else
    1–5 widened to the ratings given."""
    for value in (a, b):
        scale = value.get("scale")
        if isinstance(scale, dict):
            low, high = _number(scale.get("min")), _number(scale.get("max"))
            if low is not None and high is not None and high >= low:
                return low, high
    given = [r for criteria in parsed for rates in criteria.values() for r in rates.values()]
    return min([1.0, *given]), max([5.0, *given])


def _thumbs(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    ta, tb = a.get("thumbs"), b.get("thumbs")
    if not isinstance(ta, dict) or not isinstance(tb, dict):
        return None
    ids = set(ta) | set(tb)
    if not ids:
        return 1.0
    return sum(1 for k in ids if k in ta and k in tb and _json_equal(ta[k], tb[k])) / len(ids)


_TOKENS = re.compile(r"\w+|[^\w\s]")


def _edit(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    ea, eb = a.get("edited"), b.get("edited")
    if not isinstance(ea, str) or not isinstance(eb, str):
        return None
    if not _json_equal(a.get("responseId"), b.get("responseId")):
        return 0.0
    return text_similarity(ea, eb)


# Beyond this many tokens, ``text_similarity`` compares the texts' words as multisets.
MAX_ORDERED_TOKENS = 2000


def text_similarity(a: str, b: str) -> float:
    """difflib's ratio of two texts as sequences of words and punctuation marks (white
    space ignored), from 0 to 1.

    Words, because character matching takes seconds on a few thousand characters and
    difflib's junk heuristic makes it meaningless on longer ones. Up to
    ``MAX_ORDERED_TOKENS`` tokens each, ``SequenceMatcher.ratio`` (milliseconds); longer
    texts get ``quick_ratio``, the same formula on the tokens as multisets (order ignored),
    which is linear: ``ratio`` can take seconds on two hostile texts of 100,000 words, and
    this runs on a task submit. Two texts without words are alike only when equal.
    """
    if a == b:
        return 1.0
    ta, tb = _TOKENS.findall(a), _TOKENS.findall(b)
    if not ta and not tb:
        return 1.0 if _fold(a) == _fold(b) else 0.0
    matcher = difflib.SequenceMatcher(None, ta, tb)
    if max(len(ta), len(tb)) > MAX_ORDERED_TOKENS:
        return matcher.quick_ratio()
    return matcher.ratio()


_PREFERENCE = {
    COMPARISON_CHOICE: _choice,
    COMPARISON_RANK: _rank,
    COMPARISON_LIKERT: _likert_comparison,
    LIKERT: _likert,
    THUMBS: _thumbs,
    RESPONSE_EDIT: _edit,
}


# -- worker trust ---------------------------------------------------------------------------

# The prior: a new worker is taken to be this good, as if PRIOR_WEIGHT observations said so.
PRIOR_TRUST = 0.9
PRIOR_WEIGHT = 10.0
GOLD_WEIGHT = 2.0
# Position pattern: at least this many position choices, this share of them the first.
PATTERN_MIN_CHOICES = 30
PATTERN_SHARE = 0.9
PATTERN_FACTOR = 0.5
# Speed: at least this many answers, the median time below this share of the flow's.
SPEED_MIN_ANSWERS = 10
SPEED_SHARE = 0.25
SPEED_FACTOR = 0.8


@dataclass(slots=True)
class WorkerFigures:
    """What is known of one worker (on one flow, or everywhere: the caller decides).

    ``gold_score_sum`` adds ``gold_score`` over ``gold_answers`` gold items;
    ``agreement_sum`` adds ``consensus_similarity`` over ``agreement_n`` tasks where others
    answered too; ``first_picks`` of ``position_choices`` answers where
    ``first_position_pick`` was not ``None`` picked the first shown; the medians are
    seconds per answer, the worker's and the flow's.
    """

    answers: int = 0
    gold_answers: int = 0
    gold_score_sum: float = 0.0
    agreement_n: int = 0
    agreement_sum: float = 0.0
    first_picks: int = 0
    position_choices: int = 0
    median_seconds: float | None = None
    flow_median_seconds: float | None = None

    @property
    def gold_accuracy(self) -> float | None:
        """The mean gold score; ``None`` before any gold item."""
        return self.gold_score_sum / self.gold_answers if self.gold_answers else None

    @property
    def agreement(self) -> float | None:
        """The mean consensus similarity; ``None`` before any task shared with others."""
        return self.agreement_sum / self.agreement_n if self.agreement_n else None

    @property
    def first_share(self) -> float | None:
        """The share of position choices that picked the first shown; ``None`` before any."""
        return self.first_picks / self.position_choices if self.position_choices else None


def trust(fig: WorkerFigures) -> float:
    """How far a worker's answers are trusted, from 0 to 1.

    ``base = (2·gold_score_sum + agreement_sum + 10·0.9) / (2·gold_answers + agreement_n + 10)``:
    the mean of the worker's gold scores (each counting double: gold is the truth, agreement
    only the others' view, themselves sometimes wrong) and consensus similarities, pulled
    toward a prior of 0.9 worth ten observations. Then, as patterns no honest worker shows:

    - position: at least 30 position choices and at least 90% of them the first shown →
      ``base × 0.5``;
    - speed: at least 10 answers, both medians known, and the worker's median time below a
      quarter of the flow's → ``base × 0.8``;

    clamped to [0, 1].

    Why these constants (simulated two-response comparisons, each worker's other
    observations from two peers right 90% of the time; tests/test_quality_math.py): a
    careful worker (right 90% of the time) has consensus similarity about 0.82 on average
    and gold 0.9, a random one 0.5 for both. The prior is what keeps 99% of careful workers
    at or above 0.7 after 10 observations, gold or not (a prior of 0.75 worth three
    leaves 9% of them below: ten binary observations are that noisy); the price is that
    about 20% of random workers are still at 0.7 or above after 20 observations, 6% after
    30, while first-position and adversarial workers are far below 0.5 by 20. An honest worker
    picks the first shown 9 times in 10 (or more) one time in a hundred at 10 position
    choices, 18 times in 20 one time in five thousand: hence 20 and 90%. (Constants:
    ``PRIOR_TRUST``, ``PRIOR_WEIGHT``, ``GOLD_WEIGHT``, ``PATTERN_*``, ``SPEED_*``.)
    """
    weight = GOLD_WEIGHT * fig.gold_answers + fig.agreement_n + PRIOR_WEIGHT
    base = (
        GOLD_WEIGHT * fig.gold_score_sum + fig.agreement_sum + PRIOR_WEIGHT * PRIOR_TRUST
    ) / weight
    share = fig.first_share
    if fig.position_choices >= PATTERN_MIN_CHOICES and share is not None and share >= PATTERN_SHARE:
        base *= PATTERN_FACTOR
    if (
        fig.answers >= SPEED_MIN_ANSWERS
        and fig.median_seconds is not None
        and fig.flow_median_seconds is not None
        and fig.median_seconds < SPEED_SHARE * fig.flow_median_seconds
    ):
        base *= SPEED_FACTOR
    return max(0.0, min(1.0, base))


def evidence(fig: WorkerFigures) -> int:
    """How many observations ``trust`` rests on: ``gold_answers + agreement_n``."""
    return fig.gold_answers + fig.agreement_n


# -- the order responses are shown in -------------------------------------------------------


def order_seed(task_id: str) -> str:
    """The seed of the order a task's preference elements show responses in: fixed for the
    task (a reload shows the same order), different for each assignment."""
    return hashlib.sha256(f"handloop-order\x00{task_id}".encode()).hexdigest()[:16]


def _hash32(text: str) -> int:
    """FNV-1a over the text's UTF-16 code units, as JavaScript's ``charCodeAt`` sees them."""
    h = 2166136261
    data = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        h ^= data[i] | (data[i + 1] << 8)
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def _mulberry32(seed: int) -> Iterator[float]:
    """mulberry32, in unsigned 32-bit arithmetic (JavaScript's int32 has the same bits)."""
    mask = 0xFFFFFFFF
    a = seed & mask
    while True:
        a = (a + 0x6D2B79F5) & mask
        t = ((a ^ (a >> 15)) * (1 | a)) & mask
        t = ((t + (((t ^ (t >> 7)) * (61 | t)) & mask)) & mask) ^ t
        yield ((t ^ (t >> 14)) & mask) / 4294967296


def shown_order(ids: Sequence[str], seed: str) -> list[str]:
    """The order a preference element with ``seed`` (``<meta name="hl-order-seed">``) shows
    responses with these ids in: ``shuffled`` of elements/preference.js, step for step
    (FNV-1a of ``seed + "\\0" + ids joined by "\\1"``, mulberry32, Fisher–Yates from the
    end), so the server knows what each worker saw without trusting the answer's
    ``shownOrder``."""
    order = list(ids)
    numbers = _mulberry32(_hash32(seed + "\u0000" + "\u0001".join(ids)))
    for i in range(len(order) - 1, 0, -1):
        j = math.floor(next(numbers) * (i + 1))
        order[i], order[j] = order[j], order[i]
    return order
