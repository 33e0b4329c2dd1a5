"""``healthcode``: operator commands against any base URL (local or deployed), and the local stack.

    healthcode serve [--port 8080] [--no-demo]      the whole system locally (needs the dev install)
    healthcode token SUB [--roles checkpoint,...]   a dev bearer token (local stack only)
    healthcode keys rotate --stack NAME | --secret ARN --parameter NAME [--if-none]
                                                    rotate the QR signing key of a deployment
    healthcode region set CODE LEVEL [--name N]     set a region's risk level (the name stays unless given)
    healthcode region load FILE.csv                 header code,level[,name]; checked before anything is sent
    healthcode cases submit FILE.csv                header id_type,id_number,status[,on]; sent in chunks
    healthcode rescore                              queue the daily rescoring now
    healthcode code SUB                             a holder's code view (local stack: by subject)
    healthcode audit verify --day YYYY-MM-DD        check a day's audit trail: no gap, no edit (role auditor)

Operator commands take ``--url`` (default $HEALTHCODE_URL or http://127.0.0.1:8080) and ``--token``
(default $HEALTHCODE_TOKEN; on the local stack a dev token is minted when none is given).
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import re
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


CASES_PER_REQUEST = 500  # the API's limit per case list


class InputError(Exception):
    """A file or argument that does not fit; the message names the line or option."""


def _rows(path: str, required: set[str], optional: set[str]) -> list[tuple[int, dict[str, str]]]:
    """The CSV's rows with their line numbers, after checking its header names the columns."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = set(reader.fieldnames or [])
        if not required <= header or not header <= required | optional:
            want = ",".join(sorted(required)) + (f" (and optionally {','.join(sorted(optional))})" if optional else "")
            raise InputError(
                f"{path} line 1: the header must name {want}; it has {','.join(reader.fieldnames or [])!r}"
            )
        return [(n, {k: (v or "").strip() for k, v in row.items()}) for n, row in enumerate(reader, start=2)]


def _levels(path: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for line, row in _rows(path, {"code", "level"}, {"name"}):
        if not re.fullmatch(r"\d{6}(\d{3}){0,2}", row["code"]):
            raise InputError(f"{path} line {line}: code {row['code']!r} is not a GB/T 2260 code")
        if row["level"] not in {"1", "2", "3", "4", "5"}:
            raise InputError(f"{path} line {line}: level {row['level']!r} is not 1..5")
        body: dict[str, Any] = {"level": int(row["level"])}
        if row.get("name"):
            body["name"] = row["name"]
        out.append((row["code"], body))
    return out


def _token_subject(token: str) -> str | None:
    """The ``sub`` a bearer token names (read, not verified: the API verifies it)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    return claims.get("sub") if isinstance(claims, dict) else None


def _print(r: requests.Response) -> int:
    try:
        print(json.dumps(r.json(), ensure_ascii=False, indent=2))
    except ValueError:
        print(r.text)
    return 0 if r.ok else 1


def rotate_keys(secret: str | None, parameter: str | None, stack: str | None, if_none: bool) -> int:
    """The same rotation the deployed RotateKeysFunction runs monthly (AWS credentials from the
    environment). ``stack``: take the secret and the parameter from the stack's outputs; ``if_none``:
    only when the deployment has no key yet (what ``make deploy`` does after a deploy)."""
    import boto3

    from healthcode.adapters.keyring import ensure, rotate

    if stack:
        stacks = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
        secret, parameter = outputs["SigningKeySecretArn"], outputs["JwksParameterName"]
    if not (secret and parameter):
        print("keys rotate needs --stack NAME, or --secret ARN and --parameter NAME", file=sys.stderr)
        return 2
    secrets, ssm = boto3.client("secretsmanager"), boto3.client("ssm")
    kid = (ensure if if_none else rotate)(secrets, ssm, secret, parameter)
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

    region = sub.add_parser("region", help="risk levels of regions").add_subparsers(dest="action", required=True)
    p = region.add_parser("set", help="set one region's level")
    p.add_argument("code", help="GB/T 2260 code, e.g. 330106")
    p.add_argument("level", type=int, choices=range(1, 6), help="1 low .. 5 high")
    p.add_argument("--name", help="the region's name (omitted: the stored name stays)")
    p = region.add_parser("load", help="set levels from a CSV (header code,level[,name])")
    p.add_argument("file")

    cases = sub.add_parser("cases", help="authority case lists").add_subparsers(dest="action", required=True)
    p = cases.add_parser("submit", help=f"submit a CSV case list, {CASES_PER_REQUEST} rows per request")
    p.add_argument("file", help="header id_type,id_number,status[,on]")

    sub.add_parser("rescore", help="queue the daily rescoring now")
    p = sub.add_parser("code", help="a holder's code view")
    p.add_argument("sub")

    audit = sub.add_parser("audit", help="the audit trail of administrative acts").add_subparsers(
        dest="action", required=True
    )
    p = audit.add_parser("verify", help="recompute a day's hash chain from the records: exit 1 on a gap or an edit")
    p.add_argument("--day", required=True, help="YYYY-MM-DD (Asia/Shanghai)")
    keys = sub.add_parser("keys", help="signing keys of a deployment").add_subparsers(dest="action", required=True)
    p = keys.add_parser("rotate", help="publish a new QR signing key, then sign with it")
    p.add_argument("--stack", help="the deployed stack's name: the secret and parameter from its outputs")
    p.add_argument("--secret", help="SigningKeySecret ARN (stack output SigningKeySecretArn)")
    p.add_argument("--parameter", help="JwksParameter name (stack output JwksParameterName)")
    p.add_argument("--if-none", action="store_true", help="only if the deployment has no signing key yet")

    args = parser.parse_args(argv)
    if args.command == "serve":
        from healthcode_local.serve import serve  # the emulator: only in a development install

        return serve(args)
    if args.command == "keys":
        return rotate_keys(args.secret, args.parameter, args.stack, args.if_none)
    client = Client(args.url, args.token)
    if args.command == "token":
        print(client.dev_token(args.sub, [r for r in args.roles.split(",") if r]))
        return 0
    try:
        return _operate(args, client)
    except (InputError, OSError) as exc:
        print(f"healthcode: {exc}", file=sys.stderr)
        return 2


def _operate(args: argparse.Namespace, client: Client) -> int:
    if args.command == "region" and args.action == "set":
        body: dict[str, Any] = {"level": args.level} | ({"name": args.name} if args.name else {})
        return _print(client.call("PUT", f"/admin/v1/regions/{args.code}", body))
    if args.command == "region" and args.action == "load":
        failed = 0
        for code, body in _levels(args.file):  # every line checked before anything is sent
            r = client.call("PUT", f"/admin/v1/regions/{code}", body)
            print(f"{code} {body['level']}: {r.status_code}")
            failed += not r.ok
        return 1 if failed else 0
    if args.command == "cases":
        rows = _rows(args.file, {"id_type", "id_number", "status"}, {"on"})
        entries = [{k: v for k, v in row.items() if v} for _, row in rows]
        accepted = known = 0
        failed: list[str] = []
        for start in range(0, len(entries), CASES_PER_REQUEST):
            chunk = entries[start : start + CASES_PER_REQUEST]
            r = client.call("POST", "/admin/v1/cases", {"cases": chunk})
            if not r.ok:
                failed.append(
                    f"lines {rows[start][0]}-{rows[start + len(chunk) - 1][0]}: {r.status_code} {r.text[:300]}"
                )
                continue
            out = r.json()
            accepted, known = accepted + out["accepted"], known + out["known_holders"]
            failed += [f"line {rows[start + f['index']][0]}: {f['reason']}" for f in out.get("failed", [])]
            print(f"sent {min(start + len(chunk), len(entries))}/{len(entries)}", file=sys.stderr)
        print(
            json.dumps({"accepted": accepted, "known_holders": known, "failed": failed}, ensure_ascii=False, indent=2)
        )
        return 1 if failed else 0
    if args.command == "rescore":
        return _print(client.call("POST", "/admin/v1/rescoring", {"scope": "due"}))
    if args.command == "code":
        if client.token and _token_subject(client.token) != args.sub:
            raise InputError(
                f"--token belongs to {_token_subject(client.token)!r}, not {args.sub!r}: it would show their code"
            )
        return _print(client.call("GET", "/v1/codes/me", sub=args.sub, roles=()))
    if args.command == "audit":
        return _verify_audit(client, args.day)
    raise InputError(f"unknown command {args.command}")


def _verify_audit(client: Client, day: str) -> int:
    """Recompute the day's chain here, from the records the API returns (not trusting its verdict)."""
    from healthcode.auditchain import verify

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
        raise InputError(f"--day {day!r}: expected YYYY-MM-DD")
    r = client.call("GET", f"/admin/v1/audit?from={day}", sub="auditor", roles=("auditor",))
    if not r.ok:
        return _print(r)
    records = r.json()["records"]
    problems = verify(records, day)
    stored = r.json()["days"][0]["records"]
    if stored != len(records):
        problems.append(f"{stored} records stored, {len(records)} readable")
    print(json.dumps({"day": day, "records": len(records), "intact": not problems, "problems": problems}, indent=2))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
