"""``healthcode``: the operator's commands against any deployment (``--url``) or the local stack.

Every command has ``--help``. Exit codes are the same for all of them (:class:`ExitCode`): 0 done,
1 refused or partly failed, 2 a wrong command line or input file (nothing sent), 3 no answer,
4 ``--wait`` gave up while the job goes on. ``--json`` prints one JSON document on stdout for scripts;
progress goes to stderr.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import requests
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from healthcode_ops.api import Client, CliError, ExitCode, body_of, refusal, token_subject, usage

EXIT_CODES = "Exit codes: 0 done, 1 refused or partly failed, 2 wrong command line or file (nothing sent), 3 no answer, 4 still running."

app = typer.Typer(
    name="healthcode",
    help=f"Operate a healthcode deployment, or run it locally.\n\n{EXIT_CODES}",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
region_app = typer.Typer(help="Risk levels of regions, 1 (low) to 5 (high); a change rescores the holders there.")
cases_app = typer.Typer(help="The authorities' case lists (confirmed, suspected, contacts, cleared).")
audit_app = typer.Typer(help="The hash-chained audit trail of administrative acts.")
pages_app = typer.Typer(help="The pages of a deployment: resident, checkpoint, dashboard (AWS credentials from the environment).")
keys_app = typer.Typer(help="The QR signing keys of a deployment (AWS credentials from the environment).")
partner_app = typer.Typer(help="Partner cities: a leaked secret, a suspension (docs/runbook.md).")
areas_app = typer.Typer(help="Towns and villages below a county: registered, and their colours (Wencheng).")
for sub_app, name in (
    (region_app, "region"),
    (cases_app, "cases"),
    (audit_app, "audit"),
    (keys_app, "keys"),
    (pages_app, "pages"),
    (partner_app, "partner"),
    (areas_app, "areas"),
):
    app.add_typer(sub_app, name=name, no_args_is_help=True)

CASES_PER_REQUEST = 500  # the API's limit per case list
COLORS = {"green": "green", "yellow": "yellow", "red": "red"}


@dataclass
class Context:
    client: Client
    as_json: bool
    out: Console
    err: Console

    def emit(self, data: Any, human: Any = None) -> None:
        """``data`` as JSON with --json; otherwise ``human`` (a rich renderable or text), or the JSON."""
        if self.as_json or human is None:
            print(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            self.out.print(human)

    def answer(self, r: requests.Response, human: Any = None) -> None:
        """The API's answer: its body, or the refusal (exit 1)."""
        if not r.ok:
            if self.as_json:
                print(json.dumps(body_of(r), ensure_ascii=False, indent=2))
            raise CliError(refusal(r), ExitCode.REFUSED)
        self.emit(r.json(), human(r.json()) if callable(human) else human)

    def progress(self) -> Progress:
        return Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.err,
            transient=False,
        )


def _ctx(ctx: typer.Context) -> Context:
    return ctx.find_root().obj


@app.callback()
def _options(
    ctx: typer.Context,
    url: Annotated[
        str, typer.Option(envvar="HEALTHCODE_URL", help="The API's base URL (the stack's HttpApiUrl output).")
    ] = "http://127.0.0.1:8080",
    token: Annotated[
        str | None,
        typer.Option(
            envvar="HEALTHCODE_TOKEN", help="Bearer token; on the local stack a dev token is minted when none is given."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout (for scripts).")] = False,
) -> None:
    ctx.obj = Context(Client(url, token), as_json, Console(highlight=False), Console(stderr=True, highlight=False))


# ----------------------------------------------------------------------------- local


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="HEALTHCODE_PORT", help="The API's port.")] = 8080,
    aws_port: Annotated[int, typer.Option(help="moto's port (0: a free one).")] = 0,
    demo: Annotated[bool, typer.Option(help="Load the demo residents, regions and cases.")] = True,
    verbose: Annotated[bool, typer.Option(help="Also print the handlers' JSON logs.")] = False,
    parameter: Annotated[
        list[str] | None,
        typer.Option(help="A template parameter NAME=VALUE, as sam deploy --parameter-overrides (repeatable)."),
    ] = None,
) -> None:
    """Run the whole system on this machine: moto, the HTTP API, schedules and queues (development install)."""
    from healthcode_local.serve import serve as run  # the emulator: only in a development install

    malformed = [p for p in parameter or [] if "=" not in p]
    if malformed:  # a name given twice is no mistake: the last value wins, as with sam deploy
        raise typer.BadParameter(f"expected NAME=VALUE, got {malformed[0]!r}", param_hint="--parameter")
    overrides = dict(p.split("=", 1) for p in parameter or [])
    raise typer.Exit(run(host=host, port=port, aws_port=aws_port, demo=demo, verbose=verbose, parameters=overrides))


@app.command()
def token(
    ctx: typer.Context,
    sub: Annotated[str, typer.Argument(help="The subject (who the token is for).")],
    roles: Annotated[str, typer.Option(help="Comma-separated roles, e.g. checkpoint or health_admin.")] = "",
) -> None:
    """Mint a dev bearer token (local stack only)."""
    c = _ctx(ctx)
    minted = c.client.dev_token(sub, [r for r in roles.split(",") if r])
    c.emit({"sub": sub, "token": minted}, minted)


# ----------------------------------------------------------------------------- regions


def _rows(path: str, required: set[str], optional: set[str]) -> list[tuple[int, dict[str, str]]]:
    """The CSV's rows with their line numbers, after checking its header names the columns."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            header = set(reader.fieldnames or [])
            if not required <= header or not header <= required | optional:
                want = ",".join(sorted(required)) + (
                    f" (and optionally {','.join(sorted(optional))})" if optional else ""
                )
                raise usage(f"{path} line 1: the header must name {want}; it has {','.join(reader.fieldnames or [])!r}")
            rows = []
            for n, row in enumerate(reader, start=2):
                if None in row or any(v is None for v in row.values()):
                    raise usage(f"{path} line {n}: expected {len(header)} columns")
                rows.append((n, {k: v.strip() for k, v in row.items()}))
            return rows
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise usage(f"{path}: {exc}") from exc


def _region_code(code: str, where: str) -> str:
    if not re.fullmatch(r"\d{6}(\d{3}){0,2}", code):
        raise usage(f"{where}: code {code!r} is not a GB/T 2260 code")
    return code


def _region_line(v: dict[str, Any]) -> str:
    return f"{v['code']} {v['name']}: level {v['level']} (set {v['updated_at']} by {v['updated_by']})"


@region_app.command("set")
def region_set(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="GB/T 2260 code, e.g. 330106.")],
    level: Annotated[int, typer.Argument(min=1, max=5, help="1 low .. 5 high.")],
    name: Annotated[str | None, typer.Option(help="The region's name; omitted, the stored name stays.")] = None,
) -> None:
    """Set one region's risk level."""
    c = _ctx(ctx)
    body: dict[str, Any] = {"level": level} | ({"name": name} if name else {})
    c.answer(c.client.call("PUT", f"/admin/v1/regions/{_region_code(code, 'CODE')}", body), _region_line)


@region_app.command("load")
def region_load(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="CSV with the header code,level[,name]; every line is checked first.")],
) -> None:
    """Set the levels a CSV lists; nothing is sent unless every line is right."""
    c = _ctx(ctx)
    levels = []
    for line, row in _rows(file, {"code", "level"}, {"name"}):
        _region_code(row["code"], f"{file} line {line}")
        if row["level"] not in {"1", "2", "3", "4", "5"}:
            raise usage(f"{file} line {line}: level {row['level']!r} is not 1..5")
        levels.append(
            (line, row["code"], {"level": int(row["level"])} | ({"name": row["name"]} if row.get("name") else {}))
        )
    results = []
    with c.progress() as bar:
        task = bar.add_task("regions", total=len(levels))
        for line, code, body in levels:
            r = c.client.call("PUT", f"/admin/v1/regions/{code}", body)
            results.append(
                {"line": line, "code": code, "level": body["level"], "status": r.status_code}
                | ({} if r.ok else {"problem": refusal(r)})
            )
            bar.advance(task)
    table = Table("line", "code", "level", "result")
    for x in results:
        table.add_row(str(x["line"]), x["code"], str(x["level"]), "set" if x["status"] == 200 else x["problem"])
    c.emit({"regions": results, "failed": sum(x["status"] != 200 for x in results)}, table)
    if any(x["status"] != 200 for x in results):
        raise typer.Exit(ExitCode.REFUSED)


@region_app.command("proposals")
def region_proposals(
    ctx: typer.Context,
    region: Annotated[str | None, typer.Option(help="A province or city code; omitted: the map's.")] = None,
) -> None:
    """Counties where the published rule (GET /v1/map/rule) proposes another level; accept one with region set."""
    c = _ctx(ctx)
    if region is not None:
        _region_code(region, "--region")

    def human(v: dict[str, Any]) -> Table:
        table = Table("county", "in force", "proposed", v["proposals"][0]["indicator"] if v["proposals"] else "value")
        for p in v["proposals"]:
            table.add_row(
                f"{p['code']} {p['name']}", str(p["current_level"]), str(p["proposed_level"]), f"{p['value']:g}"
            )
        table.title = f"{v['rule']}, the 14 days to {v['as_of']}"
        return table

    c.answer(c.client.call("GET", "/admin/v1/regions/proposals" + _query(region=region)), human)


@areas_app.command("load")
def areas_load(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="CSV with the header code,name (9- or 12-digit codes); checked first.")],
) -> None:
    """Register the towns and villages a CSV lists (towns before their villages); nothing is sent unless
    every line is right."""
    c = _ctx(ctx)
    areas = []
    for line, row in _rows(file, {"code", "name"}, set()):
        if not re.fullmatch(r"\d{9}(\d{3})?", row["code"]):
            raise usage(f"{file} line {line}: code {row['code']!r} is not a 9- or 12-digit area code")
        if not row["name"]:
            raise usage(f"{file} line {line}: the name is empty")
        areas.append((line, row["code"], row["name"]))
    areas.sort(key=lambda a: (len(a[1]), a[1]))  # every town before any village
    failed = []
    with c.progress() as bar:
        task = bar.add_task("areas", total=len(areas))
        for line, code, name in areas:
            r = c.client.call("PUT", f"/admin/v1/areas/{code}", {"name": name})
            if not r.ok:
                failed.append(f"line {line}: {refusal(r)}")
            bar.advance(task)
    summary = {"registered": len(areas) - len(failed), "failed": failed}
    c.emit(summary, f"registered {summary['registered']}, failed {len(failed)}" + "".join(f"\n  {f}" for f in failed))
    if failed:
        raise typer.Exit(ExitCode.REFUSED)


@areas_app.command("list")
def areas_list(
    ctx: typer.Context,
    county: Annotated[str, typer.Argument(help="The county, e.g. 330328.")],
    color: Annotated[str | None, typer.Option(help="Only areas of this colour: green, yellow or red.")] = None,
) -> None:
    """A county's towns and villages with their holders by colour and the colour the published rule gives."""
    c = _ctx(ctx)
    _region_code(county, "COUNTY")
    if color is not None and color not in COLORS:
        raise usage(f"--color {color!r}: green, yellow or red")

    def human(v: dict[str, Any]) -> Table:
        table = Table("area", "holders", "green", "yellow", "red", "colour", title=f"{v['name']} ({v['rule']})")
        for a in v["areas"]:
            b = a["by_color"]
            table.add_row(
                f"{a['code']} {a['name']}",
                str(a["holders"]),
                str(b["green"]),
                str(b["yellow"]),
                str(b["red"]),
                f"[{COLORS[a['color']]}]{a['color']}[/]",
            )
        return table

    c.answer(c.client.call("GET", "/admin/v1/areas" + _query(county=county, color=color)), human)


# ----------------------------------------------------------------------------- cases


@cases_app.command("submit")
def cases_submit(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="CSV with the header id_type,id_number,status[,on].")],
    chunk: Annotated[
        int, typer.Option(min=1, max=CASES_PER_REQUEST, help=f"Rows per request (the API takes {CASES_PER_REQUEST}).")
    ] = CASES_PER_REQUEST,
) -> None:
    """Submit a case list in chunks the API accepts; prints accepted, known holders and failed rows by line."""
    c = _ctx(ctx)
    rows = _rows(file, {"id_type", "id_number", "status"}, {"on"})
    entries = [{k: v for k, v in row.items() if v} for _, row in rows]
    accepted = known = 0
    failed: list[str] = []
    with c.progress() as bar:
        task = bar.add_task("cases", total=len(entries))
        for start in range(0, len(entries), chunk):
            part = entries[start : start + chunk]
            r = c.client.call("POST", "/admin/v1/cases", {"cases": part})
            if r.ok:
                out = r.json()
                accepted, known = accepted + out["accepted"], known + out["known_holders"]
                failed += [f"line {rows[start + f['index']][0]}: {f['reason']}" for f in out.get("failed", [])]
            else:
                failed.append(f"lines {rows[start][0]}-{rows[start + len(part) - 1][0]}: {refusal(r)}")
            bar.advance(task, len(part))
    c.err.print(f"sent {len(entries)}/{len(entries)} rows in {-(-len(entries) // chunk)} requests")
    summary = {"accepted": accepted, "known_holders": known, "failed": failed}
    human = f"accepted {accepted}, known holders {known}, failed {len(failed)}" + "".join(f"\n  {f}" for f in failed)
    c.emit(summary, human)
    if failed:
        raise typer.Exit(ExitCode.REFUSED)


# ----------------------------------------------------------------------------- rescoring


@app.command()
def rescore(
    ctx: typer.Context,
    all_holders: Annotated[
        bool, typer.Option("--all", help="A full run over every holder (e.g. after a ruleset change).")
    ] = False,
    segments: Annotated[int | None, typer.Option(min=1, max=256, help="Parallel segments of a full run.")] = None,
    wait: Annotated[bool, typer.Option(help="With --all: follow the run's progress until it finishes.")] = False,
    poll: Annotated[float, typer.Option(min=0.1, help="Seconds between progress reads.")] = 2.0,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds --wait waits before giving up (exit 4).")] = 3600,
) -> None:
    """Queue rescoring now: the holders due today, or with --all a full run."""
    c = _ctx(ctx)
    if (wait or segments) and not all_holders:
        raise usage("--wait and --segments apply to a full run: add --all")
    body: dict[str, Any] = {"scope": "all" if all_holders else "due"} | ({"segments": segments} if segments else {})
    r = c.client.call("POST", "/admin/v1/rescoring", body)
    if not wait or not r.ok:
        c.answer(
            r,
            lambda v: (
                f"queued {v['scope']} rescoring at {v['queued_at']}"
                + (f", run {v['run_id']}" if v.get("run_id") else "")
            ),
        )
        return
    run_id = r.json()["run_id"]
    deadline = time.monotonic() + timeout
    with c.progress() as bar:
        task = bar.add_task(f"run {run_id}", total=None)
        while True:
            r = c.client.call("GET", f"/admin/v1/rescoring/{run_id}")
            if not r.ok:
                c.answer(r)
            run = r.json()
            bar.update(
                task,
                total=run["segments_total"],
                completed=run["segments_done"],
                description=f"run {run_id}: {run['holders_read']} read, {run['holders_changed']} changed",
            )
            if run["finished"] or time.monotonic() >= deadline:
                break
            time.sleep(poll)
    c.emit(
        run,
        f"run {run_id}: {'finished' if run['finished'] else 'still running'}, "
        f"{run['segments_done']}/{run['segments_total']} segments, {run['holders_read']} holders read, "
        f"{run['holders_changed']} changed",
    )
    if not run["finished"]:
        raise typer.Exit(ExitCode.STILL_RUNNING)


# ----------------------------------------------------------------------------- codes


def _code_view(v: dict[str, Any]) -> Table:
    table = Table(
        title=f"[{COLORS.get(v['color'], 'white')}]{v['color'].upper()}[/] {v['masked_name']}, score {v['score']}"
    )
    table.add_column("factor")
    table.add_column("points", justify="right")
    table.add_column("why")
    for reason in v["reasons"]:
        table.add_row(reason["factor"], str(reason["points"]), reason["detail"])
    if v.get("green_eligible_on"):
        table.caption = f"green eligible on {v['green_eligible_on']}"
    return table


@app.command()
def code(
    ctx: typer.Context,
    sub: Annotated[
        str | None, typer.Argument(help="The holder's subject (local stack); with --token, must be the token's.")
    ] = None,
) -> None:
    """A holder's code: colour, reasons and when green is possible."""
    c = _ctx(ctx)
    if c.client.token:
        owner = token_subject(c.client.token)
        if sub is not None and owner != sub:
            raise usage(f"--token belongs to {owner!r}, not {sub!r}: it would show their code")
    elif sub is None:
        raise usage("name the holder's subject, or pass their --token")
    c.answer(c.client.call("GET", "/v1/codes/me", sub=sub or "", roles=()), _code_view)


# ----------------------------------------------------------------------------- statistics and the map

Day = Annotated[str | None, typer.Option(help="A day, YYYY-MM-DD (Asia/Shanghai); omitted: now.")]


def _day(value: str | None, option: str) -> str | None:
    if value is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise usage(f"{option} {value!r}: expected YYYY-MM-DD")
    return value


def _query(**params: str | None) -> str:
    given = {k: v for k, v in params.items() if v is not None}
    return ("?" + "&".join(f"{k}={v}" for k, v in given.items())) if given else ""


@app.command()
def stats(
    ctx: typer.Context,
    region: Annotated[str | None, typer.Option(help="A province, city or county code, e.g. 330100.")] = None,
    at: Day = None,
) -> None:
    """Codes issued, holders by colour and the green rate, for a region and a day."""
    c = _ctx(ctx)
    if region is not None:
        _region_code(region, "--region")
    path = "/admin/v1/stats" + _query(region=region, at=_day(at, "--at"))

    def human(v: dict[str, Any]) -> Table:
        table = Table("colour", "holders", title=f"{v['name'] or 'everywhere'} {v['on']}: {v['codes_issued']} codes")
        for color in ("green", "yellow", "red"):
            table.add_row(f"[{COLORS[color]}]{color}[/]", str(v["by_color"][color]))
        rate = v["green_rate"]
        table.caption = f"green rate {rate:.2%}" if rate is not None else "no codes"
        return table

    c.answer(c.client.call("GET", path), human)


@app.command("map")
def map_(
    ctx: typer.Context,
    region: Annotated[str | None, typer.Option(help="A province or city code; omitted: the deployment's map.")] = None,
    as_of: Day = None,
    svg: Annotated[str | None, typer.Option(help="Write the map as an SVG picture to this file.")] = None,
) -> None:
    """The five-colour map: every county's risk level, when and by whom it was set."""
    c = _ctx(ctx)
    if region is not None:
        _region_code(region, "--region")
    query = _query(region=region, as_of=_day(as_of, "--as-of"))
    if svg:
        r = c.client.call("GET", "/v1/map.svg" + query)
        if not r.ok:
            c.answer(r)
        try:
            with open(svg, "w", encoding="utf-8") as fh:
                fh.write(r.text)
        except OSError as exc:
            raise usage(f"--svg {svg}: {exc}") from exc
        c.emit({"svg": svg, "bytes": len(r.content)}, f"wrote {svg}")
        return

    def human(v: dict[str, Any]) -> Table:
        table = Table("county", "level", "colour", "set by", title=f"{v['name'] or ''} {v['as_of']}")
        for county in v["counties"]:
            table.add_row(
                f"{county['code']} {county['name']}",
                str(county["level"]),
                county["color"],
                f"{county['set_by'] or ''} {county['set_at'] or ''}".strip(),
            )
        table.caption = ", ".join(f"{k} {n}" for k, n in v["per_level"].items())
        return table

    c.answer(c.client.call("GET", "/v1/map" + query), human)


@app.command()
def index(
    ctx: typer.Context,
    region: Annotated[str | None, typer.Option(help="A province, city or county code; omitted: the map's.")] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="The first day, YYYY-MM-DD; omitted: 6 days before --to.")
    ] = None,
    to: Annotated[str | None, typer.Option(help="The last day, YYYY-MM-DD; omitted: yesterday.")] = None,
    formula: Annotated[bool, typer.Option(help="Print the published formula document instead.")] = False,
) -> None:
    """The smart control index per county and day, with its sub-indices (the raw values with --json); exact
    figures, small numbers included (an official's: role health_admin)."""
    c = _ctx(ctx)
    if formula:
        c.answer(c.client.call("GET", "/v1/index/formula"))
        return
    if region is not None:
        _region_code(region, "--region")
    query = _query(region=region, **{"from": _day(from_, "--from")}, to=_day(to, "--to"))

    def human(v: dict[str, Any]) -> Table:
        table = Table("day", "county", "index", "control", "smoothness", title=f"{v['name']} {v['first']}..{v['last']}")
        for d in v["days"]:
            table.add_row(
                d["day"],
                f"{d['county']} {d['name']}",
                *("—" if d[k] is None else f"{d[k]:.1f}" for k in ("index", "control", "smoothness")),
            )
        return table

    c.answer(c.client.call("GET", "/admin/v1/index" + query), human)  # an official's: exact figures


@app.command()
def scans(
    ctx: typer.Context,
    checkpoint: Annotated[str | None, typer.Option(help="One checkpoint's id.")] = None,
    area: Annotated[str | None, typer.Option(help="Every checkpoint placed in this county, town or village.")] = None,
    on: Day = None,
) -> None:
    """A day's checkpoint scans by the colour seen: one checkpoint, or a street's (an area's) checkpoints."""
    c = _ctx(ctx)
    if (checkpoint is None) == (area is None):
        raise usage("name one of --checkpoint ID or --area CODE")
    day = _day(on, "--on")
    if area is not None:
        if not re.fullmatch(r"\d{6}(\d{3}){0,2}", area):
            raise usage(f"--area {area!r}: a 6-, 9- or 12-digit code")
        path = f"/admin/v1/areas/{area}/scans"
    else:
        if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", checkpoint or ""):
            raise usage(f"--checkpoint {checkpoint!r}: letters, digits and _ . : -")
        path = f"/admin/v1/checkpoints/{checkpoint}/scans"

    def human(v: dict[str, Any]) -> str:
        b = v["by_color"]
        return (
            f"{v.get('area') or v.get('checkpoint_id')} {v['on']}: {v['scans']} scans, green {b['green']}, "
            f"yellow {b['yellow']}, red {b['red']}, unreadable {v['unreadable']}"
        )

    c.answer(c.client.call("GET", path + _query(on=day)), human)


@areas_app.command("checkpoint")
def areas_checkpoint(
    ctx: typer.Context,
    checkpoint_id: Annotated[str, typer.Argument(help="The checkpoint's id, as scanners send it.")],
    area: Annotated[str, typer.Argument(help="The county, or a registered town or village, it is in.")],
) -> None:
    """Place a checkpoint in an area, so a street's checkpoints are counted together (healthcode scans --area)."""
    c = _ctx(ctx)
    if not re.fullmatch(r"\d{6}(\d{3}){0,2}", area):
        raise usage(f"AREA {area!r}: a 6-, 9- or 12-digit code")
    c.answer(
        c.client.call("PUT", f"/admin/v1/checkpoints/{checkpoint_id}", {"area": area}),
        lambda v: f"{v['checkpoint_id']} placed in {v['area']}",
    )


# ----------------------------------------------------------------------------- audit


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context,
    day: Annotated[str, typer.Option(help="The day, YYYY-MM-DD (Asia/Shanghai).")],
    public_key: Annotated[
        Path | None,
        typer.Option(help="The digests' verifying key (PEM) you keep; default: the one published beside them."),
    ] = None,
) -> None:
    """Recompute a day's hash chain here from the records (not trusting the API's verdict) and check them
    against the signed hourly digests and, once the day is over, its daily digest (GET /v1/audit/digests)
    with the public key alone: an edited (even rehashed), inserted or deleted record, the last one
    included, fails, as does a replaced hourly digest. Exit 1 naming the period."""
    from datetime import date, timedelta

    from healthcode.auditchain import check_daily, check_digests, verify, written_before

    c = _ctx(ctx)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
        raise usage(f"--day {day!r}: expected YYYY-MM-DD")
    r = c.client.call("GET", f"/admin/v1/audit?from={day}", sub="auditor", roles=("auditor",))
    if not r.ok:
        c.answer(r)
    records = r.json()["records"]
    problems = verify(records, day)
    stored = r.json()["days"][0]["records"]
    if stored != len(records):
        problems.append(f"{stored} records stored, {len(records)} readable")
    before = (date.fromisoformat(day) - timedelta(days=1)).isoformat()
    published = c.client.call("GET", f"/v1/audit/digests?from={before}&to={day}")
    if not published.ok:
        c.answer(published)
    signed = published.json()
    pem = public_key.read_text() if public_key else signed["public_key_pem"]
    digests = [d for d in signed["digests"] if d["day"] == day]
    if digests:
        problems += check_digests(records, digests, _signature_check(pem), written_before)
    whole = {d["day"]: d for d in signed.get("daily", [])}
    if day in whole:
        problems += check_daily(records, digests, whole[day], whole.get(before), _signature_check(pem))
    covered = digests[-1]["period"] if digests else None
    report = {"day": day, "records": len(records), "digests": len(digests), "signed_to": covered}
    report |= {"day_signed": day in whole, "intact": not problems, "problems": problems}
    note = f", signed to {covered}:59" if covered else ", no signed digest yet"
    note += " and as a whole day" if day in whole else ""
    c.emit(
        report,
        f"{day}: {len(records)} records{note}, "
        + ("intact" if not problems else "BROKEN\n  " + "\n  ".join(problems)),
    )
    if problems:
        raise typer.Exit(ExitCode.REFUSED)


@audit_app.command("colours")
def audit_colours(
    ctx: typer.Context,
    wait: Annotated[bool, typer.Option(help="Start a new check and follow it to its end (else: the latest).")] = False,
    reason: Annotated[str, typer.Option(help="Why the check is run now (on the audit trail).")] = "on demand by an auditor",
    timeout: Annotated[float, typer.Option(help="Seconds to wait at most.")] = 600.0,
) -> None:
    """Every holder's stored colour against their facts, the rules and the trail: list the colours nothing
    explains (written around the door). Exit 1 when there is one. Role auditor; repairs nothing."""
    c = _ctx(ctx)
    as_auditor = {"sub": "auditor", "roles": ("auditor",)}
    if wait:
        started = c.client.call("POST", "/admin/v1/audit/colour-checks", {"reason": reason}, **as_auditor)  # type: ignore[arg-type]
        if started.status_code != 202:
            c.answer(started)
        path = f"/admin/v1/audit/colour-checks/{started.json()['check_id']}"
    else:
        path = "/admin/v1/audit/colour-checks/latest"
    deadline = time.monotonic() + timeout
    while True:
        r = c.client.call("GET", path, **as_auditor)  # type: ignore[arg-type]
        if not r.ok:
            c.answer(r)
        check = r.json()
        if not wait or check["status"] == "done":
            break
        if time.monotonic() > deadline:
            raise CliError(f"the check {check['check_id']} was still running after {timeout:.0f} s", ExitCode.STILL_RUNNING)
        time.sleep(1)
    lines = [f"{f['holder_id']}: " + "; ".join(f["problems"]) for f in check["findings"]]
    c.emit(
        check,
        f"{check['check_id']} ({check['status']}): {check['checked']} holders checked, "
        f"{check['unexplained']} colours nothing on the trail explains" + ("\n  " + "\n  ".join(lines) if lines else ""),
    )
    if check["unexplained"]:
        raise typer.Exit(ExitCode.REFUSED)


def _signature_check(pem: str) -> Any:
    """bytes, base64 signature -> whether the ECDSA P-256 SHA-256 signature verifies with ``pem``."""
    import base64

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(pem.encode())

    def ok(message: bytes, signature: str) -> bool:
        try:
            key.verify(base64.b64decode(signature), message, ec.ECDSA(hashes.SHA256()))  # type: ignore[union-attr,call-arg]
        except (InvalidSignature, ValueError, TypeError):
            return False
        return True

    return ok


# ----------------------------------------------------------------------------- partners

PARTNER_ID = r"[a-z0-9-]{2,40}"


def _partner(partner_id: str) -> str:
    if not re.fullmatch(PARTNER_ID, partner_id):
        raise usage(f"PARTNER_ID {partner_id!r}: 2 to 40 of a-z, 0-9 and -")
    return partner_id


@partner_app.command("secret")
def partner_secret(
    ctx: typer.Context,
    partner_id: Annotated[str, typer.Argument(help="The partner's id.")],
    emergency: Annotated[
        bool, typer.Option(help="The old secret stops working at once (it leaked); otherwise it works 24 h more.")
    ] = False,
) -> None:
    """Rotate a partner's HMAC secret; the new one is printed once: hand it over by a secure channel."""
    c = _ctx(ctx)
    r = c.client.call("POST", f"/admin/v1/partners/{_partner(partner_id)}/secret?emergency={str(emergency).lower()}")
    c.answer(
        r,
        lambda v: (
            f"{v['partner_id']}: new secret {v['secret']}\nold secret "
            + (f"valid until {v['previous_secret_valid_until']}" if v.get("previous_secret_valid_until") else "revoked")
        ),
    )


@partner_app.command("suspend")
def partner_suspend(
    ctx: typer.Context,
    partner_id: Annotated[str, typer.Argument(help="The partner's id.")],
) -> None:
    """Suspend a partner at once: its requests are refused; its codes stop passing at the next trust refresh."""
    c = _ctx(ctx)
    c.answer(
        c.client.call("DELETE", f"/admin/v1/partners/{_partner(partner_id)}"), lambda v: f"{v['partner_id']}: suspended"
    )


@partner_app.command("reinstate")
def partner_reinstate(
    ctx: typer.Context,
    partner_id: Annotated[str, typer.Argument(help="The partner's id.")],
    reason: Annotated[str, typer.Option(help="Why it may be trusted again (on the audit trail).")],
) -> None:
    """Lift a suspension (nothing else does: an update keeps a suspended partner suspended)."""
    c = _ctx(ctx)
    path = f"/admin/v1/partners/{_partner(partner_id)}/reinstate"
    c.answer(c.client.call("POST", path, {"reason": reason}), lambda v: f"{v['partner_id']}: reinstated")


# ----------------------------------------------------------------------------- pages


@pages_app.command("publish")
def pages_publish(
    ctx: typer.Context,
    stack: Annotated[str, typer.Option(help="The deployed stack's name: bucket, URLs and issuer from it.")],
) -> None:
    """Upload web/ and its config.json (the API's URL, the identity provider) to the stack's PagesBucket."""
    import boto3

    from healthcode_ops import pages

    c = _ctx(ctx)
    found = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}
    params = {p["ParameterKey"]: p.get("ParameterValue", "") for p in found.get("Parameters", [])}
    cfg = pages.config(outputs["ApiUrl"], params["JwtIssuer"], params["JwtAudience"])
    written = pages.publish(boto3.client("s3"), outputs["PagesBucketName"], cfg)
    c.emit({"bucket": outputs["PagesBucketName"], "files": written, "url": outputs["PagesUrl"]},
           f"{len(written)} files published: {outputs['PagesUrl']}")


# ----------------------------------------------------------------------------- keys


@keys_app.command("rotate")
def keys_rotate(
    ctx: typer.Context,
    stack: Annotated[
        str | None, typer.Option(help="The deployed stack's name: secret and parameter from its outputs.")
    ] = None,
    secret: Annotated[str | None, typer.Option(help="SigningKeySecret ARN (stack output SigningKeySecretArn).")] = None,
    parameter: Annotated[str | None, typer.Option(help="JwksParameter name (stack output JwksParameterName).")] = None,
    if_none: Annotated[bool, typer.Option(help="Only if the deployment has no signing key yet (make deploy).")] = False,
    retire: Annotated[
        str | None,
        typer.Option(
            help="A leaked key's id: unpublish it at once (and sign with a new key if it was the active one)."
        ),
    ] = None,
) -> None:
    """Publish a new QR signing key, then sign with it: the rotation the deployed RotateKeysFunction runs monthly."""
    import boto3

    from healthcode.adapters import keyring

    c = _ctx(ctx)
    if stack:
        stacks = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
        secret, parameter = outputs["SigningKeySecretArn"], outputs["JwksParameterName"]
    if not (secret and parameter):
        raise usage("keys rotate needs --stack NAME, or --secret ARN and --parameter NAME")
    if retire and if_none:
        raise usage("--retire and --if-none do not go together")
    clients = (boto3.client("secretsmanager"), boto3.client("ssm"), secret, parameter)
    try:
        kid = keyring.retire(*clients, retire) if retire else (keyring.ensure if if_none else keyring.rotate)(*clients)
    except KeyError as exc:
        raise usage(str(exc.args[0])) from exc
    c.emit(
        {"active_kid": kid, "retired": retire}, f"active signing key: {kid}" + (f"; {retire} retired" if retire else "")
    )


def main(argv: list[str] | None = None) -> int:
    try:  # typer's standalone mode: usage errors print and exit 2, --help exits 0
        app(args=argv, prog_name="healthcode")
    except CliError as exc:
        # one line however long (a file's path): scripts and people grep it
        Console(stderr=True, highlight=False, soft_wrap=True).print(f"healthcode: {exc}", markup=False)
        return int(exc.code)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else int(ExitCode.OK if exc.code is None else ExitCode.USAGE)
    return int(ExitCode.OK)


if __name__ == "__main__":
    sys.exit(main())
