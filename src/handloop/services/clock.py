"""The one clock every deadline and timestamp is read from: the server's, in microseconds."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], int]


def system_clock() -> int:
    return time.time_ns() // 1000
