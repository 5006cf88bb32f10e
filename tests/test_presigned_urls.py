"""Pre-signed URLs (SigV4 in the query string), as boto3's ``generate_presigned_url`` makes
them, against a live server: they work until ``X-Amz-Expires`` runs out, for at most seven
days, and S3's leave the body unsigned."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from handloop.blobs import LocalBlobStore
from tests.support import LiveServer

pytestmark = pytest.mark.shared_server

BUCKET = "presigned-bucket"
KEY = "results/flow/ü a+b.json"
CONTENT = b'{"humanLoopName": "presigned"}'


@pytest.fixture(scope="module")
def s3(server: LiveServer) -> Any:
    LocalBlobStore(server.data_dir / "s3").put(BUCKET, KEY, CONTENT)
    return server.client("s3", signature_version="s3v4")


def error(response: httpx.Response) -> tuple[int, str, str]:
    text = response.text
    code = text.split("<Code>", 1)[1].split("</Code>", 1)[0]
    message = text.split("<Message>", 1)[1].split("</Message>", 1)[0]
    return response.status_code, code, message


def test_get_object_url(s3: Any) -> None:
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=300
    )
    assert "X-Amz-Signature=" in url
    response = httpx.get(url)
    assert response.status_code == 200, response.text
    assert response.content == CONTENT
    assert httpx.head(url).status_code == 403  # signed for GET only


def test_body_of_an_s3_url_is_not_signed(s3: Any) -> None:
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=300
    )
    response = httpx.request("GET", url, content=b"anything at all")
    assert response.status_code == 200, response.text


def test_expired_url_is_refused(s3: Any, signing_clock: Callable[[float], None]) -> None:
    signing_clock(-3600)
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=60
    )
    response = httpx.get(url)
    assert error(response) == (403, "AccessDenied", "Request has expired")
    assert "<X-Amz-Expires>60</X-Amz-Expires>" in response.text
    assert "<ServerTime>" in response.text


def test_url_signed_in_the_future_is_refused(
    s3: Any, signing_clock: Callable[[float], None]
) -> None:
    signing_clock(3600)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": KEY})
    assert error(httpx.get(url)) == (403, "AccessDenied", "Request is not yet valid")


def test_a_week_at_most(s3: Any) -> None:
    week = 7 * 24 * 3600
    params = {"Bucket": BUCKET, "Key": KEY}
    assert (
        httpx.get(
            s3.generate_presigned_url("get_object", Params=params, ExpiresIn=week)
        ).status_code
        == 200
    )
    status, code, message = error(
        httpx.get(s3.generate_presigned_url("get_object", Params=params, ExpiresIn=week + 1))
    )
    assert (status, code) == (400, "AuthorizationQueryParametersError")
    assert "604800" in message


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda url: url.replace("/results/", "/other/"), "SignatureDoesNotMatch"),
        (
            lambda url: url.replace("X-Amz-Expires=300", "X-Amz-Expires=301"),
            "SignatureDoesNotMatch",
        ),
        (
            lambda url: url.replace("X-Amz-Expires=300", "X-Amz-Expires=-1"),
            "AuthorizationQueryParametersError",
        ),
        (
            lambda url: url.replace("&X-Amz-Date=", "&X-Amz-Dat="),
            "AuthorizationQueryParametersError",
        ),
        (lambda url: url.replace("us-east-1", "eu-west-1"), "AuthorizationQueryParametersError"),
    ],
    ids=["key", "expiry", "negative expiry", "missing date", "region"],
)
def test_changed_url_is_refused(s3: Any, change: Callable[[str], str], code: str) -> None:
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": KEY}, ExpiresIn=300
    )
    assert error(httpx.get(change(url)))[1] == code


def test_signature_version_2_is_refused_clearly(server: LiveServer) -> None:
    """boto3's S3 client makes version 2 URLs unless told ``signature_version='s3v4'``."""
    url = server.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": KEY}
    )
    assert "AWSAccessKeyId=" in url
    status, code, message = error(httpx.get(url))
    assert (status, code) == (400, "InvalidRequest")
    assert "AWS4-HMAC-SHA256" in message


def test_other_apis_take_presigned_urls(server: LiveServer) -> None:
    sts_url = server.client("sts").generate_presigned_url(
        "get_caller_identity", ExpiresIn=60, HttpMethod="GET"
    )
    response = httpx.get(sts_url)
    assert response.status_code == 200, response.text
    assert f"<UserId>{server.default_key['AccessKeyId']}</UserId>" in response.text
    a2i_url = server.client("sagemaker-a2i-runtime").generate_presigned_url(
        "describe_human_loop", Params={"HumanLoopName": "no-such-loop"}, ExpiresIn=60
    )
    response = httpx.get(a2i_url)
    assert response.status_code == 404, response.text
    assert response.headers["x-amzn-errortype"] == "ResourceNotFoundException"


def test_expired_url_of_a_json_api(
    server: LiveServer, signing_clock: Callable[[float], None]
) -> None:
    signing_clock(-3600)
    url = server.client("sagemaker-a2i-runtime").generate_presigned_url(
        "describe_human_loop", Params={"HumanLoopName": "no-such-loop"}, ExpiresIn=60
    )
    response = httpx.get(url)
    assert response.status_code == 403
    assert response.headers["x-amzn-errortype"] == "InvalidSignatureException"
    assert "Signature expired" in response.json()["message"]
