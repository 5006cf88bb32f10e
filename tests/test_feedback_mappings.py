"""Mappings: built-ins and user-stated ones, table-driven."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from handloop.feedback.mappings import load_mapping
from handloop.feedback.paths import Missing, parse_path, resolve
from handloop.feedback.problems import ExportInputError


@dataclass
class Case:
    name: str
    mapping: str
    answer: dict[str, Any]
    ranks: tuple[float, ...] | None
    reason: str | None = None
    n: int = 3


def text_ranking(ranks: list[Any], allow_tie: bool | None = False, **extra: Any) -> dict[str, Any]:
    clarity: dict[str, Any] = {"dimension": "Clarity", "ranks": ranks}
    if allow_tie is not None:
        clarity["allowTie"] = allow_tie
    return {
        "textRanking": {
            "ranking": [clarity, {"dimension": "Safety", "allowTie": True, "ranks": [1, 1, 1]}],
            **extra,
        }
    }


CASES = [
    Case(
        "notebook",
        "notebook",
        {"response_1_ranking": "2", "response_2_ranking": "1", "response_3_ranking": "3"},
        (2.0, 1.0, 3.0),
    ),
    Case(
        "notebook numbers",
        "notebook",
        {"response_1_ranking": 1, "response_2_ranking": 1, "response_3_ranking": 2},
        (1.0, 1.0, 2.0),
    ),
    Case(
        "notebook missing",
        "notebook",
        {"response_1_ranking": "1"},
        None,
        "missing response_2_ranking",
    ),
    Case(
        "notebook blank",
        "notebook",
        {"response_1_ranking": "", "response_2_ranking": "1", "response_3_ranking": "2"},
        None,
        'response_1_ranking is not a number: ""',
    ),
    Case(
        "notebook zero",
        "notebook",
        {"response_1_ranking": "0", "response_2_ranking": "1", "response_3_ranking": "2"},
        None,
        "response_1_ranking=0 is outside 1..3",
    ),
    Case(
        "notebook bool",
        "notebook",
        {"response_1_ranking": True, "response_2_ranking": "1", "response_3_ranking": "2"},
        None,
        "response_1_ranking is not a number: true",
    ),
    Case(
        "permutation required",
        '{"permutation": true}',
        {"response_1_ranking": "1", "response_2_ranking": "1", "response_3_ranking": "2"},
        None,
        "ranks are not a permutation (the mapping forbids ties)",
    ),
    Case(
        "ratings highest best",
        '{"field": "rating_{i}", "best": "highest", "range": [1, 5]}',
        {"rating_1": "5", "rating_2": "3", "rating_3": "5"},
        (-5.0, -3.0, -5.0),
    ),
    Case(
        "classifier letter", "classifier", {"preference": {"label": "Response B"}}, (2.0, 1.0, 2.0)
    ),
    Case("classifier number", "classifier", {"preference": {"label": "3"}}, (2.0, 2.0, 1.0)),
    Case("classifier tie", "classifier", {"preference": {"label": "Tie"}}, (1.0, 1.0, 1.0)),
    Case(
        "classifier unknown",
        "classifier",
        {"preference": {"label": "Maybe so"}},
        None,
        "label 'Maybe so' names no response",
    ),
    Case(
        "classifier out of range",
        "classifier",
        {"preference": {"label": "D"}},
        None,
        "label 'D' names response 4 of 3",
    ),
    Case(
        "classifier no field",
        "classifier",
        {"other": "x"},
        None,
        "no crowd-classifier answer with a label",
    ),
    Case(
        "classifier labels map",
        '{"base": "classifier", "labels": {"left": 1, "right": 2, "same": 0}}',
        {"p": {"label": "right"}},
        (2.0, 1.0),
        None,
        2,
    ),
    Case("label kind, no base", '{"kind": "label"}', {"pick": {"label": "A"}}, (1.0, 2.0), None, 2),
    Case("text-ranking strict", "text-ranking", text_ranking([2, 1, 3]), (2.0, 1.0, 3.0)),
    Case(
        "text-ranking strict tie",
        "text-ranking",
        text_ranking([1, 1, 3]),
        None,
        "textRanking: ranks are not a permutation of 1..3",
    ),
    Case(
        "text-ranking allowTie",
        "text-ranking",
        text_ranking([1, 1, 2], allow_tie=True),
        (1.0, 1.0, 2.0),
    ),
    Case(
        "text-ranking dimension",
        '{"base": "text-ranking", "dimension": "Safety"}',
        text_ranking([2, 1, 3]),
        (1.0, 1.0, 1.0),
    ),
    Case(
        "text-ranking short",
        "text-ranking",
        text_ranking([1, 2]),
        None,
        "textRanking: ranks do not list all 3 responses",
    ),
    Case(
        "text-ranking fraction",
        "text-ranking",
        text_ranking([1, 2.5, 3]),
        None,
        "textRanking: rank 2.5 is not a whole number",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rank(case: Case) -> None:
    mapping = load_mapping(case.mapping)
    assert mapping.rank(case.answer, case.n) == (case.ranks, case.reason)


def test_text_ranking_display_order() -> None:
    mapping = load_mapping("text-ranking")
    assert mapping.shown_order(text_ranking([1, 2, 3], displayOrder=[2, 0, 1]), 3) == (2, 0, 1)
    assert mapping.shown_order(text_ranking([1, 2, 3], displayOrder=[2, 2, 1]), 3) == (0, 1, 2)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nonsense", "unknown mapping 'nonsense'"),
        ("{", "mapping is not valid JSON"),
        ('{"kind": "votes"}', "mapping kind must be one of"),
        ('{"colour": "red"}', "unknown mapping key(s): colour"),
        ('{"field": "rank"}', "must contain {i}"),
        ('{"best": "middle"}', "'best' must be"),
        ('{"range": [5, 1]}', "'range' must be [low, high]"),
        ('{"prompt": "inputContent..x"}', "malformed"),
        ('{"base": "classifier", "labels": {"a": -1}}', "'labels' must map"),
    ],
)
def test_bad_mappings_are_clear_errors(spec: str, message: str) -> None:
    with pytest.raises(ExportInputError, match=None) as info:
        load_mapping(spec)
    assert message in info.value.message


def test_paths() -> None:
    doc = {"inputContent": {"a": [{"b c": 1}, {"d": [5, 6]}]}}
    assert resolve(parse_path('inputContent.a[0]["b c"]'), doc) == 1
    assert resolve(parse_path("inputContent.a[1].d[1]"), doc) == 6
    with pytest.raises(Missing, match=r"inputContent.a\[2\]"):
        resolve(parse_path("inputContent.a[2].d"), doc)
