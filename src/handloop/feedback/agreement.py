"""Krippendorff's alpha from (unit, value) observations, with numpy.

Follows Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011): a coincidence
matrix over pairable values, then 1 - observed / expected disagreement.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

Level = Literal["nominal", "ordinal", "interval"]


def krippendorff_alpha(
    units: npt.ArrayLike, values: npt.ArrayLike, level: Level = "ordinal"
) -> float:
    """Alpha for observations ``values[i]`` of unit ``units[i]``; NaN when undefined."""
    unit_ids = np.asarray(units)
    observed = np.asarray(values, dtype=np.float64)
    if observed.size == 0:
        return float("nan")
    categories, cat = np.unique(observed, return_inverse=True)
    _, unit = np.unique(unit_ids, return_inverse=True)
    v = len(categories)
    u = int(unit.max()) + 1
    counts = np.zeros((u, v), dtype=np.float64)
    np.add.at(counts, (unit, cat), 1.0)
    m = counts.sum(axis=1)
    pairable = m >= 2
    counts, m = counts[pairable], m[pairable]
    if counts.shape[0] == 0:
        return float("nan")
    weighted = counts / (m - 1)[:, None]
    coincidence = weighted.T @ counts - np.diag(weighted.sum(axis=0))
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    delta = _distances(categories, n_c, level)
    expected = (np.outer(n_c, n_c) * delta).sum() / (n - 1)
    if expected == 0:
        return float("nan")
    return float(1.0 - (coincidence * delta).sum() / expected)


def _distances(
    categories: npt.NDArray[np.float64], n_c: npt.NDArray[np.float64], level: Level
) -> npt.NDArray[np.float64]:
    if level == "nominal":
        return 1.0 - np.eye(len(categories))
    if level == "interval":
        return np.asarray(np.subtract.outer(categories, categories) ** 2, dtype=np.float64)
    cumulative = np.concatenate([[0.0], np.cumsum(n_c)])
    lo = np.minimum.outer(np.arange(len(n_c)), np.arange(len(n_c)))
    hi = np.maximum.outer(np.arange(len(n_c)), np.arange(len(n_c)))
    between = cumulative[hi + 1] - cumulative[lo]  # sum of n_g for g in lo..hi
    return np.asarray((between - (n_c[lo] + n_c[hi]) / 2.0) ** 2, dtype=np.float64)
