"""Use case of checkpoints: scan a code, pass or stop from the holder's colour now."""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime
from typing import TYPE_CHECKING

from healthcode.errors import Forbidden

if TYPE_CHECKING:
    from healthcode.models import VerificationRequest, VerificationView
    from healthcode.usecases.codecheck import CodeCheck


class Checkpoints:
    def __init__(self, codecheck: CodeCheck) -> None:
        self._check = codecheck

    def verify(self, req: VerificationRequest, by: str, allowed: Set[str], now: datetime) -> VerificationView:
        """Scan at ``req.checkpoint_id`` for account ``by``, which may scan only for the checkpoints
        its token names (``allowed``): a checkpoint is who it says it is, and the log says who scanned."""
        if req.checkpoint_id not in allowed:
            raise Forbidden(f"This account may not scan for checkpoint {req.checkpoint_id}.")
        return self._check(req.token, req.checkpoint_id, now, by)
