"""Wire-level abuse: path labels decoded twice."""

from __future__ import annotations

import pytest

from tests.api_fixtures import input_content, make_flow, unique
from tests.support import LiveServer, error_of

pytestmark = pytest.mark.abuse


def test_path_label_is_decoded_once(server: LiveServer) -> None:
    flow = make_flow(server.client("sagemaker"))
    a2i = server.client("sagemaker-a2i-runtime", parameter_validation=False)
    name = unique("a")
    a2i.start_human_loop(
        HumanLoopName=name,
        FlowDefinitionArn=flow["flow_arn"],
        HumanLoopInput={"InputContent": input_content()},
    )
    assert a2i.describe_human_loop(HumanLoopName=name)["HumanLoopName"] == name
    # boto3 sends '%61…' as /human-loops/%2561…: the name is '%61…', not '{name}'.
    disguised = "%61" + name[1:]
    code, status, _ = error_of(lambda: a2i.describe_human_loop(HumanLoopName=disguised))
    assert (code, status) == ("ValidationException", 400)
    code, status, _ = error_of(lambda: a2i.delete_human_loop(HumanLoopName=disguised))
    assert (code, status) == ("ValidationException", 400)
