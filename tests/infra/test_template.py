"""The SAM template: lint-clean, every handler and route resolves, least privilege, pins agree."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from healthcode_local.template import REPO, Template

T = Template()


def _sam() -> str | None:
    local = REPO / ".tools" / "sam" / "bin" / "sam"
    return str(local) if local.exists() else shutil.which("sam")


def test_cfn_lint_with_the_serverless_rules_passes():
    out = subprocess.run(
        [
            str(Path(sys.executable).with_name("cfn-lint")),
            "--append-rules",
            "cfn_lint_serverless.rules",
            "--",
            str(T.path),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.skipif(_sam() is None, reason="aws-sam-cli is installed by scripts/bootstrap")
def test_sam_validate_lint_passes():
    env = os.environ | {"SAM_CLI_TELEMETRY": "0"}
    out = subprocess.run([_sam(), "validate", "--lint", "-t", str(T.path)], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_handler_in_the_template_resolves_to_a_callable():
    assert set(T.functions) == {
        "ApplyFunction",
        "VerifyFunction",
        "AdminFunction",
        "RecomputeFunction",
        "PartnerFunction",
        "PartnerAuthorizerFunction",
        "RotateKeysFunction",
        "PublishFunction",
        "NotifyFunction",
        "RefreshPartnerKeysFunction",
        "StatsFunction",
        "RedriveFunction",
        "AuditDigestFunction",
        "ColourCheckFunction",
    }
    for spec in T.functions.values():
        assert spec.module_path.is_file(), spec.module_path
        assert callable(spec.load()), spec.logical_id


def _served(spec) -> set[tuple[str, str]]:
    app = getattr(spec.module(), "app", None)
    if app is None:
        return set()
    routes = set()
    for route in [*app._static_routes, *app._dynamic_routes]:
        path = re.sub(r"<(\w+)>", r"{\1}", route.path if isinstance(route.path, str) else route.path.pattern)
        for method in route.method.split("|") if isinstance(route.method, str) else route.method:
            routes.add((method.upper(), path))
    return routes


def test_every_route_in_the_template_is_served_by_its_function_and_vice_versa():
    for logical, spec in T.functions.items():
        spec.load()
        declared = {(r.method, r.path) for r in T.routes if r.function == logical}
        assert _served(spec) == declared, logical


def test_public_routes_are_exactly_the_published_documents_and_the_map():
    assert {r.path for r in T.routes if r.public} == {
        "/.well-known/jwks.json",
        "/.well-known/trust-list.json",
        "/v1/map",
        "/v1/map.svg",
        "/v1/index",
        "/v1/index/formula",
        "/v1/map/rule",
        "/problems/{name}",
        "/v1/rulesets",
        "/v1/rulesets/current",
        "/v1/rulesets/schema",
        "/v1/audit/digests",
    }


def test_the_http_api_validates_bearer_jwts_with_issuer_and_audience_parameters():
    jwt = T.jwt_authorizer()
    assert jwt["issuer"] == {"Ref": "JwtIssuer"} and jwt["audience"] == [{"Ref": "JwtAudience"}]


def _actions(logical: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for policy in T.functions[logical].properties["Policies"]:
        for st in policy["Statement"]:
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            for action in st["Action"]:
                out.setdefault(action, set()).update(str(r) for r in resources)
    return out


def test_least_privilege_verify_only_reads_holders_through_its_index_and_writes_scans():
    actions = _actions("VerifyFunction")
    assert set(actions) == {"dynamodb:Query", "dynamodb:PutItem", "dynamodb:GetItem", "ssm:GetParameter"}
    # scans; and a task when an offline scan uploaded late finds the holder had turned
    assert all("ScansTable" in r or "TasksTable" in r for r in actions["dynamodb:PutItem"])
    # the trust list (one item); a holder only for such a late catch (a scan reads through the index)
    assert all("PartnersTable" in r or "HoldersTable" in r for r in actions["dynamodb:GetItem"])
    assert all("by_code" in r for r in actions["dynamodb:Query"])


def test_the_surge_plan_is_in_the_template_not_only_on_paper():
    verify = T.functions["VerifyFunction"].properties
    assert verify["ReservedConcurrentExecutions"] == {"Ref": "VerifyReservedConcurrency"}
    source = T.functions["RecomputeFunction"].properties["Events"]["RecomputeMessages"]["Properties"]
    assert source["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "RecomputeMaximumConcurrency"}
    assert source["BatchSize"] == 1  # a shard or a segment is minutes of work: none waits behind another
    tables = T.of_type("AWS::DynamoDB::Table")
    assert tables["HoldersTable"]["WarmThroughput"]["ReadUnitsPerSecond"] >= 12000
    assert tables["ScansTable"]["WarmThroughput"]["WriteUnitsPerSecond"] >= 4200 * 2
    alarms = T.of_type("AWS::CloudWatch::Alarm")
    watched = {a.get("MetricName") for a in alarms.values()} | {
        m["MetricStat"]["Metric"]["MetricName"]
        for a in alarms.values()
        for m in a.get("Metrics", [])
        if "MetricStat" in m
    }
    assert {"ReadThrottleEvents", "WriteThrottleEvents", "Throttles", "DegradedVerifications"} <= watched
    dlqs = {q for q, props in T.of_type("AWS::SQS::Queue").items() if "DeadLetters" in q}
    alarmed = {str(a["Dimensions"][0]["Value"]) for a in alarms.values() if a.get("Namespace") == "AWS/SQS"}
    assert all(any(q in v for v in alarmed) for q in dlqs), (dlqs, alarmed)
    variables = T.doc["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["DUE_SHARDS"] == {"Ref": "DueShards"} and T.parameter_defaults()["DueShards"] == "64"
    assert variables["FULL_RUN_SEGMENTS"] == {"Ref": "FullRunSegments"}
    assert T.parameter_defaults()["FullRunSegments"] == "64"


def test_least_privilege_only_full_runs_and_colour_checks_may_scan_holders_and_nobody_deletes_them():
    for logical in T.functions:
        for action, resources in _actions(logical).items():
            if "HoldersTable" in " ".join(resources):
                assert action != "dynamodb:*", (logical, action)
                # only an account that leaves erases its holders (DELETE /v1/me, in the apply function)
                assert action != "dynamodb:DeleteItem" or logical == "ApplyFunction", (logical, action)
                assert action != "dynamodb:Scan" or logical in ("RecomputeFunction", "ColourCheckFunction"), logical
    # the colour check reads holders and writes none: it reports, an auditor's report is the evidence
    checks = _actions("ColourCheckFunction")
    assert not any("HoldersTable" in " ".join(r) for a, r in checks.items() if a != "dynamodb:Scan")


def test_queues_and_schedules_never_keep_the_dangerous_defaults():
    recompute = T.functions["RecomputeFunction"].properties
    timeout = recompute["Timeout"]
    queue = T.of_type("AWS::SQS::Queue")["RecomputeQueue"]
    assert queue["VisibilityTimeout"] >= 6 * timeout
    assert queue["RedrivePolicy"]["maxReceiveCount"] <= 5
    events = recompute["Events"]
    assert events["RecomputeMessages"]["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    schedule = events["Daily"]["Properties"]
    assert schedule["RetryPolicy"]["MaximumRetryAttempts"] <= 5 and "DeadLetterConfig" in schedule
    for logical, spec in T.functions.items():  # every queue source: partial failures, a DLQ, enough visibility
        for source in spec.properties.get("Events", {}).values():
            if source["Type"] != "SQS":
                continue
            q = T.of_type("AWS::SQS::Queue")[source["Properties"]["Queue"]["Fn::GetAtt"][0]]
            assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"], logical
            assert q["VisibilityTimeout"] >= 6 * spec.properties.get("Timeout", T.doc["Globals"]["Function"]["Timeout"])
            assert 1 <= q["RedrivePolicy"]["maxReceiveCount"] <= 5, logical
            dlq = q["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            assert any(
                a.get("Dimensions", [{}])[0].get("Value") == {"Fn::GetAtt": [dlq, "QueueName"]}
                for a in T.of_type("AWS::CloudWatch::Alarm").values()
            ), f"no alarm on {dlq}"


def test_the_bus_routes_colour_and_level_changes_to_the_notify_queue_and_only_the_rule_may_send():
    rule = T.of_type("AWS::Events::Rule")["NotifyRule"]
    assert set(rule["EventPattern"]["detail-type"]) == {"ColorChanged", "RegionLevelChanged"}
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["NotifyQueue", "Arn"]}
    policy = T.of_type("AWS::SQS::QueuePolicy")["NotifyQueuePolicy"]["PolicyDocument"]["Statement"][0]
    assert policy["Principal"] == {"Service": "events.amazonaws.com"} and "DeadLetterConfig" in rule["Targets"][0]
    assert policy["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Fn::GetAtt": ["NotifyRule", "Arn"]}
    # the notify function reads partners through the cached trust list only, and never scans anything
    actions = _actions("NotifyFunction")
    assert "dynamodb:Scan" not in actions and "dynamodb:DeleteItem" not in actions
    assert actions["dynamodb:GetItem"] and "PartnersTable" in " ".join(actions["dynamodb:GetItem"])


def test_tables_that_hold_people_have_point_in_time_recovery_and_logs_and_scans_expire():
    tables = T.of_type("AWS::DynamoDB::Table")
    assert tables["HoldersTable"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
    assert tables["ScansTable"]["TimeToLiveSpecification"]["Enabled"]
    assert tables["IdempotencyTable"]["TimeToLiveSpecification"]["AttributeName"] == "expiration"
    for logical, _spec in T.functions.items():
        group = next(g for g in T.of_type("AWS::Logs::LogGroup").values() if logical in str(g.get("LogGroupName")))
        assert group["RetentionInDays"], logical


def test_the_layer_is_built_for_the_functions_runtime_and_architecture():
    layer = T.resources["SharedLayer"]
    g = T.doc["Globals"]["Function"]
    assert layer["Metadata"] == {"BuildMethod": g["Runtime"], "BuildArchitecture": g["Architectures"][0]}
    content = (T.path.parent / layer["Properties"]["ContentUri"]).resolve()
    assert (content / "healthcode" / "__init__.py").is_file()  # the package one level down, as the layer needs


def test_the_layer_lock_pins_what_pyproject_pins_and_hashes_everything():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    locked = lock_pins()
    top = dict(p.split("==") for p in project)
    assert {name: version for name, version in top.items() if not name.startswith("boto3")} == {
        name: locked[name] for name in top if not name.startswith("boto3")
    }
    assert not {"boto3", "botocore", "s3transfer"} & set(locked)  # the runtime's own, never a second copy
    text = (REPO / "shared" / "requirements.txt").read_text()
    assert text.count("==") == len(locked) and all(
        f"{n}=={v} \\\n    --hash=sha256:" in text for n, v in locked.items()
    )


def lock_pins() -> dict[str, str]:
    """name -> version of every package the layer's lock pins."""
    lines = (REPO / "shared" / "requirements.txt").read_text().splitlines()
    pins = [ln.split(" ")[0] for ln in lines if ln and not ln.startswith((" ", "#"))]
    return dict(p.split("==") for p in pins)


def test_the_local_python_is_the_lambda_runtime_version():
    runtime = T.doc["Globals"]["Function"]["Runtime"]
    assert runtime == f"python{sys.version_info.major}.{sys.version_info.minor}"


def test_routes_that_need_a_scope_declare_it_to_the_gateways_jwt_authorizer():
    for route in T.routes:
        if route.path == "/admin/v1/tasks":
            assert route.scopes == ("community_worker", "health_admin"), route
        elif route.path.startswith("/admin/v1/tasks/"):
            assert route.scopes == ("community_worker",), route  # acknowledging is the office's act
        elif route.path == "/admin/v1/audit" or route.path.startswith("/admin/v1/audit/"):
            assert route.scopes == ("auditor",), route  # reads the trail and checks colours, can change nothing
        elif route.path == "/admin/v1/overrides" and route.method == "POST":
            assert route.scopes == ("health_admin",), route  # proposing is a health_admin's act
        elif route.path.startswith("/admin/v1/overrides"):
            assert route.scopes == ("health_admin", "health_director"), route  # a bulk one's second approval
        elif route.path.startswith("/admin/"):
            assert route.scopes == ("health_admin",), route
        elif route.path == "/v1/verifications":
            assert route.scopes == ("checkpoint",), route
        else:
            assert route.scopes == (), route  # residents, partners (their own authorizer) and public routes


def test_the_audit_trail_is_append_only_for_every_function_and_kept():
    table = T.of_type("AWS::DynamoDB::Table")["AuditTable"]
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
    assert table["DeletionProtectionEnabled"] is True
    writers = []
    for logical in T.functions:
        on_audit = {a for a, resources in _actions(logical).items() if "AuditTable" in " ".join(resources)}
        assert on_audit <= {"dynamodb:PutItem", "dynamodb:Query", "dynamodb:GetItem"}, (logical, on_audit)
        writers += [logical] if "dynamodb:PutItem" in on_audit else []
    assert sorted(writers) == ["AdminFunction", "ApplyFunction", "RotateKeysFunction"]


def test_stream_sources_never_keep_the_dangerous_defaults_and_only_the_publisher_writes_history_and_events():
    publish = T.functions["PublishFunction"].properties["Events"]
    assert publish["Replays"]["Properties"]["Queue"] == {"Fn::GetAtt": ["ChangeReplayQueue", "Arn"]}
    for source in (s for s in publish.values() if s["Type"] != "SQS"):
        p = source["Properties"]
        assert source["Type"] == "DynamoDB" and p["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert 0 <= p["MaximumRetryAttempts"] <= 10 and p["BisectBatchOnFunctionError"] is True
        assert p["MaximumRecordAgeInSeconds"] <= 86400 and "OnFailure" in p["DestinationConfig"]
    tables = T.of_type("AWS::DynamoDB::Table")
    for table in ("HoldersTable", "RegionsTable"):
        assert tables[table]["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    for logical in T.functions:
        writes = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
        if logical == "ApplyFunction":  # an account that leaves erases its history, item by item: never writes it
            writes = writes[:2] + writes[3:]
        writes_history = any("HistoryTable" in " ".join(r) for a, r in _actions(logical).items() if a in writes)
        publishes = "events:PutEvents" in _actions(logical)
        assert (writes_history or publishes) == (logical == "PublishFunction"), logical


def test_every_dead_letter_queue_of_a_consumer_is_swept_back_to_where_it_is_done_again():
    """Nothing lost when retries run out: the redrive sweep has a lane for every consumer's dead letters
    (stream on-failure destinations and queue redrive targets), each back to the queue that redoes it."""
    queues = T.of_type("AWS::SQS::Queue")
    redrive = T.functions["RedriveFunction"].properties
    env = T.function_environment("RedriveFunction")
    lanes = {
        env["CHANGE_DEAD_LETTERS_URL"]["Ref"]: env["CHANGE_REPLAY_QUEUE_URL"]["Ref"],
        env["RECOMPUTE_DEAD_LETTERS_URL"]["Ref"]: env["RECOMPUTE_QUEUE_URL"]["Ref"],
        env["NOTIFY_DEAD_LETTERS_URL"]["Ref"]: env["NOTIFY_QUEUE_URL"]["Ref"],
        env["COLOUR_CHECK_DEAD_LETTERS_URL"]["Ref"]: env["COLOUR_CHECK_QUEUE_URL"]["Ref"],
    }
    for logical, spec in T.functions.items():
        for source in spec.properties.get("Events", {}).values():
            p = source["Properties"]
            if source["Type"] == "SQS":
                q = queues[p["Queue"]["Fn::GetAtt"][0]]
                dlq = q["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                assert dlq in lanes, f"{logical}: {dlq} is not swept"
            elif source["Type"] == "DynamoDB":
                dlq = p["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
                assert lanes.get(dlq) == "ChangeReplayQueue", f"{logical}: {dlq} is not replayed"
    assert queues["ChangeReplayQueue"]["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["ChangeDeadLetters", "Arn"]
    }
    sweep = redrive["Events"]["EveryTenMinutes"]["Properties"]
    assert sweep["ScheduleExpression"] == "rate(10 minutes)"  # within the hour once the fault clears


def test_the_audit_digests_are_signed_by_one_function_and_locked_where_nobody_can_change_them():
    bucket = T.of_type("AWS::S3::Bucket")["AuditDigestBucket"]
    lock = bucket["ObjectLockConfiguration"]
    assert bucket["ObjectLockEnabled"] is True and lock["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"
    assert int(T.parameter_defaults()["AuditDigestRetentionDays"]) >= 365 * 7
    key = T.of_type("AWS::KMS::Key")["AuditDigestKey"]
    assert (key["KeySpec"], key["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")
    signers = [f for f in T.functions if "kms:Sign" in _actions(f)]
    writers = [f for f in T.functions if "s3:PutObject" in _actions(f) and any("AuditDigest" in r for r in _actions(f)["s3:PutObject"])]
    assert signers == ["AuditDigestFunction"] and writers == ["AuditDigestFunction"]
    assert not any("s3:DeleteObject" in _actions(f) for f in T.functions)
