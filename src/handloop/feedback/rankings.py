"""One loop's output -> its prompt, responses and each worker's ranking of them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from handloop.feedback import preference
from handloop.feedback.mappings import Mapping
from handloop.feedback.output_files import LoopOutput
from handloop.feedback.paths import Missing, resolve


@dataclass(frozen=True, slots=True)
class Judgement:
    """One worker's ranking of one loop's responses (lower rank is better)."""

    worker_id: str
    position: int
    # None: invalid (see reason), or a response edit (reason None), which ranks nothing
    ranks: tuple[float, ...] | None
    reason: str | None
    matched: bool  # the answer had the mapping's field(s) at all
    shown_order: tuple[int, ...]
    time_spent_seconds: float | None
    submission_time: str | None
    # How much better, where the answer says: the whole answer's (a choice's strength,
    # comparison-likert's margin), or per response (likert, thumbs: a pair's margin is the
    # difference of its two scores). None for plain rankings.
    margin: float | None = None
    scores: tuple[float, ...] | None = None

    def pair_margin(self, i: int, j: int) -> float | None:
        """The margin this answer gives responses i and j (None: it says nothing)."""
        if self.scores is not None:
            return abs(self.scores[i] - self.scores[j])
        return self.margin


@dataclass(frozen=True, slots=True)
class Edit:
    """A worker's rewrite of one response: preferred to the original, and an SFT row."""

    worker_id: str
    response: int  # index in RankedItem.responses
    text: str


@dataclass(frozen=True, slots=True)
class RankedItem:
    """A loop with its prompt, responses and judgements; ``problem`` when unusable.

    ``prompt_messages`` is set when the prompt is a conversation (``prompt`` is then its
    text); ``edits`` are the loop's response edits, in answer order."""

    loop: str
    flow_definition_arn: str
    source: str
    prompt: str
    responses: tuple[str, ...]
    judgements: tuple[Judgement, ...]
    problem: str | None = None
    prompt_messages: preference.Messages | None = None
    edits: tuple[Edit, ...] = ()

    @property
    def valid_judgements(self) -> list[Judgement]:
        return [j for j in self.judgements if j.ranks is not None]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _broken(output: LoopOutput, problem: str) -> RankedItem:
    return RankedItem(
        output.human_loop_name, output.flow_definition_arn, output.source, "", (), (), problem
    )


def rank_item(output: LoopOutput, mapping: Mapping) -> RankedItem:
    """Read the prompt and responses through the mapping, and rank every answer."""
    if mapping.kind in ("auto", "preference"):
        mapping = mapping.resolved([answer.answer_content for answer in output.answers])
        if mapping.kind == "preference":
            return _rank_preference(output, mapping)
    root = {"inputContent": output.input_content, "humanLoopName": output.human_loop_name}

    def broken(problem: str) -> RankedItem:
        return _broken(output, problem)

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


def _rank_preference(output: LoopOutput, mapping: Mapping) -> RankedItem:
    """Preference-element answers: responses matched to the answers' ids, not positions."""
    found = [
        preference.find_element_answer(answer.answer_content, mapping.field)
        for answer in output.answers
    ]
    id_sets: list[frozenset[str]] = []  # what the answers show, in answer order
    for element in found:
        shown = preference.shown_ids(element[1]) if element is not None else None
        if shown is not None and shown not in id_sets:
            id_sets.append(shown)
    located = _locate_responses(output, mapping, id_sets)
    if isinstance(located, str):
        return _broken(output, located)
    raw_responses, parent = located
    responses: list[str] = []
    for index, response in enumerate(raw_responses):
        if mapping.text_steps is not None:
            try:
                responses.append(_text(resolve(mapping.text_steps, response)))
            except Missing as exc:
                return _broken(output, f"response {index} has no {exc}")
        else:
            responses.append(preference.response_text(response))
    prompt = _preference_prompt(output, mapping, parent)
    if prompt is None:
        return _broken(output, f"no prompt at {mapping.prompt} or beside the responses")
    ids = preference.response_ids(raw_responses)
    identity = tuple(range(len(ids)))
    judgements: list[Judgement] = []
    edits: list[Edit] = []
    for answer, element in zip(output.answers, found, strict=True):
        if element is None:
            verdict = preference.Verdict(None, mapping.missing_preference())
        else:
            verdict = preference.judge(element[1], ids, mapping.dimension)
        if verdict.edit is not None:
            edits.append(Edit(answer.worker_id, verdict.edit[0], verdict.edit[1]))
        judgements.append(
            Judgement(
                worker_id=answer.worker_id,
                position=answer.position,
                ranks=verdict.ranks,
                reason=verdict.reason,
                matched=element is not None,
                shown_order=verdict.shown_order or identity,
                time_spent_seconds=answer.time_spent_seconds,
                submission_time=answer.submission_time,
                margin=verdict.margin,
                scores=verdict.scores,
            )
        )
    return RankedItem(
        output.human_loop_name,
        output.flow_definition_arn,
        output.source,
        prompt[0],
        tuple(responses),
        tuple(judgements),
        prompt_messages=prompt[1],
        edits=tuple(edits),
    )


def _locate_responses(
    output: LoopOutput, mapping: Mapping, id_sets: list[frozenset[str]]
) -> tuple[list[Any], Any] | str:
    """The responses list (and the object holding it), or why there is none.

    The mapping's path first, when its ids are ones an answer shows; else a search of the
    input for a list with those ids."""
    root = {"inputContent": output.input_content, "humanLoopName": output.human_loop_name}
    steps = mapping.responses_steps
    try:
        raw = resolve(steps, root)
    except Missing as exc:
        raw, problem = None, f"no responses at {exc}"
    else:
        problem = f"{mapping.responses} is not a list of two or more responses"
        if isinstance(raw, list) and len(raw) >= 2:
            if not id_sets or frozenset(preference.response_ids(raw)) in id_sets:
                parent = resolve(steps[:-1], root) if len(steps) > 1 else None
                return raw, parent
            problem = ""
    for ids in id_sets:
        found = preference.search_responses(output.input_content, ids)
        if found is not None:
            return found
    if id_sets:
        shown = ", ".join(sorted(id_sets[0]))[:60]
        return f"no responses in the input with the ids the answers show: {shown}"
    return problem


def _preference_prompt(
    output: LoopOutput, mapping: Mapping, parent: Any
) -> tuple[str, preference.Messages | None] | None:
    """The prompt: the mapping's path; else a prompt-like key beside the responses; else a
    conversation beside them or at the top of the input."""
    root = {"inputContent": output.input_content, "humanLoopName": output.human_loop_name}
    try:
        value = resolve(mapping.prompt_steps, root)
    except Missing:
        pass
    else:
        messages = preference.conversation(value)
        if messages is not None:
            return preference.conversation_text(messages), messages
        return _text(value), None
    places = [parent] if isinstance(parent, dict) else []
    if isinstance(parent, dict):
        for key in preference.PROMPT_KEYS:
            value = parent.get(key)
            if isinstance(value, str):
                return value, None
            messages = preference.conversation(value)
            if messages is not None:
                return preference.conversation_text(messages), messages
    if isinstance(output.input_content, dict) and output.input_content is not parent:
        places.append(output.input_content)
    for place in places:
        for key in preference.CONVERSATION_KEYS:
            messages = preference.conversation(place.get(key))
            if messages is not None:
                return preference.conversation_text(messages), messages
    return None
