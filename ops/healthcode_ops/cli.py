"""``healthcode``: operator commands against any base URL (local or deployed), and the local stack.

    healthcode serve [--port 8080] [--no-demo]      the whole system locally (needs the dev install)
    healthcode token SUB [--roles checkpoint,...]   a dev bearer token (local stack only)
    healthcode keys rotate --secret ARN --parameter NAME
                                                    rotate the QR signing key of a deployment
    healthcode region set CODE LEVEL [--name N]     set a region's risk level
    healthcode region load FILE.csv                 code,name,level per line
    healthcode cases submit FILE.csv                id_type,id_number,status,on per line
    healthcode rescore                              queue the daily rescoring now
    healthcode code SUB                             a holder's code view (local stack: by subject)

Operator commands take ``--url`` (default $HEALTHCODE_URL or http://127.0.0.1:8080) and ``--token``
(default $HEALTHCODE_TOKEN; on the local stack a dev token is minted when none is given).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from typing import Any

import requests


class Client:
    def __init__(self, url: str, token: str | None) -> None:
        self.url = url.rstrip("/")
        self.token = token

    def dev_token(self, sub: str, roles: list[str]) -> str:
        r = requests.post(f"{self.url}/dev/tokens", json={"sub": sub, "roles": roles}, timeout=10)
        if r.status_code != 200:
            raise SystemExit(f"no dev token from {self.url} ({r.status_code}): pass --token")
        return str(r.json()["token"])

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        sub: str = "operator",
        roles: tuple[str, ...] = ("health_admin",),
    ) -> requests.Response:
        token = self.token or self.dev_token(sub, list(roles))
        return requests.request(
            method, f"{self.url}{path}", json=body, timeout=30, headers={"authorization": f"Bearer {token}"}
        )


def _print(r: requests.Response) -> int:
    try:
        print(json.dumps(r.json(), ensure_ascii=False, indent=2))
    except ValueError:
        print(r.text)
    return 0 if r.ok else 1


def rotate_keys(secret: str, parameter: str) -> int:
    """The same rotation the deployed RotateKeysFunction runs monthly (AWS credentials from the environment)."""
    import boto3

    from healthcode.adapters.keyring import rotate

    kid = rotate(boto3.client("secretsmanager"), boto3.client("ssm"), secret, parameter)
    print(f"active signing key: {kid}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="healthcode", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=os.environ.get("HEALTHCODE_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--token", default=os.environ.get("HEALTHCODE_TOKEN"))
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the whole system locally")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("HEALTHCODE_PORT", "8080")))
    p.add_argument("--aws-port", type=int, default=0, help="moto's port (default: a free one)")
    p.add_argument("--demo", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--verbose", action="store_true", help="the handlers' JSON logs too")

    p = sub.add_parser("token", help="a dev bearer token (local stack)")
    p.add_argument("sub")
    p.add_argument("--roles", default="")

    region = sub.add_parser("region").add_subparsers(dest="action", required=True)
    p = region.add_parser("set")
    p.add_argument("code")
    p.add_argument("level", type=int)
    p.add_argument("--name")
    p = region.add_parser("load")
    p.add_argument("file")

    cases = sub.add_parser("cases").add_subparsers(dest="action", required=True)
    p = cases.add_parser("submit")
    p.add_argument("file")

    sub.add_parser("rescore", help="queue the daily rescoring now")
    p = sub.add_parser("code", help="a holder's code view")
    p.add_argument("sub")

    keys = sub.add_parser("keys", help="signing keys of a deployment").add_subparsers(dest="action", required=True)
    p = keys.add_parser("rotate", help="publish a new QR signing key, then sign with it")
    p.add_argument("--secret", required=True, help="SigningKeySecret ARN (stack output)")
    p.add_argument("--parameter", required=True, help="JwksParameter name (stack output)")

    args = parser.parse_args(argv)
    if args.command == "serve":
        from healthcode_local.serve import serve  # the emulator: only in a development install

        return serve(args)
    if args.command == "keys":
        return rotate_keys(args.secret, args.parameter)
    client = Client(args.url, args.token)
    if args.command == "token":
        print(client.dev_token(args.sub, [r for r in args.roles.split(",") if r]))
        return 0
    if args.command == "region" and args.action == "set":
        return _print(
            client.call("PUT", f"/admin/v1/regions/{args.code}", {"name": args.name or args.code, "level": args.level})
        )
    if args.command == "region" and args.action == "load":
        failed = 0
        with open(args.file, encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                r = client.call(
                    "PUT", f"/admin/v1/regions/{row['code']}", {"name": row["name"], "level": int(row["level"])}
                )
                print(f"{row['code']} {row['level']}: {r.status_code}")
                failed += not r.ok
        return 1 if failed else 0
    if args.command == "cases":
        with open(args.file, encoding="utf-8") as fh:
            entries = [{k: v for k, v in row.items() if v} for row in csv.DictReader(fh)]
        return _print(client.call("POST", "/admin/v1/cases", {"cases": entries}))
    if args.command == "rescore":
        return _print(client.call("POST", "/admin/v1/rescoring", {"scope": "due"}))
    if args.command == "code":
        return _print(client.call("GET", "/v1/codes/me", sub=args.sub, roles=()))
    parser.error("unknown command")
    return 2


if __name__ == "__main__":
    sys.exit(main())
