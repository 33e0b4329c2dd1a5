"""Lambda invocation payloads as AWS sends them, built on the shapes ``sam local generate-event`` writes
(``events/*.json``, committed), plus a Lambda context whose remaining time is real."""

from __future__ import annotations

import base64
import copy
import json
import time
import uuid
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any


@cache
def _shape(name: str) -> dict[str, Any]:
    return json.loads(resources.files("healthcode_local").joinpath("events", name).read_text("utf-8"))


def http_event(
    method: str,
    path: str,
    route_path: str,
    *,
    body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    claims: dict[str, Any] | None = None,
    source_ip: str = "127.0.0.1",
    now: datetime | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload v2) event. ``claims`` None: no authorizer (a public route)."""
    event = copy.deepcopy(_shape("http-api-proxy.json"))
    at = now or datetime.now(UTC)
    route_key = f"{method.upper()} {route_path}"
    event["routeKey"] = route_key
    event["rawPath"] = path
    event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in (query or {}).items())
    event.pop("cookies", None)
    event["headers"] = {k.lower(): v for k, v in (headers or {}).items()}
    if query:
        event["queryStringParameters"] = dict(query)
    else:
        event.pop("queryStringParameters", None)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    else:
        event.pop("pathParameters", None)
    event.pop("stageVariables", None)
    ctx = event["requestContext"]
    ctx.pop("authentication", None)
    if "host" in event["headers"]:  # API Gateway names the host the client called
        ctx["domainName"] = event["headers"]["host"]
        ctx["domainPrefix"] = ctx["domainName"].split(".")[0]
    ctx["routeKey"] = route_key
    ctx["requestId"] = uuid.uuid4().hex
    ctx["time"] = at.strftime("%d/%b/%Y:%H:%M:%S +0000")
    ctx["timeEpoch"] = int(at.timestamp() * 1000)
    ctx["http"] = {
        "method": method.upper(),
        "path": path,
        "protocol": "HTTP/1.1",
        "sourceIp": source_ip,
        "userAgent": event["headers"].get("user-agent", "healthcode"),
    }
    if claims is None:
        ctx.pop("authorizer", None)
    else:
        ctx["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    if body is None:
        event.pop("body", None)
        event["isBase64Encoded"] = False
    elif isinstance(body, bytes):
        event["body"] = base64.b64encode(body).decode()
        event["isBase64Encoded"] = True
    else:
        event["body"] = body
        event["isBase64Encoded"] = False
    return event


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """An SQS event for Lambda from received messages (``receive_message`` output with attributes)."""
    shape = _shape("sqs-receive-message.json")["Records"][0]
    records = []
    for m in messages:
        r = copy.deepcopy(shape)
        r.update(
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "md5OfBody": m["MD5OfBody"],
                "eventSourceARN": queue_arn,
            }
        )
        r["attributes"] = {**r["attributes"], **m.get("Attributes", {})}
        records.append(r)
    return {"Records": records}


class LambdaContext:
    """A context with a real deadline (Powertools idempotency and batch processing read it)."""

    def __init__(self, function_name: str, timeout_s: float = 30, memory_mb: int = 512) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.aws_request_id = uuid.uuid4().hex
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)
