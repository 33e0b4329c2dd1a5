"""Test identities: valid resident ID numbers (GB 11643 check digit computed, not typed)."""

from __future__ import annotations

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(region: str = "330102", born: str = "19850312", seq: str = "123") -> str:
    body = f"{region}{born}{seq}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True)) % 11]


def application(id_number: str | None = None, **overrides):
    body = {
        "name": "王珍波",
        "id_type": "resident_id",
        "id_number": id_number or resident_id(),
        "phone": "13800138000",
        "residence_region": "330102",
        "travel_history": [],
        "contact": {"kind": "none"},
        "symptoms": [],
        "temperature": 36.5,
        "attestation": True,
    }
    body.update(overrides)
    return body
