"""What an export did: files read, rows written per split, invalid files, statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from handloop.feedback.pipeline import ChunkResult
from handloop.feedback.standing import Dropped
from handloop.feedback.stats import StatsCollector
from handloop.feedback.writers import SPLITS


@dataclass
class ExportResult:
    path: Path
    outputs: int = 0
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    invalid_files: list[str] = field(default_factory=list)
    invalid_file_count: int = 0
    matched_answers: int = 0
    loops_without_output: int = 0  # store source: unfinished loops have no output yet
    stats: StatsCollector = field(default_factory=StatsCollector)
    dropped: Dropped = field(default_factory=Dropped)  # answers --min-trust left out

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def add(self, chunk: ChunkResult) -> None:
        self.outputs += chunk.outputs
        self.invalid_file_count += chunk.invalid_file_count
        self.invalid_files.extend(chunk.invalid_files[: max(0, 20 - len(self.invalid_files))])
        self.matched_answers += chunk.matched_answers
        self.loops_without_output += chunk.loops_without_output
        self.stats.merge(chunk.stats)
        self.dropped.merge(chunk.dropped)
