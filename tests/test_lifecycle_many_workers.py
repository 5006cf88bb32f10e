"""32 workers at once on 500 loops: every loop ends with exactly three answers from distinct
workers and exactly one output file."""

from __future__ import annotations

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


def test_32_workers_complete_500_loops_with_three_distinct_answers_each(
    tmp_path: Path, new_database: Callable[[], str | None]
) -> None:
    # A server process of its own: 32 worker threads in this process would otherwise share
    # one interpreter with the server they load.
    db_url = new_database()
    with LiveServer(
        data_dir=tmp_path / "data", database_url=db_url, in_process=False, measured=False
    ) as server:
        flow = make_flow(server, "crowd", "crowd", FORM, task_count=3)
        names = start_loops(server, flow, 500)
        emails = add_workers(server, "crowd", 32)
        answered = run_workers(server, emails, "crowd", release_every=23)()
        assert sum(answered) == 1500
        check_invariants(server, names, 3)
