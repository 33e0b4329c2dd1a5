"""Creates every resource of the template on an AWS endpoint with no account (moto, in-process or
server mode) and returns the functions' environment, resolved exactly as CloudFormation would.
"""

from __future__ import annotations

import json
import secrets as pysecrets
from dataclasses import dataclass, field
from typing import Any

from healthcode.adapters import keyring
from healthcode_local.template import Resolver, Template

REGION = "us-east-1"
# On one machine a change must show at once: the snapshot caches read on every request here (the
# deployment's defaults, with their stated staleness, are what `make bench` measures).
# No SMS from one machine: holders read their inbox.
# Four daily workers and four scan segments, not 64: on one machine they run one after another, and every
# move of the dev clock past midnight runs the daily job and the nightly reconciliation.
LOCAL_PARAMETERS = {
    "DueShards": "4",
    "FullRunSegments": "4",
    "LevelsMaxAgeSeconds": "0",
    "TrustMaxAgeSeconds": "0",
    "SmsNotices": "false",
}
ACCOUNT = "123456789012"


@dataclass
class Provisioned:
    template: Template
    resolver: Resolver
    clients: dict[str, Any] = field(default_factory=dict)

    def environment(self, function: str) -> dict[str, str]:
        env = self.resolver.resolve(self.template.function_environment(function))
        return {k: str(v) for k, v in env.items()}

    def physical(self, logical: str) -> str:
        return self.resolver.refs[logical]


def _table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def provision(
    clients: dict[str, Any], template: Template | None = None, parameters: dict[str, str] | None = None
) -> Provisioned:
    """Create tables, queues, the bus, secrets and parameters named in the template.

    ``clients`` maps service name -> boto3 client (dynamodb, sqs, events, secretsmanager, ssm, kms).
    """
    t = template or Template()
    params = t.parameter_defaults() | LOCAL_PARAMETERS | (parameters or {})
    refs: dict[str, str] = {}
    attrs: dict[str, str] = {}
    resolver = Resolver(params, refs, attrs, REGION, ACCOUNT)
    db, sqs, events, sm, ssm = (clients[s] for s in ("dynamodb", "sqs", "events", "secretsmanager", "ssm"))

    for logical, p in t.of_type("AWS::DynamoDB::Table").items():
        name = p.get("TableName") or logical
        spec: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": p["AttributeDefinitions"],
            "KeySchema": p["KeySchema"],
            "BillingMode": p.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if p.get("GlobalSecondaryIndexes"):
            spec["GlobalSecondaryIndexes"] = p["GlobalSecondaryIndexes"]
        if p.get("StreamSpecification"):
            spec["StreamSpecification"] = {"StreamEnabled": True, **p["StreamSpecification"]}
        created = db.create_table(**spec)["TableDescription"]
        if created.get("LatestStreamArn"):
            attrs[f"{logical}.StreamArn"] = created["LatestStreamArn"]
        ttl = p.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            db.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        refs[logical] = name
        attrs[f"{logical}.Arn"] = _table_arn(name)

    queues = t.of_type("AWS::SQS::Queue")
    for logical in sorted(queues, key=lambda q: "RedrivePolicy" in queues[q]):  # dead-letter queues first
        p = queues[logical]
        attributes = {k: str(p[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod") if k in p}
        if "RedrivePolicy" in p:
            attributes["RedrivePolicy"] = json.dumps(resolver.resolve(p["RedrivePolicy"]))
        url = sqs.create_queue(QueueName=logical, Attributes=attributes)["QueueUrl"]
        refs[logical] = url
        attrs[f"{logical}.Arn"] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{logical}"
        attrs[f"{logical}.QueueName"] = logical

    for logical, p in t.of_type("AWS::Events::EventBus").items():
        name = resolver.resolve(p["Name"])
        arn = events.create_event_bus(Name=name)["EventBusArn"]
        refs[logical] = name
        attrs[f"{logical}.Arn"] = arn

    for logical, p in t.of_type("AWS::Events::Rule").items():  # the bus routes to queues (moto delivers)
        bus = resolver.resolve(p.get("EventBusName", "default"))
        events.put_rule(Name=logical, EventBusName=bus, EventPattern=json.dumps(resolver.resolve(p["EventPattern"])))
        targets = [{"Id": tgt["Id"], "Arn": resolver.resolve(tgt["Arn"])} for tgt in p["Targets"]]
        events.put_targets(Rule=logical, EventBusName=bus, Targets=targets)
        refs[logical] = logical
        attrs[f"{logical}.Arn"] = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{bus}/{logical}"

    for logical, p in t.of_type("AWS::KMS::Key").items():
        spec = {k: p[k] for k in ("KeySpec", "KeyUsage") if k in p}
        key = clients["kms"].create_key(Description=resolver.resolve(p.get("Description", logical)), **spec)["KeyMetadata"]
        refs[logical] = key["KeyId"]
        attrs[f"{logical}.Arn"] = key["Arn"]

    for logical, p in t.of_type("AWS::S3::Bucket").items():
        if not p.get("ObjectLockEnabled"):
            continue  # the pages' bucket: served from web/ here, never provisioned
        name = f"healthcode-{logical.lower()}"
        s3 = clients["s3"]
        s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
        rule = resolver.resolve(p["ObjectLockConfiguration"])
        retention = rule["Rule"]["DefaultRetention"]
        retention["Days"] = int(retention["Days"])  # a parameter resolves to a string
        s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=rule)
        refs[logical] = name
        attrs[f"{logical}.Arn"] = f"arn:aws:s3:::{name}"

    for logical, p in t.of_type("AWS::SecretsManager::Secret").items():
        kwargs: dict[str, Any] = {"Name": logical}
        if "GenerateSecretString" in p:
            kwargs["SecretString"] = pysecrets.token_urlsafe(48)
        elif "SecretString" in p:
            kwargs["SecretString"] = resolver.resolve(p["SecretString"])
        refs[logical] = sm.create_secret(**kwargs)["ARN"]

    for logical, p in t.of_type("AWS::SSM::Parameter").items():
        name = resolver.resolve(p["Name"])
        ssm.put_parameter(Name=name, Value=resolver.resolve(p["Value"]), Type=p.get("Type", "String"), Overwrite=True)
        refs[logical] = name

    keyring.ensure(sm, ssm, refs["SigningKeySecret"], refs["JwksParameter"])
    return Provisioned(t, resolver, clients)
