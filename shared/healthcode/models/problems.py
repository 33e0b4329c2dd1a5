"""Problem details (RFC 9457): what every refusal is answered with."""

from pydantic import Field

from healthcode.models._base import _Response


class FieldProblem(_Response):
    field: str
    message: str


class Problem(_Response):
    """RFC 9457 problem details, with the fields that were wrong."""

    type: str = Field(description="the URL of a page saying what this problem means and what to do, or about:blank")
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None


class GatewayMessage(_Response):
    """What API Gateway itself answers (401 from the JWT authorizer, 404 for no route, 429 throttled)."""

    message: str
