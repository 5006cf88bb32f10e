"""Builders for the resources most API tests need."""

from __future__ import annotations

import json
import uuid
from typing import Any

ROLE = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole"
TEMPLATE = """<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>
<crowd-form>
  <p>{{ task.input.taskObject.prompt }}</p>
  {% for response in task.input.taskObject.responses %}
    <p>{{ response }}</p>
    <select name="response_{{ forloop.index }}_ranking" required>
      <option value="1">Most</option>
      <option value="2">Somewhat</option>
      <option value="3">Least</option>
    </select>
  {% endfor %}
</crowd-form>
"""
ITEM = {
    "prompt": "What is the capital of France?",
    "responses": [
        "Paris is the capital of France.",
        "The capital of France is Paris, on the Seine.",
        "Lyon.",
    ],
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def cognito_members(group: str = "annotators") -> list[dict[str, Any]]:
    return [
        {
            "CognitoMemberDefinition": {
                "UserPool": "us-east-1_abcdefgh",
                "UserGroup": group,
                "ClientId": "clientid123",
            }
        }
    ]


def make_flow(sagemaker: Any, *, task_count: int = 1, name: str | None = None) -> dict[str, str]:
    """A task UI, a work team and a flow definition; their names and ARNs."""
    ui_name, team_name, flow_name = unique("ui"), unique("team"), name or unique("flow")
    ui_arn = sagemaker.create_human_task_ui(
        HumanTaskUiName=ui_name, UiTemplate={"Content": TEMPLATE}
    )["HumanTaskUiArn"]
    team_arn = sagemaker.create_workteam(
        WorkteamName=team_name, MemberDefinitions=cognito_members(), Description="rankers"
    )["WorkteamArn"]
    flow_arn = sagemaker.create_flow_definition(
        FlowDefinitionName=flow_name,
        RoleArn=ROLE,
        HumanLoopConfig={
            "WorkteamArn": team_arn,
            "HumanTaskUiArn": ui_arn,
            "TaskCount": task_count,
            "TaskDescription": "Rank the answers",
            "TaskTitle": "Rank the answers",
        },
        OutputConfig={"S3OutputPath": "s3://review-bucket/results"},
    )["FlowDefinitionArn"]
    return {
        "ui_name": ui_name,
        "ui_arn": ui_arn,
        "team_name": team_name,
        "team_arn": team_arn,
        "flow_name": flow_name,
        "flow_arn": flow_arn,
    }


def input_content(**extra: Any) -> str:
    return json.dumps({"taskObject": {**ITEM, **extra}})
