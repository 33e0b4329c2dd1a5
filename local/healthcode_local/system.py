"""The deployed system's wiring, reproduced locally from the template: routes to handlers, each queue to
its function in batches (partial failures stay on the queue, then go to its DLQ), schedules to their
functions. No business logic: every request goes through the real handlers.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from healthcode import clock, wiring
from healthcode_local import moto_speed
from healthcode_local.aws import Provisioned
from healthcode_local.lambda_events import LambdaContext, http_event, sqs_event

WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: str
    raw: bytes | None = None  # a binary body (a picture), as API Gateway decodes isBase64Encoded

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class LocalSystem:
    def __init__(self, provisioned: Provisioned, quiet: bool = False) -> None:
        """``quiet``: drop what handlers print (metrics in CloudWatch's embedded format)."""
        moto_speed.apply()
        self.p = provisioned
        self.quiet = quiet
        self.template = provisioned.template
        env = provisioned.environment(next(iter(self.template.functions)))
        os.environ.update(env)
        # partners' receivers and key URLs on one machine listen on 127.0.0.1: allowed by this setting of
        # the local stack's own; the template has no such parameter, so no deployment can set it
        os.environ["ALLOW_PRIVATE_URLS"] = "true"
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        self.follow_streams = True  # deliver stream records after each request and queue batch
        self._stream_positions: dict[tuple[str, str], str] = {}
        self._shards: dict[str, list[str]] = {}
        self._stream_attempts: dict[str, int] = {}
        # whether a table may have new stream records: a delivery is skipped when none of these clients has
        # written since the last (``force``: read anyway, for writes made elsewhere, e.g. through moto's server)
        self._tables_written = True
        for operation in WRITES:
            provisioned.clients["dynamodb"].meta.events.register(
                f"before-call.dynamodb.{operation}", self._table_written
            )
        self.configure()

    def _table_written(self, **_: Any) -> None:
        self._tables_written = True

    def configure(self, pages: wiring.Pages | None = None, resolve: Any = None) -> None:
        """(Re)build the services the handlers use, e.g. with smaller pages to exercise paging, or a
        name resolver of the test's own (host -> addresses) for partners' URLs."""
        wiring.use(wiring.Services(pages=pages, resolve=resolve, **self.p.clients))

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
        path_only, _, raw_query = path.partition("?")
        query = dict(urllib.parse.parse_qsl(raw_query)) if raw_query else None
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
            query=query,
            claims=claims if jwt_route else None,
            now=clock.now(),
        )
        if route.authorizer is not None:
            refused = self._lambda_authorizer(route, event)
            if refused is not None:
                return refused
        try:
            out = self.invoke(route.function, event)
        except Exception:  # the function failed: API Gateway answers for it
            return HttpResult(500, {"content-type": "application/json"}, '{"message":"Internal Server Error"}')
        if self.follow_streams:  # AWS delivers a change's stream records within about a second
            self.deliver_streams()
        headers = {k.lower(): v for k, v in (out.get("headers") or {}).items()}
        if out.get("isBase64Encoded"):
            return HttpResult(int(out["statusCode"]), headers, "", raw=base64.b64decode(out.get("body") or ""))
        return HttpResult(int(out["statusCode"]), headers, out.get("body") or "")

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
        try:
            decision = self.invoke(function, request) or {}
        except Exception:  # an authorizer that fails: API Gateway answers 500
            return HttpResult(500, {"content-type": "application/json"}, '{"message":"Internal Server Error"}')
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
    def _queue_source(self, function: str, source: str | None = None) -> tuple[str, str, str]:
        for name, event in self.template.functions[function].properties["Events"].items():
            if event["Type"] == "SQS" and source in (None, name):
                queue_arn = self.p.resolver.resolve(event["Properties"]["Queue"])
                logical = queue_arn.rsplit(":", 1)[1]
                return name, self.p.physical(logical), queue_arn
        raise LookupError(f"no SQS event source on {function}")

    def deliver_notifications(self, max_batches: int = 100) -> int:
        """Deliver what the bus routed to the notify queue (colour and level changes)."""
        return self.deliver_queue(max_batches, function="NotifyFunction")

    def deliver_colour_checks(self, max_batches: int = 100) -> int:
        """Deliver a colour check's segments (and continuations) to the function that checks them."""
        return self.deliver_queue(max_batches, function="ColourCheckFunction")

    def deliver_replays(self, max_batches: int = 100) -> int:
        """Deliver the stream records the redrive sweep put back on the replay queue to the publisher."""
        return self.deliver_queue(max_batches, function="PublishFunction", source="Replays")

    def deliver_queue(self, max_batches: int = 100, function: str = "RecomputeFunction", source: str | None = None) -> int:
        """Deliver ``function``'s queued messages in batches, as Lambda's SQS poller would: it receives up
        to 10 messages at a time and invokes the function with ``BatchSize`` of them; what succeeded is
        deleted, what failed comes back after the visibility timeout (here: at the next delivery).
        ``max_batches``: invocations at most. Returns messages done."""
        name, url, arn = self._queue_source(function, source)
        props = self.template.functions[function].properties["Events"][name]["Properties"]
        size = int(props.get("BatchSize", 10))
        sqs = self.p.clients["sqs"]
        done = batches = 0
        hidden: list[str] = []  # failed in this delivery: Lambda retries them after the visibility timeout
        while batches < max_batches:
            # never more than this delivery hands on: each receive counts toward the redrive to the DLQ
            want = min(10, (max_batches - batches) * size)
            received = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=want, MessageSystemAttributeNames=["All"], VisibilityTimeout=0
            ).get("Messages", [])
            if not received:
                break
            for start in range(0, len(received), size):
                batches += 1
                messages = received[start : start + size]
                try:
                    result = self.invoke(function, sqs_event(messages, arn)) or {}
                    failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
                except Exception:  # the invocation failed: Lambda leaves the whole batch on the queue
                    failed = {m["MessageId"] for m in messages}
                succeeded = [m for m in messages if m["MessageId"] not in failed]
                if succeeded:
                    entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(succeeded)]
                    sqs.delete_message_batch(QueueUrl=url, Entries=entries)
                    done += len(succeeded)
                for m in messages:
                    if m["MessageId"] in failed:  # back after the visibility timeout: here, at the next delivery
                        sqs.change_message_visibility(
                            QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=3600
                        )
                        hidden.append(m["ReceiptHandle"])
                if self.follow_streams:
                    self.deliver_streams()
        for handle in hidden:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
        return done

    # -------------------------------------------------------------- streams
    def _stream_sources(self) -> list[tuple[str, str, dict[str, Any]]]:
        out = []
        for logical, spec in self.template.functions.items():
            for name, event in spec.properties.get("Events", {}).items():
                if event["Type"] == "DynamoDB":
                    out.append((logical, name, event["Properties"]))
        return out

    def replay_streams(self) -> None:
        """Every stream record is delivered again from the start at the next delivery (as Lambda may)."""
        self._stream_positions.clear()
        self._tables_written = True

    def deliver_streams(self, max_batches: int = 1000, force: bool = False) -> int:
        """Deliver new DynamoDB stream records to the functions that consume them, as Lambda's stream
        poller would: in order per shard, in batches; records after a failed one (partial batch
        response, or a failed invocation) are retried from it; after ``MaximumRetryAttempts`` the failed
        record's metadata goes to the on-failure destination and the shard moves on. Returns records done.
        """
        if not self._tables_written and not force:
            return 0
        self._tables_written = False
        streams = self.p.clients["dynamodbstreams"]
        done = 0
        for function, _name, props in self._stream_sources():
            arn = self.p.resolver.resolve(props["Stream"])
            size = int(props.get("BatchSize", 100))
            if arn not in self._shards:  # a table's shards, read once (moto never splits one)
                described = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
                self._shards[arn] = [s["ShardId"] for s in described]
            for shard in self._shards[arn]:
                key = (arn, shard)
                for _ in range(max_batches):
                    # a new iterator each time, from the last record delivered: moto replaces a table, and
                    # its stream with it, when a transaction on it fails, so an older iterator reads no more
                    after = self._stream_positions.get(key)
                    kind = (
                        {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
                        if after
                        else {"ShardIteratorType": "TRIM_HORIZON"}
                    )
                    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, **kind)
                    records = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=size)["Records"]
                    if not records:
                        break
                    delivered = self._deliver_batch(function, arn, props, key, records)
                    done += delivered
                    if delivered < len(records):
                        self._tables_written = True  # the rest is read again at the next delivery
                        break  # a failure: retried at the next delivery, as the poller retries
                else:  # max_batches delivered: there may be more
                    self._tables_written = True
        return done

    def _deliver_batch(
        self, function: str, arn: str, props: dict[str, Any], key: tuple[str, str], records: list[dict[str, Any]]
    ) -> int:
        event = {
            "Records": [
                r | {"eventSource": "aws:dynamodb", "eventSourceARN": arn, "awsRegion": "us-east-1"} for r in records
            ]
        }
        sequence = [r["dynamodb"]["SequenceNumber"] for r in records]
        try:
            result = self.invoke(function, event) or {}
            failed = [f["itemIdentifier"] for f in result.get("batchItemFailures", [])]
        except Exception:  # the invocation failed: the whole batch is retried
            failed = sequence[:1]
        first = min((sequence.index(f) for f in failed if f in sequence), default=len(sequence))
        if first > 0:
            self._stream_positions[key] = sequence[first - 1]
        if first == len(sequence):
            return first
        tries = self._stream_attempts.get(sequence[first], 0) + 1
        self._stream_attempts[sequence[first]] = tries
        if tries > int(props.get("MaximumRetryAttempts", -1)) >= 0:
            self._send_to_on_failure(props, arn, key[1], sequence[first])
            self._stream_positions[key] = sequence[first]
            return first + 1
        return first

    def _send_to_on_failure(self, props: dict[str, Any], arn: str, shard: str, sequence: str) -> None:
        """What Lambda sends an on-failure destination for a stream: metadata, never the record."""
        target = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if target is None:
            return
        queue_arn = self.p.resolver.resolve(target)
        url = self.p.physical(queue_arn.rsplit(":", 1)[1])
        info = {"streamArn": arn, "shardId": shard, "startSequenceNumber": sequence, "endSequenceNumber": sequence}
        self.p.clients["sqs"].send_message(QueueUrl=url, MessageBody=json.dumps({"DDBStreamBatchInfo": info}))

    def settle(self, rounds: int = 20) -> int:
        """Deliver streams and the queue until nothing is left to deliver (what AWS does within seconds)."""
        total = 0
        for _ in range(rounds):
            moved = (
                self.deliver_streams()
                + self.deliver_queue()
                + self.deliver_notifications()
                + self.deliver_replays()
                + self.deliver_colour_checks()
            )
            total += moved
            if not moved:
                break
        return total

    def fire_schedule(self, function: str = "RecomputeFunction") -> Any:
        """Invoke ``function`` as EventBridge Scheduler would, with its schedule's input from the template."""
        for event in self.template.functions[function].properties["Events"].values():
            if event["Type"] == "ScheduleV2":
                out = self.invoke(function, json.loads(event["Properties"]["Input"]))
                if self.follow_streams:
                    self.deliver_streams()
                return out
        raise LookupError(f"no schedule on {function}")
