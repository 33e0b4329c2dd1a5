"""Health authority routes: set region risk levels, record case lists. Both feed the recompute queue."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from healthcode import clock
from healthcode.http import build_resolver, caller, json_response
from healthcode.models import CaseListRequest, RegionLevelRequest, RescoringRequest, RulesetPublishRequest
from healthcode.wiring import services

logger = Logger()
ROLE = "health_admin"
app = build_resolver(roles={"/admin/": ROLE})


@app.put("/admin/v1/regions/<code>")
def put_region(code: Annotated[str, Path(pattern=r"^\d{6}(\d{3}){0,2}$")], body: RegionLevelRequest):  # noqa: ANN201
    who = caller(app)
    return json_response(services().authority.set_region_level(code, body, who.sub, clock.now()))


@app.post("/admin/v1/cases")
def post_cases(body: CaseListRequest):  # noqa: ANN201
    who = caller(app)
    return json_response(services().authority.record_cases(body, who.sub, clock.now()), status=202)


@app.post("/admin/v1/rescoring")
def post_rescoring(body: RescoringRequest):  # noqa: ANN201
    who = caller(app)
    return json_response(services().authority.start_rescoring(body, who.sub, clock.now()), status=202)


@app.get("/admin/v1/rescoring/<run_id>")
def get_rescoring_run(run_id: Annotated[str, Path(max_length=128)]):  # noqa: ANN201
    return json_response(services().authority.run(run_id))


@app.post("/admin/v1/rulesets")
def post_ruleset(body: RulesetPublishRequest):  # noqa: ANN201
    who = caller(app)
    return json_response(services().authority.publish_ruleset(body, who.sub), status=201)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
