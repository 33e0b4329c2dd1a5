"""A scan at a checkpoint: the request, the answer, and what the verify index projects."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StrictStr

from healthcode.models._base import _Request, _Response
from healthcode.scoring.rules import Color

# ----------------------------------------------------------------------------- checkpoint


class VerificationRequest(_Request):
    token: Annotated[StrictStr, Field(min_length=1, max_length=4096)]
    checkpoint_id: Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
    scanned_at: AwareDatetime | None = Field(
        default=None,
        description="a scan the gate checked offline, uploaded later: when it was checked (within the last 24 hours);"
        " the code is judged as of then, the colour now is answered, and the scan is counted once",
    )


CodeStatus = Literal[
    "valid", "valid_offline", "expired", "invalid_signature", "unknown_issuer", "unknown_code", "malformed"
]


class VerificationView(_Response):
    decision: Literal["pass", "stop"]
    color: Color | None
    code_status: CodeStatus
    instruction: str
    masked_name: str | None
    checked_at: datetime
    issuer: str | None = None
    degraded: bool = Field(
        default=False, description="true: the holder's colour now could not be read; the code's signed colour decided"
    )
