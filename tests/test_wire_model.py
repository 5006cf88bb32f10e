"""Wire routes and list summaries come from botocore's model, and every implemented
operation is documented in docs/api.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handloop.protocols import a2i, s3, sagemaker, sts
from handloop.protocols.model import Route, service_model

API_DOC = Path(__file__).parent.parent / "docs" / "api.md"
IMPLEMENTED = [
    *(("sagemaker", name) for name in sagemaker.OPERATIONS),
    *(("sagemaker-a2i-runtime", name) for name in a2i.OPERATIONS),
    *(("sts", name) for name in sts.OPERATIONS),
    *(("s3", name) for name in s3.OPERATIONS),
]


@pytest.mark.parametrize(("service", "operation"), IMPLEMENTED, ids=lambda v: str(v))
def test_every_operation_is_in_the_model_and_documented(service: str, operation: str) -> None:
    assert operation in service_model(service).operation_names
    assert re.search(rf"\b{operation}\b", API_DOC.read_text()), (
        f"{operation} is implemented but docs/api.md does not name it"
    )


@pytest.mark.parametrize("operation", sorted(a2i.OPERATIONS))
def test_each_a2i_route_is_the_models(operation: str) -> None:
    http = service_model("sagemaker-a2i-runtime").operation_model(operation).http
    path = http["requestUri"].replace("{HumanLoopName}", "some-loop")
    found = a2i.route(http["method"], path)
    assert found is not None
    route, labels = found
    assert route.operation == operation
    assert labels == ({"HumanLoopName": "some-loop"} if "{" in http["requestUri"] else {})


@pytest.mark.parametrize(
    ("method", "raw_path", "expected"),
    [
        ("POST", "/human-loops/stop", ("StopHumanLoop", {})),
        ("GET", "/human-loops/stop", ("DescribeHumanLoop", {"HumanLoopName": "stop"})),
        ("GET", "/human-loops/%2561", ("DescribeHumanLoop", {"HumanLoopName": "%61"})),
        ("DELETE", "/human-loops/a%2Fb", ("DeleteHumanLoop", {"HumanLoopName": "a/b"})),
        ("GET", "/human-loops/", ("ListHumanLoops", {})),
        ("GET", "/human-loops/a/b", None),
        ("PUT", "/human-loops", None),
    ],
)
def test_a2i_paths(method: str, raw_path: str, expected: tuple[str, dict[str, str]] | None) -> None:
    found = a2i.route(method, raw_path)
    assert (None if found is None else (found[0].operation, found[1])) == expected


def test_query_members_come_from_the_input_shape() -> None:
    route = Route.from_model(
        service_model("sagemaker-a2i-runtime").operation_model("ListHumanLoops")
    )
    params = route.params({}, "FlowDefinitionArn=arn%3Ax&MaxResults=5&SortOrder=Ascending&Other=1")
    assert params == {"FlowDefinitionArn": "arn:x", "MaxResults": "5", "SortOrder": "Ascending"}


@pytest.mark.parametrize(
    ("service", "summary", "record"),
    [
        ("sagemaker-a2i-runtime", "HumanLoopSummary", "DescribeHumanLoopResponse"),
        ("sagemaker", "HumanTaskUiSummary", "DescribeHumanTaskUiResponse"),
        ("sagemaker", "FlowDefinitionSummary", "DescribeFlowDefinitionResponse"),
    ],
)
def test_a_summary_is_the_full_record_shaped(service: str, summary: str, record: str) -> None:
    """List handlers return full records and the output shape keeps a summary's members:
    that holds while every summary member is a record member of the same kind."""
    model = service_model(service)
    full = model.shape_for(record).members
    for name, member in model.shape_for(summary).members.items():
        assert name in full, name
        assert member.type_name == full[name].type_name, name
