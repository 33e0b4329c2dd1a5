"""A trail nobody can rewrite, checkable from outside (issue 29), on the local stack: the hourly digests
are signed with the KMS key and kept under S3 Object Lock; ``healthcode audit verify`` checks the records
against them with the public key alone. Editing the day's last record and recomputing its hash, deleting
it, or slipping one in through the moto endpoint each fail, naming the period; the published digests
verify with the published key and carry no personal data; once the day is over it is signed as a whole."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import boto3

from healthcode.auditchain import GENESIS, canonical, digest

DAY = "2021-03-05"


def verify(stack, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "healthcode_ops", "--url", stack.base, "--json", "audit", "verify", "--day", DAY, *extra],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_signed_digests_catch_an_edited_deleted_or_inserted_last_record(stack, tmp_path):
    stack.set_clock(f"{DAY}T09:00:00+08:00")
    for level in (3, 4):
        r = stack.call(
            "PUT", "/admin/v1/regions/330683", {"name": "嵊州市", "level": level}, sub="dg-officer", roles=("health_admin",)
        )
        assert r.status_code == 200, r.text
    stack.set_clock(f"{DAY}T10:05:00+08:00")  # the hourly digest signs 09:00-10:00
    published = stack.call("GET", f"/v1/audit/digests?from={DAY}").json()  # public: no token
    nine = next(d for d in published["digests"] if d["period"] == f"{DAY}T09")
    assert nine["records"] >= 2 and nine["last_hash"] != GENESIS
    assert "dg-officer" not in json.dumps(published)  # counts, hashes, signatures: nobody's name

    # anyone can check a digest with the published key alone
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(published["public_key_pem"].encode())
    key.verify(base64.b64decode(nine["signature"]), canonical(nine), ec.ECDSA(hashes.SHA256()))
    pinned = tmp_path / "digest-key.pem"
    pinned.write_text(published["public_key_pem"])

    ok = verify(stack, "--public-key", str(pinned))
    assert ok.returncode == 0 and json.loads(ok.stdout)["intact"], ok.stdout + ok.stderr

    db = boto3.client(
        "dynamodb", endpoint_url=stack.aws, region_name="us-east-1", aws_access_key_id="l", aws_secret_access_key="l"
    )
    table = next(t for t in db.list_tables()["TableNames"] if "AuditTable" in t)

    def items():
        return db.query(
            TableName=table,
            KeyConditionExpression="#d = :d",
            ExpressionAttributeNames={"#d": "day"},
            ExpressionAttributeValues={":d": {"S": DAY}},
        )["Items"]

    last = items()[-1]
    original = json.loads(last["doc"]["S"])

    def put(doc):
        db.put_item(TableName=table, Item={**last, "doc": {"S": json.dumps(doc, ensure_ascii=False, sort_keys=True)}})

    # 1. the last record edited, its hash recomputed: the chain holds, the signed digest does not
    edited = original | {"actor": "someone-else"}
    edited["hash"] = digest(edited)
    put(edited)
    bad = verify(stack)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert any(f"digest {DAY}T09" in p for p in json.loads(bad.stdout)["problems"]), bad.stdout
    put(original)
    assert verify(stack).returncode == 0

    # the day over, it is signed as a whole too (its records, its hourly digests, the day before's)
    stack.set_clock("2021-03-06T00:05:00+08:00")
    whole = verify(stack, "--public-key", str(pinned))
    report = json.loads(whole.stdout)
    assert whole.returncode == 0 and report["day_signed"] and report["signed_to"] == f"{DAY}T23", whole.stdout
    (daily,) = [d for d in stack.call("GET", f"/v1/audit/digests?from={DAY}").json()["daily"] if d["day"] == DAY]
    assert daily["hours"] == 24 and daily["records"] == report["records"]

    # 2. the last record deleted
    db.delete_item(TableName=table, Key={"day": last["day"], "seq": last["seq"]})
    gone = verify(stack)
    assert gone.returncode == 1 and "deleted or inserted" in gone.stdout, gone.stdout
    put(original)

    # 3. a record slipped in at 09:30, chained properly onto the last
    inserted = dict(original) | {"seq": original["seq"] + 1, "prev_hash": original["hash"], "at": f"{DAY}T09:30:00+08:00"}
    inserted["hash"] = digest(inserted)
    db.put_item(
        TableName=table,
        Item={
            "day": {"S": DAY},
            "seq": {"S": f"{inserted['seq']:09d}"},
            "doc": {"S": json.dumps(inserted, ensure_ascii=False, sort_keys=True)},
        },
    )
    slipped = verify(stack)
    assert slipped.returncode == 1 and "deleted or inserted" in slipped.stdout, slipped.stdout


def test_a_colour_written_straight_into_the_table_is_reported_by_the_colour_check(stack):
    from tests.people import application, resident_id

    r = stack.call("POST", "/v1/applications", application(resident_id("410105", seq="931")), sub="cc-depositor")
    assert r.status_code == 200 and r.json()["color"] == "green"
    db = boto3.client(
        "dynamodb", endpoint_url=stack.aws, region_name="us-east-1", aws_access_key_id="l", aws_secret_access_key="l"
    )
    table = next(t for t in db.list_tables()["TableNames"] if "HoldersTable" in t)
    code_id = json.loads(base64.urlsafe_b64decode(r.json()["token"]["value"].split(".")[1] + "=="))["cid"]
    (item,) = db.query(
        TableName=table,
        IndexName="by_code",
        KeyConditionExpression="code_id = :c",
        ExpressionAttributeValues={":c": {"S": code_id}},
    )["Items"]
    item = db.get_item(TableName=table, Key={"holder_id": item["holder_id"]})["Item"]
    doc = json.loads(item["doc"]["S"]) | {"color": "red"}
    db.put_item(TableName=table, Item=item | {"doc": {"S": json.dumps(doc)}, "color": {"S": "red"}})

    out = subprocess.run(
        [sys.executable, "-m", "healthcode_ops", "--url", stack.base, "--json", "audit", "colours", "--wait"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    report = json.loads(out.stdout)
    mine = [f for f in report["findings"] if f["holder_id"] == item["holder_id"]["S"]]
    assert mine and (mine[0]["stored"], mine[0]["expected"]) == ("red", ["green"]), report
    latest = stack.call("GET", "/admin/v1/audit/colour-checks/latest", sub="cc-auditor", roles=("auditor",)).json()
    assert latest["check_id"] == report["check_id"] and latest["unexplained"] >= 1
