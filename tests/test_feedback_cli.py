"""`handloop export` as a script sees it: exit codes, stderr, files written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handloop.cli.export import FORMATS as CLI_FORMATS
from handloop.feedback.formats import FORMATS
from tests.fixtures.feedback.builders import a2i_output, notebook_answer, write_outputs
from tests.support import run_cli

FIXTURES = Path(__file__).parent / "fixtures" / "feedback"


def outputs(root: Path, count: int = 12) -> Path:
    docs = [
        a2i_output(
            f"loop-{k}",
            f"prompt {k}",
            ["a", "b", "c"],
            [
                ("alice", notebook_answer([1, 2, 3])),
                ("bob", notebook_answer([1, 3, 2])),
                ("carol", notebook_answer([1, 2, 3] if k % 4 else [1, 1, 1])),
            ],
        )
        for k in range(count)
    ]
    return write_outputs(root, docs)


def test_formats_listed_by_the_cli_are_the_library_formats() -> None:
    assert tuple(CLI_FORMATS) == FORMATS


def test_export_with_stats_and_plots(tmp_path: Path) -> None:
    src = outputs(tmp_path / "outputs")
    plots = tmp_path / "plots"
    stats_json = tmp_path / "stats.json"
    args = ["export", str(src), "--to", str(tmp_path / "pairs.parquet"), "--stats"]
    args += ["--stats-json", str(stats_json), "--plots", str(plots), "--pairs", "aggregated"]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert "krippendorff alpha (ordinal)" in result.stdout
    assert "alice" in result.stdout and "carol" in result.stdout
    # Mean ranks tie b and c in the three loops where carol ties all: 12 * 3 - 3 pairs.
    assert "Wrote 33 rows (train " in result.stderr
    summary = json.loads(stats_json.read_text())
    assert summary["answers"] == 36 and summary["workers"]["carol"]["answers"] == 12
    assert 0 < summary["pairwise_agreement"] < 1
    # The first response is best in every answer but the three all-tie ones.
    assert summary["position_bias"]["first_shown_best_rate"] == round(33 / 36, 4)
    pngs = sorted(p.name for p in plots.iterdir())
    assert pngs == sorted(
        ["agreement.png", "position_bias.png", "time_per_task.png", "worker_answers.png"]
    )
    assert all((plots / name).read_bytes().startswith(b"\x89PNG") for name in pngs)


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    result = run_cli(
        "export", str(FIXTURES / "notebook-sample"), "--to", str(tmp_path / "o.jsonl"), "-q"
    )
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""


@pytest.mark.parametrize(
    ("setup", "extra", "message"),
    [
        ("none", [], "unknown source"),
        ("empty", [], "no A2I output files (output.json) found"),
        ("not-a2i", [], "not an A2I output"),
        ("ok", ["--mapping", "text-ranking"], "matches nothing"),
        ("ok", ["--mapping", "classifier"], "matches no answer"),
        ("ok", ["--mapping", "{bad"], "mapping is not valid JSON"),
        ("ok", ["--mapping", "nonsense"], "unknown mapping 'nonsense'"),
        ("ok", ["--status", "Done"], None),  # --status only concerns flow: sources
        ("flow", [], "no handloop store in"),
    ],
)
def test_wrong_input_is_one_line_and_exit_2(
    tmp_path: Path, setup: str, extra: list[str], message: str | None
) -> None:
    src = tmp_path / "outputs"
    if setup != "none":
        src.mkdir()
    if setup == "not-a2i":
        (src / "output.json").write_text('{"flowDefinitionArn": "x"}')
    if setup == "ok":
        outputs(src, 2)
    source = "flow:llm-ranking" if setup == "flow" else str(src)
    target = tmp_path / "out"
    result = run_cli(
        "export", source, "--to", str(target), "--data-dir", str(tmp_path / "d"), *extra
    )
    if message is None:
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_help_documents_the_options() -> None:
    result = run_cli("export", "--help")
    assert result.returncode == 0
    for option in ("--to", "--format", "--mapping", "--pairs", "--ties", "--stats", "--plots"):
        assert option in result.stdout
