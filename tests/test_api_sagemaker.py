"""SageMaker control-plane operations through boto3 against a live server."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api_fixtures import ROLE, TEMPLATE, cognito_members, make_flow, unique
from tests.support import LiveServer, error_of


@pytest.fixture(scope="module")
def sagemaker(server: LiveServer) -> Any:
    # Client-side validation off, so the server's own validation is what is tested.
    return server.client("sagemaker", parameter_validation=False)


def test_human_task_ui_lifecycle(sagemaker: Any) -> None:
    name = unique("ui")
    arn = sagemaker.create_human_task_ui(HumanTaskUiName=name, UiTemplate={"Content": TEMPLATE})[
        "HumanTaskUiArn"
    ]
    assert arn == f"arn:aws:sagemaker:us-east-1:123456789012:human-task-ui/{name}"
    described = sagemaker.describe_human_task_ui(HumanTaskUiName=name)
    assert described["HumanTaskUiStatus"] == "Active"
    assert described["HumanTaskUiArn"] == arn
    assert len(described["UiTemplate"]["ContentSha256"]) == 64
    # The template URL serves the content to anyone holding the signed link.
    import httpx

    assert httpx.get(described["UiTemplate"]["Url"]).text == TEMPLATE
    tampered = described["UiTemplate"]["Url"].replace("signature=", "signature=0")
    assert httpx.get(tampered).status_code == 403
    names = [
        s["HumanTaskUiName"]
        for s in sagemaker.list_human_task_uis(MaxResults=100)["HumanTaskUiSummaries"]
    ]
    assert name in names
    sagemaker.delete_human_task_ui(HumanTaskUiName=name)
    code, status, _ = error_of(lambda: sagemaker.describe_human_task_ui(HumanTaskUiName=name))
    assert (code, status) == ("ResourceNotFound", 400)


def test_flow_definition_goes_initializing_then_active(server: LiveServer) -> None:
    with LiveServer(
        data_dir=server.data_dir.parent / "slow-activation",
        database_url=None,
        extra_env={"HANDLOOP_FLOW_ACTIVATION_SECONDS": "1.5"},
    ) as slow:
        client = slow.client("sagemaker")
        flow = make_flow(client)
        statuses = [
            client.describe_flow_definition(FlowDefinitionName=flow["flow_name"])[
                "FlowDefinitionStatus"
            ]
        ]
        deadline = time.monotonic() + 30
        while statuses[-1] != "Active" and time.monotonic() < deadline:
            time.sleep(0.2)
            statuses.append(
                client.describe_flow_definition(FlowDefinitionName=flow["flow_name"])[
                    "FlowDefinitionStatus"
                ]
            )
        assert statuses[0] == "Initializing"
        assert statuses[-1] == "Active"


def test_flow_definition_describe_and_list(sagemaker: Any) -> None:
    flow = make_flow(sagemaker, task_count=2)
    described = sagemaker.describe_flow_definition(FlowDefinitionName=flow["flow_name"])
    assert described["FlowDefinitionArn"] == flow["flow_arn"]
    assert described["HumanLoopConfig"]["TaskCount"] == 2
    assert described["HumanLoopConfig"]["TaskTimeLimitInSeconds"] == 3600
    assert described["OutputConfig"]["S3OutputPath"] == "s3://review-bucket/results"
    assert described["RoleArn"] == ROLE
    seen: list[str] = []
    kwargs: dict[str, Any] = {"MaxResults": 1, "SortOrder": "Ascending"}
    while True:
        page = sagemaker.list_flow_definitions(**kwargs)
        seen.extend(s["FlowDefinitionName"] for s in page["FlowDefinitionSummaries"])
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert flow["flow_name"] in seen
    assert len(seen) == len(set(seen))


def test_workteam_lifecycle(server: LiveServer, sagemaker: Any) -> None:
    name = unique("team")
    arn = sagemaker.create_workteam(
        WorkteamName=name, MemberDefinitions=cognito_members("g1"), Description="first"
    )["WorkteamArn"]
    assert arn.endswith(f":workteam/private-crowd/{name}")
    team = sagemaker.describe_workteam(WorkteamName=name)["Workteam"]
    assert team["SubDomain"] == f"127.0.0.1:{server.port}"
    assert team["WorkforceArn"].endswith(":workforce/default")
    updated = sagemaker.update_workteam(
        WorkteamName=name, MemberDefinitions=cognito_members("g2"), Description="second"
    )["Workteam"]
    assert updated["Description"] == "second"
    assert updated["MemberDefinitions"][0]["CognitoMemberDefinition"]["UserGroup"] == "g2"
    listed = sagemaker.list_workteams(NameContains=name)["Workteams"]
    assert [t["WorkteamName"] for t in listed] == [name]
    assert sagemaker.delete_workteam(WorkteamName=name)["Success"] is True
    assert error_of(lambda: sagemaker.describe_workteam(WorkteamName=name))[0] == "ResourceNotFound"


def test_workforce_operations(sagemaker: Any) -> None:
    forces = sagemaker.list_workforces()["Workforces"]
    assert [f["WorkforceName"] for f in forces] == ["default"]
    updated = sagemaker.update_workforce(
        WorkforceName="default", SourceIpConfig={"Cidrs": ["10.0.0.0/8"]}
    )["Workforce"]
    assert updated["SourceIpConfig"] == {"Cidrs": ["10.0.0.0/8"]}
    described = sagemaker.describe_workforce(WorkforceName="default")["Workforce"]
    assert described["SourceIpConfig"] == {"Cidrs": ["10.0.0.0/8"]}
    sagemaker.update_workforce(WorkforceName="default", SourceIpConfig={"Cidrs": []})
    code, _, message = error_of(lambda: sagemaker.create_workforce(WorkforceName="second"))
    assert code == "ResourceLimitExceeded"
    assert "one private workforce" in message


def create_flow(
    sm: Any,
    f: dict[str, str],
    *,
    name: str | None = None,
    role: str = ROLE,
    team_arn: str | None = None,
    task_count: int = 1,
) -> Any:
    """CreateFlowDefinition on the module's resources, with one thing changed."""
    return sm.create_flow_definition(
        FlowDefinitionName=name or unique("flow"),
        RoleArn=role,
        HumanLoopConfig={
            "WorkteamArn": team_arn or f["team_arn"],
            "HumanTaskUiArn": f["ui_arn"],
            "TaskCount": task_count,
            "TaskDescription": "d",
            "TaskTitle": "t",
        },
        OutputConfig={"S3OutputPath": "s3://review-bucket/p"},
    )


@dataclass(frozen=True)
class ErrorCase:
    name: str
    call: Callable[[Any, dict[str, str]], Any]
    code: str
    status: int = 400
    message: str = ""


ERROR_CASES = [
    ErrorCase(
        "ui name with capitals",
        lambda sm, f: sm.create_human_task_ui(
            HumanTaskUiName="Bad_Name", UiTemplate={"Content": "x"}
        ),
        "ValidationException",
        message="Member must satisfy regular expression pattern",
    ),
    ErrorCase(
        "ui name too long",
        lambda sm, f: sm.create_human_task_ui(
            HumanTaskUiName="a" * 64, UiTemplate={"Content": "x"}
        ),
        "ValidationException",
        message="length less than or equal to 63",
    ),
    ErrorCase(
        "template over 128,000 chars",
        lambda sm, f: sm.create_human_task_ui(
            HumanTaskUiName=unique("ui"), UiTemplate={"Content": "x" * 128_001}
        ),
        "ValidationException",
        message="length less than or equal to 128000",
    ),
    ErrorCase(
        "liquid syntax error names the line",
        lambda sm, f: sm.create_human_task_ui(
            HumanTaskUiName=unique("ui"), UiTemplate={"Content": "<p>\n\n{% if x %}\n<b>"}
        ),
        "ValidationException",
        message="line 3",
    ),
    ErrorCase(
        "duplicate ui",
        lambda sm, f: sm.create_human_task_ui(
            HumanTaskUiName=f["ui_name"], UiTemplate={"Content": "x"}
        ),
        "ResourceInUse",
    ),
    ErrorCase(
        "duplicate flow",
        lambda sm, f: create_flow(sm, f, name=f["flow_name"]),
        "ResourceInUse",
    ),
    ErrorCase(
        "duplicate team",
        lambda sm, f: sm.create_workteam(
            WorkteamName=f["team_name"], MemberDefinitions=cognito_members(), Description="d"
        ),
        "ResourceInUse",
    ),
    ErrorCase(
        "task count over 3",
        lambda sm, f: create_flow(sm, f, task_count=4),
        "ValidationException",
        message="less than or equal to 3",
    ),
    ErrorCase(
        "flow with unknown team",
        lambda sm, f: create_flow(sm, f, team_arn=f["team_arn"] + "-missing"),
        "ValidationException",
        message="does not exist",
    ),
    ErrorCase(
        "bad role arn",
        lambda sm, f: create_flow(sm, f, role="arn:aws:iam::12345:role/too-short-account"),
        "ValidationException",
        message="roleArn",
    ),
    ErrorCase(
        "ui in use cannot be deleted",
        lambda sm, f: sm.delete_human_task_ui(HumanTaskUiName=f["ui_name"]),
        "ResourceInUse",
    ),
    ErrorCase(
        "team in use cannot be deleted",
        lambda sm, f: sm.delete_workteam(WorkteamName=f["team_name"]),
        "ResourceInUse",
    ),
    ErrorCase(
        "unknown flow",
        lambda sm, f: sm.describe_flow_definition(FlowDefinitionName="no-such-flow"),
        "ResourceNotFound",
    ),
    ErrorCase(
        "unknown workforce",
        lambda sm, f: sm.describe_workforce(WorkforceName="nope"),
        "ResourceNotFound",
    ),
    ErrorCase(
        "workforce with teams cannot be deleted",
        lambda sm, f: sm.delete_workforce(WorkforceName="default"),
        "ResourceInUse",
    ),
    ErrorCase(
        "bad CIDR",
        lambda sm, f: sm.update_workforce(
            WorkforceName="default", SourceIpConfig={"Cidrs": ["300.1.1.1/8"]}
        ),
        "ValidationException",
    ),
    ErrorCase(
        "OIDC members on a built-in sign-in workforce",
        lambda sm, f: sm.create_workteam(
            WorkteamName=unique("team"),
            MemberDefinitions=[{"OidcMemberDefinition": {"Groups": ["a"]}}],
            Description="d",
        ),
        "ValidationException",
    ),
    ErrorCase(
        "unknown operation",
        lambda sm, f: sm.list_endpoints(),
        "UnknownOperationException",
    ),
    ErrorCase(
        "page size over 100",
        lambda sm, f: sm.list_flow_definitions(MaxResults=101),
        "ValidationException",
    ),
    ErrorCase(
        "forged next token",
        lambda sm, f: sm.list_flow_definitions(NextToken="bm90LWEtdG9rZW4"),
        "ValidationException",
        message="NextToken",
    ),
]


@pytest.fixture(scope="module")
def flow(sagemaker: Any) -> dict[str, str]:
    return make_flow(sagemaker)


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda c: c.name)
def test_errors(case: ErrorCase, sagemaker: Any, flow: dict[str, str]) -> None:
    code, status, message = error_of(lambda: case.call(sagemaker, flow))
    assert (code, status) == (case.code, case.status), message
    assert case.message in message


def test_flow_with_loops_in_progress_cannot_be_deleted(server: LiveServer, sagemaker: Any) -> None:
    from tests.api_fixtures import input_content

    flow = make_flow(sagemaker)
    a2i = server.client("sagemaker-a2i-runtime")
    name = unique("loop")
    a2i.start_human_loop(
        HumanLoopName=name,
        FlowDefinitionArn=flow["flow_arn"],
        HumanLoopInput={"InputContent": input_content()},
    )
    assert (
        error_of(lambda: sagemaker.delete_flow_definition(FlowDefinitionName=flow["flow_name"]))[0]
        == "ResourceInUse"
    )
    a2i.stop_human_loop(HumanLoopName=name)
    deadline = time.monotonic() + 20
    while a2i.describe_human_loop(HumanLoopName=name)["HumanLoopStatus"] != "Stopped":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    sagemaker.delete_flow_definition(FlowDefinitionName=flow["flow_name"])
    assert (
        error_of(lambda: sagemaker.describe_flow_definition(FlowDefinitionName=flow["flow_name"]))[
            0
        ]
        == "ResourceNotFound"
    )
    # The finished loop outlives its flow definition.
    assert a2i.describe_human_loop(HumanLoopName=name)["HumanLoopStatus"] == "Stopped"
