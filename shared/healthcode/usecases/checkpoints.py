"""Use case of checkpoints: scan a code, pass or stop from the holder's colour now."""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from healthcode.errors import FieldError, Forbidden, InvalidInput
from healthcode.i18n import N_

if TYPE_CHECKING:
    from healthcode.models import VerificationRequest, VerificationView
    from healthcode.usecases.codecheck import CodeCheck


UPLOAD_WITHIN = timedelta(hours=24)  # an offline gate's queue is uploaded within the day
CLOCK_SKEW = timedelta(minutes=2)  # a gate's clock a little ahead of ours


class Checkpoints:
    def __init__(self, codecheck: CodeCheck) -> None:
        self._check = codecheck

    def verify(self, req: VerificationRequest, by: str, allowed: Set[str], now: datetime) -> VerificationView:
        """Scan at ``req.checkpoint_id`` for account ``by``, which may scan only for the checkpoints
        its token names (``allowed``): a checkpoint is who it says it is, and the log says who scanned."""
        if req.checkpoint_id not in allowed:
            raise Forbidden(f"This account may not scan for checkpoint {req.checkpoint_id}.")
        at = req.scanned_at
        if at is not None and not (now - UPLOAD_WITHIN <= at <= now + CLOCK_SKEW):
            problem = N_("an offline scan is uploaded within 24 hours, and not from the future")
            raise InvalidInput(N_("The scan cannot be accepted."), [FieldError("scanned_at", problem)])
        return self._check(req.token, req.checkpoint_id, now, by, at)
