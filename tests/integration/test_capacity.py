"""Capacity units per operation, computed from item sizes (not timed: these are counts)."""

from __future__ import annotations

from benchmarks.capacity import CapacityMeter, item_size
from tests.people import application


def meter(system) -> CapacityMeter:
    names = {system.p.physical(k): k for k in system.p.template.of_type("AWS::DynamoDB::Table")}
    return CapacityMeter(system.p.clients["dynamodb"], system.p.template, names)


def test_item_sizes_follow_dynamodb_rules():
    assert item_size({"a": {"S": "héllo"}}) == 1 + 6
    assert item_size({"n": {"N": "12345"}}) == 1 + 4
    assert item_size({"m": {"M": {"k": {"BOOL": True}}}}) == 1 + 3 + (1 + 1 + 1)


def test_a_verification_costs_half_a_read_and_two_writes(as_deployed):
    """The scan log's item and its by_code index (a holder sees who looked at their code)."""
    system = as_deployed
    token = system.resident("u")("POST", "/v1/applications", application()).json()["token"]["value"]
    system.checkpoint({"token": token, "checkpoint_id": "warm-up"})  # the first reads the trust list
    m = meter(system)
    assert system.checkpoint({"token": token, "checkpoint_id": "gate"}).status == 200
    assert (m.usage.rru, m.usage.wru) == (0.5, 2.0)


def test_a_holder_write_that_leaves_the_indexes_alone_costs_only_the_item(system):
    me = system.resident("u")
    me("POST", "/v1/applications", application(temperature=38.2))  # yellow: in the due index
    m = meter(system)  # it learns the stored item from the check-in's own read
    before = m.usage.wru
    system.at(system.now.replace(day=system.now.day + 1))
    me("POST", "/v1/checkins", {"temperature": 36.5, "symptoms": []})
    # the item (2 KB at most) and its copy in the due index; the code index is unchanged (same colour)
    assert m.usage.wru - before <= 4
