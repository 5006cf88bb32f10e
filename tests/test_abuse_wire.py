"""Wire-level abuse: signatures scoped to another region or service, unsigned bodies on
the JSON APIs, path labels decoded twice, and the requests botocore signs that the
verifier used to refuse (found by tests/test_sigv4_properties.py)."""

from __future__ import annotations

import http.client
from typing import Any

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from handloop.blobs import LocalBlobStore
from tests.api_fixtures import input_content, make_flow, unique
from tests.support import LiveServer, error_of

pytestmark = [pytest.mark.abuse, pytest.mark.shared_server]

BUCKET = "abuse-bucket"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CALLER = b"Action=GetCallerIdentity&Version=2011-06-15"
LIST_TEAMS = {
    "X-Amz-Target": "SageMaker.ListWorkteams",
    "Content-Type": "application/x-amz-json-1.1",
}


def send_signed(
    server: LiveServer,
    method: str,
    target: str,
    body: bytes = b"",
    headers: list[tuple[str, str]] | dict[str, str] | None = None,
    *,
    service: str = "sagemaker",
    region: str = "us-east-1",
    send_body: bytes | None = None,
) -> tuple[int, str | None, str]:
    """Sign a request as botocore does and send it byte for byte (``send_body`` instead of
    the signed body if given); the status, AWS error code and body text."""
    key = server.default_key
    request = AWSRequest(method=method, url=f"{server.url}{target}", data=body)
    for name, value in headers.items() if isinstance(headers, dict) else headers or []:
        request.headers[name] = value
    signer = S3SigV4Auth if service == "s3" else SigV4Auth
    signer(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), service, region).add_auth(
        request
    )
    payload = body if send_body is None else send_body
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
    connection.putheader("Host", f"127.0.0.1:{server.port}")
    for name, value in request.headers.items():
        connection.putheader(name, value)
    connection.putheader("Content-Length", str(len(payload)))
    connection.endheaders(payload)
    response = connection.getresponse()
    text = response.read().decode("utf-8", "replace")
    connection.close()
    code = response.getheader("x-amzn-errortype")
    if code is None and "<Code>" in text:
        code = text.split("<Code>", 1)[1].split("</Code>", 1)[0]
    return response.status, code, text


@pytest.fixture(scope="module")
def objects(server: LiveServer) -> str:
    LocalBlobStore(server.data_dir / "s3").put(BUCKET, "k.json", b"{}")
    return BUCKET


# -- credential scope: region ---------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "call", "code"),
    [
        ("sagemaker", lambda c: c.list_workteams(), "InvalidSignatureException"),
        (
            "sagemaker-a2i-runtime",
            lambda c: c.describe_human_loop(HumanLoopName="anything"),
            "InvalidSignatureException",
        ),
        ("sts", lambda c: c.get_caller_identity(), "SignatureDoesNotMatch"),
    ],
)
def test_signature_for_another_region_is_refused(
    server: LiveServer, service: str, call: Any, code: str
) -> None:
    import boto3
    from botocore.config import Config

    key = server.default_key
    client = boto3.client(
        service,
        endpoint_url=server.url,
        region_name="eu-west-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}),
    )
    found = error_of(lambda: call(client))
    assert found[:2] == (code, 403)
    assert found[2].startswith("Credential should be scoped to a valid region, not 'eu-west-1'.")


def test_s3_signature_for_another_region_names_the_right_one(
    server: LiveServer, objects: str
) -> None:
    status, code, text = send_signed(
        server, "GET", f"/{objects}/k.json", service="s3", region="eu-west-1"
    )
    assert (status, code) == (400, "AuthorizationHeaderMalformed")
    assert "the region 'eu-west-1' is wrong; expecting 'us-east-1'" in text
    assert "<Region>us-east-1</Region>" in text  # botocore's S3 client re-signs with it


# -- credential scope: service --------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "target", "body", "headers", "signed_for", "status", "code", "message"),
    [
        (
            "POST",
            "/",
            b"{}",
            LIST_TEAMS,
            "s3",
            403,
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'sagemaker'.",
        ),
        (
            "POST",
            "/",
            b"{}",
            LIST_TEAMS,
            "sts",
            403,
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'sagemaker'.",
        ),
        (
            "GET",
            f"/{BUCKET}/k.json",
            b"",
            {},
            "sts",
            400,
            "AuthorizationHeaderMalformed",
            'incorrect service "sts". This endpoint belongs to "s3".',
        ),
        (
            "GET",
            f"/{BUCKET}/k.json",
            b"",
            {},
            "sagemaker",
            400,
            "AuthorizationHeaderMalformed",
            'incorrect service "sagemaker". This endpoint belongs to "s3".',
        ),
        (
            "POST",
            "/",
            CALLER,
            FORM,
            "s3",
            403,
            "SignatureDoesNotMatch",
            "Credential should be scoped to correct service: 'sts'.",
        ),
        (
            "GET",
            "/human-loops/anything",
            b"",
            {},
            "sts",
            403,
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'sagemaker'.",
        ),
    ],
    ids=[
        "sagemaker signed for s3",
        "sagemaker signed for sts",
        "s3 signed for sts",
        "s3 signed for sagemaker",
        "sts signed for s3",
        "a2i signed for sts",
    ],
)
def test_signature_for_another_service_is_refused(
    server: LiveServer,
    objects: str,
    method: str,
    target: str,
    body: bytes,
    headers: dict[str, str],
    signed_for: str,
    status: int,
    code: str,
    message: str,
) -> None:
    found = send_signed(server, method, target, body, headers, service=signed_for)
    assert found[:2] == (status, code), found[2]
    assert message in found[2]


# -- UNSIGNED-PAYLOAD is S3's alone ---------------------------------------------------


@pytest.mark.parametrize(
    ("target", "signed_body", "sent_body", "headers", "service", "code"),
    [
        (
            "/",
            b"{}",
            b'{"MaxResults": 1}',
            LIST_TEAMS,
            "sagemaker",
            "InvalidSignatureException",
        ),
        (
            "/human-loops/stop",
            b'{"HumanLoopName": "signed-name"}',
            b'{"HumanLoopName": "other-name"}',
            {"Content-Type": "application/json"},
            "sagemaker",
            "InvalidSignatureException",
        ),
        ("/", CALLER, CALLER + b"&Extra=1", FORM, "sts", "SignatureDoesNotMatch"),
    ],
    ids=["sagemaker", "a2i", "sts"],
)
def test_unsigned_payload_is_refused_outside_s3(
    server: LiveServer,
    target: str,
    signed_body: bytes,
    sent_body: bytes,
    headers: dict[str, str],
    service: str,
    code: str,
) -> None:
    found = send_signed(
        server,
        "POST",
        target,
        signed_body,
        {**headers, "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"},
        service=service,
        send_body=sent_body,
    )
    assert found[:2] == (403, code), found[2]
    assert "UNSIGNED-PAYLOAD" in found[2]


# -- path labels are decoded once -----------------------------------------------------


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


# -- requests botocore signs that the verifier refused --------------------------------


@pytest.mark.parametrize(
    ("target", "headers"),
    [
        ("/", [("Date", "replaced by botocore"), *FORM.items()]),
        ("/?a=1&&b=2&", list(FORM.items())),
        ("/", [("X-Custom", "0\xa0"), ("X-Custom", "1"), *FORM.items()]),
    ],
    ids=[
        "dated by the Date header",
        "empty query parts",
        "repeated header ending in a non-breaking space",
    ],
)
def test_botocore_signed_requests_are_accepted(
    server: LiveServer, target: str, headers: list[tuple[str, str]]
) -> None:
    status, code, text = send_signed(server, "POST", target, CALLER, headers, service="sts")
    assert (status, code) == (200, None), text
