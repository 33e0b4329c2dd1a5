"""Identity documents: checking ID numbers, the keyed holder id, masking what others may see."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from healthcode.i18n import N_

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_RESIDENT_ID = re.compile(r"^\d{17}[\dX]$")
_OTHER_ID = re.compile(r"^[A-Z0-9]{5,20}$")


class IdType(StrEnum):
    RESIDENT_ID = "resident_id"  # 居民身份证, GB 11643
    PASSPORT = "passport"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    FOREIGN_PERMANENT_RESIDENT_ID = "foreign_permanent_resident_id"


def normalize_id_number(number: str) -> str:
    return number.strip().upper()


def resident_id_problem(number: str, today: date) -> str | None:
    """Why an 18-character resident ID number is not valid, or None when it is.

    Checks the form, the ISO 7064 MOD 11-2 check character and that positions 7-14 are a real
    birth date that is not in the future.
    """
    if len(number) != 18:
        return N_("a resident ID number has 18 characters")
    if not _RESIDENT_ID.match(number):
        return N_("a resident ID number is 17 digits followed by a digit or X")
    total = sum(int(c) * w for c, w in zip(number[:17], _WEIGHTS, strict=True))
    if _CHECK[total % 11] != number[17]:
        return N_("the check character does not match (ISO 7064 MOD 11-2)")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return N_("the birth date in the ID number is not a real date")
    if born > today or born.year < 1890:
        return N_("the birth date in the ID number is in the future or implausibly old")
    return None


def id_number_problem(id_type: IdType, number: str, today: date) -> str | None:
    if id_type is IdType.RESIDENT_ID:
        return resident_id_problem(number, today)
    if not _OTHER_ID.match(number):
        return N_("expected 5 to 20 letters or digits")
    return None


def holder_id(key: bytes, id_type: IdType | str, number: str) -> str:
    """The holder's table key: a keyed hash of id type + number, so a table dump reveals no ID number."""
    mac = hmac.new(key, f"{id_type}:{normalize_id_number(number)}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


# Control, format (bidi overrides, zero-width), surrogate, private-use, unassigned, line/paragraph separators
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def name_problem(name: str) -> str | None:
    """Why a name cannot be shown as it is (it would hide or reorder what a checkpoint reads), or None."""
    bad = sorted({f"U+{ord(c):04X}" for c in name if unicodedata.category(c) in _HIDDEN})
    if bad:
        return N_("must not contain control, bidi or zero-width characters ({listed})").format(listed=", ".join(bad[:5]))
    if not name.strip():
        return N_("must not be blank")
    return None


def mask_name(name: str) -> str:
    """王珍波 -> 王*波, 王波 -> 王*, 王 -> 王*, John Smith -> J********h: what a checkpoint or partner sees.

    Always one visible character first, then at least one ``*``.
    """
    name = name.strip()
    if len(name) <= 2:
        return name[:1] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(number: str) -> str:
    """330102199001011234 -> 3***************34: enough for a community worker to match the card in
    front of them, not enough to reconstruct the number (the 2020 apps showed about as much)."""
    n = normalize_id_number(number)
    if len(n) <= 4:
        return "*" * len(n)
    return n[0] + "*" * (len(n) - 3) + n[-2:]


def mask_phone(phone: str) -> str:
    digits = phone.strip()
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def concerns(person: str, holder_id_: str, guardian: str | None, person_account: str | None) -> bool:
    """Whether an act on the holder ``holder_id_`` (applied for by the account ``guardian``, if a
    dependant) concerns ``person`` — the keyed hash of an official's verified identity, which is their own
    holder id — whose own resident account is ``person_account``: their own code, or a dependant's."""
    return holder_id_ == person or (guardian is not None and person_account is not None and guardian == person_account)


@dataclass(frozen=True, slots=True)
class Official:
    """An official acting: the account, the person behind it (the keyed hash of the identity provider's
    verified identity, None when the token carries none) and the roles. Dual control compares persons:
    two accounts of one person are one person."""

    sub: str
    person: str | None
    roles: frozenset[str] = frozenset()
