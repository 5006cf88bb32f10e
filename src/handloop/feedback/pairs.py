"""Preference pairs from rankings, within one loop (so one prompt) only.

Ranks are compared as numbers; equal ranks are a tie, which gives no preference unless
ties are kept (then a row marked ``tie``). Several annotators give either one pair per
annotator, or one aggregated pair per response pair (mean rank or Bradley–Terry) with a
margin and the share of annotators who agree with it. Aggregation may weigh each
annotator's judgement (``weigh``: worker id -> weight, their trust under ``--weights
trust``); without it every annotator counts 1, and the arithmetic is the unweighted one to
the last bit (1.0 x a rank is that rank, and a sum of ones is the count).

A response edit adds one more pair: the edited text over the response it rewrote.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from handloop.feedback.bradley_terry import bradley_terry_many
from handloop.feedback.rankings import RankedItem

Aggregate = Literal["mean-rank", "bradley-terry"]
# A worker's weight in aggregation, by worker id.
Weigh = Callable[[str], float]


@dataclass(frozen=True, slots=True)
class Pair:
    """``chosen`` is preferred to ``rejected``, or a tie.

    Both are indices into the item's responses followed by its edited texts: index
    ``len(responses) + k`` is ``item.edits[k].text``."""

    chosen: int
    rejected: int
    tie: bool
    worker_id: str | None  # None for aggregated pairs
    # aggregated: how far apart the two are; per annotator: how much better the annotator
    # said (None when the answer does not say)
    margin: float | None
    agreement: float | None  # aggregated: share of annotators preferring chosen
    annotators: int  # annotators who ranked both


def annotator_pairs(item: RankedItem, *, keep_ties: bool = False) -> list[Pair]:
    """One pair per annotator and response pair they did not tie (ties kept if asked)."""
    out: list[Pair] = []
    n = len(item.responses)
    for judgement in item.judgements:
        ranks = judgement.ranks
        if ranks is None:
            continue
        worker = judgement.worker_id
        if judgement.scores is not None:
            for i in range(n):
                for j in range(i + 1, n):
                    margin = judgement.pair_margin(i, j)
                    if ranks[i] < ranks[j]:
                        out.append(Pair(i, j, False, worker, margin, None, 1))
                    elif ranks[j] < ranks[i]:
                        out.append(Pair(j, i, False, worker, margin, None, 1))
                    elif keep_ties:
                        out.append(Pair(i, j, True, worker, margin, None, 1))
            continue
        margin = judgement.margin  # one for the whole answer
        tie_margin = None if margin is None else 0.0
        for i in range(n):
            for j in range(i + 1, n):
                if ranks[i] < ranks[j]:
                    out.append(Pair(i, j, False, worker, margin, None, 1))
                elif ranks[j] < ranks[i]:
                    out.append(Pair(j, i, False, worker, margin, None, 1))
                elif keep_ties:
                    out.append(Pair(i, j, True, worker, tie_margin, None, 1))
    if item.edits:
        out.extend(edit_pairs(item, aggregated=False))
    return out


def edit_pairs(item: RankedItem, *, aggregated: bool) -> list[Pair]:
    """Each response edit: its text over the original. Aggregated, still one per edit (one
    annotator, who agrees with it; no margin, written as 0)."""
    n = len(item.responses)
    return [
        Pair(n + k, edit.response, False, None, 0.0, 1.0, 1)
        if aggregated
        else Pair(n + k, edit.response, False, edit.worker_id, None, None, 1)
        for k, edit in enumerate(item.edits)
    ]


def aggregated_pairs(
    item: RankedItem,
    *,
    method: Aggregate = "mean-rank",
    keep_ties: bool = False,
    scores: Sequence[float] | None = None,
    weigh: Weigh | None = None,
) -> list[Pair]:
    """One pair per response pair, from every valid annotator's ranking of the loop.

    ``scores`` (higher is better) may be given when computed for many loops at once (see
    ``bradley_terry_scores``); otherwise they come from ``method``. With ``weigh``, each
    annotator counts by their weight: the mean rank is the weighted mean, and ``agreement``
    the weighted share of annotators who agree (``annotators`` is still their number). A
    loop whose annotators weigh nothing in all gives no pairs but its edits', like a loop
    without valid answers.
    """
    judged = [j for j in item.judgements if j.ranks is not None]
    valid = [j.ranks for j in judged if j.ranks is not None]
    weights = [1.0] * len(valid) if weigh is None else [weigh(j.worker_id) for j in judged]
    total = sum(weights)
    if not valid or total <= 0:
        return edit_pairs(item, aggregated=True)
    n = len(item.responses)
    if scores is None:
        if method == "mean-rank":
            scores = [
                -sum(w * r[i] for w, r in zip(weights, valid, strict=True)) / total
                for i in range(n)
            ]
        else:
            scores = list(bradley_terry_scores([item], weigh=weigh)[0])
    count = len(valid)
    ranked = list(zip(weights, valid, strict=True))
    out: list[Pair] = []
    for i in range(n):
        for j in range(i + 1, n):
            diff = scores[i] - scores[j]
            if abs(diff) < 1e-9:
                if keep_ties:
                    agree = sum(w for w, r in ranked if r[i] == r[j]) / total
                    out.append(Pair(i, j, True, None, 0.0, agree, count))
                continue
            chosen, rejected = (i, j) if diff > 0 else (j, i)
            agree = sum(w for w, r in ranked if r[chosen] < r[rejected]) / total
            out.append(Pair(chosen, rejected, False, None, abs(diff), agree, count))
    if item.edits:
        out.extend(edit_pairs(item, aggregated=True))
    return out


def bradley_terry_scores(
    items: Sequence[RankedItem], *, weigh: Weigh | None = None
) -> list[list[float]]:
    """Bradley–Terry log-strengths of each item's responses, fitted per item, in batches.

    With ``weigh``, an annotator's wins count by their weight (the 0.5 virtual wins of the
    prior stay as they are)."""
    out: list[list[float]] = [[] for _ in items]
    by_size: dict[int, list[int]] = {}
    for index, item in enumerate(items):
        by_size.setdefault(len(item.responses), []).append(index)
    for n, indices in by_size.items():
        wins = np.zeros((len(indices), n, n))
        off_diagonal = 1.0 - np.eye(n)
        for row, index in enumerate(indices):
            for judgement in items[index].judgements:
                if judgement.ranks is None:
                    continue
                ranks = np.asarray(judgement.ranks)
                better = ranks[:, None] < ranks[None, :]
                tied = (ranks[:, None] == ranks[None, :]) * off_diagonal
                if weigh is None:
                    wins[row] += better + 0.5 * tied
                else:
                    wins[row] += weigh(judgement.worker_id) * (better + 0.5 * tied)
        logs = bradley_terry_many(wins)
        for row, index in enumerate(indices):
            out[index] = [float(x) for x in logs[row]]
    return out
