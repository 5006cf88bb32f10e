"""The arithmetic of quality control (handloop.domain.quality): tag settings, answer
similarity per kind of value, consensus and gold scores, position picks, worker trust on
simulated workers, and the response order, checked against the element library's own
JavaScript run in Node."""

from __future__ import annotations

import itertools
import json
import math
import random
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from handloop.domain import quality as q
from handloop.domain.quality import (
    PATTERN_MIN_CHOICES,
    QualitySettings,
    WorkerFigures,
    agreement,
    consensus_similarity,
    evidence,
    first_position_pick,
    gold_score,
    judgement,
    kendall_tau_b,
    order_seed,
    shown_order,
    similarity,
    text_similarity,
    trust,
)
from handloop.errors import ValidationError

PREFERENCE_JS = Path(__file__).parents[1] / "src/handloop/web/static/elements/preference.js"


def tags(**values: str) -> list[dict[str, str]]:
    return [{"Key": f"handloop:{k.replace('_', '-')}", "Value": v} for k, v in values.items()]


# -- settings --------------------------------------------------------------------------------


def test_no_handloop_tags_means_a2i_behaviour() -> None:
    for given in (None, [], [{"Key": "team", "Value": "nlp"}, {"Key": "handloop", "Value": "x"}]):
        settings = QualitySettings.from_tags(given, 3)
        assert settings == QualitySettings(task_count=3)
        assert not settings.enabled and not settings.adaptive
        assert settings.gold_rate == 0.0 and settings.max_task_count is None
        assert settings.agreement is None and settings.min_trust is None
        assert settings.min_evidence == 10
        assert not settings.wants_more_answers([{"a": "1"}, {"a": "2"}, {"a": "3"}])
        assert not settings.pauses(WorkerFigures(gold_answers=50))


def test_every_tag_is_read() -> None:
    settings = QualitySettings.from_tags(
        [
            {"Key": "owner", "Value": "me"},
            *tags(gold_rate="0.2", max_task_count="5", agreement=".8", min_trust="0.6"),
            *tags(min_evidence="25"),
        ],
        2,
    )
    assert settings == QualitySettings(
        gold_rate=0.2, max_task_count=5, agreement=0.8, min_trust=0.6, min_evidence=25, task_count=2
    )
    assert settings.enabled and settings.adaptive


def test_bounds_are_inclusive_where_documented() -> None:
    assert QualitySettings.from_tags(tags(gold_rate="0"), 1).gold_rate == 0.0
    assert QualitySettings.from_tags(tags(gold_rate="0.5"), 1).gold_rate == 0.5
    assert QualitySettings.from_tags(tags(max_task_count="3"), 3).max_task_count == 3
    assert QualitySettings.from_tags(tags(max_task_count="20"), 3).max_task_count == 20
    assert QualitySettings.from_tags(tags(agreement="1"), 1).agreement == 1.0
    assert QualitySettings.from_tags(tags(min_evidence="1"), 1).min_evidence == 1
    assert QualitySettings.from_tags(tags(min_evidence="1000"), 1).min_evidence == 1000
    assert QualitySettings.from_tags(tags(min_trust=" 0.99 "), 1).min_trust == 0.99


@pytest.mark.parametrize(
    ("given", "task_count", "words"),
    [
        (tags(gold_rate="0.6"), 1, ["handloop:gold-rate", "from 0 to 0.5", "0.6"]),
        (tags(gold_rate="-0.1"), 1, ["handloop:gold-rate", "from 0 to 0.5"]),
        (tags(gold_rate="abc"), 1, ["handloop:gold-rate", "from 0 to 0.5"]),
        (tags(gold_rate="nan"), 1, ["handloop:gold-rate"]),
        (tags(gold_rate="1e-1"), 1, ["handloop:gold-rate"]),
        (tags(gold_rate=""), 1, ["handloop:gold-rate"]),
        (tags(max_task_count="2"), 3, ["handloop:max-task-count", "TaskCount (3) to 20"]),
        (tags(max_task_count="21"), 3, ["handloop:max-task-count", "to 20"]),
        (tags(max_task_count="4.5"), 3, ["handloop:max-task-count", "whole number"]),
        (tags(max_task_count="five"), 3, ["handloop:max-task-count"]),
        (tags(agreement="0"), 1, ["handloop:agreement", "greater than 0 and at most 1"]),
        (tags(agreement="1.01"), 1, ["handloop:agreement", "at most 1"]),
        (tags(min_trust="1"), 1, ["handloop:min-trust", "greater than 0 and less than 1"]),
        (tags(min_trust="0"), 1, ["handloop:min-trust", "greater than 0"]),
        (tags(min_evidence="0"), 1, ["handloop:min-evidence", "from 1 to 1000"]),
        (tags(min_evidence="1001"), 1, ["handloop:min-evidence", "from 1 to 1000"]),
        (tags(min_evidence="2.0"), 1, ["handloop:min-evidence", "whole number"]),
        (tags(gold_rte="0.1"), 1, ["handloop:gold-rte", "handloop:gold-rate"]),
        (
            tags(gold_rate="0.1") + tags(gold_rate="0.2"),
            1,
            ["handloop:gold-rate", "more than once"],
        ),
        ([{"Key": "handloop:agreement", "Value": 0.5}], 1, ["handloop:agreement", "text"]),
        ([{"Key": "handloop:agreement"}], 1, ["handloop:agreement", "text"]),
    ],
)
def test_bad_tags_are_refused_by_name_and_range(
    given: list[dict[str, Any]], task_count: int, words: list[str]
) -> None:
    with pytest.raises(ValidationError) as caught:
        QualitySettings.from_tags(given, task_count)
    for word in words:
        assert word in caught.value.message
    assert caught.value.code == "ValidationException"


def test_adaptive_needs_more_room_and_a_threshold() -> None:
    assert not QualitySettings.from_tags(tags(max_task_count="5"), 3).adaptive
    assert not QualitySettings.from_tags(tags(agreement="0.7"), 3).adaptive
    same = QualitySettings.from_tags(tags(max_task_count="3", agreement="0.7"), 3)
    assert same.enabled and not same.adaptive
    assert QualitySettings.from_tags(tags(max_task_count="4", agreement="0.7"), 3).adaptive
    assert QualitySettings.from_tags(tags(min_evidence="5"), 3).enabled
    assert QualitySettings.from_tags(tags(gold_rate="0.1"), 3).enabled


def test_wants_more_answers_while_they_disagree() -> None:
    settings = QualitySettings.from_tags(tags(max_task_count="4", agreement="0.7"), 2)
    a, b = {"q": {"label": "cat"}}, {"q": {"label": "dog"}}
    assert not settings.wants_more_answers([a])  # the two required ones are not in yet
    assert settings.wants_more_answers([a, b])  # agreement 0
    assert not settings.wants_more_answers([a, a])  # agreement 1
    assert settings.wants_more_answers([a, b, a])  # agreement 1/3
    assert not settings.wants_more_answers([a, b, a, a])  # at max_task_count
    loose = QualitySettings.from_tags(tags(max_task_count="4", agreement="0.3"), 2)
    assert not loose.wants_more_answers([a, b, a])


def test_pauses_only_on_enough_evidence_below_min_trust() -> None:
    settings = QualitySettings.from_tags(tags(min_trust="0.7", min_evidence="10"), 1)
    bad = WorkerFigures(answers=9, gold_answers=9, gold_score_sum=0.0)
    assert trust(bad) < 0.7 and evidence(bad) == 9 and not settings.pauses(bad)
    bad = WorkerFigures(answers=10, gold_answers=10, gold_score_sum=0.0)
    assert settings.pauses(bad)
    good = WorkerFigures(answers=10, gold_answers=10, gold_score_sum=9.0)
    assert not settings.pauses(good)


# -- judgement and similarity ----------------------------------------------------------------


def choice(chosen: str | None, order: list[str], outcome: str = "chosen", **extra: Any) -> Any:
    return {
        "kind": "comparison-choice",
        "shownOrder": order,
        "outcome": outcome,
        "chosen": chosen,
        **extra,
    }


def test_judgement_drops_what_is_not_judged() -> None:
    answer = {
        "pref": choice("0", ["1", "0"], reason="clearer"),
        "scale": {
            "kind": "likert",
            "shownOrder": ["b", "a"],
            "scale": {"min": 1, "max": 5},
            "labels": ["1", "2", "3", "4", "5"],
            "criteria": ["overall"],
            "ratings": {"overall": {"a": 4, "b": 2}},
        },
        "side": {
            "kind": "comparison-likert",
            "shownOrder": ["b", "a"],
            "preferred": "a",
            "margin": 2,
            "label": "B is much better",
        },
        "thumbs": {
            "kind": "thumbs",
            "shownOrder": ["0"],
            "thumbs": {"0": "down"},
            "reasons": {"0": "wrong year"},
        },
        "rank": {
            "kind": "comparison-rank",
            "shownOrder": ["0", "1"],
            "ranks": {"0": 1, "1": 2},
            "allowTies": False,
        },
        "category": {"label": "cat"},
        "tags": {"labels": ["a", "b"]},
        "order": {"ranking": [{"dimension": "Clarity", "ranks": [2, 1]}], "displayOrder": [1, 0]},
        "comment": "fine",
    }
    assert judgement(answer) == {
        "pref": {"kind": "comparison-choice", "outcome": "chosen", "chosen": "0"},
        "scale": {
            "kind": "likert",
            "scale": {"min": 1, "max": 5},
            "ratings": {"overall": {"a": 4, "b": 2}},
        },
        "side": {"kind": "comparison-likert", "preferred": "a", "margin": 2},
        "thumbs": {"kind": "thumbs", "thumbs": {"0": "down"}},
        "rank": {"kind": "comparison-rank", "ranks": {"0": 1, "1": 2}},
        "category": {"label": "cat"},
        "tags": {"labels": ["a", "b"]},
        "order": {"ranking": [{"dimension": "Clarity", "ranks": [2, 1]}]},
        "comment": "fine",
    }
    assert judgement(judgement(answer)) == judgement(answer)
    assert answer["pref"]["shownOrder"] == ["1", "0"]  # the answer itself is left alone


def test_judgement_of_a_bedrock_evaluation_answer_drops_its_display_order() -> None:
    answer = {"evaluationResults": {"comparisonChoice": []}, "displayOrder": ["1", "0"]}
    assert judgement(answer) == {"evaluationResults": {"comparisonChoice": []}}
    assert judgement({"displayOrder": "x"}) == {"displayOrder": "x"}  # a field of the template


def test_gold_written_without_kind_or_order_judges_like_the_element() -> None:
    element = {"pref": choice("a", ["b", "a"], strength={"value": 2, "label": "Better"})}
    gold = {
        "pref": {"outcome": "chosen", "chosen": "a", "strength": {"value": 2, "label": "Better"}}
    }
    assert judgement(gold) == judgement(element)
    assert similarity(gold, element) == 1.0
    # Checkboxes may carry any key: a value "outcome" is not a comparison.
    boxes = {"q": {"outcome": True, "margin": False, "preferred": True}}
    assert judgement(boxes) == boxes


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (choice("x", ["x", "y"]), choice("x", ["y", "x"], reason="because")),
        (
            {
                "kind": "comparison-rank",
                "shownOrder": ["0", "1", "2"],
                "ranks": {"0": 2, "1": 1, "2": 3},
            },
            {
                "kind": "comparison-rank",
                "shownOrder": ["2", "0", "1"],
                "ranks": {"2": 3, "1": 1, "0": 2},
            },
        ),
        (
            {
                "kind": "comparison-likert",
                "shownOrder": ["a", "b"],
                "preferred": "b",
                "margin": 1,
                "label": "B is slightly better",
            },
            {
                "kind": "comparison-likert",
                "shownOrder": ["b", "a"],
                "preferred": "b",
                "margin": 1,
                "label": "A is slightly better",
            },
        ),
        (
            {"kind": "thumbs", "shownOrder": ["0", "1"], "thumbs": {"0": "up", "1": "down"}},
            {
                "kind": "thumbs",
                "shownOrder": ["1", "0"],
                "thumbs": {"1": "down", "0": "up"},
                "reasons": {"1": "wrong"},
            },
        ),
        (
            {"ranking": [{"dimension": "C", "ranks": [1, 2, 3]}], "displayOrder": [0, 1, 2]},
            {"ranking": [{"dimension": "C", "ranks": [1, 2, 3]}], "displayOrder": [2, 1, 0]},
        ),
    ],
)
def test_answers_differing_only_in_the_order_shown_are_alike(a: Any, b: Any) -> None:
    assert judgement({"f": a}) == judgement({"f": b})
    assert similarity({"f": a}, {"f": b}) == 1.0
    assert agreement([{"f": a}, {"f": b}]) == 1.0


def field(a: Any, b: Any) -> float:
    return similarity({"f": a}, {"f": b})


def test_comparison_choice_is_exact() -> None:
    assert field(choice("a", ["a", "b"]), choice("b", ["a", "b"])) == 0.0
    assert field(choice(None, ["a", "b"], "tie"), choice(None, ["b", "a"], "tie")) == 1.0
    assert field(choice(None, ["a", "b"], "tie"), choice(None, ["a", "b"], "both-bad")) == 0.0
    assert field(choice(None, ["a", "b"], "tie"), choice("a", ["a", "b"])) == 0.0
    strong = choice("a", ["a", "b"], strength={"value": 3, "label": "Significantly better"})
    weak = choice("a", ["b", "a"], strength={"value": 0, "label": "Negligibly better / unsure"})
    assert field(strong, weak) == 1.0  # strength is not compared


def ranks(**given: float) -> dict[str, Any]:
    return {"kind": "comparison-rank", "ranks": dict(given)}


def test_rankings_compare_by_kendall_tau_b() -> None:
    assert field(ranks(a=1, b=2, c=3), ranks(a=1, b=2, c=3)) == 1.0
    assert field(ranks(a=1, b=2, c=3), ranks(a=3, b=2, c=1)) == 0.0
    # pairs ab, ac concordant, bc discordant: tau = 1/3
    assert field(ranks(a=1, b=2, c=3), ranks(a=1, b=3, c=2)) == pytest.approx(2 / 3)
    # a and b tied in one: C - D = 2, tau_b = 2 / sqrt(2 * 3)
    tied = field(ranks(a=1, b=1, c=2), ranks(a=1, b=2, c=3))
    assert tied == pytest.approx((1 + 2 / math.sqrt(6)) / 2)
    # only the ids both rank count: here a before c in both
    assert field(ranks(a=1, b=2, c=3), ranks(a=1, c=2, d=3)) == 1.0
    assert field(ranks(a=1, b=1), ranks(a=2, b=2)) == 1.0  # all tied in both
    assert field(ranks(a=1, b=1), ranks(a=1, b=2)) == 0.5  # all tied in one: tau 0
    assert field(ranks(a=1), ranks(b=1)) == 0.0  # nothing in common
    assert field(ranks(a=1, b="2"), ranks(a=1, b=2)) == 1.0
    assert field(ranks(a=1, b="x"), ranks(a=1, b=2)) == 0.0  # malformed: compared as JSON


def brute_tau_b(xs: list[float], ys: list[float]) -> float | None:
    concordant = discordant = tied_x = tied_y = 0
    for i, j in itertools.combinations(range(len(xs)), 2):
        dx, dy = xs[i] - xs[j], ys[i] - ys[j]
        if dx == 0 and dy == 0:
            continue
        if dx == 0:
            tied_x += 1
        elif dy == 0:
            tied_y += 1
        elif dx * dy > 0:
            concordant += 1
        else:
            discordant += 1
    denominator = math.sqrt((concordant + discordant + tied_x) * (concordant + discordant + tied_y))
    return None if denominator == 0 else (concordant - discordant) / denominator


def test_kendall_tau_b_matches_the_pairwise_definition() -> None:
    rng = random.Random(5)
    for _ in range(300):
        n = rng.randint(2, 12)
        top = rng.randint(1, n + 1)
        xs = [float(rng.randint(1, top)) for _ in range(n)]
        ys = [float(rng.randint(1, top)) for _ in range(n)]
        expected = brute_tau_b(xs, ys)
        got = kendall_tau_b(xs, ys)
        if expected is None:
            assert got is None
        else:
            assert got == pytest.approx(expected)
    with pytest.raises(ValueError):
        kendall_tau_b([1.0], [1.0, 2.0])


def test_a_huge_ranking_is_read_in_n_log_n() -> None:
    ids = [str(i) for i in range(30000)]
    forward = {"kind": "comparison-rank", "ranks": {k: i for i, k in enumerate(ids)}}
    backward = {"kind": "comparison-rank", "ranks": {k: -i for i, k in enumerate(ids)}}
    assert field(forward, forward) == 1.0
    assert field(forward, backward) == 0.0


def test_text_ranking_compares_each_dimension() -> None:
    both = {
        "ranking": [{"dimension": "C", "ranks": [1, 2, 3]}, {"dimension": "A", "ranks": [1, 2, 3]}]
    }
    one = {"ranking": [{"dimension": "C", "ranks": [1, 2, 3]}], "displayOrder": [2, 0, 1]}
    flipped = {
        "ranking": [{"dimension": "C", "ranks": [3, 2, 1]}, {"dimension": "A", "ranks": [1, 3, 2]}]
    }
    assert field(both, one) == 0.5  # A is missing from one: 0
    assert field(both, flipped) == pytest.approx((0 + 2 / 3) / 2)


def likert_comparison(preferred: str | None, margin: int, order: list[str]) -> dict[str, Any]:
    return {
        "kind": "comparison-likert",
        "shownOrder": order,
        "preferred": preferred,
        "margin": margin,
        "label": "whatever",
    }


def test_comparison_likert_is_a_signed_distance() -> None:
    much_x = likert_comparison("x", 2, ["x", "y"])
    assert field(much_x, likert_comparison("x", 2, ["y", "x"])) == 1.0
    assert field(much_x, likert_comparison("x", 1, ["x", "y"])) == 0.75
    assert field(much_x, likert_comparison(None, 0, ["x", "y"])) == 0.5
    assert field(much_x, likert_comparison("y", 1, ["x", "y"])) == 0.25  # 2 - (-1) = 3
    assert field(much_x, likert_comparison("y", 2, ["y", "x"])) == 0.0
    assert (
        field(likert_comparison("y", 1, ["x", "y"]), likert_comparison("x", 1, ["x", "y"])) == 0.5
    )
    same = likert_comparison(None, 0, ["y", "x"])
    assert field(likert_comparison(None, 0, ["x", "y"]), same) == 1.0


def likert(ratings: dict[str, dict[str, int]], scale: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "likert", "shownOrder": ["0", "1"], "ratings": ratings}
    if scale:
        out["scale"] = {"min": 1, "max": 5}
    return out


def test_likert_is_the_mean_distance_on_the_scale() -> None:
    a = likert({"help": {"0": 4, "1": 2}, "harm": {"0": 5, "1": 5}})
    b = likert({"help": {"0": 3, "1": 2}, "harm": {"0": 1, "1": 5}})
    # help: 1 - (1 + 0) / 2 / 4 = 0.875; harm: 1 - (4 + 0) / 2 / 4 = 0.5
    assert field(a, b) == pytest.approx((0.875 + 0.5) / 2)
    seven = {"kind": "likert", "scale": {"min": 1, "max": 7}, "ratings": {"o": {"0": 1}}}
    assert (
        field(seven, {"kind": "likert", "scale": {"min": 1, "max": 7}, "ratings": {"o": {"0": 4}}})
        == 0.5
    )
    # a gold answer without its scale takes the other's
    assert field(likert({"o": {"0": 4}}, scale=False), likert({"o": {"0": 2}})) == 0.5
    assert field(likert({"o": {"0": 4}}), likert({"o": {"0": 4}, "p": {"0": 4}})) == 0.5
    assert field(likert({"o": {"0": 4, "1": 3}}), likert({"o": {"0": 4}})) == 0.5


def test_thumbs_are_the_share_alike() -> None:
    a = {"kind": "thumbs", "thumbs": {"0": "up", "1": "down", "2": "up"}}
    b = {"kind": "thumbs", "thumbs": {"0": "up", "1": "up", "2": "up"}, "reasons": {"1": "x"}}
    assert field(a, b) == pytest.approx(2 / 3)
    assert field(a, {"kind": "thumbs", "thumbs": {"0": "up"}}) == pytest.approx(1 / 3)


def edit(response: str, text: str) -> dict[str, Any]:
    return {
        "kind": "response-edit",
        "shownOrder": ["0", "1"],
        "responseId": response,
        "edited": text,
        "changed": True,
    }


def test_response_edits_compare_their_texts() -> None:
    assert field(edit("0", "The cat sat."), edit("0", "The cat sat.")) == 1.0
    # 7 tokens each (words and the full stop), 6 in common: 2 * 6 / 14
    got = field(edit("0", "the cat sat on the mat."), edit("0", "the cat sat on a mat."))
    assert got == pytest.approx(12 / 14)
    assert field(edit("0", "same text"), edit("1", "same text")) == 0.0
    assert text_similarity("a  b\nc", "a b c") == 1.0  # white space is not a token
    assert text_similarity("", "") == 1.0 and text_similarity("", "word") == 0.0
    assert text_similarity("   ", " ") == 1.0


def test_long_texts_fall_back_to_their_words_as_multisets() -> None:
    rng = random.Random(3)
    words = [str(i) for i in range(500)]
    a = " ".join(rng.choice(words) for _ in range(q.MAX_ORDERED_TOKENS + 500))
    shuffled = a.split()
    rng.shuffle(shuffled)
    assert text_similarity(a, " ".join(shuffled)) == 1.0  # order ignored beyond the limit
    short = " ".join(a.split()[:100])
    assert 0.0 < text_similarity(short, " ".join(reversed(short.split()))) < 0.5


def test_classifiers_selections_checkboxes_and_text() -> None:
    assert field({"label": "cat"}, {"label": "cat"}) == 1.0
    assert field({"label": "cat"}, {"label": "dog"}) == 0.0
    assert field({"labels": ["a", "b"]}, {"labels": ["b", "c"]}) == pytest.approx(1 / 3)
    assert field({"labels": []}, {"labels": []}) == 1.0
    assert field(["a", "b"], ["b", "a"]) == 1.0  # select multiple
    assert field({"blurry": True, "dim": False}, {"blurry": True}) == 1.0  # unchecked = left out
    assert field({"blurry": True, "dim": False}, {"blurry": False, "dim": True}) == 0.0
    assert field({"blurry": True, "dim": False}, {"blurry": True, "dim": True}) == 0.5
    assert field("3", 3) == 1.0
    assert field("3", "3.0") == 1.0
    assert field("3", "4") == 0.0
    assert field(" Paris ", "paris") == 1.0
    assert field("Paris", "Lyon") == 0.0
    assert field(True, 1) == 0.0  # JSON true is not 1
    assert field([{"x": 1}], [{"x": 1.0}]) == 1.0
    assert field([{"x": 1}], [{"x": 2}]) == 0.0
    assert field({"label": "cat"}, choice("a", ["a", "b"])) == 0.0
    assert field(choice("a", ["a", "b"]), ranks(a=1, b=2)) == 0.0
    assert field(10**400, 10**400) == 1.0  # too big for a float: compared as JSON


def test_whole_answers_average_over_their_fields() -> None:
    a = {"kind_of": {"label": "cat"}, "count": "3"}
    assert similarity(a, {"kind_of": {"label": "cat"}, "count": "4"}) == 0.5
    assert similarity({"q": "x"}, {"q": "x", "note": "hi"}) == 0.5  # left out: 0
    assert similarity({}, {}) == 1.0
    assert similarity({"q": "x"}, {}) == 0.0
    assert similarity(a, a) == 1.0


# -- agreement, consensus, gold ---------------------------------------------------------------


def pick(chosen: str, order: list[str] | None = None) -> dict[str, Any]:
    return {"pref": choice(chosen, order or ["a", "b"])}


def test_agreement_is_the_mean_over_pairs() -> None:
    assert agreement([]) is None and agreement([pick("a")]) is None
    assert agreement([pick("a"), pick("a", ["b", "a"])]) == 1.0
    assert agreement([pick("a"), pick("a"), pick("b")]) == pytest.approx(1 / 3)
    assert agreement([pick("a"), pick("b")]) == 0.0


def test_consensus_is_the_others_majority() -> None:
    a, b = pick("a"), pick("b", ["b", "a"])
    assert consensus_similarity(a, []) is None
    assert consensus_similarity(a, [a, a, b]) == 1.0
    assert consensus_similarity(b, [a, a, b]) == 0.0
    assert consensus_similarity(a, [pick("a", ["b", "a"])]) == 1.0
    assert consensus_similarity(a, [a, b]) == 0.5  # a 1-1 split: half
    assert consensus_similarity(a, [a, a, b, b]) == 0.5
    c = pick("c")
    assert consensus_similarity(c, [a, b]) == 0.0


def test_consensus_of_graded_answers_is_the_most_central_one() -> None:
    mid = {"r": ranks(a=1, b=2, c=3)}
    near = {"r": ranks(a=1, b=3, c=2)}
    far = {"r": ranks(a=3, b=2, c=1)}
    # mean similarity to the three: mid (1 + 2/3 + 0) / 3, near (2/3 + 1 + 1/3) / 3, far
    # (0 + 1/3 + 1) / 3: near is the consensus
    assert consensus_similarity(mid, [mid, near, far]) == pytest.approx(2 / 3)
    assert consensus_similarity(near, [mid, near, far]) == 1.0


def test_gold_takes_the_best_accepted_answer() -> None:
    answer = {
        "pref": choice(None, ["b", "a"], "tie", reason="both fine"),
        "topic": {"label": "geo"},
    }
    tie = {"pref": {"outcome": "tie", "chosen": None}, "topic": {"label": "geo"}}
    a_wins = {"pref": {"outcome": "chosen", "chosen": "a"}, "topic": {"label": "geo"}}
    assert gold_score(answer, [a_wins, tie]) == 1.0
    assert gold_score(answer, [a_wins]) == 0.5
    assert gold_score(answer, []) == 0.0
    graded = {"r": ranks(a=1, b=2, c=3)}
    assert gold_score(
        graded,
        [{"r": {"ranks": {"a": 3, "b": 2, "c": 1}}}, {"r": {"ranks": {"a": 1, "b": 3, "c": 2}}}],
    ) == pytest.approx(2 / 3)


# -- position picks ----------------------------------------------------------------------------


def test_first_position_pick() -> None:
    assert first_position_pick(pick("a", ["a", "b"])) is True
    assert first_position_pick(pick("a", ["b", "a"])) is False
    assert first_position_pick({"p": choice(None, ["a", "b"], "tie")}) is None
    assert first_position_pick({"p": choice(None, ["a", "b"], "both-bad")}) is None
    rank = {
        "kind": "comparison-rank",
        "shownOrder": ["c", "a", "b"],
        "ranks": {"a": 2, "b": 3, "c": 1},
    }
    assert first_position_pick({"r": rank}) is True
    assert first_position_pick({"r": {**rank, "shownOrder": ["a", "b", "c"]}}) is False
    shared = {**rank, "ranks": {"a": 2, "b": 1, "c": 1}}
    assert first_position_pick({"r": shared}) is None
    assert first_position_pick({"l": likert_comparison("y", 1, ["y", "x"])}) is True
    assert first_position_pick({"l": likert_comparison("y", 1, ["x", "y"])}) is False
    assert first_position_pick({"l": likert_comparison(None, 0, ["x", "y"])}) is None
    assert (
        first_position_pick({"t": {"kind": "thumbs", "shownOrder": ["0"], "thumbs": {"0": "up"}}})
        is None
    )
    assert first_position_pick({"p": {"outcome": "chosen", "chosen": "a"}}) is None  # no order
    assert first_position_pick({"label": {"label": "x"}}) is None
    # the first field that chooses by position decides
    mixed = {"topic": {"label": "x"}, "rate": likert({"o": {"0": 3}}), **pick("b", ["a", "b"])}
    assert first_position_pick(mixed) is False


# -- trust ---------------------------------------------------------------------------------------


def test_worker_figures_and_the_trust_formula() -> None:
    new = WorkerFigures()
    assert new.gold_accuracy is None and new.agreement is None and new.first_share is None
    assert trust(new) == pytest.approx(0.9) and evidence(new) == 0
    fig = WorkerFigures(
        answers=12,
        gold_answers=4,
        gold_score_sum=3.0,
        agreement_n=6,
        agreement_sum=4.5,
        first_picks=3,
        position_choices=6,
    )
    assert fig.gold_accuracy == 0.75 and fig.agreement == 0.75 and fig.first_share == 0.5
    assert evidence(fig) == 10
    assert trust(fig) == pytest.approx((2 * 3.0 + 4.5 + 10 * 0.9) / (2 * 4 + 6 + 10))
    # always the first of 30 position choices: halved
    first = WorkerFigures(
        answers=30, agreement_n=30, agreement_sum=15.0, first_picks=30, position_choices=30
    )
    assert trust(first) == pytest.approx(0.5 * (15.0 + 9.0) / 40)
    assert trust(replace(first, position_choices=29, first_picks=29)) == pytest.approx(24 / 40)
    assert trust(replace(first, first_picks=26)) == pytest.approx(24 / 40)
    # far faster than the flow: x 0.8
    fast = WorkerFigures(
        answers=10,
        gold_answers=10,
        gold_score_sum=10.0,
        median_seconds=2.0,
        flow_median_seconds=10.0,
    )
    assert trust(fast) == pytest.approx(0.8 * (20 + 9) / 30)
    assert trust(replace(fast, median_seconds=2.5)) == pytest.approx(29 / 30)
    assert trust(replace(fast, flow_median_seconds=None)) == pytest.approx(29 / 30)
    assert trust(replace(fast, answers=9)) == pytest.approx(29 / 30)
    assert trust(replace(fast, gold_score_sum=-50.0)) == 0.0  # clamped


RIGHT = {"a": "b", "b": "a"}


def simulate(style: str, observations: int, rng: random.Random, gold_share: float) -> WorkerFigures:
    """A worker answering two-response comparisons: ``careful`` right 90% of the time,
    ``random``, ``first`` (always the response shown first), ``adversarial`` (always
    wrong). Each observation is a gold item (share ``gold_share``) or a task two careful
    peers answered too. Orders are drawn as the elements draw them."""
    fig = WorkerFigures()
    for n in range(observations):
        truth = rng.choice("ab")
        order = shown_order(["a", "b"], f"{rng.random()}")
        if style == "careful":
            chosen = truth if rng.random() < 0.9 else RIGHT[truth]
        elif style == "random":
            chosen = rng.choice("ab")
        elif style == "first":
            chosen = order[0]
        else:
            chosen = RIGHT[truth]
        answer = {"pref": choice(chosen, order)}
        fig.answers += 1
        first = first_position_pick(answer)
        if first is not None:
            fig.position_choices += 1
            fig.first_picks += int(first)
        if rng.random() < gold_share:
            fig.gold_answers += 1
            fig.gold_score_sum += gold_score(
                answer, [{"pref": {"outcome": "chosen", "chosen": truth}}]
            )
            continue
        peers = [
            {"pref": choice(truth if rng.random() < 0.9 else RIGHT[truth], ["a", "b"])}
            for _ in range(2)
        ]
        found = consensus_similarity(answer, peers)
        assert found is not None
        fig.agreement_n += 1
        fig.agreement_sum += found
        assert evidence(fig) == n + 1
    return fig


def trusts(
    style: str, observations: int, workers: int, gold_share: float, seed: int
) -> list[float]:
    rng = random.Random(seed)
    return sorted(trust(simulate(style, observations, rng, gold_share)) for _ in range(workers))


@pytest.mark.parametrize("gold_share", [0.0, 0.3, 1.0])
def test_careful_workers_keep_their_trust_after_ten_observations(gold_share: float) -> None:
    found = trusts("careful", 10, 1000, gold_share, seed=101)
    assert sum(t >= 0.7 for t in found) >= 990


@pytest.mark.parametrize("gold_share", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("observations", [20, 30])
def test_trust_separates_careful_from_careless_workers(
    gold_share: float, observations: int
) -> None:
    seed = 7 + observations
    careful = trusts("careful", observations, 300, gold_share, seed)
    rand = trusts("random", observations, 300, gold_share, seed + 1)
    first = trusts("first", observations, 300, gold_share, seed + 2)
    adversarial = trusts("adversarial", observations, 300, gold_share, seed + 3)
    assert sum(t >= 0.7 for t in careful) >= 0.97 * 300
    below = 0.9 if observations >= 30 else 0.7
    assert sum(t < 0.7 for t in rand) >= below * 300
    assert careful[150] - rand[150] >= 0.2  # medians
    assert careful[3] > rand[150]  # nearly every careful worker above the typical random one
    if observations >= PATTERN_MIN_CHOICES:
        assert max(first) < 0.45  # the position pattern halves them
        assert max(first) < careful[3]
    else:  # before the pattern counts, their agreement alone keeps them below the careful
        assert first[150] < careful[150]
    assert max(adversarial) < 0.5
    assert max(adversarial) < careful[3]


# -- the order shown -----------------------------------------------------------------------------


def test_order_seed_lives_in_the_domain_and_frame_uses_it() -> None:
    from handloop.web import frame

    assert frame.order_seed is order_seed
    seed = order_seed("task-a")
    assert re.fullmatch("[0-9a-f]{16}", seed) and seed != order_seed("task-b")


def test_shown_order_is_a_fixed_permutation_per_seed() -> None:
    ids = [str(i) for i in range(6)]
    order = shown_order(ids, "seed")
    assert sorted(order) == ids and order == shown_order(ids, "seed")
    assert ids == [str(i) for i in range(6)]  # the list given is left alone
    assert len({tuple(shown_order(ids, f"s{i}")) for i in range(200)}) > 100
    assert shown_order([], "x") == [] and shown_order(["only"], "x") == ["only"]
    # every first position about equally often
    firsts = [shown_order(["a", "b", "c"], order_seed(f"t{i}"))[0] for i in range(3000)]
    assert all(800 < firsts.count(x) < 1200 for x in "abc")


def js_function(source: str, name: str) -> str:
    """One top-level function of a module's source, as written (``export`` dropped)."""
    found = re.search(
        rf"^(?:export )?(function {name}\(.*?^\}})$", source, flags=re.MULTILINE | re.DOTALL
    )
    assert found is not None, f"{name} not found in {PREFERENCE_JS}"
    return found.group(1)


def random_id(rng: random.Random) -> str:
    alphabet = [
        "a",
        "b",
        "Z",
        "0",
        "9",
        "-",
        "_",
        " ",
        "é",
        "ß",
        "中",
        "文",
        "\u0001",
        "😀",
        "𝄞",
        "\u200b",
    ]
    if rng.random() < 0.3:
        return str(rng.randint(0, 30))
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_python_and_the_elements_show_the_same_order() -> None:
    source = PREFERENCE_JS.read_text(encoding="utf-8")
    script = "\n".join(js_function(source, name) for name in ("hash32", "generator", "shuffled"))
    script += """
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const cases = JSON.parse(input);
  process.stdout.write(JSON.stringify(cases.map((c) => shuffled(c[0], c[1]))));
});
"""
    rng = random.Random(2024)
    cases: list[tuple[list[str], str]] = []
    for n in range(200):
        size = rng.randint(0, 12) if n > 2 else n
        ids = list(dict.fromkeys(random_id(rng) for _ in range(size)))
        seed = order_seed(f"task-{n}") if n % 3 else random_id(rng)
        cases.append((ids, seed))
    assert any(any(ord(ch) > 0xFFFF for ch in "".join(ids)) for ids, _ in cases)
    done = subprocess.run(
        ["node", "-e", script],
        input=json.dumps(cases),  # ASCII: astral characters as surrogate pairs, as JS reads them
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=True,
    )
    orders = json.loads(done.stdout)
    assert len(orders) == len(cases)
    for (ids, seed), order in zip(cases, orders, strict=True):
        assert shown_order(ids, seed) == order, (ids, seed)
    assert sum(order != ids for (ids, _), order in zip(cases, orders, strict=True)) > 150
