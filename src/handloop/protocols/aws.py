"""The AWS-facing ASGI application: body limits, SigV4, routing by signing service, wire
formats and AWS error shapes. Handlers return plain dicts; this module serializes them."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from starlette.types import Receive, Scope, Send

from handloop.domain import json_values
from handloop.errors import (
    AuthError,
    HandloopError,
    RequestTooLarge,
    SerializationError,
    UnknownOperation,
)
from handloop.protocols import a2i, bedrock, request_text, s3_writes, sagemaker, sts
from handloop.protocols.event_stream import is_events_request, stream_events
from handloop.protocols.model import ShapeCompiler, service_model, shape_output
from handloop.protocols.sigv4 import SignedRequest, SigV4Verifier, claimed_service
from handloop.services import Services

log = logging.getLogger(__name__)

JSON_11 = b"application/x-amz-json-1.1"
# Each API handloop speaks and the service name its requests are signed for (A2I runtime
# requests are signed for "sagemaker", as on AWS).
SIGNING_NAME = {
    "sagemaker": "sagemaker",
    "a2i": "sagemaker",
    "sts": "sts",
    "s3": "s3",
    "bedrock": "bedrock",
}
SIGNING_NAMES = frozenset(SIGNING_NAME.values())


class Response:
    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        self.status = status
        self.body = body
        self.headers = headers


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _is_human_loops(path: str) -> bool:
    return path == "/human-loops" or path.startswith("/human-loops/")


def is_aws_request(scope: Scope) -> bool:
    """Whether a request is meant for the AWS APIs rather than the worker portal."""
    path: str = scope["path"]
    if _is_human_loops(path) or is_events_request(scope):
        return True
    query: bytes = scope["query_string"]
    # Pre-signed URLs (and S3's retired signature version 2, to answer it clearly).
    if b"X-Amz-Credential=" in query or b"AWSAccessKeyId=" in query:
        return True
    for name, value in scope["headers"]:
        if name == b"authorization" and value.startswith((b"AWS4-", b"AWS ")):
            return True
        if name == b"x-amz-target":
            return True
    return False


def addressed_apis(scope: Scope, headers: dict[str, str]) -> tuple[str, ...]:
    """The APIs a request's shape can address, the likeliest first. One port serves them
    all, so where AWS tells services apart by host name, the shape (and, between the APIs
    left, the credential scope) does it here."""
    if is_events_request(scope):
        return ("sagemaker", "sts", "s3")  # handloop's own stream takes any of them
    if "x-amz-target" in headers:
        return ("sagemaker",)
    path: str = scope["path"]
    if _is_human_loops(path):
        return ("a2i", "s3")  # "human-loops" is also a valid bucket name
    if bedrock.is_bedrock_path(path):
        return ("bedrock", "s3")  # so are "evaluation-jobs" and "evaluation-job"
    if path == "/":
        # STS takes POST / (and GET /?Action=…); S3 has only ListBuckets there.
        if scope["method"] == "POST" or b"Action=" in scope["query_string"]:
            return ("sts",)
        return ("s3", "sts")
    return ("s3",)


class AwsApi:
    """One ASGI app for every AWS protocol handloop speaks."""

    def __init__(self, services: Services) -> None:
        self.services = services
        settings = services.settings
        self.max_body = settings.max_request_bytes
        self.verifier = SigV4Verifier(
            services.access_keys.secret_for,
            region=settings.region,
            skew_seconds=settings.clock_skew_seconds,
        )
        self.compiler = ShapeCompiler({"FlowDefinitionTaskCount": {"max": settings.max_task_count}})
        self.sagemaker = service_model("sagemaker")
        self.a2i = service_model("sagemaker-a2i-runtime")
        self.sts = service_model("sts")
        self.bedrock = service_model("bedrock")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = str(uuid.uuid4())
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        apis = addressed_apis(scope, headers)
        raw_query = scope["query_string"].decode("latin-1")
        claimed = claimed_service(headers, raw_query)
        # How to answer, before the signature says: the addressed API the request claims
        # to be signed for, else the likeliest.
        service = next((api for api in apis if SIGNING_NAME[api] == claimed), apis[0])
        unserved = claimed is not None and claimed not in SIGNING_NAMES
        if unserved:
            service = "sagemaker"  # an API handloop does not have: answered in JSON
        # An S3 PUT's body (an object: up to HANDLOOP_MAX_OBJECT_BYTES, not
        # HANDLOOP_MAX_REQUEST_BYTES) is read after the signature, into a file.
        streamed = service == "s3" and scope["method"] == "PUT"
        try:
            if unserved:
                raise UnknownOperation(
                    f"handloop does not serve the '{claimed}' API: requests are signed for "
                    "'sagemaker' (SageMaker and A2I runtime), 'bedrock' (evaluation jobs), "
                    "'sts' or 's3'."
                )
            body = b"" if streamed else await self._read_body(receive, headers)
            raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
            signed = await self.verifier.verify(
                scope["method"],
                raw_path.split("?", 1)[0],
                raw_query,
                scope["headers"],
                None if streamed else body,
                services=[SIGNING_NAME[api] for api in apis],
            )
            if is_events_request(scope):
                # A stream, not one response; it sends its own headers.
                await stream_events(self.services, scope, receive, send, headers)
                return
            service = next(api for api in apis if SIGNING_NAME[api] == signed.service)
            response = await self._dispatch(
                service, scope, headers, body, signed, request_id, receive
            )
        except HandloopError as exc:
            response = self._error(service, exc, request_id)
        except Exception:
            log.exception("internal error (request %s)", request_id)
            response = self._error(
                service,
                HandloopError("An internal error occurred; the server logged it."),
                request_id,
            )
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [
                    (b"x-amzn-requestid", request_id.encode()),
                    *(
                        []
                        if any(name == b"content-length" for name, _ in response.headers)
                        else [(b"content-length", str(len(response.body)).encode())]
                    ),
                    *response.headers,
                    # A refused PUT's body may be unread, or never sent (a client waiting
                    # for "100 Continue"): the connection cannot carry another request.
                    *([(b"connection", b"close")] if streamed and response.status >= 400 else []),
                ],
            }
        )
        await send({"type": "http.response.body", "body": response.body})

    async def _read_body(self, receive: Receive, headers: dict[str, str]) -> bytes:
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body:
            raise RequestTooLarge(f"The request body is larger than {self.max_body} bytes.")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise RequestTooLarge(f"The request body is larger than {self.max_body} bytes.")
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _dispatch(
        self,
        api: str,
        scope: Scope,
        headers: dict[str, str],
        body: bytes,
        signed: SignedRequest,
        request_id: str,
        receive: Receive,
    ) -> Response:
        if api == "sts":
            return self._sts(scope, body, signed, request_id)
        if api == "s3":
            status, headers_out, payload = await s3_writes.handle(
                self.services, scope, headers, body, signed, receive
            )
            return Response(status, payload, headers_out)
        if api == "sagemaker":
            return await self._sagemaker(headers["x-amz-target"], body)
        if api == "bedrock":
            return await self._bedrock(scope, body)
        return await self._a2i(scope, body)

    async def _sagemaker(self, target: str, body: bytes) -> Response:
        prefix, _, op_name = target.partition(".")
        handler = sagemaker.OPERATIONS.get(op_name) if prefix == "SageMaker" else None
        if handler is None:
            raise UnknownOperation(f"Operation {target} is not supported by handloop.")
        operation = self.sagemaker.operation_model(op_name)
        params = self.compiler.validate(operation, self._json_body(body))
        result = await handler(self.services, params)
        payload = _json_bytes(shape_output(operation.output_shape, result) or {})
        return Response(200, payload, [(b"content-type", JSON_11)])

    async def _a2i(self, scope: Scope, body: bytes) -> Response:
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        found = a2i.route(scope["method"], raw_path.split("?", 1)[0])
        if found is None:
            raise UnknownOperation(f"No operation at {scope['method']} {scope['path']}.")
        route, labels = found
        operation = self.a2i.operation_model(route.operation)
        params: dict[str, Any] = self._json_body(body) if body else {}
        params.update(route.params(labels, scope["query_string"].decode("latin-1")))
        params = self.compiler.validate(operation, params)
        result = await a2i.OPERATIONS[route.operation](self.services, params)
        payload = _json_bytes(shape_output(operation.output_shape, result) or {})
        return Response(200, payload, [(b"content-type", b"application/json")])

    async def _bedrock(self, scope: Scope, body: bytes) -> Response:
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        found = bedrock.route(scope["method"], raw_path.split("?", 1)[0])
        if found is None:
            raise UnknownOperation(f"No operation at {scope['method']} {scope['path']}.")
        route, labels = found
        operation = self.bedrock.operation_model(route.operation)
        params: dict[str, Any] = self._json_body(body) if body else {}
        params.update(route.params(labels, scope["query_string"].decode("latin-1")))
        params = self.compiler.validate(operation, params)
        result = await bedrock.OPERATIONS[route.operation](self.services, params)
        payload = _json_bytes(shape_output(operation.output_shape, result) or {})
        status = int(operation.http.get("responseCode", 200))
        return Response(status, payload, [(b"content-type", b"application/json")])

    def _sts(self, scope: Scope, body: bytes, signed: SignedRequest, request_id: str) -> Response:
        # The Query protocol: parameters in a form body, or in the query string (GET, and
        # pre-signed URLs such as a signed GetCallerIdentity).
        form = request_text.parse_form(scope["query_string"].decode("latin-1"), "the query")
        form.update(request_text.parse_form(body.decode("latin-1"), "the request body"))
        action = form.get("Action", "")
        if action not in sts.OPERATIONS:
            raise UnknownOperation(f"Could not find operation {action} for version 2011-06-15.")
        self.sts.operation_model(action)  # the action is in STS's model
        result = sts.get_caller_identity(self.services, signed.access_key_id)
        xml = sts.result_xml(action, result, request_id)
        return Response(200, xml.encode(), [(b"content-type", b"text/xml")])

    @staticmethod
    def _json_body(body: bytes) -> dict[str, Any]:
        if not body:
            return {}
        # Bounded depth, valid Unicode and finite numbers (ValidationException); no string
        # field of any operation may hold a NUL.
        try:
            value = json_values.parse(body, "Request body", allow_nul=False)
        except json_values.JsonSyntaxError:
            raise SerializationError("The request body is not valid JSON.") from None
        if not isinstance(value, dict):
            raise SerializationError("The request body must be a JSON object.")
        return value

    @staticmethod
    def _error(service: str, exc: HandloopError, request_id: str) -> Response:
        code, status = exc.code_for(service)
        message = exc.message_for(service)
        if service == "sts":
            xml = sts.error_xml(code, message, request_id, sender=status < 500)
            return Response(status, xml.encode(), [(b"content-type", b"text/xml")])
        if service == "s3":
            details = exc.s3_details if isinstance(exc, AuthError) else {}
            xml = (
                '<?xml version="1.0" encoding="UTF-8"?>'
                f"<Error><Code>{code}</Code><Message>{_xml_escape(message)}</Message>"
                + "".join(f"<{k}>{_xml_escape(v)}</{k}>" for k, v in details.items())
                + f"<RequestId>{request_id}</RequestId></Error>"
            )
            return Response(status, xml.encode(), [(b"content-type", b"application/xml")])
        if service in ("a2i", "bedrock"):
            body = _json_bytes({"message": message})
            return Response(
                status,
                body,
                [(b"content-type", b"application/json"), (b"x-amzn-errortype", code.encode())],
            )
        body = _json_bytes({"__type": code, "message": message})
        return Response(
            status, body, [(b"content-type", JSON_11), (b"x-amzn-errortype", code.encode())]
        )


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
