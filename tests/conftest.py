"""Fixtures: store backends (SQLite always; PostgreSQL when HANDLOOP_TEST_POSTGRES_URL is
set, as .ci/run does) and live servers on them."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

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
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for SQLite in the data directory, else a fresh PostgreSQL database's URL."""
    if request.param == "sqlite":
        yield None
        return
    assert POSTGRES_URL is not None
    url = create_postgres_database(POSTGRES_URL)
    try:
        yield url
    finally:
        drop_postgres_database(POSTGRES_URL, url)


@pytest.fixture(scope="module")
def server(
    database_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A running `handloop serve` shared by one test module (per backend)."""
    base = tmp_path_factory.mktemp("server")
    live = LiveServer(data_dir=base / "data", database_url=database_url).start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def fresh_data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"
