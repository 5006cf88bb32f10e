"""Hostile input at the AWS API door: deep nesting, invalid Unicode, S3 names that escape
the output store, output paths that can never be written, ARNs of another deployment and
forged paging tokens. Each must be a clear AWS error, and the server must keep serving.

Tests marked ``abuse`` reproduce a finding; the unmarked ones beside them show that what
should still work does."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handloop.errors import ValidationError
from handloop.protocols import request_text
from handloop.protocols.s3 import decode_continuation_token
from handloop.services.paging import decode_token, encode_token
from tests.api_fixtures import ROLE, TEMPLATE, cognito_members, input_content, make_flow, unique
from tests.support import LiveServer, error_of, signed_call

SAGEMAKER_JSON = {"Content-Type": "application/x-amz-json-1.1"}
BUCKET = "abuse-bucket"


def target(operation: str) -> dict[str, str]:
    return {**SAGEMAKER_JSON, "X-Amz-Target": f"SageMaker.{operation}"}


@pytest.fixture(scope="module")
def sagemaker(server: LiveServer) -> Any:
    # Client-side validation off: the server's own checks are what is tested.
    return server.client("sagemaker", parameter_validation=False)


@pytest.fixture(scope="module")
def a2i(server: LiveServer) -> Any:
    return server.client("sagemaker-a2i-runtime", parameter_validation=False)


@pytest.fixture(scope="module")
def s3(server: LiveServer) -> Any:
    return server.client("s3", parameter_validation=False)


@pytest.fixture(scope="module")
def bucket_with_objects(server: LiveServer) -> str:
    """A bucket with objects (so the store's folder exists, as it does once outputs are in)."""
    from handloop.blobs import LocalBlobStore

    store = LocalBlobStore(server.data_dir / "s3")
    for i in range(3):
        store.put(BUCKET, f"out/{i}.json", b"{}")
    return BUCKET


@pytest.fixture(scope="module")
def flow(sagemaker: Any) -> dict[str, str]:
    return make_flow(sagemaker)


def still_serving(server: LiveServer) -> None:
    """The server answers ordinary calls, and the screens everyone shares still load."""
    sagemaker = server.client("sagemaker")
    assert server.client("sts").get_caller_identity()["Account"] == "123456789012"
    sagemaker.list_workteams(MaxResults=100)
    sagemaker.list_flow_definitions(MaxResults=100)
    sagemaker.list_human_task_uis(MaxResults=100)


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


# -- 1. Deep nesting and invalid Unicode -----------------------------------------------------


@pytest.mark.abuse
@pytest.mark.parametrize(
    ("case", "path", "headers", "body"),
    [
        (
            "SageMaker body 100k deep",
            "/",
            target("ListWorkteams"),
            b'{"x":' + deep(100_000).encode() + b"}",
        ),
        (
            "SageMaker body 2,000 deep",
            "/",
            target("ListWorkteams"),
            b'{"x":' + deep(2_000).encode() + b"}",
        ),
        (
            "A2I body 100k deep",
            "/human-loops",
            {"Content-Type": "application/json"},
            deep(100_000).encode(),
        ),
        ("NaN in a body", "/", target("ListWorkteams"), b'{"MaxResults": NaN}'),
        ("Infinity in a body", "/", target("ListWorkteams"), b'{"MaxResults": -Infinity}'),
        ("1e400 in a body", "/", target("ListWorkteams"), b'{"MaxResults": 1e400}'),
        ("lone surrogate in a body", "/", target("ListWorkteams"), b'{"NameContains": "\\udc80"}'),
        ("body not UTF-8", "/", target("ListWorkteams"), b'{"NameContains": "\xff"}'),
    ],
    ids=lambda v: v if isinstance(v, str) and " " in v else "",
)
def test_bodies_beyond_bounds_are_validation_errors(
    server: LiveServer, case: str, path: str, headers: dict[str, str], body: bytes
) -> None:
    response = signed_call(server, "POST", path, body, headers)
    assert response.status_code == 400, response.text
    assert response.headers["x-amzn-errortype"] == "ValidationException"
    still_serving(server)


def test_a_body_that_is_not_json_stays_a_serialization_error(server: LiveServer) -> None:
    for body in (b"{", b"[1, 2]", b'{"a": tru}'):
        response = signed_call(server, "POST", "/", body, target("ListWorkteams"))
        assert response.status_code == 400
        assert response.headers["x-amzn-errortype"] == "SerializationException"


@pytest.mark.abuse
@pytest.mark.parametrize(
    ("case", "content", "message"),
    [
        ("970 deep", '{"a": ' + deep(969) + "}", "nested more than 100 levels"),
        ("101 deep", deep(101), "nested more than 100 levels"),
        ("100k deep", deep(100_000), "nested more than 100 levels"),
        ("escaped lone surrogate", '{"a": "\\ud800"}', "lone surrogate"),
        ("escaped lone surrogate in a key", '{"\\udfff": 1}', "lone surrogate"),
        ("NaN", '{"a": NaN}', "NaN is not a JSON number"),
        ("huge number", '{"a": 1e999}', "cannot represent"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "",
)
def test_start_human_loop_refuses_input_no_task_could_use(
    a2i: Any, flow: dict[str, str], case: str, content: str, message: str
) -> None:
    name = unique("loop")
    code, status, text = error_of(
        lambda: a2i.start_human_loop(
            HumanLoopName=name,
            FlowDefinitionArn=flow["flow_arn"],
            HumanLoopInput={"InputContent": content},
        )
    )
    assert (code, status) == ("ValidationException", 400)
    assert message in text and "InputContent" in text
    assert error_of(lambda: a2i.describe_human_loop(HumanLoopName=name))[:2] == (
        "ResourceNotFoundException",
        404,
    )


def test_start_human_loop_takes_input_100_deep(a2i: Any, flow: dict[str, str]) -> None:
    a2i.start_human_loop(
        HumanLoopName=unique("loop"),
        FlowDefinitionArn=flow["flow_arn"],
        HumanLoopInput={"InputContent": deep(100)},
    )


def _members(group: str) -> list[dict[str, Any]]:
    return cognito_members(group)


def _flow_with(f: dict[str, str], **changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "WorkteamArn": f["team_arn"],
        "HumanTaskUiArn": f["ui_arn"],
        "TaskCount": 1,
        "TaskDescription": "d",
        "TaskTitle": "t",
    }
    config.update(changes)
    return {
        "FlowDefinitionName": unique("flow"),
        "RoleArn": ROLE,
        "HumanLoopConfig": config,
        "OutputConfig": {"S3OutputPath": f"s3://{BUCKET}/out"},
    }


LONE = "\ud800"

# Each value was stored before, then broke every listing or description that showed it.
TEXT_CASES: list[tuple[str, Callable[[Any, Any, dict[str, str], str], Any]]] = [
    (
        "work team description",
        lambda sm, a2i, f, bad: sm.create_workteam(
            WorkteamName=unique("team"), MemberDefinitions=_members("g"), Description=bad
        ),
    ),
    (
        "work team group name",
        lambda sm, a2i, f, bad: sm.create_workteam(
            WorkteamName=unique("team"), MemberDefinitions=_members(bad), Description="d"
        ),
    ),
    (
        "work team update",
        lambda sm, a2i, f, bad: sm.update_workteam(WorkteamName=f["team_name"], Description=bad),
    ),
    (
        "work team tags",
        lambda sm, a2i, f, bad: sm.create_workteam(
            WorkteamName=unique("team"),
            MemberDefinitions=_members("g"),
            Description="d",
            Tags=[{"Key": "k", "Value": bad}],
        ),
    ),
    (
        "flow task description",
        lambda sm, a2i, f, bad: sm.create_flow_definition(**_flow_with(f, TaskDescription=bad)),
    ),
    (
        "flow task title",
        lambda sm, a2i, f, bad: sm.create_flow_definition(**_flow_with(f, TaskTitle=bad)),
    ),
    (
        "flow keywords",
        lambda sm, a2i, f, bad: sm.create_flow_definition(**_flow_with(f, TaskKeywords=[bad])),
    ),
    (
        "task UI content",
        lambda sm, a2i, f, bad: sm.create_human_task_ui(
            HumanTaskUiName=unique("ui"), UiTemplate={"Content": f"<p>{bad}</p>"}
        ),
    ),
    (
        "task UI tags",
        lambda sm, a2i, f, bad: sm.create_human_task_ui(
            HumanTaskUiName=unique("ui"),
            UiTemplate={"Content": TEMPLATE},
            Tags=[{"Key": bad, "Value": "v"}],
        ),
    ),
    (
        "render input",
        lambda sm, a2i, f, bad: sm.render_ui_template(
            UiTemplate={"Content": "{{ task.input }}"}, Task={"Input": f'"{bad}"'}, RoleArn=ROLE
        ),
    ),
    (
        "loop input",
        lambda sm, a2i, f, bad: a2i.start_human_loop(
            HumanLoopName=unique("loop"),
            FlowDefinitionArn=f["flow_arn"],
            HumanLoopInput={"InputContent": f'"{bad}"'},
        ),
    ),
]


@pytest.mark.abuse
@pytest.mark.parametrize("bad", [LONE, "a\x00b"], ids=["lone surrogate", "NUL"])
@pytest.mark.parametrize(("case", "call"), TEXT_CASES, ids=[c[0] for c in TEXT_CASES])
def test_invalid_text_in_any_field_is_refused_at_the_door(
    server: LiveServer,
    sagemaker: Any,
    a2i: Any,
    flow: dict[str, str],
    case: str,
    call: Callable[[Any, Any, dict[str, str], str], Any],
    bad: str,
) -> None:
    code, status, message = error_of(lambda: call(sagemaker, a2i, flow, bad))
    assert (code, status) == ("ValidationException", 400), message
    assert "lone surrogate" in message or "NUL" in message
    still_serving(server)
    sagemaker.describe_workteam(WorkteamName=flow["team_name"])
    sagemaker.describe_flow_definition(FlowDefinitionName=flow["flow_name"])


@pytest.mark.abuse
def test_render_ui_template_reports_input_beyond_bounds(sagemaker: Any) -> None:
    for task_input, message in [
        (deep(60_000), "nested more than 100 levels"),
        ('{"a": "\\udc00"}', "lone surrogate"),
        ('{"a": Infinity}', "Infinity is not a JSON number"),
    ]:
        result = sagemaker.render_ui_template(
            UiTemplate={"Content": "{{ task.input }}"}, Task={"Input": task_input}, RoleArn=ROLE
        )
        assert result["RenderedContent"] == ""
        [error] = result["Errors"]
        assert error["Code"] == "InvalidTaskInput"
        assert message in error["Message"]


@pytest.mark.abuse
def test_sts_form_that_is_not_utf8_is_refused(server: LiveServer) -> None:
    for body, problem in [
        (b"Action=GetCallerIdentity&Version=2011-06-15&Extra=%ff", "not valid UTF-8"),
        (b"Action=GetCallerIdentity&Version=2011-06-15&Extra=%00", "NUL"),
        (b"Action=GetCallerIdentity%ff&Version=2011-06-15", "not valid UTF-8"),
    ]:
        response = signed_call(
            server,
            "POST",
            "/",
            body,
            {"Content-Type": "application/x-www-form-urlencoded"},
            "sts",
        )
        assert response.status_code == 400, response.text
        assert "<Code>InvalidParameterValue</Code>" in response.text
        assert problem in response.text


@pytest.mark.abuse
def test_a2i_query_with_a_nul_is_refused(a2i: Any, flow: dict[str, str]) -> None:
    code, status, message = error_of(
        lambda: a2i.list_human_loops(FlowDefinitionArn=flow["flow_arn"] + "\x00")
    )
    assert (code, status) == ("ValidationException", 400)
    assert "NUL" in message


@pytest.mark.abuse
@pytest.mark.parametrize(
    ("text", "problem"),
    [("a=%ff", "not valid UTF-8"), ("%c3=1", "not valid UTF-8"), ("a=%00", "NUL")],
)
def test_query_decoding_is_strict(text: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        request_text.parse_form(text, "the query")


def test_query_decoding_keeps_what_urllib_kept() -> None:
    assert request_text.parse_form("a=1&b=x+y%2B&c&=&d=%C3%A9", "q") == {
        "a": "1",
        "b": "x y+",
        "c": "",
        "": "",
        "d": "é",
    }


# -- 2. The S3 API stays inside the output store ---------------------------------------------


def s3_get(server: LiveServer, raw_path: str) -> httpx.Response:
    """A GET signed as botocore signs S3 requests, with the path sent byte for byte."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    key = server.default_key
    url = f"{server.url}{raw_path}"
    request = AWSRequest(method="GET", url=url)
    S3SigV4Auth(
        Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "s3", "us-east-1"
    ).add_auth(request)
    return httpx.get(url, headers=dict(request.headers.items()))


@pytest.mark.abuse
@pytest.mark.parametrize(
    ("case", "raw_path", "status", "code"),
    [
        ("list '..'", "/%2e%2e?list-type=2", 400, "InvalidBucketName"),
        ("list '..' with a prefix", "/%2E%2E?list-type=2&prefix=s3", 400, "InvalidBucketName"),
        ("get through '..'", "/%2e%2e/deployment.key", 400, "InvalidBucketName"),
        ("path not UTF-8", f"/{BUCKET}/a%ff.json", 400, "InvalidURI"),
        ("NUL in a key", f"/{BUCKET}/a%00.json", 400, "InvalidURI"),
    ],
    ids=lambda v: v if isinstance(v, str) and " " in v else "",
)
def test_raw_s3_paths_stay_in_the_store(
    server: LiveServer, bucket_with_objects: str, case: str, raw_path: str, status: int, code: str
) -> None:
    response = s3_get(server, raw_path)
    assert response.status_code == status, response.text
    assert f"<Code>{code}</Code>" in response.text
    assert "deployment.key" not in response.text.replace("/deployment.key", "")
    assert "handloop.db" not in response.text


@pytest.mark.abuse
@pytest.mark.parametrize(
    ("case", "call", "expected"),
    [
        ("list '..'", lambda s3: s3.list_objects_v2(Bucket=".."), ("InvalidBucketName", 400)),
        ("list '.'", lambda s3: s3.list_objects_v2(Bucket="."), ("InvalidBucketName", 400)),
        (
            "list upper case",
            lambda s3: s3.list_objects_v2(Bucket="UPPER"),
            ("InvalidBucketName", 400),
        ),
        ("list too short", lambda s3: s3.list_objects_v2(Bucket="ab"), ("InvalidBucketName", 400)),
        (
            "list 'a..b'",
            lambda s3: s3.list_objects_v2(Bucket="abc..def"),
            ("InvalidBucketName", 400),
        ),
        (
            "list IP-shaped",
            lambda s3: s3.list_objects_v2(Bucket="192.168.5.4"),
            ("InvalidBucketName", 400),
        ),
        (
            "get from '..'",
            lambda s3: s3.get_object(Bucket="..", Key="deployment.key"),
            ("InvalidBucketName", 400),
        ),
        (
            "get xn--",
            lambda s3: s3.get_object(Bucket="xn--bucket", Key="a.json"),
            ("InvalidBucketName", 400),
        ),
        ("head from '..'", lambda s3: s3.head_object(Bucket="..", Key="handloop.db"), ("400", 400)),
        (
            "key too long",
            lambda s3: s3.get_object(Bucket=BUCKET, Key="k" * 1025),
            ("KeyTooLongError", 400),
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_s3_names_are_checked_by_s3s_rules(
    s3: Any,
    bucket_with_objects: str,
    case: str,
    call: Callable[[Any], Any],
    expected: tuple[str, int],
) -> None:
    assert error_of(lambda: call(s3))[:2] == expected


@pytest.mark.parametrize(
    "key", ["out//0.json", "out/./0.json", "x/../out/0.json", "/out/0.json", "out/0.json/"]
)
def test_keys_the_store_cannot_hold_do_not_exist(
    server: LiveServer, s3: Any, bucket_with_objects: str, key: str
) -> None:
    assert error_of(lambda: s3.get_object(Bucket=bucket_with_objects, Key=key))[:2] == (
        "NoSuchKey",
        404,
    )
    response = s3_get(server, f"/{bucket_with_objects}/%2e%2e/%2e%2e/deployment.key")
    assert response.status_code == 404 and "<Code>NoSuchKey</Code>" in response.text


@pytest.mark.abuse
def test_s3_api_never_lists_the_data_folder(
    server: LiveServer, s3: Any, bucket_with_objects: str
) -> None:
    listings = []
    for bucket in ("..", "."):
        try:
            listings.append(s3.list_objects_v2(Bucket=bucket))
        except Exception as exc:  # the refusal is what we want
            listings.append(str(exc))
    text = json.dumps(listings, default=str)
    for secret in ("deployment.key", "handloop.db", "-wal"):
        assert secret not in text


@pytest.mark.abuse
def test_s3_blob_store_tells_a_missing_bucket(server: LiveServer) -> None:
    """An S3 output store that says NoSuchBucket: the S3 API says NoSuchBucket (404)."""
    import boto3
    from botocore.stub import Stubber

    from handloop.blobs import BucketNotFound, S3BlobStore

    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    store = S3BlobStore(client)
    with Stubber(client) as stub:
        stub.add_client_error("list_objects_v2", "NoSuchBucket", http_status_code=404)
        stub.add_client_error("get_object", "NoSuchBucket", http_status_code=404)
        with pytest.raises(BucketNotFound):
            store.list_objects("gone-bucket")
        with pytest.raises(BucketNotFound):
            store.get("gone-bucket", "a.json")


# -- 3. Output paths that could never be written ---------------------------------------------


@pytest.mark.abuse
@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("s3://UPPER_bucket/x", "lowercase"),
        ("s3://ab/x", "3 to 63"),
        ("s3://b//x", "3 to 63"),
        (f"s3://{BUCKET}//x", "segment"),
        (f"s3://{BUCKET}/../../x", "segment"),
        (f"s3://{BUCKET}/a/./b", "segment"),
        ("s3://-bucket/x", "begin and end"),
        ("s3://bucket-/x", "begin and end"),
        ("s3://my..bucket/x", "two adjacent dots"),
        ("s3://10.0.0.1/x", "IP address"),
        ("s3://xn--bucket/x", "xn--"),
        ("s3://bucket-s3alias/x", "-s3alias"),
        ("s3://bucket--ol-s3/x", "--ol-s3"),
        ("s3://" + "b" * 64 + "/x", "3 to 63"),
        (f"s3://{BUCKET}/" + "p" * 1000, "1024 bytes"),
    ],
)
def test_create_flow_definition_refuses_unwritable_output_paths(
    sagemaker: Any, flow: dict[str, str], path: str, problem: str
) -> None:
    request = _flow_with(flow)
    request["OutputConfig"] = {"S3OutputPath": path}
    code, status, message = error_of(lambda: sagemaker.create_flow_definition(**request))
    assert (code, status) == ("ValidationException", 400)
    assert "S3OutputPath" in message and problem in message
    assert (
        error_of(
            lambda: sagemaker.describe_flow_definition(
                FlowDefinitionName=request["FlowDefinitionName"]
            )
        )[0]
        == "ResourceNotFound"
    )


@pytest.mark.parametrize(
    "path", [f"s3://{BUCKET}", f"s3://{BUCKET}/", f"s3://{BUCKET}/a/b/", "s3://a.b-c.d9/x.y"]
)
def test_create_flow_definition_takes_writable_output_paths(
    sagemaker: Any, flow: dict[str, str], path: str
) -> None:
    request = _flow_with(flow)
    request["OutputConfig"] = {"S3OutputPath": path}
    sagemaker.create_flow_definition(**request)
    described = sagemaker.describe_flow_definition(FlowDefinitionName=request["FlowDefinitionName"])
    assert described["OutputConfig"]["S3OutputPath"] == path
    sagemaker.delete_flow_definition(FlowDefinitionName=request["FlowDefinitionName"])


# -- 4. ARNs of another partition, region or account ------------------------------------------

FOREIGN = [
    ("account", lambda arn: arn.replace(":123456789012:", ":999999999999:"), "999999999999"),
    ("region", lambda arn: arn.replace(":us-east-1:", ":eu-west-1:"), "eu-west-1"),
    ("partition", lambda arn: arn.replace("arn:aws:", "arn:aws-cn:"), "aws-cn"),
]

ARN_CALLS: list[tuple[str, Callable[[Any, Any, dict[str, str], Callable[[str], str]], Any]]] = [
    (
        "StartHumanLoop",
        lambda sm, a2i, f, move: a2i.start_human_loop(
            HumanLoopName=unique("loop"),
            FlowDefinitionArn=move(f["flow_arn"]),
            HumanLoopInput={"InputContent": input_content()},
        ),
    ),
    (
        "ListHumanLoops",
        lambda sm, a2i, f, move: a2i.list_human_loops(FlowDefinitionArn=move(f["flow_arn"])),
    ),
    (
        "CreateFlowDefinition team",
        lambda sm, a2i, f, move: sm.create_flow_definition(
            **_flow_with(f, WorkteamArn=move(f["team_arn"]))
        ),
    ),
    (
        "CreateFlowDefinition UI",
        lambda sm, a2i, f, move: sm.create_flow_definition(
            **_flow_with(f, HumanTaskUiArn=move(f["ui_arn"]))
        ),
    ),
    (
        "RenderUiTemplate",
        lambda sm, a2i, f, move: sm.render_ui_template(
            HumanTaskUiArn=move(f["ui_arn"]), Task={"Input": input_content()}, RoleArn=ROLE
        ),
    ),
]


@pytest.mark.abuse
@pytest.mark.parametrize(("part", "move", "value"), FOREIGN, ids=[f[0] for f in FOREIGN])
@pytest.mark.parametrize(("case", "call"), ARN_CALLS, ids=[c[0] for c in ARN_CALLS])
def test_arns_of_another_deployment_are_not_local(
    sagemaker: Any,
    a2i: Any,
    flow: dict[str, str],
    case: str,
    call: Callable[[Any, Any, dict[str, str], Callable[[str], str]], Any],
    part: str,
    move: Callable[[str], str],
    value: str,
) -> None:
    before = a2i.list_human_loops(FlowDefinitionArn=flow["flow_arn"])["HumanLoopSummaries"]
    code, status, message = error_of(lambda: call(sagemaker, a2i, flow, move))
    assert (code, status) == ("ValidationException", 400)
    assert f"{part} '{value}'" in message
    after = a2i.list_human_loops(FlowDefinitionArn=flow["flow_arn"])["HumanLoopSummaries"]
    assert len(after) == len(before)


# -- 5. Forged paging tokens -------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def tampered(token: str, position: Any) -> str:
    """``token`` (a real one) with its position replaced, as a caller could do."""
    data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    data["p"] = position
    return b64(json.dumps(data).encode())


def forged_positions(arity: int) -> list[list[Any]]:
    """Positions handloop never makes for a listing whose positions hold ``arity`` integers."""
    return [
        [],
        [1] * (arity + 1),
        ["x"] * arity,
        [True] * arity,
        [1.5] * arity,
        [None] * arity,
        [10**30] * arity,
        [-1] * arity,
        [[1]] * arity,
    ]


FORGED_TOKENS = [
    "not a token!",
    "%%%%",
    b64(b"\xff\xfe not json"),
    b64(b"[]"),
    b64(b"null"),
    b64(b'{"p": 1, "q": {}}'),
    b64(b'{"p": [1, 2]}'),
    b64(deep(3_000).encode()),
    b64(b'{"p": [1e400, 1], "q": {}}'),
    b64(b'{"p": [NaN, 1], "q": {}}'),
    b64(b'{"p": ["\\ud800", 1], "q": {}}'),
]

# How many integers a listing's position holds: offsets for the name-sorted few, (creation
# time, id) for the rest.
ARITY = {
    "ListHumanTaskUis": 2,
    "ListFlowDefinitions": 2,
    "ListWorkteams": 1,
    "ListWorkforces": 1,
    "ListHumanLoops": 2,
}
LISTINGS: list[tuple[str, Callable[[Any, Any, dict[str, str]], Callable[..., Any]]]] = [
    ("ListHumanTaskUis", lambda sm, a2i, f: sm.list_human_task_uis),
    ("ListFlowDefinitions", lambda sm, a2i, f: sm.list_flow_definitions),
    ("ListWorkteams", lambda sm, a2i, f: sm.list_workteams),
    ("ListWorkforces", lambda sm, a2i, f: sm.list_workforces),
    (
        "ListHumanLoops",
        lambda sm, a2i, f: lambda **kw: a2i.list_human_loops(FlowDefinitionArn=f["flow_arn"], **kw),
    ),
]


@pytest.fixture(scope="module")
def paged(sagemaker: Any, a2i: Any, flow: dict[str, str]) -> dict[str, str]:
    """A real NextToken of each listing (two of everything exists, pages of one)."""
    make_flow(sagemaker)
    for _ in range(2):
        a2i.start_human_loop(
            HumanLoopName=unique("loop"),
            FlowDefinitionArn=flow["flow_arn"],
            HumanLoopInput={"InputContent": input_content()},
        )
    tokens = {}
    for name, listing in LISTINGS:
        if name != "ListWorkforces":
            tokens[name] = listing(sagemaker, a2i, flow)(MaxResults=1)["NextToken"]
    # A deployment has one workforce, so no second page: the token it would give.
    tokens["ListWorkforces"] = encode_token(
        [1], {"k": "workforces", "n": None, "s": None, "o": None}
    )
    return tokens


@pytest.mark.abuse
@pytest.mark.parametrize(("case", "listing"), LISTINGS, ids=[c[0] for c in LISTINGS])
def test_forged_next_tokens_are_validation_errors(
    server: LiveServer,
    sagemaker: Any,
    a2i: Any,
    flow: dict[str, str],
    paged: dict[str, str],
    case: str,
    listing: Callable[[Any, Any, dict[str, str]], Callable[..., Any]],
) -> None:
    call = listing(sagemaker, a2i, flow)
    real = paged[case]
    forged = [*FORGED_TOKENS, *(tampered(real, p) for p in forged_positions(ARITY[case]))]
    # A token made for another listing, or for the same listing with other filters.
    other = paged["ListFlowDefinitions" if case != "ListFlowDefinitions" else "ListHumanTaskUis"]
    forged.append(other)
    for token in forged:
        code, status, message = error_of(lambda token=token: call(NextToken=token))
        assert (code, status) == ("ValidationException", 400), (token, message)
        assert "NextToken" in message
    code, _, message = error_of(lambda: call(NextToken=real, SortOrder="Ascending"))
    assert code == "ValidationException" and "different request" in message
    still_serving(server)


def test_real_next_tokens_still_page(sagemaker: Any, paged: dict[str, str]) -> None:
    page = sagemaker.list_workteams(MaxResults=1, NextToken=paged["ListWorkteams"])
    assert len(page["Workteams"]) == 1
    page = sagemaker.list_human_task_uis(MaxResults=1, NextToken=paged["ListHumanTaskUis"])
    assert len(page["HumanTaskUiSummaries"]) == 1


@pytest.mark.abuse
@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200).map(b64)))
def test_decode_token_refuses_whatever_it_did_not_make(token: str) -> None:
    query = {"t": "human_loops", "a": None, "b": None, "asc": False, "f": "flow"}
    try:
        position = decode_token(token, query, length=2)
    except ValidationError:
        return
    assert len(position) == 2 and all(type(n) is int for n in position)


@pytest.mark.abuse
@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(),
            st.floats(allow_nan=True),
            st.text(max_size=5),
            st.booleans(),
            st.none(),
        ),
        max_size=3,
    )
)
def test_decode_token_takes_only_positions_it_made(position: list[Any]) -> None:
    query = {"k": "workteams", "n": None, "s": None, "o": None}
    raw = json.dumps({"p": position, "q": query}, allow_nan=True).encode()
    try:
        found = decode_token(b64(raw), query, length=1)
    except ValidationError:
        return
    assert found == position and type(found[0]) is int and 0 <= found[0] < 2**63
    assert decode_token(encode_token(found, query), query, length=1) == found


@pytest.mark.abuse
@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200).map(b64)))
def test_decode_continuation_token_refuses_whatever_it_did_not_make(token: str) -> None:
    try:
        after = decode_continuation_token(token, BUCKET, "")
    except ValidationError as exc:
        assert exc.code_for("s3") == ("InvalidArgument", 400)
        return
    assert isinstance(after, str)


@pytest.mark.abuse
@pytest.mark.parametrize(
    "token",
    [
        "not a token!",
        b64(b"[]"),
        b64(b'{"after": 5}'),
        b64(b'{"after": ["a"]}'),
        b64(deep(5_000).encode()),
        b64(b'{"after": "\\ud800"}'),
        b64(b"\xff"),
        b64(json.dumps({"b": "other-bucket", "p": "", "after": "out/0.json"}).encode()),
    ],
)
def test_forged_s3_continuation_tokens_are_invalid_argument(
    server: LiveServer, s3: Any, bucket_with_objects: str, token: str
) -> None:
    code, status, _ = error_of(
        lambda: s3.list_objects_v2(Bucket=bucket_with_objects, ContinuationToken=token)
    )
    assert (code, status) == ("InvalidArgument", 400)
    still_serving(server)


def test_s3_continuation_tokens_still_page(s3: Any, bucket_with_objects: str) -> None:
    first = s3.list_objects_v2(Bucket=bucket_with_objects, MaxKeys=2)
    rest = s3.list_objects_v2(
        Bucket=bucket_with_objects, MaxKeys=2, ContinuationToken=first["NextContinuationToken"]
    )
    keys = [o["Key"] for o in first["Contents"] + rest["Contents"]]
    assert keys == ["out/0.json", "out/1.json", "out/2.json"]
    code, status, _ = error_of(
        lambda: s3.list_objects_v2(
            Bucket=bucket_with_objects,
            Prefix="out/1",
            ContinuationToken=first["NextContinuationToken"],
        )
    )
    assert (code, status) == ("InvalidArgument", 400)
