"""The functions' configuration: environment variables set by the SAM template, validated once."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    # Every other environment variable is kept too, so a new table needs no new field: see table().
    model_config = ConfigDict(extra="allow")

    holders_table: str = Field(alias="HOLDERS_TABLE")
    regions_table: str = Field(alias="REGIONS_TABLE")
    stays_table: str = Field(alias="STAYS_TABLE")
    scans_table: str = Field(alias="SCANS_TABLE")
    history_table: str = Field(alias="HISTORY_TABLE")
    idempotency_table: str = Field("", alias="IDEMPOTENCY_TABLE")
    rulesets_table: str = Field("", alias="RULESETS_TABLE")
    runs_table: str = Field("", alias="RUNS_TABLE")
    partners_table: str = Field("", alias="PARTNERS_TABLE")
    nonces_table: str = Field("", alias="NONCES_TABLE")
    partner_secret_prefix: str = Field("healthcode/partners/", alias="PARTNER_SECRET_PREFIX")
    recompute_queue_url: str = Field("", alias="RECOMPUTE_QUEUE_URL")
    audit_digest_bucket: str = Field("", alias="AUDIT_DIGEST_BUCKET")  # signed digests, under Object Lock
    audit_digest_key: str = Field("", alias="AUDIT_DIGEST_KEY_ID")  # the KMS key that signs them
    # the redrive sweep's lanes: each dead-letter queue and where its messages are done again
    change_dead_letters_url: str = Field("", alias="CHANGE_DEAD_LETTERS_URL")
    change_replay_url: str = Field("", alias="CHANGE_REPLAY_QUEUE_URL")
    recompute_dead_letters_url: str = Field("", alias="RECOMPUTE_DEAD_LETTERS_URL")
    notify_queue_url: str = Field("", alias="NOTIFY_QUEUE_URL")
    colour_check_queue_url: str = Field("", alias="COLOUR_CHECK_QUEUE_URL")
    colour_check_dead_letters_url: str = Field("", alias="COLOUR_CHECK_DEAD_LETTERS_URL")
    notify_dead_letters_url: str = Field("", alias="NOTIFY_DEAD_LETTERS_URL")
    event_bus_name: str = Field("", alias="EVENT_BUS_NAME")
    signing_key_secret: str = Field("", alias="SIGNING_KEY_SECRET")
    holder_key_secret: str = Field("", alias="HOLDER_KEY_SECRET")
    jwks_parameter: str = Field("", alias="JWKS_PARAMETER")
    issuer: str = Field(alias="CODE_ISSUER")
    token_ttl_seconds: int = Field(300, alias="TOKEN_TTL_SECONDS")
    due_shards: int = Field(64, ge=1, alias="DUE_SHARDS")
    full_run_segments: int = Field(64, ge=1, le=1000, alias="FULL_RUN_SEGMENTS")
    stay_parts: int = Field(8, ge=1, le=64, alias="STAY_PARTS")
    parameters_max_age: int = Field(300, alias="PARAMETERS_MAX_AGE")
    # how stale a cached snapshot may be (seconds; 0: read on every request, the local stack)
    levels_max_age: int = Field(30, ge=0, le=300, alias="LEVELS_MAX_AGE")
    trust_max_age: int = Field(60, ge=0, le=900, alias="TRUST_MAX_AGE")
    request_timeout: int = Field(30, alias="REQUEST_TIMEOUT")  # the HTTP API's integration limit

    @property
    def region_settle_s(self) -> int:
        """How long a region's rescoring waits: until no request can still score with an older snapshot."""
        return self.levels_max_age + self.request_timeout if self.levels_max_age else 0

    # notifications (the notify function)
    ack_within_minutes: int = Field(15, ge=1, le=24 * 60, alias="ACK_WITHIN_MINUTES")
    webhook_retry_hours: float = Field(24, gt=0, le=72, alias="WEBHOOK_RETRY_HOURS")
    webhook_backoff_seconds: float = Field(30, ge=0, le=3600, alias="WEBHOOK_BACKOFF_SECONDS")
    allow_private_urls: bool = Field(False, alias="ALLOW_PRIVATE_URLS")  # the local stack's 127.0.0.1 receivers
    phone_key_id: str = Field("", alias="PHONE_KEY_ID")  # KMS key sealing phone numbers for SMS
    sms_notices: bool = Field(False, alias="SMS_NOTICES")

    ruleset_notice_hours: float = Field(48, ge=0, le=24 * 30, alias="RULESET_NOTICE_HOURS")
    bulk_override_holders: int = Field(20, ge=1, le=10_000, alias="BULK_OVERRIDE_HOLDERS")  # per proposer and hour
    override_max_days: int = Field(14, ge=1, le=60, alias="OVERRIDE_MAX_DAYS")
    appeal_deadline_hours: float = Field(24, gt=0, le=24 * 30, alias="APPEAL_DEADLINE_HOURS")

    map_region: str = Field("", pattern=r"^(\d{6})?$", alias="MAP_REGION")  # the map's default province or city

    identity_claim: str = Field("verified_id", alias="IDENTITY_CLAIM")
    max_dependants: int = Field(5, alias="MAX_DEPENDANTS")

    def table(self, name: str) -> str:
        """The physical name of a table from its ``<NAME>_TABLE`` variable ("" when the function has none)."""
        return str((self.model_extra or {}).get(f"{name.upper()}_TABLE", "")) or str(
            getattr(self, f"{name.lower()}_table", "")
        )


@lru_cache(maxsize=1)
def settings() -> Settings:
    """Read once per cold start (tests clear the cache when they change the environment)."""
    return Settings.model_validate(dict(os.environ))
