"""Bedrock evaluation results as an export source: each record becomes a loop output.

``handloop export`` knows A2I output files and handloop's preference-element answers. A
record of a results file is turned into exactly that: an output document whose input has
the prompt and the model responses (ids "0", "1"… as in ``modelResponseIdMap``), and
whose every answer holds one preference element for the chosen comparison metric:

- ComparisonChoice -> ``comparison-choice``, the chosen response (no tie, no strength);
- ComparisonRank -> ``comparison-rank``, the ranks (ties allowed);
- ComparisonLikertScale -> ``comparison-likert``: 1/2 prefer the left response by margin
  2/1, 3 is "about the same" (a tie), 4/5 prefer the right one by 1/2.

``shownOrder`` is the answer's ``displayOrder`` (Likert: left, right), or the response
ids in order when the file does not record it. Pairs, aggregation, ties, the margin
column, statistics and the dataset card then work as for any preference element.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from handloop.feedback import preference
from handloop.feedback.evaluation_files import (
    COMPARISON_CHOICE,
    COMPARISON_LIKERT,
    COMPARISON_RANK,
    BadRecord,
    EvaluationAnswer,
    EvaluationRecord,
    FileSource,
    Metric,
    parse_record,
    results_lines,
)
from handloop.feedback.mappings import BUILT_INS, Mapping
from handloop.feedback.problems import ExportInputError

# Likert answer -> (preferred side, margin): 1 = left much better .. 5 = right much better.
LIKERT_PREFERENCE = {1: ("left", 2), 2: ("left", 1), 3: (None, 0), 4: ("right", 1), 5: ("right", 2)}
_KINDS = {
    COMPARISON_CHOICE: preference.CHOICE,
    COMPARISON_RANK: preference.RANK,
    COMPARISON_LIKERT: preference.LIKERT_PAIR,
}


@dataclass
class EvaluationOutputSource:
    """Every record of every results file, each read as one A2I loop output."""

    files: FileSource
    metric: Metric
    metrics: tuple[Metric, ...]  # the job's, for messages
    defaulted: bool  # the metric is the job's first comparison metric, not --metric's
    description: str = ""
    _file: tuple[str, dict[int, bytes]] | None = field(default=None, repr=False)
    _found: list[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.description = self.files.description

    @classmethod
    def open(cls, files: FileSource, metric: str | None) -> EvaluationOutputSource:
        """The source for ``metric`` (default: the job's first comparison metric), judged by
        the first record that can be read; ExportInputError for a metric that gives no
        pairs, naming the metrics there are."""
        metrics = _job_metrics(files)
        comparisons = [m for m in metrics if m.is_comparison]
        listed = ", ".join(f"{m.name} ({m.method})" for m in metrics) or "none"
        if metric is None:
            if not comparisons:
                raise ExportInputError(
                    f"the evaluation's metrics compare no responses ({listed}): preference "
                    "pairs need a ComparisonChoice, ComparisonRank or ComparisonLikertScale "
                    "metric; see `handloop evaluation report` for ratings"
                )
            return cls(files, comparisons[0], tuple(metrics), True)
        chosen = next((m for m in metrics if m.name == metric), None)
        if chosen is None:
            raise ExportInputError(f"unknown --metric '{metric}': the evaluation has {listed}")
        if not chosen.is_comparison:
            raise ExportInputError(
                f"--metric '{metric}' is {chosen.method}, which compares no responses: give "
                f"one of {', '.join(m.name for m in comparisons) or 'no metric (none compares)'}"
            )
        return cls(files, chosen, tuple(metrics), False)

    def locations(self) -> list[str]:
        """``FILE:LINE`` for every line that is not blank."""
        if self._found is None:
            found: list[str] = []
            for location in self.files.locations():
                lines = self._lines(location)
                found.extend(f"{location}:{number}" for number in lines)
            self._found = found
        return self._found

    def read(self, location: str) -> bytes:
        """The record at ``FILE:LINE`` as an A2I output document; BadRecord if it is not
        a record, OSError if the file cannot be read."""
        path, _, number = location.rpartition(":")
        line = int(number)
        record = parse_record(self._lines(path)[line], path, line)
        return json.dumps(loop_output(record, self.metric), ensure_ascii=False).encode()

    def provenance(self) -> list[dict[str, Any]]:
        return [
            {
                "bedrock_evaluation_metric": self.metric.name,
                "rating_method": self.metric.method,
                "chosen_by": "the first comparison metric" if self.defaulted else "--metric",
            }
        ]

    def parallel_reader(self) -> Callable[[str], bytes] | None:
        return None  # one file's lines are cached here, not in other processes

    def mapping(self) -> Mapping:
        """The mapping that reads this source's answers: the metric's preference element."""
        return replace(BUILT_INS["preference"], field=self.metric.name)

    def _lines(self, location: str) -> dict[int, bytes]:
        if self._file is None or self._file[0] != location:
            self._file = (location, dict(results_lines(self.files.read(location))))
        return self._file[1]


def evaluation_mapping(requested: Mapping, source: EvaluationOutputSource) -> Mapping:
    """The mapping for an evaluation source: ``auto`` and ``preference`` become the
    metric's element; any other is a mistake, since the answers are built here."""
    if requested.name not in ("auto", "preference"):
        raise ExportInputError(
            f"Bedrock evaluation results are read without a mapping: drop --mapping "
            f"'{requested.name}' (pick the metric with --metric)"
        )
    return source.mapping()


def _job_metrics(files: FileSource) -> list[Metric]:
    """The metrics of the first record that can be read (every record of a job has them)."""
    for location in files.locations():
        try:
            data = files.read(location)
        except (OSError, LookupError):
            continue  # the export itself reports (or skips) this file
        for number, text in results_lines(data):
            try:
                return list(parse_record(text, location, number).metrics)
            except BadRecord:
                continue
    raise ExportInputError(f"no readable evaluation record in {files.description}")


def loop_output(record: EvaluationRecord, metric: Metric) -> dict[str, Any]:
    """The record as an A2I output document with one preference element per answer."""
    responses = []
    for response_id, text in record.responses:
        if text is None:
            raise BadRecord(
                f"{record.where}: no response text for model {record.model(response_id)} "
                "(modelResponses)"
            )
        responses.append(
            {"id": response_id, "text": text, "modelIdentifier": record.model(response_id)}
        )
    input_content: dict[str, Any] = {"prompt": record.prompt, "responses": responses}
    if record.category is not None:
        input_content["category"] = record.category
    if record.reference_response is not None:
        input_content["referenceResponse"] = record.reference_response
    return {
        "flowDefinitionArn": record.flow_definition_arn,
        "humanAnswers": [
            {
                "acceptanceTime": answer.acceptance_time,
                "answerContent": {metric.name: _element(record, answer, metric)},
                "submissionTime": answer.submission_time,
                "timeSpentInSeconds": answer.time_spent_seconds,
                "workerId": answer.worker_id,
            }
            for answer in record.answers
        ],
        "humanLoopName": record.human_loop_name,
        "inputContent": input_content,
    }


def _element(record: EvaluationRecord, answer: EvaluationAnswer, metric: Metric) -> dict[str, Any]:
    """The answer's result for the metric as a preference element's value; something that
    is not one (so the answer counts as invalid) when there is no usable result."""
    result = next((r for r in answer.results if r.metric == metric.name), None)
    if result is None:
        return {"missing": f"no {metric.name} result"}
    if result.problem is not None or result.method != metric.method:
        return {"invalid": result.problem or f"answered as {result.method}"}
    shown = list(answer.display_order or record.response_ids)
    kind = _KINDS[metric.method]
    if metric.method == COMPARISON_CHOICE:
        return {"kind": kind, "shownOrder": shown, "outcome": "chosen", "chosen": result.chosen}
    if metric.method == COMPARISON_RANK:
        ranks = dict(result.ranks or ())
        return {"kind": kind, "shownOrder": shown, "ranks": ranks, "allowTies": True}
    assert result.value is not None and result.left is not None and result.right is not None
    side, margin = LIKERT_PREFERENCE[result.value]
    preferred = None if side is None else result.left if side == "left" else result.right
    return {
        "kind": kind,
        "shownOrder": [result.left, result.right],
        "preferred": preferred,
        "margin": margin,
        "label": str(result.value),
    }
