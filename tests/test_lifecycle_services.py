"""The task lifecycle through the services, on SQLite and PostgreSQL, on a fake clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from handloop.domain.output_layout import split_s3_uri
from handloop.domain.records import Worker
from handloop.errors import NotSignedIn, ResourceNotFound, TaskGone, Throttling, ValidationError
from handloop.services import open_services
from handloop.store.tables import deliveries, events, sign_in_failures
from tests.lifecycle_support import Harness, fresh_harness


@pytest.fixture
def h(tmp_path: Path, database_url: str | None) -> Iterator[Harness]:
    with fresh_harness(tmp_path, database_url) as harness:
        yield harness


def claim_id(h: Harness, worker: Worker, flow: str) -> str | None:
    task = h.run(h.services.tasks.claim(worker, flow))
    return None if task is None else task.public_id


def output_of(h: Harness, name: str) -> dict[str, object]:
    loop = h.run(h.services.human_loops.get(name))
    bucket, key = split_s3_uri(loop.output_uri)
    return dict(json.loads(h.services.blobs.get(bucket, key)))


def event_statuses(h: Harness) -> list[tuple[str, str]]:
    rows = h.services.db.read_now(lambda c: c.execute(events.select().order_by(events.c.id)).all())
    return [(r.human_loop_name, r.body["detail"]["humanLoopStatus"]) for r in rows]


def test_one_answer_completes_the_loop_with_the_output_file(h: Harness) -> None:
    flow = h.flow("rank", "g1")
    alice = h.worker("alice@example.com", "g1")
    h.start(flow, "loop-1", {"prompt": "hi"})
    task_id = claim_id(h, alice, flow)
    assert task_id is not None
    task = h.run(h.services.tasks.get(alice, task_id))
    assert task.human_loop_name == "loop-1" and json.loads(task.input_content) == {"prompt": "hi"}
    h.clock.advance(12.5)
    h.run(h.services.tasks.submit(alice, task_id, {"x": "1"}, 10.0))
    assert h.status("loop-1") == "Completed"
    out = output_of(h, "loop-1")
    assert out["humanLoopName"] == "loop-1"
    assert out["inputContent"] == {"prompt": "hi"}
    assert out["flowDefinitionArn"] == h.services.arns.build("flow-definition", flow)
    [answer] = out["humanAnswers"]  # type: ignore[misc]
    assert answer["answerContent"] == {"x": "1"}
    assert answer["workerId"] == alice.worker_id
    assert answer["timeSpentInSeconds"] == 10.0
    assert (
        answer["acceptanceTime"].endswith("Z")
        and answer["submissionTime"] > answer["acceptanceTime"]
    )
    assert answer["workerMetadata"]["identityData"]["sub"] == alice.subject
    assert answer["workerMetadata"]["identityData"]["identityProviderType"] == "Cognito"
    assert event_statuses(h) == [("loop-1", "Completed")]
    # A second submit of the same task is refused and changes nothing.
    with pytest.raises(TaskGone):
        h.run(h.services.tasks.submit(alice, task_id, {"x": "2"}))
    assert output_of(h, "loop-1")["humanAnswers"] == out["humanAnswers"]


def test_task_count_two_needs_two_distinct_workers(h: Harness) -> None:
    flow = h.flow("pair", "g1", task_count=2)
    alice = h.worker("alice@example.com", "g1")
    bob = h.worker("bob@example.com", "g1")
    h.start(flow, "loop-1")
    first = claim_id(h, alice, flow)
    assert first is not None
    # Alice holds it: claiming again gives her the same task, never a second turn.
    assert claim_id(h, alice, flow) == first
    h.run(h.services.tasks.submit(alice, first, {"x": "a"}))
    assert h.status("loop-1") == "InProgress"
    assert claim_id(h, alice, flow) is None
    second = claim_id(h, bob, flow)
    assert second is not None
    h.run(h.services.tasks.submit(bob, second, {"x": "b"}))
    assert h.status("loop-1") == "Completed"
    workers = [a["workerId"] for a in output_of(h, "loop-1")["humanAnswers"]]  # type: ignore[attr-defined]
    assert workers == [alice.worker_id, bob.worker_id]


def test_workers_outside_the_team_see_nothing_and_are_refused_by_id(h: Harness) -> None:
    flow = h.flow("rank", "g1")
    alice = h.worker("alice@example.com", "g1")
    mallory = h.worker("mallory@example.com", "other")
    h.start(flow, "loop-1")
    assert h.run(h.services.tasks.jobs(mallory)) == []
    with pytest.raises(ResourceNotFound):
        claim_id(h, mallory, flow)
    task_id = claim_id(h, alice, flow)
    assert task_id is not None
    for action in (
        lambda: h.services.tasks.get(mallory, task_id),
        lambda: h.services.tasks.submit(mallory, task_id, {"x": "evil"}),
        lambda: h.services.tasks.release(mallory, task_id),
        lambda: h.services.tasks.decline(mallory, task_id),
        lambda: h.services.tasks.get(alice, "guessed-id-0000000000"),
    ):
        with pytest.raises(ResourceNotFound):
            h.run(action())
    assert h.status("loop-1") == "InProgress"


def test_release_returns_the_task_and_decline_hides_the_loop(h: Harness) -> None:
    flow = h.flow("rank", "g1")
    alice = h.worker("alice@example.com", "g1")
    h.start(flow, "loop-1")
    [job] = h.run(h.services.tasks.jobs(alice))
    assert job.waiting == 1 and job.title == "Title of rank"
    first = claim_id(h, alice, flow)
    assert first is not None
    assert h.run(h.services.tasks.jobs(alice))[0].waiting == 0
    h.run(h.services.tasks.release(alice, first))
    with pytest.raises(TaskGone, match="released"):
        h.run(h.services.tasks.submit(alice, first, {"x": "late"}))
    # Her turn at the loop is active again: one row per loop and worker.
    again = claim_id(h, alice, flow)
    assert again == first
    h.run(h.services.tasks.decline(alice, again))
    assert claim_id(h, alice, flow) is None
    assert h.run(h.services.tasks.jobs(alice))[0].waiting == 0
    bob = h.worker("bob@example.com", "g1")
    assert claim_id(h, bob, flow) is not None


def test_lease_expiry_returns_the_task_to_the_pool(h: Harness) -> None:
    flow = h.flow("rank", "g1", time_limit=30)
    alice = h.worker("alice@example.com", "g1")
    bob = h.worker("bob@example.com", "g1")
    h.start(flow, "loop-1")
    task_id = claim_id(h, alice, flow)
    assert task_id is not None
    assert claim_id(h, bob, flow) is None
    h.clock.advance(31)
    with pytest.raises(TaskGone):
        h.run(h.services.tasks.submit(alice, task_id, {"x": "late"}))
    assert h.run(h.services.tasks.expire_leases()) == 1
    bobs = claim_id(h, bob, flow)
    assert bobs is not None
    h.run(h.services.tasks.submit(bob, bobs, {"x": "b"}))
    assert h.status("loop-1") == "Completed"


def test_availability_expiry_fails_the_loop(h: Harness) -> None:
    flow = h.flow("rank", "g1", lifetime=60)
    alice = h.worker("alice@example.com", "g1")
    h.start(flow, "loop-1")
    task_id = claim_id(h, alice, flow)
    assert task_id is not None
    h.clock.advance(61)
    assert h.run(h.services.tasks.expire_loops()) == 1
    loop = h.run(h.services.human_loops.get("loop-1"))
    assert (loop.status.value, loop.failure_code) == ("Failed", "Expired")
    with pytest.raises(TaskGone, match="is Failed"):
        h.run(h.services.tasks.submit(alice, task_id, {"x": "late"}))
    assert event_statuses(h) == [("loop-1", "Failed")]


def test_stop_revokes_leases_and_delete_follows_a2i(h: Harness) -> None:
    flow = h.flow("rank", "g1")
    alice = h.worker("alice@example.com", "g1")
    h.start(flow, "loop-1")
    task_id = claim_id(h, alice, flow)
    assert task_id is not None
    with pytest.raises(ValidationError):
        h.run(h.services.human_loops.delete("loop-1"))
    h.run(h.services.human_loops.stop("loop-1"))
    assert h.status("loop-1") == "Stopping"
    with pytest.raises(TaskGone):
        h.run(h.services.tasks.submit(alice, task_id, {"x": "1"}))
    assert h.run(h.services.human_loops.finish_stopping()) == ["loop-1"]
    assert h.status("loop-1") == "Stopped"
    with pytest.raises(TaskGone, match="stopped"):
        h.run(h.services.tasks.get(alice, task_id))
    assert event_statuses(h) == [("loop-1", "Stopped")]
    h.run(h.services.human_loops.delete("loop-1"))
    with pytest.raises(ResourceNotFound):
        h.run(h.services.human_loops.get("loop-1"))


def test_a_crash_between_output_and_status_is_repaired(h: Harness) -> None:
    flow = h.flow("rank", "g1")
    alice = h.worker("alice@example.com", "g1")
    h.start(flow, "loop-1")
    task_id = claim_id(h, alice, flow)
    assert task_id is not None
    completed: list[int] = []
    real = h.services.outputs.complete

    async def crash(loop_id: int, due: object = None) -> bool:  # dies after the commit
        completed.append(loop_id)
        return False

    h.services.tasks._outputs.complete = crash  # type: ignore[method-assign]
    h.run(h.services.tasks.submit(alice, task_id, {"x": "1"}))
    assert completed and h.status("loop-1") == "InProgress"
    h.services.tasks._outputs.complete = real  # type: ignore[method-assign]
    # Stopping a loop whose last answer is in changes nothing: it is being completed.
    h.run(h.services.human_loops.stop("loop-1"))
    assert h.run(h.services.outputs.repair()) == 1
    assert h.status("loop-1") == "Completed"
    assert output_of(h, "loop-1")["humanAnswers"][0]["answerContent"] == {"x": "1"}  # type: ignore[index]
    assert h.run(h.services.outputs.repair()) == 0


def test_a_submit_that_does_not_wait_completes_in_the_background(h: Harness) -> None:
    flow = h.flow("rank", "g1")
    alice = h.worker("alice@example.com", "g1")
    h.start(flow, "loop-1")
    h.start(flow, "loop-2")
    first = claim_id(h, alice, flow)
    assert first is not None
    h.run(h.services.tasks.submit(alice, first, {"x": "1"}, wait=False))
    h.run(h.services.outputs.drain())
    assert h.status("loop-1") == "Completed"
    assert output_of(h, "loop-1")["humanAnswers"][0]["answerContent"] == {"x": "1"}  # type: ignore[index]
    # A completion that fails in the background is logged and left to the repair.
    second = claim_id(h, alice, flow)
    assert second is not None
    real_put = h.services.blobs.put

    def broken_put(*args: object, **kwargs: object) -> bool:
        raise OSError("disk full")

    h.services.blobs.put = broken_put  # type: ignore[method-assign]
    h.run(h.services.tasks.submit(alice, second, {"x": "2"}, wait=False))
    h.run(h.services.outputs.drain())
    assert h.status("loop-2") == "InProgress"
    h.services.blobs.put = real_put  # type: ignore[method-assign]
    assert h.run(h.services.outputs.repair()) == 0  # the next attempt is not due yet
    h.clock.advance(1)
    assert h.run(h.services.outputs.repair()) == 1
    assert h.status("loop-2") == "Completed"


def test_sign_in_limits_hold_across_processes_and_expire(h: Harness) -> None:
    # A second Services on the same database stands for a second server process.
    other = open_services(h.services.settings, clock=h.clock)
    other.db.start()
    try:
        limits, elsewhere = h.services.sign_ins, other.sign_ins
        attempts = h.services.settings.sign_in_attempts
        for n in range(attempts):
            h.run((limits if n % 2 else elsewhere).check("10.0.0.1", f"user{n}@example.com"))
            h.run((limits if n % 2 else elsewhere).failed("10.0.0.1", f"user{n}@example.com"))
        # The address failed `attempts` times across both: refused in either.
        with pytest.raises(Throttling, match="try again in 15 minute"):
            h.run(elsewhere.check("10.0.0.1", "someone@example.com"))
        with pytest.raises(Throttling):
            h.run(limits.check("10.0.0.1", "someone@example.com"))
        # Another address with an email that failed once is still let through.
        h.run(limits.check("10.0.0.2", "USER0@example.com "))
        h.clock.advance(15 * 60 + 1)
        h.run(limits.check("10.0.0.1", "someone@example.com"))
        h.run(limits.failed("10.0.0.3", "x@example.com"))  # clears what expired
        left = h.services.db.read_now(lambda c: c.execute(sign_in_failures.select()).all())
        assert sorted(row.key for row in left) == ["email:x@example.com", "ip:10.0.0.3"]
    finally:
        other.close()


def test_old_events_are_pruned_once_no_webhook_waits_for_them(h: Harness) -> None:
    flow = h.flow("rank", "g1")
    for n in range(3):
        h.start(flow, f"loop-{n}")
    h.run(h.services.human_loops.stop("loop-0"))
    assert h.run(h.services.human_loops.finish_stopping()) == ["loop-0"]
    h.services.events.add_webhook("http://127.0.0.1:9/hook", "secret")
    # These events wait for that webhook.
    h.run(h.services.human_loops.stop("loop-1"))
    h.run(h.services.human_loops.stop("loop-2"))
    assert len(h.run(h.services.human_loops.finish_stopping())) == 2
    assert h.run(h.services.events.prune()) == 0  # all younger than the retention time
    h.clock.advance(31 * 86_400)
    h.start(flow, "loop-new")
    h.run(h.services.human_loops.stop("loop-new"))
    h.run(h.services.human_loops.finish_stopping())
    # loop-0's event never had a delivery; the others' are pending, so they stay.
    assert h.run(h.services.events.prune()) == 1
    names = [name for name, _ in event_statuses(h)]
    assert names == ["loop-1", "loop-2", "loop-new"]
    # A delivery given up (every attempt failed) waits no more.
    h.services.db.write_now(
        lambda c: c.execute(
            deliveries.update()
            .where(deliveries.c.event_id == events.c.id, events.c.human_loop_name == "loop-1")
            .values(attempts=h.services.settings.webhook_max_attempts)
        )
    )
    h.services.db.write_now(
        lambda c: c.execute(
            deliveries.update()
            .where(deliveries.c.event_id == events.c.id, events.c.human_loop_name == "loop-2")
            .values(delivered_at=h.clock.now)
        )
    )
    assert h.run(h.services.events.prune()) == 2
    assert [name for name, _ in event_statuses(h)] == ["loop-new"]
    assert h.services.db.read_now(lambda c: c.execute(deliveries.select()).all()) != []


def test_invitations_are_one_time_and_sign_in_checks_passwords(h: Harness) -> None:
    token = h.services.workers.invite("New@Example.com", ["g1"])
    assert h.services.workers.invitation_email(token) == "new@example.com"
    worker = h.run(h.services.workers.accept_invitation(token, "longenough"))
    assert worker.groups == ("g1",)
    with pytest.raises(ValidationError):
        h.run(h.services.workers.accept_invitation(token, "longenough"))
    assert h.services.workers.verify_password("new@example.com", "longenough").id == worker.id
    with pytest.raises(NotSignedIn):
        h.services.workers.verify_password("new@example.com", "wrong-password")
    h.services.workers.set_disabled("new@example.com", True)
    with pytest.raises(NotSignedIn):
        h.services.workers.verify_password("new@example.com", "longenough")
