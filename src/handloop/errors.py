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


class ValidationError(HandloopError):
    code = "ValidationException"
    status = 400


class ResourceNotFound(HandloopError):
    code = "ResourceNotFound"
    status = 400

    def code_for(self, service: str) -> tuple[str, int]:
        if service == "a2i":
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


class ServiceQuotaExceeded(HandloopError):
    code = "ServiceQuotaExceededException"
    status = 402


class Throttling(HandloopError):
    code = "ThrottlingException"
    status = 429


class AuthError(HandloopError):
    """A request that could not be authenticated; ``kind`` picks the per-service code."""

    status = 403

    # kind -> code on JSON services (sagemaker, a2i), on STS (query) and on S3 (rest-xml)
    _CODES: ClassVar[dict[str, tuple[str, str, str]]] = {
        "missing": (
            "MissingAuthenticationTokenException",
            "MissingAuthenticationToken",
            "AccessDenied",
        ),
        "unknown_key": (
            "UnrecognizedClientException",
            "InvalidClientTokenId",
            "InvalidAccessKeyId",
        ),
        "signature": (
            "InvalidSignatureException",
            "SignatureDoesNotMatch",
            "SignatureDoesNotMatch",
        ),
        "expired": ("InvalidSignatureException", "SignatureDoesNotMatch", "RequestTimeTooSkewed"),
        "malformed": (
            "IncompleteSignatureException",
            "IncompleteSignature",
            "AuthorizationHeaderMalformed",
        ),
    }

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = self._CODES[kind][0]

    def code_for(self, service: str) -> tuple[str, int]:
        json_code, query_code, s3_code = self._CODES[self.kind]
        status = 400 if self.kind == "malformed" else 403
        if service == "sts":
            return query_code, status
        if service == "s3":
            return s3_code, status
        return json_code, status


class UnknownOperation(HandloopError):
    code = "UnknownOperationException"
    status = 400

    def code_for(self, service: str) -> tuple[str, int]:
        if service == "sts":
            return "InvalidAction", 400
        if service == "a2i":
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
