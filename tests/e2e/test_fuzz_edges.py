"""Fuzzing the edges schemathesis does not reach: JSON nested to any depth and header bytes of any kind,
on every documented operation of the running local stack. Nothing answers 5xx."""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthcode_local.openapi import OUTPUT

OPERATIONS = [
    (method.upper(), re.sub(r"\{[^}]+\}", "330106", path))
    for path, ops in json.loads(OUTPUT.read_text(encoding="utf-8"))["paths"].items()
    for method in ops
]
VALID_HEADER = re.compile(rb"(\S[^\r\n]*)?")  # what HTTP lets a client send at all
ODD_BYTES = st.binary(min_size=0, max_size=40).filter(lambda b: VALID_HEADER.fullmatch(b) is not None)


def nested(depth: int, leaf: str) -> str:
    return "[" * depth + leaf + "]" * depth if depth % 2 else '{"a":' * depth + leaf + "}" * depth


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    operation=st.sampled_from(OPERATIONS),
    depth=st.one_of(st.integers(1, 40), st.integers(1000, 25_000)),
    leaf=st.sampled_from(['"x"', "1", "null", '"\\u202e"', "1e999"]),
    header=st.sampled_from(
        ["content-type", "x-hc-signature", "x-hc-nonce", "x-hc-timestamp", "x-hc-partner", "idempotency-key"]
    ),
    value=ODD_BYTES,
    as_role=st.sampled_from([(), ("checkpoint",), ("health_admin",)]),
)
def test_any_nesting_and_any_header_bytes_get_a_4xx_never_a_5xx(stack, operation, depth, leaf, header, value, as_role):
    method, path = operation
    token = stack.token("edge-fuzzer", *as_role)
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json", header: value}
    r = stack.http.request(
        method, f"{stack.base}{path}", data=nested(depth, leaf).encode(), headers=headers, timeout=30
    )
    assert r.status_code < 500, (method, path, depth, header, value, r.status_code, r.text[:300])
