"""Hostile input to the command line: output files an export cannot hold, bytes on the
command line that are not UTF-8, and who may read the data directory. Each was a traceback
or a stored broken value (or a readable database) before."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from handloop.blobs import LocalBlobStore
from handloop.cli import main
from tests.fixtures.feedback.builders import a2i_output, notebook_answer
from tests.support import LiveServer, run_cli

pytestmark = pytest.mark.abuse

DEEP = "[" * 100_000 + "]" * 100_000
DIGITS_400 = "9" * 400


def _doc(loop: str, member: str | None = None, value: str = "") -> str:
    """An output file's text, with one member's JSON text replaced by ``value`` (hostile
    values cannot all be written by json.dumps)."""
    doc = a2i_output(loop, "a prompt", ["a", "b"], [("alice", notebook_answer([1, 2]))])
    if member is None:
        return json.dumps(doc)
    marker = "@hostile@"
    if member in ("inputContent", "humanLoopName"):
        doc[member] = marker
    else:
        doc["humanAnswers"][0][member] = marker
    return json.dumps(doc).replace(json.dumps(marker), value)


def _write(folder: Path, name: str, data: str | bytes) -> Path:
    path = folder / name / "output.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


# (case, output.json's bytes, what the error says)
HOSTILE_FILES = [
    ("100k-deep input", _doc("l", "inputContent", DEEP), "nested more than 108 levels"),
    ("100k-deep answer", _doc("l", "answerContent", DEEP), "nested more than 108 levels"),
    (
        "100k-deep input as a JSON string",
        _doc("l", "inputContent", json.dumps(DEEP)),
        "nested more than 100 levels",
    ),
    ("lone surrogate in an answer", _doc("l", "answerContent", '{"a": "\\ud800"}'), "surrogate"),
    ("lone surrogate in a key", _doc("l", "answerContent", '{"\\udfff": "1"}'), "surrogate"),
    ("lone surrogate in the loop name", _doc("l", "humanLoopName", '"x\\udc00"'), "surrogate"),
    (
        "lone surrogate in an answer stored as JSON text",
        _doc("l", "answerContent", json.dumps('{"response_1_ranking": "\\ud83d"}')),
        "surrogate",
    ),
    ("400-digit time spent", _doc("l", "timeSpentInSeconds", DIGITS_400), "too large a number"),
    ("5000-digit integer", _doc("l", "workerId", "1" * 5000), "more than 4300 digits"),
    ("1e400", _doc("l", "timeSpentInSeconds", "1e400"), "cannot represent"),
    ("NaN", _doc("l", "timeSpentInSeconds", "NaN"), "cannot represent"),
    ("bytes that are not UTF-8", _doc("l").replace("a prompt", "a \xff prompt"), "UTF-8"),
]


def _export(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(main, ["export", *args])
    error = result.exception if not isinstance(result.exception, SystemExit) else None
    return result.exit_code, result.stderr, error


@pytest.mark.parametrize(
    ("case", "text", "reason"), HOSTILE_FILES, ids=[c[0] for c in HOSTILE_FILES]
)
def test_a_hostile_output_file_is_one_line_naming_it(
    case: str, text: str, reason: str, tmp_path: Path
) -> None:
    data = text.encode("latin-1") if case == "bytes that are not UTF-8" else text
    hostile = _write(tmp_path / "outputs", "hostile", data)
    target = tmp_path / "pairs.jsonl"
    code, err, error = _export(str(tmp_path / "outputs"), "--to", str(target))
    assert error is None, repr(error)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {hostile}: "), err
    assert reason in lines[0] and "--skip-invalid-files" in lines[0]
    assert not target.exists()


@pytest.mark.parametrize(
    ("case", "text", "reason"), HOSTILE_FILES, ids=[c[0] for c in HOSTILE_FILES]
)
def test_skip_invalid_files_counts_a_hostile_file_with_its_reason(
    case: str, text: str, reason: str, tmp_path: Path
) -> None:
    data = text.encode("latin-1") if case == "bytes that are not UTF-8" else text
    hostile = _write(tmp_path / "outputs", "hostile", data)
    _write(tmp_path / "outputs", "valid", _doc("valid"))
    target = tmp_path / "pairs.jsonl"
    code, err, error = _export(
        str(tmp_path / "outputs"), "--to", str(target), "--skip-invalid-files"
    )
    assert error is None, repr(error)
    assert code == 0, err
    assert f"skipped {hostile}: " in err and reason in err
    assert "from 1 output file(s)" in err and "1 invalid file(s) skipped" in err
    assert [json.loads(line)["prompt"] for line in target.read_text().splitlines()] == ["a prompt"]


def test_only_hostile_files_say_why_nothing_was_exported(tmp_path: Path) -> None:
    hostile = _write(tmp_path / "outputs", "hostile", _doc("l", "inputContent", DEEP))
    code, err, error = _export(
        str(tmp_path / "outputs"), "--to", str(tmp_path / "o.jsonl"), "--skip-invalid-files"
    )
    assert error is None and code == 2, err
    assert f"all 1 output file(s) are invalid; the first: {hostile}: " in err


def test_a_400_digit_rank_is_an_invalid_answer(tmp_path: Path) -> None:
    answer = notebook_answer([1, 2])
    hostile = a2i_output("l", "p", ["a", "b"], [("alice", answer), ("bob", answer)])
    text = json.dumps(hostile).replace(
        '"response_1_ranking": "1"', f'"response_1_ranking": {DIGITS_400}', 1
    )
    assert DIGITS_400 in text
    _write(tmp_path / "outputs", "l", text)
    code, err, error = _export(
        str(tmp_path / "outputs"),
        "--to",
        str(tmp_path / "o.jsonl"),
        "--stats-json",
        str(tmp_path / "stats.json"),
    )
    assert error is None, repr(error)
    assert code == 0, err
    assert "1 invalid answer(s)" in err
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["invalid_answers"] == {"response_1_ranking is not a number": 1}


def test_a_hostile_mapping_file_is_one_line(tmp_path: Path) -> None:
    _write(tmp_path / "outputs", "valid", _doc("valid"))
    for name, data in (("deep.json", DEEP.encode()), ("latin.json", b'{"prompt": "\xff"}')):
        (tmp_path / name).write_bytes(data)
        code, err, error = _export(
            str(tmp_path / "outputs"),
            "--to",
            str(tmp_path / "o.jsonl"),
            "--mapping",
            str(tmp_path / name),
        )
        assert error is None, repr(error)
        assert code == 2 and err.startswith("Error: the mapping "), err


# -- who may read the data directory -------------------------------------------------------


@pytest.fixture
def shared_umask() -> Iterator[None]:
    """The usual umask (022), under which new files are readable by everyone unless made
    private; processes started meanwhile inherit it."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_makes_the_data_directory_private(tmp_path: Path, shared_umask: None) -> None:
    data = tmp_path / "new" / "data"
    result = run_cli("init", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    assert _mode(data) == 0o700
    assert _mode(data / "handloop.db") == 0o600
    assert _mode(data / "deployment.key") == 0o600
    assert _mode(data.parent) == 0o755  # folders above it are not handloop's


def test_serve_keeps_the_database_and_its_journal_private(
    tmp_path: Path, shared_umask: None
) -> None:
    with LiveServer(data_dir=tmp_path / "data") as live:
        live.new_key()  # a write: the WAL and its index are in use
        files = sorted(p.name for p in live.data_dir.iterdir())
        assert {"handloop.db", "handloop.db-wal", "handloop.db-shm"} <= set(files), files
        modes = {name: _mode(live.data_dir / name) for name in files}
    assert _mode(live.data_dir) == 0o700
    assert modes == dict.fromkeys(files, 0o600)


def test_the_local_output_store_is_private(tmp_path: Path, shared_umask: None) -> None:
    store = LocalBlobStore(tmp_path / "data" / "s3")
    assert store.put("review-outputs", "flow/2026/loop/output.json", b"{}")
    assert _mode(tmp_path / "data" / "s3") == 0o700
    assert (
        _mode(
            tmp_path / "data" / "s3" / "review-outputs" / "flow" / "2026" / "loop" / "output.json"
        )
        == 0o600
    )


def test_an_existing_shared_data_directory_is_left_as_it_is_with_a_warning(
    tmp_path: Path, shared_umask: None
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    result = run_cli("init", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and f"chmod 700 {data}" in warning[0], result.stderr
    assert _mode(data) == 0o755
    assert _mode(data / "handloop.db") == 0o600
    os.chmod(data, 0o700)
    quiet = run_cli("init", "--data-dir", str(data))
    assert quiet.returncode == 0 and "warning" not in quiet.stderr


# -- bytes on the command line that are not UTF-8 --------------------------------------------


def _cli_bytes(
    server: LiveServer, *args: str | bytes, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The command line with raw bytes in argv, as a shell passes $'\\xff'."""
    return subprocess.run(
        [sys.executable, "-m", "handloop", *args],
        capture_output=True,
        input=stdin,
        env={**os.environ, **server.env},
        timeout=120,
    )


PASSWORD = b"a-long-enough-password\n"
# (case, argv, stdin)
INVALID_ARGV: list[tuple[str, list[str | bytes], bytes | None]] = [
    ("workers add email", ["workers", "add", b"\xff@example.com", "--password-stdin"], PASSWORD),
    ("workers invite email", ["workers", "invite", b"caf\xe9@example.com"], None),
    (
        "workers add group",
        ["workers", "add", "grouped@example.com", "--group", b"\xed\xa0\x80", "--password-stdin"],
        PASSWORD,
    ),
    (
        "workers groups --add",
        ["workers", "groups", "abuse@example.com", "--add", b"\xed\xa0\x80"],
        None,
    ),
    (
        "workers groups --remove",
        ["workers", "groups", "abuse@example.com", "--remove", b"g\xff"],
        None,
    ),
    ("workers disable", ["workers", "disable", b"\xff@example.com"], None),
    (
        "password on stdin",
        ["workers", "add", "pw@example.com", "--password-stdin"],
        b"pass\xffword-long\n",
    ),
    ("webhooks add url", ["webhooks", "add", b"http://127.0.0.1:9/\xff"], None),
    (
        "webhooks add secret",
        ["webhooks", "add", "http://127.0.0.1:9/ok", "--secret", b"\xff"],
        None,
    ),
    ("webhooks remove", ["webhooks", "remove", b"http://127.0.0.1:9/\xff"], None),
    ("keys create description", ["keys", "create", "--description", b"caf\xe9"], None),
    ("keys revoke", ["keys", "revoke", b"HL\xff"], None),
    ("export flow name", ["export", b"flow:\xff", "--to", "unused.jsonl"], None),
]


@pytest.fixture(scope="module")
def worker(server: LiveServer) -> str:
    email = "abuse@example.com"
    made = server.cli(
        "workers",
        "add",
        email,
        "--group",
        "g",
        "--password-stdin",
        input="a-long-enough-password\n",
    )
    assert made.returncode == 0, made.stderr
    return email


# Run in an interpreter of their own; the others through click's runner, given what such an
# interpreter would have made of their bytes.
IN_A_PROCESS = {"workers add email", "password on stdin"}


def test_invalid_unicode_on_the_command_line_is_refused(server: LiveServer, worker: str) -> None:
    wrong = []
    for case, argv, stdin in INVALID_ARGV:
        if case in IN_A_PROCESS:
            # Through a real interpreter: argv and stdin bytes decoded as Python does.
            done = _cli_bytes(server, *argv, stdin=stdin)
            code, err = done.returncode, done.stderr.decode("utf-8", "replace")
        else:
            # What that interpreter hands the command: bytes that are not UTF-8 become
            # lone surrogates (surrogateescape), as os.fsdecode makes them here.
            args = [os.fsdecode(a) if isinstance(a, bytes) else a for a in argv]
            ran = server.cli(*args, input=None if stdin is None else stdin.decode())
            code, err = ran.returncode, ran.stderr
        if (
            code != 2
            or "Traceback" in err
            or not ("not valid Unicode" in err or "not valid UTF-8" in err)
        ):
            wrong.append(f"{case}: exit {code}: {err[-300:]}")
    assert not wrong, "\n".join(wrong)
    # Nothing broken was stored: every list still reads back, with no such value.
    for listing in ("workers", "keys", "webhooks"):
        listed = server.cli(listing, "list", "--json")
        assert listed.returncode == 0, listed.stderr
        for line in listed.stdout.splitlines():
            assert "\ufffd" not in line and "\\ud" not in json.dumps(json.loads(line))
    workers = server.cli("workers", "list", "--json").stdout.splitlines()
    assert {w["email"]: w["groups"] for w in map(json.loads, workers)}[worker] == ["g"]


def _template(tmp_path: Path) -> Path:
    path = tmp_path / "task.html"
    path.write_text("<p>{{ task.input.a }}</p>")
    return path


@pytest.mark.parametrize(
    ("case", "input_arg", "file_bytes"),
    [
        ("escaped surrogate inline", '{"a": "\\ud800"}', None),
        ("argv bytes inline", b'{"a": "\xff"}', None),
        ("file not UTF-8", "@{file}", b'{"a": "\xff"}'),
        ("file with an escaped surrogate", "@{file}", b'{"a": "\\udc00"}'),
        ("file 100k deep", "@{file}", DEEP.encode()),
    ],
    ids=["escaped surrogate", "argv bytes", "file not UTF-8", "file surrogate", "file deep"],
)
def test_templates_render_refuses_an_input_it_cannot_hold(
    case: str, input_arg: str | bytes, file_bytes: bytes | None, tmp_path: Path
) -> None:
    template = _template(tmp_path)
    if file_bytes is not None:
        (tmp_path / "input.json").write_bytes(file_bytes)
        input_arg = str(input_arg).replace("{file}", str(tmp_path / "input.json"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "handloop",
            "templates",
            "render",
            str(template),
            "--input",
            input_arg,
        ],
        capture_output=True,
        timeout=120,
    )
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, err
    assert "Traceback" not in err and "Invalid value for --input: " in err, err


def test_templates_check_refuses_an_inputs_file_it_cannot_hold(tmp_path: Path) -> None:
    _template(tmp_path)
    (tmp_path / "inputs.json").write_text('{"task.html": ' + DEEP + "}")
    result = run_cli("templates", "check", str(tmp_path))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "nested more than" in result.stderr
