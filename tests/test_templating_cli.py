"""`handloop templates render` and `handloop templates check`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import run_cli

CORPUS = Path(__file__).parent / "conformance"


def test_render_prints_the_page(tmp_path: Path) -> None:
    template = tmp_path / "t.html"
    template.write_text('<p title="{{ task.input.t }}">{{ task.input.o }}</p>')
    result = run_cli("templates", "render", str(template), "--input", '{"t": "a\'b", "o": [1]}')
    assert result.returncode == 0, result.stderr
    assert result.stdout == '<p title="a&#39;b">[1]</p>'


def test_render_reads_input_from_a_file(tmp_path: Path) -> None:
    template = tmp_path / "t.html"
    template.write_text("{{ task.input.x }}")
    (tmp_path / "in.json").write_text('{"x": "from file"}')
    result = run_cli("templates", "render", str(template), "--input", f"@{tmp_path / 'in.json'}")
    assert result.stdout == "from file"


def test_render_errors_are_readable(tmp_path: Path) -> None:
    template = tmp_path / "t.html"
    template.write_text("ok\n{% for i in (1..100000000) %}{% endfor %}")
    result = run_cli("templates", "render", str(template))
    assert result.returncode == 1
    assert "line 2: resource limit" in result.stderr
    assert "Traceback" not in result.stderr
    bad_input = run_cli("templates", "render", str(template), "--input", "{nope")
    assert bad_input.returncode == 2
    assert "not valid JSON" in bad_input.stderr


def test_unreadable_template_is_a_readable_error(tmp_path: Path) -> None:
    template = tmp_path / "latin1.html"
    template.write_bytes(b"caf\xe9")
    result = run_cli("templates", "render", str(template))
    assert result.returncode == 1
    assert "cannot read" in result.stderr and "Traceback" not in result.stderr


def test_check_reports_every_problem(tmp_path: Path) -> None:
    (tmp_path / "good.liquid.html").write_text("{{ task.input.x | to_json }}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bad.html").write_text("a\n{{ x | frobnicate }}")
    (tmp_path / "loop.html").write_text("{% for i in (1..10) %}{{ task.input.big }}{% endfor %}")
    (tmp_path / "inputs.json").write_text(json.dumps({"loop.html": {"big": "x" * 1_000_000}}))
    result = run_cli("templates", "check", str(tmp_path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "sub/bad.html: line 2, column 8: unknown filter 'frobnicate'" in lines
    assert any(line.startswith("loop.html: line 1: resource limit") for line in lines)
    assert lines[-1] == "3 templates checked, 1 rendered, 2 with problems"


def test_check_passes_the_conformance_corpus() -> None:
    for folder in ("amazon-a2i-sample-task-uis", "amazon-sagemaker-ground-truth-task-uis"):
        result = run_cli("templates", "check", str(CORPUS / folder))
        assert result.returncode == 0, result.stdout
        assert result.stdout.splitlines()[-1].endswith(" 0 with problems")
