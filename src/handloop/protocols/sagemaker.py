"""SageMaker control-plane operations (AWS JSON 1.1): handlers take validated params and
return plain dicts; ``handloop.protocols.aws`` does the wire work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from handloop.protocols import resources
from handloop.protocols.rendering import render_ui_template
from handloop.services import Services
from handloop.services.paging import decode_token, encode_token

Handler = Callable[[Services, dict[str, Any]], Awaitable[dict[str, Any]]]
DEFAULT_MAX_RESULTS = 10


def _ascending(params: dict[str, Any], default: str) -> bool:
    return bool(params.get("SortOrder", default) == "Ascending")


async def create_human_task_ui(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    ui = await s.human_task_uis.create(
        p["HumanTaskUiName"], p["UiTemplate"]["Content"], p.get("Tags")
    )
    return {"HumanTaskUiArn": s.arns.build("human-task-ui", ui.name)}


async def describe_human_task_ui(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    return resources.human_task_ui(s, await s.human_task_uis.get(p["HumanTaskUiName"]))


async def delete_human_task_ui(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    await s.human_task_uis.delete(p["HumanTaskUiName"])
    return {}


async def list_human_task_uis(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    page = await s.human_task_uis.page(
        created_after=p.get("CreationTimeAfter"),
        created_before=p.get("CreationTimeBefore"),
        ascending=_ascending(p, "Descending"),
        token=p.get("NextToken"),
        max_results=p.get("MaxResults", DEFAULT_MAX_RESULTS),
    )
    # Full records: the output shape's HumanTaskUiSummary keeps the members a summary has.
    summaries = [resources.human_task_ui(s, ui) for ui in page.items]
    return {"HumanTaskUiSummaries": summaries, "NextToken": page.next_token}


async def create_flow_definition(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    loop_config = p["HumanLoopConfig"]
    team = s.arns.name_from(
        "workteam", loop_config["WorkteamArn"], field="HumanLoopConfig.WorkteamArn"
    )
    ui = s.arns.name_from(
        "human-task-ui", loop_config["HumanTaskUiArn"], field="HumanLoopConfig.HumanTaskUiArn"
    )
    config = {k: v for k, v in p.items() if k != "FlowDefinitionName"}
    flow = await s.flow_definitions.create(p["FlowDefinitionName"], team, ui, config)
    return {"FlowDefinitionArn": s.arns.build("flow-definition", flow.name)}


async def describe_flow_definition(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    return resources.flow_definition(s, await s.flow_definitions.get(p["FlowDefinitionName"]))


async def delete_flow_definition(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    await s.flow_definitions.delete(p["FlowDefinitionName"])
    return {}


async def list_flow_definitions(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    page = await s.flow_definitions.page(
        created_after=p.get("CreationTimeAfter"),
        created_before=p.get("CreationTimeBefore"),
        ascending=_ascending(p, "Descending"),
        token=p.get("NextToken"),
        max_results=p.get("MaxResults", DEFAULT_MAX_RESULTS),
    )
    # Full records: the output shape's FlowDefinitionSummary keeps the members a summary has.
    return {
        "FlowDefinitionSummaries": [resources.flow_definition(s, f) for f in page.items],
        "NextToken": page.next_token,
    }


async def create_workteam(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    team = await s.workteams.create(p["WorkteamName"], p.get("WorkforceName"), p["Description"], p)
    return {"WorkteamArn": s.arns.build("workteam", team.name)}


async def describe_workteam(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    return {"Workteam": resources.workteam(s, await s.workteams.get(p["WorkteamName"]))}


async def update_workteam(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    team = await s.workteams.update(p["WorkteamName"], p.get("Description"), p)
    return {"Workteam": resources.workteam(s, team)}


async def delete_workteam(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    await s.workteams.delete(p["WorkteamName"])
    return {"Success": True}


def _sorted_page(
    items: list[dict[str, Any]], p: dict[str, Any], name_key: str, date_key: str, kind: str
) -> tuple[list[dict[str, Any]], str | None]:
    """Name/CreateDate-sorted listing of a few resources (teams, workforces), offset-paged."""
    if p.get("NameContains"):
        items = [i for i in items if p["NameContains"] in i[name_key]]
    key = name_key if p.get("SortBy", "CreateDate") == "Name" else date_key
    items.sort(key=lambda i: (i[key], i[name_key]), reverse=not _ascending(p, "Ascending"))
    query = {"k": kind, "n": p.get("NameContains"), "s": p.get("SortBy"), "o": p.get("SortOrder")}
    start = decode_token(p["NextToken"], query, length=1)[0] if p.get("NextToken") else 0
    size = p.get("MaxResults", DEFAULT_MAX_RESULTS)
    page = items[start : start + size]
    more = start + size < len(items)
    return page, encode_token([start + size], query) if more else None


async def list_workteams(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    teams = [resources.workteam(s, t) for t in await s.workteams.list_all()]
    page, token = _sorted_page(teams, p, "WorkteamName", "CreateDate", "workteams")
    return {"Workteams": page, "NextToken": token}


async def create_workforce(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    config = {k: v for k, v in p.items() if k != "WorkforceName"}
    force = await s.workforces.create(p["WorkforceName"], config)
    return {"WorkforceArn": s.arns.build("workforce", force.name)}


async def describe_workforce(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    return {"Workforce": resources.workforce(s, await s.workforces.get(p["WorkforceName"]))}


async def update_workforce(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    changes = {k: v for k, v in p.items() if k != "WorkforceName"}
    force = await s.workforces.update(p["WorkforceName"], changes)
    return {"Workforce": resources.workforce(s, force)}


async def delete_workforce(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    await s.workforces.delete(p["WorkforceName"])
    return {}


async def list_workforces(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    forces = [resources.workforce(s, f) for f in await s.workforces.list_all()]
    page, token = _sorted_page(forces, p, "WorkforceName", "CreateDate", "workforces")
    return {"Workforces": page, "NextToken": token}


OPERATIONS: dict[str, Handler] = {
    "CreateHumanTaskUi": create_human_task_ui,
    "DescribeHumanTaskUi": describe_human_task_ui,
    "ListHumanTaskUis": list_human_task_uis,
    "DeleteHumanTaskUi": delete_human_task_ui,
    "CreateFlowDefinition": create_flow_definition,
    "DescribeFlowDefinition": describe_flow_definition,
    "ListFlowDefinitions": list_flow_definitions,
    "DeleteFlowDefinition": delete_flow_definition,
    "CreateWorkteam": create_workteam,
    "DescribeWorkteam": describe_workteam,
    "ListWorkteams": list_workteams,
    "UpdateWorkteam": update_workteam,
    "DeleteWorkteam": delete_workteam,
    "CreateWorkforce": create_workforce,
    "DescribeWorkforce": describe_workforce,
    "ListWorkforces": list_workforces,
    "UpdateWorkforce": update_workforce,
    "DeleteWorkforce": delete_workforce,
    "RenderUiTemplate": render_ui_template,
}
