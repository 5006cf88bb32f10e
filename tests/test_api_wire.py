"""Wire cases boto3 would never send: the server answers each with an AWS error, not a 500."""

from __future__ import annotations

import pytest

from tests.support import LiveServer, signed_call

pytestmark = pytest.mark.shared_server

SCOPE = "x/20260101/us-east-1/sagemaker/aws4_request"
SAGEMAKER = {
    "X-Amz-Target": "SageMaker.CreateWorkteam",
    "Content-Type": "application/x-amz-json-1.1",
}


@pytest.mark.parametrize(
    ("case", "method", "path", "body", "headers", "service", "status", "code"),
    [
        (
            "a2i unknown path",
            "GET",
            "/human-loops/a/b",
            b"",
            {},
            "sagemaker",
            404,
            "UnknownOperationException",
        ),
        (
            "a2i wrong method",
            "PUT",
            "/human-loops",
            b"{}",
            {},
            "sagemaker",
            404,
            "UnknownOperationException",
        ),
        (
            "body not JSON",
            "POST",
            "/",
            b"{nope",
            SAGEMAKER,
            "sagemaker",
            400,
            "SerializationException",
        ),
        (
            "body a JSON list",
            "POST",
            "/",
            b"[1]",
            SAGEMAKER,
            "sagemaker",
            400,
            "SerializationException",
        ),
        (
            "member of the wrong type",
            "POST",
            "/",
            b'{"WorkteamName": 5, "MemberDefinitions": [], "Description": "d"}',
            SAGEMAKER,
            "sagemaker",
            400,
            "SerializationException",
        ),
        (
            "unknown target prefix",
            "POST",
            "/",
            b"{}",
            {"X-Amz-Target": "Other.Thing"},
            "sagemaker",
            400,
            "UnknownOperationException",
        ),
        ("other service", "GET", "/", b"", {}, "dynamodb", 400, "UnknownOperationException"),
    ],
    ids=lambda v: v if isinstance(v, str) and " " in v else "",
)
def test_wire_errors(
    server: LiveServer,
    case: str,
    method: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
    service: str,
    status: int,
    code: str,
) -> None:
    response = signed_call(server, method, path, body, headers, service)
    assert response.status_code == status, response.text
    assert response.headers["x-amzn-errortype"] == code


def test_sts_unknown_action(server: LiveServer) -> None:
    response = signed_call(
        server,
        "POST",
        "/",
        b"Action=AssumeRole&Version=2011-06-15",
        {"Content-Type": "application/x-www-form-urlencoded"},
        "sts",
    )
    assert response.status_code == 400
    assert "<Code>InvalidAction</Code>" in response.text


def test_oversized_body_is_refused_and_the_server_keeps_running(server: LiveServer) -> None:
    import httpx

    big = b"x" * (33 * 1024 * 1024)
    response = httpx.post(
        f"{server.url}/human-loops",
        content=big,
        headers={"Authorization": f"AWS4-HMAC-SHA256 Credential={SCOPE}"},
        timeout=60,
    )
    assert response.status_code == 413
    assert server.client("sts").get_caller_identity()["Account"] == "123456789012"
