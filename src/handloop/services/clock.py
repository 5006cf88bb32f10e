"""The one clock every deadline and timestamp is read from: the server's.

Values are microseconds since the epoch, at millisecond precision as AWS's timestamps are:
a time a client got back from the API (a float of epoch seconds) then compares exactly
with the stored one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], int]


def system_clock() -> int:
    return time.time_ns() // 1_000_000 * 1000
