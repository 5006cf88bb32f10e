"""handloop's preference elements: their answers, read without a mapping.

Each element puts ``{name: {"kind": ..., "shownOrder": [ids], ...}}`` into answerContent.
Responses are named by id: a response given as text has its index as id (``"0"``,
``"1"``…); an object ``{"id": ..., "text": ...}`` has ``str(id)``, unless an id is missing
or repeated, then every response has its index. ``shownOrder`` is what the worker saw,
top (or left) first.

``judge`` turns one answer into a ``Verdict``: ranks in response order (lower is better,
so the pair, aggregation and statistics code takes them as it is), the shown order as
response indices, and a margin (how much better, where the element records it). Anything
malformed is a verdict with a short reason, never an exception.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

CHOICE = "comparison-choice"
RANK = "comparison-rank"
LIKERT_PAIR = "comparison-likert"
LIKERT = "likert"
THUMBS = "thumbs"
EDIT = "response-edit"
KINDS = frozenset((CHOICE, RANK, LIKERT_PAIR, LIKERT, THUMBS, EDIT))

# Kinds whose answers say by how much one response is better (choice: with a strength).
_MARGIN_KINDS = frozenset((LIKERT_PAIR, LIKERT, THUMBS))
_CHOICE_OUTCOMES = ("chosen", "tie", "both-bad")
_TEXT_KEYS = ("text", "content", "response")
PROMPT_KEYS = ("prompt", "question", "instruction", "query", "input")
CONVERSATION_KEYS = ("messages", "conversation")
SEARCH_DEPTH = 4

Messages = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    """One answer, read: ``ranks`` None and ``reason`` set when it is invalid.

    A response edit has no ranks and no reason: ``edit`` holds (response index, edited
    text) when the worker changed the text."""

    ranks: tuple[float, ...] | None
    reason: str | None
    shown_order: tuple[int, ...] | None = None
    margin: float | None = None  # the whole answer's (choice strength, comparison-likert)
    scores: tuple[float, ...] | None = None  # per response, higher better (likert, thumbs)
    edit: tuple[int, str] | None = None


def is_element_answer(value: Any) -> bool:
    """A value a preference element wrote: a dict with a known kind and a shownOrder list."""
    if type(value) is not dict:
        return False
    kind = value.get("kind")
    # A kind that is not text (a list, say) cannot be looked up in a set: not an element's.
    return type(kind) is str and kind in KINDS and type(value.get("shownOrder")) is list


def has_element_answer(answers: Iterable[dict[str, Any]]) -> bool:
    """Whether any answer holds a preference element's value (cheap for plain fields)."""
    for content in answers:
        for value in content.values():
            # Notebook answers hold text: the type test rules them out at once.
            if type(value) is dict and is_element_answer(value):
                return True
    return False


def find_element_answer(
    content: dict[str, Any], field: str | None
) -> tuple[str, dict[str, Any]] | None:
    """The named element's answer, or the first by key order when no name is given."""
    if field is not None:
        value = content.get(field)
        return (field, value) if type(value) is dict and is_element_answer(value) else None
    for name, value in content.items():
        if is_element_answer(value):
            return name, value
    return None


def carries_margin(value: dict[str, Any]) -> bool:
    """Whether this answer's kind records how much better (a choice only with a strength)."""
    kind = value["kind"]
    return kind in _MARGIN_KINDS or (kind == CHOICE and isinstance(value.get("strength"), dict))


def response_id(value: Any) -> str | None:
    """An id as text: ids are compared as strings (``2`` and ``"2"`` are one id)."""
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():  # 2.0 is what JavaScript calls "2"
        return str(int(value))
    return None


def response_ids(responses: list[Any]) -> list[str]:
    """Every response's id; indices for all when any id is missing or repeated."""
    ids: list[str] = []
    for response in responses:
        found = response_id(response.get("id")) if isinstance(response, dict) else None
        if found is None:
            break
        ids.append(found)
    if len(ids) == len(responses) and len(set(ids)) == len(ids):
        return ids
    return [str(i) for i in range(len(responses))]


def response_text(response: Any) -> str:
    """Text as is; an object's ``text``, ``content`` or ``response``; else the JSON."""
    if isinstance(response, str):
        return response
    if isinstance(response, dict):
        for key in _TEXT_KEYS:
            text = response.get(key)
            if isinstance(text, str):
                return text
    return json.dumps(response, ensure_ascii=False)


def shown_ids(value: dict[str, Any]) -> frozenset[str] | None:
    """The ids an answer shows, when its shownOrder is a list of distinct ids."""
    ids = [response_id(x) for x in value["shownOrder"]]
    if len(ids) < 2 or None in ids or len(set(ids)) != len(ids):
        return None
    return frozenset(i for i in ids if i is not None)


def search_responses(
    content: Any, wanted: frozenset[str]
) -> tuple[list[Any], dict[str, Any] | None] | None:
    """A list in the input whose ids are exactly ``wanted``, with the dict it is in.

    Depth-first in key order, at most SEARCH_DEPTH steps down; a list under a key named
    ``responses`` wins over one found earlier under another name."""
    first: list[tuple[list[Any], dict[str, Any] | None]] = []

    def walk(value: Any, parent: dict[str, Any] | None, key: str | None, depth: int) -> Any:
        if isinstance(value, list):
            if len(value) == len(wanted) and frozenset(response_ids(value)) == wanted:
                if key == "responses":
                    return value, parent
                if not first:
                    first.append((value, parent))
            if depth < SEARCH_DEPTH:
                for item in value:
                    found = walk(item, None, None, depth + 1)
                    if found is not None:
                        return found
        elif isinstance(value, dict) and depth < SEARCH_DEPTH:
            for name, item in value.items():
                found = walk(item, value, name, depth + 1)
                if found is not None:
                    return found
        return None

    found = walk(content, None, None, 0)
    if found is not None:
        return found  # type: ignore[no-any-return]
    return first[0] if first else None


def conversation(value: Any) -> Messages | None:
    """A list of ``{role, content}`` messages (text), or None."""
    if not isinstance(value, list) or not value:
        return None
    messages: list[tuple[str, str]] = []
    for message in value:
        if not isinstance(message, dict):
            return None
        role, text = message.get("role"), message.get("content")
        if not isinstance(role, str) or not isinstance(text, str):
            return None
        messages.append((role, text))
    return tuple(messages)


def conversation_text(messages: Messages) -> str:
    """A conversation as one text: ``role: content`` blocks separated by blank lines."""
    return "\n\n".join(f"{role}: {text}" for role, text in messages)


def judge(value: dict[str, Any], ids: Sequence[str], dimension: str | None) -> Verdict:
    """Read one element answer against the loop's response ids (in input order)."""
    kind = value["kind"]
    index = {response: i for i, response in enumerate(ids)}
    shown = _shown_order(value["shownOrder"], index)
    if isinstance(shown, str):
        return Verdict(None, f"{kind} {shown}")
    n = len(ids)
    if kind == CHOICE:
        verdict = _choice(value, index, n)
    elif kind == RANK:
        verdict = _rank(value, ids, n)
    elif kind == LIKERT_PAIR:
        verdict = _likert_pair(value, index, n)
    elif kind == LIKERT:
        verdict = _likert(value, ids, dimension)
    elif kind == THUMBS:
        verdict = _thumbs(value, ids)
    else:
        verdict = _edit(value, index)
    if verdict.reason is not None:
        return Verdict(None, f"{kind} {verdict.reason}")
    return Verdict(verdict.ranks, None, shown, verdict.margin, verdict.scores, verdict.edit)


def _shown_order(order: list[Any], index: dict[str, int]) -> tuple[int, ...] | str:
    ids = [response_id(x) for x in order]
    if None in ids:
        return "shownOrder holds a value that is not an id"
    if len(set(ids)) != len(ids):
        return "shownOrder repeats a response"
    if set(ids) != set(index):
        return f"shownOrder does not match the responses: {_show_ids(ids)}"
    return tuple(index[i] for i in ids if i is not None)


def _show_ids(ids: Sequence[str | None]) -> str:
    return ", ".join(json.dumps(i) for i in ids)[:60]


def _whole(value: Any) -> int | None:
    """An integer (or an integral float), never a bool or text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _choice(value: dict[str, Any], index: dict[str, int], n: int) -> Verdict:
    outcome = value.get("outcome")
    if outcome not in _CHOICE_OUTCOMES:
        return Verdict(None, f"outcome is not chosen, tie or both-bad: {_brief(outcome)}")
    margin: float | None = None
    strength = value.get("strength")
    if strength is not None:
        level = _whole(strength.get("value")) if isinstance(strength, dict) else None
        if level is None or not 0 <= level <= 3:
            return Verdict(None, f"strength is not a value 0..3: {_brief(strength)}")
        margin = float(level)
    if outcome != "chosen":  # a tie, or both bad: neither is preferred
        return Verdict(tuple(1.0 for _ in range(n)), None, margin=None if margin is None else 0.0)
    chosen = response_id(value.get("chosen"))
    if chosen not in index:
        return Verdict(None, f"chosen is not a shown response: {_brief(value.get('chosen'))}")
    best = index[chosen]
    return Verdict(tuple(1.0 if i == best else 2.0 for i in range(n)), None, margin=margin)


def _rank(value: dict[str, Any], ids: Sequence[str], n: int) -> Verdict:
    ranks = value.get("ranks")
    if not isinstance(ranks, dict):
        return Verdict(None, "has no ranks object")
    unknown = [key for key in ranks if key not in ids]
    if unknown:
        return Verdict(None, f"ranks a response that is not shown: {_show_ids(unknown)}")
    numbers: list[float] = []
    for response in ids:
        if response not in ranks:
            return Verdict(None, f"has no rank for response {json.dumps(response)}")
        rank = _whole(ranks[response])
        if rank is None:
            return Verdict(None, f"rank is not a whole number: {_brief(ranks[response])}")
        if not 1 <= rank <= n:
            return Verdict(None, f"rank is outside 1..{n}: {rank}")
        numbers.append(float(rank))
    allow_ties = value.get("allowTies", False)
    if allow_ties is not True and sorted(numbers) != [float(r) for r in range(1, n + 1)]:
        return Verdict(None, f"ranks are not a permutation of 1..{n}")
    return Verdict(tuple(numbers), None)


def _likert_pair(value: dict[str, Any], index: dict[str, int], n: int) -> Verdict:
    if n != 2:
        return Verdict(None, f"compares two responses, not {n}")
    preferred = value.get("preferred")
    margin = _whole(value.get("margin"))
    if preferred is None:  # "about the same", whatever the margin says
        return Verdict((1.0, 1.0), None, margin=0.0)
    chosen = response_id(preferred)
    if chosen not in index:
        return Verdict(None, f"preferred is not a shown response: {_brief(preferred)}")
    if margin is None or not 0 <= margin <= 2:
        return Verdict(None, f"margin is not 0, 1 or 2: {_brief(value.get('margin'))}")
    if margin == 0:  # "about the same"
        return Verdict((1.0, 1.0), None, margin=0.0)
    best = index[chosen]
    return Verdict(tuple(1.0 if i == best else 2.0 for i in range(n)), None, margin=float(margin))


def _likert(value: dict[str, Any], ids: Sequence[str], dimension: str | None) -> Verdict:
    ratings = value.get("ratings")
    if not isinstance(ratings, dict) or not ratings:
        return Verdict(None, "has no ratings")
    criteria = value.get("criteria")
    if dimension is not None:
        criterion = dimension
    elif isinstance(criteria, list) and criteria and isinstance(criteria[0], str):
        criterion = criteria[0]
    else:
        criterion = next(iter(ratings))
    given = ratings.get(criterion)
    if not isinstance(given, dict):
        return Verdict(None, f"has no ratings for the criterion: {_brief(criterion)}")
    low, high = -math.inf, math.inf
    scale = value.get("scale")
    if scale is not None:
        low_, high_ = (
            (_number(scale.get("min")), _number(scale.get("max")))
            if isinstance(scale, dict)
            else (None, None)
        )
        if low_ is None or high_ is None or low_ >= high_:
            return Verdict(None, f"scale is not {{min, max}}: {_brief(scale)}")
        low, high = low_, high_
    unknown = [key for key in given if key not in ids]
    if unknown:
        return Verdict(None, f"rates a response that is not shown: {_show_ids(unknown)}")
    scores: list[float] = []
    for response in ids:
        if response not in given:
            return Verdict(None, f"has no rating for response {json.dumps(response)}")
        rating = _number(given[response])
        if rating is None:
            return Verdict(None, f"rating is not a number: {_brief(given[response])}")
        if not low <= rating <= high:
            return Verdict(None, f"rating is outside the scale: {_brief(given[response])}")
        scores.append(rating)
    return Verdict(tuple(-s for s in scores), None, scores=tuple(scores))


def _thumbs(value: dict[str, Any], ids: Sequence[str]) -> Verdict:
    thumbs = value.get("thumbs")
    if not isinstance(thumbs, dict):
        return Verdict(None, "has no thumbs object")
    unknown = [key for key in thumbs if key not in ids]
    if unknown:
        return Verdict(None, f"rates a response that is not shown: {_show_ids(unknown)}")
    scores: list[float] = []
    for response in ids:
        thumb = thumbs.get(response)
        if thumb not in ("up", "down"):
            return Verdict(
                None, f"response {json.dumps(response)} is not up or down: {_brief(thumb)}"
            )
        scores.append(1.0 if thumb == "up" else 0.0)
    return Verdict(tuple(-s for s in scores), None, scores=tuple(scores))


def _edit(value: dict[str, Any], index: dict[str, int]) -> Verdict:
    target = response_id(value.get("responseId"))
    if target not in index:
        shown = _brief(value.get("responseId"))
        return Verdict(None, f"responseId is not a shown response: {shown}")
    changed = value.get("changed")
    if not isinstance(changed, bool):
        return Verdict(None, "changed is not true or false")
    edited = value.get("edited")
    if not isinstance(edited, str):
        return Verdict(None, "edited is not text")
    if not changed:
        return Verdict(None, None)
    if not edited.strip():
        return Verdict(None, "edited text is empty")
    return Verdict(None, None, edit=(index[target], edited))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _brief(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)[:40]
