"""Fixtures: store backends (SQLite always; PostgreSQL when HANDLOOP_TEST_POSTGRES_URL is
set, as .ci/run does) and live servers on them."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.chromium import launch
from tests.support import LiveServer, create_postgres_database, drop_postgres_database

# Every server, command and service the tests start (in this process or a subprocess) hashes
# passwords with argon2's cheapest parameters; tests/test_password_hashes.py checks that a
# deployment's default is RFC 9106's.
os.environ["HANDLOOP_INSECURE_CHEAP_PASSWORD_HASHES"] = "true"
POSTGRES_URL = os.environ.get("HANDLOOP_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with the most `slow` tests run first, the rest in their usual order: on
    several pytest-xdist workers (which take whole modules) the longest start at once."""
    slow = Counter(item.path for item in items if item.get_closest_marker("slow"))
    items.sort(key=lambda item: -slow[item.path])


@pytest.fixture(params=BACKENDS, scope="module")
def backend(request: pytest.FixtureRequest) -> str:
    """The store a module's tests run on: each module runs on every backend."""
    return str(request.param)


@pytest.fixture(scope="module")
def database_url(backend: str) -> Iterator[str | None]:
    """None for SQLite in the data directory, else a fresh PostgreSQL database's URL."""
    if backend == "sqlite":
        yield None
        return
    assert POSTGRES_URL is not None
    url = create_postgres_database(POSTGRES_URL)
    try:
        yield url
    finally:
        drop_postgres_database(POSTGRES_URL, url)


@pytest.fixture(scope="module")
def new_database(backend: str) -> Iterator[Callable[[], str | None]]:
    """Makes databases on the module's backend apart from the ``server`` fixture's: None on
    SQLite (a server keeps its database in its own data directory), else the URL of a fresh
    PostgreSQL database, dropped after the module."""
    made: list[str] = []

    def new() -> str | None:
        if backend == "sqlite":
            return None
        assert POSTGRES_URL is not None
        made.append(create_postgres_database(POSTGRES_URL))
        return made[-1]

    yield new
    for url in made:
        assert POSTGRES_URL is not None
        drop_postgres_database(POSTGRES_URL, url)


class SessionServers:
    """One server per backend for the whole session (per pytest-xdist worker), started
    when a module first asks for it."""

    def __init__(self, base: Path) -> None:
        self._base = base
        self._running: dict[str, tuple[LiveServer, str | None]] = {}

    def get(self, backend: str) -> LiveServer:
        if backend not in self._running:
            url = None
            if backend != "sqlite":
                assert POSTGRES_URL is not None
                url = create_postgres_database(POSTGRES_URL)
            live = LiveServer(data_dir=self._base / backend / "data", database_url=url)
            self._running[backend] = (live.start(), url)
        return self._running[backend][0]

    def stop(self) -> None:
        for live, url in self._running.values():
            live.stop()
            if url is not None and POSTGRES_URL is not None:
                drop_postgres_database(POSTGRES_URL, url)


@pytest.fixture(scope="session")
def session_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionServers]:
    servers = SessionServers(tmp_path_factory.mktemp("session-server"))
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest,
    backend: str,
    session_servers: SessionServers,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    """A running `handloop serve` for one test module (per backend). A module marked
    ``shared_server`` gets the session's server instead: for tests that neither need a
    fresh deployment nor change what others see (workforce, webhooks, keys, quotas)."""
    if request.node.get_closest_marker("shared_server"):
        yield session_servers.get(backend)
        return
    database_url = request.getfixturevalue("database_url")
    base = tmp_path_factory.mktemp("server")
    with LiveServer(data_dir=base / "data", database_url=database_url) as live:
        yield live


@pytest.fixture
def fresh_data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def signing_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[float], None]]:
    """Move the signing clock of in-process boto3 clients by some seconds."""
    import botocore.auth

    real = botocore.auth.get_current_datetime

    def shift(seconds: float) -> None:
        monkeypatch.setattr(
            botocore.auth,
            "get_current_datetime",
            lambda *a, **k: real(*a, **k) + dt.timedelta(seconds=seconds),
        )

    yield shift


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium for a module's pages (tests/conformance.py has its own kind)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
