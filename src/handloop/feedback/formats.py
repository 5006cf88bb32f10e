"""Output shapes: the columns each format has, and a builder that fills them in batches.

- ``trl``: ``prompt``, ``chosen``, ``rejected`` (text, or message lists when conversational).
- ``reward``: ``trl`` plus ``reward_chosen``, ``reward_rejected`` (1/0 or 1/-1).
- ``notebook``: ``prompt``, ``completion_Yj``, ``completion_Yk``, ``reward_Yj``,
  ``reward_Yk`` (j < k in the loop's response order).
- ``notebook-ranking``: ``prompt``, ``responses``, ``ranking`` (1 = best; ties share a rank).
- ``sft``: ``prompt``, ``completion`` (or ``messages`` when conversational), from response
  edits.
- ``tidy``: one row per loop x worker x answer field (built elsewhere, see tidy.py).

Every pair format also carries ``human_loop_name``, ``worker_id`` (per-annotator) or
``margin``/``agreement``/``annotators`` (aggregated), and ``tie`` when ties are kept.
Per-annotator ``trl`` and ``reward`` carry ``margin`` too when the shape asks for it (the
answers say how much better), and every per-annotator format a ``weight`` (the worker's
trust) under ``--weights trust``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa

from handloop.feedback.pairs import Pair
from handloop.feedback.rankings import RankedItem

Format = Literal["trl", "reward", "notebook", "notebook-ranking", "sft", "tidy"]
FORMATS: tuple[str, ...] = ("trl", "reward", "notebook", "notebook-ranking", "sft", "tidy")
PAIR_FORMATS = ("trl", "reward", "notebook")
# Per-annotator formats that can carry each annotator's margin (TRL's RewardTrainer reads it).
MARGIN_FORMATS = ("trl", "reward")

_MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])


@dataclass(frozen=True)
class Shape:
    """What a pair or ranking table looks like: format and the options that change columns."""

    format: Format
    aggregated: bool = False
    keep_ties: bool = False
    conversational: bool = False
    reward_labels: Literal["1/0", "1/-1"] = "1/0"
    margin: bool = False  # per-annotator trl/reward: a margin column
    weight: bool = False  # per-annotator: a weight column (--weights trust)

    @property
    def text_type(self) -> pa.DataType:
        return pa.list_(_MESSAGE) if self.conversational else pa.string()

    @property
    def annotator_margin(self) -> bool:
        return self.margin and not self.aggregated and self.format in MARGIN_FORMATS

    @property
    def annotator_weight(self) -> bool:
        return self.weight and not self.aggregated

    def schema(self) -> pa.Schema:
        fields: list[pa.Field] = []
        if self.format == "sft":
            if self.conversational:
                fields = [pa.field("messages", pa.list_(_MESSAGE))]
            else:
                fields = [pa.field("prompt", pa.string()), pa.field("completion", pa.string())]
            fields.append(pa.field("human_loop_name", pa.string()))
            if not self.aggregated:
                fields.append(pa.field("worker_id", pa.string()))
            if self.annotator_weight:
                fields.append(pa.field("weight", pa.float64()))
            return pa.schema(fields)
        if self.format in ("trl", "reward"):
            fields = [
                pa.field("prompt", self.text_type),
                pa.field("chosen", self.text_type),
                pa.field("rejected", self.text_type),
            ]
            if self.format == "reward":
                fields += [
                    pa.field("reward_chosen", pa.float64()),
                    pa.field("reward_rejected", pa.float64()),
                ]
        elif self.format == "notebook":
            fields = [
                pa.field("prompt", pa.string()),
                pa.field("completion_Yj", pa.string()),
                pa.field("completion_Yk", pa.string()),
                pa.field("reward_Yj", pa.float64()),
                pa.field("reward_Yk", pa.float64()),
            ]
        elif self.format == "notebook-ranking":
            fields = [
                pa.field("prompt", pa.string()),
                pa.field("responses", pa.list_(pa.string())),
                pa.field("ranking", pa.list_(pa.int32())),
            ]
        fields.append(pa.field("human_loop_name", pa.string()))
        if self.aggregated:
            if self.format != "notebook-ranking":
                fields += [pa.field("margin", pa.float64()), pa.field("agreement", pa.float64())]
            fields.append(pa.field("annotators", pa.int32()))
        else:
            fields.append(pa.field("worker_id", pa.string()))
            if self.annotator_margin:
                fields.append(pa.field("margin", pa.float64()))
            if self.annotator_weight:
                fields.append(pa.field("weight", pa.float64()))
        if self.keep_ties and self.format in PAIR_FORMATS:
            fields.append(pa.field("tie", pa.bool_()))
        return pa.schema(fields)

    def rewards(self, tie: bool) -> tuple[float, float]:
        if tie:
            return (0.5, 0.5) if self.reward_labels == "1/0" else (0.0, 0.0)
        return (1.0, 0.0) if self.reward_labels == "1/0" else (1.0, -1.0)


# Text columns held as indices into one list of the batch's texts (each prompt, response,
# edited text and loop name once), so a text repeated over many rows is converted to Arrow
# once.
_INDEXED = frozenset(
    (
        "prompt",
        "chosen",
        "rejected",
        "completion_Yj",
        "completion_Yk",
        "completion",
        "human_loop_name",
    )
)


@dataclass
class RowBuilder:
    """Collects rows column by column; ``take()`` hands them over as a RecordBatch."""

    shape: Shape
    columns: dict[str, list[Any]] = field(default_factory=dict)
    rows: int = 0
    # The weight column's value for a worker (the shape's annotator_weight): their trust.
    weigh: Callable[[str], float] | None = None

    def __post_init__(self) -> None:
        self._schema = self.shape.schema()
        self._margin = self.shape.annotator_margin
        self._weight = self.shape.annotator_weight
        if self._weight and self.weigh is None:
            raise ValueError("a weight column needs weigh (the workers' weights)")
        self._reset()

    def _reset(self) -> None:
        self.columns = {name: [] for name in self._schema.names}
        self._texts: list[str] = []
        # Conversational prompts that are conversations: text index -> messages.
        self._conversations: dict[int, list[dict[str, str]]] = {}
        self.rows = 0

    def _add_texts(self, item: RankedItem) -> tuple[int, int]:
        """Indices of the item's prompt and loop name; between them its responses, then its
        edited texts (the indices Pair uses, from prompt + 1)."""
        base = len(self._texts)
        self._texts.append(item.prompt)
        self._texts.extend(item.responses)
        self._texts.extend(edit.text for edit in item.edits)
        self._texts.append(item.loop)
        if item.prompt_messages is not None and self.shape.conversational:
            self._conversations[base] = _message_list(item.prompt_messages)
        return base, len(self._texts) - 1

    def add_pairs(self, item: RankedItem, pairs: list[Pair]) -> None:
        cols = self.columns
        notebook = self.shape.format == "notebook"
        reward = self.shape.format == "reward"
        prompt, loop = self._add_texts(item)
        first = prompt + 1  # responses[0]
        for pair in pairs:
            cols["prompt"].append(prompt)
            if notebook:
                j, k = sorted((pair.chosen, pair.rejected))
                reward_c, reward_r = self.shape.rewards(pair.tie)
                cols["completion_Yj"].append(first + j)
                cols["completion_Yk"].append(first + k)
                cols["reward_Yj"].append(reward_c if j == pair.chosen else reward_r)
                cols["reward_Yk"].append(reward_c if k == pair.chosen else reward_r)
            else:
                cols["chosen"].append(first + pair.chosen)
                cols["rejected"].append(first + pair.rejected)
                if reward:
                    reward_c, reward_r = self.shape.rewards(pair.tie)
                    cols["reward_chosen"].append(reward_c)
                    cols["reward_rejected"].append(reward_r)
            self._common(loop, pair.worker_id, pair.annotators, pair.margin, pair.agreement)
            if self.shape.keep_ties:
                cols["tie"].append(pair.tie)
        self.rows += len(pairs)

    def add_ranking(
        self, item: RankedItem, ranks: tuple[float, ...], worker_id: str | None, annotators: int
    ) -> None:
        prompt, loop = self._add_texts(item)
        self.columns["prompt"].append(prompt)
        self.columns["responses"].append(list(item.responses))
        self.columns["ranking"].append(competition_ranks(ranks))
        self._common(loop, worker_id, annotators, None, None)
        self.rows += 1

    def add_edits(self, item: RankedItem) -> None:
        """``sft``: one row per response edit, the prompt and the edited text."""
        if not item.edits:
            return
        cols = self.columns
        prompt, loop = self._add_texts(item)
        first_edit = prompt + 1 + len(item.responses)
        asked = _message_list(item.prompt_messages or (("user", item.prompt),))
        for k, edit in enumerate(item.edits):
            if self.shape.conversational:
                cols["messages"].append([*asked, {"role": "assistant", "content": edit.text}])
            else:
                cols["prompt"].append(prompt)
                cols["completion"].append(first_edit + k)
            cols["human_loop_name"].append(loop)
            if not self.shape.aggregated:
                cols["worker_id"].append(edit.worker_id)
            if self._weight and self.weigh is not None:
                cols["weight"].append(self.weigh(edit.worker_id))
        self.rows += len(item.edits)

    def _common(
        self,
        loop: int,
        worker_id: str | None,
        annotators: int,
        margin: float | None,
        agreement: float | None,
    ) -> None:
        cols = self.columns
        cols["human_loop_name"].append(loop)
        if self.shape.aggregated:
            if "margin" in cols:
                cols["margin"].append(margin)
                cols["agreement"].append(agreement)
            cols["annotators"].append(annotators)
        else:
            cols["worker_id"].append(worker_id)
            if self._margin:
                # No margin in the answer: 0 leaves RewardTrainer's loss as it is.
                cols["margin"].append(0.0 if margin is None else margin)
            if self._weight and self.weigh is not None:
                cols["weight"].append(None if worker_id is None else self.weigh(worker_id))

    def take(self) -> pa.RecordBatch:
        texts = pa.array(self._texts, pa.string())
        arrays: list[pa.Array] = []
        for column in self._schema:
            values = self.columns[column.name]
            if column.name == "prompt" and self._conversations and column.type != pa.string():
                # Some prompts are conversations: built row by row (rare, so not column-wise).
                array = pa.array(
                    [
                        self._conversations.get(i) or [{"role": "user", "content": self._texts[i]}]
                        for i in values
                    ],
                    column.type,
                )
            elif column.name in _INDEXED:
                array = texts.take(pa.array(values, pa.int64()))
                if column.type != pa.string():  # conversational: one message per cell
                    array = _messages(array, "user" if column.name == "prompt" else "assistant")
            else:
                array = pa.array(values, column.type)
            arrays.append(array)
        batch = pa.RecordBatch.from_arrays(arrays, schema=self._schema)
        self._reset()
        return batch


def _messages(content: pa.Array, role: str) -> pa.Array:
    """``[{"role": role, "content": text}]`` for each text, built column-wise."""
    roles = pa.repeat(pa.scalar(role, pa.string()), len(content))
    messages = pa.StructArray.from_arrays([roles, content], fields=list(_MESSAGE))
    offsets = pa.array(range(len(content) + 1), pa.int32())
    return pa.ListArray.from_arrays(offsets, messages, type=pa.list_(_MESSAGE))


def _message_list(messages: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"role": role, "content": content} for role, content in messages]


def competition_ranks(ranks: tuple[float, ...]) -> list[int]:
    """1 = best; tied responses share the best rank of their group (1, 2, 2, 4)."""
    return [1 + sum(1 for other in ranks if other < r) for r in ranks]
