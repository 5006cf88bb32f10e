"""95% intervals for the evaluation report: Wilson for shares, Student's t for means.

Plain Python (``math`` and ``statistics``): the report runs wherever the export does, and
SciPy is no dependency. The t quantile comes from the regularized incomplete beta
function (a continued fraction, as in Numerical Recipes §6.4), inverted by bisection.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from functools import lru_cache

CONFIDENCE = 0.95
# The standard normal quantile of 0.975: 1.959963984540054.
Z95 = statistics.NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)


def wilson(successes: float, trials: float, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a share ``successes / trials``; None without trials.

    Unlike the normal approximation p ± z·sqrt(p(1-p)/n), it stays within [0, 1] and does
    not shrink to a point at 0 or n successes, which matters for the small counts of a
    human evaluation."""
    if trials <= 0:
        return None
    p = successes / trials
    z2 = z * z
    denominator = 1.0 + z2 / trials
    centre = (p + z2 / (2.0 * trials)) / denominator
    half = z * math.sqrt(p * (1.0 - p) / trials + z2 / (4.0 * trials * trials)) / denominator
    # At 0 or n successes a bound is exactly 0 or 1; rounding would leave it a hair off.
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= trials else min(1.0, centre + half)
    return low, high


def mean_interval(values: Sequence[float]) -> tuple[float, float] | None:
    """mean ± t(0.975, n-1) · s / sqrt(n) (s: the sample standard deviation); None for
    fewer than two values, where the spread is unknown."""
    n = len(values)
    if n < 2:
        return None
    mean = statistics.fmean(values)
    half = t_quantile(n - 1) * statistics.stdev(values) / math.sqrt(n)
    return mean - half, mean + half


@lru_cache(maxsize=512)
def t_quantile(df: int, confidence: float = CONFIDENCE) -> float:
    """The two-sided critical value of Student's t with ``df`` degrees of freedom:
    P(|T| <= t) = confidence (12.706 for df 1, 2.228 for df 10, 1.960 in the limit)."""
    if df < 1:
        raise ValueError("t needs at least one degree of freedom")
    tail = (1.0 - confidence) / 2.0
    low, high = 0.0, 1.0
    while _upper_tail(high, df) > tail:  # widen until the root is bracketed
        high *= 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if _upper_tail(middle, df) > tail:
            low = middle
        else:
            high = middle
        if high - low < 1e-13 * max(1.0, high):
            break
    return (low + high) / 2.0


def _upper_tail(t: float, df: int) -> float:
    """P(T > t) for t >= 0: half the regularized incomplete beta I_x(df/2, 1/2) at
    x = df / (df + t²)."""
    return 0.5 * _incomplete_beta(df / 2.0, 0.5, df / (df + t * t))


def _incomplete_beta(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    # The continued fraction converges fast below the mean of the beta distribution; above
    # it, use the symmetry I_x(a, b) = 1 - I_{1-x}(b, a).
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, 1.0 - x) / b


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function, by Lentz's method."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            step = d * c
            h *= step
        if abs(step - 1.0) < 1e-16:
            break
    return h
