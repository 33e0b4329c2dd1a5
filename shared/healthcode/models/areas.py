"""Registered towns and villages below a county (a resident's declared residence area)."""

from datetime import datetime
from typing import Annotated

from pydantic import Field, StrictStr

from healthcode.models._base import _Request, _Response


class AreaRequest(_Request):
    name: Annotated[StrictStr, Field(min_length=1, max_length=64)]


class AreaView(_Response):
    code: str = Field(description="9 digits (a town or street) or 12 (a village or community)")
    name: str
    county: str
    parent: str = Field(description="the town of a village, the county of a town")
    registered_at: datetime
    registered_by: str
