"""Use case of checkpoints: scan a code, pass or stop from the holder's colour now."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from healthcode.models import VerificationRequest, VerificationView
    from healthcode.usecases.codecheck import CodeCheck


class Checkpoints:
    def __init__(self, codecheck: CodeCheck) -> None:
        self._check = codecheck

    def verify(self, req: VerificationRequest, now: datetime) -> VerificationView:
        return self._check(req.token, req.checkpoint_id, now)
