"""Many workers at once, and a server killed with SIGKILL mid-run: every loop still ends
with exactly TaskCount answers from distinct workers and exactly one output file."""

from __future__ import annotations

import json
import random
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.portal_support import add_worker, make_flow, work_until_done
from tests.support import LiveServer

pytestmark = pytest.mark.slow
FORM = "<crowd-form><input name='choice'></crowd-form>"


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


def check_invariants(server: LiveServer, names: list[str], task_count: int) -> None:
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
    tmp_path: Path, database_url: str | None
) -> None:
    server = LiveServer(data_dir=tmp_path / "data", database_url=database_url).start()
    try:
        flow = make_flow(server, "crowd", "crowd", FORM, task_count=3)
        names = start_loops(server, flow, 500)
        emails = add_workers(server, "crowd", 32)
        answered = run_workers(server, emails, "crowd", release_every=23)()
        assert sum(answered) == 1500
        check_invariants(server, names, 3)
    finally:
        server.stop()


def test_kill_9_at_random_points_loses_nothing(tmp_path: Path, database_url: str | None) -> None:
    server = LiveServer(data_dir=tmp_path / "data", database_url=database_url).start()
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
