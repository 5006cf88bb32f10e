"""The tidy table: one row per loop x worker x answer field, with the loop's input."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from handloop.feedback.output_files import LoopOutput

TIDY_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string()),
        pa.field("flow_definition_arn", pa.string()),
        pa.field("human_loop_name", pa.string()),
        pa.field("input_content", pa.string()),  # JSON
        pa.field("answer_position", pa.int32()),
        pa.field("worker_id", pa.string()),
        pa.field("acceptance_time", pa.string()),
        pa.field("submission_time", pa.string()),
        pa.field("time_spent_seconds", pa.float64()),
        pa.field("field", pa.string()),
        pa.field("value", pa.string()),  # JSON
    ]
)


class TidyBuilder:
    """Collects tidy rows; ``take()`` returns them as a RecordBatch."""

    def __init__(self) -> None:
        self.rows = 0
        self._reset()

    def _reset(self) -> None:
        self.columns: dict[str, list[Any]] = {name: [] for name in TIDY_SCHEMA.names}

    def add(self, output: LoopOutput) -> None:
        cols = self.columns
        input_json = json.dumps(output.input_content, ensure_ascii=False)
        for answer in output.answers:
            for name, value in answer.answer_content.items():
                cols["source"].append(output.source)
                cols["flow_definition_arn"].append(output.flow_definition_arn)
                cols["human_loop_name"].append(output.human_loop_name)
                cols["input_content"].append(input_json)
                cols["answer_position"].append(answer.position)
                cols["worker_id"].append(answer.worker_id)
                cols["acceptance_time"].append(answer.acceptance_time)
                cols["submission_time"].append(answer.submission_time)
                cols["time_spent_seconds"].append(answer.time_spent_seconds)
                cols["field"].append(name)
                cols["value"].append(json.dumps(value, ensure_ascii=False))
                self.rows += 1

    def take(self) -> pa.RecordBatch:
        batch = pa.RecordBatch.from_pydict(self.columns, schema=TIDY_SCHEMA)
        self._reset()
        self.rows = 0
        return batch


def tidy_table(outputs: list[LoopOutput]) -> pa.Table:
    """The tidy table of some outputs, in memory (the export streams it instead)."""
    builder = TidyBuilder()
    for output in outputs:
        builder.add(output)
    return pa.Table.from_batches([builder.take()], schema=TIDY_SCHEMA)
