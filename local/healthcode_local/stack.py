"""The local stack: the whole system on this machine, over real HTTP, with no AWS account and no Docker.

* embedded AWS: moto in server mode on 127.0.0.1; every resource created from ``infra/template.yaml``;
* an HTTP front that authorizes like the deployed HTTP API (JWT signature, issuer, audience, expiry;
  claims passed on as ``requestContext.authorizer.jwt.claims``) and invokes the handlers the template
  names, in-process, one at a time (one warm Lambda instance per function);
* the recompute queue delivered in batches and the daily schedule fired on the dev clock;
* dev-only routes, never in the template: ``/dev/tokens`` and ``/dev/clock``.

No business logic lives here: every request and event goes through the real handlers.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import boto3
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from healthcode import clock
from healthcode.adapters.clients import CLIENT_CONFIG
from healthcode_local.aws import REGION, provision
from healthcode_local.demo_data import OFFICIAL_ROLES, official_identity
from healthcode_local.dev_oidc import DevOidc
from healthcode_local.pages import Pages
from healthcode_local.system import HttpResult, LocalSystem
from healthcode_local.template import Template

log = logging.getLogger("hc-local")  # not under "healthcode": that is the handlers' Powertools logger
SERVICES = ("dynamodb", "dynamodbstreams", "sqs", "events", "secretsmanager", "ssm", "kms", "s3")
DEV_TOKEN_TTL = timedelta(hours=12)


def _rate_seconds(expression: str) -> float:
    """``rate(5 minutes)`` -> 300.0 (EventBridge Scheduler's rate expressions)."""
    value, unit = expression[len("rate(") : -1].split()
    return float(value) * {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DevClock:
    """'Now' for every function: real time shifted by an offset that PUT /dev/clock sets."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def set(self, when: datetime) -> None:
        self.offset = when - datetime.now(UTC)


class DevIdentityProvider:
    """Mints and checks bearer JWTs the way the deployed API's JWT authorizer checks them.

    Expiry is checked on the real clock, like API Gateway: moving the dev clock does not expire tokens.
    """

    def __init__(self, issuer: str, audience: str, identity_claim: str = "verified_id") -> None:
        self.issuer = issuer
        self.audience = audience
        self.identity_claim = identity_claim
        self._key = ECKey.generate_key("P-256", auto_kid=True)

    def mint(
        self,
        sub: str,
        roles: list[str],
        *,
        identity: dict[str, str] | None = None,
        checkpoints: list[str] | None = None,
        areas: list[str] | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        expires_in: int | None = None,
        anonymous: bool = False,
        wards: list[str] | None = None,
    ) -> str:
        """A dev token; the keyword arguments make wrong ones, to see the front refuse them. An
        official's token carries a verified identity (one made up per account name unless ``identity``
        names one; ``anonymous``: none, to see an unidentified official refused)."""
        if identity is None and not anonymous and OFFICIAL_ROLES & set(roles):
            identity = official_identity(sub)
        now = int(time.time())
        ttl = int(DEV_TOKEN_TTL.total_seconds()) if expires_in is None else int(expires_in)
        claims = {
            "iss": issuer or self.issuer,
            "aud": audience or self.audience,
            "sub": sub,
            "scope": " ".join(roles),  # each role is the OAuth scope of the same name
            "iat": now,
            "exp": now + ttl,
        }
        if identity is not None:  # what real-name verification at the identity provider asserts
            claims[self.identity_claim] = f"{identity['id_type']}:{identity['id_number']}"
        if checkpoints:
            claims["checkpoints"] = " ".join(checkpoints)
        if areas:  # the areas a community worker serves
            claims["areas"] = " ".join(areas)
        if wards:  # the people in this person's care (resident ID numbers), as a household register lists them
            claims["guardian_of"] = " ".join(f"resident_id:{n}" for n in wards)
        return jwt.encode({"alg": "ES256", "kid": self._key.kid}, claims, self._key)

    def claims(self, authorization: str | None) -> dict[str, str] | None:
        """The claims as API Gateway passes them (arrays become "[a b]"), or None when refused."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        try:
            token = jwt.decode(authorization[7:].strip(), self._key, algorithms=["ES256"])
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.audience},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(token.claims)
        except (JoseError, ValueError):
            return None
        return {
            k: "[" + " ".join(map(str, v)) + "]" if isinstance(v, list) else str(v) for k, v in token.claims.items()
        }


class DailySchedule:
    """The template's ScheduleV2 (``cron(M H * * ? *)`` in its time zone) on the dev clock.

    Moving the clock past one or more occurrences fires the schedule once in all, at the new "now"
    (each run rescores everyone due by then, so one run does the work of the missed ones).
    """

    def __init__(self, expression: str, zone: str, now: datetime) -> None:
        m = re.fullmatch(r"cron\((\d+) (\d+) \* \* \? \*\)", expression)
        if not m:
            raise ValueError(f"the local scheduler runs daily cron expressions only, not {expression}")
        self.minute, self.hour = int(m.group(1)), int(m.group(2))
        self.zone = ZoneInfo(zone)
        self.next = self._after(now)

    def _after(self, now: datetime) -> datetime:
        local = now.astimezone(self.zone)
        at = local.replace(hour=self.hour, minute=self.minute, second=0, microsecond=0)
        return at if at > local else at + timedelta(days=1)

    def rewind(self, now: datetime) -> None:
        """The clock was moved back: the next occurrence is the first one after the new now."""
        if now < self.next - timedelta(days=1):
            self.next = self._after(now)

    def due(self, now: datetime) -> bool:
        if now < self.next:
            return False
        self.next = self._after(now)
        return True


class LocalStack:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8080,
        aws_port: int = 0,
        quiet: bool = True,
        parameters: dict[str, str] | None = None,
    ) -> None:
        self.quiet = quiet
        self.parameters = dict(parameters or {})  # template parameters other than their defaults
        self.host = host
        self.port = port or free_port()
        self.aws_port = aws_port or free_port()
        self.clock = DevClock()
        self.lock = threading.RLock()  # one invocation at a time: moto and the handlers are not thread-safe
        self._stop = threading.Event()
        self._wake = threading.Event()  # a clock move or a request: the poller looks at once
        self._jobs: list[tuple[str, dict[str, Any]]] = []  # schedules the clock fired, run by the poller
        self._activity = 0  # counts clock moves and requests; ...
        self._settled_at = 0  # ... the count when the poller last found nothing left to run or deliver
        self._streams_read = 0.0  # when the streams were last read whether or not this process wrote
        self._requests_waiting = 0  # requests go first: the pollers deliver between them, as AWS runs both at once
        self._waiting_lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        # Clients the functions make themselves (on first use, in wiring) reach moto too.
        for key, value in {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",  # moto's DynamoDB Streams answer no account-ID endpoint
        }.items():
            os.environ.setdefault(key, value)
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.aws_port, verbose=False)
        self.moto.start()
        # The functions reach the same moto in-process (one store, which the server on aws_port serves to
        # the CLI and to anyone who looks inside): an AWS call costs a quarter of one over HTTP.
        from moto import mock_aws

        self._in_process = mock_aws()
        self._in_process.start(reset=False)
        session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=REGION)
        clients = {s: session.client(s, config=CLIENT_CONFIG) for s in SERVICES}
        template = Template()
        self.system = LocalSystem(provision(clients, template, self.parameters), quiet=self.quiet)
        # the poller below delivers stream records, as Lambda's does: requests do not carry that work
        self.system.follow_streams = False
        clock.set_source(self.clock.now)
        params = template.parameter_defaults()
        self.idp = DevIdentityProvider(params["JwtIssuer"], params["JwtAudience"], params["IdentityClaim"])
        self.oidc = DevOidc(self.url, params["JwtAudience"], self.idp.mint)
        self.pages = Pages(template, self.url, self.oidc.issuer)
        daily = next(
            e
            for e in template.functions["RecomputeFunction"].properties["Events"].values()
            if e["Type"] == "ScheduleV2"
        )["Properties"]
        self.schedule = DailySchedule(
            daily["ScheduleExpression"], daily.get("ScheduleExpressionTimezone", "UTC"), self.clock.now()
        )
        self._daily_input = json.loads(daily.get("Input", "{}"))
        # other daily cron(...) schedules (the statistics' nightly reconciliation) on the dev clock too
        self.nightly = [
            (
                name,
                key,
                DailySchedule(
                    e["Properties"]["ScheduleExpression"],
                    e["Properties"].get("ScheduleExpressionTimezone", "UTC"),
                    self.clock.now(),
                ),
                json.loads(e["Properties"].get("Input", "{}")),
            )
            for name, spec in template.functions.items()
            if name != "RecomputeFunction"
            for key, e in spec.properties.get("Events", {}).items()
            if e["Type"] == "ScheduleV2"
            and re.fullmatch(r"cron\(\d+ \d+ \* \* \? \*\)", e["Properties"]["ScheduleExpression"])
        ]
        # rate(...) schedules (the partner keys refresher) run on the real clock, first at start
        self.rates = [
            (name, _rate_seconds(e["Properties"]["ScheduleExpression"]), json.loads(e["Properties"].get("Input", "{}")))
            for name, spec in template.functions.items()
            for e in spec.properties.get("Events", {}).values()
            if e["Type"] == "ScheduleV2" and e["Properties"]["ScheduleExpression"].startswith("rate(")
        ]
        self._rate_next = {name: 0.0 for name, _, _ in self.rates}
        self.server = ThreadingHTTPServer((self.host, self.port), _handler_class(self))
        self.server.daemon_threads = True
        for target in (self.server.serve_forever, self._events_loop):
            t = threading.Thread(target=target, daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self._in_process.stop(remove_data=False)
        self.moto.stop()

    # ------------------------------------------------------------------ events
    def pump(self) -> list[str]:
        """Run what the clock fired, fire a schedule whose time has come, and deliver what is queued, as
        AWS would. Returns the schedules fired here (on the real clock: the rate schedules)."""
        seen = self._activity
        fired = []
        with self.lock:
            if self.schedule.due(self.clock.now()):
                log.info("schedule fired at %s", self.clock.now().isoformat())
                self._jobs.append(("RecomputeFunction", self._daily_input))
                fired.append("Daily")
            for name, key, payload in self._nightly_due(self.clock.now()):
                self._jobs.append((name, payload))
                fired.append(key)
            for name, every, payload in self.rates:
                if time.monotonic() >= self._rate_next[name]:
                    self._rate_next[name] = time.monotonic() + every
                    self._jobs.append((name, payload))
        # one job or one batch per turn of the lock, so requests are served between the batches of a run
        while not self._stop.is_set():
            if self._requests_waiting:
                time.sleep(0.005)
                continue
            with self.lock:
                if self._jobs:
                    self._run(*self._jobs.pop(0))
                    continue
                # writes from outside (the moto endpoint) are looked for at least once a second
                force = time.monotonic() - self._streams_read > 1
                if force:
                    self._streams_read = time.monotonic()
                moved = (
                    self.system.deliver_streams(max_batches=10, force=force)
                    + self.system.deliver_queue(max_batches=10)
                    + self.system.deliver_notifications(max_batches=10)
                    + self.system.deliver_replays(max_batches=10)
                    + self.system.deliver_colour_checks(max_batches=10)
                )
            if not moved:
                break
        with self.lock:
            if not self._jobs and self._activity == seen:
                self._settled_at = seen
        return fired

    def _run(self, function: str, payload: dict[str, Any]) -> None:
        """Invoke a scheduled function as EventBridge Scheduler would (a failure is logged; it runs again
        at its next time)."""
        try:
            self.system.invoke(function, payload)
        except Exception:
            log.exception("scheduled %s failed", function)

    @property
    def busy(self) -> bool:
        """Whether something a clock move or a request set off may still be running or undelivered."""
        return self._settled_at != self._activity

    def touched(self) -> None:
        """Something happened that the poller may have to follow up (a request, a clock move)."""
        with self._waiting_lock:
            self._activity += 1
        self._wake.set()

    def _nightly_due(self, now: datetime) -> list[tuple[str, str, dict[str, Any]]]:
        due = []
        for name, key, schedule, payload in self.nightly:
            schedule.rewind(now)
            if schedule.due(now):
                due.append((name, key, payload))
        return due

    def _events_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            try:
                self.pump()
            except Exception:  # keep the poller alive, as Lambda's would be
                log.exception("event delivery failed")

    # ------------------------------------------------------------------ HTTP
    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> HttpResult:
        route = path.split("?", 1)[0]
        if route.startswith("/dev/oidc/"):
            answer = self.oidc.handle(method, path, body)
            return answer if answer is not None else _json(404, {"message": "Not Found"})
        if route.startswith("/dev/"):
            return self._dev(method, route, body)
        found = self.system.template.route_for(method, route)
        if found is None:
            if method == "OPTIONS" and "access-control-request-method" in headers:
                return self.pages.preflight(headers)  # the HTTP API answers CORS preflights itself
            page = self.pages.file(method, route)
            return page if page is not None else _json(404, {"message": "Not Found"})
        result = self._api(method, path, headers, body, found)
        result.headers.update(self.pages.cors_headers(headers))
        return result

    def _api(self, method: str, path: str, headers: dict[str, str], body: bytes, found: Any) -> HttpResult:
        claims = None
        if not found[0].public and found[0].authorizer is None:  # the JWT authorizer's routes
            claims = self.idp.claims(headers.get("authorization"))
            if claims is None:
                return _json(401, {"message": "Unauthorized"})
        with self._waiting_lock:
            self._requests_waiting += 1
        try:
            with self.lock:
                return self.system.http(
                    method,
                    path,
                    claims=claims,
                    headers=headers,
                    raw_body=body.decode("utf-8", "replace") if body else None,
                )
        finally:
            with self._waiting_lock:
                self._requests_waiting -= 1
            self.touched()

    def _dev(self, method: str, route: str, body: bytes) -> HttpResult:
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return _json(400, {"detail": "not JSON"})
        if route == "/dev/tokens" and method == "POST":
            sub, roles = data.get("sub"), data.get("roles", [])
            identity, checkpoints, areas = data.get("identity"), data.get("checkpoints"), data.get("areas")
            extra = {k: data[k] for k in ("audience", "issuer", "expires_in", "wards") if k in data}
            valid_identity = identity is None or (
                isinstance(identity, dict)
                and all(isinstance(identity.get(k), str) for k in ("id_type", "id_number"))
                and set(identity) == {"id_type", "id_number"}
            )
            valid_checkpoints = all(
                v is None or (isinstance(v, list) and all(isinstance(c, str) for c in v))
                for v in (checkpoints, areas, data.get("wards"))
            )
            if not isinstance(sub, str) or not sub or not isinstance(roles, list) or not valid_identity:
                return _json(422, {"detail": DEV_TOKEN_CONTRACT})
            if not valid_checkpoints:
                return _json(422, {"detail": DEV_TOKEN_CONTRACT})
            token = self.idp.mint(
                sub, [str(r) for r in roles], identity=identity, checkpoints=checkpoints, areas=areas, **extra
            )
            return _json(200, {"token": token})
        if route == "/dev/clock" and method == "GET":
            return _json(200, {"now": self.clock.now().isoformat(), "busy": self.busy})
        if route == "/dev/clock" and method == "PUT":
            try:
                when = datetime.fromisoformat(str(data.get("now")))
                if when.tzinfo is None:
                    raise ValueError
            except ValueError:
                return _json(422, {"detail": "expected {now: ISO-8601 instant with offset}"})
            self.pump()  # what was already done is delivered at the old time, as AWS would have by then
            with self.lock:  # the clock moves and what it passed is due in one step: no poller in between
                jumped = (when - self.clock.now()).total_seconds()
                self.clock.set(when)
                self.schedule.rewind(when)
                fired = []
                if self.schedule.due(when):
                    log.info("schedule fired at %s", when.isoformat())
                    self._jobs.append(("RecomputeFunction", self._daily_input))
                    fired.append("Daily")
                for name, key, payload in self._nightly_due(when):
                    self._jobs.append((name, payload))
                    fired.append(key)
                # a rate(...) schedule whose period the jump covers fires once, at the new time (as the
                # daily one does): moving the clock an hour runs the notify sweep, a retry comes due
                for name, every, payload in self.rates:
                    if jumped >= every:
                        self._jobs.append((name, payload))
                        fired.append(name)
            # the answer comes now; what fired runs behind it (GET /dev/clock says when all of it is done)
            self.touched()
            return _json(200, {"now": self.clock.now().isoformat(), "fired": fired, "busy": True})
        return _json(404, {"message": "Not Found"})


DEV_TOKEN_CONTRACT = (
    "expected {sub: string, roles: [string]}, optionally identity: {id_type, id_number} (the verified identity),"
    " checkpoints: [string] (the checkpoints it scans for), areas: [string] (a community worker's areas),"
    " wards: [string] (resident ID numbers in this person's care: their dependants), audience, issuer, expires_in"
)


def _json(status: int, body: Any) -> HttpResult:
    return HttpResult(status, {"content-type": "application/json"}, json.dumps(body, ensure_ascii=False))


def _handler_class(stack: LocalStack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body go out in two writes: with Nagle's algorithm the body waited for the client's
        # delayed ACK, 40 ms on every request of a kept-alive connection
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            started = time.perf_counter()
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                result = stack.handle(self.command, self.path, headers, body)
            except Exception:
                log.exception("request failed")
                result = _json(500, {"message": "Internal Server Error"})
            data = result.raw if result.raw is not None else result.body.encode()
            payload = b"" if self.command == "HEAD" else data
            self.send_response(result.status)
            for k, v in result.headers.items():
                if k not in ("content-length", "connection"):
                    self.send_header(k, v)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            ms = (time.perf_counter() - started) * 1000
            log.info("%s %s %d %.1fms", self.command, self.path.split("?", 1)[0], result.status, ms)

        def __getattr__(self, name: str) -> Any:
            # every method reaches the router, as at API Gateway: one without a route is a 404, not a 501
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:  # one line per request is ours
            pass

    return Handler
