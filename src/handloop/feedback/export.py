"""The export: source -> outputs -> rankings -> rows (pairs, rankings or tidy) -> a writer.

Streams: one output file at a time, rows handed to the writer in Arrow batches, statistics
gathered as compact arrays. Nothing is moved into place unless rows were written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from handloop.feedback.card import dataset_card
from handloop.feedback.formats import PAIR_FORMATS, Format, RowBuilder, Shape
from handloop.feedback.mappings import Mapping
from handloop.feedback.outputs import LoopOutput, NotAnOutput, parse_output
from handloop.feedback.pairs import Aggregate, Pair, aggregated_pairs, annotator_pairs
from handloop.feedback.problems import ExportInputError, NoOutputYet
from handloop.feedback.rankings import RankedItem, rank_item
from handloop.feedback.sources import OutputSource
from handloop.feedback.stats import StatsCollector
from handloop.feedback.tidy import TIDY_SCHEMA, TidyBuilder
from handloop.feedback.writers import SPLITS, Sink, open_sink


class Progress(Protocol):
    def start(self, total: int) -> None: ...

    def advance(self, done: int) -> None: ...


@dataclass(frozen=True)
class ExportOptions:
    """Everything that shapes an export besides its source, mapping and target path."""

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

    @property
    def shape(self) -> Shape:
        return Shape(
            format=self.format,
            aggregated=self.pairs == "aggregated",
            keep_ties=self.ties == "keep",
            conversational=self.conversational,
            reward_labels=self.reward_labels,
        )


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

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def split_of(prompt: str, test_size: float, seed: int) -> str:
    """'train' or 'test', fixed by the prompt's text, so no prompt is in both."""
    if test_size <= 0:
        return "train"
    digest = hashlib.blake2b(f"{seed}\x00{prompt}".encode(), digest_size=8).digest()
    return "test" if int.from_bytes(digest, "big") / 2**64 < test_size else "train"


def iter_outputs(
    source: OutputSource,
    result: ExportResult,
    *,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> Iterator[LoopOutput]:
    """Every output of the source, parsed; invalid files stop it (or are counted, skipped)."""
    locations = source.locations()
    if not locations:
        raise ExportInputError(f"no A2I output files (output.json) found in {source.description}")
    if progress is not None:
        progress.start(len(locations))
    step = 256
    for done, location in enumerate(locations, 1):
        try:
            output = parse_output(source.read(location), location)
        except NoOutputYet:
            result.loops_without_output += 1
        except (OSError, NotAnOutput, LookupError) as exc:
            message = str(exc) if isinstance(exc, NotAnOutput | OSError) else f"{location}: {exc}"
            if not skip_invalid:
                raise ExportInputError(
                    f"{message} (use --skip-invalid-files to skip such files)"
                ) from None
            result.invalid_file_count += 1
            if len(result.invalid_files) < 20:
                result.invalid_files.append(message)
        else:
            result.outputs += 1
            yield output
        if progress is not None and done % step == 0:
            progress.advance(step)
    if progress is not None:
        progress.advance(len(locations) % step)


def item_pairs(item: RankedItem, options: ExportOptions) -> list[Pair]:
    keep = options.ties == "keep"
    if options.pairs == "aggregated":
        return aggregated_pairs(item, method=options.aggregate, keep_ties=keep)
    return annotator_pairs(item, keep_ties=keep)


def run_export(
    source: OutputSource,
    mapping: Mapping,
    path: Path,
    options: ExportOptions,
    *,
    progress: Progress | None = None,
) -> ExportResult:
    """Export ``source`` to ``path``; ExportInputError (and nothing written) on bad input."""
    result = ExportResult(path=path)
    shape = options.shape
    schema = TIDY_SCHEMA if options.format == "tidy" else shape.schema()
    sink = open_sink(path, schema, overwrite=options.overwrite)
    try:
        if options.format == "tidy":
            _export_tidy(source, sink, options, result, progress)
        else:
            _export_rows(source, mapping, sink, options, result, progress)
        if result.total_rows == 0:
            raise ExportInputError(_nothing_message(result, mapping, options))
        card = dataset_card(result, mapping, options, source)
        sink.commit(card)
    except BaseException:
        sink.abort()
        raise
    return result


def _export_tidy(
    source: OutputSource,
    sink: Sink,
    options: ExportOptions,
    result: ExportResult,
    progress: Progress | None,
) -> None:
    builder = TidyBuilder()
    for output in iter_outputs(
        source, result, skip_invalid=options.skip_invalid_files, progress=progress
    ):
        builder.add(output)
        if builder.rows >= options.batch_rows:
            result.rows["train"] += builder.rows
            sink.write(builder.take(), "train")
    if builder.rows:
        result.rows["train"] += builder.rows
        sink.write(builder.take(), "train")


def _export_rows(
    source: OutputSource,
    mapping: Mapping,
    sink: Sink,
    options: ExportOptions,
    result: ExportResult,
    progress: Progress | None,
) -> None:
    shape = options.shape
    builders = {split: RowBuilder(shape) for split in SPLITS}
    pairs_wanted = options.format in PAIR_FORMATS
    aggregated = options.pairs == "aggregated"
    stats = result.stats
    for output in iter_outputs(
        source, result, skip_invalid=options.skip_invalid_files, progress=progress
    ):
        item = rank_item(output, mapping)
        stats.add(item)
        if item.problem is not None:
            continue
        result.matched_answers += sum(1 for j in item.judgements if j.matched)
        builder = builders[split_of(item.prompt, options.test_size, options.seed)]
        if pairs_wanted:
            builder.add_pairs(item, item_pairs(item, options))
        elif aggregated:
            valid = [j.ranks for j in item.judgements if j.ranks is not None]
            if valid:
                means = tuple(sum(col) / len(valid) for col in zip(*valid, strict=True))
                builder.add_ranking(item, means, None, len(valid))
        else:
            for judgement in item.judgements:
                if judgement.ranks is not None:
                    builder.add_ranking(item, judgement.ranks, judgement.worker_id, 1)
        if builder.rows >= options.batch_rows:
            _flush(builders, sink, result)
    _flush(builders, sink, result)
    if result.matched_answers == 0:
        raise ExportInputError(_nothing_message(result, mapping, options))


def _flush(builders: dict[str, RowBuilder], sink: Sink, result: ExportResult) -> None:
    for split, builder in builders.items():
        if builder.rows:
            result.rows[split] += builder.rows
            sink.write(builder.take(), split)


def _nothing_message(result: ExportResult, mapping: Mapping, options: ExportOptions) -> str:
    stats = result.stats
    if result.outputs == 0 and result.loops_without_output:
        return f"none of the {result.loops_without_output} loop(s) has an output file yet"
    if options.format == "tidy":
        return f"the {result.outputs} output file(s) hold no answers: nothing to export"
    if stats.unusable_items and not stats.answers:
        reason, count = stats.unusable_items.most_common(1)[0]
        return (
            f"mapping '{mapping.name}' matches nothing: {count} of {stats.items} loop(s) "
            f"have {reason}"
        )
    if result.matched_answers == 0:
        return (
            f"mapping '{mapping.name}' matches no answer in {result.outputs} output file(s) "
            f"({stats.answers} answers; the mapping reads {_reads(mapping)})"
        )
    reasons = ", ".join(f"{r} ({c})" for r, c in stats.invalid_reasons.most_common(3))
    tail = f"; invalid answers: {reasons}" if reasons else ""
    return f"no rows to export: every pair was a tie or every answer invalid{tail}"


def _reads(mapping: Mapping) -> str:
    if mapping.kind == "rank-fields":
        return f"fields named {mapping.field}"
    shape = "label" if mapping.kind == "label" else "dimensions"
    return f'{mapping.field or "an answer field"} holding {{"{shape}": ...}}'
