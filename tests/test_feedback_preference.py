"""handloop's preference elements, exported without a mapping: every kind, ids against
the shown order, position bias from shownOrder, the margin column, SFT rows from edits."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from handloop.feedback.export import ExportOptions, run_export
from handloop.feedback.mappings import load_mapping
from handloop.feedback.output_files import parse_output
from handloop.feedback.pairs import aggregated_pairs, annotator_pairs
from handloop.feedback.problems import ExportInputError
from handloop.feedback.rankings import RankedItem, rank_item
from handloop.feedback.sources import FolderSource
from handloop.feedback.stats import StatsCollector
from tests.fixtures.feedback.builders import a2i_output, notebook_answer, write_outputs
from tests.support import run_cli

# -- builders: the answers the worker UI's elements write --------------------------------


def choice(
    shown: list[str],
    chosen: str | None,
    outcome: str = "chosen",
    strength: int | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "kind": "comparison-choice",
        "shownOrder": shown,
        "outcome": outcome,
        "chosen": chosen,
    }
    if strength is not None:
        value["strength"] = {"value": strength, "label": f"level {strength}"}
    if reason is not None:
        value["reason"] = reason
    return value


def ranking(shown: list[str], ranks: dict[str, Any], allow_ties: bool = False) -> dict[str, Any]:
    return {"kind": "comparison-rank", "shownOrder": shown, "ranks": ranks, "allowTies": allow_ties}


def likert_pair(shown: list[str], preferred: str | None, margin: int) -> dict[str, Any]:
    return {
        "kind": "comparison-likert",
        "shownOrder": shown,
        "preferred": preferred,
        "margin": margin,
        "label": "whatever the scale says",
    }


def likert(shown: list[str], ratings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "kind": "likert",
        "shownOrder": shown,
        "scale": {"min": 1, "max": 5},
        "criteria": list(ratings),
        "ratings": ratings,
    }


def thumbs(shown: list[str], given: dict[str, str]) -> dict[str, Any]:
    return {"kind": "thumbs", "shownOrder": shown, "thumbs": given, "reasons": {}}


def edit(shown: list[str], response_id: str, edited: str, changed: bool = True) -> dict[str, Any]:
    return {
        "kind": "response-edit",
        "shownOrder": shown,
        "responseId": response_id,
        "edited": edited,
        "changed": changed,
    }


def output(
    loop: str,
    input_content: dict[str, Any],
    answers: list[tuple[str, dict[str, Any]]],
) -> dict[str, Any]:
    """An output file whose answers hold element values (under the element's name)."""
    doc = a2i_output(loop, "", [], [(worker, content) for worker, content in answers])
    doc["inputContent"] = input_content
    return doc


def simple(loop: str, responses: list[Any], *answers: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """A loop at the preference built-in's paths, each answer one element named "pref"."""
    return output(
        loop,
        {"prompt": f"prompt of {loop}", "responses": responses},
        [(worker, {"pref": value}) for worker, value in answers],
    )


def item_of(doc: dict[str, Any], mapping: str = "auto") -> RankedItem:
    return rank_item(parse_output(json.dumps(doc), "test"), load_mapping(mapping))


def pair_texts(item: RankedItem, *, keep_ties: bool = False) -> list[tuple[str, str, bool]]:
    texts = item.responses + tuple(e.text for e in item.edits)
    return [
        (texts[p.chosen], texts[p.rejected], p.tie)
        for p in annotator_pairs(item, keep_ties=keep_ties)
    ]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def export_rows(
    tmp_path: Path, docs: list[dict[str, Any]], mapping: str = "auto", **options: Any
) -> list[dict[str, Any]]:
    """The rows of an export to JSON Lines, in loop order (one split)."""
    src = write_outputs(tmp_path / "outputs", docs)
    out = tmp_path / "rows.jsonl"
    options.setdefault("test_size", 0.0)
    run_export(FolderSource(src), load_mapping(mapping), out, ExportOptions(**options))
    return read_jsonl(out)


AB = ["A", "B"]
ABC = ["A", "B", "C"]


# -- every kind --------------------------------------------------------------------------


def test_choice_chosen_beats_every_other_response() -> None:
    item = item_of(simple("l", ABC, ("w", choice(["2", "0", "1"], "1", strength=2))))
    (judgement,) = item.judgements
    assert judgement.ranks == (2.0, 1.0, 2.0) and judgement.reason is None
    assert judgement.shown_order == (2, 0, 1)
    assert pair_texts(item) == [("B", "A", False), ("B", "C", False)]
    assert [p.margin for p in annotator_pairs(item)] == [2.0, 2.0]


def test_choice_without_strength_has_no_margin() -> None:
    item = item_of(simple("l", AB, ("w", choice(["0", "1"], "0"))))
    assert [(p.chosen, p.rejected, p.margin) for p in annotator_pairs(item)] == [(0, 1, None)]


@pytest.mark.parametrize("outcome", ["tie", "both-bad"])
def test_choice_tie_and_both_bad_give_no_pair_unless_ties_are_kept(outcome: str) -> None:
    item = item_of(simple("l", ABC, ("w", choice(["0", "1", "2"], None, outcome=outcome))))
    assert item.judgements[0].ranks == (1.0, 1.0, 1.0)
    assert pair_texts(item) == []
    assert pair_texts(item, keep_ties=True) == [
        ("A", "B", True),
        ("A", "C", True),
        ("B", "C", True),
    ]


def test_comparison_rank() -> None:
    item = item_of(
        simple("l", ABC, ("w", ranking(["1", "2", "0"], {"0": 2, "1": 1, "2": 3}))),
    )
    assert item.judgements[0].ranks == (2.0, 1.0, 3.0)
    assert item.judgements[0].shown_order == (1, 2, 0)
    assert sorted(pair_texts(item)) == [("A", "C", False), ("B", "A", False), ("B", "C", False)]
    assert {p.margin for p in annotator_pairs(item)} == {None}
    tied = item_of(
        simple("l", ABC, ("w", ranking(["0", "1", "2"], {"0": 1, "1": 1, "2": 2}, True)))
    )
    assert sorted(pair_texts(tied)) == [("A", "C", False), ("B", "C", False)]


def test_comparison_likert() -> None:
    strong = item_of(simple("l", AB, ("w", likert_pair(["1", "0"], "1", 2))))
    assert [(p.chosen, p.rejected, p.margin) for p in annotator_pairs(strong)] == [(1, 0, 2.0)]
    same = item_of(simple("l", AB, ("w", likert_pair(["1", "0"], None, 0))))
    assert annotator_pairs(same) == []
    assert [(p.tie, p.margin) for p in annotator_pairs(same, keep_ties=True)] == [(True, 0.0)]
    zero = item_of(simple("l", AB, ("w", likert_pair(["1", "0"], "0", 0))))
    assert annotator_pairs(zero) == []


def test_likert_pairs_by_rating_with_the_rating_difference_as_margin() -> None:
    ratings = {
        "helpfulness": {"0": 4, "1": 2, "2": 4},
        "harmlessness": {"0": 1, "1": 5, "2": 3},
    }
    item = item_of(simple("l", ABC, ("w", likert(["0", "1", "2"], ratings))))
    pairs = annotator_pairs(item)
    assert [(p.chosen, p.rejected, p.margin) for p in pairs] == [(0, 1, 2.0), (2, 1, 2.0)]
    kept = annotator_pairs(item, keep_ties=True)
    assert [(p.chosen, p.rejected, p.tie, p.margin) for p in kept if p.tie] == [(0, 2, True, 0.0)]
    # The mapping's dimension picks the criterion.
    harmless = item_of(
        simple("l", ABC, ("w", likert(["0", "1", "2"], ratings))),
        '{"base": "preference", "dimension": "harmlessness"}',
    )
    assert [(p.chosen, p.rejected, p.margin) for p in annotator_pairs(harmless)] == [
        (1, 0, 4.0),
        (2, 0, 2.0),
        (1, 2, 2.0),
    ]


def test_thumbs_up_beats_down() -> None:
    item = item_of(
        simple("l", ABC, ("w", thumbs(["0", "1", "2"], {"0": "up", "1": "down", "2": "up"})))
    )
    assert sorted(pair_texts(item)) == [("A", "B", False), ("C", "B", False)]
    assert {p.margin for p in annotator_pairs(item)} == {1.0}


def test_response_edit_gives_the_edited_over_the_original() -> None:
    item = item_of(simple("l", AB, ("w", edit(["1", "0"], "1", "B, but better"))))
    assert item.judgements[0].ranks is None and item.judgements[0].reason is None
    assert pair_texts(item) == [("B, but better", "B", False)]
    assert annotator_pairs(item)[0].worker_id == "w"
    (agg,) = aggregated_pairs(item)
    assert (agg.annotators, agg.agreement, agg.margin, agg.worker_id) == (1, 1.0, 0.0, None)
    unchanged = item_of(simple("l", AB, ("w", edit(["1", "0"], "1", "B", changed=False))))
    assert unchanged.edits == () and annotator_pairs(unchanged) == []
    stats = StatsCollector()
    stats.add(item)
    stats.add(unchanged)
    summary = stats.summary()
    assert (summary["valid_answers"], summary["edit_answers"]) == (2, 2)
    assert summary["position_bias"]["first_shown_best_rate"] is None  # nothing was ranked


def test_mapping_rank_reads_element_answers_with_index_ids() -> None:
    mapping = load_mapping("preference")
    answer = {"pick": choice(["1", "0", "2"], "2")}
    assert mapping.rank(answer, 3) == ((2.0, 2.0, 1.0), None)
    assert mapping.matches(answer, 3)
    assert mapping.rank({"other": "x"}, 3) == (None, "no preference-element answer")
    # auto reads the same answer as preference, and a notebook answer as notebook
    auto = load_mapping("auto")
    assert auto.rank(answer, 3) == ((2.0, 2.0, 1.0), None)
    assert auto.rank(notebook_answer([2, 1, 3]), 3) == ((2.0, 1.0, 3.0), None)


# -- ids, not positions ------------------------------------------------------------------


def test_workers_who_saw_different_orders_and_chose_the_same_response_give_the_same_pair() -> None:
    responses = [
        {"id": "alpha", "text": "first text"},
        {"id": "beta", "content": "second text"},
    ]
    item = item_of(
        simple(
            "l",
            responses,
            ("w1", choice(["alpha", "beta"], "beta")),
            ("w2", choice(["beta", "alpha"], "beta")),
        )
    )
    assert item.responses == ("first text", "second text")
    assert [j.shown_order for j in item.judgements] == [(0, 1), (1, 0)]
    assert pair_texts(item) == [
        ("second text", "first text", False),
        ("second text", "first text", False),
    ]


def test_object_responses_with_missing_or_repeated_ids_use_indices() -> None:
    repeated = [{"id": 7, "response": "x"}, {"id": 7, "response": "y"}]
    item = item_of(simple("l", repeated, ("w", choice(["1", "0"], "0"))))
    assert item.responses == ("x", "y")
    assert pair_texts(item) == [("x", "y", False)]
    numbered = [{"id": 7, "model": "m1"}, {"id": 8, "model": "m2"}]
    item = item_of(simple("l", numbered, ("w", choice(["8", "7"], "8"))))
    assert item.responses == ('{"id": 7, "model": "m1"}', '{"id": 8, "model": "m2"}')
    assert [(p.chosen, p.rejected) for p in annotator_pairs(item)] == [(1, 0)]


def test_position_bias_uses_the_recorded_shown_order(tmp_path: Path) -> None:
    rnd = random.Random(20261202)
    docs = []
    for k in range(200):
        responses = [f"plain {k}", f"MARKED {k}"]
        rnd.shuffle(responses)
        marked = str(next(i for i, r in enumerate(responses) if "MARKED" in r))
        shown = ["0", "1"]
        rnd.shuffle(shown)
        docs.append(simple(f"loop-{k}", responses, ("w", choice(shown, marked))))
    src = write_outputs(tmp_path / "outputs", docs)
    out = tmp_path / "rows.jsonl"
    result = run_export(FolderSource(src), load_mapping("auto"), out, ExportOptions())
    rows = read_jsonl(out)
    assert len(rows) == 200
    assert all(r["chosen"].startswith("MARKED") for r in rows)
    assert all(r["rejected"].startswith("plain") for r in rows)
    bias = result.stats.summary()["position_bias"]
    assert 0.4 <= bias["first_shown_pair_win_rate"] <= 0.6
    assert 0.4 <= bias["best_rate_by_position"]["1"] <= 0.6
    # Without the shown order the same data would look like a perfect bias for whichever
    # response was listed first half the time: the figure must come from shownOrder.
    first_listed = sum(1 for d in docs if "MARKED" in d["inputContent"]["responses"][0])
    shown_first = sum(
        1
        for d in docs
        if d["humanAnswers"][0]["answerContent"]["pref"]["shownOrder"][0]
        == d["humanAnswers"][0]["answerContent"]["pref"]["chosen"]
    )
    assert bias["first_shown_pair_win_rate"] == round(shown_first / 200, 4)
    assert first_listed != shown_first  # the seed makes the two counts differ


# -- finding the responses and the prompt ------------------------------------------------


def test_custom_paths_as_a_mapping() -> None:
    doc = output(
        "l",
        {
            "taskObject": {
                "question": "Which is kinder?",
                "candidates": [{"id": "x", "text": "Go away."}, {"id": "y", "text": "Hello!"}],
            }
        },
        [("w", {"pick": choice(["x", "y"], "y")})],
    )
    mapping = json.dumps(
        {
            "base": "preference",
            "responses": "inputContent.taskObject.candidates",
            "response_text": "text",
            "prompt": "inputContent.taskObject.question",
        }
    )
    item = item_of(doc, mapping)
    assert item.problem is None
    assert item.prompt == "Which is kinder?"
    assert pair_texts(item) == [("Hello!", "Go away.", False)]


def test_responses_are_found_when_the_path_leads_elsewhere() -> None:
    doc = output(
        "l",
        {
            "meta": {"tags": ["t1", "t2", "t3"]},
            "task": {
                "instruction": "Summarise the memo.",
                "options": [{"id": "m1", "text": "Short."}, {"id": "m2", "text": "Long."}],
                "responses": [{"id": "r1", "text": "One."}, {"id": "r2", "text": "Two."}],
            },
        },
        [("w", {"pick": choice(["r2", "r1"], "r2")})],
    )
    item = item_of(doc)  # the built-in looks at inputContent.responses: not there
    assert item.problem is None
    assert item.responses == ("One.", "Two.")
    assert item.prompt == "Summarise the memo."  # the sibling key
    assert pair_texts(item) == [("Two.", "One.", False)]
    # A list under another name is taken when its ids are the shown ones.
    doc["humanAnswers"][0]["answerContent"]["pick"] = choice(["m1", "m2"], "m1")
    item = item_of(doc)
    assert item.responses == ("Short.", "Long.")
    # The configured path wins when its ids match, even with a "responses" key elsewhere.
    by_path = item_of(doc, '{"base": "preference", "responses": "inputContent.task.options"}')
    assert by_path.responses == ("Short.", "Long.")


def test_a_list_named_responses_wins_over_an_earlier_list_with_the_same_ids() -> None:
    doc = output(
        "l",
        {
            "tags": ["news", "sport"],  # text items: ids "0", "1", like the responses'
            "task": {"query": "Which headline?", "responses": ["Rain today.", "Sun today."]},
        },
        [("w", {"pick": choice(["1", "0"], "1")})],
    )
    item = item_of(doc)
    assert (item.prompt, item.responses) == ("Which headline?", ("Rain today.", "Sun today."))
    assert pair_texts(item) == [("Sun today.", "Rain today.", False)]


def test_no_list_with_the_shown_ids_makes_the_loop_unusable() -> None:
    doc = simple("l", AB, ("w", choice(["p", "q"], "p")))
    item = item_of(doc)
    assert item.problem == "no responses in the input with the ids the answers show: p, q"
    no_prompt = output("l", {"responses": AB}, [("w", {"x": choice(["0", "1"], "0")})])
    assert item_of(no_prompt).problem == (
        "no prompt at inputContent.prompt or beside the responses"
    )


def test_a_conversation_is_the_prompt(tmp_path: Path) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
    ]
    doc = output(
        "l",
        {"messages": messages, "responses": ["Paris.", "Lyon."]},
        [("w", {"pick": choice(["1", "0"], "0")})],
    )
    item = item_of(doc)
    assert item.prompt == "system: Be brief.\n\nuser: Capital of France?"
    (chat,) = export_rows(tmp_path / "chat", [doc], conversational=True)
    assert chat["prompt"] == messages
    assert chat["chosen"] == [{"role": "assistant", "content": "Paris."}]
    assert chat["rejected"] == [{"role": "assistant", "content": "Lyon."}]
    (plain,) = export_rows(tmp_path / "plain", [doc])
    assert plain["prompt"] == "system: Be brief.\n\nuser: Capital of France?"


def test_conversational_rows_mix_conversations_and_text_prompts(tmp_path: Path) -> None:
    talk = [{"role": "user", "content": "Hi?"}]
    docs = [
        output(
            "a", {"conversation": talk, "responses": AB}, [("w", {"p": choice(["0", "1"], "0")})]
        ),
        simple("b", AB, ("w", choice(["0", "1"], "1"))),
    ]
    rows = export_rows(tmp_path, docs, conversational=True)
    assert [r["prompt"] for r in rows] == [talk, [{"role": "user", "content": "prompt of b"}]]


def test_the_first_element_answer_is_read_unless_the_mapping_names_one() -> None:
    doc = output(
        "l",
        {"prompt": "p", "responses": AB},
        [
            (
                "w",
                {
                    "comment": "nice",
                    "first": choice(["0", "1"], "0"),
                    "second": choice(["0", "1"], "1"),
                },
            )
        ],
    )
    assert item_of(doc).judgements[0].ranks == (1.0, 2.0)
    named = item_of(doc, '{"base": "preference", "field": "second"}')
    assert named.judgements[0].ranks == (2.0, 1.0)
    missing = item_of(doc, '{"base": "preference", "field": "third"}')
    assert missing.judgements[0].reason == "no preference-element answer named third"
    assert not missing.judgements[0].matched


# -- malformed answers ---------------------------------------------------------------------

MALFORMED = [
    (
        "unknown chosen",
        AB,
        choice(["0", "1"], "7"),
        'comparison-choice chosen is not a shown response: "7"',
    ),
    (
        "bad outcome",
        AB,
        {**choice(["0", "1"], "0"), "outcome": "maybe"},
        'comparison-choice outcome is not chosen, tie or both-bad: "maybe"',
    ),
    (
        "strength out of range",
        AB,
        choice(["0", "1"], "0", strength=9),
        'comparison-choice strength is not a value 0..3: {"value": 9, "label": "level 9"}',
    ),
    (
        "shown order repeats",
        AB,
        choice(["0", "0"], "0"),
        "comparison-choice shownOrder repeats a response",
    ),
    (
        "shown order of objects",
        AB,
        choice([{"id": 0}, "1"], "0"),  # type: ignore[list-item]
        "comparison-choice shownOrder holds a value that is not an id",
    ),
    (
        "rank not whole",
        ABC,
        ranking(["0", "1", "2"], {"0": 1, "1": 2.5, "2": 3}),
        "comparison-rank rank is not a whole number: 2.5",
    ),
    (
        "rank as text",
        ABC,
        ranking(["0", "1", "2"], {"0": 1, "1": "2", "2": 3}),
        'comparison-rank rank is not a whole number: "2"',
    ),
    (
        "rank missing",
        ABC,
        ranking(["0", "1", "2"], {"0": 1, "1": 2}),
        'comparison-rank has no rank for response "2"',
    ),
    (
        "rank of an unknown id",
        AB,
        ranking(["0", "1"], {"0": 1, "1": 2, "9": 3}),
        'comparison-rank ranks a response that is not shown: "9"',
    ),
    (
        "rank outside",
        AB,
        ranking(["0", "1"], {"0": 1, "1": 3}),
        "comparison-rank rank is outside 1..2: 3",
    ),
    (
        "rank ties not allowed",
        ABC,
        ranking(["0", "1", "2"], {"0": 1, "1": 1, "2": 2}),
        "comparison-rank ranks are not a permutation of 1..3",
    ),
    (
        "likert pair of three",
        ABC,
        likert_pair(["0", "1", "2"], "0", 1),
        "comparison-likert compares two responses, not 3",
    ),
    (
        "likert pair margin",
        AB,
        likert_pair(["0", "1"], "0", 5),
        "comparison-likert margin is not 0, 1 or 2: 5",
    ),
    (
        "likert rating missing",
        AB,
        likert(["0", "1"], {"helpfulness": {"0": 4}}),
        'likert has no rating for response "1"',
    ),
    (
        "likert rating outside the scale",
        AB,
        likert(["0", "1"], {"helpfulness": {"0": 4, "1": 6}}),
        "likert rating is outside the scale: 6",
    ),
    (
        "likert rating not a number",
        AB,
        likert(["0", "1"], {"helpfulness": {"0": 4, "1": None}}),
        "likert rating is not a number: null",
    ),
    (
        "thumbs missing",
        AB,
        thumbs(["0", "1"], {"0": "up"}),
        'thumbs response "1" is not up or down: null',
    ),
    (
        "edit of an unknown response",
        AB,
        edit(["0", "1"], "4", "text"),
        'response-edit responseId is not a shown response: "4"',
    ),
    (
        "edit not text",
        AB,
        {**edit(["0", "1"], "0", "x"), "edited": 3},
        "response-edit edited is not text",
    ),
]


@pytest.mark.parametrize(
    ("responses", "value", "reason"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_answers_are_invalid_with_a_reason(
    responses: list[str], value: dict[str, Any], reason: str
) -> None:
    item = item_of(simple("l", responses, ("w", value)))
    assert item.problem is None
    (judgement,) = item.judgements
    assert (judgement.ranks, judgement.reason, judgement.matched) == (None, reason, True)
    assert item.edits == () and annotator_pairs(item) == []


def test_an_answer_showing_other_ids_is_invalid_beside_answers_that_match() -> None:
    doc = simple(
        "l",
        ABC,
        ("w1", choice(["0", "1", "2"], "0")),
        ("w2", choice(["0", "1", "5"], "0")),
    )
    item = item_of(doc)
    assert item.problem is None
    assert [j.reason for j in item.judgements] == [
        None,
        'comparison-choice shownOrder does not match the responses: "0", "1", "5"',
    ]


def test_values_that_only_look_like_elements_are_not_read_as_elements() -> None:
    answers = [
        {"kind": ["comparison-choice"], "shownOrder": ["0", "1"]},  # a kind that is a list
        {"kind": "comparison-choice", "shownOrder": "0,1"},  # no shownOrder list
        {"kind": "star-rating", "shownOrder": ["0", "1"]},  # not a preference element
    ]
    doc = simple("l", AB, *[(f"w{k}", value) for k, value in enumerate(answers)])
    item = item_of(doc, "preference")
    assert [j.reason for j in item.judgements] == ["no preference-element answer"] * 3
    assert not any(j.matched for j in item.judgements)
    # auto reads such a loop as notebook, whose prompt path is not in this input
    assert item_of(doc).problem == "no prompt at inputContent.taskObject"


def test_an_answer_without_an_element_is_invalid_beside_valid_ones() -> None:
    doc = simple("l", AB, ("w1", choice(["0", "1"], "1")))
    doc["humanAnswers"].append({**doc["humanAnswers"][0], "workerId": "w2", "answerContent": {}})
    item = item_of(doc)
    assert [j.reason for j in item.judgements] == [None, "no preference-element answer"]
    assert [j.matched for j in item.judgements] == [True, False]


# -- the export ----------------------------------------------------------------------------


def test_margin_column_for_answers_that_say_how_much(tmp_path: Path) -> None:
    docs = [
        simple("a", AB, ("w1", likert_pair(["0", "1"], "1", 2))),
        simple("b", AB, ("w1", choice(["1", "0"], "0", strength=3))),
        simple("c", AB, ("w2", choice(["1", "0"], "0"))),  # no strength: 0.0
        simple("d", ABC, ("w2", likert(["0", "1", "2"], {"h": {"0": 5, "1": 2, "2": 4}}))),
        simple("e", AB, ("w3", edit(["0", "1"], "0", "A+"))),
    ]
    rows = export_rows(tmp_path, docs, format="reward")
    got = [(r["human_loop_name"], r["chosen"], r["rejected"], r["margin"]) for r in rows]
    assert got == [
        ("a", "B", "A", 2.0),
        ("b", "A", "B", 3.0),
        ("c", "A", "B", 0.0),
        ("d", "A", "B", 3.0),
        ("d", "A", "C", 1.0),
        ("d", "C", "B", 2.0),
        ("e", "A+", "A", 0.0),
    ]
    assert list(rows[0]) == [
        "prompt",
        "chosen",
        "rejected",
        "reward_chosen",
        "reward_rejected",
        "human_loop_name",
        "worker_id",
        "margin",
    ]


def test_the_first_file_with_answers_decides_the_margin_column(tmp_path: Path) -> None:
    ranked_first = [
        simple("a", AB, ("w", ranking(["0", "1"], {"0": 2, "1": 1}))),
        simple("b", AB, ("w", likert_pair(["0", "1"], "1", 2))),
    ]
    rows = export_rows(tmp_path / "ranked", ranked_first)
    assert len(rows) == 2 and all("margin" not in r for r in rows)
    empty_first = [output("a", {"prompt": "p", "responses": AB}, []), *ranked_first[1:]]
    (row,) = export_rows(tmp_path / "empty", empty_first)
    assert row["margin"] == 2.0
    # Notebook answers (read by auto) never get the column; aggregated keeps its own.
    notebook = [a2i_output("n", "p", AB, [("w", notebook_answer([2, 1]))])]
    (row,) = export_rows(tmp_path / "notebook", notebook)
    assert "margin" not in row and row["chosen"] == "B"
    (row,) = export_rows(tmp_path / "agg", ranked_first[1:], pairs="aggregated")
    assert (row["margin"], row["agreement"], row["annotators"]) == (1.0, 1.0, 1)


def test_sft_rows_from_changed_edits(tmp_path: Path) -> None:
    docs = [
        simple(
            "a",
            AB,
            ("w1", edit(["0", "1"], "1", "B, polished")),
            ("w2", edit(["1", "0"], "0", "A", changed=False)),
            ("w3", choice(["0", "1"], "0")),
        ),
    ]
    rows = export_rows(tmp_path / "sft", docs, format="sft")
    assert rows == [
        {
            "prompt": "prompt of a",
            "completion": "B, polished",
            "human_loop_name": "a",
            "worker_id": "w1",
        }
    ]
    (chat,) = export_rows(tmp_path / "chat", docs, format="sft", conversational=True)
    assert chat["messages"] == [
        {"role": "user", "content": "prompt of a"},
        {"role": "assistant", "content": "B, polished"},
    ]
    pairs = export_rows(tmp_path / "trl", docs)
    assert [(r["chosen"], r["rejected"], r["worker_id"]) for r in pairs] == [
        ("A", "B", "w3"),
        ("B, polished", "B", "w1"),
    ]
    notebook = export_rows(tmp_path / "notebook", docs, format="notebook")
    assert [
        (r["completion_Yj"], r["completion_Yk"], r["reward_Yj"], r["reward_Yk"]) for r in notebook
    ] == [("A", "B", 1.0, 0.0), ("B", "B, polished", 0.0, 1.0)]
    aggregated = export_rows(tmp_path / "agg", docs, pairs="aggregated")
    assert [
        (r["chosen"], r["rejected"], r["annotators"], r["agreement"], r["margin"])
        for r in aggregated
    ] == [("A", "B", 1, 1.0, 1.0), ("B, polished", "B", 1, 1.0, 0.0)]


def test_sft_of_a_conversation_prompt(tmp_path: Path) -> None:
    talk = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    doc = output(
        "l", {"messages": talk, "responses": AB}, [("w", {"e": edit(["0", "1"], "0", "A2")})]
    )
    (row,) = export_rows(tmp_path / "chat", [doc], format="sft", conversational=True)
    assert row["messages"] == [*talk, {"role": "assistant", "content": "A2"}]
    (row,) = export_rows(tmp_path / "text", [doc], format="sft")
    assert (row["prompt"], row["completion"]) == ("system: S\n\nuser: U", "A2")


def test_sft_without_edits_is_an_error(tmp_path: Path) -> None:
    src = write_outputs(tmp_path / "outputs", [simple("a", AB, ("w", choice(["0", "1"], "0")))])
    out = tmp_path / "sft.jsonl"
    with pytest.raises(ExportInputError, match="no response-edit answers were found"):
        run_export(FolderSource(src), load_mapping("auto"), out, ExportOptions(format="sft"))
    assert not out.exists()


def test_auto_reads_notebook_answers_as_the_notebook_mapping_does(tmp_path: Path) -> None:
    docs = [
        a2i_output(f"n{k}", f"p{k}", ABC, [("w", notebook_answer([k % 3 + 1, 1, 3]))])
        for k in range(6)
    ]
    src = write_outputs(tmp_path / "outputs", docs)
    auto = run_export(
        FolderSource(src), load_mapping("auto"), tmp_path / "auto.parquet", ExportOptions()
    )
    notebook = run_export(
        FolderSource(src), load_mapping("notebook"), tmp_path / "nb.parquet", ExportOptions()
    )
    assert pq.read_table(tmp_path / "auto.parquet").equals(pq.read_table(tmp_path / "nb.parquet"))
    assert auto.stats.summary() == notebook.stats.summary()
    assert auto.total_rows > 0


def test_a_mixed_export_reads_each_loop_its_own_way(tmp_path: Path) -> None:
    docs = [
        a2i_output("n", "notebook prompt", AB, [("w", notebook_answer([2, 1]))]),
        simple("p", AB, ("w", choice(["1", "0"], "0"))),
    ]
    rows = export_rows(tmp_path, docs)
    assert [(r["prompt"], r["chosen"]) for r in rows] == [
        ("notebook prompt", "B"),
        ("prompt of p", "A"),
    ]


def test_worker_processes_give_the_same_rows(tmp_path: Path) -> None:
    docs = [
        simple(
            f"l{k}", ABC, ("w", likert(["2", "1", "0"], {"h": {"0": k % 5 + 1, "1": 3, "2": 1}}))
        )
        for k in range(12)
    ]
    src = write_outputs(tmp_path / "outputs", docs)
    mapping = load_mapping("auto")
    one = tmp_path / "one.parquet"
    two = tmp_path / "two.parquet"
    run_export(FolderSource(src), mapping, one, ExportOptions(chunk_size=5))
    run_export(FolderSource(src), mapping, two, ExportOptions(chunk_size=5, jobs=2))
    assert pq.read_table(one).equals(pq.read_table(two))
    assert "margin" in pq.read_table(one).column_names


def test_base_auto_is_refused() -> None:
    with pytest.raises(ExportInputError, match="base 'auto' picks a mapping per loop"):
        load_mapping('{"base": "auto", "field": "x"}')
    assert load_mapping('{"kind": "preference"}').responses == "inputContent.responses"


def test_cli_without_mapping_reads_elements(tmp_path: Path) -> None:
    docs = [
        simple("a", AB, ("w1", choice(["1", "0"], "1", strength=1))),
        simple("b", AB, ("w2", thumbs(["0", "1"], {"0": "down", "1": "up"}))),
    ]
    src = write_outputs(tmp_path / "outputs", docs)
    out = tmp_path / "pairs.jsonl"
    stats_json = tmp_path / "stats.json"
    result = run_cli("export", str(src), "--to", str(out), "--stats-json", str(stats_json))
    assert result.returncode == 0, result.stderr
    assert "Wrote 2 rows" in result.stderr
    rows = read_jsonl(out)
    assert [(r["chosen"], r["rejected"], r["margin"]) for r in rows] == [
        ("B", "A", 1.0),
        ("B", "A", 1.0),
    ]
    summary = json.loads(stats_json.read_text())
    assert summary["valid_answers"] == 2
    # Both shown-first responses lost: the bias figure is what the workers saw.
    assert summary["position_bias"]["first_shown_pair_win_rate"] == 0.5
    sft = run_cli("export", str(src), "--to", str(tmp_path / "sft.jsonl"), "--format", "sft")
    assert sft.returncode == 2 and "no response-edit answers were found" in sft.stderr
