"""Use case of checkpoints: scan a code, pass or stop from the holder's colour now."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from healthcode.models import VerificationRequest, VerificationView
from healthcode.scoring import Color

if TYPE_CHECKING:
    from healthcode.keys import KeyRing
    from healthcode.store import HolderRepository, ScanLog

INSTRUCTIONS = {
    Color.GREEN: "Pass.",
    Color.YELLOW: "Stop: yellow code. Do not let in; the holder must go to home quarantine (up to 7 days).",
    Color.RED: "Stop: red code. Do not let in; keep distance and call the community health officer for centralized quarantine.",
}
UNUSABLE = {
    "expired": "Stop: this code has expired. Ask the holder to refresh the code in the app and scan again.",
    "invalid_signature": "Stop: this code is forged or altered. Do not let in; report it.",
    "unknown_issuer": "Stop: this code was not issued by a recognised health code service.",
    "unknown_code": "Stop: no holder has this code. Ask the holder to open the code in the app again.",
    "malformed": "Stop: this is not a health code. Ask the holder to open the code in the app.",
}


class Checkpoints:
    """Scan a code: pass or stop, from the holder's colour now."""

    def __init__(
        self,
        holders: HolderRepository,
        scans: ScanLog,
        keys: KeyRing,
        partner_issuers: Callable[..., dict[str, Any]] | None = None,
    ) -> None:
        self._holders = holders
        self._scans = scans
        self._keys = keys
        self._partner_issuers = partner_issuers or (lambda refresh=False: {})

    def verify(self, req: VerificationRequest, now: datetime) -> VerificationView:
        partners = self._partner_issuers()
        check = self._keys.verifier(partners).check(req.token, now)
        if check.status == "unknown_issuer":  # perhaps a partner registered a moment ago
            partners = self._partner_issuers(refresh=True)
            check = self._keys.verifier(partners).check(req.token, now)
        if check.unknown_kid:
            check = self._keys.verifier(partners, refresh=True).check(req.token, now)
        color: Color | None = None
        masked: str | None = None
        status = check.status
        if status == "valid" and check.issuer in partners:
            # a partner city's code (mutual recognition): its colour and expiry are what we know
            color = Color(check.color) if check.color in {c.value for c in Color} else None
            status = status if color is not None else "malformed"
        elif status == "valid":
            assert check.code_id is not None
            record = self._holders.code_status(check.code_id)
            if record is None:
                status = "unknown_code"
            else:
                color, masked = Color(record.color), record.masked_name
        self._scans.record(req.checkpoint_id, check.code_id or "-", color.value if color else None, status, now)
        if color is not None:
            decision = "pass" if color is Color.GREEN else "stop"
            instruction = INSTRUCTIONS[color]
            if check.color and check.color != color.value:
                instruction += f" The code shown says {check.color}; the holder's colour is now {color.value}."
        else:
            decision, instruction = "stop", UNUSABLE[status]
        return VerificationView(
            decision=decision,
            color=color,
            code_status=status,  # type: ignore[arg-type]
            instruction=instruction,
            masked_name=masked,
            checked_at=now,
            issuer=check.issuer,
        )
