"""Preference pairs from rankings, within one loop (so one prompt) only.

Ranks are compared as numbers; equal ranks are a tie, which gives no preference unless
ties are kept (then a row marked ``tie``). Several annotators give either one pair per
annotator, or one aggregated pair per response pair (mean rank or Bradley–Terry) with a
margin and the share of annotators who agree with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from handloop.feedback.bradley_terry import bradley_terry
from handloop.feedback.rankings import RankedItem

Aggregate = Literal["mean-rank", "bradley-terry"]


@dataclass(frozen=True, slots=True)
class Pair:
    """``chosen`` is preferred to ``rejected`` (response indices), or a tie."""

    chosen: int
    rejected: int
    tie: bool
    worker_id: str | None  # None for aggregated pairs
    margin: float | None  # aggregated: how far apart the two are
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
        for i in range(n):
            for j in range(i + 1, n):
                if ranks[i] < ranks[j]:
                    out.append(Pair(i, j, False, judgement.worker_id, None, None, 1))
                elif ranks[j] < ranks[i]:
                    out.append(Pair(j, i, False, judgement.worker_id, None, None, 1))
                elif keep_ties:
                    out.append(Pair(i, j, True, judgement.worker_id, None, None, 1))
    return out


def aggregated_pairs(
    item: RankedItem, *, method: Aggregate = "mean-rank", keep_ties: bool = False
) -> list[Pair]:
    """One pair per response pair, from every valid annotator's ranking of the loop."""
    valid = [j.ranks for j in item.judgements if j.ranks is not None]
    if not valid:
        return []
    n = len(item.responses)
    ranks = np.array(valid, dtype=np.float64)  # annotators x responses
    if method == "mean-rank":
        score = -ranks.mean(axis=0)  # higher is better
    else:
        wins = np.zeros((n, n))
        for row in ranks:
            better = row[:, None] < row[None, :]
            wins += better + 0.5 * (row[:, None] == row[None, :]) * (1 - np.eye(n))
        score = bradley_terry(wins)
    out: list[Pair] = []
    for i in range(n):
        for j in range(i + 1, n):
            diff = float(score[i] - score[j])
            if abs(diff) < 1e-9:
                if keep_ties:
                    agree = float(np.mean(ranks[:, i] == ranks[:, j]))
                    out.append(Pair(i, j, True, None, 0.0, agree, len(valid)))
                continue
            chosen, rejected = (i, j) if diff > 0 else (j, i)
            agree = float(np.mean(ranks[:, chosen] < ranks[:, rejected]))
            out.append(Pair(chosen, rejected, False, None, abs(diff), agree, len(valid)))
    return out
