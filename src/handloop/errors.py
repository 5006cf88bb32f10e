"""handloop's one exception tree. Each error knows its AWS error code and HTTP status.

Domain and service code raise these; the protocol layer renders them in the wire format of
the service that was called (some services name the same error differently, see
``code_for``).
"""

from __future__ import annotations

from typing import ClassVar


class HandloopError(Exception):
    """Base of every error a user can cause."""

    code = "InternalFailure"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def code_for(self, service: str) -> tuple[str, int]:
        """The (AWS error code, HTTP status) this error has on ``service``."""
        return self.code, self.status

    def message_for(self, service: str) -> str:
        """The message this error has on ``service`` (S3 words some errors its own way)."""
        return self.message


class ValidationError(HandloopError):
    code = "ValidationException"
    status = 400


class ResourceNotFound(HandloopError):
    code = "ResourceNotFound"
    status = 400

    def code_for(self, service: str) -> tuple[str, int]:
        if service in ("a2i", "bedrock"):
            return "ResourceNotFoundException", 404
        return self.code, self.status


class ResourceInUse(HandloopError):
    code = "ResourceInUse"
    status = 400


class ResourceLimitExceeded(HandloopError):
    code = "ResourceLimitExceeded"
    status = 400


class Conflict(HandloopError):
    code = "ConflictException"
    status = 409

    def code_for(self, service: str) -> tuple[str, int]:
        return self.code, 400 if service == "bedrock" else self.status


class MissingExtra(HandloopError):
    """An optional dependency (an extra in pyproject.toml) that this use needs is missing.

    The command line prints the message and exits with status 2, as for a usage error."""

    def __init__(self, extra: str, purpose: str) -> None:
        super().__init__(f"{purpose} needs the '{extra}' extra: pip install 'handloop[{extra}]'")
        self.extra = extra


class ServiceQuotaExceeded(HandloopError):
    code = "ServiceQuotaExceededException"
    status = 402

    def code_for(self, service: str) -> tuple[str, int]:
        return self.code, 400 if service == "bedrock" else self.status


class Throttling(HandloopError):
    code = "ThrottlingException"
    status = 429


class AuthError(HandloopError):
    """A request that could not be authenticated; ``kind`` picks the per-service code.

    S3 words some of these errors differently and adds elements to its error document:
    ``s3_message`` and ``s3_details`` carry those.
    """

    status = 403

    # kind -> (code, status) on JSON services (sagemaker, a2i), on STS (query), on S3
    _CODES: ClassVar[dict[str, tuple[tuple[str, int], tuple[str, int], tuple[str, int]]]] = {
        "missing": (
            ("MissingAuthenticationTokenException", 403),
            ("MissingAuthenticationToken", 403),
            ("AccessDenied", 403),
        ),
        "unknown_key": (
            ("UnrecognizedClientException", 403),
            ("InvalidClientTokenId", 403),
            ("InvalidAccessKeyId", 403),
        ),
        "signature": (
            ("InvalidSignatureException", 403),
            ("SignatureDoesNotMatch", 403),
            ("SignatureDoesNotMatch", 403),
        ),
        "payload_hash": (
            ("InvalidSignatureException", 403),
            ("SignatureDoesNotMatch", 403),
            ("XAmzContentSHA256Mismatch", 400),
        ),
        "expired": (
            ("InvalidSignatureException", 403),
            ("SignatureDoesNotMatch", 403),
            ("RequestTimeTooSkewed", 403),
        ),
        "url_expired": (
            ("InvalidSignatureException", 403),
            ("SignatureDoesNotMatch", 403),
            ("AccessDenied", 403),
        ),
        "scope": (
            ("InvalidSignatureException", 403),
            ("SignatureDoesNotMatch", 403),
            ("AuthorizationHeaderMalformed", 400),
        ),
        "query_scope": (
            ("InvalidSignatureException", 403),
            ("SignatureDoesNotMatch", 403),
            ("AuthorizationQueryParametersError", 400),
        ),
        "malformed": (
            ("IncompleteSignatureException", 400),
            ("IncompleteSignature", 400),
            ("AuthorizationHeaderMalformed", 400),
        ),
        "query_malformed": (
            ("IncompleteSignatureException", 400),
            ("IncompleteSignature", 400),
            ("AuthorizationQueryParametersError", 400),
        ),
        "two_mechanisms": (
            ("IncompleteSignatureException", 400),
            ("IncompleteSignature", 400),
            ("InvalidArgument", 400),
        ),
        "unsupported": (
            ("IncompleteSignatureException", 400),
            ("IncompleteSignature", 400),
            ("InvalidRequest", 400),
        ),
    }

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        s3_message: str | None = None,
        s3_details: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = self._CODES[kind][0][0]
        self.s3_message = s3_message or message
        self.s3_details = s3_details or {}

    def code_for(self, service: str) -> tuple[str, int]:
        json_code, query_code, s3_code = self._CODES[self.kind]
        if service == "sts":
            return query_code
        if service == "s3":
            return s3_code
        return json_code

    def message_for(self, service: str) -> str:
        return self.s3_message if service == "s3" else self.message


class UnknownOperation(HandloopError):
    code = "UnknownOperationException"
    status = 400

    def code_for(self, service: str) -> tuple[str, int]:
        if service == "sts":
            return "InvalidAction", 400
        if service in ("a2i", "bedrock"):
            return self.code, 404
        return self.code, self.status


class RequestTooLarge(HandloopError):
    code = "RequestEntityTooLarge"
    status = 413


class SerializationError(HandloopError):
    code = "SerializationException"
    status = 400


class NotSignedIn(HandloopError):
    """A portal request without a valid session, or a failed sign-in."""

    code = "NotAuthorizedException"
    status = 401


class Forbidden(HandloopError):
    """A portal request refused: bad CSRF token, address outside the workforce's CIDRs."""

    code = "AccessDeniedException"
    status = 403


class TaskGone(HandloopError):
    """The task is no longer the worker's to act on (time ran out, loop stopped, done)."""

    code = "ConflictException"
    status = 409
