"""A2I runtime operations (REST-JSON under /human-loops)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from handloop.errors import ResourceNotFound
from handloop.protocols import resources
from handloop.services import Services

Handler = Callable[[Services, dict[str, Any]], Awaitable[dict[str, Any]]]
DEFAULT_MAX_RESULTS = 100

# (method, path pattern) -> operation name; most specific first.
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"^/human-loops/stop$"), "StopHumanLoop"),
    ("POST", re.compile(r"^/human-loops$"), "StartHumanLoop"),
    ("GET", re.compile(r"^/human-loops$"), "ListHumanLoops"),
    ("GET", re.compile(r"^/human-loops/(?P<HumanLoopName>[^/]+)$"), "DescribeHumanLoop"),
    ("DELETE", re.compile(r"^/human-loops/(?P<HumanLoopName>[^/]+)$"), "DeleteHumanLoop"),
]


def route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    for want, pattern, name in ROUTES:
        match = pattern.match(path)
        if match and method == want:
            return name, match.groupdict()
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
    page = await s.human_loops.list(
        flow,
        created_after=p.get("CreationTimeAfter"),
        created_before=p.get("CreationTimeBefore"),
        ascending=p.get("SortOrder", "Descending") == "Ascending",
        token=p.get("NextToken"),
        max_results=p.get("MaxResults", DEFAULT_MAX_RESULTS),
    )
    summaries = []
    for loop in page.items:
        full = resources.human_loop(s, loop)
        summaries.append(
            {
                k: full[k]
                for k in (
                    "HumanLoopName",
                    "HumanLoopStatus",
                    "CreationTime",
                    "FailureReason",
                    "FlowDefinitionArn",
                )
            }
        )
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
