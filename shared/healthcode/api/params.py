"""Request parameters several routes share (imported by the functions that page through listings)."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

Cursor = Annotated[str | None, Query(max_length=2048, description="the `next` of the previous page")]
