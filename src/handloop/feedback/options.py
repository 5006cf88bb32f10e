"""What shapes an export besides its source, mapping and target; the split by prompt."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from handloop.feedback.formats import Format, Shape
from handloop.feedback.pairs import Aggregate, Weigh
from handloop.feedback.standing import WorkerStanding


@dataclass(frozen=True)
class ExportOptions:
    format: Format = "trl"
    pairs: Literal["per-annotator", "aggregated"] = "per-annotator"
    aggregate: Aggregate = "mean-rank"
    ties: Literal["drop", "keep"] = "drop"
    reward_labels: Literal["1/0", "1/-1"] = "1/0"
    conversational: bool = False
    test_size: float = 0.1
    seed: int = 0
    skip_invalid_files: bool = False
    overwrite: bool = False
    batch_rows: int = 65_536
    jobs: int = 1  # worker processes that parse and pair outputs
    chunk_size: int = 2_000  # output files per unit of work
    # Per-annotator trl/reward: a margin column. None: run_export decides from the first
    # output file with answers (a column only when those answers say how much better).
    margin_column: bool | None = None
    # Quality control (flow:NAME sources, whose store knows each worker's trust): leave out
    # the answers of workers below this trust, and of workers paused on the flow.
    min_trust: float | None = None
    # "trust": aggregation weighs each annotator by their trust; per-annotator rows get a
    # weight column.
    weights: Literal["none", "trust"] = "none"
    # The workers' standing on the flow: run_export reads it from the source when
    # min_trust or weights ask for it (a plain, picklable value for worker processes).
    standing: WorkerStanding | None = None

    @property
    def shape(self) -> Shape:
        return Shape(
            format=self.format,
            aggregated=self.pairs == "aggregated",
            keep_ties=self.ties == "keep",
            conversational=self.conversational,
            reward_labels=self.reward_labels,
            margin=bool(self.margin_column),
            weight=self.weights == "trust",
        )

    @property
    def uses_standing(self) -> bool:
        """Whether the export needs the workers' standing (so a flow:NAME source)."""
        return self.min_trust is not None or self.weights == "trust"

    @property
    def weigh(self) -> Weigh | None:
        """Each worker's weight in aggregation and the weight column, or None (all 1)."""
        if self.weights != "trust" or self.standing is None:
            return None
        return self.standing.weight


def split_of(prompt: str, test_size: float, seed: int) -> str:
    """'train' or 'test', fixed by the prompt's text, so no prompt is in both."""
    if test_size <= 0:
        return "train"
    digest = hashlib.blake2b(f"{seed}\x00{prompt}".encode(), digest_size=8).digest()
    return "test" if int.from_bytes(digest, "big") / 2**64 < test_size else "train"
