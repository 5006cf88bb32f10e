"""The smallest end-to-end path: a live server answers boto3's STS call."""

from __future__ import annotations

from tests.support import LiveServer


def test_get_caller_identity_returns_configured_account(server: LiveServer) -> None:
    identity = server.client("sts").get_caller_identity()
    assert identity["Account"] == "123456789012"
    assert identity["UserId"] == server.default_key["AccessKeyId"]
