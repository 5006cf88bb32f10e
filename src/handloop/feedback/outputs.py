"""A2I output files (``output.json``): parsing and checking one document.

The shape is A2I's: ``{"flowDefinitionArn", "humanAnswers": [{"answerContent",
"acceptanceTime", "submissionTime", "timeSpentInSeconds", "workerId", "workerMetadata"}],
"humanLoopName", "inputContent"}``.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any


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
    """Parse and check an ``output.json`` document; NotAnOutput says what is wrong."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotAnOutput(f"{source}: not JSON ({exc})") from None
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
        # Some writers store the input as the JSON string it was given as.
        with contextlib.suppress(ValueError):
            input_content = json.loads(input_content)
    parsed: list[HumanAnswer] = []
    for position, answer in enumerate(answers):
        if not isinstance(answer, dict):
            raise NotAnOutput(f"{source}: humanAnswers[{position}] is not an object")
        content = answer.get("answerContent")
        if isinstance(content, str):
            try:
                content = json.loads(content)
            except ValueError:
                content = None
        if not isinstance(content, dict):
            raise NotAnOutput(f"{source}: humanAnswers[{position}].answerContent is not an object")
        spent = answer.get("timeSpentInSeconds")
        parsed.append(
            HumanAnswer(
                position=position,
                worker_id=str(answer.get("workerId") or f"anonymous-{position}"),
                answer_content=content,
                acceptance_time=_text(answer.get("acceptanceTime")),
                submission_time=_text(answer.get("submissionTime")),
                time_spent_seconds=float(spent) if isinstance(spent, int | float) else None,
            )
        )
    return LoopOutput(
        source=source,
        flow_definition_arn=str(doc.get("flowDefinitionArn") or ""),
        human_loop_name=str(doc["humanLoopName"]),
        input_content=input_content,
        answers=tuple(parsed),
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
