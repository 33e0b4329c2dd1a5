"""What every model shares: the base classes (requests forbid unknown fields) and the constrained types."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictStr

RegionCode = Annotated[StrictStr, Field(pattern=r"^\d{6}(\d{3}){0,2}$", description="GB/T 2260 code")]
Temperature = Annotated[StrictFloat, Field(ge=34.0, le=43.0, description="°C")]  # strict: 36 is fine, "36" is not
Symptom = Literal[
    "fever", "cough", "sore_throat", "fatigue", "shortness_of_breath", "diarrhoea", "loss_of_taste_or_smell"
]
MAX_STAYS = 30
WebhookEvent = Literal["color_changed", "region_level_changed"]  # what a partner city may subscribe to


# defer_build: a model's validator is built when first used, so a function pays only for the models
# it touches (a cold start of verify does not build the holder models of apply).
class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class _Stored(BaseModel):
    model_config = ConfigDict(defer_build=True)


class EntryFailure(_Response):
    index: int = Field(description="the entry's position in the list")
    reason: str
