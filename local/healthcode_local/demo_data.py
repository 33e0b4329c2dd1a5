"""Demo data for the local stack, loaded through the public HTTP API like any client would.

Region levels as in mid-February 2020: Zhejiang's counties at level 1 (the default; Zhejiang set
explicitly), Wuhan's districts at 5, other Hubei cities high, a few Zhejiang hotspots raised; and
sample holders of each colour, bound to the subjects ``demo-green``, ``demo-yellow``, ``demo-red``
(ask ``POST /dev/tokens`` for their tokens). Wencheng county's towns and its seat's villages as
registered areas (``data/areas-330328.csv``, from the china-division package) with residents in a dozen
villages: most green, a few yellow, one red, so the village colours have a spread.
"""

from __future__ import annotations

from typing import Any

from healthcode.regions import registry

WUHAN = "420100"
LEVELS = [
    ("330000", "浙江省", 1),
    *[
        (code, None, 5)
        for code in (
            "420102",
            "420103",
            "420104",
            "420105",
            "420106",
            "420107",
            "420111",
            "420112",
            "420113",
            "420114",
            "420115",
            "420116",
            "420117",
        )
    ],
    ("421100", "黄冈市", 5),
    ("420900", "孝感市", 4),
    ("330302", "鹿城区", 4),
    ("330324", "永嘉县", 3),
    ("331002", "椒江区", 3),
]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(region: str = "330102", born: str = "19900101", seq: str = "001") -> str:
    """A valid resident ID number (GB 11643 check character computed) for made-up people."""
    body = f"{region}{born}{seq}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True)) % 11]


OFFICIAL_ROLES = frozenset({"health_admin", "health_director", "auditor", "community_worker"})


def official_identity(sub: str) -> dict[str, str]:
    """The verified identity a dev token of an official carries unless one is given: a made-up person
    per account name (as the identity provider asserts one per real person). Two accounts of one person
    are made by giving both the same ``identity``."""
    import hashlib
    from datetime import date, timedelta

    n = int.from_bytes(hashlib.sha256(sub.encode()).digest()[:8], "big")
    born = (date(1960, 1, 1) + timedelta(days=(n // 1000) % 14_000)).strftime("%Y%m%d")
    return {"id_type": "resident_id", "id_number": resident_id("110101", born, f"{n % 1000:03d}")}


def demo_id(region: str, seq: int) -> str:
    return resident_id(region, "19900101", f"{seq:03d}")


def declaration(name: str, number: str, **extra: object) -> dict[str, object]:
    """A complete ``POST /v1/applications`` body with nothing to declare, plus ``extra``."""
    return {
        "name": name,
        "id_type": "resident_id",
        "id_number": number,
        "phone": "13800138000",
        "residence_region": "330102",
        "travel_history": [],
        "contact": {"kind": "none"},
        "symptoms": [],
        "temperature": 36.5,
        "attestation": True,
    } | extra


def holders(today: str, days_ago: Any) -> list[tuple[str, dict[str, object]]]:
    return [
        (
            "demo-green",
            declaration(
                "王珍波",
                demo_id("520281", 1),
                travel_history=[{"region": "520281", "arrived_on": days_ago(30), "left_on": days_ago(1)}],
            ),
        ),
        ("demo-yellow", declaration("张小明", demo_id("330106", 2), temperature=38.2)),
        (
            "demo-red",
            declaration(
                "李四",
                demo_id("420111", 3),
                travel_history=[{"region": "420111", "arrived_on": days_ago(5), "left_on": days_ago(2)}],
            ),
        ),
    ]


def load(call: Any, today: Any) -> None:
    """``call(method, path, body, sub, roles)`` -> (status, json); ``today`` the dev clock's date."""
    from datetime import timedelta

    names = registry()
    for code, name, level in LEVELS:
        region = names.get(code)
        status, body = call(
            "PUT",
            f"/admin/v1/regions/{code}",
            {"name": name or (region.name if region else code), "level": level},
            "demo-officer",
            ["health_admin"],
        )
        if status != 200:
            raise RuntimeError(f"demo region {code}: {status} {body}")
    for sub, decl in holders(today.isoformat(), lambda n: (today - timedelta(days=n)).isoformat()):
        status, body = call("POST", "/v1/applications", decl, sub, [])
        if status != 200:
            raise RuntimeError(f"demo holder {sub}: {status} {body}")
    # Wencheng's 17 towns and the 49 villages of its seat, 大峃镇 (the whole county: healthcode areas load
    # local/healthcode_local/data/areas-330328.csv; 263 requests make the start a minute slower)
    areas = [(c, n) for c, n in wencheng_areas() if len(c) == 9 or c.startswith("330328100")]
    for code, name in sorted(areas, key=lambda a: (len(a[0]), a[0])):  # towns before their villages
        status, body = call("PUT", f"/admin/v1/areas/{code}", {"name": name}, "demo-officer", ["health_admin"])
        if status != 200:
            raise RuntimeError(f"demo area {code}: {status} {body}")
    for sub, decl in villagers(areas, lambda n: (today - timedelta(days=n)).isoformat()):
        status, body = call("POST", "/v1/applications", decl, sub, [])
        if status != 200:
            raise RuntimeError(f"demo villager {sub}: {status} {body}")


def wencheng_areas() -> list[tuple[str, str]]:
    """Wencheng's towns and villages (code, name), as extracted from the china-division package."""
    import csv
    from importlib import resources

    text = resources.files("healthcode_local").joinpath("data", "areas-330328.csv").read_text("utf-8")
    return [(row["code"], row["name"]) for row in csv.DictReader(text.splitlines())]


def villagers(areas: list[tuple[str, str]], days_ago: Any) -> list[tuple[str, dict[str, object]]]:
    """36 residents of the first 12 villages: every fourth village has a resident with a fever (yellow),
    the second village a resident back from Wuhan's Hongshan district (red), everyone else green."""
    villages = [code for code, _ in areas if len(code) == 12][:12]
    out = []
    for i in range(36):
        extra: dict[str, object] = {"residence_region": "330328", "residence_area": villages[i % 12]}
        if i % 12 in (3, 7, 11) and i < 12:
            extra["temperature"] = 38.3
        if i == 1:
            extra["travel_history"] = [{"region": "420111", "arrived_on": days_ago(6), "left_on": days_ago(2)}]
        out.append((f"demo-wencheng-{i}", declaration("赵文成", demo_id("330328", 100 + i), **extra)))
    return out


def declared_identity(body: Any) -> tuple[str, str] | None:
    """The identity an honest resident's identity provider would assert for this request: the person a
    declaration names (not a dependant's declaration, which is made for someone else). Dev only."""
    if isinstance(body, dict) and "id_number" in body and not body.get("dependant"):
        return str(body["id_type"]), str(body["id_number"])
    return None
