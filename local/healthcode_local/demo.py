"""A smoke demo on moto: the source article's story through the real handlers, printed as it happens.

python -m healthcode_local.demo
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def demo_id(region: str, seq: int) -> str:
    body = f"{region}19900101{seq:03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS, strict=True)) % 11]


def declaration(name: str, number: str, **extra: object) -> dict[str, object]:
    return {
        "name": name,
        "id_type": "resident_id",
        "id_number": number,
        "phone": "13800000000",
        "residence_region": "330102",
        "travel_history": [],
        "contact": {"kind": "none"},
        "symptoms": [],
        "temperature": 36.5,
        "attestation": True,
    } | extra


def main() -> None:
    for k, v in {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }.items():
        os.environ.setdefault(k, v)
    import boto3
    from moto import mock_aws

    from healthcode_local.aws import provision
    from healthcode_local.system import LocalSystem

    with mock_aws():
        clients = {
            s: boto3.client(s, region_name="us-east-1") for s in ("dynamodb", "sqs", "events", "secretsmanager", "ssm")
        }
        system = LocalSystem(provision(clients))
        os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # the story, not the logs
        now = datetime(2020, 2, 16, 22, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
        system.set_clock(now)
        admin = {"sub": "officer", "roles": "[health_admin]"}
        gate = {"sub": "gate", "roles": "[checkpoint]"}

        def show(who: str, view: dict) -> None:
            q = view.get("quarantine")
            extra = f", quarantine {q['kind']} {q['checkins_done']}/{q['checkins_required']}" if q else ""
            print(f"  {who}: {view['color']} ({view['score']} points){extra}")
            for r in view["reasons"]:
                print(f"      +{r['points']:<3} {r['detail']}")

        print("1. Wuhan's Hongshan district is set to level 5 by the health authority")
        system.http("PUT", "/admin/v1/regions/420111", {"name": "洪山区", "level": 5}, claims=admin)
        system.deliver_queue()

        print("2. A worker returns to Hangzhou from Panzhou (level 1) on the special train")
        worker = system.http(
            "POST",
            "/v1/applications",
            declaration(
                "王珍波",
                demo_id("520281", 1),
                travel_history=[{"region": "520281", "arrived_on": "2020-01-20", "left_on": "2020-02-16"}],
            ),
            claims={"sub": "worker"},
        ).json()
        show("王*波", worker)

        print("3. Someone who stayed three days in Hongshan")
        red = system.http(
            "POST",
            "/v1/applications",
            declaration(
                "李四",
                demo_id("420111", 2),
                travel_history=[{"region": "420111", "arrived_on": "2020-02-11", "left_on": "2020-02-14"}],
            ),
            claims={"sub": "traveller"},
        ).json()
        show("李*", red)

        print("4. Someone with a fever checks in daily for 7 days")
        system.http(
            "POST",
            "/v1/applications",
            declaration("张小明", demo_id("330106", 3), temperature=38.2),
            claims={"sub": "fever"},
        )
        for day in range(1, 8):
            system.set_clock(now + timedelta(days=day))
            view = system.http(
                "POST", "/v1/checkins", {"temperature": 36.6, "symptoms": []}, claims={"sub": "fever"}
            ).json()
        show("张*明 after 7 clean check-ins", view)

        print("5. A green holder shows a code; then Xihu is raised to level 5; the next scan of that code")
        system.set_clock(now + timedelta(days=7, hours=1))
        green = system.http(
            "POST",
            "/v1/applications",
            declaration(
                "赵六",
                demo_id("330106", 4),
                travel_history=[{"region": "330106", "arrived_on": "2020-02-19", "left_on": "2020-02-22"}],
            ),
            claims={"sub": "green"},
        ).json()
        scan = system.http(
            "POST", "/v1/verifications", {"token": green["token"]["value"], "checkpoint_id": "subway-1"}, claims=gate
        ).json()
        print(f"  scan before: {scan['decision']} ({scan['color']}, {scan['masked_name']})")
        system.http("PUT", "/admin/v1/regions/330106", {"name": "西湖区", "level": 5}, claims=admin)
        system.deliver_queue()
        scan = system.http(
            "POST", "/v1/verifications", {"token": green["token"]["value"], "checkpoint_id": "subway-1"}, claims=gate
        ).json()
        print(f"  scan after:  {scan['decision']} ({scan['color']}): {scan['instruction']}")


if __name__ == "__main__":
    main()
