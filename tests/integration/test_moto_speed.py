"""The local stack's speed-ups to moto change nothing it answers: a cancelled transaction leaves every
item it named as it was and adds no stream record; a committed one writes all of them; a queue hands out
what it holds until its retention period ends."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def _stream_records(system, logical: str) -> int:
    streams = system.p.clients["dynamodbstreams"]
    arn = system.p.resolver.attrs[f"{logical}.StreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return len(streams.get_records(ShardIterator=it["ShardIterator"], Limit=1000)["Records"])


def test_a_cancelled_transaction_changes_no_item_and_leaves_no_stream_record(system):
    db = system.p.clients["dynamodb"]
    holders, regions = system.p.physical("HoldersTable"), system.p.physical("RegionsTable")
    db.put_item(TableName=holders, Item={"holder_id": {"S": "h1"}, "version": {"N": "1"}, "doc": {"S": "old"}})
    before = _stream_records(system, "HoldersTable")
    with pytest.raises(ClientError) as refused:
        db.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": holders, "Item": {"holder_id": {"S": "h1"}, "version": {"N": "2"}, "doc": {"S": "new"}}}},
                {"Put": {"TableName": holders, "Item": {"holder_id": {"S": "h2"}, "version": {"N": "1"}, "doc": {"S": "x"}}}},
                {"Put": {"TableName": regions, "Item": {"code": {"S": "330106"}}, "ConditionExpression": "attribute_exists(code)"}},
            ]
        )
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert db.get_item(TableName=holders, Key={"holder_id": {"S": "h1"}})["Item"]["doc"]["S"] == "old"
    assert "Item" not in db.get_item(TableName=holders, Key={"holder_id": {"S": "h2"}})
    assert "Item" not in db.get_item(TableName=regions, Key={"code": {"S": "330106"}})
    assert _stream_records(system, "HoldersTable") == before

    db.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": holders, "Item": {"holder_id": {"S": "h1"}, "version": {"N": "2"}, "doc": {"S": "new"}}}},
            {"Put": {"TableName": regions, "Item": {"code": {"S": "330106"}}}},
        ]
    )
    assert db.get_item(TableName=holders, Key={"holder_id": {"S": "h1"}})["Item"]["doc"]["S"] == "new"
    assert "Item" in db.get_item(TableName=regions, Key={"code": {"S": "330106"}})
    assert _stream_records(system, "HoldersTable") == before + 1


def test_a_queue_hands_out_each_message_once_it_is_sent(system):
    sqs = system.p.clients["sqs"]
    url = system.p.physical("RecomputeQueue")
    for n in range(25):
        sqs.send_message(QueueUrl=url, MessageBody=str(n))
    got = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        got += [m["Body"] for m in batch]
    assert sorted(got, key=int) == [str(n) for n in range(25)]
