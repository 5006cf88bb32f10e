"""Two server processes on one PostgreSQL database share the work and record each event
once."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.crowd_support import (
    CROWD_MARKS,
    FORM,
    add_workers,
    check_invariants_subset,
    run_workers,
    start_loops,
)
from tests.portal_support import make_flow
from tests.support import LiveServer

pytestmark = CROWD_MARKS


def test_two_servers_on_one_postgresql_share_the_work(
    tmp_path: Path, new_database: Callable[[], str | None]
) -> None:
    db_url = new_database()
    if db_url is None:
        pytest.skip("several server processes share a database only on PostgreSQL")
    from sqlalchemy import create_engine, text

    first = LiveServer(
        data_dir=tmp_path / "data", database_url=db_url, in_process=False, measured=False
    ).start()
    second = LiveServer(
        data_dir=tmp_path / "data", database_url=db_url, in_process=False, measured=False
    )
    try:
        second.first_key = first.default_key
        second.start()
        flow = make_flow(first, "shared", "shared", FORM, task_count=2)
        names = start_loops(first, flow, 120)
        emails = add_workers(first, "shared", 8)
        joins = [
            run_workers(first, emails[:4], "shared"),
            run_workers(second, emails[4:], "shared"),
        ]
        stopped: list[str] = []
        a2i = second.client("sagemaker-a2i-runtime")
        for n in range(10):
            name = f"stopped-{n}"
            a2i.start_human_loop(
                HumanLoopName=name,
                FlowDefinitionArn=flow,
                HumanLoopInput={"InputContent": json.dumps({"item": name})},
            )
            a2i.stop_human_loop(HumanLoopName=name)
            stopped.append(name)
        assert sum(sum(join()) for join in joins) >= 2 * len(names)
        check_invariants_subset(first, names, 2)
        engine = create_engine(db_url)
        try:
            with engine.connect() as conn:
                counts = dict(
                    conn.execute(
                        text("SELECT human_loop_name, count(*) FROM events GROUP BY 1")
                    ).all()
                )
        finally:
            engine.dispose()
        assert all(counts.get(name) == 1 for name in names + stopped), counts
    finally:
        second.stop()
        first.stop()
