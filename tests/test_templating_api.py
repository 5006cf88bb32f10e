"""RenderUiTemplate through boto3 against a live server."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from botocore.exceptions import ClientError

from handloop.blobs import LocalBlobStore
from tests.support import LiveServer

pytestmark = pytest.mark.shared_server

ROLE = "arn:aws:iam::123456789012:role/handloop"
TEMPLATE = (
    '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>\n'
    "<crowd-form>\n"
    '  <crowd-classifier name="c" categories="[\'a\', \'b\']" header="{{ task.input.q }}">\n'
    '    <classification-target><img src="{{ task.input.img | grant_read_access }}">'
    "</classification-target>\n"
    "  </crowd-classifier>\n"
    "</crowd-form>\n"
)


def _render(server: LiveServer, **params: Any) -> dict[str, Any]:
    result: dict[str, Any] = server.client("sagemaker").render_ui_template(RoleArn=ROLE, **params)
    return result


def test_renders_inline_template(server: LiveServer) -> None:
    task = {"q": "Is it <a> cat?", "img": "s3://example-bucket/cats/1.jpg"}
    result = _render(server, UiTemplate={"Content": TEMPLATE}, Task={"Input": json.dumps(task)})
    assert result["Errors"] == []
    page = result["RenderedContent"]
    assert 'header="Is it &lt;a&gt; cat?"' in page
    src = page.split('<img src="', 1)[1].split('"', 1)[0]
    url = urlsplit(src.replace("&amp;", "&"))
    assert url.path == "/objects/example-bucket/cats/1.jpg"
    assert "signature=" in url.query and "expires=" in url.query
    # The signed link serves the stored object, with its content type.
    LocalBlobStore(server.data_dir / "s3").put("example-bucket", "cats/1.jpg", b"\xff\xd8jpeg")
    served = httpx.get(url.geturl())
    assert served.status_code == 200
    assert served.content == b"\xff\xd8jpeg"
    assert served.headers["content-type"] == "image/jpeg"


def test_renders_stored_template_by_arn(server: LiveServer) -> None:
    sm = server.client("sagemaker")
    arn = sm.create_human_task_ui(HumanTaskUiName="render-me", UiTemplate={"Content": TEMPLATE})[
        "HumanTaskUiArn"
    ]
    result = _render(server, HumanTaskUiArn=arn, Task={"Input": '{"q": "hello"}'})
    assert result["Errors"] == []
    assert 'header="hello"' in result["RenderedContent"]


@pytest.mark.parametrize(
    ("content", "task_input", "code", "fragment"),
    [
        ("a\nb\n{% if %}", "{}", "TemplateSyntaxError", "line 3"),
        ("a\n{{ task.input | frobnicate }}", "{}", "TemplateSyntaxError", "line 2"),
        ("{{ task.input }}", "{not json", "InvalidTaskInput", "not valid JSON"),
        ('x\n{{ "s3://bucket-only" | grant_read_access }}', "{}", "TemplateRenderError", "line 2"),
        (
            "x\n{% for i in (1..100000000) %}{% endfor %}",
            "{}",
            "ResourceLimitExceeded",
            "line 2",
        ),
    ],
)
def test_problems_come_back_in_errors(
    server: LiveServer, content: str, task_input: str, code: str, fragment: str
) -> None:
    result = _render(server, UiTemplate={"Content": content}, Task={"Input": task_input})
    assert result["RenderedContent"] == ""
    assert [e["Code"] for e in result["Errors"]] == [code]
    assert fragment in result["Errors"][0]["Message"]


def test_unknown_template_arn_is_an_error(server: LiveServer) -> None:
    arn = "arn:aws:sagemaker:us-east-1:123456789012:human-task-ui/nope"
    with pytest.raises(ClientError) as info:
        _render(server, HumanTaskUiArn=arn, Task={"Input": "{}"})
    assert info.value.response["Error"]["Code"] == "ResourceNotFound"


def test_template_and_arn_together_is_a_validation_error(server: LiveServer) -> None:
    arn = "arn:aws:sagemaker:us-east-1:123456789012:human-task-ui/x"
    with pytest.raises(ClientError) as info:
        _render(server, UiTemplate={"Content": "x"}, HumanTaskUiArn=arn, Task={"Input": "{}"})
    assert info.value.response["Error"]["Code"] == "ValidationException"


def test_create_human_task_ui_knows_ground_truth_filters(server: LiveServer) -> None:
    sm = server.client("sagemaker")
    good = "{{ task.input.a | to_json | escape }}{{ task.input.b | grant_read_access }}"
    sm.create_human_task_ui(HumanTaskUiName="gt-filters", UiTemplate={"Content": good})
    with pytest.raises(ClientError) as info:
        sm.create_human_task_ui(
            HumanTaskUiName="bad-filter", UiTemplate={"Content": "x\n{{ a | frobnicate }}"}
        )
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "line 2" in info.value.response["Error"]["Message"]
