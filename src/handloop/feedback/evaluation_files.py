"""Bedrock model-evaluation results files (``*_output.jsonl``): reading and checking records.

A human evaluation job writes, per dataset, one JSON record per line (per prompt)::

    {"humanEvaluationResult": {"flowDefinitionArn", "humanLoopName",
        "inputContent": {"evaluationMetrics": [{"metricName", "metricType", ...}], ...},
        "modelResponseIdMap": {"0": "model-a", "1": "model-b"},
        "humanAnswers": [{"workerId", "timeSpentInSeconds", ...,
            "answerContent": {"evaluationResults": {"comparisonChoice": [...], ...},
                              "displayOrder": ["1", "0"]}}]},
     "inputRecord": {"prompt", "category", "referenceResponse", ...},
     "modelResponses": [{"modelIdentifier", "text"}]}

(docs/evaluation-results.md has the whole format.) Two kinds of trouble are told apart:

- a line that is not such a record (not JSON, no ``humanEvaluationResult``, answers that
  are not objects...) is a ``BadRecord`` naming the file and the line: the reader stops,
  or skips and counts it when asked;
- one result that cannot be read (an unknown response id, a rating outside 1..5) makes
  only that result invalid, with a reason that the report counts per metric. One odd
  value does not throw away a worker's other ratings.

Files from AWS are read too: ``displayOrder`` is handloop's addition (the order the
worker saw the responses), and texts may be strings or ``{"text": ...}``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from handloop.domain import json_values
from handloop.errors import ValidationError
from handloop.feedback.output_files import NotAnOutput, printable
from handloop.feedback.problems import ExportInputError

# What a results file is called: ``<uuid>_output.jsonl`` under ``datasets/<dataset-name>/``.
RESULTS_SUFFIX = "_output.jsonl"

COMPARISON_CHOICE = "ComparisonChoice"
COMPARISON_LIKERT = "ComparisonLikertScale"
COMPARISON_RANK = "ComparisonRank"
INDIVIDUAL_LIKERT = "IndividualLikertScale"
THUMBS = "ThumbsUpDown"
# evaluationResults' keys and the rating method each holds.
SECTIONS = {
    "comparisonChoice": COMPARISON_CHOICE,
    "comparisonLikertScale": COMPARISON_LIKERT,
    "comparisonRank": COMPARISON_RANK,
    "individualLikertScale": INDIVIDUAL_LIKERT,
    "thumbsUpDown": THUMBS,
}
METHODS = tuple(SECTIONS.values())
COMPARISONS = frozenset((COMPARISON_CHOICE, COMPARISON_LIKERT, COMPARISON_RANK))
LIKERT_SCALE = range(1, 6)


def is_results_name(name: str) -> bool:
    """Whether a file (its name, not its path) is a Bedrock evaluation results file."""
    return name.endswith(RESULTS_SUFFIX) and len(name) > len(RESULTS_SUFFIX)


class BadRecord(NotAnOutput):
    """A line that is not an evaluation record; the message names the file and the line.

    A NotAnOutput, so that the export counts (or stops on) it as it does a bad file."""


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    method: str  # one of METHODS, or what the job declared
    description: str | None = None

    @property
    def is_comparison(self) -> bool:
        return self.method in COMPARISONS


@dataclass(frozen=True, slots=True)
class Result:
    """One worker's result for one metric (an individual metric: for one response).

    Exactly the fields of its method are set; ``problem`` says why it cannot be used."""

    metric: str
    method: str
    response: str | None = None  # IndividualLikertScale, ThumbsUpDown: the response rated
    value: int | None = None  # the rating 1..5 (either Likert); thumbs: 1 up, 0 down
    chosen: str | None = None  # ComparisonChoice
    left: str | None = None  # ComparisonLikertScale: 1 = left much better .. 5 = right
    right: str | None = None
    ranks: tuple[tuple[str, int], ...] | None = None  # ComparisonRank: (id, rank), 1 best
    problem: str | None = None

    def verdicts(self) -> list[tuple[str, str, int]]:
        """A comparison's outcomes: (a, b, 1 if a won, 0 a tie, -1 if b won), over the
        response pairs the worker compared. A choice compares the chosen response with
        each other one; a Likert answer its two; a ranking every pair."""
        if self.problem is not None:
            return []
        if self.method == COMPARISON_LIKERT and self.left and self.right and self.value:
            side = (self.value < 3) - (self.value > 3)
            return [(self.left, self.right, side)]
        if self.method == COMPARISON_RANK and self.ranks is not None:
            ranked = self.ranks
            return [
                (a, b, (ra < rb) - (ra > rb))
                for k, (a, ra) in enumerate(ranked)
                for b, rb in ranked[k + 1 :]
            ]
        return []


@dataclass(frozen=True, slots=True)
class EvaluationAnswer:
    """One worker's answer to one prompt: a result per metric (and response)."""

    position: int  # index in humanAnswers
    worker_id: str
    acceptance_time: str | None
    submission_time: str | None
    time_spent_seconds: float | None
    display_order: tuple[str, ...] | None  # response ids as shown, first (left/top) first
    results: tuple[Result, ...]


@dataclass(frozen=True, slots=True)
class EvaluationRecord:
    """One line of a results file: one prompt, its models' responses, the answers."""

    source: str
    line: int
    flow_definition_arn: str
    human_loop_name: str
    metrics: tuple[Metric, ...]  # as the job declared them, then any others found
    models: tuple[tuple[str, str], ...]  # (response id, model identifier), ids in order
    prompt: str
    answers: tuple[EvaluationAnswer, ...]
    responses: tuple[tuple[str, str | None], ...] = ()  # (response id, text or None)
    category: str | None = None
    reference_response: str | None = None

    @property
    def where(self) -> str:
        return f"{self.source} line {self.line}"

    @property
    def response_ids(self) -> tuple[str, ...]:
        return tuple(i for i, _ in self.models)

    def model(self, response_id: str) -> str:
        return dict(self.models)[response_id]

    def choice_verdicts(self, result: Result) -> list[tuple[str, str, int]]:
        """A ComparisonChoice's outcomes: the chosen response beat every other one."""
        if result.problem is not None or result.chosen is None:
            return []
        return [(result.chosen, other, 1) for other in self.response_ids if other != result.chosen]

    def verdicts(self, result: Result) -> list[tuple[str, str, int]]:
        """Any comparison's outcomes (see Result.verdicts), by response id."""
        if result.method == COMPARISON_CHOICE:
            return self.choice_verdicts(result)
        return result.verdicts()


class FileSource(Protocol):
    """A folder or prefix of results files: a FolderSource or an S3Source (sources.py)."""

    description: str

    def locations(self) -> Sequence[str]: ...

    def read(self, location: str) -> bytes: ...


@dataclass
class ReadResult:
    records: list[EvaluationRecord] = field(default_factory=list)
    files: int = 0
    invalid_lines: list[str] = field(default_factory=list)  # the first 20 messages
    invalid_line_count: int = 0


def read_records(files: FileSource, *, skip_invalid: bool = False) -> ReadResult:
    """Every record of every results file; ExportInputError on the first bad line (or
    unreadable file), unless ``skip_invalid``: then those are counted and skipped."""
    locations = files.locations()
    if not locations:
        raise ExportInputError(
            f"no Bedrock evaluation results (*{RESULTS_SUFFIX}) found in {files.description}"
        )
    result = ReadResult()

    def skip(message: str) -> None:
        if not skip_invalid:
            raise ExportInputError(f"{message} (use --skip-invalid-lines to skip such lines)")
        result.invalid_line_count += 1
        if len(result.invalid_lines) < 20:
            result.invalid_lines.append(message)

    for location in locations:
        try:
            data = files.read(location)
        except (OSError, LookupError) as exc:
            skip(str(exc) if isinstance(exc, OSError) else f"{location}: {exc}")
            continue
        result.files += 1
        for line, text in results_lines(data):
            try:
                result.records.append(parse_record(text, location, line))
            except BadRecord as exc:
                skip(str(exc))
    if not result.records:
        raise ExportInputError(
            f"no evaluation records in the {result.files} results file(s) of {files.description}"
            + (
                f"; the first invalid line: {result.invalid_lines[0]}"
                if result.invalid_lines
                else ""
            )
        )
    return result


def results_lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(line number from 1, line) for each line that is not blank."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for number, line in enumerate(data.split(b"\n"), 1):
        if line.strip():
            yield number, line


def parse_results(data: bytes, source: str) -> list[EvaluationRecord]:
    """Every record of one results file's bytes; BadRecord on the first bad line."""
    return [parse_record(text, source, line) for line, text in results_lines(data)]


def parse_record(data: bytes | str | dict[str, Any], source: str, line: int) -> EvaluationRecord:
    """One line (its text, or the object already parsed) -> a record; BadRecord if the
    line is not one."""
    where = f"{printable(source)} line {line}"

    def bad(message: str) -> BadRecord:
        return BadRecord(f"{where}: {message}")

    if isinstance(data, dict):
        doc: Any = data
    else:
        try:
            doc = json_values.parse(data, "the line", max_depth=json_values.EMBEDDING_DEPTH)
        except json_values.JsonSyntaxError as exc:
            raise bad(f"not JSON ({exc.message})") from None
        except ValidationError as exc:
            raise bad(exc.message) from None
    if not isinstance(doc, dict):
        raise bad("not a JSON object")
    result = doc.get("humanEvaluationResult")
    if isinstance(result, list) and len(result) == 1:
        result = result[0]
    if not isinstance(result, dict):
        raise bad("not a Bedrock evaluation record (no humanEvaluationResult object)")
    input_record = doc.get("inputRecord")
    if input_record is None:
        input_record = {}
    if not isinstance(input_record, dict):
        raise bad("inputRecord is not an object")
    input_content = _embedded(result.get("inputContent"), "inputContent", bad)
    if input_content is None:
        input_content = {}
    if not isinstance(input_content, dict):
        raise bad("humanEvaluationResult.inputContent is not an object")
    models = _models(result, doc, input_record, bad)
    ids = [i for i, _ in models]
    declared = _declared_metrics(input_content, bad)
    answers_doc = result.get("humanAnswers")
    if not isinstance(answers_doc, list):
        raise bad("humanEvaluationResult.humanAnswers is not a list")
    methods = {m.name: m.method for m in declared}
    found: dict[str, Metric] = {}
    answers = [
        _answer(position, answer, ids, methods, found, bad)
        for position, answer in enumerate(answers_doc)
    ]
    prompt = _text(input_record.get("prompt"))
    if prompt is None:
        prompt = _text(input_content.get("prompt"))
    if prompt is None:
        raise bad('inputRecord has no prompt (text, or {"text": ...})')
    metrics = tuple(declared) + tuple(m for name, m in found.items() if name not in methods)
    return EvaluationRecord(
        source=printable(source),
        line=line,
        flow_definition_arn=str(result.get("flowDefinitionArn") or ""),
        human_loop_name=str(result.get("humanLoopName") or ""),
        metrics=metrics,
        models=tuple(models),
        prompt=prompt,
        answers=tuple(answers),
        responses=tuple((i, _response_text(model, doc, input_record)) for i, model in models),
        category=_text(input_record.get("category")),
        reference_response=_text(input_record.get("referenceResponse")),
    )


Bad = Callable[[str], BadRecord]


def _embedded(value: Any, what: str, bad: Bad) -> Any:
    """A value that may be stored as JSON text (as A2I does with inputContent)."""
    if not isinstance(value, str):
        return value
    try:
        return json_values.parse(value, what)
    except json_values.JsonSyntaxError:
        return value
    except ValidationError as exc:
        raise bad(exc.message) from None


def _models(
    result: dict[str, Any], doc: dict[str, Any], input_record: dict[str, Any], bad: Bad
) -> list[tuple[str, str]]:
    """(response id, model identifier) in id order: modelResponseIdMap, else the order of
    the responses listed."""
    mapping = result.get("modelResponseIdMap")
    if mapping is None:
        listed = _response_list(doc, input_record)
        identifiers = [r.get("modelIdentifier") if isinstance(r, dict) else None for r in listed]
        if not identifiers or not all(isinstance(m, str) and m for m in identifiers):
            raise bad("no modelResponseIdMap (and no modelResponses naming their models)")
        return [(str(i), str(m)) for i, m in enumerate(identifiers)]
    if not isinstance(mapping, dict) or not mapping:
        raise bad("modelResponseIdMap is not an object of response ids")
    models: list[tuple[str, str]] = []
    for key, model in mapping.items():
        if not isinstance(model, str) or not model:
            raise bad(f"modelResponseIdMap[{json.dumps(key)}] is not a model identifier")
        models.append((key, model))
    if len({m for _, m in models}) != len(models):
        raise bad("modelResponseIdMap names one model twice")
    return sorted(models, key=lambda pair: _id_order(pair[0]))


def _id_order(response_id: str) -> tuple[int, int, str]:
    if response_id.isascii() and response_id.isdigit() and len(response_id) < 20:
        return (0, int(response_id), "")
    return (1, 0, response_id)


def _response_list(doc: dict[str, Any], input_record: dict[str, Any]) -> list[Any]:
    for value in (
        doc.get("modelResponses"),
        input_record.get("modelResponses"),
        input_record.get("responses"),
    ):
        if isinstance(value, list) and value:
            return value
    return []


def _response_text(model: str, doc: dict[str, Any], input_record: dict[str, Any]) -> str | None:
    """A model's response text: the record's modelResponses, else the input record's."""
    for listed in (
        doc.get("modelResponses"),
        input_record.get("modelResponses"),
        input_record.get("responses"),
    ):
        if not isinstance(listed, list):
            continue
        for response in listed:
            if isinstance(response, dict) and response.get("modelIdentifier") == model:
                for key in ("text", "response", "content"):
                    text = _text(response.get(key))
                    if text is not None:
                        return text
    return None


def _text(value: Any) -> str | None:
    """Text as is, or an object's ``text`` (AWS writes ``{"text": ...}``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return str(value["text"])
    return None


def _declared_metrics(input_content: dict[str, Any], bad: Bad) -> list[Metric]:
    declared = input_content.get("evaluationMetrics")
    if declared is None:
        return []
    if not isinstance(declared, list):
        raise bad("inputContent.evaluationMetrics is not a list")
    metrics: list[Metric] = []
    names: set[str] = set()
    for index, entry in enumerate(declared):
        name = entry.get("metricName", entry.get("name")) if isinstance(entry, dict) else None
        method = (
            entry.get("metricType", entry.get("ratingMethod")) if isinstance(entry, dict) else None
        )
        if not isinstance(name, str) or not name or not isinstance(method, str):
            raise bad(f"inputContent.evaluationMetrics[{index}] has no metricName and metricType")
        if name in names:
            continue
        names.add(name)
        description = entry.get("description")
        metrics.append(Metric(name, method, description if isinstance(description, str) else None))
    return metrics


def _answer(
    position: int,
    answer: Any,
    ids: list[str],
    methods: dict[str, str],
    found: dict[str, Metric],
    bad: Bad,
) -> EvaluationAnswer:
    where = f"humanAnswers[{position}]"
    if not isinstance(answer, dict):
        raise bad(f"{where} is not an object")
    content = _embedded(answer.get("answerContent"), f"{where}.answerContent", bad)
    if not isinstance(content, dict):
        raise bad(f"{where}.answerContent is not an object")
    sections = _embedded(content.get("evaluationResults"), f"{where}.evaluationResults", bad)
    if not isinstance(sections, dict):
        raise bad(f"{where}.answerContent has no evaluationResults object")
    order = content.get("displayOrder")
    display: tuple[str, ...] | None = None
    if order is not None:
        shown = [_id(x) for x in order] if isinstance(order, list) else [None]
        known = [x for x in shown if x is not None]
        if len(known) != len(shown) or sorted(known) != sorted(ids):
            raise bad(f"{where}.answerContent.displayOrder is not the response ids {ids}")
        display = tuple(known)
    results: list[Result] = []
    seen: set[tuple[str, str | None]] = set()
    for key, method in SECTIONS.items():
        entries = sections.get(key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise bad(f"{where}.evaluationResults.{key} is not a list")
        for index, entry in enumerate(entries):
            name = entry.get("metricName") if isinstance(entry, dict) else None
            if not isinstance(name, str) or not name:
                raise bad(f"{where}.evaluationResults.{key}[{index}] has no metricName")
            found.setdefault(name, Metric(name, method))
            parsed = _result(name, method, entry, ids)
            declared = methods.get(name)
            if declared is not None and declared != method and parsed.problem is None:
                parsed = _invalid(parsed, f"is declared {declared} but answered in {key}")
            slot = (name, parsed.response)
            if slot in seen and parsed.problem is None:
                parsed = _invalid(parsed, "repeats a result already given")
            seen.add(slot)
            results.append(parsed)
    time_spent = answer.get("timeSpentInSeconds")
    seconds: float | None = None
    if isinstance(time_spent, int | float) and not isinstance(time_spent, bool):
        with contextlib.suppress(OverflowError):
            seconds = float(time_spent)
    return EvaluationAnswer(
        position=position,
        worker_id=str(answer.get("workerId") or f"anonymous-{position}"),
        acceptance_time=_optional(answer.get("acceptanceTime")),
        submission_time=_optional(answer.get("submissionTime")),
        time_spent_seconds=seconds,
        display_order=display,
        results=tuple(results),
    )


def _invalid(result: Result, problem: str) -> Result:
    return Result(result.metric, result.method, response=result.response, problem=problem)


def _result(name: str, method: str, entry: dict[str, Any], ids: list[str]) -> Result:
    """One entry of an evaluationResults list, checked against the record's ids."""

    def invalid(problem: str, response: str | None = None) -> Result:
        return Result(name, method, response=response, problem=problem)

    value = entry.get("result")
    if method in (INDIVIDUAL_LIKERT, THUMBS):
        response = _id(entry.get("modelResponseId"))
        if response not in ids:
            return invalid(
                f"modelResponseId is not a response: {_brief(entry.get('modelResponseId'))}"
            )
        if method == THUMBS:
            thumb = _bool(value)
            if thumb is None:
                return invalid(f"result is not true or false: {_brief(value)}", response)
            return Result(name, method, response=response, value=int(thumb))
        rating = _whole(value)
        if rating not in LIKERT_SCALE:
            return invalid(f"result is not a rating 1..5: {_brief(value)}", response)
        return Result(name, method, response=response, value=rating)
    if method == COMPARISON_CHOICE:
        chosen = _id(value.get("modelResponseId") if isinstance(value, dict) else value)
        if chosen not in ids:
            return invalid(f"result names no response: {_brief(value)}")
        return Result(name, method, chosen=chosen)
    if method == COMPARISON_LIKERT:
        left, right = _id(entry.get("leftModelResponseId")), _id(entry.get("rightModelResponseId"))
        if left not in ids or right not in ids or left == right:
            shown = _brief([entry.get("leftModelResponseId"), entry.get("rightModelResponseId")])
            return invalid(f"left and right are not two responses: {shown}")
        rating = _whole(value)
        if rating not in LIKERT_SCALE:
            return invalid(f"result is not a rating 1..5: {_brief(value)}")
        return Result(name, method, left=left, right=right, value=rating)
    # ComparisonRank
    if not isinstance(value, list):
        return invalid(f"result is not a list of ranks: {_brief(value)}")
    ranks: dict[str, int] = {}
    for item in value:
        response = _id(item.get("modelResponseId")) if isinstance(item, dict) else None
        rank = _whole(item.get("rank")) if isinstance(item, dict) else None
        if response not in ids or response in ranks:
            return invalid(f"ranks an unknown or repeated response: {_brief(item)}")
        if rank is None or not 1 <= rank <= len(ids):
            return invalid(f"rank is not a whole number 1..{len(ids)}: {_brief(item)}")
        ranks[response] = rank
    if len(ranks) != len(ids):
        return invalid(f"does not rank every response ({len(ranks)} of {len(ids)})")
    return Result(name, method, ranks=tuple((i, ranks[i]) for i in ids))


def _id(value: Any) -> str | None:
    """A response id as text (``0`` and ``"0"`` are one id)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _whole(value: Any) -> int | None:
    """A whole number: an integer, an integral float, or its text (``"4"``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        digits = value.strip()
        if digits.isascii() and digits.isdigit() and len(digits) < 10:
            return int(digits)
    return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)


def _brief(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)[:60]
