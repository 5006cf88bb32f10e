"""A2I runtime operations (human loops) through boto3 against a live server."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.api_fixtures import input_content, make_flow, unique
from tests.support import LiveServer, error_of

MAX_INPUT = 3_145_728


@pytest.fixture(scope="module")
def sagemaker(server: LiveServer) -> Any:
    return server.client("sagemaker")


@pytest.fixture(scope="module")
def a2i(server: LiveServer) -> Any:
    return server.client("sagemaker-a2i-runtime", parameter_validation=False)


@pytest.fixture(scope="module")
def flow(sagemaker: Any) -> dict[str, str]:
    return make_flow(sagemaker)


def start(
    a2i: Any, flow: dict[str, str], name: str | None = None, content: str | None = None
) -> str:
    name = name or unique("loop")
    a2i.start_human_loop(
        HumanLoopName=name,
        FlowDefinitionArn=flow["flow_arn"],
        HumanLoopInput={"InputContent": content or input_content()},
    )
    return name


def json_of_length(length: int) -> str:
    skeleton = json.dumps({"taskObject": ""})
    return json.dumps({"taskObject": "x" * (length - len(skeleton))})


def test_start_describe_and_output_uri(a2i: Any, flow: dict[str, str]) -> None:
    before = datetime.now(tz=UTC) - timedelta(seconds=1)
    name = start(a2i, flow)
    loop = a2i.describe_human_loop(HumanLoopName=name)
    assert loop["HumanLoopStatus"] == "InProgress"
    assert loop["HumanLoopArn"] == f"arn:aws:sagemaker:us-east-1:123456789012:human-loop/{name}"
    assert loop["FlowDefinitionArn"] == flow["flow_arn"]
    created: datetime = loop["CreationTime"]
    assert created >= before
    # The output's key is fixed by the creation time (UTC), from the moment the loop starts.
    expected = (
        f"s3://review-bucket/results/{flow['flow_name']}/"
        f"{created.astimezone(UTC):%Y/%m/%d/%H/%M/%S}/{name}/output.json"
    )
    assert loop["HumanLoopOutput"]["OutputS3Uri"] == expected


def test_same_name_same_input_is_idempotent(a2i: Any, flow: dict[str, str]) -> None:
    name = unique("loop")
    first = a2i.start_human_loop(
        HumanLoopName=name,
        FlowDefinitionArn=flow["flow_arn"],
        HumanLoopInput={"InputContent": input_content()},
    )["HumanLoopArn"]
    again = a2i.start_human_loop(
        HumanLoopName=name,
        FlowDefinitionArn=flow["flow_arn"],
        HumanLoopInput={"InputContent": input_content()},
    )["HumanLoopArn"]
    assert first == again
    code, status, _ = error_of(
        lambda: a2i.start_human_loop(
            HumanLoopName=name,
            FlowDefinitionArn=flow["flow_arn"],
            HumanLoopInput={"InputContent": input_content(prompt="another")},
        )
    )
    assert (code, status) == ("ConflictException", 409)


def test_input_content_limit_is_exact(a2i: Any, flow: dict[str, str]) -> None:
    at_limit = json_of_length(MAX_INPUT)
    assert len(at_limit) == MAX_INPUT
    name = start(a2i, flow, content=at_limit)
    assert a2i.describe_human_loop(HumanLoopName=name)["HumanLoopStatus"] == "InProgress"
    code, status, message = error_of(
        lambda: start(a2i, flow, content=json_of_length(MAX_INPUT + 1))
    )
    assert (code, status) == ("ValidationException", 400)
    assert "3145728" in message


LOOP_ERRORS = [
    (
        "name with capitals",
        {"HumanLoopName": "Loop-1"},
        "ValidationException",
        400,
        "regular expression",
    ),
    (
        "name ending in a dash",
        {"HumanLoopName": "loop-"},
        "ValidationException",
        400,
        "regular expression",
    ),
    ("name of 64 chars", {"HumanLoopName": "a" * 64}, "ValidationException", 400, "63"),
    ("input not JSON", {"InputContent": "{not json"}, "ValidationException", 400, "not valid JSON"),
    (
        "unknown flow",
        {"FlowDefinitionArn": "missing"},
        "ValidationException",
        400,
        "does not exist",
    ),
    (
        "not a flow ARN",
        {"FlowDefinitionArn": "arn:aws:s3:::bucket"},
        "ValidationException",
        400,
        "flowDefinitionArn",
    ),
    (
        "bad content classifier",
        {"DataAttributes": {"ContentClassifiers": ["Nope"]}},
        "ValidationException",
        400,
        "enum",
    ),
]


@pytest.mark.parametrize(
    ("case", "change", "code", "status", "message"), LOOP_ERRORS, ids=[c[0] for c in LOOP_ERRORS]
)
def test_start_errors(
    a2i: Any,
    flow: dict[str, str],
    case: str,
    change: dict[str, Any],
    code: str,
    status: int,
    message: str,
) -> None:
    params: dict[str, Any] = {
        "HumanLoopName": unique("loop"),
        "FlowDefinitionArn": flow["flow_arn"],
        "HumanLoopInput": {"InputContent": input_content()},
    }
    for key, value in change.items():
        if key == "InputContent":
            params["HumanLoopInput"] = {"InputContent": value}
        elif key == "FlowDefinitionArn" and value == "missing":
            params[key] = flow["flow_arn"] + "-missing"
        else:
            params[key] = value
    got = error_of(lambda: a2i.start_human_loop(**params))
    assert got[:2] == (code, status), got[2]
    assert message in got[2]


def test_stop_then_delete(a2i: Any, flow: dict[str, str]) -> None:
    name = start(a2i, flow)
    code, status, message = error_of(lambda: a2i.delete_human_loop(HumanLoopName=name))
    assert (code, status) == ("ValidationException", 400)
    assert "InProgress" in message
    a2i.stop_human_loop(HumanLoopName=name)
    assert a2i.describe_human_loop(HumanLoopName=name)["HumanLoopStatus"] in ("Stopping", "Stopped")
    deadline = time.monotonic() + 20
    while a2i.describe_human_loop(HumanLoopName=name)["HumanLoopStatus"] != "Stopped":
        assert time.monotonic() < deadline, "loop never reached Stopped"
        time.sleep(0.1)
    a2i.stop_human_loop(HumanLoopName=name)  # stopping a stopped loop is a no-op
    a2i.delete_human_loop(HumanLoopName=name)
    assert error_of(lambda: a2i.describe_human_loop(HumanLoopName=name))[:2] == (
        "ResourceNotFoundException",
        404,
    )
    assert (
        error_of(lambda: a2i.stop_human_loop(HumanLoopName=name))[0] == "ResourceNotFoundException"
    )
    assert (
        error_of(lambda: a2i.delete_human_loop(HumanLoopName=name))[0]
        == "ResourceNotFoundException"
    )


def test_list_filters_and_sorting(a2i: Any, sagemaker: Any) -> None:
    flow = make_flow(sagemaker)
    names = []
    for _ in range(5):
        names.append(start(a2i, flow))
        time.sleep(0.002)
    created = [a2i.describe_human_loop(HumanLoopName=n)["CreationTime"] for n in names]
    listed = a2i.list_human_loops(FlowDefinitionArn=flow["flow_arn"], SortOrder="Ascending")
    assert [s["HumanLoopName"] for s in listed["HumanLoopSummaries"]] == names
    assert all(s["HumanLoopStatus"] == "InProgress" for s in listed["HumanLoopSummaries"])
    newest_first = a2i.list_human_loops(FlowDefinitionArn=flow["flow_arn"])
    assert [s["HumanLoopName"] for s in newest_first["HumanLoopSummaries"]] == names[::-1]
    window = a2i.list_human_loops(
        FlowDefinitionArn=flow["flow_arn"],
        CreationTimeAfter=created[0],
        CreationTimeBefore=created[4],
        SortOrder="Ascending",
    )
    # The window excludes its ends.
    assert [s["HumanLoopName"] for s in window["HumanLoopSummaries"]] == names[1:4]


def test_list_errors(a2i: Any, flow: dict[str, str]) -> None:
    assert error_of(
        lambda: a2i.list_human_loops(FlowDefinitionArn=flow["flow_arn"], MaxResults=101)
    )[0] == ("ValidationException")
    assert error_of(lambda: a2i.list_human_loops(FlowDefinitionArn=flow["flow_arn"] + "-x"))[
        :2
    ] == (
        "ResourceNotFoundException",
        404,
    )
    assert error_of(
        lambda: a2i.list_human_loops(FlowDefinitionArn=flow["flow_arn"], SortOrder="Up")
    )[0] == ("ValidationException")
    assert (
        "NextToken"
        in error_of(
            lambda: a2i.list_human_loops(FlowDefinitionArn=flow["flow_arn"], NextToken="garbage!")
        )[2]
    )


def test_paging_250_loops_while_more_are_added(server: LiveServer, sagemaker: Any) -> None:
    flow = make_flow(sagemaker)
    writer = server.client("sagemaker-a2i-runtime")
    initial = [start(writer, flow) for _ in range(250)]
    stop = threading.Event()
    added: list[str] = []

    def keep_adding() -> None:
        client = server.client("sagemaker-a2i-runtime")
        while not stop.is_set() and len(added) < 200:
            added.append(start(client, flow))

    thread = threading.Thread(target=keep_adding)
    thread.start()
    try:
        for order in ("Ascending", "Descending"):
            reader = server.client("sagemaker-a2i-runtime")
            seen: list[str] = []
            kwargs: dict[str, Any] = {
                "FlowDefinitionArn": flow["flow_arn"],
                "MaxResults": 100,
                "SortOrder": order,
            }
            pages = 0
            while True:
                page = reader.list_human_loops(**kwargs)
                pages += 1
                assert len(page["HumanLoopSummaries"]) <= 100
                seen.extend(s["HumanLoopName"] for s in page["HumanLoopSummaries"])
                if "NextToken" not in page:
                    break
                kwargs["NextToken"] = page["NextToken"]
            assert len(seen) == len(set(seen)), "a loop was listed twice"
            missing = set(initial) - set(seen)
            assert not missing, f"{len(missing)} loops that existed before paging were skipped"
            if order == "Descending":
                # Newest first: loops added during paging land before the cursor.
                assert seen[: len(initial)] != [] and pages >= 3
    finally:
        stop.set()
        thread.join()
    assert added, "the adding thread started no loops"


def test_in_progress_quota(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> None:
    with LiveServer(
        data_dir=tmp_path_factory.mktemp("quota") / "data",
        database_url=None,
        extra_env={"HANDLOOP_MAX_IN_PROGRESS_LOOPS_PER_FLOW": "3"},
    ) as live:
        client = live.client("sagemaker-a2i-runtime")
        flow = make_flow(live.client("sagemaker"))
        names = [start(client, flow) for _ in range(3)]
        code, status, message = error_of(lambda: start(client, flow))
        assert (code, status) == ("ServiceQuotaExceededException", 402)
        assert "3" in message
        client.stop_human_loop(HumanLoopName=names[0])
        deadline = time.monotonic() + 20
        while client.describe_human_loop(HumanLoopName=names[0])["HumanLoopStatus"] != "Stopped":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        start(client, flow)  # a slot is free again


def test_initializing_flow_refuses_loops(tmp_path_factory: pytest.TempPathFactory) -> None:
    with LiveServer(
        data_dir=tmp_path_factory.mktemp("init") / "data",
        extra_env={"HANDLOOP_FLOW_ACTIVATION_SECONDS": "30"},
    ) as live:
        flow = make_flow(live.client("sagemaker"))
        code, _, message = error_of(lambda: start(live.client("sagemaker-a2i-runtime"), flow))
        assert code == "ValidationException"
        assert re.search("Initializing", message)
