"""One loop's output -> its prompt, responses and each worker's ranking of them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from handloop.feedback.mappings import Mapping
from handloop.feedback.output_files import LoopOutput
from handloop.feedback.paths import Missing, resolve


@dataclass(frozen=True, slots=True)
class Judgement:
    """One worker's ranking of one loop's responses (lower rank is better)."""

    worker_id: str
    position: int
    ranks: tuple[float, ...] | None  # None: invalid, see reason
    reason: str | None
    matched: bool  # the answer had the mapping's field(s) at all
    shown_order: tuple[int, ...]
    time_spent_seconds: float | None
    submission_time: str | None


@dataclass(frozen=True, slots=True)
class RankedItem:
    """A loop with its prompt, responses and judgements; ``problem`` when unusable."""

    loop: str
    flow_definition_arn: str
    source: str
    prompt: str
    responses: tuple[str, ...]
    judgements: tuple[Judgement, ...]
    problem: str | None = None

    @property
    def valid_judgements(self) -> list[Judgement]:
        return [j for j in self.judgements if j.ranks is not None]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def rank_item(output: LoopOutput, mapping: Mapping) -> RankedItem:
    """Read the prompt and responses through the mapping, and rank every answer."""
    root = {"inputContent": output.input_content, "humanLoopName": output.human_loop_name}

    def broken(problem: str) -> RankedItem:
        return RankedItem(
            output.human_loop_name,
            output.flow_definition_arn,
            output.source,
            "",
            (),
            (),
            problem,
        )

    try:
        prompt = resolve(mapping.prompt_steps, root)
    except Missing as exc:
        return broken(f"no prompt at {exc}")
    try:
        raw_responses = resolve(mapping.responses_steps, root)
    except Missing as exc:
        return broken(f"no responses at {exc}")
    if not isinstance(raw_responses, list) or len(raw_responses) < 2:
        return broken(f"{mapping.responses} is not a list of two or more responses")
    responses: list[str] = []
    for index, response in enumerate(raw_responses):
        if mapping.text_steps is not None:
            try:
                response = resolve(mapping.text_steps, response)
            except Missing as exc:
                return broken(f"response {index} has no {exc}")
        responses.append(_text(response))
    n = len(responses)
    identity = tuple(range(n))
    judgements = []
    for answer in output.answers:
        ranks, reason = mapping.rank(answer.answer_content, n)
        judgements.append(
            Judgement(
                worker_id=answer.worker_id,
                position=answer.position,
                ranks=ranks,
                reason=reason,
                matched=ranks is not None or mapping.matches(answer.answer_content, n),
                shown_order=identity
                if mapping.kind != "text-ranking"
                else mapping.shown_order(answer.answer_content, n),
                time_spent_seconds=answer.time_spent_seconds,
                submission_time=answer.submission_time,
            )
        )
    return RankedItem(
        output.human_loop_name,
        output.flow_definition_arn,
        output.source,
        _text(prompt),
        tuple(responses),
        tuple(judgements),
    )
