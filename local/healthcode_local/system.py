"""The deployed system's wiring, reproduced locally from the template: routes to handlers, the queue to
the recompute function in batches (partial failures stay on the queue, then go to its DLQ), the daily
schedule to the recompute function. No business logic: every request goes through the real handlers.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from healthcode import clock, wiring
from healthcode_local.aws import Provisioned
from healthcode_local.lambda_events import LambdaContext, http_event, sqs_event


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class LocalSystem:
    def __init__(self, provisioned: Provisioned, quiet: bool = False) -> None:
        """``quiet``: drop what handlers print (metrics in CloudWatch's embedded format)."""
        self.p = provisioned
        self.quiet = quiet
        self.template = provisioned.template
        env = provisioned.environment(next(iter(self.template.functions)))
        os.environ.update(env)
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        self.configure()

    def configure(self, pages: wiring.Pages | None = None) -> None:
        """(Re)build the services the handlers use, e.g. with smaller pages to exercise paging."""
        wiring.use(wiring.Services(pages=pages, **self.p.clients))

    def set_clock(self, now: datetime) -> None:
        clock.set_source(lambda: now)

    # -------------------------------------------------------------- HTTP
    def http(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        claims: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        raw_body: str | bytes | None = None,
    ) -> HttpResult:
        """One request as API Gateway would pass it on. ``claims``: what the JWT authorizer validated."""
        path_only = path.split("?", 1)[0]
        found = self.template.route_for(method, path_only)
        if found is None:
            return HttpResult(404, {"content-type": "application/json"}, '{"message":"Not Found"}')
        route, params = found
        jwt_route = not route.public and route.authorizer is None
        if jwt_route and claims is None:  # the HTTP API's JWT authorizer refuses it
            return HttpResult(401, {"content-type": "application/json"}, '{"message":"Unauthorized"}')
        if jwt_route and route.scopes and not set(str((claims or {}).get("scope", "")).split(" ")) & set(route.scopes):
            # the JWT authorizer's AuthorizationScopes: none of the route's scopes is in the token
            return HttpResult(403, {"content-type": "application/json"}, '{"message":"Forbidden"}')
        text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
        hdrs = {"content-type": "application/json", **(headers or {})}
        event = http_event(
            method,
            path_only,
            route.path,
            body=text,
            headers=hdrs,
            path_parameters=params or None,
            claims=claims if jwt_route else None,
            now=clock.now(),
        )
        if route.authorizer is not None:
            refused = self._lambda_authorizer(route, event)
            if refused is not None:
                return refused
        out = self.invoke(route.function, event)
        return HttpResult(
            int(out["statusCode"]), {k.lower(): v for k, v in (out.get("headers") or {}).items()}, out.get("body") or ""
        )

    def _lambda_authorizer(self, route: Any, event: dict[str, Any]) -> HttpResult | None:
        """Run the route's Lambda authorizer as API Gateway does (payload 2.0, simple responses)."""
        function, identity = self.template.lambda_authorizer(route.authorizer)
        headers = event["headers"]
        if not all(h.lower() in headers for h in identity):
            return HttpResult(401, {"content-type": "application/json"}, '{"message":"Unauthorized"}')
        request = {k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")}
        request.update(
            {
                "type": "REQUEST",
                "routeArn": f"arn:aws:execute-api:us-east-1:123456789012:local/$default/{event['routeKey'].replace(' ', '')}",
                "identitySource": [headers[h.lower()] for h in identity],
            }
        )
        decision = self.invoke(function, request) or {}
        if not decision.get("isAuthorized"):
            return HttpResult(403, {"content-type": "application/json"}, '{"message":"Forbidden"}')
        event["requestContext"]["authorizer"] = {"lambda": decision.get("context") or {}}
        return None

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        spec = self.template.functions[function]
        timeout = float(spec.properties.get("Timeout") or self.template.doc["Globals"]["Function"]["Timeout"])
        handler = spec.load()
        if not self.quiet:
            return handler(event, LambdaContext(function, timeout))
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            return handler(event, LambdaContext(function, timeout))

    # -------------------------------------------------------------- events
    def _recompute_source(self) -> tuple[str, str, str]:
        for name, event in self.template.functions["RecomputeFunction"].properties["Events"].items():
            if event["Type"] == "SQS":
                queue_arn = self.p.resolver.resolve(event["Properties"]["Queue"])
                logical = queue_arn.rsplit(":", 1)[1]
                return name, self.p.physical(logical), queue_arn
        raise LookupError("no SQS event source on RecomputeFunction")

    def deliver_queue(self, max_batches: int = 100) -> int:
        """Deliver queued recompute messages in batches, as Lambda's SQS poller would. Returns messages done."""
        name, url, arn = self._recompute_source()
        props = self.template.functions["RecomputeFunction"].properties["Events"][name]["Properties"]
        sqs = self.p.clients["sqs"]
        done = 0
        for _ in range(max_batches):
            got = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=int(props.get("BatchSize", 10)),
                MessageSystemAttributeNames=["All"],
                VisibilityTimeout=0,
            )
            messages = got.get("Messages", [])
            if not messages:
                break
            try:
                result = self.invoke("RecomputeFunction", sqs_event(messages, arn)) or {}
                failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            except Exception:  # the invocation failed: Lambda leaves the whole batch on the queue
                failed = {m["MessageId"] for m in messages}
            for m in messages:
                if m["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                    done += 1
            if failed and len(failed) == len(messages):
                break
        return done

    def fire_schedule(self) -> Any:
        """Invoke the recompute function as EventBridge Scheduler would, with the template's input."""
        for event in self.template.functions["RecomputeFunction"].properties["Events"].values():
            if event["Type"] == "ScheduleV2":
                return self.invoke("RecomputeFunction", json.loads(event["Properties"]["Input"]))
        raise LookupError("no schedule on RecomputeFunction")
