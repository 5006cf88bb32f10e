"""Pairs from rankings: golden cases, aggregation, and properties (hypothesis)."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from handloop.feedback.bradley_terry import bradley_terry
from handloop.feedback.mappings import BUILT_INS, load_mapping
from handloop.feedback.output_files import parse_output
from handloop.feedback.pairs import aggregated_pairs, annotator_pairs, bradley_terry_scores
from handloop.feedback.rankings import RankedItem, rank_item
from tests.fixtures.feedback.builders import a2i_output, notebook_answer

FIXTURES = Path(__file__).parent / "fixtures" / "feedback"
SAMPLE = FIXTURES / "notebook-sample/llm-ranking/2026/11/20/10/00/00/sample-item/output.json"
NOTEBOOK = BUILT_INS["notebook"]


def item_of(doc: dict[str, object], mapping: str = "notebook") -> RankedItem:
    import json

    return rank_item(parse_output(json.dumps(doc), "test"), load_mapping(mapping))


def texts(item: RankedItem, pairs: list) -> set[tuple[str, str, bool]]:  # type: ignore[type-arg]
    return {(item.responses[p.chosen], item.responses[p.rejected], p.tie) for p in pairs}


def test_notebook_sample_gives_three_pairs_best_first() -> None:
    item = rank_item(parse_output(SAMPLE.read_bytes(), str(SAMPLE)), NOTEBOOK)
    assert item.prompt == "What is the capital of France?"
    pairs = annotator_pairs(item)
    assert [(p.chosen, p.rejected, p.tie) for p in pairs] == [
        (0, 1, False),
        (0, 2, False),
        (1, 2, False),
    ]
    assert {p.worker_id for p in pairs} == {"a1b2c3d4e5f60718"}


def test_ties_give_no_pair_unless_kept() -> None:
    doc = a2i_output("l", "p", ["a", "b", "c"], [("w", notebook_answer([1, 1, 2]))])
    item = item_of(doc)
    assert texts(item, annotator_pairs(item)) == {("a", "c", False), ("b", "c", False)}
    kept = annotator_pairs(item, keep_ties=True)
    assert texts(item, kept) == {("a", "c", False), ("b", "c", False), ("a", "b", True)}


def test_ranks_compare_as_numbers_not_text() -> None:
    doc = a2i_output("l", "p", ["a", "b"], [("w", {"score_1": "10", "score_2": "9"})])
    item = item_of(doc, '{"field": "score_{i}", "range": [1, 10]}')
    # As text "10" < "9"; as numbers 9 is the better (lower) rank.
    assert texts(item, annotator_pairs(item)) == {("b", "a", False)}


def test_invalid_answers_give_no_pairs_and_keep_their_reason() -> None:
    doc = a2i_output(
        "l",
        "p",
        ["a", "b", "c"],
        [
            ("w1", notebook_answer([1, 2])),
            ("w2", notebook_answer([1, "x", 3])),
            ("w3", notebook_answer([1, 2, 9])),
        ],
    )
    item = item_of(doc)
    assert annotator_pairs(item) == []
    assert [j.reason for j in item.judgements] == [
        "missing response_3_ranking",
        'response_2_ranking is not a number: "x"',
        "response_3_ranking=9 is outside 1..3",
    ]


def test_mean_rank_aggregation_has_margin_and_agreement() -> None:
    answers = [
        ("w1", notebook_answer([1, 2, 3])),
        ("w2", notebook_answer([1, 3, 2])),
        ("w3", notebook_answer([2, 1, 3])),
    ]
    item = item_of(a2i_output("l", "p", ["a", "b", "c"], answers))
    pairs = {(p.chosen, p.rejected): p for p in aggregated_pairs(item, method="mean-rank")}
    assert set(pairs) == {(0, 1), (0, 2), (1, 2)}
    assert math.isclose(pairs[(0, 1)].margin or 0, 2.0 - 4 / 3)
    assert math.isclose(pairs[(0, 1)].agreement or 0, 2 / 3)
    assert math.isclose(pairs[(1, 2)].agreement or 0, 2 / 3)
    assert all(p.annotators == 3 and p.worker_id is None for p in pairs.values())
    bt = {(p.chosen, p.rejected) for p in aggregated_pairs(item, method="bradley-terry")}
    assert bt == set(pairs)


def test_aggregated_tie_is_dropped_or_kept() -> None:
    answers = [("w1", notebook_answer([1, 2])), ("w2", notebook_answer([2, 1]))]
    item = item_of(a2i_output("l", "p", ["a", "b"], answers))
    assert aggregated_pairs(item) == []
    (tie,) = aggregated_pairs(item, keep_ties=True)
    assert tie.tie and tie.agreement == 0.0


def test_bradley_terry_matches_the_closed_form_for_two_items() -> None:
    wins = np.array([[0.0, 3.0], [1.0, 0.0]])
    logs = bradley_terry(wins, prior=0.0)
    assert math.isclose(logs[0] - logs[1], math.log(3), rel_tol=1e-6)


def test_bradley_terry_prior_keeps_an_unbeaten_item_finite() -> None:
    wins = np.array([[0.0, 2.0, 2.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    logs = bradley_terry(wins)
    assert np.all(np.isfinite(logs)) and logs[0] > logs[1] and math.isclose(logs[1], logs[2])


# -- properties -------------------------------------------------------------------------

rankings = st.integers(min_value=2, max_value=5).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(
            st.lists(st.integers(min_value=1, max_value=n), min_size=n, max_size=n),
            min_size=1,
            max_size=4,
        ),
    )
)


def build(index: int, n: int, marks: list[list[int]]) -> RankedItem:
    responses = [f"item{index}-response{i}" for i in range(n)]
    answers = [(f"w{k}", notebook_answer(ranks)) for k, ranks in enumerate(marks)]
    return item_of(a2i_output(f"loop-{index}", f"prompt {index}", responses, answers))


@settings(max_examples=150, deadline=None)
@given(st.lists(rankings, min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_pair_properties(items: list[tuple[int, list[list[int]]]], rnd) -> None:  # type: ignore[no-untyped-def]
    built = [build(i, n, marks) for i, (n, marks) in enumerate(items)]
    all_rows: Counter[tuple[str, str, str, str | None]] = Counter()
    for item, (n, marks) in zip(built, items, strict=True):
        pairs = annotator_pairs(item)
        ties = sum(
            1 for ranks in marks for i in range(n) for j in range(i + 1, n) if ranks[i] == ranks[j]
        )
        assert len(pairs) == len(marks) * math.comb(n, 2) - ties
        seen = set()
        for p in pairs:
            # Antisymmetry: one annotator never prefers both ways, nor a response to itself.
            assert p.chosen != p.rejected
            assert (p.worker_id, p.rejected, p.chosen) not in seen
            seen.add((p.worker_id, p.chosen, p.rejected))
            # Ranks compared as numbers: chosen has the strictly lower rank.
            ranks = marks[int((p.worker_id or "w0")[1:])]
            assert ranks[p.chosen] < ranks[p.rejected]
            # No cross-prompt pairs: both texts belong to this item's prompt.
            assert item.responses[p.chosen].startswith(f"item{item.loop[5:]}-")
            assert item.responses[p.rejected].startswith(f"item{item.loop[5:]}-")
            all_rows[
                (item.prompt, item.responses[p.chosen], item.responses[p.rejected], p.worker_id)
            ] += 1

    # Invariance to input order: shuffle items, annotators and the responses' order.
    shuffled_rows: Counter[tuple[str, str, str, str | None]] = Counter()
    order = list(range(len(items)))
    rnd.shuffle(order)
    for index in order:
        n, marks = items[index]
        perm = list(range(n))
        rnd.shuffle(perm)
        workers = list(enumerate(marks))
        rnd.shuffle(workers)
        responses = [f"item{index}-response{perm[i]}" for i in range(n)]
        answers = [
            (f"w{k}", notebook_answer([ranks[perm[i]] for i in range(n)])) for k, ranks in workers
        ]
        item = item_of(a2i_output(f"loop-{index}", f"prompt {index}", responses, answers))
        for p in annotator_pairs(item):
            shuffled_rows[
                (item.prompt, item.responses[p.chosen], item.responses[p.rejected], p.worker_id)
            ] += 1
    assert shuffled_rows == all_rows


def test_bradley_terry_in_batches_matches_one_at_a_time() -> None:
    items = [
        item_of(
            a2i_output(
                f"l{k}",
                f"p{k}",
                [f"r{i}" for i in range(n)],
                [
                    (f"w{w}", notebook_answer([(i + w + k) % n + 1 for i in range(n)]))
                    for w in range(3)
                ],
            )
        )
        for k, n in enumerate([3, 2, 3, 4, 2])
    ]
    batched = bradley_terry_scores(items)
    for item, scores in zip(items, batched, strict=True):
        (alone,) = bradley_terry_scores([item])
        assert np.allclose(scores, alone, atol=1e-6)
        assert aggregated_pairs(item, method="bradley-terry") == aggregated_pairs(
            item, scores=scores
        )


@settings(max_examples=100, deadline=None)
@given(rankings, st.sampled_from(["mean-rank", "bradley-terry"]), st.booleans())
def test_aggregated_pair_properties(
    ranked: tuple[int, list[list[int]]], method: str, keep_ties: bool
) -> None:
    n, marks = ranked
    item = build(0, n, marks)
    pairs = aggregated_pairs(item, method=method, keep_ties=keep_ties)  # type: ignore[arg-type]
    seen = {frozenset((p.chosen, p.rejected)) for p in pairs}
    assert len(seen) == len(pairs) <= math.comb(n, 2)  # one row per response pair at most
    if keep_ties:
        assert len(pairs) == math.comb(n, 2)
    means = [sum(m[i] for m in marks) / len(marks) for i in range(n)]
    for p in pairs:
        assert p.annotators == len(marks) and p.worker_id is None
        assert 0.0 <= (p.agreement or 0.0) <= 1.0 and (p.margin or 0.0) >= 0.0
        if not p.tie and method == "mean-rank":
            assert means[p.chosen] < means[p.rejected]
        if p.tie:
            assert p.margin == 0.0
    if all(m == marks[0] for m in marks) and len(set(marks[0])) == n:
        # Unanimous strict rankings: every method keeps that order, with full agreement.
        assert len(pairs) == math.comb(n, 2)
        assert all(marks[0][p.chosen] < marks[0][p.rejected] and p.agreement == 1.0 for p in pairs)
