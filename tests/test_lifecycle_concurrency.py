"""Many workers at once, and a server killed with SIGKILL mid-run: every loop still ends
with exactly TaskCount answers from distinct workers and exactly one output file."""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.portal_support import add_worker, make_flow, wait_for, work_until_done
from tests.support import LiveServer, create_postgres_database, drop_postgres_database

# Hundreds of loops on a shared 2-core machine: generous per-test limits.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
FORM = "<crowd-form><input name='choice'></crowd-form>"


@pytest.fixture
def db_url(database_url: str | None) -> Iterator[str | None]:
    """A database of its own for each test (these tests reuse names)."""
    admin = os.environ.get("HANDLOOP_TEST_POSTGRES_URL")
    if database_url is None or admin is None:
        yield None
        return
    url = create_postgres_database(admin)
    try:
        yield url
    finally:
        drop_postgres_database(admin, url)


def start_loops(server: LiveServer, flow_arn: str, count: int) -> list[str]:
    a2i = server.client("sagemaker-a2i-runtime")
    names = [f"item-{n:04d}" for n in range(count)]

    def start(name: str) -> None:
        a2i.start_human_loop(
            HumanLoopName=name,
            FlowDefinitionArn=flow_arn,
            HumanLoopInput={"InputContent": json.dumps({"item": name})},
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(start, names))
    return names


def add_workers(server: LiveServer, group: str, count: int) -> list[str]:
    emails = [f"w{n:02d}@example.com" for n in range(count)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda e: add_worker(server, e, group), emails))
    return emails


def answer(task: dict[str, Any]) -> dict[str, Any]:
    return {"choice": task["input"]["item"]}


def run_workers(
    server: LiveServer, emails: list[str], flow: str, release_every: int = 0
) -> Callable[[], list[int]]:
    results: list[int] = []
    errors: list[BaseException] = []

    def one(email: str) -> None:
        try:
            results.append(
                work_until_done(server.url, email, flow, answer=answer, release_every=release_every)
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(e,)) for e in emails]
    for t in threads:
        t.start()

    def join() -> list[int]:
        for t in threads:
            t.join()
        assert errors == [], errors[:3]
        return results

    return join


def wait_completed(server: LiveServer, names: list[str]) -> None:
    """A submit returns once the answer is in; a loop's Completed status follows shortly."""
    a2i = server.client("sagemaker-a2i-runtime")
    pending = set(names)

    def done() -> bool:
        for name in sorted(pending):
            if a2i.describe_human_loop(HumanLoopName=name)["HumanLoopStatus"] == "Completed":
                pending.discard(name)
        return not pending

    wait_for(done, what=f"Completed loops (still waiting for {sorted(pending)[:5]})")


def check_invariants(server: LiveServer, names: list[str], task_count: int) -> None:
    wait_completed(server, names)
    a2i = server.client("sagemaker-a2i-runtime")
    outputs = sorted(Path(server.data_dir, "s3").rglob("output.json"))
    assert len(outputs) == len(names)  # one file per loop, never two
    seen = set()
    for name in names:
        loop = a2i.describe_human_loop(HumanLoopName=name)
        assert loop["HumanLoopStatus"] == "Completed", name
        uri = loop["HumanLoopOutput"]["OutputS3Uri"]
        path = Path(server.data_dir, "s3", *uri[len("s3://") :].split("/"))
        output = json.loads(path.read_text())
        answers = output["humanAnswers"]
        assert len(answers) == task_count, name
        assert len({a["workerId"] for a in answers}) == task_count, name
        assert all(a["answerContent"] == {"choice": name} for a in answers)
        seen.add(path)
    assert len(seen) == len(names)


def test_32_workers_complete_500_loops_with_three_distinct_answers_each(
    tmp_path: Path, db_url: str | None
) -> None:
    # A server process of its own: 32 worker threads in this process would otherwise share
    # one interpreter with the server they load.
    with LiveServer(data_dir=tmp_path / "data", database_url=db_url, in_process=False) as server:
        flow = make_flow(server, "crowd", "crowd", FORM, task_count=3)
        names = start_loops(server, flow, 500)
        emails = add_workers(server, "crowd", 32)
        answered = run_workers(server, emails, "crowd", release_every=23)()
        assert sum(answered) == 1500
        check_invariants(server, names, 3)


def test_kill_9_at_random_points_loses_nothing(tmp_path: Path, db_url: str | None) -> None:
    server = LiveServer(data_dir=tmp_path / "data", database_url=db_url, in_process=False).start()
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


def test_two_servers_on_one_postgresql_share_the_work(tmp_path: Path, db_url: str | None) -> None:
    if db_url is None:
        pytest.skip("several server processes share a database only on PostgreSQL")
    from sqlalchemy import create_engine, text

    first = LiveServer(data_dir=tmp_path / "data", database_url=db_url, in_process=False).start()
    second = LiveServer(data_dir=tmp_path / "data", database_url=db_url, in_process=False)
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


def check_invariants_subset(server: LiveServer, names: list[str], task_count: int) -> None:
    """check_invariants, when loops other than ``names`` (stopped ones) exist too."""
    wait_completed(server, names)
    a2i = server.client("sagemaker-a2i-runtime")
    for name in names:
        loop = a2i.describe_human_loop(HumanLoopName=name)
        assert loop["HumanLoopStatus"] == "Completed", name
        uri = loop["HumanLoopOutput"]["OutputS3Uri"]
        path = Path(server.data_dir, "s3", *uri[len("s3://") :].split("/"))
        answers = json.loads(path.read_text())["humanAnswers"]
        assert len({a["workerId"] for a in answers}) == task_count == len(answers), name
