"""Where output files come from: a folder, an S3 prefix, or the handloop store.

Each source lists its output locations first (cheap, and it gives progress a length), then
reads them one at a time, so memory does not grow with the number of loops.

A folder or prefix holding Bedrock model-evaluation results (``*_output.jsonl`` files of
``humanEvaluationResult`` records) is read as such: one loop per record (see
evaluation_export.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from handloop.domain.json_values import check_text
from handloop.errors import ValidationError
from handloop.feedback.evaluation_export import EvaluationOutputSource
from handloop.feedback.evaluation_files import FileSource, is_results_name, results_lines
from handloop.feedback.output_files import is_output_name, printable
from handloop.feedback.problems import ExportInputError

if TYPE_CHECKING:
    from handloop.feedback.s3_source import S3Source


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
    """Every ``output.json`` under a folder (recursively), or one file; or every file
    whose name ``wanted`` accepts."""

    root: Path
    description: str = ""
    wanted: Callable[[str], bool] = is_output_name
    _found: list[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.description = printable(str(self.root))

    def locations(self) -> list[str]:
        if self._found is None:
            if self.root.is_file():
                self._found = [str(self.root)]
            else:
                found: list[str] = []
                _walk(str(self.root), found, self.wanted)
                self._found = found
        return self._found

    def narrowed(self, wanted: Callable[[str], bool]) -> FolderSource:
        """The same folder with only the files ``wanted`` accepts, without walking again."""
        found = [p for p in self.locations() if wanted(os.path.basename(p))]
        return replace(self, wanted=wanted, _found=found)

    def read(self, location: str) -> bytes:
        return read_file(location)

    def provenance(self) -> list[dict[str, Any]]:
        return []

    def parallel_reader(self) -> Callable[[str], bytes] | None:
        return read_file


def _walk(folder: str, found: list[str], wanted: Callable[[str], bool]) -> None:
    """Depth-first, in name order; like os.walk, but with the d_type scandir already has."""
    subfolders: list[str] = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append(entry.name)
                elif wanted(entry.name) and entry.is_file():
                    found.append(entry.path)
    except (NotADirectoryError, PermissionError, FileNotFoundError):
        return
    for name in sorted(subfolders):
        _walk(os.path.join(folder, name), found, wanted)


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
    metric: str | None = None,
) -> OutputSource:
    """``flow:NAME``, ``s3://bucket/prefix`` or a folder (or file) path -> a source.

    A folder or prefix of Bedrock evaluation results gives an EvaluationOutputSource for
    ``metric`` (default: the job's first comparison metric); read it with its
    ``mapping()``."""
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
    listing = _listing(spec, endpoint_url, _output_or_results)
    if listing is None:
        raise ExportInputError(
            f"unknown source '{spec}': give flow:NAME, s3://bucket/prefix, or an existing folder "
            "of output.json files (or of Bedrock evaluation results, *_output.jsonl)"
        )
    if isinstance(listing, FolderSource) and listing.root.is_file():
        # One file is read whatever its name: as results by its name or its first line.
        if is_results_name(listing.root.name) or _holds_evaluation(listing):
            return EvaluationOutputSource.open(listing, metric)
        outputs: FolderSource | S3Source = listing
    else:
        results = listing.narrowed(is_results_name)
        outputs = listing.narrowed(is_output_name)
        if results.locations() and (not outputs.locations() or _holds_evaluation(results)):
            return EvaluationOutputSource.open(results, metric)
    if metric is not None:
        raise ExportInputError(
            f"--metric applies to Bedrock evaluation results (*_output.jsonl), and "
            f"{listing.description} holds none"
        )
    return outputs


def open_results(spec: str, *, endpoint_url: str | None = None) -> FolderSource | S3Source:
    """A folder, a file or ``s3://bucket/prefix`` of Bedrock evaluation results files
    (``*_output.jsonl``, at any depth), for ``evaluation_files.read_records``."""
    if spec.startswith("s3://"):
        try:
            check_text(spec, "the source")
        except ValidationError as exc:
            raise ExportInputError(exc.message) from None
    listing = _listing(spec, endpoint_url, is_results_name)
    if listing is None:
        raise ExportInputError(
            f"unknown source '{spec}': give s3://bucket/prefix or an existing folder of "
            "Bedrock evaluation results (*_output.jsonl)"
        )
    return listing


def _output_or_results(name: str) -> bool:
    return is_output_name(name) or is_results_name(name)


def _listing(
    spec: str, endpoint_url: str | None, wanted: Callable[[str], bool]
) -> FolderSource | S3Source | None:
    """The files ``wanted`` accepts under an S3 prefix or a folder (or one file given by
    its path, whatever its name); None when the path does not exist."""
    if spec.startswith("s3://"):
        from handloop.feedback.s3_source import S3Source

        return S3Source.open(spec, endpoint_url=endpoint_url, wanted=wanted)
    path = Path(spec)
    if path.is_dir() or path.is_file():
        return FolderSource(path, wanted=wanted)
    return None


def _holds_evaluation(results: FileSource) -> bool:
    """Whether the first results file starts with a ``humanEvaluationResult`` record (a
    folder that also holds output.json files is read as evaluation results only then)."""
    try:
        data = results.read(results.locations()[0])
    except (OSError, LookupError):
        return False
    for _, line in results_lines(data):
        return b'"humanEvaluationResult"' in line
    return False
