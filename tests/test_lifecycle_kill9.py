"""A server killed with SIGKILL at random points of a run: restarted, it loses nothing."""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Callable
from pathlib import Path

from tests.crowd_support import (
    CROWD_MARKS,
    FORM,
    add_workers,
    check_invariants,
    run_workers,
    start_loops,
)
from tests.portal_support import make_flow
from tests.support import LiveServer

pytestmark = CROWD_MARKS


def test_kill_9_at_random_points_loses_nothing(
    tmp_path: Path, new_database: Callable[[], str | None]
) -> None:
    server = LiveServer(
        data_dir=tmp_path / "data", database_url=new_database(), in_process=False, measured=False
    ).start()
    rng = random.Random(20261128)
    try:
        flow = make_flow(server, "crash", "crash", FORM, task_count=3)
        names = start_loops(server, flow, 150)
        emails = add_workers(server, "crash", 8)
        join = run_workers(server, emails, "crash")
        for _ in range(3):
            time.sleep(rng.uniform(0.5, 2.5))  # a random point of the run, not a wait for state
            assert server.process is not None
            server.process.send_signal(signal.SIGKILL)
            server.process.wait()
            server.process = None
            server.start()
        answered = join()
        assert sum(answered) <= 450
        check_invariants(server, names, 3)
    finally:
        server.stop()
