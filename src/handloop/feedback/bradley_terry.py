"""Bradley–Terry strengths by the MM algorithm (Hunter, 2004), with numpy."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def bradley_terry(
    wins: npt.NDArray[np.float64], *, prior: float = 0.5, iterations: int = 200, tol: float = 1e-9
) -> npt.NDArray[np.float64]:
    """Log-strengths (mean 0) from a wins matrix: ``wins[i, j]`` = times i beat j.

    A tie counts half a win each way. ``prior`` adds that many virtual wins each way to
    every pair, so an item that won every comparison still gets a finite strength.
    """
    n = wins.shape[0]
    w = wins.astype(np.float64) + prior * (1.0 - np.eye(n))
    games = w + w.T
    won = w.sum(axis=1)
    p = np.ones(n)
    for _ in range(iterations):
        denom = (games / (p[:, None] + p[None, :])).sum(axis=1)
        new = np.where(denom > 0, won / np.where(denom > 0, denom, 1.0), p)
        new = new / np.exp(np.log(np.maximum(new, 1e-300)).mean())
        if np.max(np.abs(new - p)) < tol:
            p = new
            break
        p = new
    logs: npt.NDArray[np.float64] = np.log(np.maximum(p, 1e-300))
    centred: npt.NDArray[np.float64] = logs - logs.mean()
    return centred
