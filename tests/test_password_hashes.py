"""Worker passwords are hashed with argon2id at RFC 9106's parameters unless a test suite
explicitly asks for cheap hashes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from handloop.errors import NotSignedIn
from handloop.services import open_services
from handloop.settings import Settings
from handloop.store.tables import workers

# argon2id, version 19, then memory (KiB), passes and lanes.
STANDARD = "$argon2id$v=19$m=65536,t=3,p=4$"
CHEAP = "$argon2id$v=19$m=8,t=1,p=1$"


def test_the_default_is_rfc_9106() -> None:
    assert Settings.model_fields["insecure_cheap_password_hashes"].default is False


@pytest.mark.parametrize(("cheap", "prefix"), [(False, STANDARD), (True, CHEAP)])
def test_stored_hashes_follow_the_setting(tmp_path: Path, cheap: bool, prefix: str) -> None:
    settings = Settings(data_dir=tmp_path / "data", insecure_cheap_password_hashes=cheap)
    services = open_services(settings, create=True)
    try:
        services.db.start()
        services.workers.add("ann@example.com", "password123", ["g"])
        with services.db.read_engine.connect() as conn:
            stored = conn.scalar(select(workers.c.password_hash))
        assert stored is not None and stored.startswith(prefix)
        assert services.workers.verify_password("ann@example.com", "password123").email == (
            "ann@example.com"
        )
        with pytest.raises(NotSignedIn):
            services.workers.verify_password("ann@example.com", "password124")
        with pytest.raises(NotSignedIn):
            services.workers.verify_password("nobody@example.com", "password123")
    finally:
        services.close()
