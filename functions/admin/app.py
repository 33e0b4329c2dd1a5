"""Health authority routes: region risk levels, case lists, rescoring runs, rulesets, partner cities and
their webhook deliveries; and community offices' tasks (role community_worker, within its areas)."""

from datetime import date
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthcode import clock, notices
from healthcode.api.callers import caller, check, claims_of
from healthcode.api.problems import documented
from healthcode.api.resolver import build_resolver, json_response
from healthcode.models import (
    CaseListRequest,
    CaseListView,
    DeliveriesView,
    PartnerRequest,
    PartnerView,
    RegionLevelRequest,
    RegionView,
    RescoringRequest,
    RescoringView,
    RulesetPublishRequest,
    RulesetView,
    RunView,
    TasksView,
    TaskView,
)
from healthcode.wiring import services

logger = Logger()
SCOPE = "health_admin"
WORKER = "community_worker"
app = build_resolver(scopes={"/admin/": SCOPE, "/admin/v1/tasks": (WORKER, SCOPE)})
Cursor = Annotated[str | None, Query(max_length=2048, description="the `next` of the previous page")]
Language = Annotated[str | None, Header(alias="accept-language", max_length=256)]


@app.put(
    "/admin/v1/regions/<code>",
    summary="Set a region's risk level (rescoring follows)",
    responses=documented(200, RegionView, 400, 401, 403, 404, 413, 415, 422),
)
def put_region(code: Annotated[str, Path(pattern=r"^\d{6}(\d{3}){0,2}$")], body: RegionLevelRequest):
    who = caller(app)
    return json_response(services().authority.set_region_level(code, body, who.sub, clock.now()))


@app.post(
    "/admin/v1/cases",
    summary="Record an authority case list (rescoring follows)",
    responses=documented(202, CaseListView, 400, 401, 403, 413, 415, 422, 503),
)
def post_cases(body: CaseListRequest):
    who = caller(app)
    return json_response(services().authority.record_cases(body, who.sub, clock.now()), status=202)


@app.post(
    "/admin/v1/rescoring",
    summary="Queue rescoring: due holders, or a full run",
    responses=documented(202, RescoringView, 400, 401, 403, 413, 415, 422),
)
def post_rescoring(body: RescoringRequest):
    who = caller(app)
    return json_response(services().authority.start_rescoring(body, who.sub, clock.now()), status=202)


@app.get(
    "/admin/v1/rescoring/<run_id>",
    summary="Progress of a full run",
    responses=documented(200, RunView, 401, 403, 404, 422),
)
def get_rescoring_run(run_id: Annotated[str, Path(max_length=128)]):
    return json_response(services().authority.run(run_id))


@app.post(
    "/admin/v1/rulesets",
    summary="Publish a ruleset version (takes effect at its time)",
    responses=documented(201, RulesetView, 400, 401, 403, 409, 413, 415, 422),
)
def post_ruleset(body: RulesetPublishRequest):
    who = caller(app)
    return json_response(services().authority.publish_ruleset(body, who.sub), status=201)


@app.put(
    "/admin/v1/partners/<partner_id>",
    summary="Register or update a partner city (a new one's secret is shown once)",
    responses=documented(200, PartnerView, 400, 401, 403, 413, 415, 422),
)
def put_partner(partner_id: Annotated[str, Path(pattern=r"^[a-z0-9-]{2,40}$")], body: PartnerRequest):
    return json_response(services().partner_admin.register(partner_id, body, clock.now()))


@app.post(
    "/admin/v1/partners/<partner_id>/secret",
    summary="Rotate a partner's secret (the old one stays valid 24 h, or not at all with emergency=true)",
    responses=documented(200, PartnerView, 401, 403, 404, 413, 415, 422),
)
def rotate_partner_secret(
    partner_id: Annotated[str, Path(pattern=r"^[a-z0-9-]{2,40}$")],
    emergency: Annotated[bool, Query(description="the old secret stops working at once (it may have leaked)")] = False,
):
    return json_response(services().partner_admin.rotate(partner_id, clock.now(), emergency))


@app.delete(
    "/admin/v1/partners/<partner_id>",
    summary="Suspend a partner city at once (its codes are dropped at the next trust refresh)",
    responses=documented(200, PartnerView, 401, 403, 404, 422),
)
def suspend_partner(partner_id: Annotated[str, Path(pattern=r"^[a-z0-9-]{2,40}$")]):
    return json_response(services().partner_admin.suspend(partner_id))


@app.get(
    "/admin/v1/partners/<partner_id>/deliveries",
    summary="A partner city's webhook deliveries, newest first: delivered, pending (with the next attempt) or dead",
    responses=documented(200, DeliveriesView, 400, 401, 403, 422),
)
def get_partner_deliveries(partner_id: Annotated[str, Path(pattern=r"^[a-z0-9-]{2,40}$")], after: Cursor = None):
    return json_response(services().delivery_log.of(partner_id, after, services().pages.listing))


@app.get(
    "/admin/v1/tasks",
    summary="A community office's tasks (holders of the area who turned yellow or red), with times to acknowledgement",
    responses=documented(200, TasksView, 400, 401, 403, 422),
)
def get_tasks(
    area: Annotated[str, Query(pattern=r"^\d{6}(\d{3}){0,2}$", description="the office's area or county code")],
    status: Annotated[str | None, Query(pattern=r"^(open|acknowledged)$")] = None,
    on: Annotated[date | None, Query(description="the day the acknowledgement times are for (default today)")] = None,
    after: Cursor = None,
    accept_language: Language = None,
):
    who = check(claims_of(app.current_event.raw_event), (WORKER, SCOPE))
    now = clock.now()
    view = services().offices.list(
        area,
        status,
        on or now.date(),
        who.areas if WORKER in who.scopes else frozenset(),
        SCOPE in who.scopes,
        notices.language(accept_language),
        after,
        services().pages.listing,
    )
    return json_response(view)


@app.post(
    "/admin/v1/tasks/<task_id>/ack",
    summary="Acknowledge a task (community_worker of the task's area, or of the county it escalated to)",
    responses=documented(200, TaskView, 401, 403, 404, 413, 415, 422),
)
def ack_task(task_id: Annotated[str, Path(max_length=128)], accept_language: Language = None):
    who = check(claims_of(app.current_event.raw_event), WORKER)
    view = services().offices.acknowledge(task_id, who.sub, who.areas, notices.language(accept_language), clock.now())
    return json_response(view)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
