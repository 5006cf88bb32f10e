"""The export: source -> outputs -> rankings -> rows (pairs, rankings or tidy) -> a writer.

Streams: output files are handled in chunks (in worker processes when ``jobs`` > 1), rows
reach the writer as Arrow batches, statistics are gathered as compact arrays. Nothing is
moved into place unless rows were written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from handloop.feedback import preference
from handloop.feedback.card import dataset_card
from handloop.feedback.export_result import ExportResult
from handloop.feedback.formats import MARGIN_FORMATS
from handloop.feedback.mappings import BUILT_INS, Mapping
from handloop.feedback.options import ExportOptions, split_of
from handloop.feedback.output_files import NotAnOutput, parse_output
from handloop.feedback.pipeline import item_pairs, run_chunks, trusted
from handloop.feedback.problems import ExportInputError
from handloop.feedback.sources import OutputSource
from handloop.feedback.standing import Dropped, WorkerStanding
from handloop.feedback.tidy import TIDY_SCHEMA
from handloop.feedback.writers import SPLITS, Sink, open_sink

__all__ = ["ExportOptions", "ExportResult", "item_pairs", "run_export", "split_of"]

# How many files the margin decision may read before it gives up looking for answers.
_PEEK_FILES = 50


class Progress(Protocol):
    def start(self, total: int) -> None: ...

    def advance(self, done: int) -> None: ...


class _Batcher:
    """Gathers chunk batches per split and hands the writer about ``batch_rows`` at a time."""

    def __init__(self, sink: Sink, result: ExportResult, batch_rows: int) -> None:
        self.sink, self.result, self.batch_rows = sink, result, batch_rows
        self.pending: dict[str, list[pa.RecordBatch]] = {split: [] for split in SPLITS}
        self.sizes = dict.fromkeys(SPLITS, 0)

    def add(self, split: str, batch: pa.RecordBatch) -> None:
        self.pending[split].append(batch)
        self.sizes[split] += batch.num_rows
        if self.sizes[split] >= self.batch_rows:
            self.flush(split)

    def flush(self, split: str) -> None:
        batches = self.pending[split]
        if not batches:
            return
        self.sink.write(pa.Table.from_batches(batches), split)
        self.result.rows[split] += self.sizes[split]
        self.pending[split], self.sizes[split] = [], 0


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
    tidy = options.format == "tidy"
    if options.weights == "trust" and tidy:
        raise ExportInputError(
            "--weights trust weighs pairs and rankings; --format tidy writes the answers as "
            "they are (the workers' trust: handloop workers list --flow NAME --json)"
        )
    if options.uses_standing and options.standing is None:
        options = replace(options, standing=read_standing(source, options))
    locations = source.locations()
    if not locations:
        raise ExportInputError(f"no A2I output files (output.json) found in {source.description}")
    if options.margin_column is None:
        options = replace(
            options, margin_column=_answers_carry_margins(source, locations, mapping, options)
        )
    schema = TIDY_SCHEMA if tidy else options.shape.schema()
    sink = open_sink(path, schema, overwrite=options.overwrite)
    try:
        if progress is not None:
            progress.start(len(locations))
        batcher = _Batcher(sink, result, options.batch_rows)
        chunks = run_chunks(
            locations,
            source.read,
            mapping,
            options,
            parallel_reader=source.parallel_reader(),
        )
        for chunk in chunks:
            result.add(chunk)
            for split, batch in chunk.batches:
                batcher.add(split, batch)
            if progress is not None:
                progress.advance(chunk.locations)
        for split in SPLITS:
            batcher.flush(split)
        if options.format == "sft" and result.total_rows == 0:
            raise ExportInputError(
                f"no response-edit answers were found that change a response in "
                f"{result.outputs} output file(s): --format sft has no rows to write"
            )
        if result.total_rows == 0 or (not tidy and result.matched_answers == 0):
            raise ExportInputError(_nothing_message(result, mapping, options))
        sink.commit(dataset_card(result, mapping, options, source))
    except BaseException:
        sink.abort()
        raise
    return result


def read_standing(source: OutputSource, options: ExportOptions) -> WorkerStanding:
    """The workers' standing on the source's flow, which ``--min-trust`` and ``--weights
    trust`` need; ExportInputError when the source cannot tell it (only the store knows
    trust: an output file names its workers, not how far they are trusted)."""
    if options.min_trust is not None and not 0.0 <= options.min_trust <= 1.0:
        raise ExportInputError(f"--min-trust is a trust from 0 to 1, not {options.min_trust}")
    read = getattr(source, "worker_standing", None)
    if read is None:
        raise ExportInputError(needs_flow_message(options, source.description))
    standing: WorkerStanding = read()
    return standing


def needs_flow_message(options: ExportOptions, description: str) -> str:
    flag = "--min-trust" if options.min_trust is not None else "--weights trust"
    return (
        f"{flag} needs a flow:NAME source (the handloop store knows each worker's trust); "
        f"{description} is not one"
    )


def _answers_carry_margins(
    source: OutputSource, locations: Sequence[str], mapping: Mapping, options: ExportOptions
) -> bool:
    """Whether the export's answers say how much better, judged by the first output file
    that has answers: the sink's columns are fixed before the first row is written."""
    if (
        options.format not in MARGIN_FORMATS
        or options.pairs == "aggregated"
        or mapping.kind not in ("auto", "preference")
    ):
        return False
    for location in locations[:_PEEK_FILES]:
        try:
            output = trusted(parse_output(source.read(location), location), options, Dropped())
        except (OSError, NotAnOutput, LookupError):
            continue  # the export itself reports (or skips) this file
        if not output.answers:
            continue
        contents = [answer.answer_content for answer in output.answers]
        if mapping.resolved(contents).kind != "preference":
            return False
        for content in contents:
            found = preference.find_element_answer(content, mapping.field)
            if found is not None and preference.carries_margin(found[1]):
                return True
        return False
    return False


def _nothing_message(result: ExportResult, mapping: Mapping, options: ExportOptions) -> str:
    stats = result.stats
    if result.outputs == 0 and result.loops_without_output:
        return f"none of the {result.loops_without_output} loop(s) has an output file yet"
    if result.outputs == 0 and result.invalid_files:
        return (
            f"all {result.invalid_file_count} output file(s) are invalid; the first: "
            f"{result.invalid_files[0]}"
        )
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
    elements = 'preference-element answers {"kind": ..., "shownOrder": [...]}'
    if mapping.kind == "auto":
        return f"{elements}, else fields named {BUILT_INS['notebook'].field}"
    if mapping.kind == "preference":
        if mapping.field is None:
            return elements
        return f'a field {mapping.field} holding {{"kind": ..., "shownOrder": [...]}}'
    if mapping.kind == "rank-fields":
        return f"fields named {mapping.field}"
    shape = "label" if mapping.kind == "label" else "ranking"
    return f'{mapping.field or "an answer field"} holding {{"{shape}": ...}}'
