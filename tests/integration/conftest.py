"""A whole system on moto for each test: every resource created from infra/template.yaml once per worker
(20 tables, 6 queues, the bus, secrets, parameters), then reset between tests (items, messages, secret
and parameter values back to what provisioning made) instead of created again."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import boto3
import pytest
from moto import mock_aws

from healthcode import clock, wiring
from healthcode.adapters.clients import CLIENT_CONFIG
from healthcode_local.aws import ACCOUNT, REGION, Provisioned, provision
from healthcode_local.demo_data import OFFICIAL_ROLES, declared_identity, official_identity
from healthcode_local.system import LocalSystem

SHANGHAI = ZoneInfo("Asia/Shanghai")
IDENTITY_CLAIM = "verified_id"
SERVICES = ("dynamodb", "dynamodbstreams", "sqs", "events", "secretsmanager", "ssm", "kms", "s3")


class SharedAws:
    """One provisioned moto per test process. ``fresh()`` gives a test the state provisioning left:
    tables and their streams emptied, queues purged, what tests created beside the template's
    secrets and parameters deleted and the template's own put back. A test that runs moto on its own
    (``with mock_aws()``) wipes every backend when it ends; the next ``fresh()`` sees that and
    provisions again."""

    def __init__(self) -> None:
        self._mock = mock_aws()
        self._session: boto3.session.Session | None = None
        self._clients: dict | None = None
        self.p: Provisioned | None = None
        self._secrets: dict[str, str] = {}
        self._parameters: dict[str, str] = {}

    def fresh(self) -> Provisioned:
        """The provisioned system with new clients (a hook a test registers on one goes with it)."""
        self._mock.start(reset=False)
        if self._session is None:  # one session: its service models are loaded once
            self._session = boto3.session.Session(region_name=REGION)
        self._clients = {s: self._session.client(s, config=CLIENT_CONFIG) for s in SERVICES}
        if self.p is None or not self._still_there():
            self.p = provision(self._clients)
            sm, ssm = self._clients["secretsmanager"], self._clients["ssm"]
            self._secrets = {s["ARN"]: sm.get_secret_value(SecretId=s["ARN"])["SecretString"] for s in _secrets(sm)}
            self._parameters = {p["Name"]: p["Value"] for p in _parameters(ssm)}
        else:
            self._reset()
        self.p = replace(self.p, clients=self._clients)
        return self.p

    def done(self) -> None:
        self._mock.stop(remove_data=False)  # kept for the next test, which resets it

    def _still_there(self) -> bool:
        from moto.dynamodb.models import dynamodb_backends

        assert self.p is not None
        return self.p.physical("HoldersTable") in dynamodb_backends[ACCOUNT][REGION].tables

    def _reset(self) -> None:
        from moto.dynamodb.models import dynamodb_backends
        from moto.dynamodbstreams.models import dynamodbstreams_backends
        from moto.sqs.models import sqs_backends

        assert self.p is not None and self._clients is not None
        # moto's own stores, emptied in place: deleting item by item would fill each stream with removals,
        # and SQS allows one purge of a queue a minute
        for table in dynamodb_backends[ACCOUNT][REGION].tables.values():
            table.items.clear()
            if table.stream_shard is not None:
                table.stream_shard.items.clear()
        # every shard iterator moto ever handed out is kept, and each keeps its table alive
        dynamodbstreams_backends[ACCOUNT][REGION].shard_iterators.clear()
        for queue in sqs_backends[ACCOUNT][REGION].queues.values():
            queue._messages = []
            queue._pending_messages = set()
            queue.deleted_messages = set()
        from moto.s3.models import s3_backends

        for bucket in s3_backends[ACCOUNT]["aws"].buckets.values():  # the digests: locked for the API, not here
            bucket.keys.clear()
        sm = self._clients["secretsmanager"]
        for s in _secrets(sm):
            if s["ARN"] not in self._secrets:
                sm.delete_secret(SecretId=s["ARN"], ForceDeleteWithoutRecovery=True)
        for arn, value in self._secrets.items():
            if sm.get_secret_value(SecretId=arn)["SecretString"] != value:
                sm.put_secret_value(SecretId=arn, SecretString=value)
        ssm = self._clients["ssm"]
        for p in _parameters(ssm):
            if p["Name"] not in self._parameters:
                ssm.delete_parameter(Name=p["Name"])
            elif p["Value"] != self._parameters[p["Name"]]:
                ssm.put_parameter(Name=p["Name"], Value=self._parameters[p["Name"]], Overwrite=True)


def _secrets(sm) -> list[dict]:
    return [s for page in sm.get_paginator("list_secrets").paginate() for s in page["SecretList"]]


def _parameters(ssm) -> list[dict]:
    names = [p["Name"] for page in ssm.get_paginator("describe_parameters").paginate() for p in page["Parameters"]]
    return [ssm.get_parameter(Name=n)["Parameter"] for n in names]


@pytest.fixture(scope="session")
def shared_aws() -> SharedAws:
    return SharedAws()


@pytest.fixture
def fresh_aws(shared_aws: SharedAws) -> Iterator[Provisioned]:
    """The worker's provisioned moto, as provisioning left it."""
    try:
        yield shared_aws.fresh()
    finally:
        wiring.use(None)
        clock.set_source(lambda: datetime.now(SHANGHAI))
        shared_aws.done()


class Harness(LocalSystem):
    """LocalSystem plus the callers a test plays: residents, checkpoints, the health authority."""

    now: datetime

    def http(self, method, path, body=None, *, headers=None, **kw):
        # the tests read the answers' words in English; the default (zh-CN) has tests of its own
        claims = kw.get("claims")
        if claims is not None:  # an official's token carries a verified identity, as the IdP asserts one
            claims = dict(claims)
            if claims.get(IDENTITY_CLAIM, "") is None:
                del claims[IDENTITY_CLAIM]  # an official without one: to see them refused
            elif IDENTITY_CLAIM not in claims and OFFICIAL_ROLES & set(str(claims.get("scope", "")).split()):
                who = official_identity(claims.get("sub", ""))
                claims[IDENTITY_CLAIM] = f"{who['id_type']}:{who['id_number']}"
            kw["claims"] = claims
        return super().http(method, path, body, headers={"accept-language": "en", **(headers or {})}, **kw)

    def at(self, now: datetime) -> None:
        self.now = now
        self.set_clock(now)

    def resident(self, sub: str, identity: tuple[str, str] | None = None, wards: tuple[str, ...] = ()):
        """A resident's app. Without ``identity`` the resident is honest: verified as the person each
        declaration names (as real-name verification at the identity provider would assert). ``wards``:
        the resident ID numbers the identity provider asserts are in their care (their dependants)."""

        def call(method, path, body=None, **kw):
            claims = {"sub": sub}
            if wards:
                claims["guardian_of"] = " ".join(f"resident_id:{n}" for n in wards)
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
def system(fresh_aws: Provisioned) -> Harness:
    h = Harness(fresh_aws)
    h.at(datetime(2020, 2, 17, 9, 0, tzinfo=SHANGHAI))
    return h


@pytest.fixture
def as_deployed(system, monkeypatch):
    """The system with the deployment's snapshot caches (the local stack's parameters read the level
    snapshot and the partner trust list on every request instead)."""
    params = system.template.parameter_defaults()
    monkeypatch.setenv("LEVELS_MAX_AGE", params["LevelsMaxAgeSeconds"])
    monkeypatch.setenv("TRUST_MAX_AGE", params["TrustMaxAgeSeconds"])
    system.configure()
    return system
