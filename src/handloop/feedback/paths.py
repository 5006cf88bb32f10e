"""The path language mappings use: ``inputContent.taskObject.responses[0].text``.

Names are separated by dots; ``[n]`` indexes a list (0-based). A name that is not a
plain identifier can be quoted: ``inputContent["my key"]``.
"""

from __future__ import annotations

import re
from typing import Any

from handloop.feedback.problems import ExportInputError

_TOKEN = re.compile(r'\.?([A-Za-z_$][\w$-]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


class Missing(Exception):
    """The path leads nowhere in this document; the message names the first missing step."""


def parse_path(path: str) -> tuple[str | int, ...]:
    """Split a path into names and indices; ExportInputError when it is malformed."""
    steps: list[str | int] = []
    pos = 0
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if match is None or (pos == 0 and path.startswith(".")):
            raise ExportInputError(f"mapping path '{path}' is malformed at character {pos + 1}")
        name, index, quoted = match.groups()
        if name is not None:
            steps.append(name)
        elif index is not None:
            steps.append(int(index))
        else:
            steps.append(quoted.replace('\\"', '"').replace("\\\\", "\\"))
        pos = match.end()
    if not steps:
        raise ExportInputError("a mapping path is empty")
    return tuple(steps)


def resolve(steps: tuple[str | int, ...], root: Any) -> Any:
    """The value at ``steps`` under ``root``, or Missing."""
    value = root
    for depth, step in enumerate(steps):
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                raise Missing(_show(steps[: depth + 1]))
            value = value[step]
        else:
            if not isinstance(value, dict) or step not in value:
                raise Missing(_show(steps[: depth + 1]))
            value = value[step]
    return value


def _show(steps: tuple[str | int, ...]) -> str:
    out = ""
    for step in steps:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out
