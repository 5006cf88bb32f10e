"""Request validation and response shaping driven by botocore's own service models.

botocore ships every service's model (``service-2.json``). For each operation we compile,
once, a checker per shape that validates a parsed request the way AWS's front end does
(required members, string lengths, patterns, enums, numeric ranges, list sizes) and
converts timestamps; and a shaper that turns a handler's plain dict into the wire shape
(timestamps to epoch seconds, ``None`` members left out).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel

from handloop.errors import SerializationError, ValidationError
from handloop.protocols import request_text

Checker = Callable[[Any, str, list[str]], Any]
Shape = Any  # botocore.model.Shape and its subclasses; untyped upstream

_MISSING = object()


@cache
def service_model(name: str) -> ServiceModel:
    """botocore's model of ``name`` (e.g. ``sagemaker``), loaded once per process."""
    return botocore.session.get_session().get_service_model(name)


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _show(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 100 else text[:100] + "..."


def _utf16_len(value: str) -> int:
    # AWS counts string length in UTF-16 code units, as Java does.
    if value.isascii():
        return len(value)
    return len(value.encode("utf-16-le")) // 2


def _parse_timestamp(value: Any) -> datetime:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except ValueError:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise TypeError


class ShapeCompiler:
    """Compiles botocore shapes into checkers, with per-deployment limit overrides."""

    def __init__(self, overrides: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self._checkers: dict[str, Checker] = {}

    def checker(self, shape: Shape) -> Checker:
        name = shape.name
        found = self._checkers.get(name)
        if found is None:
            # Recursive shapes refer to themselves: register a trampoline first.
            def trampoline(value: Any, path: str, errors: list[str]) -> Any:
                return self._checkers[name](value, path, errors)

            self._checkers[name] = trampoline
            found = self._compile(shape)
            self._checkers[name] = found
        return found

    def _meta(self, shape: Shape) -> dict[str, Any]:
        meta = dict(shape.metadata)
        meta.update(self._overrides.get(shape.name, {}))
        return meta

    def _compile(self, shape: Shape) -> Checker:
        kind = shape.type_name
        meta = self._meta(shape)
        if kind == "structure":
            return self._structure(shape)
        if kind == "list":
            return self._list(shape, meta)
        if kind == "map":
            return self._map(shape, meta)
        if kind == "string":
            return self._string(shape, meta)
        if kind in ("integer", "long"):
            return self._number(meta, int)
        if kind in ("float", "double"):
            return self._number(meta, float)
        if kind == "boolean":
            return self._boolean()
        if kind == "timestamp":
            return self._timestamp()
        return lambda value, path, errors: value  # blob and the rest: passed through

    def _structure(self, shape: Shape) -> Checker:
        members = [
            (name, _lower_camel(name), self.checker(member))
            for name, member in shape.members.items()
        ]
        required = list(shape.required_members)

        def check(value: Any, path: str, errors: list[str]) -> Any:
            if not isinstance(value, dict):
                raise SerializationError(f"Expected an object at '{path or 'request'}'.")
            prefix = f"{path}." if path else ""
            for name in required:
                if value.get(name) is None:
                    errors.append(
                        f"Value null at '{prefix}{_lower_camel(name)}' failed to satisfy "
                        "constraint: Member must not be null"
                    )
            out: dict[str, Any] = {}
            for name, wire, member_check in members:
                item = value.get(name, _MISSING)
                if item is _MISSING or item is None:
                    continue
                out[name] = member_check(item, prefix + wire, errors)
            return out

        return check

    def _list(self, shape: Shape, meta: dict[str, Any]) -> Checker:
        item_check = self.checker(shape.member)
        low, high = meta.get("min"), meta.get("max")

        def check(value: Any, path: str, errors: list[str]) -> Any:
            if not isinstance(value, list):
                raise SerializationError(f"Expected a list at '{path}'.")
            if low is not None and len(value) < low:
                errors.append(
                    f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                    f"Member must have length greater than or equal to {low}"
                )
            if high is not None and len(value) > high:
                errors.append(
                    f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                    f"Member must have length less than or equal to {high}"
                )
            return [
                item_check(item, f"{path}.{i + 1}.member", errors) for i, item in enumerate(value)
            ]

        return check

    def _map(self, shape: Shape, meta: dict[str, Any]) -> Checker:
        key_check = self.checker(shape.key)
        value_check = self.checker(shape.value)
        low, high = meta.get("min"), meta.get("max")

        def check(value: Any, path: str, errors: list[str]) -> Any:
            if not isinstance(value, dict):
                raise SerializationError(f"Expected an object at '{path}'.")
            if low is not None and len(value) < low:
                errors.append(
                    f"Value at '{path}' failed to satisfy constraint: "
                    f"Member must have length greater than or equal to {low}"
                )
            if high is not None and len(value) > high:
                errors.append(
                    f"Value at '{path}' failed to satisfy constraint: "
                    f"Member must have length less than or equal to {high}"
                )
            return {
                key_check(k, f"{path}.key", errors): value_check(v, f"{path}.{k}", errors)
                for k, v in value.items()
            }

        return check

    def _string(self, shape: Shape, meta: dict[str, Any]) -> Checker:
        low, high = meta.get("min"), meta.get("max")
        enum = list(shape.enum) if getattr(shape, "enum", None) else None
        pattern_text = meta.get("pattern")
        pattern: re.Pattern[str] | None = None
        if pattern_text and pattern_text not in (".*", "[\\S\\s]*"):
            try:
                pattern = re.compile(pattern_text)
            except re.error:  # a Java-only construct: AWS checks it, we cannot
                pattern = None

        def check(value: Any, path: str, errors: list[str]) -> Any:
            if not isinstance(value, str):
                raise SerializationError(f"Expected a string at '{path}'.")
            if low is not None or high is not None:
                size = (
                    _utf16_len(value) if high is not None and len(value) * 2 > high else len(value)
                )
                if low is not None and size < low:
                    errors.append(
                        f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                        f"Member must have length greater than or equal to {low}"
                    )
                if high is not None and size > high:
                    errors.append(
                        f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                        f"Member must have length less than or equal to {high}"
                    )
            if enum is not None and value not in enum:
                errors.append(
                    f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                    f"Member must satisfy enum value set: [{', '.join(enum)}]"
                )
            # AWS's front end matches the whole value against the pattern (Java's matches()).
            if pattern is not None and pattern.fullmatch(value) is None:
                errors.append(
                    f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
                    f"Member must satisfy regular expression pattern: {pattern_text}"
                )
            return value

        return check

    def _number(self, meta: dict[str, Any], kind: type) -> Checker:
        low, high = meta.get("min"), meta.get("max")

        def check(value: Any, path: str, errors: list[str]) -> Any:
            if isinstance(value, str):
                try:
                    value = kind(value)
                except ValueError:
                    raise SerializationError(f"Expected a number at '{path}'.") from None
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SerializationError(f"Expected a number at '{path}'.")
            if kind is int and isinstance(value, float):
                if not value.is_integer():
                    raise SerializationError(f"Expected an integer at '{path}'.")
                value = int(value)
            if low is not None and value < low:
                errors.append(
                    f"Value '{value}' at '{path}' failed to satisfy constraint: "
                    f"Member must have value greater than or equal to {low}"
                )
            if high is not None and value > high:
                errors.append(
                    f"Value '{value}' at '{path}' failed to satisfy constraint: "
                    f"Member must have value less than or equal to {high}"
                )
            return value

        return check

    @staticmethod
    def _boolean() -> Checker:
        def check(value: Any, path: str, errors: list[str]) -> Any:
            if isinstance(value, str) and value in ("true", "false"):
                return value == "true"
            if not isinstance(value, bool):
                raise SerializationError(f"Expected a boolean at '{path}'.")
            return value

        return check

    @staticmethod
    def _timestamp() -> Checker:
        def check(value: Any, path: str, errors: list[str]) -> Any:
            try:
                return _parse_timestamp(value)
            except (TypeError, ValueError, OverflowError, OSError):
                raise SerializationError(f"Expected a timestamp at '{path}'.") from None

        return check

    def validate(self, operation: OperationModel, params: dict[str, Any]) -> dict[str, Any]:
        """Validate and convert a parsed request; raise AWS's ValidationException."""
        shape = operation.input_shape
        if shape is None:
            return {}
        errors: list[str] = []
        checked: dict[str, Any] = self.checker(shape)(params, "", errors)
        if errors:
            noun = "error" if len(errors) == 1 else "errors"
            raise ValidationError(f"{len(errors)} validation {noun} detected: " + "; ".join(errors))
        return checked


def shape_output(shape: Shape, value: Any) -> Any:
    """A handler's plain result in the wire shape: members in model order, epoch times."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        return {
            name: shape_output(member, value[name])
            for name, member in shape.members.items()
            if value.get(name) is not None
        }
    if kind == "list":
        return [shape_output(shape.member, item) for item in value]
    if kind == "map":
        return {k: shape_output(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        return value.timestamp() if isinstance(value, datetime) else value
    return value


def _path_text(segment: str) -> str:
    return request_text.decode(segment, "The request path", s3_code="InvalidURI")


@dataclass(frozen=True)
class Route:
    """Where a REST operation sits on the wire, from its model's ``http`` trait
    (``method``, ``requestUri``) and the ``uri`` / ``querystring`` members of its input."""

    operation: str
    method: str
    # The path's segments after the leading '/': (text, is_label); a label names its member.
    segments: tuple[tuple[str, bool], ...]
    greedy: bool  # the last label takes the rest of the path ('{Key+}')
    query: tuple[tuple[str, str], ...]  # (wire name, member name)

    @classmethod
    def from_model(cls, operation: OperationModel) -> Route:
        uri = operation.http["requestUri"].split("?", 1)[0]
        labels: dict[str, str] = {}
        query: list[tuple[str, str]] = []
        shape = operation.input_shape
        for name, member in shape.members.items() if shape is not None else ():
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if location == "uri":
                labels[wire] = name
            elif location == "querystring":
                query.append((wire, name))
        segments: list[tuple[str, bool]] = []
        greedy = False
        for part in uri.strip("/").split("/") if uri.strip("/") else []:
            if part.startswith("{") and part.endswith("}"):
                label = part[1:-1]
                greedy = label.endswith("+")
                segments.append((labels[label.rstrip("+")], True))
            else:
                segments.append((part, False))
        return cls(operation.name, operation.http["method"], tuple(segments), greedy, tuple(query))

    def match(self, method: str, raw_path: str) -> dict[str, str] | None:
        """The labels' members if the request is this operation's, else None. Each segment
        of the raw path is percent-decoded exactly once."""
        if method != self.method:
            return None
        parts = raw_path.strip("/").split("/") if raw_path.strip("/") else []
        count = len(self.segments)
        if len(parts) != count and not (self.greedy and len(parts) > count):
            return None
        found: dict[str, str] = {}
        for index, (text, is_label) in enumerate(self.segments):
            if self.greedy and index == count - 1:
                value = "/".join(_path_text(part) for part in parts[index:])
            else:
                value = _path_text(parts[index])
            if not is_label:
                if value != text:
                    return None
            elif not value:
                return None
            else:
                found[text] = value
        return found

    def params(self, labels: dict[str, str], raw_query: str) -> dict[str, Any]:
        """The request's members that travel in the path and the query string."""
        params: dict[str, Any] = dict(labels)
        if self.query and raw_query:
            given = request_text.parse_form(raw_query, "the query")
            for wire, member in self.query:
                if wire in given:
                    params[member] = given[wire]
        return params


def rest_routes(model: ServiceModel, operations: Iterable[str]) -> tuple[Route, ...]:
    """The routes of a REST service's ``operations``, literal paths before labelled ones."""
    routes = [Route.from_model(model.operation_model(name)) for name in operations]
    return tuple(
        sorted(routes, key=lambda r: (sum(is_label for _, is_label in r.segments), r.greedy))
    )
