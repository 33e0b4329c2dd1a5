"""The authority's read side (一图): code statistics and checkpoint counts (health_admin), the public
five-colour map as JSON and as a picture; and, every minute on a schedule, the sums the statistics are
read from (see :mod:`healthcode.usecases.statistics`)."""

import json
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthcode import clock
from healthcode.api.params import Day
from healthcode.api.problems import documented
from healthcode.api.resolver import build_resolver, json_response
from healthcode.models import (
    AreaScansView,
    AreasView,
    AuditDigestsView,
    CheckpointScansView,
    IndexView,
    MapView,
    ProposalsView,
    ReconciliationView,
    StatsView,
)
from healthcode.stats import formula, local_day
from healthcode.wiring import services

logger = Logger()
metrics = Metrics()
app = build_resolver(scopes={"/admin/": "health_admin"})
Region = Annotated[
    str | None, Query(pattern=r"^\d{6}$", description="a province, city or county code (GB/T 2260), e.g. 330100")
]
IndexFrom = Annotated[Day | None, Query(alias="from", description="the first day; omitted: 6 days before to")]
IndexTo = Annotated[Day | None, Query(description="the last day; omitted: yesterday")]
PUBLIC_CACHE = {"Cache-Control": "public, max-age=60"}  # levels change by a person's act, rarely


def _published(doc: dict[str, Any]) -> Response[str]:
    """A published, versioned document (a formula, a rule): the same until a new version ships."""
    body = json.dumps(doc, ensure_ascii=False)
    return Response(200, "application/json", body, headers={"Cache-Control": "public, max-age=3600"})


Place = Annotated[
    str | None,
    Query(pattern=r"^\d{6}(\d{3}){0,2}$", description="a province, city, county (6 digits), town (9) or village (12)"),
]


@app.get(
    "/admin/v1/areas",
    summary="A county's registered towns and villages, with holders by colour and the colour the published rule gives",
    responses=documented(200, AreasView, 401, 403, 404, 422),
)
def get_areas(
    county: Annotated[str, Query(pattern=r"^\d{6}$", description="the county, e.g. 330328")],
    color: Annotated[
        str | None, Query(pattern=r"^(green|yellow|red)$", description="only areas of this colour")
    ] = None,
):
    return json_response(services().statistics.areas(county, color, clock.now()))


@app.get(
    "/admin/v1/areas/<code>/scans",
    summary="A day's scans at the checkpoints placed in a county, town or village, by the colour seen",
    responses=documented(200, AreaScansView, 401, 403, 404, 422),
)
def get_area_scans(
    code: Annotated[str, Path(pattern=r"^\d{6}(\d{3}){0,2}$")],
    on: Annotated[Day | None, Query(description="the day (Asia/Shanghai); omitted: today")] = None,
):
    return json_response(services().statistics.area_scans(code, on or local_day(clock.now())))


@app.get(
    "/admin/v1/stats",
    summary="Codes issued, holders by colour and the green rate, for a region and a day",
    responses=documented(200, StatsView, 401, 403, 404, 422),
)
def get_stats(
    region: Place = None,
    at: Annotated[Day | None, Query(description="a past day (Asia/Shanghai); omitted: now")] = None,
):
    return json_response(services().statistics.stats(region, at, clock.now()))


@app.get(
    "/admin/v1/stats/reconciliation",
    summary="The nightly reconciliation of a day: counts compared with the holders, drift found and repaired",
    responses=documented(200, ReconciliationView, 401, 403, 404, 422),
)
def get_reconciliation(on: Annotated[Day | None, Query(description="the day it ran; omitted: today")] = None):
    return json_response(services().statistics.reconciliation(on or local_day(clock.now())))


@app.get(
    "/admin/v1/checkpoints/<checkpoint_id>/scans",
    summary="A checkpoint's scans on a day, by the colour seen",
    responses=documented(200, CheckpointScansView, 401, 403, 422),
)
def get_checkpoint_scans(
    checkpoint_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")],
    on: Annotated[Day | None, Query(description="the day (Asia/Shanghai); omitted: today")] = None,
):
    return json_response(services().statistics.checkpoint_scans(checkpoint_id, on or local_day(clock.now())))


@app.get(
    "/v1/map",
    summary="The five-colour map: every county's risk level, when and by whom it was set (public)",
    responses=documented(200, MapView, 404, 422),
)
def get_map(
    region: Region = None,
    as_of: Annotated[Day | None, Query(description="a past day: the map at its end")] = None,
):
    return json_response(services().statistics.map(region, as_of, clock.now()), headers=PUBLIC_CACHE)


@app.get(
    "/v1/map.svg",
    summary="The five-colour map as a picture: each county a coloured mark at its seat, a legend, the date (public)",
    responses=documented(200, None, 404, 422)
    | {200: {"description": "An SVG picture", "content": {"image/svg+xml": {"schema": {"type": "string"}}}}},
)
def get_map_svg(
    region: Region = None,
    as_of: Annotated[Day | None, Query(description="a past day: the map at its end")] = None,
) -> Response[str]:
    svg = services().statistics.map_svg(region, as_of, clock.now())
    return Response(status_code=200, content_type="image/svg+xml; charset=utf-8", body=svg, headers=PUBLIC_CACHE)


@app.get(
    "/v1/audit/digests",
    summary="The audit trail's signed hourly digests and the key that verifies them, so anyone can check it only grew (public)",
    responses=documented(200, AuditDigestsView, 422),
)
def get_audit_digests(
    from_: Annotated[Day, Query(alias="from", description="first day (Asia/Shanghai)")],
    to: Annotated[Day | None, Query(description="last day (default: from); at most 31 days")] = None,
):
    return json_response(services().audit.published_digests(from_, to or from_))


@app.get(
    "/admin/v1/regions/proposals",
    summary="Counties where the published levels rule proposes another level than the one in force",
    responses=documented(200, ProposalsView, 401, 403, 404, 422),
)
def get_proposals(region: Region = None):
    return json_response(services().statistics.proposals(region, clock.now()))


@app.get(
    "/v1/map/rule",
    summary="The published rule that proposes county risk levels from the code statistics (public)",
    responses={200: {"description": "The document", "content": {"application/json": {"schema": {"type": "object"}}}}},
)
def get_levels_rule() -> Response[str]:
    return _published(formula("levels-v1"))


@app.get(
    "/v1/index/formula",
    summary="The smart control index's formula: indicators, how each is scaled to 0..100, weights (public)",
    responses={200: {"description": "The document", "content": {"application/json": {"schema": {"type": "object"}}}}},
)
def get_index_formula() -> Response[str]:
    return _published(formula())


@app.get(
    "/v1/index",
    summary="The smart control index per county and day, with both sub-indices and every indicator's raw value (public)",
    responses=documented(200, IndexView, 404, 422),
)
def get_index(
    region: Region = None,
    from_: IndexFrom = None,
    to: IndexTo = None,
):
    return json_response(services().statistics.index(region, from_, to, clock.now()), headers=PUBLIC_CACHE)


@app.get(
    "/admin/v1/index",
    summary="The smart control index with exact figures, small numbers included (health_admin)",
    responses=documented(200, IndexView, 401, 403, 404, 422),
)
def get_exact_index(
    region: Region = None,
    from_: IndexFrom = None,
    to: IndexTo = None,
):
    return json_response(services().statistics.index(region, from_, to, clock.now(), exact=True))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "requestContext" in event:
        return app.resolve(event, context)
    if event.get("kind") == "reconcile":  # the nightly schedule
        run_id = services().statistics.start_reconciliation(clock.now())
        logger.info("statistics reconciliation started", extra={"run": run_id})
        return {"run_id": run_id}
    done = services().statistics.aggregate(clock.now())  # the minute's schedule (EventBridge Scheduler)
    if done.days:
        logger.info("statistics days rolled", extra={"days": done.days})
    metrics.add_metric(name="StatsHoursSummed", unit=MetricUnit.Count, value=done.hours)
    if done.drift is not None:  # a night's reconciliation finished: the places it found off (and repaired)
        metrics.add_metric(name="StatsDrift", unit=MetricUnit.Count, value=done.drift)
    return {"hours": done.hours, "days": done.days, "drift": done.drift}
