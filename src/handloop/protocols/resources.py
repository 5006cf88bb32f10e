"""Records in the shapes the SageMaker and A2I APIs answer with."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from handloop.domain.records import FlowDefinition, HumanLoop, HumanTaskUi, Workforce, Workteam
from handloop.domain.timestamps import to_datetime
from handloop.services import Services
from handloop.services.flow_definitions import (
    DEFAULT_TASK_AVAILABILITY_LIFETIME,
    DEFAULT_TASK_TIME_LIMIT,
)


def portal_address(services: Services) -> str:
    """The portal's host[:port], as AWS gives a SubDomain (callers prepend the scheme)."""
    return urlsplit(services.settings.effective_public_url).netloc


def human_task_ui(services: Services, ui: HumanTaskUi) -> dict[str, Any]:
    return {
        "HumanTaskUiArn": services.arns.build("human-task-ui", ui.name),
        "HumanTaskUiName": ui.name,
        "HumanTaskUiStatus": "Active",
        "CreationTime": to_datetime(ui.created_us),
        "UiTemplate": {
            "Url": services.urls.sign(f"/human-task-uis/{ui.name}/template.liquid"),
            "ContentSha256": ui.content_sha256,
        },
    }


def flow_definition(services: Services, flow: FlowDefinition) -> dict[str, Any]:
    loop_config = dict(flow.config["HumanLoopConfig"])
    loop_config.setdefault("TaskTimeLimitInSeconds", DEFAULT_TASK_TIME_LIMIT)
    loop_config.setdefault("TaskAvailabilityLifetimeInSeconds", DEFAULT_TASK_AVAILABILITY_LIFETIME)
    return {
        "FlowDefinitionArn": services.arns.build("flow-definition", flow.name),
        "FlowDefinitionName": flow.name,
        "FlowDefinitionStatus": flow.status.value,
        "CreationTime": to_datetime(flow.created_us),
        "HumanLoopRequestSource": flow.config.get("HumanLoopRequestSource"),
        "HumanLoopActivationConfig": flow.config.get("HumanLoopActivationConfig"),
        "HumanLoopConfig": loop_config,
        "OutputConfig": flow.config["OutputConfig"],
        "RoleArn": flow.config["RoleArn"],
    }


def workteam(services: Services, team: Workteam) -> dict[str, Any]:
    return {
        "WorkteamName": team.name,
        "MemberDefinitions": team.config.get("MemberDefinitions", []),
        "WorkteamArn": services.arns.build("workteam", team.name),
        "WorkforceArn": services.arns.build("workforce", team.workforce_name),
        "Description": team.description,
        "SubDomain": portal_address(services),
        "CreateDate": to_datetime(team.created_us),
        "LastUpdatedDate": to_datetime(team.updated_us),
        "NotificationConfiguration": team.config.get("NotificationConfiguration"),
        "WorkerAccessConfiguration": team.config.get("WorkerAccessConfiguration"),
    }


def workforce(services: Services, force: Workforce) -> dict[str, Any]:
    oidc = force.config.get("OidcConfig")
    if oidc is not None:
        oidc = {k: v for k, v in oidc.items() if k != "ClientSecret"}
    return {
        "WorkforceName": force.name,
        "WorkforceArn": services.arns.build("workforce", force.name),
        "LastUpdatedDate": to_datetime(force.updated_us),
        "SourceIpConfig": force.config.get("SourceIpConfig", {"Cidrs": []}),
        "SubDomain": portal_address(services),
        "CognitoConfig": force.config.get("CognitoConfig"),
        "OidcConfig": oidc,
        "CreateDate": to_datetime(force.created_us),
        "WorkforceVpcConfig": force.config.get("WorkforceVpcConfig"),
        "Status": "Active",
    }


def human_loop(services: Services, loop: HumanLoop) -> dict[str, Any]:
    return {
        "CreationTime": to_datetime(loop.created_us),
        "FailureReason": loop.failure_reason,
        "FailureCode": loop.failure_code,
        "HumanLoopStatus": loop.status.value,
        "HumanLoopName": loop.name,
        "HumanLoopArn": services.arns.build("human-loop", loop.name),
        "FlowDefinitionArn": services.arns.build("flow-definition", loop.flow_definition_name),
        "HumanLoopOutput": {"OutputS3Uri": loop.output_uri},
    }
