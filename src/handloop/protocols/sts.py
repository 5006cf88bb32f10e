"""STS (Query protocol): GetCallerIdentity, which A2I notebooks call for the account id."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from handloop.services import Services

NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
OPERATIONS = ("GetCallerIdentity",)


def get_caller_identity(services: Services, access_key_id: str) -> dict[str, Any]:
    account = services.settings.account_id
    return {
        "UserId": access_key_id,
        "Account": account,
        "Arn": f"arn:aws:iam::{account}:user/handloop/{access_key_id}",
    }


def result_xml(action: str, result: dict[str, Any], request_id: str) -> str:
    members = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in result.items())
    return (
        f'<{action}Response xmlns="{NAMESPACE}"><{action}Result>{members}</{action}Result>'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    )


def error_xml(code: str, message: str, request_id: str, *, sender: bool) -> str:
    kind = "Sender" if sender else "Receiver"
    return (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{kind}</Type><Code>{escape(code)}</Code>'
        f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
