"""A holder's rights over their data: a copy of it (PIPL art. 45)."""

from datetime import datetime
from typing import Any

from pydantic import Field

from healthcode.models._base import _Response
from healthcode.models.accountability import AppealView, ColorChangeView
from healthcode.models.notices import NotificationView
from healthcode.models.resident import ScanSeenView

# ----------------------------------------------------------------------------- privacy


class HolderExport(_Response):
    record: dict[str, Any] = Field(description="the stored record: declarations, check-ins, authority facts, colour")
    history: list[ColorChangeView]
    scans: list[ScanSeenView]


class ExportView(_Response):
    """Everything stored about the caller and their dependants (PIPL art. 45)."""

    exported_at: datetime
    account: str
    id_type: str | None = Field(description="the caller's verified identity (stored nowhere in clear)")
    id_number: str | None
    me: HolderExport | None
    dependants: list[HolderExport] = Field(description="without ID numbers: only their keyed hashes are stored")
    notifications: list[NotificationView]
    appeals: list[AppealView]


class LeaveView(_Response):
    erased: list[str] = Field(description="the holders erased (keyed hashes): the account's own and its dependants'")
