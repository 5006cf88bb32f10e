"""Mappings: how one worker's answer becomes a ranking of one loop's responses.

A mapping says where the prompt and the responses are in the loop's input, and how the
answer ranks them. Four kinds:

- ``rank-fields``: one answer field per response (``response_{i}_ranking``, ``{i}`` is the
  1-based response number) holding a number; equal numbers are ties unless
  ``permutation`` is set. ``best`` says which end wins (``lowest`` for ranks, ``highest``
  for ratings). This is the notebook's convention.
- ``label``: a crowd-classifier answer ``{name: {"label": ...}}`` naming the best response;
  the others tie below it.
- ``text-ranking``: a crowd-text-ranking answer ``{name: {"ranking": [{"dimension",
  "ranks": [...], "allowTie"?}], "displayOrder"?: [...]}}`` (see docs/export.md).
- ``preference``: handloop's preference elements, ``{name: {"kind": ..., "shownOrder":
  [...], ...}}``, which name responses by id (see preference.py); rankings.py reads them.

The built-in ``auto`` is no kind of its own: each loop is read as ``preference`` when an
answer holds a preference element's value, else as ``notebook``.

Ranks are normalised so that lower is better; ``None`` marks an invalid answer, with a
reason.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any, Literal

from handloop.domain import json_values
from handloop.errors import ValidationError
from handloop.feedback import preference
from handloop.feedback.paths import parse_path
from handloop.feedback.problems import ExportInputError

Kind = Literal["rank-fields", "label", "text-ranking", "preference", "auto"]
# The kinds a mapping may name; "auto" is the built-in of that name only.
KINDS: tuple[str, ...] = ("rank-fields", "label", "text-ranking", "preference")

_ABSENT = object()
_TIE_LABELS = {"tie", "equal", "same", "both", "both equal", "neither", "none", "no preference"}
_NUMBERED = re.compile(r"^(?:response|answer|option|completion)?[\s_#-]*([0-9]+|[a-z])$")


@dataclass(frozen=True)
class Mapping:
    """How answers become rankings (see the module docstring and docs/export.md)."""

    name: str
    kind: Kind
    prompt: str = "inputContent.taskObject.prompt"
    responses: str = "inputContent.taskObject.responses"
    response_text: str | None = None
    field: str | None = "response_{i}_ranking"
    best: Literal["lowest", "highest"] = "lowest"
    permutation: bool | None = False
    range: tuple[float, float] | None = None
    labels: dict[str, int] | None = None
    dimension: str | None = None
    prompt_steps: tuple[str | int, ...] = dataclass_field(default=(), repr=False, compare=False)
    responses_steps: tuple[str | int, ...] = dataclass_field(default=(), repr=False, compare=False)
    text_steps: tuple[str | int, ...] | None = dataclass_field(
        default=None, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "prompt_steps", parse_path(self.prompt))
        object.__setattr__(self, "responses_steps", parse_path(self.responses))
        if self.response_text:
            object.__setattr__(self, "text_steps", parse_path(self.response_text))

    def resolved(self, answers: Iterable[dict[str, Any]]) -> Mapping:
        """The mapping that reads a loop with these answer contents: ``auto`` picks one."""
        if self.kind != "auto":
            return self
        return BUILT_INS["preference" if preference.has_element_answer(answers) else "notebook"]

    def rank(self, answer: dict[str, Any], n: int) -> tuple[tuple[float, ...] | None, str | None]:
        """(ranks, None) or (None, reason); ranks are in response order, lower is better.

        ``preference`` answers are read here as if the responses were text (ids "0".."n-1");
        rank_item reads them against the loop's real ids."""
        if self.kind == "rank-fields":
            return self._rank_fields(answer, n)
        if self.kind == "label":
            return self._label(answer, n)
        if self.kind == "text-ranking":
            return self._text_ranking(answer, n)
        mapping = self.resolved((answer,))
        if mapping.kind != "preference":
            return mapping.rank(answer, n)
        found = preference.find_element_answer(answer, self.field)
        if found is None:
            return None, self.missing_preference()
        verdict = preference.judge(found[1], [str(i) for i in range(n)], self.dimension)
        return verdict.ranks, verdict.reason

    def missing_preference(self) -> str:
        """Why an answer gives a ``preference`` mapping nothing to read."""
        if self.field:
            return f"no preference-element answer named {self.field}"
        return "no preference-element answer"

    def matches(self, answer: dict[str, Any], n: int) -> bool:
        """Whether the answer has the field(s) this mapping reads at all."""
        if self.kind in ("preference", "auto"):
            mapping = self.resolved((answer,))
            if mapping.kind != "preference":
                return mapping.matches(answer, n)
            return preference.find_element_answer(answer, self.field) is not None
        if self.kind == "rank-fields":
            template = self.field or ""
            return any(template.replace("{i}", str(i)) in answer for i in range(1, n + 1))
        return self._find_field(answer) is not None

    def shown_order(self, answer: dict[str, Any], n: int) -> tuple[int, ...]:
        """The order the responses were shown in (indices), as far as the answer says."""
        if self.kind == "text-ranking":
            found = self._find_field(answer)
            order = found[1].get("displayOrder") if found else None
            if (
                isinstance(order, list)
                and sorted(order) == list(range(n))
                and all(isinstance(i, int) for i in order)
            ):
                return tuple(order)
        return tuple(range(n))

    # -- kinds -------------------------------------------------------------------------

    def _rank_fields(
        self, answer: dict[str, Any], n: int
    ) -> tuple[tuple[float, ...] | None, str | None]:
        template = self.field or "response_{i}_ranking"
        low, high = self.range if self.range else (1.0, float(n))
        ranks: list[float] = []
        highest = self.best == "highest"
        for i in range(1, n + 1):
            name = template.replace("{i}", str(i))
            value = answer.get(name, _ABSENT)
            if type(value) is str:  # the common case, a select's value: fast path
                try:
                    number = float(value)
                except ValueError:
                    number = None
                else:
                    if number != number or number in (math.inf, -math.inf):
                        number = None
            else:
                if value is _ABSENT:
                    return None, f"missing {name}"
                if isinstance(value, dict) and "label" in value:  # crowd-classifier per response
                    value = value["label"]
                number = _number(value)
            if number is None:
                return None, f"{name} is not a number: {json.dumps(value)[:40]}"
            if not low <= number <= high:
                return None, f"{name}={_fmt(number)} is outside {_fmt(low)}..{_fmt(high)}"
            ranks.append(-number if highest else number)
        if self.permutation and len(set(ranks)) != n:
            return None, "ranks are not a permutation (the mapping forbids ties)"
        return tuple(ranks), None

    def _find_field(self, answer: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        key = "label" if self.kind == "label" else "ranking"
        if self.field:
            value = answer.get(self.field)
            return (self.field, value) if isinstance(value, dict) and key in value else None
        candidates = [(k, v) for k, v in answer.items() if isinstance(v, dict) and key in v]
        return candidates[0] if len(candidates) == 1 else None

    def _label(self, answer: dict[str, Any], n: int) -> tuple[tuple[float, ...] | None, str | None]:
        found = self._find_field(answer)
        if found is None:
            return None, f"no {self.field or 'crowd-classifier'} answer with a label"
        label = found[1]["label"]
        if not isinstance(label, str | int):
            return None, f"{found[0]}.label is not text"
        text = str(label).strip()
        if self.labels is not None:
            if text not in self.labels:
                return None, f"label '{text[:40]}' is not in the mapping's labels"
            number: int | None = self.labels[text]
        elif text.lower() in _TIE_LABELS:
            number = 0
        else:
            number = _label_number(text.lower())
        if number is None:
            return None, f"label '{text[:40]}' names no response"
        if number == 0:
            return tuple(1.0 for _ in range(n)), None
        if not 1 <= number <= n:
            return None, f"label '{text[:40]}' names response {number} of {n}"
        return tuple(1.0 if i == number else 2.0 for i in range(1, n + 1)), None

    def _text_ranking(
        self, answer: dict[str, Any], n: int
    ) -> tuple[tuple[float, ...] | None, str | None]:
        found = self._find_field(answer)
        if found is None:
            return None, f"no {self.field or 'crowd-text-ranking'} answer with a ranking"
        name, value = found
        dimensions = value["ranking"]
        if not isinstance(dimensions, list) or not dimensions:
            return None, f"{name}.ranking is empty"
        chosen = None
        for dim in dimensions:
            if isinstance(dim, dict) and (
                self.dimension is None or dim.get("dimension") == self.dimension
            ):
                chosen = dim
                break
        if chosen is None:
            return None, f"{name} has no dimension '{self.dimension}'"
        ranks = chosen.get("ranks")
        if not isinstance(ranks, list) or len(ranks) != n:
            return None, f"{name}: ranks do not list all {n} responses"
        numbers: list[float] = []
        for value_ in ranks:
            number = _number(value_)
            if number is None or number != int(number):
                return None, f"{name}: rank {json.dumps(value_)[:20]} is not a whole number"
            if not 1 <= number <= n:
                return None, f"{name}: rank {_fmt(number)} is outside 1..{n}"
            numbers.append(number)
        # Without allowTie in the answer, the element already refused ties where the
        # template forbids them: accept what it let through.
        allow_tie = chosen.get("allowTie", True)
        strict = self.permutation if self.permutation is not None else not allow_tie
        if strict and sorted(numbers) != [float(i) for i in range(1, n + 1)]:
            return None, f"{name}: ranks are not a permutation of 1..{n}"
        return tuple(numbers), None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an integer of hundreds of digits: no rank or rating
            return None
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _label_number(text: str) -> int | None:
    match = _NUMBERED.match(text)
    if match is None:
        return None
    token = match.group(1)
    return int(token) if token.isdigit() else ord(token) - ord("a") + 1


def _fmt(number: float) -> str:
    return str(int(number)) if number == int(number) else str(number)


BUILT_INS: dict[str, Mapping] = {
    "auto": Mapping(
        name="auto",
        kind="auto",
        prompt="inputContent.prompt",
        responses="inputContent.responses",
        field=None,
    ),
    "notebook": Mapping(name="notebook", kind="rank-fields"),
    "classifier": Mapping(name="classifier", kind="label", field=None),
    "text-ranking": Mapping(
        name="text-ranking",
        kind="text-ranking",
        prompt="inputContent.source",
        responses="inputContent.responses",
        field=None,
        permutation=None,
    ),
    "preference": Mapping(
        name="preference",
        kind="preference",
        prompt="inputContent.prompt",
        responses="inputContent.responses",
        field=None,
    ),
}

_KEYS = {
    "base",
    "kind",
    "prompt",
    "responses",
    "response_text",
    "field",
    "best",
    "permutation",
    "range",
    "labels",
    "dimension",
}


def load_mapping(spec: str) -> Mapping:
    """A built-in name, a JSON file, or inline JSON -> a Mapping (ExportInputError if bad)."""
    if spec in BUILT_INS:
        return BUILT_INS[spec]
    text: str | bytes = spec
    if not spec.lstrip().startswith("{"):
        path = Path(spec)
        if not path.is_file():
            raise ExportInputError(
                f"unknown mapping '{spec}': give {', '.join(BUILT_INS)}, a JSON file or inline JSON"
            )
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise ExportInputError(f"cannot read the mapping {spec}: {exc.strerror}") from None
    try:
        doc = json_values.parse(text, "the mapping")
    except ValidationError as exc:
        raise ExportInputError(exc.message) from None
    if not isinstance(doc, dict):
        raise ExportInputError("a mapping must be a JSON object")
    return mapping_from_dict(doc)


def mapping_from_dict(doc: dict[str, Any]) -> Mapping:
    unknown = sorted(set(doc) - _KEYS)
    if unknown:
        raise ExportInputError(f"unknown mapping key(s): {', '.join(unknown)}")
    base_name = doc.get("base", "notebook" if "kind" not in doc else None)
    if base_name == "auto":
        raise ExportInputError(
            "base 'auto' picks a mapping per loop and takes no keys: give base 'preference' "
            "or 'notebook'"
        )
    if base_name is not None and base_name not in BUILT_INS:
        raise ExportInputError(f"unknown base mapping '{base_name}'")
    if base_name is None and doc.get("kind") == "preference":
        base_name = "preference"  # its paths, not the notebook's
    kind = doc.get("kind", BUILT_INS[base_name].kind if base_name else None)
    if kind not in KINDS:
        raise ExportInputError(f"mapping kind must be one of {', '.join(KINDS)}")
    base = (
        BUILT_INS[base_name]
        if base_name
        else Mapping(
            name="custom",
            kind=kind,
            field="response_{i}_ranking" if kind == "rank-fields" else None,
            permutation=None if kind == "text-ranking" else False,
        )
    )
    changes: dict[str, Any] = {"name": "custom", "kind": kind}
    for key in ("prompt", "responses", "response_text", "field", "dimension"):
        if key in doc:
            if doc[key] is not None and not isinstance(doc[key], str):
                raise ExportInputError(f"mapping key '{key}' must be text")
            changes[key] = doc[key]
    if "best" in doc:
        if doc["best"] not in ("lowest", "highest"):
            raise ExportInputError("mapping key 'best' must be 'lowest' or 'highest'")
        changes["best"] = doc["best"]
    if "permutation" in doc:
        if doc["permutation"] not in (True, False, None):
            raise ExportInputError("mapping key 'permutation' must be true, false or null")
        changes["permutation"] = doc["permutation"]
    if "range" in doc:
        bounds = doc["range"]
        if not (
            isinstance(bounds, list)
            and len(bounds) == 2
            and all(_number(b) is not None for b in bounds)
            and float(bounds[0]) <= float(bounds[1])
        ):
            raise ExportInputError("mapping key 'range' must be [low, high]")
        changes["range"] = (float(bounds[0]), float(bounds[1]))
    if "labels" in doc:
        labels = doc["labels"]
        if not isinstance(labels, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in labels.values()
        ):
            raise ExportInputError(
                "mapping key 'labels' must map each label to a response number (0 for a tie)"
            )
        changes["labels"] = {str(k): int(v) for k, v in labels.items()}
    if kind != base.kind and "field" not in doc:
        changes["field"] = None if kind != "rank-fields" else "response_{i}_ranking"
    if (
        kind == "rank-fields"
        and changes.get("field", base.field)
        and "{i}" not in str(changes.get("field", base.field))
    ):
        raise ExportInputError("a rank-fields mapping's 'field' must contain {i}")
    return replace(base, **changes)
