"""The export's work, in chunks of output files: read, parse, rank, pair, build Arrow batches.

Chunks run in this process, or in worker processes (``jobs`` > 1) when the source can be
read from another process. Results come back in chunk order, so the output does not
depend on the number of workers.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing.context import BaseContext
from typing import Any

import pyarrow as pa

from handloop.feedback.formats import PAIR_FORMATS, RowBuilder
from handloop.feedback.mappings import Mapping
from handloop.feedback.options import ExportOptions, split_of
from handloop.feedback.output_files import LoopOutput, NotAnOutput, parse_output
from handloop.feedback.pairs import (
    Pair,
    aggregated_pairs,
    annotator_pairs,
    bradley_terry_scores,
)
from handloop.feedback.problems import ExportInputError, NoOutputYet
from handloop.feedback.rankings import Judgement, RankedItem, rank_item
from handloop.feedback.standing import Dropped, keep_trusted
from handloop.feedback.stats import StatsCollector
from handloop.feedback.tidy import TidyBuilder
from handloop.feedback.writers import SPLITS

Reader = Callable[[str], bytes]


@dataclass
class ChunkResult:
    batches: list[tuple[str, pa.RecordBatch]] = field(default_factory=list)
    stats: StatsCollector = field(default_factory=StatsCollector)
    locations: int = 0
    outputs: int = 0
    invalid_files: list[str] = field(default_factory=list)
    invalid_file_count: int = 0
    loops_without_output: int = 0
    matched_answers: int = 0
    dropped: Dropped = field(default_factory=Dropped)  # by --min-trust


def item_pairs(item: RankedItem, options: ExportOptions) -> list[Pair]:
    """The item's pairs as the options ask (response edits' pairs included)."""
    keep = options.ties == "keep"
    if options.pairs == "aggregated":
        return aggregated_pairs(item, method=options.aggregate, keep_ties=keep, weigh=options.weigh)
    return annotator_pairs(item, keep_ties=keep)


def trusted(output: LoopOutput, options: ExportOptions, dropped: Dropped) -> LoopOutput:
    """The output without the answers ``--min-trust`` leaves out (all of it without)."""
    if options.min_trust is None or options.standing is None:
        return output
    return keep_trusted(output, options.standing, options.min_trust, dropped)


def _outputs(
    reader: Reader, locations: Sequence[str], options: ExportOptions, chunk: ChunkResult
) -> Iterator[LoopOutput]:
    skip_invalid = options.skip_invalid_files
    for location in locations:
        try:
            output = parse_output(reader(location), location)
        except NoOutputYet:
            chunk.loops_without_output += 1
            continue
        except (OSError, NotAnOutput, LookupError) as exc:
            message = str(exc) if isinstance(exc, NotAnOutput | OSError) else f"{location}: {exc}"
            if not skip_invalid:
                raise ExportInputError(
                    f"{message} (use --skip-invalid-files to skip such files)"
                ) from None
            chunk.invalid_file_count += 1
            if len(chunk.invalid_files) < 20:
                chunk.invalid_files.append(message)
            continue
        chunk.outputs += 1
        yield trusted(output, options, chunk.dropped)


def rows_chunk(
    reader: Reader, locations: Sequence[str], mapping: Mapping | None, options: ExportOptions
) -> ChunkResult:
    """One chunk of an export: its rows as batches (per split) and its statistics."""
    chunk = ChunkResult(locations=len(locations))
    outputs = _outputs(reader, locations, options, chunk)
    if options.format == "tidy" or mapping is None:
        tidy = TidyBuilder()
        for output in outputs:
            tidy.add(output)
            if mapping is not None:  # the table takes no mapping; the statistics do
                chunk.stats.add(rank_item(output, mapping))
        if tidy.rows:
            chunk.batches.append(("train", tidy.take()))
        return chunk
    weigh = options.weigh
    builders = {split: RowBuilder(options.shape, weigh=weigh) for split in SPLITS}
    pairs_wanted = options.format in PAIR_FORMATS
    sft = options.format == "sft"
    aggregated = options.pairs == "aggregated"
    stats = chunk.stats
    items: list[RankedItem] = []
    for output in outputs:
        item = rank_item(output, mapping)
        stats.add(item)
        if item.problem is None:
            items.append(item)
    # Bradley–Terry fits every loop of the chunk at once: numpy per loop would be slow.
    fitted = (
        bradley_terry_scores(items, weigh=weigh)
        if pairs_wanted and aggregated and options.aggregate == "bradley-terry"
        else None
    )
    keep_ties = options.ties == "keep"
    for index, item in enumerate(items):
        chunk.matched_answers += sum(1 for j in item.judgements if j.matched)
        builder = builders[split_of(item.prompt, options.test_size, options.seed)]
        if sft:
            builder.add_edits(item)
        elif pairs_wanted:
            if fitted is not None:
                pairs = aggregated_pairs(
                    item, keep_ties=keep_ties, scores=fitted[index], weigh=weigh
                )
            else:
                pairs = item_pairs(item, options)
            builder.add_pairs(item, pairs)
        elif aggregated:
            valid = [j for j in item.judgements if j.ranks is not None]
            if weigh is None:
                ranks = [j.ranks for j in valid if j.ranks is not None]
                if ranks:
                    means = tuple(sum(col) / len(ranks) for col in zip(*ranks, strict=True))
                    builder.add_ranking(item, means, None, len(ranks))
            else:
                weighted = _weighted_means(valid, weigh)
                if weighted is not None:
                    builder.add_ranking(item, weighted, None, len(valid))
        else:
            for judgement in item.judgements:
                if judgement.ranks is not None:
                    builder.add_ranking(item, judgement.ranks, judgement.worker_id, 1)
    for split, builder in builders.items():
        if builder.rows:
            chunk.batches.append((split, builder.take()))
    return chunk


def _weighted_means(
    judgements: Sequence[Judgement], weigh: Callable[[str], float]
) -> tuple[float, ...] | None:
    """Each response's rank, the weighted mean over the judgements; None when they weigh
    nothing in all (no ranking row, as for a loop without valid answers)."""
    weights = [weigh(j.worker_id) for j in judgements]
    total = sum(weights)
    if not judgements or total <= 0:
        return None
    ranks = [j.ranks for j in judgements if j.ranks is not None]
    return tuple(
        sum(w * r for w, r in zip(weights, col, strict=True)) / total
        for col in zip(*ranks, strict=True)
    )


# Set in each worker process by _start_worker; read by _work.
_WORKER: dict[str, Any] = {}


def _start_worker(reader: Reader, mapping: Mapping | None, options: ExportOptions) -> None:
    _WORKER.update(reader=reader, mapping=mapping, options=options)


def _work(locations: Sequence[str]) -> ChunkResult:
    return rows_chunk(_WORKER["reader"], locations, _WORKER["mapping"], _WORKER["options"])


def run_chunks(
    locations: Sequence[str],
    reader: Reader,
    mapping: Mapping | None,
    options: ExportOptions,
    *,
    parallel_reader: Reader | None,
) -> Iterator[ChunkResult]:
    """Chunk results in order; in worker processes when allowed and worthwhile."""
    size = max(1, options.chunk_size)
    chunks = [locations[i : i + size] for i in range(0, len(locations), size)]
    jobs = min(options.jobs, len(chunks))
    if jobs <= 1 or parallel_reader is None:
        for part in chunks:
            yield rows_chunk(reader, part, mapping, options)
        return
    # forkserver: workers start from a clean process, safe whatever threads this one has.
    context: BaseContext
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["handloop.feedback.pipeline"])
    else:
        context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        jobs,
        mp_context=context,
        initializer=_start_worker,
        initargs=(parallel_reader, mapping, options),
    ) as pool:
        try:
            pool.submit(_ready).result()
        except BrokenProcessPool:
            # Workers could not start (say, a __main__ they cannot import): work here instead.
            pool.shutdown(wait=False, cancel_futures=True)
            for part in chunks:
                yield rows_chunk(reader, part, mapping, options)
            return
        # A bounded window of chunks in flight keeps memory flat if writing falls behind.
        remaining = iter(chunks)
        pending = deque(pool.submit(_work, part) for part in islice(remaining, 2 * jobs))
        try:
            while pending:
                done = pending.popleft().result()
                following = next(remaining, None)
                if following is not None:
                    pending.append(pool.submit(_work, following))
                yield done
        finally:
            for future in pending:
                future.cancel()


def _ready() -> bool:
    return True
