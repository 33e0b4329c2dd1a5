"""The capacity meter against worked examples of DynamoDB's published rules (read and write request
units): if the meter is lenient, every figure in the capacity plan is too."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from benchmarks.capacity import CapacityMeter

TABLE = {
    "Type": "AWS::DynamoDB::Table",
    "Properties": {
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    },
}


@pytest.fixture
def db():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "g", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by_g",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def meter(db) -> CapacityMeter:
    return CapacityMeter(db, SimpleNamespace(resources={"T": TABLE}), {"t": "T"})


def item(key: str, size: int, **extra) -> dict:
    """An item of exactly ``size`` bytes (attribute names count: pk=1+len(key), d=1+len)."""
    base = {"pk": {"S": key}, **{k: {"S": v} for k, v in extra.items()}}
    used = sum(len(k) + len(v["S"]) for k, v in base.items())
    return base | {"d": {"S": "x" * (size - used - 1)}}


def units(m: CapacityMeter, fn) -> tuple[float, float]:
    before = m.usage.copy()
    with contextlib.suppress(m._shadow.exceptions.ClientError):
        fn()
    used = m.usage - before
    return used.rru, used.wru


def test_reads_round_each_item_up_to_4_kb_and_halve_for_eventual_consistency(db):
    db.put_item(TableName="t", Item=item("a", 3500))
    db.put_item(TableName="t", Item=item("b", 10 * 1024))
    m = meter(db)
    assert units(m, lambda: db.get_item(TableName="t", Key={"pk": {"S": "a"}}, ConsistentRead=True)) == (1, 0)
    assert units(m, lambda: db.get_item(TableName="t", Key={"pk": {"S": "a"}})) == (0.5, 0)
    assert units(m, lambda: db.get_item(TableName="t", Key={"pk": {"S": "b"}}, ConsistentRead=True)) == (3, 0)
    # nothing found still costs a read
    assert units(m, lambda: db.get_item(TableName="t", Key={"pk": {"S": "zz"}}, ConsistentRead=True)) == (1, 0)
    # a projection returns less, but the whole item was read
    assert units(
        m, lambda: db.get_item(TableName="t", Key={"pk": {"S": "b"}}, ProjectionExpression="pk", ConsistentRead=True)
    ) == (3, 0)


def test_batch_get_rounds_every_item_on_its_own(db):
    # the documentation's example: 1.5 KB and 6.5 KB are 4 KB + 8 KB = 12 KB, not 8 KB
    db.put_item(TableName="t", Item=item("a", 1536))
    db.put_item(TableName="t", Item=item("b", 6656))
    m = meter(db)
    keys = {"t": {"Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "b"}}], "ConsistentRead": True}}
    assert units(m, lambda: db.batch_get_item(RequestItems=keys)) == (3, 0)
    keys["t"]["ConsistentRead"] = False
    assert units(m, lambda: db.batch_get_item(RequestItems=keys)) == (1.5, 0)


def test_a_query_pays_for_what_it_evaluated_not_what_the_filter_let_through(db):
    for i in range(5):
        db.put_item(TableName="t", Item=item(f"q{i}", 2048, g="one"))
    m = meter(db)
    whole = units(
        m,
        lambda: db.query(
            TableName="t",
            IndexName="by_g",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "one"}},
        ),
    )
    assert whole == (1.5, 0)  # 10 KB summed, rounded once to 12 KB, eventually consistent (an index)
    filtered = units(
        m,
        lambda: db.query(
            TableName="t",
            IndexName="by_g",
            KeyConditionExpression="g = :g",
            FilterExpression="pk = :nobody",
            ProjectionExpression="pk",
            ExpressionAttributeValues={":g": {"S": "one"}, ":nobody": {"S": "-"}},
        ),
    )
    assert filtered == whole


def test_writes_pay_for_the_larger_of_before_and_after_in_1_kb_units(db):
    m = meter(db)
    assert units(m, lambda: db.put_item(TableName="t", Item=item("w", 1536))) == (0, 2)
    grow = {":d": {"S": "y" * 2500}}
    assert units(
        m,
        lambda: db.update_item(
            TableName="t", Key={"pk": {"S": "w"}}, UpdateExpression="SET d = :d", ExpressionAttributeValues=grow
        ),
    ) == (0, 3)
    # a one-byte attribute added to a 2.5 KB item still writes the whole item
    assert units(
        m,
        lambda: db.update_item(
            TableName="t",
            Key={"pk": {"S": "w"}},
            UpdateExpression="SET z = :z",
            ExpressionAttributeValues={":z": {"S": "1"}},
        ),
    ) == (0, 3)
    assert units(m, lambda: db.delete_item(TableName="t", Key={"pk": {"S": "w"}})) == (0, 3)
    assert units(m, lambda: db.delete_item(TableName="t", Key={"pk": {"S": "never"}})) == (0, 1)


def test_a_failed_condition_costs_the_existing_item_or_one_unit(db):
    db.put_item(TableName="t", Item=item("c", 3 * 1024))
    m = meter(db)
    assert units(
        m, lambda: db.put_item(TableName="t", Item=item("c", 100), ConditionExpression="attribute_not_exists(pk)")
    ) == (0, 3)
    assert units(
        m,
        lambda: db.update_item(
            TableName="t",
            Key={"pk": {"S": "none"}},
            UpdateExpression="SET z = :z",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":z": {"S": "1"}},
        ),
    ) == (0, 1)


def test_index_writes_follow_the_item_into_and_across_the_index(db):
    m = meter(db)
    # 1.2 KB into the table and into the index (ALL projection): 2 + 2
    assert units(m, lambda: db.put_item(TableName="t", Item=item("i", 1229, g="a"))) == (0, 4)
    # the index key changes: the old index entry is deleted and a new one put: 2 + 2 + 2
    assert units(m, lambda: db.put_item(TableName="t", Item=item("i", 1229, g="b"))) == (0, 6)
    # out of the (sparse) index: table 2 + index delete 2
    assert units(m, lambda: db.put_item(TableName="t", Item=item("i", 1229))) == (0, 4)
    # units are kept per partition key value too (the heat figure)
    assert m.usage.by_key[("t/by_g", repr({"S": "b"}), "w")] == 4


def test_transactions_cost_double_and_a_cancelled_one_still_costs(db):
    m = meter(db)
    put = {"Put": {"TableName": "t", "Item": item("x", 1536), "ConditionExpression": "attribute_not_exists(pk)"}}
    assert units(m, lambda: db.transact_write_items(TransactItems=[put])) == (0, 4)
    assert units(m, lambda: db.transact_write_items(TransactItems=[put])) == (0, 4)  # cancelled: 2 × 2 KB existing


def test_every_client_that_reaches_dynamodb_is_metered(db):
    db.put_item(TableName="t", Item=item("r", 100))
    m = meter(db)
    resource = boto3.resource("dynamodb", region_name="us-east-1")
    m.watch(resource.meta.client)
    assert units(m, lambda: resource.Table("t").get_item(Key={"pk": "r"})) == (0.5, 0)
