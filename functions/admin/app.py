"""Health authority routes: region risk levels, case lists, rescoring runs, rulesets, partner cities and
their webhook deliveries, appeals, overrides under dual control (role health_director for bulk ones);
community offices' tasks (role community_worker, within its areas); the audit trail (role auditor, read
only). Every act of the authority appends an audit record after it is done."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthcode import clock, i18n
from healthcode.api.callers import Caller, caller, check, claims_of
from healthcode.api.params import Cursor, Day
from healthcode.api.problems import documented
from healthcode.api.resolver import build_resolver, json_response
from healthcode.errors import Forbidden
from healthcode.models import (
    AppealDecisionRequest,
    AppealsView,
    AppealView,
    AreaRequest,
    AreaView,
    AuditView,
    CaseListRequest,
    CaseListView,
    CheckpointPlaceRequest,
    CheckpointPlaceView,
    ColourCheckRequest,
    ColourCheckView,
    DeliveriesView,
    OverrideRequest,
    OverridesView,
    OverrideView,
    PartnerRequest,
    PartnerView,
    RegionLevelRequest,
    RegionView,
    ReinstateRequest,
    RescoringRequest,
    RescoringView,
    RulesetPublishRequest,
    RulesetView,
    RulesetWithdrawalView,
    RunView,
    TasksView,
    TaskView,
)
from healthcode.wiring import services

logger = Logger()
SCOPE = "health_admin"
WORKER = "community_worker"
AUDITOR = "auditor"
DIRECTOR = "health_director"
app = build_resolver(
    scopes={
        "/admin/": SCOPE,
        "/admin/v1/tasks": (WORKER, SCOPE),
        "/admin/v1/audit": AUDITOR,
        "/admin/v1/overrides": (SCOPE, DIRECTOR),
    }
)
OverrideId = Annotated[str, Path(pattern=r"^ov-[0-9a-f]{24}$")]
AppealId = Annotated[str, Path(pattern=r"^ap-[0-9a-f]{24}$")]


def audit(
    who: Caller, action: str, target: str, before: Any = None, after: Any = None, repeated: bool = False, **kw: Any
) -> None:
    services().record_act(who, app.current_event.request_context.request_id, action, target, before, after, repeated, **kw)


@app.put(
    "/admin/v1/regions/<code>",
    summary="Set a region's risk level (rescoring follows)",
    responses=documented(200, RegionView, 400, 401, 403, 404, 413, 415, 422),
)
def put_region(code: Annotated[str, Path(pattern=r"^\d{6}(\d{3}){0,2}$")], body: RegionLevelRequest):
    who = caller(app)
    svc = services()
    before = svc.regions.snapshot(fresh=True).levels.get(code)
    view = svc.authority.set_region_level(code, body, who.sub, clock.now())
    audit(who, "region level set", code, {"level": before}, {"level": view.level, "name": view.name})
    return json_response(view)


@app.put(
    "/admin/v1/areas/<code>",
    summary="Register a town (9 digits) or village (12 digits) of a county, or rename it",
    responses=documented(200, AreaView, 400, 401, 403, 413, 415, 422),
)
def put_area(code: Annotated[str, Path(pattern=r"^\d{9}(\d{3})?$")], body: AreaRequest):
    who = caller(app)
    view, before, changed = services().area_registration.register(code, body, who.sub, clock.now())
    after = view.model_dump(mode="json")
    audit(who, "area registered", code, before.model_dump(mode="json") if before else None, after, repeated=not changed)
    return json_response(view)


@app.put(
    "/admin/v1/checkpoints/<checkpoint_id>",
    summary="Place a checkpoint in a county, town or village (a street's checkpoints are counted together)",
    responses=documented(200, CheckpointPlaceView, 400, 401, 403, 413, 415, 422),
)
def put_checkpoint(
    checkpoint_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")], body: CheckpointPlaceRequest
):
    who = caller(app)
    before, changed = services().area_registration.place_checkpoint(checkpoint_id, body.area, who.sub, clock.now())
    after = {"area": body.area}
    audit(who, "checkpoint placed", checkpoint_id, {"area": before} if before else None, after, repeated=not changed)
    return json_response(CheckpointPlaceView(checkpoint_id=checkpoint_id, area=body.area))


@app.post(
    "/admin/v1/cases",
    summary="Record an authority case list (rescoring follows)",
    responses=documented(202, CaseListView, 400, 401, 403, 413, 415, 422, 503),
)
def post_cases(body: CaseListRequest):
    who = caller(app)
    svc = services()
    view = svc.authority.record_cases(body, who.sub, clock.now())
    after = {"accepted": view.accepted, "known_holders": view.known_holders, "failed": len(view.failed)}
    audit(who, "case list recorded", "cases", None, after, holders=svc.authority.listed_holders(body))
    return json_response(view, status=202)


@app.post(
    "/admin/v1/rescoring",
    summary="Queue rescoring: due holders, or a full run",
    responses=documented(202, RescoringView, 400, 401, 403, 413, 415, 422),
)
def post_rescoring(body: RescoringRequest):
    who = caller(app)
    view = services().authority.start_rescoring(body, who.sub, clock.now())
    audit(who, "rescoring started", view.run_id or body.scope, None, view.model_dump(mode="json"))
    return json_response(view, status=202)


@app.get(
    "/admin/v1/rescoring/<run_id>",
    summary="Progress of a full run",
    responses=documented(200, RunView, 401, 403, 404, 422),
)
def get_rescoring_run(run_id: Annotated[str, Path(max_length=128)]):
    return json_response(services().authority.run(run_id))


@app.post(
    "/admin/v1/rulesets",
    summary="Publish a ruleset version, at least 48 h before it takes effect (or an emergency, for approval)",
    responses=documented(201, RulesetView, 400, 401, 403, 409, 413, 415, 422)
    | documented(202, RulesetView, description="an emergency: awaiting a second health_admin's approval"),
)
def post_ruleset(body: RulesetPublishRequest):
    who = caller(app)
    view = services().authority.publish_ruleset(body, who.sub, clock.now(), services().official(who).person)
    action = "emergency ruleset proposed" if view.status == "awaiting approval" else "ruleset published"
    audit(who, action, view.version, None, view.model_dump(mode="json") | {"reason": body.reason})
    return json_response(view, status=201 if view.status == "published" else 202)


@app.post(
    "/admin/v1/rulesets/<version>/approval",
    summary="Approve an emergency ruleset (a second health_admin, not its proposer): it is published",
    responses=documented(201, RulesetView, 401, 403, 404, 413, 415, 422),
)
def approve_ruleset(version: Annotated[str, Path(max_length=64)]):
    who = caller(app)
    official = services().official(who)
    if official.person is None:
        raise Forbidden("Your account carries no verified identity: an official must be identified to approve rules.")
    view = services().authority.approve_ruleset(version, who.sub, official.person)
    audit(who, "emergency ruleset approved", version, None, view.model_dump(mode="json"))
    return json_response(view, status=201)


@app.delete(
    "/admin/v1/rulesets/<version>",
    summary="Withdraw an announced ruleset before it applies: one person asks, a second confirms with the same request",
    responses=documented(200, RulesetWithdrawalView, 401, 403, 404, 409, 422),
)
def withdraw_ruleset(version: Annotated[str, Path(pattern=r"^v[0-9]{1,6}$")]):
    who = caller(app)
    outcome = services().authority.withdraw_ruleset(version, services().official(who), clock.now())
    act = "ruleset withdrawn" if outcome["status"] == "withdrawn" else "ruleset withdrawal asked (a second person confirms)"
    audit(who, act, version, {"status": "announced"}, outcome)
    return json_response(RulesetWithdrawalView.model_validate(outcome))


@app.put(
    "/admin/v1/partners/<partner_id>",
    summary="Register or update a partner city (a new one's secret is shown once)",
    responses=documented(200, PartnerView, 400, 401, 403, 413, 415, 422),
)
def put_partner(partner_id: Annotated[str, Path(pattern=r"^[a-z0-9-]{2,40}$")], body: PartnerRequest):
    svc = services()
    before = svc.partner_admin.describe(partner_id)
    view = svc.partner_admin.register(partner_id, body, clock.now())
    audit(caller(app), "partner registered", partner_id, before, svc.partner_admin.describe(partner_id))
    return json_response(view)


@app.post(
    "/admin/v1/partners/<partner_id>/secret",
    summary="Rotate a partner's secret (the old one stays valid 24 h, or not at all with emergency=true)",
    responses=documented(200, PartnerView, 401, 403, 404, 413, 415, 422),
)
def rotate_partner_secret(
    partner_id: Annotated[str, Path(pattern=r"^[a-z0-9-]{2,40}$")],
    emergency: Annotated[bool, Query(description="the old secret stops working at once (it may have leaked)")] = False,
):
    view = services().partner_admin.rotate(partner_id, clock.now(), emergency)
    audit(caller(app), "partner secret rotated", partner_id, None, {"emergency": emergency})  # never the secret
    return json_response(view)


@app.delete(
    "/admin/v1/partners/<partner_id>",
    summary="Suspend a partner city at once (its codes are dropped at the next trust refresh)",
    responses=documented(200, PartnerView, 401, 403, 404, 422),
)
def suspend_partner(partner_id: Annotated[str, Path(pattern=r"^[a-z0-9-]{2,40}$")]):
    view = services().partner_admin.suspend(partner_id)
    audit(caller(app), "partner suspended", partner_id, {"suspended": False}, {"suspended": True})
    return json_response(view)


@app.post(
    "/admin/v1/partners/<partner_id>/reinstate",
    summary="Lift a partner city's suspension (the only act that does; an update keeps it suspended)",
    responses=documented(200, PartnerView, 400, 401, 403, 404, 409, 413, 415, 422),
)
def reinstate_partner(partner_id: Annotated[str, Path(pattern=r"^[a-z0-9-]{2,40}$")], body: ReinstateRequest):
    view = services().partner_admin.reinstate(partner_id)
    audit(caller(app), "partner reinstated", partner_id, {"suspended": True}, {"suspended": False, "reason": body.reason})
    return json_response(view)


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
    on: Annotated[Day | None, Query(description="the day the acknowledgement times are for (default today)")] = None,
    after: Cursor = None,
):
    who = check(claims_of(app.current_event.raw_event), (WORKER, SCOPE))
    now = clock.now()
    view = services().offices.listing(
        area,
        status,
        on or now.date(),
        who.areas if WORKER in who.scopes else frozenset(),
        SCOPE in who.scopes,
        i18n.current.get(),  # the request's Accept-Language, read once by the resolver
        after,
        services().pages.listing,
    )
    return json_response(view)


@app.post(
    "/admin/v1/tasks/<task_id>/ack",
    summary="Acknowledge a task (community_worker of the task's area, or of the county it escalated to);"
    " a guardianship task with the outcome found in person",
    responses=documented(200, TaskView, 401, 403, 404, 413, 415, 422),
)
def ack_task(
    task_id: Annotated[str, Path(max_length=128)],
    outcome: Annotated[
        str | None,
        Query(pattern=r"^(confirmed|refused)$", description="a guardianship task: what you found in person (required)"),
    ] = None,
):
    who = check(claims_of(app.current_event.raw_event), WORKER)
    person = services().official(who).person
    view = services().offices.acknowledge(task_id, who.sub, who.areas, i18n.current.get(), clock.now(), outcome, person)
    after = {"status": view.status} | ({"outcome": view.outcome} if view.kind == "guardianship" else {})
    audit(who, "task acknowledged", task_id, {"status": "open"}, after, holders=[view.holder_id])
    return json_response(view)


@app.post(
    "/admin/v1/overrides",
    summary="Propose a colour for some holders (no effect until a second health_admin approves; bulk: and a director)",
    responses=documented(202, OverrideView, 400, 401, 403, 413, 415, 422, 503),
)
def propose_override(body: OverrideRequest):
    who = check(claims_of(app.current_event.raw_event), SCOPE)
    view, new = services().overrides.propose(body, services().official(who), clock.now())
    after = view.model_dump(mode="json", exclude={"holders"})
    audit(who, "override proposed", view.override_id, None, after, repeated=not new, holders=view.holders)
    return json_response(view, status=202)


@app.get(
    "/admin/v1/overrides",
    summary="Overrides by status, newest first, with the dashboard's counts (bulk ones counted apart)",
    responses=documented(200, OverridesView, 400, 401, 403, 422),
)
def list_overrides(
    status: Annotated[str, Query(pattern=r"^(awaiting_approval|in_force|withdrawn)$")] = "awaiting_approval",
    after: Cursor = None,
):
    return json_response(services().overrides.listing(status, after, services().pages.listing, clock.now()))


@app.get(
    "/admin/v1/overrides/<override_id>",
    summary="One override: its holders, approvals given and still needed",
    responses=documented(200, OverrideView, 401, 403, 404, 422),
)
def get_override(override_id: OverrideId):
    return json_response(services().overrides.get(override_id, clock.now()))


@app.post(
    "/admin/v1/overrides/<override_id>/approval",
    summary="Approve an override (not its proposer): a second health_admin, and for a bulk one a health_director",
    responses=documented(200, OverrideView, 401, 403, 404, 409, 413, 415, 422, 503),
)
def approve_override(override_id: OverrideId):
    who = caller(app)
    view, approved = services().overrides.approve(override_id, services().official(who), clock.now())
    # an approval always finds the override awaiting, with the others' approvals
    before = {"status": "awaiting_approval", "approved_by": [s for s in view.approved_by if s != who.sub]}
    after = {"status": view.status, "approved_by": view.approved_by, "approvals_needed": view.approvals_needed}
    audit(who, "override approved", override_id, before, after, repeated=not approved, holders=view.holders)
    return json_response(view)


@app.post(
    "/admin/v1/overrides/<override_id>/withdrawal",
    summary="Withdraw an override (its proposer or an approver; in force, a second person confirms): its holders are rescored without it",
    responses=documented(200, OverrideView, 401, 403, 404, 413, 415, 422, 503),
)
def withdraw_override(override_id: OverrideId):
    who = caller(app)
    view, changed = services().overrides.withdraw(override_id, services().official(who), clock.now())
    before = {"status": "in_force" if view.in_force_since else "awaiting_approval"}
    after = {"status": view.status, "withdrawal_requested_by": view.withdrawal_requested_by}
    act = "override withdrawn" if view.status == "withdrawn" else "override withdrawal asked (a second person confirms)"
    audit(who, act, override_id, before, after, repeated=not changed, holders=view.holders)
    return json_response(view)


@app.get(
    "/admin/v1/appeals",
    summary="Appeals by status, oldest first; open ones past the deadline flagged and counted",
    responses=documented(200, AppealsView, 400, 401, 403, 422),
)
def list_appeals(
    status: Annotated[str, Query(pattern=r"^(open|upheld|rejected)$")] = "open",
    after: Cursor = None,
):
    return json_response(services().appeals.listing(status, after, services().pages.listing, clock.now()))


@app.post(
    "/admin/v1/appeals/<appeal_id>/decision",
    summary="Uphold an appeal (clearing a case or lowering a colour: a second person confirms) or reject it, with a reason the holder reads",
    responses=documented(200, AppealView, 400, 401, 403, 404, 409, 413, 415, 422, 503),
)
def decide_appeal(appeal_id: AppealId, body: AppealDecisionRequest):
    who = caller(app)
    view, decided = services().appeals.decide(appeal_id, body, services().official(who), clock.now())
    after = {"status": view.status, "reason": view.decision_reason, "color_after": view.color_after}
    after |= {"correction": body.correction.model_dump(mode="json", exclude_none=True)} if body.correction else {}
    before = {"status": "open", "factor": view.factor}  # a decision always finds the appeal open
    act = "appeal decided" if view.status != "open" else "appeal uphold proposed (a second person confirms)"
    audit(who, act, appeal_id, before, after, repeated=not decided, holders=[view.holder_id])
    return json_response(view)


@app.get(
    "/admin/v1/audit",
    summary="The audit trail of administrative acts, with each day's hash chain verified (role auditor)",
    responses=documented(200, AuditView, 400, 401, 403, 422),
)
def get_audit(
    from_: Annotated[Day, Query(alias="from", description="first day (Asia/Shanghai)")],
    to: Annotated[Day | None, Query(description="last day (default: from); at most 31 days")] = None,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    holder: Annotated[str | None, Query(max_length=64)] = None,
):
    return json_response(services().audit.read(from_, to or from_, actor, holder))


@app.post(
    "/admin/v1/audit/colour-checks",
    summary="Start a check of every holder's colour against their facts, the rules and the trail (role auditor)",
    responses=documented(202, ColourCheckView, 401, 403, 413, 415, 422),
)
def start_colour_check(body: ColourCheckRequest):
    who = caller(app)
    started = services().colour_checks.start(who.sub, clock.now())
    audit(who, "colour check started", started["check_id"], None, {"reason": body.reason})
    return json_response(ColourCheckView.model_validate(started), status=202)


@app.get(
    "/admin/v1/audit/colour-checks/latest",
    summary="The latest colour check: holders whose stored colour nothing on the trail explains (role auditor)",
    responses=documented(200, ColourCheckView, 401, 403, 404),
)
def latest_colour_check():
    return json_response(ColourCheckView.model_validate(services().colour_checks.latest()))


@app.get(
    "/admin/v1/audit/colour-checks/<check_id>",
    summary="One colour check, running or done (role auditor)",
    responses=documented(200, ColourCheckView, 401, 403, 404, 422),
)
def get_colour_check(check_id: Annotated[str, Path(pattern=r"^cc-\d{8}T\d{6}-[0-9a-f]{8}$")]):
    return json_response(ColourCheckView.model_validate(services().colour_checks.get(check_id)))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
