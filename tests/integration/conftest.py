"""A whole system per test on moto: every resource created from infra/template.yaml."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import boto3
import pytest
from moto import mock_aws

from healthcode import clock, wiring
from healthcode.adapters.clients import CLIENT_CONFIG
from healthcode_local.aws import provision
from healthcode_local.demo_data import declared_identity
from healthcode_local.system import LocalSystem

SHANGHAI = ZoneInfo("Asia/Shanghai")
IDENTITY_CLAIM = "verified_id"
SERVICES = ("dynamodb", "dynamodbstreams", "sqs", "events", "secretsmanager", "ssm", "kms")


class Harness(LocalSystem):
    """LocalSystem plus the callers a test plays: residents, checkpoints, the health authority."""

    now: datetime

    def http(self, method, path, body=None, *, headers=None, **kw):
        # the tests read the answers' words in English; the default (zh-CN) has tests of its own
        return super().http(method, path, body, headers={"accept-language": "en", **(headers or {})}, **kw)

    def at(self, now: datetime) -> None:
        self.now = now
        self.set_clock(now)

    def resident(self, sub: str, identity: tuple[str, str] | None = None):
        """A resident's app. Without ``identity`` the resident is honest: verified as the person each
        declaration names (as real-name verification at the identity provider would assert)."""

        def call(method, path, body=None, **kw):
            claims = {"sub": sub}
            who = identity or declared_identity(body)
            if who is not None:
                claims[IDENTITY_CLAIM] = f"{who[0]}:{who[1]}"
            return self.http(method, path, body, claims=claims, **kw)

        return call

    def checkpoint(self, body, sub: str = "gate-1", checkpoints: str | None = None):
        """A checkpoint account; by default it is assigned the checkpoint the scan names."""
        assigned = checkpoints if checkpoints is not None else str(body.get("checkpoint_id", ""))
        claims = {"sub": sub, "scope": "checkpoint", "checkpoints": assigned}
        return self.http("POST", "/v1/verifications", body, claims=claims)

    def admin(self, method, path, body=None):
        return self.http(method, path, body, claims={"sub": "officer-1", "scope": "health_admin"})

    def holder_items(self) -> list[dict]:
        return self.p.clients["dynamodb"].scan(TableName=self.p.physical("HoldersTable"))["Items"]


@pytest.fixture
def system():
    with mock_aws():
        clients = {s: boto3.client(s, region_name="us-east-1", config=CLIENT_CONFIG) for s in SERVICES}
        h = Harness(provision(clients))
        h.at(datetime(2020, 2, 17, 9, 0, tzinfo=SHANGHAI))
        yield h
        wiring.use(None)
        clock.set_source(lambda: datetime.now(SHANGHAI))


@pytest.fixture
def as_deployed(system, monkeypatch):
    """The system with the deployment's snapshot caches (the local stack's parameters read the level
    snapshot and the partner trust list on every request instead)."""
    params = system.template.parameter_defaults()
    monkeypatch.setenv("LEVELS_MAX_AGE", params["LevelsMaxAgeSeconds"])
    monkeypatch.setenv("TRUST_MAX_AGE", params["TrustMaxAgeSeconds"])
    system.configure()
    return system
