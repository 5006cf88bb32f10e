"""SigV4 verification: every API request is signed with a key handloop issued."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.support import LiveServer, error_of

pytestmark = pytest.mark.shared_server


def call_sagemaker(client: Any) -> Any:
    return client.list_workteams()


def call_a2i(client: Any) -> Any:
    return client.describe_human_loop(HumanLoopName="anything")


def call_sts(client: Any) -> Any:
    return client.get_caller_identity()


SERVICES = {
    "sagemaker": call_sagemaker,
    "sagemaker-a2i-runtime": call_a2i,
    "sts": call_sts,
}

# service -> (unknown key code, bad signature code, stale date code)
EXPECTED = {
    "sagemaker": (
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "InvalidSignatureException",
    ),
    "sagemaker-a2i-runtime": (
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "InvalidSignatureException",
    ),
    "sts": ("InvalidClientTokenId", "SignatureDoesNotMatch", "SignatureDoesNotMatch"),
}


def client_with(server: LiveServer, service: str, key_id: str, secret: str) -> Any:
    return server.client(service, {"AccessKeyId": key_id, "SecretAccessKey": secret})


@pytest.mark.parametrize("service", SERVICES)
def test_unknown_key(server: LiveServer, service: str) -> None:
    client = client_with(server, service, "HLUNKNOWNKEY00000000", "x" * 40)
    code, status, _ = error_of(lambda: SERVICES[service](client))
    assert (code, status) == (EXPECTED[service][0], 403)


@pytest.mark.parametrize("service", SERVICES)
def test_bad_signature(server: LiveServer, service: str) -> None:
    key = server.default_key
    client = client_with(server, service, key["AccessKeyId"], key["SecretAccessKey"][::-1])
    code, status, _ = error_of(lambda: SERVICES[service](client))
    assert (code, status) == (EXPECTED[service][1], 403)


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("offset", [-330, 330])
def test_stale_or_future_date(
    server: LiveServer, service: str, offset: int, signing_clock: Callable[[float], None]
) -> None:
    signing_clock(offset)
    client = server.client(service)
    code, status, message = error_of(lambda: SERVICES[service](client))
    assert (code, status) == (EXPECTED[service][2], 403)
    assert "Signature" in message


@pytest.mark.parametrize("offset", [-240, 240])
def test_clock_skew_within_five_minutes_is_accepted(
    server: LiveServer, offset: int, signing_clock: Callable[[float], None]
) -> None:
    signing_clock(offset)
    assert server.client("sts").get_caller_identity()["Account"] == "123456789012"


def test_unsigned_requests_are_refused(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/human-loops/x")
    assert response.status_code == 403
    assert response.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    response = httpx.post(
        server.url, headers={"X-Amz-Target": "SageMaker.ListWorkteams"}, content=b"{}"
    )
    assert response.status_code == 403
    assert response.json()["__type"] == "MissingAuthenticationTokenException"


def test_malformed_authorization_header(server: LiveServer) -> None:
    response = httpx.post(
        server.url,
        headers={
            "X-Amz-Target": "SageMaker.ListWorkteams",
            "Authorization": "AWS4-HMAC-SHA256 nonsense",
        },
        content=b"{}",
    )
    assert response.status_code == 400
    assert response.json()["__type"] == "IncompleteSignatureException"


def test_revoked_key_is_refused(tmp_path_factory: pytest.TempPathFactory) -> None:
    with LiveServer(
        data_dir=tmp_path_factory.mktemp("revoke") / "data",
        extra_env={"HANDLOOP_KEY_CACHE_SECONDS": "0"},
    ) as live:
        key = live.new_key()
        client = live.client("sts", key)
        assert client.get_caller_identity()["UserId"] == key["AccessKeyId"]
        result = live.cli("keys", "revoke", key["AccessKeyId"])
        assert result.returncode == 0, result.stderr
        assert error_of(client.get_caller_identity)[0] == "InvalidClientTokenId"


def test_tampered_body_is_refused(server: LiveServer) -> None:
    """A signed request whose body was changed in transit fails verification."""
    client = server.client("sagemaker")

    def tamper(request: Any, **_: Any) -> None:
        request.body = request.body.replace(b"{}", b"[]")  # same length

    client.meta.events.register_last("before-send.sagemaker.ListWorkteams", tamper)
    assert error_of(client.list_workteams)[0] == "InvalidSignatureException"
