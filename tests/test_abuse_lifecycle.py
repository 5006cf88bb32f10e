"""The task lifecycle under hostile or broken data: tasks that are gone answer 409, a worker
out of the team cannot answer, a loop whose stored input or output path is bad ends Failed
instead of wedging workers or the scheduler, and no output file holds what JSON cannot.

Live servers (boto3 and the portal's JSON endpoints) where that is how the behaviour is
seen; the services on a fake clock where that is faster. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from handloop.domain.records import Worker
from handloop.errors import ResourceNotFound, TaskGone
from handloop.services.scheduler import Scheduler
from handloop.store.tables import events, human_loops, tasks
from tests.lifecycle_support import Harness, fresh_harness
from tests.portal_support import (
    PortalClient,
    add_worker,
    loop_status,
    make_flow,
    start_item_loop,
    wait_for,
)
from tests.support import LiveServer

SCALE = 30
FORM = "<crowd-form><input name='label'></crowd-form>"


# -- on a live server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fast(
    database_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server whose task clock runs 30 times fast and which gives up an output write
    after two attempts (one second apart)."""
    base: Path = tmp_path_factory.mktemp("abuse-lifecycle")
    with LiveServer(
        data_dir=base / "data",
        database_url=database_url,
        extra_env={
            "HANDLOOP_TASK_TIME_SCALE": str(SCALE),
            "HANDLOOP_OUTPUT_WRITE_ATTEMPTS": "2",
        },
    ) as live:
        yield live


def set_loop_column(server: LiveServer, name: str, column: str, value: str) -> None:
    """Write straight into the database what an older version could have stored, and the
    API now refuses."""
    url = server.database_url or f"sqlite:///{server.data_dir / 'handloop.db'}"
    engine = create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
    try:
        with engine.begin() as conn:
            conn.execute(
                human_loops.update().where(human_loops.c.name == name).values({column: value})
            )
    finally:
        engine.dispose()


def described(server: LiveServer, name: str) -> dict[str, Any]:
    loop: dict[str, Any] = server.client("sagemaker-a2i-runtime").describe_human_loop(
        HumanLoopName=name
    )
    return loop


@pytest.mark.abuse
def test_submit_after_the_lease_ran_out_is_409_and_the_worker_may_take_it_again(
    fast: LiveServer,
) -> None:
    # TaskTimeLimitInSeconds=30 is one second at this scale.
    flow = make_flow(fast, "late", "late", FORM, time_limit=30)
    add_worker(fast, "late1@example.com", "late")
    add_worker(fast, "late2@example.com", "late")
    start_item_loop(fast, flow, "late-1")
    slow, other = PortalClient(fast, "late1@example.com"), PortalClient(fast, "late2@example.com")
    task = slow.claim("late")
    assert task is not None
    wait_for(lambda: other.jobs() == {"late": 1}, what="the task back in the pool")
    late = slow.submit(task["taskId"], {"label": "late"})
    assert late.status_code == 409, late.text
    assert "time" in late.text and "ran out" in late.text
    # The same worker may take that loop again, and answer it this time.
    again = slow.claim("late")
    assert again is not None and again["humanLoopName"] == "late-1"
    assert slow.submit(again["taskId"], {"label": "on time"}).status_code == 204
    wait_for(lambda: loop_status(fast, "late-1") == "Completed", what="Completed")
    assert other.claim("late") is None


@pytest.mark.abuse
def test_submit_and_get_after_stop_are_409(fast: LiveServer) -> None:
    flow = make_flow(fast, "stopped", "stopped", FORM)
    add_worker(fast, "stopped@example.com", "stopped")
    start_item_loop(fast, flow, "stopped-1")
    worker = PortalClient(fast, "stopped@example.com")
    task = worker.claim("stopped")
    assert task is not None
    fast.client("sagemaker-a2i-runtime").stop_human_loop(HumanLoopName="stopped-1")
    wait_for(lambda: loop_status(fast, "stopped-1") == "Stopped", what="Stopped")
    refused = worker.submit(task["taskId"], {"label": "x"})
    assert refused.status_code == 409, refused.text
    assert "stopped" in refused.text
    assert worker.http.get(f"/api/tasks/{task['taskId']}").status_code == 409
    assert worker.http.get(f"/tasks/{task['taskId']}/frame").status_code == 409


@pytest.mark.abuse
def test_a_worker_out_of_the_team_cannot_answer_the_task_they_hold(fast: LiveServer) -> None:
    flow = make_flow(fast, "members", "members", FORM, task_count=2)
    for who in ("leaver", "moved", "stayer"):
        add_worker(fast, f"{who}@example.com", "members")
    start_item_loop(fast, flow, "members-1")
    leaver, moved, stayer = (
        PortalClient(fast, f"{who}@example.com") for who in ("leaver", "moved", "stayer")
    )
    held = leaver.claim("members")
    assert held is not None
    # Taken out of the team's group: the task goes back to the pool at once.
    result = fast.cli("workers", "groups", "leaver@example.com", "--remove", "members")
    assert result.returncode == 0, result.stderr
    assert stayer.jobs() == {"members": 1}
    refused = leaver.submit(held["taskId"], {"label": "mine"})
    assert refused.status_code == 409, refused.text
    assert leaver.http.get(f"/api/tasks/{held['taskId']}").status_code == 409
    # The team's members change instead (UpdateWorkteam): refused at submit, and back in
    # the pool then.
    held = moved.claim("members")
    assert held is not None
    fast.client("sagemaker").update_workteam(
        WorkteamName="members-team",
        MemberDefinitions=[
            {
                "CognitoMemberDefinition": {
                    "UserPool": "us-east-1_pool",
                    "UserGroup": "members-b",
                    "ClientId": "client",
                }
            }
        ],
    )
    refused = moved.submit(held["taskId"], {"label": "mine"})
    assert refused.status_code == 409, refused.text
    assert "no longer a member" in refused.text
    assert loop_status(fast, "members-1") == "InProgress"
    fast.cli("workers", "groups", "stayer@example.com", "--add", "members-b")
    stayer = PortalClient(fast, "stayer@example.com")  # a new session sees the new group
    answered = stayer.claim("members")
    assert answered is not None and answered["humanLoopName"] == "members-1"
    assert stayer.submit(answered["taskId"], {"label": "ok"}).status_code == 204


# Inputs StartHumanLoop stored before it checked them; claiming their tasks gave 500 and
# kept the lease.
POISONS = {
    "poison-deep": "[" * 970 + "]" * 970,
    "poison-surrogate": '{"a": "\\ud800"}',
    "poison-nan": '{"a": NaN}',
}


@pytest.mark.abuse
def test_a_loop_with_an_unreadable_input_never_wedges_a_workers_claims(
    fast: LiveServer,
) -> None:
    flow = make_flow(fast, "poison", "poison", FORM)
    add_worker(fast, "poisoned@example.com", "poison")
    for name in [*POISONS, "poison-ok", "poison-late"]:
        start_item_loop(fast, flow, name)
    for name, content in POISONS.items():
        set_loop_column(fast, name, "input_content", content)
    worker = PortalClient(fast, "poisoned@example.com")
    claimed = worker.post("/api/jobs/poison/claim")
    assert claimed.status_code == 200, claimed.text
    task = claimed.json()["task"]
    assert task["humanLoopName"] == "poison-ok" and task["input"] == {"item": "poison-ok"}
    for name in POISONS:
        loop = described(fast, name)
        assert (loop["HumanLoopStatus"], loop["FailureCode"]) == ("Failed", "ValidationError")
        assert "input" in loop["FailureReason"]
    assert worker.submit(task["taskId"], {"label": "fine"}).status_code == 204
    # A task already held when its input is found bad: the task page refuses it (409),
    # the loop ends, and the worker goes on to the next task.
    task = worker.claim("poison")
    assert task is not None and task["humanLoopName"] == "poison-late"
    set_loop_column(fast, "poison-late", "input_content", POISONS["poison-deep"])
    assert worker.http.get(f"/tasks/{task['taskId']}/frame").status_code == 409
    assert described(fast, "poison-late")["FailureCode"] == "ValidationError"
    assert worker.claim("poison") is None


@pytest.mark.abuse
def test_a_loop_whose_output_cannot_be_written_ends_failed_and_its_flow_can_go(
    fast: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    flow = make_flow(fast, "unwritable", "unwritable", FORM)
    add_worker(fast, "unwritable@example.com", "unwritable")
    paths = {"unwritable-upper": "s3://UPPER_bucket/x", "unwritable-dots": "s3://b/../../x"}
    for name, path in paths.items():
        start_item_loop(fast, flow, name)
        set_loop_column(fast, name, "s3_output_path", path)
    worker = PortalClient(fast, "unwritable@example.com")
    for _ in paths:
        task = worker.claim("unwritable")
        assert task is not None
        assert worker.submit(task["taskId"], {"label": "done"}).status_code == 204
    for name, path in paths.items():
        loop = wait_for(
            lambda name=name: (d := described(fast, name))["HumanLoopStatus"] == "Failed" and d,
            timeout=20,
            what=f"{name} Failed",
        )
        assert loop["FailureCode"] == "InternalError"
        assert path in loop["FailureReason"] and "2 attempts" in loop["FailureReason"]
    fast.client("sagemaker").delete_flow_definition(FlowDefinitionName="unwritable")
    # One line per attempt, never a traceback (the server runs in this process).
    written = [r for r in caplog.records if r.name.startswith("handloop")]
    assert any(
        "could not write the output of human loop unwritable-upper" in r.getMessage()
        for r in written
    )
    assert not [r for r in written if r.exc_info], "a traceback was logged"


# -- through the services, on a fake clock ---------------------------------------------------


@pytest.fixture
def h(tmp_path: Path, database_url: str | None) -> Iterator[Harness]:
    with fresh_harness(tmp_path, database_url) as harness:
        yield harness


def claim_id(h: Harness, worker: Worker, flow: str) -> str:
    task = h.run(h.services.tasks.claim(worker, flow))
    assert task is not None
    return task.public_id


def counters_hold(h: Harness) -> bool:
    """Every loop's ``claimed`` is its active plus submitted tasks, ``submitted`` its
    submitted ones."""

    def op(conn: Any) -> bool:
        counted = {
            (row.human_loop_id, row.state): row.n
            for row in conn.execute(
                select(tasks.c.human_loop_id, tasks.c.state, func.count().label("n")).group_by(
                    tasks.c.human_loop_id, tasks.c.state
                )
            )
        }
        for loop in conn.execute(select(human_loops)):
            active = counted.get((loop.id, "active"), 0)
            submitted = counted.get((loop.id, "submitted"), 0)
            if (loop.claimed, loop.submitted) != (active + submitted, submitted):
                return False
        return True

    return bool(h.services.db.read_now(op))


def failed_events(h: Harness) -> list[str]:
    rows = h.services.db.read_now(lambda c: c.execute(select(events.c.body)).all())
    return [
        r.body["detail"]["humanLoopName"]
        for r in rows
        if r.body["detail"]["humanLoopStatus"] == "Failed"
    ]


@pytest.mark.abuse
def test_every_way_a_task_leaves_a_worker_answers_409_and_keeps_the_counts(h: Harness) -> None:
    flow = h.flow("rank", "g1", task_count=2, time_limit=30, lifetime=600)
    alice = h.worker("alice@example.com", "g1")
    bob = h.worker("bob@example.com", "g1")
    names = [f"loop-{n}" for n in range(4)]
    for name in names:
        h.start(flow, name)
    tasks_ = h.services.tasks
    declined = claim_id(h, alice, flow)
    h.run(tasks_.decline(alice, declined))
    released = claim_id(h, alice, flow)
    h.run(tasks_.release(alice, released))
    assert claim_id(h, alice, flow) == released  # her turn, active again
    expired = released
    h.clock.advance(31)
    assert h.run(tasks_.expire_leases()) == 1
    stopped = claim_id(h, bob, flow)
    h.run(h.services.human_loops.stop(h.run(tasks_.get(bob, stopped)).human_loop_name))
    h.run(h.services.human_loops.finish_stopping())
    cases = {
        declined: (alice, "declined"),
        expired: (alice, "ran out"),
        stopped: (bob, "stopped"),
    }
    for public_id, (worker, reason) in cases.items():
        for action in (
            lambda: tasks_.submit(worker, public_id, {"x": "late"}),  # noqa: B023
            lambda: tasks_.get(worker, public_id),  # noqa: B023
            lambda: tasks_.release(worker, public_id),  # noqa: B023
        ):
            with pytest.raises(TaskGone, match=reason):
                h.run(action())
    # Another worker's id is still unknown to them.
    with pytest.raises(ResourceNotFound):
        h.run(tasks_.submit(bob, declined, {"x": "not mine"}))
    assert counters_hold(h)


@pytest.mark.abuse
def test_a_worker_whose_groups_change_loses_the_task_at_once(h: Harness) -> None:
    flow = h.flow("rank", "g1")
    alice = h.worker("alice@example.com", "g1", "g2")
    bob = h.worker("bob@example.com", "g1")
    h.start(flow, "loop-1")
    held = claim_id(h, alice, flow)
    # Leaving a group the team does not name changes nothing.
    h.services.workers.set_groups("alice@example.com", [], ["g2"])
    assert h.run(h.services.tasks.get(alice, held)).human_loop_name == "loop-1"
    moved = h.services.workers.set_groups("alice@example.com", [], ["g1"])
    assert h.run(h.services.tasks.claim(bob, flow)) is not None
    with pytest.raises(TaskGone):
        h.run(h.services.tasks.submit(moved, held, {"x": "mine"}))
    # Back in the group, she may take the loop again only once bob lets it go.
    back = h.services.workers.set_groups("alice@example.com", ["g1"], [])
    assert h.run(h.services.tasks.claim(back, flow)) is None
    assert counters_hold(h)


def _nan_answer(h: Harness) -> Any:
    if h.services.db.is_sqlite:
        return {"x": math.nan}
    pytest.skip("PostgreSQL's json type cannot hold NaN")


@pytest.mark.abuse
@pytest.mark.parametrize(
    "answer", [_nan_answer, lambda h: {"x": "\ud800"}], ids=["nan", "lone-surrogate"]
)
def test_an_answer_json_cannot_hold_ends_the_loop_instead_of_reaching_the_output(
    h: Harness, answer: Any
) -> None:
    flow = h.flow("rank", "g1", task_count=2)
    alice = h.worker("alice@example.com", "g1")
    bob = h.worker("bob@example.com", "g1")
    h.start(flow, "loop-1")
    first = claim_id(h, alice, flow)
    h.run(h.services.tasks.submit(alice, first, {"x": "fine"}))
    # What an older version let through, written as it would have stored it.
    bad = answer(h)
    h.services.db.write_now(
        lambda c: c.execute(tasks.update().where(tasks.c.public_id == first).values(answer=bad))
    )
    second = claim_id(h, bob, flow)
    h.run(h.services.tasks.submit(bob, second, {"x": "fine"}))
    loop = h.run(h.services.human_loops.get("loop-1"))
    assert (loop.status.value, loop.failure_code) == ("Failed", "ValidationError")
    assert loop.failure_reason is not None and alice.worker_id in loop.failure_reason
    assert failed_events(h) == ["loop-1"]
    assert not (h.services.settings.data_dir / "s3").exists()


@pytest.mark.abuse
def test_a_write_that_keeps_failing_ends_the_loop_after_bounded_attempts(h: Harness) -> None:
    flow = h.flow("rank", "g1")
    alice = h.worker("alice@example.com", "g1")
    h.start(flow, "loop-1")
    attempts = []

    def broken_put(bucket: str, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        attempts.append(key)
        raise OSError("the store is down")

    h.services.blobs.put = broken_put  # type: ignore[method-assign]
    h.run(h.services.tasks.submit(alice, claim_id(h, alice, flow), {"x": "1"}))
    for _ in range(30):  # each 5 minutes (the longest backoff) apart
        assert h.run(h.services.outputs.repair()) == 0
        h.clock.advance(300)
    loop = h.run(h.services.human_loops.get("loop-1"))
    assert (loop.status.value, loop.failure_code) == ("Failed", "InternalError")
    assert len(attempts) == h.services.settings.output_write_attempts
    assert loop.failure_reason is not None
    assert "the store is down" in loop.failure_reason and loop.output_uri in loop.failure_reason
    assert failed_events(h) == ["loop-1"]
    h.run(h.services.flow_definitions.delete(flow))
    assert counters_hold(h)


def test_a_write_that_fails_once_still_completes_the_loop(h: Harness) -> None:
    flow = h.flow("rank", "g1")
    alice = h.worker("alice@example.com", "g1")
    h.start(flow, "loop-1")
    real_put = h.services.blobs.put
    failures = [OSError("a hiccup")]

    def flaky_put(bucket: str, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        if failures:
            raise failures.pop()
        return real_put(bucket, key, data, if_absent=if_absent)

    h.services.blobs.put = flaky_put  # type: ignore[method-assign]
    h.run(h.services.tasks.submit(alice, claim_id(h, alice, flow), {"x": "1"}))
    assert h.status("loop-1") == "InProgress"
    assert h.run(h.services.outputs.repair()) == 0  # not due before its backoff
    h.clock.advance(1)
    assert h.run(h.services.outputs.repair()) == 1
    assert h.status("loop-1") == "Completed"
    assert h.run(h.services.outputs.repair()) == 0


def test_a_loop_of_a_held_task_whose_input_turns_bad_ends_on_the_next_look(h: Harness) -> None:
    flow = h.flow("rank", "g1")
    alice = h.worker("alice@example.com", "g1")
    h.start(flow, "loop-1")
    h.start(flow, "loop-2")
    held = claim_id(h, alice, flow)
    h.services.db.write_now(
        lambda c: c.execute(
            text("UPDATE human_loops SET input_content = :bad WHERE name = 'loop-1'"),
            {"bad": '{"a": "\\udfff"}'},
        )
    )
    # Claim gives the held task back first: its loop ends, and the next one comes.
    task = h.run(h.services.tasks.claim(alice, flow))
    assert task is not None and task.human_loop_name == "loop-2" and task.input == {"n": "loop-2"}
    assert h.status("loop-1") == "Failed"
    with pytest.raises(TaskGone):
        h.run(h.services.tasks.submit(alice, held, {"x": "1"}))
    assert counters_hold(h)


def test_a_scheduled_step_failing_the_same_way_logs_one_traceback(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    errors = [RuntimeError("store down")] * 3 + [OSError("disk full")] * 2
    steps = 0

    async def step() -> None:
        nonlocal steps
        steps += 1
        if not errors:
            raise asyncio.CancelledError
        raise errors.pop(0)

    scheduler = Scheduler(h.services, interval_seconds=0)
    with pytest.raises(asyncio.CancelledError):
        h.run(scheduler._every_interval(step))
    logged = [(r.levelname, r.exc_info is not None) for r in caplog.records]
    assert steps == 6
    assert logged == [
        ("ERROR", True),
        ("WARNING", False),
        ("WARNING", False),
        ("ERROR", True),
        ("WARNING", False),
    ]
