"""The published scoring rulesets: a publication, and the versions as residents and officers read them."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictStr

from healthcode.models._base import _Request, _Response


class RulesetPublishRequest(_Request):
    document: dict[str, Any] = Field(description="a ruleset document in the form GET /v1/rulesets/current returns")
    emergency: StrictBool = Field(
        default=False,
        description="take effect sooner than the notice period (48 h): needs a reason and a second health_admin's approval",
    )
    reason: Annotated[StrictStr, Field(min_length=1, max_length=500)] | None = None


class RulesetWithdrawalView(_Response):
    version: str
    status: Literal["withdrawal asked", "withdrawn"]
    asked_by: str | None = None
    confirmed_by: str | None = None


class RulesetView(_Response):
    version: str
    effective_from: datetime
    status: Literal["published", "awaiting approval"] = "published"
    timelines_changed: list[str] = Field(
        default=[], description="product.md's worked timelines whose colour differs from the rules in force"
    )
    emergency: bool = False


class RulesetListing(_Response):
    version: str
    effective_from: datetime
    status: Literal["in force", "announced", "superseded"]


class RulesetsView(_Response):
    items: list[RulesetListing] = Field(
        description="every version by effective time: the past, the one in force, the announced"
    )
