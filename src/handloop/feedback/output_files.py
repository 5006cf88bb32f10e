"""A2I output files (``output.json``): parsing and checking one document.

The shape is A2I's: ``{"flowDefinitionArn", "humanAnswers": [{"answerContent",
"acceptanceTime", "submissionTime", "timeSpentInSeconds", "workerId", "workerMetadata"}],
"humanLoopName", "inputContent"}``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from handloop.domain import json_values
from handloop.errors import ValidationError

# The name A2I gives every loop's output file.
OUTPUT_NAME = "output.json"


def is_output_name(name: str) -> bool:
    """Whether a file (its name, not its path) is an A2I output file."""
    return name == OUTPUT_NAME


class NotAnOutput(Exception):
    """The bytes are not an A2I output document; the message says why."""


@dataclass(frozen=True, slots=True)
class HumanAnswer:
    """One worker's answer to one loop, as the output file records it."""

    position: int  # index in humanAnswers
    worker_id: str
    answer_content: dict[str, Any]
    acceptance_time: str | None
    submission_time: str | None
    time_spent_seconds: float | None


@dataclass(frozen=True, slots=True)
class LoopOutput:
    """One human loop's output file."""

    source: str  # where it was read from (path or URI)
    flow_definition_arn: str
    human_loop_name: str
    input_content: Any
    answers: tuple[HumanAnswer, ...]


def parse_output(data: bytes | str, source: str) -> LoopOutput:
    """Parse and check an ``output.json`` document; NotAnOutput says what is wrong.

    The document is held to handloop's rules for JSON from outside (json_values): nesting
    within ``EMBEDDING_DEPTH``, valid Unicode, finite numbers; so are answers and inputs
    stored in it as JSON strings."""
    source = printable(source)
    try:
        doc = json_values.parse(data, "the file", max_depth=json_values.EMBEDDING_DEPTH)
    except json_values.JsonSyntaxError as exc:
        raise NotAnOutput(f"{source}: not JSON ({exc.message})") from None
    except ValidationError as exc:
        raise NotAnOutput(f"{source}: {exc.message}") from None
    if not isinstance(doc, dict):
        raise NotAnOutput(f"{source}: not a JSON object")
    missing = [k for k in ("humanAnswers", "humanLoopName", "inputContent") if k not in doc]
    if missing:
        raise NotAnOutput(f"{source}: not an A2I output (no {', '.join(missing)})")
    answers = doc["humanAnswers"]
    if not isinstance(answers, list):
        raise NotAnOutput(f"{source}: humanAnswers is not a list")
    input_content = doc["inputContent"]
    if isinstance(input_content, str):
        # Some writers store the input as the JSON string it was given as; text that is not
        # JSON stays text.
        with contextlib.suppress(json_values.JsonSyntaxError):
            input_content = _embedded(input_content, "inputContent", source)
    parsed: list[HumanAnswer] = []
    for position, answer in enumerate(answers):
        if not isinstance(answer, dict):
            raise NotAnOutput(f"{source}: humanAnswers[{position}] is not an object")
        content = answer.get("answerContent")
        if isinstance(content, str):
            try:
                content = _embedded(content, f"humanAnswers[{position}].answerContent", source)
            except json_values.JsonSyntaxError:
                content = None
        if not isinstance(content, dict):
            raise NotAnOutput(f"{source}: humanAnswers[{position}].answerContent is not an object")
        parsed.append(
            HumanAnswer(
                position=position,
                worker_id=str(answer.get("workerId") or f"anonymous-{position}"),
                answer_content=content,
                acceptance_time=_text(answer.get("acceptanceTime")),
                submission_time=_text(answer.get("submissionTime")),
                time_spent_seconds=_seconds(answer.get("timeSpentInSeconds"), position, source),
            )
        )
    return LoopOutput(
        source=source,
        flow_definition_arn=str(doc.get("flowDefinitionArn") or ""),
        human_loop_name=str(doc["humanLoopName"]),
        input_content=input_content,
        answers=tuple(parsed),
    )


def printable(location: str) -> str:
    """A location as text that can be written anywhere: a file name's bytes that are not
    UTF-8 (which Python holds as lone surrogates) are shown as ``\\udcXX``."""
    if location.isascii():
        return location
    return location.encode("utf-8", "backslashreplace").decode("utf-8")


def _embedded(text: str, what: str, source: str) -> Any:
    """A JSON document stored as a string in the file: JsonSyntaxError if it is not JSON,
    NotAnOutput if it is JSON outside handloop's bounds."""
    try:
        return json_values.parse(text, what)
    except json_values.JsonSyntaxError:
        raise
    except ValidationError as exc:
        raise NotAnOutput(f"{source}: {exc.message}") from None


def _seconds(value: Any, position: int, source: str) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer of hundreds of digits: no duration
        raise NotAnOutput(
            f"{source}: humanAnswers[{position}].timeSpentInSeconds is too large a number"
        ) from None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
