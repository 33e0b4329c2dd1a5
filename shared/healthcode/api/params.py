"""Request parameters several routes share (imported by the functions that page through listings, and
every route that takes a day)."""

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AfterValidator

Cursor = Annotated[str | None, Query(max_length=2048, description="the `next` of the previous page")]

# every day a route takes lies in the service's span: from before the first reported cases to the end of
# the century. 0001-01-01 or 9999-12-31 is a 422 naming the parameter, never date arithmetic that overflows
FIRST_DAY = date(2019, 12, 1)
LAST_DAY = date(2099, 12, 31)


def _in_span(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"must be a day from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}")
    return day


Day = Annotated[date, AfterValidator(_in_span)]
