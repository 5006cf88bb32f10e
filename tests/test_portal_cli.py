"""`handloop workers ...` and `handloop webhooks ...` against a data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import run_cli


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {"HANDLOOP_DATA_DIR": str(tmp_path / "data"), "HANDLOOP_PUBLIC_URL": "https://hl.test"}
    assert run_cli("init", env=env).returncode == 0
    return env


def ok(env: dict[str, str], *args: str, input: str | None = None) -> str:
    result = run_cli(*args, env=env, input=input)
    assert result.returncode == 0, result.stderr
    return result.stdout


def refused(env: dict[str, str], *args: str, input: str | None = None) -> str:
    result = run_cli(*args, env=env, input=input)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    return result.stderr


def test_workers_add_list_disable_enable_remove(env: dict[str, str]) -> None:
    added = ok(
        env,
        "workers",
        "add",
        "Ann@Example.com",
        "--group",
        "a",
        "--group",
        "b",
        "--password-stdin",
        "--json",
        input="a-long-password\n",
    )
    ann = json.loads(added)
    assert ann["email"] == "ann@example.com" and ann["groups"] == ["a", "b"]
    assert len(ann["workerId"]) == 16
    listed = [json.loads(line) for line in ok(env, "workers", "list", "--json").splitlines()]
    assert [w["email"] for w in listed] == ["ann@example.com"]
    assert "disabled" in ok(env, "workers", "disable", "ann@example.com")
    assert json.loads(ok(env, "workers", "list", "--json"))["disabled"] is True
    assert "active" in ok(env, "workers", "enable", ann["workerId"])
    assert "a, c" in ok(env, "workers", "groups", "ann@example.com", "--add", "c", "--remove", "b")
    assert json.loads(ok(env, "workers", "list", "--json"))["groups"] == ["a", "c"]
    assert "Removed ann@example.com" in ok(env, "workers", "remove", "ann@example.com")
    assert ok(env, "workers", "list", "--json") == ""


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("add", "not-an-email", "--password-stdin"), "a-long-password\n", "not an email"),
        (("add", "b@example.com", "--password-stdin"), "short\n", "at least 8"),
        (("disable", "nobody@example.com"), None, "No worker"),
        (("remove", "nobody@example.com"), None, "No worker"),
        (("invite", "bad email"), None, "not an email"),
    ],
)
def test_workers_errors_are_readable(
    env: dict[str, str], args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    assert message in refused(env, "workers", *args, input=stdin)


def test_a_duplicate_worker_is_refused(env: dict[str, str]) -> None:
    ok(env, "workers", "add", "c@example.com", "--password-stdin", input="a-long-password\n")
    err = refused(
        env, "workers", "add", "c@example.com", "--password-stdin", input="x-long-password\n"
    )
    assert "already exists" in err
    assert "already exists" in refused(env, "workers", "invite", "c@example.com")


def test_invite_prints_a_link_on_the_public_url(env: dict[str, str]) -> None:
    link = ok(env, "workers", "invite", "d@example.com", "--group", "g").strip()
    assert (
        link.startswith("https://hl.test/join/") and len(link) > len("https://hl.test/join/") + 30
    )


def test_webhooks_add_list_remove(env: dict[str, str]) -> None:
    ok(env, "webhooks", "add", "https://hooks.test/a", "--secret", "s")
    listed = json.loads(ok(env, "webhooks", "list", "--json"))
    assert listed["url"] == "https://hooks.test/a" and listed["pending"] == 0
    assert "already registered" in refused(env, "webhooks", "add", "https://hooks.test/a")
    ok(env, "webhooks", "remove", "https://hooks.test/a")
    assert "No webhook" in refused(env, "webhooks", "remove", "https://hooks.test/a")


@pytest.mark.parametrize(
    "command",
    [
        ("workers",),
        ("workers", "invite"),
        ("workers", "add"),
        ("workers", "list"),
        ("workers", "disable"),
        ("workers", "enable"),
        ("workers", "remove"),
        ("workers", "groups"),
        ("webhooks",),
        ("webhooks", "add"),
        ("webhooks", "list"),
        ("webhooks", "remove"),
    ],
)
def test_every_command_has_help(command: tuple[str, ...]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0 and "Usage:" in result.stdout
