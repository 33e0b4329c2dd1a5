"""moto, made fast enough for a whole system on one machine, without changing what it answers.

* ``SQSBackend.receive_message`` asks, for every message it hands out, whether the message is still
  within its queue's retention period, and moto answers that by computing every attribute of the queue,
  three of which count the queue's messages: one receive cost the square of the queue's length (a level
  set on a province queues hundreds of messages). Here the retention period is read from the queue.
* ``transact_write_items`` deep-copies every table a transaction touches before it starts, to put the
  copy back if the transaction is cancelled: each application cost a copy of the holders table, and a
  session of the local stack slowed down as its tables grew (an apply took 80 ms at 250 holders). Here
  only the items the transaction names are kept, and put back (with the stream records the cancelled
  transaction had added) when it is cancelled: the same state afterwards, as DynamoDB's own all or
  nothing, in time that does not grow with the table.
"""

from __future__ import annotations

import copy
from typing import Any

_applied = False


def apply() -> None:
    """Patch moto once per process (the local stack and the tests' harness both call it)."""
    global _applied
    if _applied:
        return
    import moto.dynamodb.models as dynamodb_models
    from moto.core.utils import unix_time
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(self: SQSBackend, queue_name: str, message: Any) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)  # type: ignore[attr-defined]
        return bool(retention + message.sent_timestamp / 1000 > unix_time())

    class _NoTableCopies:
        """``copy`` as moto's DynamoDB backend sees it: a table is not copied (its items are, below)."""

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    transact = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[Table, Any, Any, Any]] = []  # (table, hash, range, the item before or None)
        streams: dict[int, tuple[Table, int]] = {}
        for entry in transact_items:
            try:
                op_type, op = next(iter(entry.items()))
                table = self.tables[op["TableName"]]
                if op_type == "Put":
                    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = op["Item"][table.range_key_attr]
                else:
                    key = op["Key"]
                hash_value, range_value = self.get_keys_value(table, key)
            except Exception:  # a malformed entry: moto's own checks answer for it
                continue
            before = table.get_item(hash_value, range_value)
            saved.append((table, hash_value, range_value, copy.deepcopy(before)))
            if table.stream_shard is not None:
                streams.setdefault(id(table), (table, len(table.stream_shard.items)))
        try:
            transact(self, transact_items)
        except Exception:
            for table, hash_value, range_value, before in reversed(saved):
                if range_value is not None:
                    if before is None:
                        table.items[hash_value].pop(range_value, None)
                    else:
                        table.items[hash_value][range_value] = before
                elif before is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = before
            for table, length in streams.values():  # a cancelled transaction leaves no stream record
                del table.stream_shard.items[length:]  # type: ignore[union-attr]
            raise

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]
    dynamodb_models.copy = _NoTableCopies  # type: ignore[assignment]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _applied = True
