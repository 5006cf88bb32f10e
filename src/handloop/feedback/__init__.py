"""From human answers to training data: preference datasets, statistics, export.

The library behind ``handloop export``::

    from handloop.feedback import ExportOptions, load_mapping, open_source, run_export

    result = run_export(
        open_source("./a2i-outputs"), load_mapping("notebook"), Path("prefs"), ExportOptions()
    )
    print(result.rows, result.stats.summary()["krippendorff_alpha_ordinal"])

See docs/export.md for sources, mappings, formats and statistics. Model-evaluation
results (``*_output.jsonl``) have a report of their own::

    records = read_records(open_results("./results")).records
    report = build_report(records)

(docs/evaluation-results.md).
"""

from handloop.feedback.evaluation_files import EvaluationRecord, read_records
from handloop.feedback.evaluation_report import build_report, format_report, write_report
from handloop.feedback.export import ExportResult, run_export
from handloop.feedback.mappings import BUILT_INS, Mapping, load_mapping
from handloop.feedback.options import ExportOptions, split_of
from handloop.feedback.output_files import LoopOutput, parse_output
from handloop.feedback.pairs import Pair, aggregated_pairs, annotator_pairs
from handloop.feedback.problems import ExportInputError
from handloop.feedback.rankings import RankedItem, rank_item
from handloop.feedback.sources import FolderSource, open_results, open_source
from handloop.feedback.standing import WorkerStanding
from handloop.feedback.stats import StatsCollector
from handloop.feedback.tidy import tidy_table

__all__ = [
    "BUILT_INS",
    "EvaluationRecord",
    "ExportInputError",
    "ExportOptions",
    "ExportResult",
    "FolderSource",
    "LoopOutput",
    "Mapping",
    "Pair",
    "RankedItem",
    "StatsCollector",
    "WorkerStanding",
    "aggregated_pairs",
    "annotator_pairs",
    "build_report",
    "format_report",
    "load_mapping",
    "open_results",
    "open_source",
    "parse_output",
    "rank_item",
    "read_records",
    "run_export",
    "split_of",
    "tidy_table",
    "write_report",
]
