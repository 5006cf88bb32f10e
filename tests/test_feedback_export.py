"""The export library on folders of A2I-format output files: every writer and format."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from handloop.feedback.export import ExportOptions, run_export, split_of
from handloop.feedback.mappings import load_mapping
from handloop.feedback.problems import ExportInputError
from handloop.feedback.sources import FolderSource
from tests.fixtures.feedback.builders import a2i_output, notebook_answer, write_outputs

FIXTURES = Path(__file__).parent / "fixtures" / "feedback"


def many_items(count: int) -> list[dict[str, object]]:
    docs = []
    for k in range(count):
        answers = [
            ("alice", notebook_answer([1, 2, 3])),
            ("bob", notebook_answer([1, 3, 2] if k % 2 else [1, 2, 3])),
            ("carol", notebook_answer([2, 1, 3] if k % 3 == 0 else [1, 1, 3])),
        ]
        docs.append(a2i_output(f"loop-{k}", f"prompt {k}", [f"a{k}", f"b{k}", f"c{k}"], answers))
    return docs


def read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_notebook_sample_golden_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    result = run_export(
        FolderSource(FIXTURES / "notebook-sample"), load_mapping("notebook"), out, ExportOptions()
    )
    assert read_jsonl(out) == read_jsonl(FIXTURES / "notebook-sample-trl.jsonl")
    assert result.total_rows == 3 and result.outputs == 1


def test_parquet_matches_jsonl(tmp_path: Path) -> None:
    src = write_outputs(tmp_path / "outputs", many_items(30))
    mapping = load_mapping("notebook")
    run_export(FolderSource(src), mapping, tmp_path / "p.parquet", ExportOptions(batch_rows=7))
    run_export(FolderSource(src), mapping, tmp_path / "p.jsonl", ExportOptions())
    table = pq.read_table(tmp_path / "p.parquet")
    assert table.column_names == ["prompt", "chosen", "rejected", "human_loop_name", "worker_id"]
    assert table.to_pylist() == read_jsonl(tmp_path / "p.jsonl")
    # alice 3 + bob 3 + carol (3 on every third item, else 2 because of a tie)
    assert table.num_rows == 30 * 6 + 10 * 3 + 20 * 2


def test_dataset_dict_loads_with_trl_columns_and_disjoint_splits(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    src = write_outputs(tmp_path / "outputs", many_items(60))
    out = tmp_path / "dataset"
    result = run_export(
        FolderSource(src), load_mapping("notebook"), out, ExportOptions(test_size=0.3, seed=7)
    )
    loaded = datasets.load_from_disk(str(out))
    assert set(loaded) == {"train", "test"}
    for split in ("train", "test"):
        features = loaded[split].features
        for column in ("prompt", "chosen", "rejected"):
            assert features[column] == datasets.Value("string")
        assert loaded[split].num_rows == result.rows[split] > 0
    assert not set(loaded["train"]["prompt"]) & set(loaded["test"]["prompt"])
    card = (out / "README.md").read_text()
    assert "Krippendorff's alpha (ordinal)" in card and "flow-definition/llm-ranking" in card


def test_conversational_dataset_dict_has_message_lists(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    src = write_outputs(tmp_path / "outputs", many_items(4))
    out = tmp_path / "chat"
    options = ExportOptions(conversational=True, test_size=0.0)
    run_export(FolderSource(src), load_mapping("notebook"), out, options)
    train = datasets.load_from_disk(str(out))["train"]
    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    for column in ("prompt", "chosen", "rejected"):
        assert train.data.schema.field(column).type == pa.list_(message)
    assert train[0]["prompt"] == [{"role": "user", "content": "prompt 0"}]
    assert train[0]["chosen"][0]["role"] == "assistant"


def test_conversational_and_reward_formats(tmp_path: Path) -> None:
    src = write_outputs(tmp_path / "outputs", many_items(3))
    mapping = load_mapping("notebook")
    run_export(FolderSource(src), mapping, tmp_path / "c.jsonl", ExportOptions(conversational=True))
    row = read_jsonl(tmp_path / "c.jsonl")[0]
    assert row["prompt"] == [{"role": "user", "content": "prompt 0"}]
    assert row["chosen"] == [{"role": "assistant", "content": "a0"}]
    options = ExportOptions(format="reward", reward_labels="1/-1", ties="keep")
    run_export(FolderSource(src), mapping, tmp_path / "r.jsonl", options)
    rows = read_jsonl(tmp_path / "r.jsonl")
    assert {(r["reward_chosen"], r["reward_rejected"], r["tie"]) for r in rows} == {
        (1.0, -1.0, False),
        (0.0, 0.0, True),
    }


def test_notebook_shapes(tmp_path: Path) -> None:
    doc = a2i_output("l", "p", ["a", "b", "c"], [("w", notebook_answer([3, 1, 2]))])
    src = write_outputs(tmp_path / "outputs", [doc])
    mapping = load_mapping("notebook")
    run_export(FolderSource(src), mapping, tmp_path / "n.jsonl", ExportOptions(format="notebook"))
    rows = {(r["completion_Yj"], r["completion_Yk"]): r for r in read_jsonl(tmp_path / "n.jsonl")}
    assert set(rows) == {("a", "b"), ("a", "c"), ("b", "c")}
    assert (rows[("a", "b")]["reward_Yj"], rows[("a", "b")]["reward_Yk"]) == (0.0, 1.0)
    assert (rows[("b", "c")]["reward_Yj"], rows[("b", "c")]["reward_Yk"]) == (1.0, 0.0)
    run_export(
        FolderSource(src), mapping, tmp_path / "k.jsonl", ExportOptions(format="notebook-ranking")
    )
    (ranking,) = read_jsonl(tmp_path / "k.jsonl")
    assert ranking == {
        "prompt": "p",
        "responses": ["a", "b", "c"],
        "ranking": [3, 1, 2],
        "human_loop_name": "l",
        "worker_id": "w",
    }


def test_tidy_table(tmp_path: Path) -> None:
    src = write_outputs(tmp_path / "outputs", many_items(2))
    out = tmp_path / "tidy.parquet"
    result = run_export(
        FolderSource(src), load_mapping("notebook"), out, ExportOptions(format="tidy")
    )
    table = pq.read_table(out)
    assert table.num_rows == result.total_rows == 2 * 3 * 3
    row = table.slice(0, 1).to_pylist()[0]
    assert row["field"] == "response_1_ranking" and row["value"] == '"1"'
    assert json.loads(row["input_content"])["taskObject"]["prompt"] == "prompt 0"
    # The rows take no mapping, but the statistics do.
    assert result.stats.summary()["valid_answers"] == 6


def test_split_is_a_function_of_the_prompt() -> None:
    assert split_of("x", 0.0, 1) == "train"
    assert split_of("x", 1.0, 1) == "test"
    assert {split_of(f"p{i}", 0.5, 3) for i in range(50)} == {"train", "test"}


@pytest.mark.parametrize(
    ("setup", "mapping", "message"),
    [
        ("empty", "notebook", "no A2I output files"),
        ("not-json", "notebook", "not JSON"),
        ("not-a2i", "notebook", "not an A2I output (no humanAnswers"),
        ("ok", "classifier", "mapping 'classifier' matches no answer in 3 output file(s)"),
        (
            "ok",
            '{"prompt": "inputContent.question"}',
            "matches nothing: 3 of 3 loop(s) have no prompt at inputContent.question",
        ),
        ("all-ties", "notebook", "no rows to export"),
    ],
)
def test_bad_input_is_an_error_and_writes_nothing(
    tmp_path: Path, setup: str, mapping: str, message: str
) -> None:
    src = tmp_path / "outputs"
    src.mkdir()
    if setup == "not-json":
        (src / "output.json").write_text("{nope")
    elif setup == "not-a2i":
        (src / "output.json").write_text('{"hello": 1}')
    elif setup == "ok":
        write_outputs(src, many_items(3))
    elif setup == "all-ties":
        write_outputs(src, [a2i_output("l", "p", ["a", "b"], [("w", notebook_answer([1, 1]))])])
    out = tmp_path / "out.parquet"
    with pytest.raises(ExportInputError) as info:
        run_export(FolderSource(src), load_mapping(mapping), out, ExportOptions())
    assert message in info.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outputs"]


def test_skip_invalid_files_counts_them(tmp_path: Path) -> None:
    src = write_outputs(tmp_path / "outputs", many_items(2))
    (src / "bad").mkdir()
    (src / "bad" / "output.json").write_text("[]")
    result = run_export(
        FolderSource(src),
        load_mapping("notebook"),
        tmp_path / "o.jsonl",
        ExportOptions(skip_invalid_files=True),
    )
    assert result.invalid_file_count == 1 and result.outputs == 2
    assert "not a JSON object" in result.invalid_files[0]


def test_existing_target_needs_overwrite(tmp_path: Path) -> None:
    src = FolderSource(FIXTURES / "notebook-sample")
    out = tmp_path / "o.jsonl"
    out.write_text("keep me")
    with pytest.raises(ExportInputError, match="exists"):
        run_export(src, load_mapping("notebook"), out, ExportOptions())
    assert out.read_text() == "keep me"
    run_export(src, load_mapping("notebook"), out, ExportOptions(overwrite=True))
    assert len(out.read_text().splitlines()) == 3


def test_worker_processes_give_the_same_rows_and_stats(tmp_path: Path) -> None:
    src = write_outputs(tmp_path / "outputs", many_items(50))
    mapping = load_mapping("notebook")
    one = run_export(
        FolderSource(src), mapping, tmp_path / "one.parquet", ExportOptions(chunk_size=7)
    )
    two = run_export(
        FolderSource(src),
        mapping,
        tmp_path / "two.parquet",
        ExportOptions(chunk_size=7, jobs=2),
    )
    assert pq.read_table(tmp_path / "one.parquet").equals(pq.read_table(tmp_path / "two.parquet"))
    assert one.stats.summary() == two.stats.summary()
    assert one.rows == two.rows


def test_invalid_file_in_a_worker_is_the_same_clear_error(tmp_path: Path) -> None:
    src = write_outputs(tmp_path / "outputs", many_items(20))
    (src / "zzz").mkdir()
    (src / "zzz" / "output.json").write_text("not json")
    with pytest.raises(ExportInputError, match="not JSON"):
        run_export(
            FolderSource(src),
            load_mapping("notebook"),
            tmp_path / "o.parquet",
            ExportOptions(chunk_size=5, jobs=2),
        )
    assert not (tmp_path / "o.parquet").exists()


@pytest.mark.parametrize(
    ("folder", "mapping", "rows"),
    [
        (
            "classifier-sample",
            "classifier",
            # worker-a picks B; worker-b's Tie gives no pair.
            [("Seven.", "Nine.", "worker-a")],
        ),
        (
            "text-ranking-sample",
            "text-ranking",
            # Clarity ranks [1, 3, 1] (ties allowed): 0 and 2 tie, both beat 1.
            [
                (
                    "Exercise improves heart health, mood and sleep.",
                    "It is good.",
                    "worker-c",
                ),
                (
                    "Regular activity lowers disease risk and boosts energy.",
                    "It is good.",
                    "worker-c",
                ),
            ],
        ),
        (
            "text-ranking-sample",
            '{"base": "text-ranking", "dimension": "Inclusivity"}',
            [
                ("Exercise improves heart health, mood and sleep.", "It is good.", "worker-c"),
                (
                    "Regular activity lowers disease risk and boosts energy.",
                    "Exercise improves heart health, mood and sleep.",
                    "worker-c",
                ),
                (
                    "Regular activity lowers disease risk and boosts energy.",
                    "It is good.",
                    "worker-c",
                ),
            ],
        ),
    ],
)
def test_golden_element_outputs(
    tmp_path: Path, folder: str, mapping: str, rows: list[tuple[str, str, str]]
) -> None:
    out = tmp_path / "o.jsonl"
    result = run_export(
        FolderSource(FIXTURES / folder), load_mapping(mapping), out, ExportOptions()
    )
    got = [(r["chosen"], r["rejected"], r["worker_id"]) for r in read_jsonl(out)]
    assert got == rows
    assert result.stats.summary()["valid_answers"] == result.stats.answers


def test_text_ranking_display_order_feeds_position_bias() -> None:
    from handloop.feedback.output_files import parse_output
    from handloop.feedback.rankings import rank_item
    from handloop.feedback.stats import StatsCollector

    path = next((FIXTURES / "text-ranking-sample").rglob("output.json"))
    item = rank_item(parse_output(path.read_bytes(), str(path)), load_mapping("text-ranking"))
    stats = StatsCollector()
    stats.add(item)
    bias = stats.summary()["position_bias"]
    # Shown first was response 2, tied for best on Clarity: not "strictly best".
    assert bias["first_shown_best_rate"] == 0.0
    assert bias["first_shown_pair_win_rate"] == 1.0  # it beats response 1, ties response 0
