"""A2I's task semantics end to end: boto3 for the requester, the portal's JSON endpoints
for workers, a live server whose task clock runs 30 times fast (HANDLOOP_TASK_TIME_SCALE)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.portal_support import (
    PortalClient,
    add_worker,
    loop_status,
    make_flow,
    read_output,
    start_item_loop,
    wait_for,
)
from tests.support import LiveServer

SCALE = 30
FORM = "<crowd-form><input name='label'></crowd-form>"


@pytest.fixture(scope="module")
def fast(
    database_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    base: Path = tmp_path_factory.mktemp("fast")
    with LiveServer(
        data_dir=base / "data",
        database_url=database_url,
        extra_env={"HANDLOOP_TASK_TIME_SCALE": str(SCALE)},
    ) as live:
        yield live


def test_task_count_two_needs_two_different_workers(fast: LiveServer) -> None:
    flow = make_flow(fast, "pairs", "pairs", FORM, task_count=2)
    for who in ("p1", "p2"):
        add_worker(fast, f"{who}@example.com", "pairs")
    start_item_loop(fast, flow, "pair-1")
    one, two = PortalClient(fast, "p1@example.com"), PortalClient(fast, "p2@example.com")
    task = one.claim("pairs")
    assert task is not None and task["input"] == {"item": "pair-1"}
    assert one.submit(task["taskId"], {"label": "a"}).status_code == 204
    assert one.claim("pairs") is None  # never a second answer from the same worker
    assert loop_status(fast, "pair-1") == "InProgress"
    task = two.claim("pairs")
    assert task is not None
    assert two.submit(task["taskId"], {"label": "b"}).status_code == 204
    described = wait_for(
        lambda: (
            (d := fast.client("sagemaker-a2i-runtime").describe_human_loop(HumanLoopName="pair-1"))[
                "HumanLoopStatus"
            ]
            == "Completed"
            and d
        ),
        what="Completed",
    )
    output = read_output(fast, described["HumanLoopOutput"]["OutputS3Uri"])
    assert [a["workerId"] for a in output["humanAnswers"]] == [one.worker_id, two.worker_id]
    assert [a["answerContent"] for a in output["humanAnswers"]] == [{"label": "a"}, {"label": "b"}]


def test_decline_hides_the_loop_and_release_returns_it(fast: LiveServer) -> None:
    flow = make_flow(fast, "declines", "declines", FORM)
    add_worker(fast, "d1@example.com", "declines")
    add_worker(fast, "d2@example.com", "declines")
    start_item_loop(fast, flow, "decline-1")
    d1, d2 = PortalClient(fast, "d1@example.com"), PortalClient(fast, "d2@example.com")
    task = d1.claim("declines")
    assert task is not None
    assert d2.jobs() == {"declines": 0}
    assert d1.post(f"/api/tasks/{task['taskId']}/release").status_code == 204
    assert d2.jobs() == {"declines": 1}
    task = d1.claim("declines")
    assert task is not None
    assert d1.post(f"/api/tasks/{task['taskId']}/decline").status_code == 204
    assert d1.jobs() == {"declines": 0}
    assert d1.claim("declines") is None
    other = d2.claim("declines")
    assert other is not None and other["humanLoopName"] == "decline-1"


def test_a_lease_that_runs_out_returns_the_task(fast: LiveServer) -> None:
    # TaskTimeLimitInSeconds=30 is one second at this scale.
    flow = make_flow(fast, "leases", "leases", FORM, time_limit=30)
    add_worker(fast, "l1@example.com", "leases")
    add_worker(fast, "l2@example.com", "leases")
    start_item_loop(fast, flow, "lease-1")
    slow, quick = PortalClient(fast, "l1@example.com"), PortalClient(fast, "l2@example.com")
    task = slow.claim("leases")
    assert task is not None and 0 < task["leaseExpiresInSeconds"] <= 30 / SCALE
    assert quick.claim("leases") is None
    taken = wait_for(lambda: quick.claim("leases"), what="the task back in the pool")
    assert taken["humanLoopName"] == "lease-1"
    late = slow.submit(task["taskId"], {"label": "late"})
    assert late.status_code == 409
    assert quick.submit(taken["taskId"], {"label": "on time"}).status_code == 204
    wait_for(lambda: loop_status(fast, "lease-1") == "Completed", what="Completed")


def test_availability_expiry_fails_the_loop(fast: LiveServer) -> None:
    # TaskAvailabilityLifetimeInSeconds=60 is two seconds at this scale, all counted from the
    # start: the worker signs in (a password hash, slow on a loaded machine) beforehand.
    flow = make_flow(fast, "expiring", "expiring", FORM, lifetime=60)
    add_worker(fast, "e1@example.com", "expiring")
    worker = PortalClient(fast, "e1@example.com")
    start_item_loop(fast, flow, "expire-1")
    task = worker.claim("expiring")
    assert task is not None
    a2i = fast.client("sagemaker-a2i-runtime")
    described = wait_for(
        lambda: (
            (d := a2i.describe_human_loop(HumanLoopName="expire-1"))["HumanLoopStatus"] == "Failed"
            and d
        ),
        what="Failed",
    )
    assert described["FailureCode"] == "Expired"
    assert worker.submit(task["taskId"], {"label": "too late"}).status_code == 409
    assert worker.claim("expiring") is None


def test_stop_revokes_the_lease_and_delete_follows_a2i(fast: LiveServer) -> None:
    flow = make_flow(fast, "stops", "stops", FORM)
    add_worker(fast, "s1@example.com", "stops")
    start_item_loop(fast, flow, "stop-1")
    worker = PortalClient(fast, "s1@example.com")
    task = worker.claim("stops")
    assert task is not None
    a2i = fast.client("sagemaker-a2i-runtime")
    with pytest.raises(ClientError) as refused:
        a2i.delete_human_loop(HumanLoopName="stop-1")
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    a2i.stop_human_loop(HumanLoopName="stop-1")
    assert worker.submit(task["taskId"], {"label": "x"}).status_code == 409
    wait_for(lambda: loop_status(fast, "stop-1") == "Stopped", what="Stopped")
    assert worker.http.get(f"/api/tasks/{task['taskId']}").status_code == 409
    a2i.delete_human_loop(HumanLoopName="stop-1")
    with pytest.raises(ClientError) as gone:
        a2i.describe_human_loop(HumanLoopName="stop-1")
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
