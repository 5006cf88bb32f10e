"""The command line: init, keys, serve's first key, help and errors."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from tests.support import LiveServer, run_cli


def env_for(data_dir: Path) -> dict[str, str]:
    return {"HANDLOOP_DATA_DIR": str(data_dir)}


def test_init_creates_private_deployment_key_and_first_key_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = run_cli("init", "--data-dir", str(data), "--json")
    assert first.returncode == 0, first.stderr
    key = json.loads(first.stdout)
    assert set(key) == {"AccessKeyId", "SecretAccessKey"}
    mode = stat.S_IMODE((data / "deployment.key").stat().st_mode)
    assert mode == 0o600
    assert (data / "handloop.db").exists()
    # The secret is not stored in readable form anywhere in the data directory.
    for path in data.rglob("*"):
        if path.is_file():
            assert key["SecretAccessKey"].encode() not in path.read_bytes()
    again = run_cli("init", "--data-dir", str(data))
    assert again.returncode == 0
    assert "SecretAccessKey" not in again.stdout and "aws_secret_access_key" not in again.stdout
    listed = run_cli("keys", "list", "--data-dir", str(data), "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["AccessKeyId"] for r in rows] == [key["AccessKeyId"]]
    assert key["SecretAccessKey"] not in listed.stdout


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_cli("init", "--data-dir", str(data)).returncode == 0
    created = run_cli(
        "keys", "create", "--data-dir", str(data), "--json", "--description", "ci bot"
    )
    key = json.loads(created.stdout)
    assert re.fullmatch(r"HL[A-Z0-9]{18}", key["AccessKeyId"])
    assert len(key["SecretAccessKey"]) == 40
    human = run_cli("keys", "create", "--data-dir", str(data))
    assert "SecretAccessKey:" in human.stdout
    revoked = run_cli("keys", "revoke", "--data-dir", str(data), key["AccessKeyId"])
    assert revoked.returncode == 0, revoked.stderr
    listed = run_cli("keys", "list", "--data-dir", str(data))
    line = next(line for line in listed.stdout.splitlines() if key["AccessKeyId"] in line)
    assert "revoked" in line and "ci bot" in line
    twice = run_cli("keys", "revoke", "--data-dir", str(data), key["AccessKeyId"])
    assert twice.returncode != 0
    assert "No active access key" in twice.stderr
    assert "Traceback" not in twice.stderr


def test_commands_on_a_missing_data_dir_fail_clearly(tmp_path: Path) -> None:
    result = run_cli("keys", "list", "--data-dir", str(tmp_path / "nowhere"))
    assert result.returncode != 0
    assert "handloop init" in result.stderr
    assert "Traceback" not in result.stderr


def test_world_readable_deployment_key_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_cli("init", "--data-dir", str(data)).returncode == 0
    (data / "deployment.key").chmod(0o644)
    result = run_cli("keys", "list", "--data-dir", str(data))
    assert result.returncode != 0
    assert "chmod 600" in result.stderr


def test_invalid_setting_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(
        "keys", "list", env={"HANDLOOP_ACCOUNT_ID": "12", "HANDLOOP_DATA_DIR": str(tmp_path)}
    )
    assert result.returncode == 2
    assert "account_id" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # two `handloop serve` processes
def test_serve_prints_the_first_key_once_on_a_fresh_data_dir(tmp_path: Path) -> None:
    live = LiveServer(data_dir=tmp_path / "data", in_process=False).start()
    live.stop()
    printed = "".join(live.output)
    match = re.search(r"aws_access_key_id\s+= (\S+)\s+aws_secret_access_key = (\S+)", printed)
    assert match, printed
    key = {"AccessKeyId": match[1], "SecretAccessKey": match[2]}
    with LiveServer(data_dir=tmp_path / "data", in_process=False) as again:
        assert again.client("sts", key).get_caller_identity()["UserId"] == key["AccessKeyId"]
    assert "aws_secret_access_key" not in "".join(again.output)


@pytest.mark.parametrize(
    "command",
    [[], ["init"], ["serve"], ["keys"], ["keys", "create"], ["keys", "list"], ["keys", "revoke"]],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    assert "Usage:" in result.stdout
    assert len(result.stdout.splitlines()) > 3
