"""A2I runtime operations (REST-JSON under /human-loops)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

from handloop.errors import ResourceNotFound
from handloop.protocols import resources
from handloop.protocols.model import Route, rest_routes, service_model
from handloop.services import Services

Handler = Callable[[Services, dict[str, Any]], Awaitable[dict[str, Any]]]
DEFAULT_MAX_RESULTS = 100


@cache
def routes() -> tuple[Route, ...]:
    """Each implemented operation's method and path, from botocore's model."""
    return rest_routes(service_model("sagemaker-a2i-runtime"), OPERATIONS)


def route(method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
    """The operation a request addresses and its path labels (decoded once), or None."""
    for candidate in routes():
        labels = candidate.match(method, raw_path)
        if labels is not None:
            return candidate, labels
    return None


async def start_human_loop(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    flow = s.arns.name_from("flow-definition", p["FlowDefinitionArn"], field="FlowDefinitionArn")
    loop = await s.human_loops.start(
        p["HumanLoopName"], flow, p["HumanLoopInput"]["InputContent"], p.get("DataAttributes")
    )
    return {"HumanLoopArn": s.arns.build("human-loop", loop.name)}


async def describe_human_loop(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    return resources.human_loop(s, await s.human_loops.get(p["HumanLoopName"]))


async def list_human_loops(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    flow = s.arns.name_from("flow-definition", p["FlowDefinitionArn"], field="FlowDefinitionArn")
    if not p.get("NextToken") and not await s.human_loops.flow_exists(flow):
        raise ResourceNotFound(f"Flow definition {flow} does not exist.")
    page = await s.human_loops.page(
        flow,
        created_after=p.get("CreationTimeAfter"),
        created_before=p.get("CreationTimeBefore"),
        ascending=p.get("SortOrder", "Descending") == "Ascending",
        token=p.get("NextToken"),
        max_results=p.get("MaxResults", DEFAULT_MAX_RESULTS),
    )
    # Full records: the output shape's HumanLoopSummary keeps the members a summary has.
    summaries = [resources.human_loop(s, loop) for loop in page.items]
    return {"HumanLoopSummaries": summaries, "NextToken": page.next_token}


async def stop_human_loop(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    await s.human_loops.stop(p["HumanLoopName"])
    return {}


async def delete_human_loop(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    await s.human_loops.delete(p["HumanLoopName"])
    return {}


OPERATIONS: dict[str, Handler] = {
    "StartHumanLoop": start_human_loop,
    "DescribeHumanLoop": describe_human_loop,
    "ListHumanLoops": list_human_loops,
    "StopHumanLoop": stop_human_loop,
    "DeleteHumanLoop": delete_human_loop,
}
