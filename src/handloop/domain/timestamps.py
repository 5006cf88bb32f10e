"""Times are stored as integer microseconds since the epoch (UTC): exact, portable, sortable."""

from __future__ import annotations

from datetime import UTC, datetime


def to_datetime(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC)


def from_datetime(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1_000_000)
