"""The requester console at scale: 1,000,000 loops across 10 flows in a SQLite data
directory, then the server-side time of the overview (target < 300 ms) and of a flow's loop
list at several depths (first page, middle, last; by status too; target < 100 ms).

Loops are inserted straight into the database with SQLAlchemy, in batches; the database's
triggers keep the console's counters as they would for loops started through the API (the
script checks them against a COUNT(*) once). Answers are inserted for the loops completed
in the last day, so the answers-per-hour chart has something to draw. Pages are rendered by
the portal app in this process (routing, session, database reads, templates) through
httpx's ASGI transport, one request at a time: the figures are the server's time.

    python bench/console.py [--loops 1000000] [--flows 10] [--requests 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from handloop.services import open_services
from handloop.services.requesters import open_requesters
from handloop.settings import Settings
from handloop.store.tables import (
    flow_definitions,
    human_loops,
    human_task_uis,
    tasks,
    workforces,
    workteams,
)
from handloop.web.console_security import CONSOLE_COOKIE
from handloop.web.portal import create_portal

OVERVIEW_TARGET_MS = 300.0
LIST_TARGET_MS = 100.0
HOUR_US = 3_600_000_000
# Of every 20 loops: 12 Completed, 1 Failed, 1 Stopped, 6 InProgress.
STATUSES = ["Completed"] * 12 + ["Failed", "Stopped"] + ["InProgress"] * 6
TEMPLATE = (
    "<crowd-form><p>{{ task.input.text }}</p><crowd-input name='label'></crowd-input></crowd-form>"
)


def fill(services: Any, loops: int, flows: int) -> tuple[list[str], float]:
    """Make ``flows`` flows and ``loops`` loops spread over the last 30 days; the flows'
    names and the seconds the inserts took."""
    now = services.clock()
    db = services.db
    names = [f"bench-flow-{k:02d}" for k in range(flows)]
    started = time.perf_counter()
    with db.write_engine.begin() as conn:
        workforce = conn.scalar(select(workforces.c.id))
        team = conn.execute(
            insert(workteams).values(
                name="bench-team",
                workforce_id=workforce,
                description="bench",
                config={"MemberDefinitions": []},
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
        ui = conn.execute(
            insert(human_task_uis).values(
                name="bench-ui",
                content=TEMPLATE,
                content_sha256="0" * 64,
                config={},
                created_at=now,
            )
        ).inserted_primary_key[0]
        flow_ids = []
        for name in names:
            config = {"HumanLoopConfig": {"TaskTitle": f"{name} title", "TaskDescription": "bench"}}
            flow_ids.append(
                conn.execute(
                    insert(flow_definitions).values(
                        name=name,
                        workteam_id=team,
                        human_task_ui_id=ui,
                        task_count=1,
                        task_time_limit_seconds=3600,
                        task_availability_lifetime_seconds=864000,
                        s3_output_path="s3://bench/out",
                        config=config,
                        created_at=now - 31 * 24 * HOUR_US,
                    )
                ).inserted_primary_key[0]
            )
    rng = random.Random(7)
    content = json.dumps({"text": "Is this sentence well written?"})
    span = 30 * 24 * HOUR_US
    batch_size = 20_000
    for first in range(0, loops, batch_size):
        rows = []
        for i in range(first, min(first + batch_size, loops)):
            flow = i % flows
            created = now - span + (span * i) // loops
            status = STATUSES[rng.randrange(len(STATUSES))]
            finished = status != "InProgress"
            rows.append(
                {
                    "name": f"bench-loop-{i:07d}",
                    "flow_definition_id": flow_ids[flow],
                    "flow_definition_name": names[flow],
                    "s3_output_path": "s3://bench/out",
                    "input_content": content,
                    "input_sha256": "0" * 64,
                    "status": status,
                    "failure_code": "Expired" if status == "Failed" else None,
                    "failure_reason": "The loop expired." if status == "Failed" else None,
                    "created_at": created,
                    "updated_at": created + (rng.randrange(HOUR_US) if finished else 0),
                    "task_count": 1,
                    "task_time_limit_seconds": 3600,
                    "expires_at": created + 864000 * 1_000_000,
                    "claimed": 1 if status == "Completed" else 0,
                    "submitted": 1 if status == "Completed" else 0,
                }
            )
        with db.write_engine.begin() as conn:
            conn.execute(insert(human_loops), rows)
    # An answer for each loop completed in the last day (the chart's hours).
    with db.write_engine.begin() as conn:
        recent = conn.execute(
            select(human_loops.c.id, human_loops.c.updated_at).where(
                human_loops.c.status == "Completed",
                human_loops.c.updated_at >= now - 24 * HOUR_US,
            )
        ).all()
        conn.execute(
            insert(tasks),
            [
                {
                    "public_id": f"bench-task-{row.id}",
                    "human_loop_id": row.id,
                    "worker_pk": None,
                    "state": "submitted",
                    "accepted_at": row.updated_at - 30_000_000,
                    "submitted_at": row.updated_at,
                    "answer": {"label": "ok"},
                    "time_spent_ms": 30_000,
                }
                for row in recent
            ],
        )
    return names, time.perf_counter() - started


def check_counters(services: Any) -> None:
    with services.db.read_engine.connect() as conn:
        kept = {
            (r[0], r[1]): r[2]
            for r in conn.execute(
                text("SELECT flow_definition_name, status, loops FROM flow_loop_counts")
            )
            if r[2]
        }
        real = {
            (r[0], r[1]): r[2]
            for r in conn.execute(
                select(
                    human_loops.c.flow_definition_name, human_loops.c.status, func.count()
                ).group_by(human_loops.c.flow_definition_name, human_loops.c.status)
            )
        }
    if kept != real:
        sys.exit(f"the counters disagree with COUNT(*): {kept} != {real}")
    print(f"counters agree with COUNT(*) over {sum(real.values()):,} loops")


def cursor_at(services: Any, flow: str, depth: int, status: str | None = None) -> str:
    """The page position ``depth`` loops into a flow's list (newest first)."""
    query = select(human_loops.c.created_at, human_loops.c.id).where(
        human_loops.c.flow_definition_name == flow
    )
    if status is not None:
        query = query.where(human_loops.c.status == status)
    query = query.order_by(human_loops.c.created_at.desc(), human_loops.c.id.desc())
    with services.db.read_engine.connect() as conn:
        row = conn.execute(query.offset(depth).limit(1)).one()
    return f"older:{row.created_at}.{row.id}"


async def measure(
    client: httpx.AsyncClient, path: str, repeats: int, expect: str
) -> tuple[float, float]:
    """The median and the worst time of ``repeats`` requests of ``path`` (ms)."""
    times = []
    for _ in range(repeats + 2):
        started = time.perf_counter()
        response = await client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200 or expect not in response.text:
            sys.exit(f"{path}: {response.status_code} {response.text[:300]}")
    times = times[2:]  # the first two warm caches up
    return statistics.median(times), max(times)


async def run(services: Any, flows: list[str], loops: int, repeats: int) -> None:
    services.db.start()
    requesters = open_requesters(services.db, services.clock, services.settings)
    requester = requesters.add("bench@example.com", "bench-password")
    token, _ = await requesters.start_session(requester)
    portal = create_portal(services)
    transport = httpx.ASGITransport(app=portal)
    flow = flows[0]
    per_flow = loops // len(flows)
    cases = [
        ("overview", "/console", OVERVIEW_TARGET_MS, flows[-1]),
        ("loop list, first page", f"/console/flows/{flow}", LIST_TARGET_MS, "Older"),
        (
            "loop list, middle",
            f"/console/flows/{flow}?page={cursor_at(services, flow, per_flow // 2)}",
            LIST_TARGET_MS,
            "Older",
        ),
        ("loop list, last page", f"/console/flows/{flow}?page=last", LIST_TARGET_MS, "Newer"),
        (
            "Failed loops, middle",
            f"/console/flows/{flow}?status=Failed&page="
            + cursor_at(services, flow, per_flow // 40, "Failed"),
            LIST_TARGET_MS,
            "Older",
        ),
        (
            "last day, Completed",
            f"/console/flows/{flow}?status=Completed&after="
            + time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() - 86400)),
            LIST_TARGET_MS,
            "Older",
        ),
    ]
    print(f"\n{'page':<24} {'median ms':>10} {'worst ms':>9} {'target ms':>10} {'ratio':>7}")
    worst_ratio = 0.0
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", cookies={CONSOLE_COOKIE: token}
    ) as client:
        for name, path, target, expect in cases:
            median, worst = await measure(client, path, repeats, expect)
            ratio = median / target
            worst_ratio = max(worst_ratio, ratio)
            print(f"{name:<24} {median:10.1f} {worst:9.1f} {target:10.0f} {ratio:7.2f}")
    print(
        f"\nmedian / target at worst: {worst_ratio:.2f} "
        f"({'within' if worst_ratio < 1 else 'OVER'} every target)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=1_000_000)
    parser.add_argument("--flows", type=int, default=10)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("HANDLOOP_LOG_LEVEL", "warning")
    with tempfile.TemporaryDirectory(prefix="handloop-bench-console-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", insecure_cheap_password_hashes=True)
        services = open_services(settings, create=True)
        try:
            print(f"inserting {args.loops:,} loops across {args.flows} flows ...", flush=True)
            flows, seconds = fill(services, args.loops, args.flows)
            print(f"inserted in {seconds:.1f} s ({args.loops / seconds:,.0f} loops/s)")
            check_counters(services)
            asyncio.run(run(services, flows, args.loops, args.requests))
        finally:
            services.close()


if __name__ == "__main__":
    main()
