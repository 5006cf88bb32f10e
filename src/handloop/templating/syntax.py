"""Syntax checking of worker task templates, with the line and column of each problem."""

from __future__ import annotations

import re
from dataclasses import dataclass

from liquid import Environment
from liquid.exceptions import LiquidError

from handloop.templating.environment import environment

_BLOCK_TAGS = {"if", "unless", "case", "for", "capture", "tablerow", "comment", "raw"}
_TAG = re.compile(r"{%-?\s*(\w+)")
_OUTPUT = re.compile(r"{{.*?}}", re.DOTALL)


@dataclass(frozen=True)
class TemplateProblem:
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


def _position(source: str, index: int) -> tuple[int, int]:
    line = source.count("\n", 0, index) + 1
    column = index - (source.rfind("\n", 0, index) + 1) + 1
    return line, column


def _locate_unplaced(env: Environment, source: str) -> int:
    """Where an error the parser could not place most likely is."""
    for match in _OUTPUT.finditer(source):
        try:
            env.from_string(match.group(0))
        except LiquidError:
            return match.start()
    stack: list[tuple[str, int]] = []
    for match in _TAG.finditer(source):
        name = match.group(1)
        if name in _BLOCK_TAGS:
            stack.append((name, match.start()))
        elif name.startswith("end") and stack and stack[-1][0] == name[3:]:
            stack.pop()
    return stack[-1][1] if stack else max(len(source) - 1, 0)


def check_syntax(source: str, env: Environment | None = None) -> list[TemplateProblem]:
    """Parse ``source`` with Ground Truth's tags and filters; an empty list means it is
    valid (unknown filters count as problems, as they fail every render)."""
    env = env or environment()
    try:
        template = env.from_string(source)
    except RecursionError:
        return [TemplateProblem(1, 1, "the template nests too deeply")]
    except LiquidError as exc:
        token = getattr(exc, "token", None)
        index = getattr(token, "start_index", -1) if token is not None else -1
        if index is None or index < 0:
            index = _locate_unplaced(env, source)
        line, column = _position(source, index)
        message = getattr(exc, "message", None) or str(exc).splitlines()[0]
        return [TemplateProblem(line, column, str(message))]
    problems = []
    for name, spans in template.analyze().filters.items():
        if name not in env.filters:
            for span in spans:
                line, column = _position(source, span.index)
                problems.append(TemplateProblem(line, column, f"unknown filter '{name}'"))
    return sorted(problems, key=lambda p: (p.line, p.column))
