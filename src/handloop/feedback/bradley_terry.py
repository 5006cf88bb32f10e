"""Bradley–Terry strengths by the MM algorithm (Hunter, 2004), with numpy."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def bradley_terry(
    wins: npt.NDArray[np.float64], *, prior: float = 0.5, iterations: int = 500, tol: float = 1e-9
) -> npt.NDArray[np.float64]:
    """Log-strengths (mean 0) from a wins matrix: ``wins[i, j]`` = times i beat j.

    A tie counts half a win each way. ``prior`` adds that many virtual wins each way to
    every pair, so an item that won every comparison still gets a finite strength.
    """
    logs: npt.NDArray[np.float64] = bradley_terry_many(
        wins[None, :, :], prior=prior, iterations=iterations, tol=tol
    )[0]
    return logs


def bradley_terry_many(
    wins: npt.NDArray[np.float64], *, prior: float = 0.5, iterations: int = 500, tol: float = 1e-9
) -> npt.NDArray[np.float64]:
    """``bradley_terry`` for a stack of same-size wins matrices (shape L x n x n) at once."""
    n = wins.shape[-1]
    w = wins.astype(np.float64) + prior * (1.0 - np.eye(n))[None, :, :]
    games = w + np.swapaxes(w, 1, 2)
    won = w.sum(axis=2)
    p = np.ones(wins.shape[:2])
    for _ in range(iterations):
        denom = (games / (p[:, :, None] + p[:, None, :])).sum(axis=2)
        new = np.where(denom > 0, won / np.where(denom > 0, denom, 1.0), p)
        new = new / np.exp(np.log(np.maximum(new, 1e-300)).mean(axis=1, keepdims=True))
        done = np.max(np.abs(new - p)) < tol
        p = new
        if done:
            break
    logs = np.log(np.maximum(p, 1e-300))
    centred: npt.NDArray[np.float64] = logs - logs.mean(axis=1, keepdims=True)
    return centred
