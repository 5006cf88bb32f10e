"""Where output files come from: a folder, an S3 prefix, or the handloop store.

Each source lists its output locations first (cheap, and it gives progress a length), then
reads them one at a time, so memory does not grow with the number of loops.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from handloop.domain.json_values import check_text
from handloop.errors import ValidationError
from handloop.feedback.output_files import OUTPUT_NAME, printable
from handloop.feedback.problems import ExportInputError


class OutputSource(Protocol):
    description: str

    def locations(self) -> Sequence[str]:
        """Every output file's location (a path or an ``s3://`` URI), in a stable order."""
        ...

    def read(self, location: str) -> bytes:
        """The file's bytes; OSError or KeyError-like errors when it cannot be read."""
        ...

    def provenance(self) -> list[dict[str, Any]]:
        """What the data came from (flow definitions, templates), for the dataset card."""
        ...

    def parallel_reader(self) -> Callable[[str], bytes] | None:
        """A picklable reader other processes can use, or None to read in this one only."""
        ...


@dataclass
class FolderSource:
    """Every ``output.json`` under a folder (recursively), or one file."""

    root: Path
    description: str = ""
    _found: list[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.description = printable(str(self.root))

    def locations(self) -> list[str]:
        if self._found is None:
            if self.root.is_file():
                self._found = [str(self.root)]
            else:
                found: list[str] = []
                _walk(str(self.root), found)
                self._found = found
        return self._found

    def read(self, location: str) -> bytes:
        return read_file(location)

    def provenance(self) -> list[dict[str, Any]]:
        return []

    def parallel_reader(self) -> Callable[[str], bytes] | None:
        return read_file


def _walk(folder: str, found: list[str]) -> None:
    """Depth-first, in name order; like os.walk, but with the d_type scandir already has."""
    subfolders: list[str] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append(entry.name)
                elif entry.name == OUTPUT_NAME and entry.is_file():
                    found.append(entry.path)
    except (NotADirectoryError, PermissionError, FileNotFoundError):
        return
    for name in sorted(subfolders):
        _walk(os.path.join(folder, name), found)


def read_file(location: str) -> bytes:
    with open(location, "rb") as handle:
        return handle.read()


def open_source(
    spec: str,
    *,
    settings: Any = None,
    statuses: Sequence[str] = ("Completed",),
    created_after_us: int | None = None,
    created_before_us: int | None = None,
    endpoint_url: str | None = None,
) -> OutputSource:
    """``flow:NAME``, ``s3://bucket/prefix`` or a folder (or file) path -> a source."""
    if spec.startswith(("flow:", "s3://")):
        # A name or a URI, unlike a path, must be valid text (the command line hands bytes
        # that are not UTF-8 over as lone surrogates).
        try:
            check_text(spec, "the source")
        except ValidationError as exc:
            raise ExportInputError(exc.message) from None
    if spec.startswith("flow:"):
        from handloop.feedback.store_source import StoreSource

        name = spec[5:]
        if not name:
            raise ExportInputError("source 'flow:' names no flow definition (flow:NAME)")
        return StoreSource.open(
            settings,
            name,
            statuses=statuses,
            created_after_us=created_after_us,
            created_before_us=created_before_us,
        )
    if spec.startswith("s3://"):
        from handloop.feedback.s3_source import S3Source

        return S3Source.open(spec, endpoint_url=endpoint_url)
    path = Path(spec)
    if path.is_dir() or path.is_file():
        return FolderSource(path)
    raise ExportInputError(
        f"unknown source '{spec}': give flow:NAME, s3://bucket/prefix, or an existing folder "
        "of output.json files"
    )
