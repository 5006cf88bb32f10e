"""Krippendorff's alpha against the published worked example, and edge cases."""

from __future__ import annotations

import math

import pytest

from handloop.feedback.agreement import krippendorff_alpha

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four coders,
# twelve units, values 1-5, "." missing.
RELIABILITY_DATA = [
    "1 2 3 3 2 1 4 1 2 . . .",
    "1 2 3 3 2 2 4 1 2 5 . 3",
    ". 3 3 3 2 3 4 2 2 5 1 .",
    "1 2 3 3 2 4 4 1 2 5 1 .",
]


def observations() -> tuple[list[int], list[float]]:
    units: list[int] = []
    values: list[float] = []
    for row in RELIABILITY_DATA:
        for unit, value in enumerate(row.split()):
            if value != ".":
                units.append(unit)
                values.append(float(value))
    return units, values


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_published_example(level: str, published: float) -> None:
    units, values = observations()
    assert round(krippendorff_alpha(units, values, level), 3) == published  # type: ignore[arg-type]


def test_perfect_agreement_is_one_and_no_pairable_values_is_nan() -> None:
    assert krippendorff_alpha([0, 0, 1, 1, 2, 2], [1, 1, 2, 2, 3, 3]) == 1.0
    assert math.isnan(krippendorff_alpha([0, 1, 2], [1, 2, 3]))
    assert math.isnan(krippendorff_alpha([], []))


def test_unit_order_does_not_matter() -> None:
    units, values = observations()
    pairs = sorted(zip(units, values, strict=True), key=lambda uv: (-uv[1], uv[0]))
    shuffled = krippendorff_alpha([u for u, _ in pairs], [v for _, v in pairs])
    assert math.isclose(shuffled, krippendorff_alpha(units, values))
