"""Reading a scanned code: the signature, the issuer (ours or a partner city's), the holder's colour
now, the instruction for the person at the gate, and the scan log entry. A collaborator shared by the
checkpoint and partner-city use cases."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger

from healthcode.adapters.base import is_throttling
from healthcode.i18n import N_
from healthcode.models import Task, VerificationView
from healthcode.scoring.rules import Color, rank

logger = Logger(child=True)

if TYPE_CHECKING:
    from healthcode.adapters.base import HolderRepository, Keys, PartnerDirectory, ScanLog, TaskBoard
    from healthcode.models import CodeRecord

# What the person at the gate reads: English templates, answered in the checkpoint's language (healthcode.i18n)
INSTRUCTIONS = {
    Color.GREEN: N_("Pass."),
    Color.YELLOW: N_("Stop: yellow code. Do not let in; the holder must go to home quarantine (up to 7 days)."),
    Color.RED: N_(
        "Stop: red code. Do not let in; keep distance and call the community health officer for centralized quarantine."
    ),
}
OFFLINE = N_(
    "{instruction} Checked offline (the service is busy): this is the colour the code was issued with,"
    " a few minutes ago at most."
)
CHANGED = N_("{instruction} The code shown says {shown}; the holder's colour is now {now}.")
COLORS = (N_("green"), N_("yellow"), N_("red"))
UNUSABLE = {
    "expired": N_("Stop: this code has expired. Ask the holder to refresh the code in the app and scan again."),
    "invalid_signature": N_("Stop: this code is forged or altered. Do not let in; report it."),
    "unknown_issuer": N_("Stop: this code was not issued by a recognised health code service."),
    "unknown_code": N_("Stop: no holder has this code. Ask the holder to open the code in the app again."),
    "malformed": N_("Stop: this is not a health code. Ask the holder to open the code in the app."),
}


LATE_ACK_WITHIN = timedelta(hours=2)  # as a red holder's task: the county sees it after that


class CodeCheck:
    """Scan a code: pass or stop, from the holder's colour now."""

    def __init__(
        self,
        holders: HolderRepository,
        scans: ScanLog,
        keys: Keys,
        partners: PartnerDirectory | None,
        tasks: TaskBoard | None = None,
    ) -> None:
        """``tasks``: where a late catch goes (a holder let through offline whose colour had turned since)."""
        self._holders = holders
        self._scans = scans
        self._keys = keys
        self._partners = partners
        self._tasks = tasks

    def __call__(
        self, token: str, checkpoint_id: str, now: datetime, by: str, scanned_at: datetime | None = None
    ) -> VerificationView:
        """Read ``token`` at ``checkpoint_id``; ``by`` (who scanned) goes into the scan log. ``scanned_at``:
        a scan the gate checked offline, uploaded now: the code is judged (expiry) as of then and logged
        then; the colour answered is the holder's now (a change since is caught, late but kept).

        Nothing here scans a table or fetches a URL: the partner trust list is a cached snapshot (a
        partner registered a moment ago is recognised within its max age)."""
        partners = self._partners.trusted_issuers() if self._partners is not None else {}
        at = scanned_at or now
        check = self._keys.verifier(partners).check(token, at)
        if check.unknown_kid:
            check = self._keys.verifier(partners, refresh=True).check(token, at)
        color: Color | None = None
        masked: str | None = None
        degraded = False
        status = check.status
        if status == "valid" and check.issuer in partners:
            # a partner city's code (mutual recognition): its colour and expiry are what we know
            color = Color(check.color) if check.color in {c.value for c in Color} else None
            status = status if color is not None else "malformed"
        elif status == "valid":
            assert check.code_id is not None
            try:
                record = self._holders.code_status(check.code_id)
            except Exception as exc:
                if not is_throttling(exc):
                    raise
                # Degrade, don't fall over: the holder's colour now cannot be read, so the colour the
                # code was signed with (at most its lifetime old) decides, and the answer says so.
                degraded = True
                color = Color(check.color) if check.color in {c.value for c in Color} else None
                status = "valid_offline" if color is not None else "malformed"
            else:
                if record is None:
                    status = "unknown_code"
                else:
                    color, masked = Color(record.color), record.masked_name
                    if scanned_at is not None and check.color in {c.value for c in Color}:
                        self._caught_late(record, Color(str(check.color)), color, checkpoint_id, scanned_at, now)
        try:
            # an unusable code has no id: a digest of what was scanned tells two of them apart in the log
            code = check.code_id or "-" + hashlib.sha256(token.encode()).hexdigest()[:16]
            self._scans.record(checkpoint_id, code, color.value if color else None, status, at, by)
        except Exception as exc:
            if not (degraded and is_throttling(exc)):
                raise
            logger.warning(  # the table is shedding load: the scan is kept in the log instead
                "scan not logged (throttled)",
                extra={"checkpoint_id": checkpoint_id, "code_id": check.code_id, "status": status, "by": by},
            )
        if color is not None:
            decision = "pass" if color is Color.GREEN else "stop"
            instruction = INSTRUCTIONS[color]
            if degraded:
                instruction = OFFLINE.format(instruction=instruction)
            elif check.color and check.color != color.value:
                instruction = CHANGED.format(instruction=instruction, shown=check.color, now=color.value)
        else:
            decision, instruction = "stop", UNUSABLE[status]
        return VerificationView.model_validate(
            {
                "decision": decision,
                "color": color,
                "code_status": status,
                "instruction": instruction,
                "masked_name": masked,
                "checked_at": now,
                "issuer": check.issuer,
                "degraded": degraded,
            }
        )

    def _caught_late(
        self, record: CodeRecord, shown: Color, now_color: Color, checkpoint_id: str, scanned_at: datetime, now: datetime
    ) -> None:
        """A gate let a holder through offline on the colour the code was signed with, and the holder's
        colour had turned worse since: the checkpoint's promise to catch changes, kept late — the
        community office of the holder's county gets a task (once per code, gate and minute)."""
        if self._tasks is None or rank(now_color) <= rank(shown):
            return
        holder = self._holders.get(record.holder_id)
        if holder is None or not holder.residence_region:
            return
        minute = scanned_at.astimezone(UTC).strftime("%Y%m%dT%H%M")
        self._tasks.add(
            Task(
                task_id=f"late-scan.{holder.code_id}.{checkpoint_id}.{minute}",
                office=holder.residence_region,
                holder_id=holder.holder_id,
                masked_name=record.masked_name,
                color=now_color.value,
                old_color=shown.value,
                changed_at=now,
                escalate_at=now + LATE_ACK_WITHIN,
                kind="late_scan",
            )
        )

