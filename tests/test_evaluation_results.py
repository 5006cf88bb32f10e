"""Bedrock evaluation results: the reader, the report's figures, `handloop evaluation
report`, and `handloop export` of a results folder.

The figures of ``known_job()`` (tests/fixtures/feedback/evaluation.py) are computed here
by hand from its answers, not by the code under test.
"""

from __future__ import annotations

import io
import json
import math
import statistics
from pathlib import Path
from typing import Any

import pytest

from handloop.feedback.agreement import krippendorff_alpha
from handloop.feedback.evaluation_export import EvaluationOutputSource
from handloop.feedback.evaluation_files import BadRecord, parse_record, read_records
from handloop.feedback.evaluation_plots import chart_names
from handloop.feedback.evaluation_report import (
    build_report,
    format_report,
    report_from_dicts,
    report_from_results,
    write_report,
)
from handloop.feedback.intervals import mean_interval, t_quantile, wilson
from handloop.feedback.problems import ExportInputError
from handloop.feedback.sources import open_results, open_source
from tests.fixtures.feedback.builders import a2i_output, notebook_answer, write_outputs
from tests.fixtures.feedback.evaluation import answer, known_job, record, write_results
from tests.support import run_cli

A, B = "model-a", "model-b"
Z = 1.959963984540054  # the standard normal 0.975 quantile
T6 = 2.4469118511449692  # Student t, 0.975 quantile, 6 degrees of freedom


def hand_wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval as textbooks write it."""
    p = k / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z / (1 + Z**2 / n) * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    return centre - half, centre + half


def close(actual: Any, expected: tuple[float, float] | list[float], tol: float = 1e-9) -> bool:
    return actual is not None and all(
        abs(a - e) < tol for a, e in zip(actual, expected, strict=True)
    )


@pytest.fixture
def job(tmp_path: Path) -> Path:
    """The known job's results folder, in Bedrock's layout."""
    write_results(tmp_path / "evals", known_job())
    return tmp_path / "evals"


def metric(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in report["metrics"] if m["name"] == name)


def known_report(folder: Path) -> dict[str, Any]:
    return build_report(read_records(open_results(str(folder))).records)


# -- intervals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("df", "expected"),
    [
        (1, 12.706204736174698),
        (2, 4.302652729749464),
        (6, T6),
        (10, 2.2281388519862744),
        (30, 2.0422724563012373),
    ],
)
def test_t_quantile_matches_tables(df: int, expected: float) -> None:
    assert abs(t_quantile(df) - expected) < 1e-9


def test_t_quantile_tends_to_the_normal_quantile() -> None:
    assert abs(t_quantile(10**7) - Z) < 1e-6


@pytest.mark.parametrize(("k", "n"), [(5, 7), (0, 5), (5, 5), (1, 2), (37, 120), (1, 1)])
def test_wilson_matches_the_formula(k: int, n: int) -> None:
    low, high = wilson(k, n) or (math.nan, math.nan)
    expected = hand_wilson(k, n)
    assert abs(low - max(0.0, expected[0])) < 1e-9 and abs(high - min(1.0, expected[1])) < 1e-9
    assert 0.0 <= low <= k / n <= high <= 1.0


def test_undefined_intervals_are_none() -> None:
    assert wilson(0, 0) is None
    assert mean_interval([4.0]) is None
    assert mean_interval([3.0, 3.0, 3.0]) == (3.0, 3.0)


# -- the report of the known job -------------------------------------------------------------


def test_totals(job: Path) -> None:
    totals = known_report(job)["totals"]
    assert totals["prompts"] == 4 and totals["answers"] == 7 and totals["workers"] == 3
    assert totals["answers_per_prompt"] == {"mean": 1.75, "min": 1, "max": 2}
    assert totals["models"] == [A, B] and totals["files"] == 1 and totals["metrics"] == 5
    assert totals["categories"] == {"Fitness": 3, "Yoga": 1}


def test_metrics_keep_the_job_order(job: Path) -> None:
    report = known_report(job)
    assert [(m["name"], m["type"]) for m in report["metrics"]] == [
        ("Correctness", "IndividualLikertScale"),
        ("Helpfulness", "ComparisonChoice"),
        ("Clarity", "ComparisonLikertScale"),
        ("Safety", "ComparisonRank"),
        ("Accuracy", "ThumbsUpDown"),
    ]


def test_individual_likert_means_intervals_histograms(job: Path) -> None:
    figures = metric(known_report(job), "Correctness")
    ratings = {A: [5, 4, 3, 2, 5, 4, 3], B: [3, 3, 4, 5, 2, 1, 3]}
    for model, values in ratings.items():
        got = figures["models"][model]
        mean = sum(values) / 7
        half = T6 * statistics.stdev(values) / math.sqrt(7)
        assert got["n"] == 7 and abs(got["mean"] - mean) < 1e-12
        assert close(got["mean_ci95"], (mean - half, mean + half))
        assert got["histogram"] == {str(k): values.count(k) for k in range(1, 6)}
    assert abs(figures["models"][A]["mean"] - 26 / 7) < 1e-12
    assert figures["results"] == 14 and figures["invalid"] == {}


def test_thumbs_share_with_wilson(job: Path) -> None:
    figures = metric(known_report(job), "Accuracy")["models"]
    assert (figures[A]["up"], figures[A]["down"], figures[A]["n"]) == (5, 2, 7)
    assert (figures[B]["up"], figures[B]["n"]) == (3, 7)
    assert abs(figures[A]["up_rate"] - 5 / 7) < 1e-12
    assert close(figures[A]["up_rate_ci95"], hand_wilson(5, 7))
    assert close(figures[B]["up_rate_ci95"], hand_wilson(3, 7))


def test_choice_wins_losses_and_win_rate(job: Path) -> None:
    figures = metric(known_report(job), "Helpfulness")
    a, b = figures["models"][A], figures["models"][B]
    assert (a["wins"], a["losses"], a["ties"]) == (5, 2, 0)
    assert (b["wins"], b["losses"], b["ties"]) == (2, 5, 0)
    assert abs(a["win_rate"] - 5 / 7) < 1e-12 and abs(a["win_rate_ties_half"] - 5 / 7) < 1e-12
    assert close(a["win_rate_ci95"], hand_wilson(5, 7))
    assert close(b["win_rate_ci95"], hand_wilson(2, 7))
    assert figures["head_to_head"] == [{"models": [A, B], "wins": [5, 2], "ties": 0}]


def test_likert_comparison_sides_histogram_and_preference(job: Path) -> None:
    figures = metric(known_report(job), "Clarity")
    a = figures["models"][A]
    # model-a wins when on the left with 1/2 or on the right with 4/5; 3 is the one tie.
    assert (a["wins"], a["losses"], a["ties"]) == (3, 3, 1)
    assert a["win_rate"] == 0.5 and a["win_rate_ties_half"] == 0.5
    assert close(a["win_rate_ci95"], hand_wilson(3, 6))
    assert figures["histogram"] == {"1": 2, "2": 2, "3": 1, "4": 1, "5": 1}
    # From model-a's side: +1, +1, -2, 0, -2, +2, -1.
    sides = [1, 1, -2, 0, -2, 2, -1]
    assert abs(a["mean_preference"] - (-1 / 7)) < 1e-12
    half = T6 * statistics.stdev(sides) / math.sqrt(7)
    assert close(a["mean_preference_ci95"], (-1 / 7 - half, -1 / 7 + half))
    assert a["preference_histogram"] == {"+2": 1, "+1": 2, "0": 1, "-1": 1, "-2": 2}
    assert abs(figures["models"][B]["mean_preference"] - 1 / 7) < 1e-12


def test_rank_comparison_counts_ties(job: Path) -> None:
    a = metric(known_report(job), "Safety")["models"][A]
    assert (a["wins"], a["losses"], a["ties"]) == (4, 2, 1)
    assert abs(a["win_rate"] - 4 / 6) < 1e-12
    assert abs(a["win_rate_ties_half"] - 4.5 / 7) < 1e-12
    assert close(a["win_rate_ci95"], hand_wilson(4, 6))


def test_position_bias(job: Path) -> None:
    report = known_report(job)
    choice = metric(report, "Helpfulness")["position_bias"]
    # The first shown won every choice but w2's on the first prompt.
    assert (choice["first_shown_wins"], choice["decided"], choice["unknown_order"]) == (6, 7, 0)
    assert close(choice["rate_ci95"], hand_wilson(6, 7))
    assert choice["expected_without_bias"] == 0.5
    likert = metric(report, "Clarity")["position_bias"]
    assert (likert["first_shown_wins"], likert["decided"]) == (4, 6)  # the tie is undecided
    assert likert["first_shown"] == "the left response"
    rank = metric(report, "Safety")["position_bias"]
    assert (rank["first_shown_wins"], rank["decided"]) == (4, 6)
    assert abs(rank["rate"] - 4 / 6) < 1e-12


def test_agreement(job: Path) -> None:
    report = known_report(job)
    choice = metric(report, "Helpfulness")["agreement"]
    # Prompts 0 and 2: both workers chose model-a; prompt 1: they differ; prompt 3: one.
    assert choice["pairs_compared"] == 3 and abs(choice["pairwise_agreement"] - 2 / 3) < 1e-12
    # Nominal alpha by hand: o(a,a) = 4, o(a,b) = o(b,a) = 1, n_a = 5, n_b = 1, n = 6:
    # 1 - (n - 1) * 2 / (2 * n_a * n_b) = 0.
    assert choice["alpha_level"] == "nominal" and abs(choice["krippendorff_alpha"]) < 1e-12
    likert = metric(report, "Clarity")["agreement"]
    assert abs(likert["pairwise_agreement"] - 1 / 3) < 1e-12
    # The answers from model-a's side (a left 2 and a right 4 both say "a slightly better"):
    # prompt 0 {2, 2}, prompt 1 {5, 3}, prompt 2 {5, 1}.
    expected = krippendorff_alpha([0, 0, 1, 1, 2, 2], [2, 2, 5, 3, 5, 1], "ordinal")
    assert abs(likert["krippendorff_alpha"] - expected) < 1e-12
    rank = metric(report, "Safety")["agreement"]
    assert abs(rank["pairwise_agreement"] - 2 / 3) < 1e-12
    expected = krippendorff_alpha(
        [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5], [1, 1, 2, 2, 1, 2, 1, 1, 1, 1, 2, 2], "ordinal"
    )
    assert abs(rank["krippendorff_alpha"] - expected) < 1e-12
    ratings = metric(report, "Correctness")["agreement"]
    # Same rating only on prompt 0's model-b (3, 3): 1 of 6 worker pairs.
    assert ratings["pairs_compared"] == 6 and abs(ratings["pairwise_agreement"] - 1 / 6) < 1e-12
    expected = krippendorff_alpha(
        [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5], [5, 4, 3, 3, 3, 2, 4, 5, 5, 4, 2, 1], "ordinal"
    )
    assert abs(ratings["krippendorff_alpha"] - expected) < 1e-12
    thumbs = metric(report, "Accuracy")["agreement"]
    assert thumbs["alpha_level"] == "nominal"
    assert abs(thumbs["pairwise_agreement"] - 4 / 6) < 1e-12


def test_bradley_terry_two_models_closed_form(job: Path) -> None:
    report = known_report(job)
    # Two models: strengths in the ratio of (wins + 0.5 prior), log-strengths centred.
    choice = metric(report, "Helpfulness")["bradley_terry"]
    half_log = math.log((5 + 0.5) / (2 + 0.5)) / 2
    assert abs(choice["scores"][A]["score"] - half_log) < 1e-6
    assert abs(choice["scores"][B]["score"] + half_log) < 1e-6
    assert choice["resamples"] == 1000 and choice["seed"] == 0 and choice["prompts"] == 4
    rank = metric(report, "Safety")["bradley_terry"]  # a tie is half a win each way
    assert abs(rank["scores"][A]["score"] - math.log((4.5 + 0.5) / (2.5 + 0.5)) / 2) < 1e-6
    likert = metric(report, "Clarity")["bradley_terry"]
    assert abs(likert["scores"][A]["score"]) < 1e-9
    for figures in (choice, rank, likert):
        for score in figures["scores"].values():
            low, high = score["ci95"]
            assert low <= score["score"] <= high


def test_bradley_terry_orders_three_models_and_bootstraps_over_prompts() -> None:
    """Twenty prompts ranking three models, mostly c > b > a: the scores follow, and each
    interval holds its score; the order and intervals do not change from run to run."""
    models = ("a", "b", "c")
    records = []
    for k in range(20):
        ranks = {"0": 3, "1": 2, "2": 1} if k % 5 else {"0": 2, "1": 3, "2": 1}
        answers = [answer(f"w{j}", order=("2", "0", "1"), rank={"Safety": ranks}) for j in range(2)]
        records.append(
            parse_record(
                json.dumps(
                    record(
                        f"l{k}",
                        f"p{k}",
                        answers,
                        models=models,
                        metrics=[("Safety", "ComparisonRank")],
                    )
                ),
                "mem",
                k + 1,
            )
        )
    report = build_report(records)
    bt = metric(report, "Safety")["bradley_terry"]["scores"]
    assert bt["c"]["score"] > bt["b"]["score"] > bt["a"]["score"]
    assert abs(sum(s["score"] for s in bt.values())) < 1e-9  # centred
    for score in bt.values():
        low, high = score["ci95"]
        assert low <= score["score"] <= high and low < high
    assert bt["c"]["ci95"][0] > bt["a"]["ci95"][1]  # clearly apart
    assert build_report(records) == report
    wins = metric(report, "Safety")["models"]["c"]
    assert (wins["wins"], wins["losses"]) == (80, 0)


def test_report_is_pure_and_json_ready(job: Path) -> None:
    records = read_records(open_results(str(job))).records
    first, second = build_report(records), build_report(records)
    assert first == second
    json.dumps(first, allow_nan=False)  # NaN-free


def test_write_report_and_in_memory_entry_points(job: Path, tmp_path: Path) -> None:
    records = read_records(open_results(str(job))).records
    path = write_report(records, tmp_path / "out")
    assert path.name == "report.json"
    stored = json.loads(path.read_text())
    assert stored == json.loads(json.dumps(build_report(records)))
    from_dicts = report_from_dicts(known_job(), unanswered_prompts=2)
    assert from_dicts["totals"]["unanswered_prompts"] == 2
    assert from_dicts["metrics"] == stored["metrics"]
    data = "".join(json.dumps(r) + "\n" for r in known_job()).encode()
    assert report_from_results([("x_output.jsonl", data)])["metrics"] == stored["metrics"]
    assert "prompts without a record (their loop did not complete) 2" in format_report(from_dicts)


def test_one_model_job_has_only_individual_figures(tmp_path: Path) -> None:
    metrics = [("Correctness", "IndividualLikertScale"), ("Accuracy", "ThumbsUpDown")]
    docs = [
        record(
            f"l{k}",
            f"p{k}",
            [
                answer(
                    "w1",
                    order=None,
                    likert={"Correctness": {"0": 4}},
                    thumbs={"Accuracy": {"0": k % 2 == 0}},
                )
            ],
            models=("solo",),
            metrics=metrics,
        )
        for k in range(3)
    ]
    write_results(tmp_path / "r", docs)
    report = known_report(tmp_path / "r")
    assert [m["type"] for m in report["metrics"]] == ["IndividualLikertScale", "ThumbsUpDown"]
    assert metric(report, "Correctness")["models"]["solo"]["mean"] == 4.0
    assert metric(report, "Accuracy")["models"]["solo"]["up"] == 2
    result = run_cli("export", str(tmp_path / "r"), "--to", str(tmp_path / "p.jsonl"))
    assert result.returncode == 2 and "compare no responses" in result.stderr


# -- reading files -----------------------------------------------------------------------


def aws_job() -> list[dict[str, Any]]:
    """As AWS writes it: no displayOrder, {"text": ...} prompts, responses in the input."""
    return [
        record(
            f"aws-{k}",
            f"Question {k}?",
            [
                answer(
                    "w1",
                    order=None,
                    choice={"Helpfulness": "1"},
                    likert_pair=[("Clarity", "1", "0", 2)],
                    rank={"Safety": {"0": 2, "1": 1}},
                )
            ],
            aws_style=True,
        )
        for k in range(3)
    ]


def test_aws_file_without_display_order(tmp_path: Path) -> None:
    write_results(tmp_path / "aws", aws_job())
    records = read_records(open_results(str(tmp_path / "aws"))).records
    assert records[0].prompt == "Question 0?" and records[0].reference_response == "the reference"
    assert dict(records[0].responses)["1"] == "Question 0? / model-b"
    assert records[0].answers[0].display_order is None
    report = build_report(records)
    choice = metric(report, "Helpfulness")
    assert choice["models"][B]["wins"] == 3
    assert choice["position_bias"]["rate"] is None and choice["position_bias"]["unknown_order"] == 3
    assert metric(report, "Clarity")["position_bias"]["rate"] == 1.0  # left is always known
    assert "position bias: n/a (3 decided comparison(s) without displayOrder)" in format_report(
        report
    )
    out = tmp_path / "pairs.jsonl"
    result = run_cli("export", str(tmp_path / "aws"), "--to", str(out))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["prompt"], r["chosen"]) for r in rows] == [
        (f"Question {k}?", f"Question {k}? / model-b") for k in range(3)
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: not JSON"),
        ('{"inputRecord": {}}', "line 2: not a Bedrock evaluation record"),
        ("[1, 2]", "line 2: not a JSON object"),
        (
            '{"humanEvaluationResult": {"modelResponseIdMap": {"0": "m"}, "humanAnswers": 3}}',
            "line 2: humanEvaluationResult.humanAnswers is not a list",
        ),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    path = write_results(tmp_path / "bad", [known_job()[0], line, known_job()[1]])
    with pytest.raises(ExportInputError) as raised:
        read_records(open_results(str(tmp_path / "bad")))
    assert str(path) in raised.value.message and message in raised.value.message
    result = run_cli("evaluation", "report", str(tmp_path / "bad"))
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and f"{path} {message}" in lines[0]
    skipped = read_records(open_results(str(tmp_path / "bad")), skip_invalid=True)
    assert len(skipped.records) == 2 and skipped.invalid_line_count == 1
    out = tmp_path / "pairs.jsonl"
    export = run_cli("export", str(tmp_path / "bad"), "--to", str(out))
    assert export.returncode == 2 and f"{path} {message}" in export.stderr
    assert not out.exists()
    export = run_cli("export", str(tmp_path / "bad"), "--to", str(out), "--skip-invalid-files")
    assert export.returncode == 0, export.stderr
    assert "1 invalid line(s) skipped" in export.stderr and f"skipped {path}" in export.stderr
    assert len(out.read_text().splitlines()) == 4  # the two good prompts' choices


def test_invalid_results_are_counted_not_fatal(tmp_path: Path) -> None:
    docs = known_job()
    entry = docs[0]["humanEvaluationResult"]["humanAnswers"][0]["answerContent"]
    entry["evaluationResults"]["comparisonLikertScale"][0]["result"] = 7
    entry["evaluationResults"]["thumbsUpDown"][0]["modelResponseId"] = "9"
    write_results(tmp_path / "r", docs)
    report = known_report(tmp_path / "r")
    assert metric(report, "Clarity")["invalid"] == {"result is not a rating 1..5": 1}
    assert metric(report, "Clarity")["results"] == 6
    assert metric(report, "Accuracy")["invalid"] == {"modelResponseId is not a response": 1}
    assert metric(report, "Helpfulness")["invalid"] == {}
    out = tmp_path / "c.jsonl"
    result = run_cli("export", str(tmp_path / "r"), "--to", str(out), "--metric", "Clarity")
    assert result.returncode == 0, result.stderr
    assert "1 invalid answer(s)" in result.stderr and len(out.read_text().splitlines()) == 5


def test_record_checks() -> None:
    good = known_job()[0]
    assert parse_record(good, "f", 1).human_loop_name == "eval-0000"
    order = json.loads(json.dumps(good))
    order["humanEvaluationResult"]["humanAnswers"][0]["answerContent"]["displayOrder"] = ["0"]
    with pytest.raises(BadRecord, match=r"f line 3: humanAnswers\[0\].answerContent.displayOrder"):
        parse_record(order, "f", 3)
    prompt = json.loads(json.dumps(good))
    del prompt["inputRecord"]["prompt"]
    with pytest.raises(BadRecord, match="no prompt"):
        parse_record(prompt, "f", 1)
    # Numbers as text and integral floats are read; the ids of modelResponseIdMap order them.
    loose = json.loads(json.dumps(good))
    results = loose["humanEvaluationResult"]["humanAnswers"][0]["answerContent"]
    results["evaluationResults"]["individualLikertScale"][0]["result"] = "5"
    results["evaluationResults"]["comparisonLikertScale"][0]["result"] = 2.0
    parsed = parse_record(loose, "f", 1)
    assert all(r.problem is None for r in parsed.answers[0].results)


# -- `handloop evaluation report` ----------------------------------------------------------


def test_cli_report_table(job: Path) -> None:
    result = run_cli("evaluation", "report", str(job))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("prompts 4, answers 7, workers 3, answers per prompt 1.75 (1 to 2)")
    assert "Helpfulness (ComparisonChoice)" in out and "Correctness (IndividualLikertScale)" in out
    low, high = hand_wilson(5, 7)
    assert f"model-a     5      2     0    0.714   [{low:.3f}, {high:.3f}]        0.714" in out
    assert "model-a     7   3.71" in out  # Correctness: n, mean
    assert "position bias: the first of displayOrder won 6 of 7 decided comparisons" in out
    assert "Bradley–Terry log-strength" in out and "Krippendorff's alpha (ordinal)" in out
    assert result.stderr == ""
    assert not list(job.rglob("report.json"))  # nothing written unless asked


def test_cli_report_json(job: Path) -> None:
    result = run_cli("evaluation", "report", str(job), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(json.dumps(known_report(job)))


def test_cli_report_plots(job: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    charts = tmp_path / "charts"
    result = run_cli("evaluation", "report", str(job), "--plots", str(charts))
    assert result.returncode == 0, result.stderr
    expected = chart_names(known_report(job))
    assert expected == [
        "01-Correctness.png",
        "02-Helpfulness.png",
        "02-Helpfulness-bradley-terry.png",
        "03-Clarity.png",
        "03-Clarity-bradley-terry.png",
        "04-Safety.png",
        "04-Safety-bradley-terry.png",
        "05-Accuracy.png",
    ]
    assert sorted(p.name for p in charts.iterdir()) == sorted(expected)
    assert all((charts / name).read_bytes().startswith(b"\x89PNG") for name in expected)


def test_cli_report_skips_invalid_lines_when_asked(tmp_path: Path) -> None:
    path = write_results(tmp_path / "r", [known_job()[0], "{broken", known_job()[1]])
    result = run_cli("evaluation", "report", str(tmp_path / "r"), "--skip-invalid-lines", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["prompts"] == 2
    assert result.stderr.startswith(f"skipped {path} line 2: not JSON")


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "unknown source"),
        ("empty", "no Bedrock evaluation results (*_output.jsonl) found"),
        ("blank", "no evaluation records in the 1 results file(s)"),
    ],
)
def test_cli_report_wrong_source(tmp_path: Path, setup: str, message: str) -> None:
    folder = tmp_path / "r"
    if setup != "missing":
        folder.mkdir()
    if setup == "blank":
        (folder / "x_output.jsonl").write_text("\n\n")
    result = run_cli("evaluation", "report", str(folder))
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


class FakeS3:
    """The two calls an S3 source makes, over a dict of keys."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects
        self.listed: list[str] = []

    def get_paginator(self, name: str) -> FakeS3:
        assert name == "list_objects_v2"
        return self

    def paginate(self, Bucket: str, Prefix: str) -> list[dict[str, Any]]:
        self.listed.append(f"{Bucket}/{Prefix}")
        keys = sorted(k for k in self.objects if k.startswith(Prefix))
        return [
            {"Contents": [{"Key": k} for k in keys[:2]]},
            {"Contents": [{"Key": k} for k in keys[2:]]},
        ]

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        return {"Body": io.BytesIO(self.objects[Key])}


def test_s3_results_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import boto3

    docs = known_job()
    objects = {
        "evals/my-job/k3/datasets/one/a_output.jsonl": (
            "".join(json.dumps(r) + "\n" for r in docs[:2]).encode()
        ),
        "evals/my-job/k3/datasets/two/b_output.jsonl": (
            "".join(json.dumps(r) + "\n" for r in docs[2:]).encode()
        ),
        "evals/my-job/k3/report.json": b"{}",
    }
    fake = FakeS3(objects)
    endpoints: list[str | None] = []

    def client(service: str, endpoint_url: str | None = None) -> FakeS3:
        endpoints.append(endpoint_url)
        return fake

    monkeypatch.setattr(boto3, "client", client)
    result = run_cli(
        "evaluation",
        "report",
        "s3://results/evals/my-job/",
        "--json",
        "--endpoint-url",
        "http://s3.local",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["totals"]["prompts"] == 4 and report["totals"]["files"] == 2
    assert (
        report["metrics"]
        == json.loads(json.dumps(build_report([parse_record(d, "x", 1) for d in docs])))["metrics"]
    )
    assert endpoints == ["http://s3.local"] and fake.listed == ["results/evals/my-job/"]
    out = tmp_path / "pairs.jsonl"
    exported = run_cli(
        "export", "s3://results/evals/", "--to", str(out), "--endpoint-url", "http://s3.local"
    )
    assert exported.returncode == 0, exported.stderr
    assert len(out.read_text().splitlines()) == 7


# -- `handloop export` of a results folder ----------------------------------------------------


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def text(prompt: int, model: str) -> str:
    prompts = [
        "How do I start running?",
        "How often should I stretch?",
        "Is yoga strength training?",
        "What should I eat before a race?",
    ]
    return f"{prompts[prompt]} / {model}"


def test_export_pairs_from_the_first_comparison_metric(job: Path, tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    result = run_cli("export", str(job), "--to", str(out))
    assert result.returncode == 0, result.stderr
    assert (
        "from 4 evaluation record(s), metric Helpfulness (ComparisonChoice; the first "
        "comparison metric)" in result.stderr
    )
    got = [(r["prompt"], r["chosen"], r["rejected"], r["worker_id"]) for r in rows(out)]
    choices = [
        (0, A, "w1"),
        (0, A, "w2"),
        (1, B, "w1"),
        (1, A, "w2"),
        (2, A, "w1"),
        (2, A, "w2"),
        (3, B, "w3"),
    ]
    assert got == [
        (text(p, A).split(" / ")[0], text(p, c), text(p, B if c == A else A), w)
        for p, c, w in choices
    ]
    assert "margin" not in rows(out)[0]  # a choice says nothing of how much better


def test_export_likert_metric_gives_margins(job: Path, tmp_path: Path) -> None:
    out = tmp_path / "clarity.jsonl"
    result = run_cli("export", str(job), "--to", str(out), "--metric", "Clarity")
    assert result.returncode == 0, result.stderr
    assert "metric Clarity (ComparisonLikertScale; --metric)" in result.stderr
    got = [(r["chosen"], r["rejected"], r["worker_id"], r["margin"]) for r in rows(out)]
    # 2 / 4: slightly better (margin 1); 1 / 5: much better (2); the 3 is a tie, dropped.
    assert got == [
        (text(0, A), text(0, B), "w1", 1.0),
        (text(0, A), text(0, B), "w2", 1.0),
        (text(1, B), text(1, A), "w1", 2.0),
        (text(2, B), text(2, A), "w1", 2.0),
        (text(2, A), text(2, B), "w2", 2.0),
        (text(3, B), text(3, A), "w3", 1.0),
    ]
    kept = tmp_path / "kept.jsonl"
    result = run_cli("export", str(job), "--to", str(kept), "--metric", "Clarity", "--ties", "keep")
    assert result.returncode == 0, result.stderr
    ties = [r for r in rows(kept) if r["tie"]]
    assert len(ties) == 1 and ties[0]["worker_id"] == "w2" and ties[0]["margin"] == 0.0


def test_export_rank_metric_and_stats(job: Path, tmp_path: Path) -> None:
    out = tmp_path / "safety.jsonl"
    stats = tmp_path / "stats.json"
    result = run_cli(
        "export", str(job), "--to", str(out), "--metric", "Safety", "--stats-json", str(stats)
    )
    assert result.returncode == 0, result.stderr
    assert [(r["chosen"], r["worker_id"]) for r in rows(out)] == [
        (text(0, A), "w1"),
        (text(0, A), "w2"),
        (text(1, B), "w2"),
        (text(2, A), "w1"),
        (text(2, A), "w2"),
        (text(3, B), "w3"),
    ]
    summary = json.loads(stats.read_text())
    # The export's own statistics see the shown order: the first shown won 4 of 6.
    assert summary["position_bias"]["first_shown_pair_win_rate"] == round(4 / 6, 4)
    assert summary["answers"] == 7 and summary["tie_rate"] == round(1 / 7, 4)


@pytest.mark.parametrize(
    ("metric_name", "message"),
    [
        (
            "Nope",
            "unknown --metric 'Nope': the evaluation has Correctness (IndividualLikertScale), "
            "Helpfulness (ComparisonChoice), Clarity (ComparisonLikertScale), Safety "
            "(ComparisonRank), Accuracy (ThumbsUpDown)",
        ),
        ("Accuracy", "--metric 'Accuracy' is ThumbsUpDown, which compares no responses"),
    ],
)
def test_export_wrong_metric(job: Path, tmp_path: Path, metric_name: str, message: str) -> None:
    out = tmp_path / "x.jsonl"
    result = run_cli("export", str(job), "--to", str(out), "--metric", metric_name)
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()


def test_export_metric_needs_evaluation_results_and_no_mapping(job: Path, tmp_path: Path) -> None:
    a2i = write_outputs(
        tmp_path / "a2i", [a2i_output("l", "p", ["x", "y"], [("w", notebook_answer([1, 2]))])]
    )
    out = tmp_path / "x.jsonl"
    result = run_cli("export", str(a2i), "--to", str(out), "--metric", "Helpfulness")
    assert (
        result.returncode == 2 and "--metric applies to Bedrock evaluation results" in result.stderr
    )
    result = run_cli("export", str(job), "--to", str(out), "--mapping", "notebook")
    assert result.returncode == 2 and "drop --mapping 'notebook'" in result.stderr


def test_detection_in_a_folder_with_both_kinds(job: Path, tmp_path: Path) -> None:
    """Results files with records win over output.json files beside them; a file that only
    has the name is not taken for results when there are output.json files."""
    write_outputs(job, [a2i_output("l", "p", ["x", "y"], [("w", notebook_answer([1, 2]))])])
    source = open_source(str(job))
    assert isinstance(source, EvaluationOutputSource) and len(source.locations()) == 4
    other = write_outputs(
        tmp_path / "a2i", [a2i_output("l", "p", ["x", "y"], [("w", notebook_answer([1, 2]))])]
    )
    (other / "notes_output.jsonl").write_text('{"note": 1}\n')
    source = open_source(str(other))
    assert not isinstance(source, EvaluationOutputSource) and len(source.locations()) == 1
    one = next(job.rglob("*_output.jsonl"))
    assert isinstance(open_source(str(one)), EvaluationOutputSource)


def test_export_card_names_the_metric(job: Path, tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    out = tmp_path / "prefs"
    result = run_cli("export", str(job), "--to", str(out), "--metric", "Safety")
    assert result.returncode == 0, result.stderr
    card = (out / "README.md").read_text()
    assert '"bedrock_evaluation_metric": "Safety"' in card


def test_cli_report_plots_without_matplotlib(job: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    result = run_cli("evaluation", "report", str(job), "--plots", str(job / "charts"))
    assert result.returncode == 2 and result.stdout == ""
    assert "pip install 'handloop[plots]'" in result.stderr
    assert not (job / "charts").exists()
