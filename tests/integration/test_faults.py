"""Injected faults: DynamoDB throttling on each write path, idempotent retries after a timeout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
from moto.dynamodb.models import DynamoDBBackend

from tests.people import application, resident_id


class ThrottlingError(DynamodbException):  # a transaction's cancellation reason says ThrottlingError
    def __init__(self) -> None:
        super().__init__(
            ERROR_TYPE_PREFIX + "ProvisionedThroughputExceededException",
            message="The level of configured provisioned throughput for the table was exceeded.",
        )


class Throttle:
    """DynamoDB (moto) refuses the first ``times`` writes to one table with a throttling error.

    The fault is inside the service, so the SDK's own retries with backoff really run."""

    def __init__(self, system, operation: str, table_logical: str, times: int) -> None:
        self.table, self.times, self.seen = system.p.physical(table_logical), times, 0
        self.method = {"PutItem": "put_item", "UpdateItem": "update_item", "Query": "query"}[operation]
        self.original = getattr(DynamoDBBackend, self.method)
        throttle = self

        def refusing(backend, table_name, *args, **kwargs):
            if table_name == throttle.table and throttle.seen < throttle.times:
                throttle.seen += 1
                raise ThrottlingError()
            return throttle.original(backend, table_name, *args, **kwargs)

        setattr(DynamoDBBackend, self.method, refusing)

    def remove(self):
        setattr(DynamoDBBackend, self.method, self.original)


@pytest.fixture
def throttle(system):
    made = []

    def make(operation, table, times):
        made.append(Throttle(system, operation, table, times))
        return made[-1]

    yield make
    for t in made:
        t.remove()


def test_a_brief_throttle_is_retried_and_the_application_succeeds(system, throttle):
    t = throttle("PutItem", "HoldersTable", times=2)
    r = system.resident("u")("POST", "/v1/applications", application())
    assert r.status == 200 and t.seen == 2
    assert len(system.holder_items()) == 1


def test_a_persistent_throttle_on_apply_is_a_503_with_retry_after_and_no_holder(system, throttle):
    throttle("PutItem", "HoldersTable", times=99)
    r = system.resident("u")("POST", "/v1/applications", application())
    assert r.status == 503 and r.headers["retry-after"] == "2"
    assert r.headers["content-type"] == "application/problem+json"
    assert system.holder_items() == []


def test_a_persistent_throttle_on_check_in_leaves_the_holder_as_it_was(system, throttle):
    me = system.resident("u")
    me("POST", "/v1/applications", application(temperature=38.2))
    before = system.holder_items()
    throttle("PutItem", "HoldersTable", times=99)
    system.at(system.now + timedelta(days=1))
    r = me("POST", "/v1/checkins", {"temperature": 36.5, "symptoms": []})
    assert r.status == 503 and "retry-after" in r.headers
    assert system.holder_items() == before


def test_a_persistent_throttle_on_the_scan_log_is_a_503(system, throttle):
    token = system.resident("u")("POST", "/v1/applications", application()).json()["token"]["value"]
    throttle("PutItem", "ScansTable", times=99)
    r = system.checkpoint({"token": token, "checkpoint_id": "gate"})
    assert r.status == 503 and r.headers["retry-after"] == "2"


def test_a_persistent_throttle_on_admin_writes_changes_nothing(system, throttle):
    throttle("UpdateItem", "RegionsTable", times=99)
    r = system.admin("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 5})
    assert r.status == 503
    items = system.p.clients["dynamodb"].scan(TableName=system.p.physical("RegionsTable"))["Items"]
    assert [i for i in items if i["code"]["S"] != "snapshot#levels"] == []  # no level, and none in the snapshot
    assert all(i["levels"]["M"] == {} for i in items)
    sqs = system.p.clients["sqs"]
    assert "Messages" not in sqs.receive_message(QueueUrl=system.p.physical("RecomputeQueue"))


def test_a_throttled_recompute_message_stays_on_the_queue_and_succeeds_later(system, throttle):
    system.resident("u")(
        "POST",
        "/v1/applications",
        application(travel_history=[{"region": "330106", "arrived_on": "2020-02-13", "left_on": "2020-02-16"}]),
    )
    system.admin("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 5})
    t = throttle("PutItem", "HoldersTable", times=99)
    # the region's message and its county's walkers go through; the page of holders fails and stays
    parts = int(system.template.doc["Globals"]["Function"]["Environment"]["Variables"]["STAY_PARTS"])
    assert system.deliver_queue() == 1 + parts
    t.remove()
    assert system.deliver_queue() == 1
    assert system.resident("u")("GET", "/v1/codes/me").json()["color"] == "red"


def test_an_apply_retried_after_a_client_timeout_returns_the_first_answer_and_writes_once(system):
    me = system.resident("u")
    writes = []
    db = system.p.clients["dynamodb"]
    holders = system.p.physical("HoldersTable")

    def hook(params, **kw):  # a holder write, alone or in a transaction with its account
        tables = [params.get("TableName")] + [
            next(iter(t.values()))["TableName"] for t in params.get("TransactItems", [])
        ]
        writes.extend(1 for t in tables if t == holders)

    for operation in ("PutItem", "TransactWriteItems"):
        db.meta.events.register(f"provide-client-params.dynamodb.{operation}", hook)
    first = me("POST", "/v1/applications", application(), headers={"Idempotency-Key": "retry-me"})
    # the app timed out waiting and sends the same request again
    again = me("POST", "/v1/applications", application(), headers={"Idempotency-Key": "retry-me"})
    for operation in ("PutItem", "TransactWriteItems"):
        db.meta.events.unregister(f"provide-client-params.dynamodb.{operation}", hook)
    assert again.json() == first.json() and len(writes) == 1


def test_a_throttled_holder_read_degrades_verify_to_the_codes_signed_colour_not_a_503(system, throttle):
    # Given a green holder's code and a yellow holder's code, shown at a gate
    green = system.resident("g")("POST", "/v1/applications", application(resident_id(seq="401"))).json()
    yellow = system.resident("y")(
        "POST", "/v1/applications", application(resident_id(seq="402"), temperature=38.3)
    ).json()
    # When the holders table sheds every read past the SDK's retries
    throttle("Query", "HoldersTable", times=99)
    for view, decision in ((green, "pass"), (yellow, "stop")):
        r = system.checkpoint({"token": view["token"]["value"], "checkpoint_id": "gate-1"})
        # Then the checkpoint still gets an answer, from the colour the code was signed with, and is told so
        assert r.status == 200, r.body
        seen = r.json()
        assert (seen["decision"], seen["code_status"], seen["degraded"]) == (decision, "valid_offline", True)
        assert "offline" in seen["instruction"]
