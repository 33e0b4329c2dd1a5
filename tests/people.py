"""Test identities and declarations: the same made-up people the demo data uses."""

from __future__ import annotations

from healthcode_local.demo_data import declaration
from healthcode_local.demo_data import resident_id as _resident_id


def resident_id(region: str = "330102", born: str = "19850312", seq: str = "123") -> str:
    return _resident_id(region, born, seq)


def application(id_number: str | None = None, **overrides):
    return declaration("王珍波", id_number or resident_id()) | overrides
