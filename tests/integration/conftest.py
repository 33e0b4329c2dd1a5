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
from healthcode_local.system import LocalSystem

SHANGHAI = ZoneInfo("Asia/Shanghai")
SERVICES = ("dynamodb", "sqs", "events", "secretsmanager", "ssm")


class Harness(LocalSystem):
    """LocalSystem plus the callers a test plays: residents, checkpoints, the health authority."""

    now: datetime

    def at(self, now: datetime) -> None:
        self.now = now
        self.set_clock(now)

    def resident(self, sub: str):
        return lambda method, path, body=None, **kw: self.http(method, path, body, claims={"sub": sub}, **kw)

    def checkpoint(self, body):
        return self.http("POST", "/v1/verifications", body, claims={"sub": "gate-1", "roles": "[checkpoint]"})

    def admin(self, method, path, body=None):
        return self.http(method, path, body, claims={"sub": "officer-1", "roles": "[health_admin]"})

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
