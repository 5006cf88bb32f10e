"""Many simulated workers against a server in a process of its own: start loops, add
workers, let them work, and check what must hold whatever happened on the way (every loop
Completed with exactly TaskCount answers from distinct workers and exactly one output file).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.portal_support import add_worker, wait_for, work_until_done
from tests.support import LiveServer

# Hundreds of loops on a shared 2-core machine: generous per-test limits.
CROWD_MARKS = [pytest.mark.slow, pytest.mark.timeout(900)]
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
