"""The A2I notebook the project started from runs as written, given endpoint_url and keys."""

from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest

from tests.api_fixtures import ITEM, TEMPLATE, cognito_members
from tests.support import LiveServer

pytestmark = pytest.mark.shared_server


def test_notebook_calls_run_unchanged(server: LiveServer) -> None:
    key = server.default_key
    kwargs = {
        "endpoint_url": server.url,
        "region_name": "us-east-1",
        "aws_access_key_id": key["AccessKeyId"],
        "aws_secret_access_key": key["SecretAccessKey"],
    }
    sagemaker = boto3.client("sagemaker", **kwargs)
    a2i = boto3.client("sagemaker-a2i-runtime", **kwargs)
    sts = boto3.client("sts", **kwargs)

    role = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-20240101"
    bucket = "my-a2i-bucket"
    task_ui_name = "ui-" + str(uuid.uuid4())[:8]
    flow_definition_name = "fd-" + str(uuid.uuid4())[:8]
    template = TEMPLATE
    workteam_arn = sagemaker.create_workteam(
        WorkteamName="team-" + str(uuid.uuid4())[:8],
        MemberDefinitions=cognito_members(),
        Description="x",
    )["WorkteamArn"]

    # --- the notebook, as written ---
    human_task_ui_response = sagemaker.create_human_task_ui(
        HumanTaskUiName=task_ui_name, UiTemplate={"Content": template}
    )
    human_task_ui_arn = human_task_ui_response["HumanTaskUiArn"]
    create_workflow_definition_response = sagemaker.create_flow_definition(
        FlowDefinitionName=flow_definition_name,
        RoleArn=role,
        HumanLoopConfig={
            "WorkteamArn": workteam_arn,
            "HumanTaskUiArn": human_task_ui_arn,
            "TaskCount": 1,
            "TaskDescription": "Rank the answer from best to worst",
            "TaskTitle": "Rank the answer from best to worst",
        },
        OutputConfig={"S3OutputPath": f"s3://{bucket}/ground-truth-star-rating-results"},
    )
    flow_definition_arn = create_workflow_definition_response["FlowDefinitionArn"]
    for _ in range(60):
        status = sagemaker.describe_flow_definition(FlowDefinitionName=flow_definition_name)[
            "FlowDefinitionStatus"
        ]
        if status == "Active":
            break
        time.sleep(2)
    assert status == "Active"

    human_loops_started = []
    for item in [ITEM]:
        humanLoopName = str(uuid.uuid4())
        start_loop_response = a2i.start_human_loop(
            HumanLoopName=humanLoopName,
            FlowDefinitionArn=flow_definition_arn,
            HumanLoopInput={"InputContent": json.dumps({"taskObject": item})},
        )
        human_loops_started.append(humanLoopName)
        assert start_loop_response["HumanLoopArn"].endswith(humanLoopName)

    for human_loop_name in human_loops_started:
        resp = a2i.describe_human_loop(HumanLoopName=human_loop_name)
        assert resp["HumanLoopStatus"] == "InProgress"
        output_uri = resp["HumanLoopOutput"]["OutputS3Uri"]
        assert output_uri.startswith(
            f"s3://{bucket}/ground-truth-star-rating-results/{flow_definition_name}/"
        )
        assert output_uri.endswith(f"/{human_loop_name}/output.json")

    account = sts.get_caller_identity().get("Account")
    assert account == "123456789012"
