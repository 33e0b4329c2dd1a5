"""Nothing lost between two writes: every write path, with a fault injected at each AWS call in turn.

For each path the fault-free run is recorded first, with the list of AWS calls it makes (every client,
every operation, in order). Then, for each call of that list, a fresh system (the worker's provisioned
moto, reset) runs the same path with
that one call failing; the client retries what failed as a client would (a 5xx answer is sent again,
a partner signs the retry with a new nonce), the scheduler retries a failed run, and queues and
streams are delivered again until nothing is left. The final state must equal the fault-free one:
holders, History, accounts, regions, stays, runs and the ColorChanged events, with no duplicates.
A new AWS call on a path is covered by this test without a new test.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from botocore.exceptions import ClientError

from healthcode import clock, wiring
from healthcode.scoring.ruleset import load_ruleset
from healthcode_local.aws import Provisioned
from healthcode_local.partner_client import signed_headers
from tests.integration.conftest import Harness, SharedAws
from tests.people import application, resident_id

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2020, 2, 17, 9, 0, tzinfo=SHANGHAI)
FIXED_HOLDER_KEY = "fault-matrix-holder-key"
VOLATILE = {"code_id"}  # a uuid per application: differs between any two runs
EMULATOR = {"sqs.ReceiveMessage", "sqs.DeleteMessage", "sqs.DeleteMessageBatch"}  # what the local stack's queue poller calls


@dataclass
class Injector:
    """Sees every AWS call the functions make; fails the one numbered ``fail_at`` (once)."""

    calls: list[str] = field(default_factory=list)
    fail_at: int | None = None
    recording: bool = False
    events: list[str] = field(default_factory=list)  # ColorChanged ids EventBridge accepted

    def params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["hc_params"] = params  # the API call's parameters, for the hooks below

    def before(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}"
        if not self.recording or name in EMULATOR or name.startswith("dynamodbstreams."):
            return  # the local stack's own pollers stand in for Lambda's; they are not the system's calls
        params = context.get("hc_params", {})
        table = params.get("TableName") or params.get("QueueUrl", "").rsplit("/", 1)[-1] or params.get("SecretId", "")
        if not table and params.get("TransactItems"):
            table = "+".join(next(iter(t.values()))["TableName"] for t in params["TransactItems"])
        index = len(self.calls)
        self.calls.append(f"{name}({table})")
        if index == self.fail_at:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected fault"}}, model.name)

    def after(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if model.name == "PutEvents" and not parsed.get("FailedEntryCount"):
            entries = context.get("hc_params", {}).get("Entries", [])
            self.events.extend(json.loads(e["Detail"])["id"] for e in entries if e["DetailType"] == "ColorChanged")


HOOKS = (("provide-client-params", "params"), ("before-call", "before"), ("after-call", "after"))


def make_system(p: Provisioned, injector: Injector) -> Harness:
    for c in p.clients.values():
        for event, hook in HOOKS:
            c.meta.events.register(event, getattr(injector, hook))
    # the same holder key in every run, so the same people have the same holder ids
    p.clients["secretsmanager"].put_secret_value(SecretId=p.physical("HolderKeySecret"), SecretString=FIXED_HOLDER_KEY)
    h = Harness(p, quiet=True)
    # small key layouts keep every path's call count small (the fault goes at each call in turn); the
    # next system takes the template's values again
    os.environ.update({"DUE_SHARDS": "2", "STAY_PARTS": "2"})
    h.configure()
    h.at(START)
    return h


def with_retries(send: Callable[[], Any], tries: int = 6) -> Any:
    """A client that sends again what failed on our side (5xx), as the apps and operators do."""
    for _ in range(tries):
        r = send()
        if r.status < 500:
            return r
    return r


def settle(system: Harness) -> None:
    for _ in range(30):
        if not system.settle():
            return


# ----------------------------------------------------------------------------- the write paths

STAY = {"region": "330106", "arrived_on": "2020-02-13", "left_on": "2020-02-15"}


def apply(system: Harness) -> None:
    me = system.resident("u1")
    with_retries(lambda: me("POST", "/v1/applications", application(resident_id(seq="101"), temperature=38.2)))


def checkin_setup(system: Harness) -> None:
    apply(system)
    settle(system)
    system.at(START + timedelta(days=1))


def checkin(system: Harness) -> None:
    me = system.resident("u1")
    with_retries(lambda: me("POST", "/v1/checkins", {"temperature": 36.5, "symptoms": ["cough"]}))


def stayed(system: Harness) -> None:
    for n, seq in enumerate(("201", "202", "203")):
        body = application(resident_id(seq=seq), travel_history=[STAY])
        with_retries(lambda b=body, n=n: system.resident(f"s{n}")("POST", "/v1/applications", b))
    settle(system)


def region_level(system: Harness) -> None:
    with_retries(lambda: system.admin("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 5}))
    settle(system)


def case_list(system: Harness) -> None:
    cases = [{"id_type": "resident_id", "id_number": resident_id(seq=s), "status": "confirmed"} for s in ("201", "299")]
    r = with_retries(lambda: system.admin("POST", "/admin/v1/cases", {"cases": cases}))
    if r.status == 202 and r.json()["failed"]:  # a per-entry failure: the authority sends those entries again
        again = [cases[f["index"]] for f in r.json()["failed"]]
        with_retries(lambda: system.admin("POST", "/admin/v1/cases", {"cases": again}))
    settle(system)


def daily_setup(system: Harness) -> None:
    apply(system)  # a fever on day 0: due on day 14, when it leaves the window
    settle(system)
    system.at(START + timedelta(days=14, hours=-8))


def daily(system: Harness) -> None:
    for _ in range(6):  # EventBridge Scheduler's retry policy
        try:
            system.fire_schedule()
            break
        except ClientError:
            continue
    settle(system)


def full_run(system: Harness) -> None:
    r = with_retries(lambda: system.admin("POST", "/admin/v1/rescoring", {"scope": "all", "segments": 2}))
    assert r.status == 202, r.body
    settle(system)


def ruleset(system: Harness) -> None:
    doc = load_ruleset("v1").document | {"version": "v2", "effective_from": "2020-03-01T00:00:00+08:00"}
    r = with_retries(lambda: system.admin("POST", "/admin/v1/rulesets", {"document": doc}))
    assert r.status == 201, r.body


def partner_setup(system: Harness) -> None:
    stayed(system)
    body = {
        "name": "宁波",
        "jurisdiction": "3302",
        "scopes": ["push_risk", "push_contacts"],
        "rate_limit_per_minute": 100,
    }
    system.partner_secret = system.admin("PUT", "/admin/v1/partners/ningbo", body).json()["secret"]


def partner_call(system: Harness, method: str, path: str, body: Any) -> Any:
    raw = json.dumps(body).encode()

    def send() -> Any:
        headers = signed_headers(
            "ningbo", system.partner_secret, method, path, raw, timestamp=int(clock.now().timestamp())
        )
        return system.http(method, path, raw_body=raw.decode(), headers=headers)

    return with_retries(send)


def partner_pushes(system: Harness) -> None:
    partner_call(system, "PUT", "/partner/v1/region-risks", [{"region": "330203", "level": 4}])
    report = [
        {"id_type": "resident_id", "id_number": resident_id(seq="202"), "kind": "close_contact", "on": "2020-02-16"}
    ]
    r = partner_call(system, "POST", "/partner/v1/contact-reports", report)
    if r.status == 202 and r.json()["failed"]:
        partner_call(system, "POST", "/partner/v1/contact-reports", report)
    settle(system)


PATHS: dict[str, tuple[Callable[[Harness], None] | None, Callable[[Harness], None]]] = {
    "apply": (None, apply),
    "check-in": (checkin_setup, checkin),
    "region level": (stayed, region_level),
    "case list": (stayed, case_list),
    "daily": (daily_setup, daily),
    "full run": (stayed, full_run),
    "ruleset": (None, ruleset),
    "partner pushes": (partner_setup, partner_pushes),
}


# ----------------------------------------------------------------------------- the state compared


def snapshot(system: Harness, injector: Injector) -> dict[str, Any]:
    db = system.p.clients["dynamodb"]

    def rows(table: str) -> list[dict[str, Any]]:
        items = db.scan(TableName=system.p.physical(table))["Items"]
        return sorted(json.dumps(i, sort_keys=True) for i in items)

    holders = []
    for raw in rows("HoldersTable"):
        item = json.loads(raw)
        doc = {k: v for k, v in json.loads(item["doc"]["S"]).items() if k not in VOLATILE}
        holders.append((item["holder_id"]["S"], item["version"]["N"], item.get("sub", {}).get("S"), doc))
    history = []
    for raw in rows("HistoryTable"):
        change = json.loads(json.loads(raw)["doc"]["S"])
        history.append(
            (change["holder_id"], change["version"], change["old_color"], change["new_color"], change["cause"])
        )
    return {
        "holders": sorted(holders, key=lambda h: h[0]),
        "history": sorted(history),
        "events": sorted(set(injector.events)),
        "accounts": rows("AccountsTable"),
        "regions": rows("RegionsTable"),
        "stays": rows("StaysTable"),
        "runs": rows("RunsTable"),
        "rulesets": rows("RulesetsTable"),
    }


def run_path(aws: SharedAws, name: str, fail_at: int | None) -> tuple[dict[str, Any], list[str]]:
    setup, act = PATHS[name]
    p = aws.fresh()
    injector = Injector()
    try:
        system = make_system(p, injector)
        if setup:
            setup(system)
        injector.recording, injector.fail_at = True, fail_at
        act(system)
        injector.recording = False
        settle(system)
        return snapshot(system, injector), injector.calls
    finally:
        tear_down(aws, p, injector)


def tear_down(aws: SharedAws, p: Provisioned, injector: Injector, *more: tuple[str, Any]) -> None:
    """Take the hooks off (the injector's, and ``more``: (event, handler)) and hand the moto back."""
    for c in p.clients.values():
        for event, hook in HOOKS:
            c.meta.events.unregister(event, getattr(injector, hook))
        for event, handler in more:
            c.meta.events.unregister(event, handler)
    wiring.use(None)
    clock.set_source(lambda: datetime.now(SHANGHAI))
    aws.done()


@pytest.mark.heavy
@pytest.mark.parametrize("path", sorted(PATHS))
def test_a_fault_at_any_call_of_a_write_path_changes_nothing_in_the_end(shared_aws, path):
    expected, calls = run_path(shared_aws, path, None)
    assert calls, "the path made no AWS call: nothing was tested"
    assert expected["holders"] or expected["rulesets"], "the fault-free run changed nothing"
    assert len(expected["events"]) == len(expected["history"])  # each change published once, de-duplicated
    for index, call in enumerate(calls):
        got, _ = run_path(shared_aws, path, index)
        for part in expected:
            assert got[part] == expected[part], f"{path}: fault at call {index} ({call}) changed {part}"


# ----------------------------------------------------------------------------- retries exhausted


@dataclass
class Outage:
    """A fault that outlasts every retry: while ``active``, every call ``call`` (``service.Operation``)
    on ``resource`` made by ``function`` fails (not once: every time)."""

    function: str
    call: str
    resource: str
    active: bool = False
    current: str | None = None
    refused: int = 0

    def before(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}"
        params = context.get("hc_params", {})
        target = params.get("TableName") or params.get("QueueUrl", "")
        if self.active and self.current == self.function and name.startswith(self.call) and self.resource in target:
            self.refused += 1
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "outage"}}, model.name)


# every stream and queue consumer, with a path through it and the fault that stops it there
EXHAUSTED = {
    "holders stream → publisher (History down)": ("apply", Outage("PublishFunction", "dynamodb.PutItem", "History")),
    "holders stream → publisher (event bus down)": ("apply", Outage("PublishFunction", "events.PutEvents", "")),
    "holders stream → publisher (statistics down)": ("apply", Outage("PublishFunction", "dynamodb.PutItem", "Stats")),
    "regions stream → publisher (rescoring queue down)": (
        "region level",
        Outage("PublishFunction", "sqs.SendMessage", "RecomputeQueue"),
    ),
    "runs stream → publisher (rescoring queue down)": (
        "full run",
        Outage("PublishFunction", "sqs.SendMessage", "RecomputeQueue"),
    ),
    "rescoring queue → recompute (holders table down)": (
        "case list",
        Outage("RecomputeFunction", "dynamodb.", "Holders"),
    ),
    "notify queue → notifier (inbox down)": ("apply", Outage("NotifyFunction", "dynamodb.PutItem", "Inbox")),
}
DEAD_LETTERS = ("ChangeDeadLetters", "RecomputeDeadLetters", "NotifyDeadLetters", "ChangeReplayQueue")


def deliver_everything(system: Harness, rounds: int = 25) -> None:
    """Every consumer's deliveries and retries, as many as the template allows and more."""
    for _ in range(rounds):
        system.deliver_streams(force=True)
        system.deliver_queue()
        system.deliver_notifications()
        system.deliver_replays()


def waiting(system: Harness) -> dict[str, int]:
    sqs = system.p.clients["sqs"]
    out = {}
    for q in DEAD_LETTERS:
        attrs = sqs.get_queue_attributes(
            QueueUrl=system.p.physical(q),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        out[q] = int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])
    return out


def outlasting(aws: SharedAws, path: str, outage: Outage | None) -> tuple[dict[str, Any], dict[str, int], int]:
    """The path with ``outage`` on through every retry and one sweep, then cleared and swept again:
    the final state (with statistics and inboxes), what was dead-lettered meanwhile, and the calls refused."""
    setup, act = PATHS[path]
    p = aws.fresh()
    injector = Injector()
    fault = outage or Outage("", "", "")
    try:
        system = make_system(p, injector)
        for c in p.clients.values():
            c.meta.events.register("before-call", fault.before)
        invoke = system.invoke

        def tracked(function: str, event: dict[str, Any]) -> Any:
            fault.current = function
            try:
                return invoke(function, event)
            finally:
                fault.current = None

        system.invoke = tracked  # type: ignore[method-assign]
        if setup:
            setup(system)
        fault.active = outage is not None
        act(system)
        deliver_everything(system)  # every retry runs out while the fault lasts
        parked = waiting(system)
        system.fire_schedule("RedriveFunction")  # a sweep while it still lasts: back, and dead again
        deliver_everything(system)
        fault.active = False  # the fault clears; no operator does anything
        system.fire_schedule("RedriveFunction")
        settle(system)
        state = snapshot(system, injector)
        db = system.p.clients["dynamodb"]
        for table in ("StatsTable", "InboxTable"):
            items = db.scan(TableName=system.p.physical(table))["Items"]
            state[table] = sorted(json.dumps(i, sort_keys=True) for i in items)
        state["left on a dead-letter queue"] = {q: n for q, n in waiting(system).items() if n}
        return state, parked, fault.refused
    finally:
        tear_down(aws, p, injector, ("before-call", fault.before))


@pytest.mark.heavy
@pytest.mark.parametrize("consumer", sorted(EXHAUSTED), ids=[f"retries exhausted: {c}" for c in sorted(EXHAUSTED)])
def test_a_fault_that_outlasts_every_retry_loses_nothing_once_it_clears(shared_aws, consumer):
    path, outage = EXHAUSTED[consumer]
    expected, _, _ = outlasting(shared_aws, path, None)
    assert expected["history"] or expected["InboxTable"], "the fault-free run changed nothing"
    got, parked, refused = outlasting(shared_aws, path, outage)
    assert refused > 0, f"{consumer}: the outage refused no call: nothing was tested"
    assert any(parked.values()), f"{consumer}: nothing reached a dead-letter queue: the retries did not run out"
    for part in expected:
        assert got[part] == expected[part], f"{consumer}: {part} differs after the fault cleared"
