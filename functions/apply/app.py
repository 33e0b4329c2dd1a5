"""Resident routes: declare (apply), see one's code, daily check-in. Thin: parse, call a use case, answer."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthcode import clock, i18n, qr
from healthcode.api.callers import caller
from healthcode.api.params import Cursor
from healthcode.api.problems import documented, problem_page
from healthcode.api.resolver import build_resolver, etag, json_response, not_modified
from healthcode.errors import NotFound
from healthcode.models import (
    AppealRequest,
    AppealsView,
    AppealView,
    ApplicationRequest,
    CheckinRequest,
    CodeView,
    DependantsView,
    ExportView,
    GuardianshipRequest,
    GuardianshipView,
    HistoryView,
    LeaveView,
    NotificationsView,
    RulesetsView,
    ScansSeenView,
)
from healthcode.scoring.ruleset import ruleset_schema
from healthcode.wiring import services

# public documents a browser or a CDN may keep a minute (a new ruleset is announced before it applies)
PUBLIC_DOCUMENT = {"Cache-Control": "public, max-age=60"}
logger = Logger()
metrics = Metrics()
app = build_resolver()


@app.post(
    "/v1/applications",
    summary="Declare (apply): returns the code view",
    responses=documented(200, CodeView, 400, 401, 403, 409, 413, 415, 422, 503),
)
def post_application(
    body: ApplicationRequest,
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key", max_length=128)] = None,
):
    svc = services()
    who = caller(app, svc.settings.identity_claim)
    view: CodeView = svc.residents.apply_once(who.sub, who.identity, idempotency_key, body, clock.now(), who.wards)
    metrics.add_metric(name="Applications", unit=MetricUnit.Count, value=1)
    if body.dependant:  # an act on another person: on the trail (who applied, for whom, never the ID number)
        held = svc.residents.holder_of(body)
        svc.record_act(who, app.current_event.request_context.request_id, "application for a dependant", held, holders=[held])
    return json_response(view)


@app.get(
    "/v1/codes/me/scans",
    summary="Who looked at my code (or a dependant's): every verification, when, which checkpoint or partner city, the answer",
    responses=documented(200, ScansSeenView, 400, 401, 404, 422),
)
def get_my_scans(
    dependant_id: Annotated[str | None, Query(pattern=r"^[0-9a-f]{32}$", description="a dependant's code instead of mine")] = None,
    after: Cursor = None,
):
    svc = services()
    return json_response(svc.seen.of(caller(app).sub, dependant_id, after, svc.pages.listing))


@app.get(
    "/v1/me/export",
    summary="A copy of everything stored about me and my dependants (declarations, colours, history, scans,"
    " notifications, appeals) as one JSON document",
    responses=documented(200, ExportView, 401, 404),
)
def get_my_export():
    svc = services()
    who = caller(app, svc.settings.identity_claim)
    view = svc.export.of(who.sub, who.identity, i18n.current.get(), clock.now())
    held = [h.record["holder_id"] for h in ([view.me] if view.me else []) + view.dependants]
    request = app.current_event.request_context.request_id
    svc.record_act(who, request, "data exported", who.sub, holders=held)  # on the trail, as every copy made
    return json_response(view, headers={"Cache-Control": "no-store"})


@app.delete(
    "/v1/me",
    summary="Leave: erase my declarations, contact data, colour history and inbox, and my dependants' (while every"
    " code is green and nothing the authority listed is in force)",
    responses=documented(200, LeaveView, 401, 404, 409),
)
def delete_me():
    svc = services()
    who = caller(app, svc.settings.identity_claim)
    view = svc.leaving.leave(who.sub)
    request = app.current_event.request_context.request_id
    svc.record_act(who, request, "account left: its data erased", who.sub, holders=view.erased)
    return json_response(view)


@app.post(
    "/v1/guardianships",
    summary="Ask the community office to confirm in person that I care for someone (then I may apply for them)",
    responses=documented(202, GuardianshipView, 400, 401, 403, 413, 415, 422, 429),
)
def post_guardianship(body: GuardianshipRequest):
    svc = services()
    who = caller(app, svc.settings.identity_claim)
    view, new = svc.guardianships.request(who.sub, who.identity, body, clock.now())
    request = app.current_event.request_context.request_id
    held = svc.guardianships.holder_of(body)
    after = {"task_id": view.task_id, "office": view.office, "status": view.status}
    svc.record_act(who, request, "guardianship requested", held, None, after, not new, [held])
    return json_response(view, status=202 if new else 200)


@app.get(
    "/v1/codes/me",
    summary="My code: colour, reasons, quarantine, a fresh token; with If-None-Match, 304 while nothing it says changed",
    responses=documented(200, CodeView, 401, 404, 422, 503),
)
def get_my_code(
    if_none_match: Annotated[str | None, Header(alias="if-none-match", max_length=128)] = None,
):
    view = services().residents.code(caller(app).sub, clock.now())
    tag = etag(view, exclude={"token"})  # the token is new on every answer; the page refreshes it on its own clock
    private = {"Cache-Control": "private, no-cache", "ETag": tag}
    if if_none_match == tag:
        return not_modified(tag, private)
    return json_response(view, headers=private)


_A_PICTURE = "The code as a picture: the QR of a fresh token, framed in its colour, named in words"
_PICTURE = documented(200, None, 401, 404, 503, description=_A_PICTURE)


def _picture(kind: str, media: str) -> Response[Any]:
    svc = services()
    view = svc.residents.code(caller(app).sub, clock.now())
    lang = i18n.current.get()
    draw = qr.svg if kind == "svg" else qr.png
    return Response(
        status_code=200,
        content_type=media,
        body=draw(view.token.value, view.color.value, lang),
        headers={
            "Cache-Control": "no-store",  # a code is shown fresh, never from a cache
            "Content-Language": lang,
            "X-Code-Color": view.color.value,
            "X-Token-Expires-At": view.token.expires_at.isoformat(),
            # how long the code is good for from now: a page refreshes by this, whatever its phone's clock says
            "X-Token-Lifetime": str(svc.settings.token_ttl_seconds),
        },
    )


@app.get(
    "/v1/codes/me/qr.svg",
    summary="My code as an SVG picture: a fresh token's QR in my colour, with the colour's name",
    responses=_PICTURE | {200: {**_PICTURE[200], "content": {"image/svg+xml": {"schema": {"type": "string"}}}}},
)
def get_my_code_svg():
    return _picture("svg", "image/svg+xml")


@app.get(
    "/v1/codes/me/qr.png",
    summary="My code as a PNG picture (8 pixels a module)",
    responses=_PICTURE
    | {200: {**_PICTURE[200], "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}},
)
def get_my_code_png():
    return _picture("png", "image/png")


@app.post(
    "/v1/checkins",
    summary="Today's check-in (a second one the same day replaces the first)",
    responses=documented(200, CodeView, 400, 401, 404, 413, 415, 422, 503),
)
def post_checkin(body: CheckinRequest):
    view = services().residents.check_in(caller(app).sub, body, clock.now())
    metrics.add_metric(name="Checkins", unit=MetricUnit.Count, value=1)
    return json_response(view)


@app.get(
    "/v1/dependants",
    summary="The codes of the dependants I applied for",
    responses=documented(200, DependantsView, 401, 503),
)
def get_dependants():
    return json_response(services().residents.dependants(caller(app).sub, clock.now()))


@app.get(
    "/v1/codes/me/history",
    summary="My colour changes, newest first: when, why, the reasons at that moment and the ruleset",
    responses=documented(200, HistoryView, 400, 401, 404, 422),
)
def get_my_history(
    after: Cursor = None,
):
    svc = services()
    return json_response(svc.residents.history(caller(app).sub, after, svc.pages.listing))


@app.post(
    "/v1/appeals",
    summary="Appeal one reason of my code (or a dependant's): one open appeal per code and factor",
    responses=documented(201, AppealView, 400, 401, 404, 409, 413, 415, 422, 503)
    | documented(200, AppealView, description="the same appeal again while it is open: the first one"),
)
def post_appeal(body: AppealRequest):
    who = caller(app)
    view, new = services().appeals.file(who.sub, body, clock.now())
    after = {"factor": view.factor, "status": view.status}
    request = app.current_event.request_context.request_id
    services().record_act(who, request, "appeal filed", view.appeal_id, None, after, not new, [view.holder_id])
    return json_response(view, status=201 if new else 200)


@app.get(
    "/v1/appeals/mine",
    summary="The appeals I filed, newest first, with their decisions and the reasons given",
    responses=documented(200, AppealsView, 400, 401, 422),
)
def get_my_appeals(
    after: Cursor = None,
):
    svc = services()
    return json_response(svc.appeals.mine(caller(app).sub, after, svc.pages.listing, clock.now()))


@app.get(
    "/v1/notifications",
    summary="My inbox: colour changes of my code and my dependants', newest first, in my language",
    responses=documented(200, NotificationsView, 400, 401, 422),
)
def get_notifications(
    after: Cursor = None,
):
    svc = services()  # in the request's Accept-Language, read once by the resolver
    view = svc.inboxes.mine(caller(app).sub, i18n.current.get(), after, svc.pages.listing)
    return json_response(view)


@app.get(
    "/v1/rulesets/schema",
    summary="The JSON Schema every ruleset document follows (public)",
    responses=documented(200, None),
)
def get_ruleset_schema() -> dict[str, Any]:
    return ruleset_schema()


@app.get(
    "/problems/<name>",
    summary="What a problem type means and what to do: the page a problem's type names (public)",
    responses=documented(200, None, 404, 422)
    | {200: {"description": "The page (Markdown)", "content": {"text/markdown": {"schema": {"type": "string"}}}}},
)
def get_problem_page(name: Annotated[str, Path(max_length=64)]) -> Response[str]:
    page = problem_page(name)
    if page is None:
        raise NotFound(f"No problem type is called {name!r}.")
    return Response(
        status_code=200,
        content_type="text/markdown; charset=utf-8",
        body=page,
        headers={"Cache-Control": "public, max-age=86400"},
    )


@app.get(
    "/v1/rulesets",
    summary="Every ruleset version with its effective time: superseded, in force, announced (public)",
    responses=documented(200, RulesetsView),
)
def get_rulesets():
    return json_response(services().residents.rulesets(clock.now()), headers=PUBLIC_DOCUMENT)


@app.get("/v1/rulesets/current", summary="The ruleset in force (public)", responses=documented(200, None))
def get_current_ruleset() -> Response[dict[str, Any]]:
    return Response(200, "application/json", services().residents.current_ruleset(clock.now()), headers=PUBLIC_DOCUMENT)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    services().residents.idempotency_config.register_lambda_context(context)
    return app.resolve(event, context)
