"""The JSON API, `/api/v1`: msgspec structs in and out, documented at /schema/openapi.json."""

import asyncio
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, post
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED
from litestar.types import ASGIApp

from domain.questions import AnswerValue
from domain.survey import SurveyStatus
from projections.catalogue import PublicSurveyDetail, PublicSurveySummary, SurveyDetail
from projections.results import SurveyResults
from projections.storage import Storage
from web import access
from web.auth import current_user
from web.page_cache import (
    OPT,
    CachedPage,
    PublicPageMiddleware,
    language,
    page_cache,
    private_response,
    public_page,
    results_at,
    rule_version,
)
from web.routes.common import survey_or_404, visible_survey_at


class ResponseIn(msgspec.Struct, forbid_unknown_fields=True):
    """Answers keyed by question id: an option index, a list of indices, 1–5, a number or text."""

    answers: dict[str, AnswerValue]


class ResponseCreated(msgspec.Struct):
    response_id: str
    survey_id: str


class Problem(msgspec.Struct):
    status_code: int
    error: str
    detail: str
    field_errors: dict[str, str] | None = None


VISIBLE = {
    "published": (SurveyStatus.PUBLISHED,),
    "closed": (SurveyStatus.CLOSED,),
    "all": (SurveyStatus.PUBLISHED, SurveyStatus.CLOSED),
}


@get("/surveys", sync_to_thread=True, summary="公開中のアンケート一覧（全部署）")
def list_surveys(
    storage: Storage,
    status: str = "published",
    department: str | None = None,
    limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
    offset: Annotated[int, Parameter(ge=0, le=2**31 - 1)] = 0,
) -> list[PublicSurveySummary]:
    statuses = VISIBLE.get(status)
    if statuses is None:
        raise ValidationException(f"unknown status {status!r}; use published, closed or all")
    found = storage.catalogue.surveys(
        statuses=statuses, department=department, limit=max(1, min(limit, 500)), offset=max(0, offset)
    )
    return [s.public() for s in found]  # fewer than 5 responses show as the mark, whoever asks


def _visible_survey(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID) -> SurveyDetail:
    survey = survey_or_404(storage, survey_id)
    if not access.may_view_survey(current_user(request), survey):
        raise NotFoundException("アンケートが見つかりません。")
    return survey


@get("/surveys/{survey_id:uuid}", sync_to_thread=True, summary="アンケートと質問")
def get_survey(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID) -> PublicSurveyDetail:
    return _visible_survey(request, storage, survey_id).public()


@post(
    "/surveys/{survey_id:uuid}/responses",
    status_code=HTTP_201_CREATED,
    summary="回答を送信する（1人1回）",
    description="201: recorded. 409: already answered or not open. 422: invalid answers, with field_errors.",
    responses={
        409: ResponseSpec(data_container=Problem, description="already answered, or the survey is not open"),
        422: ResponseSpec(data_container=Problem, description="invalid answers; field_errors by question id"),
    },
)
async def submit_response(
    request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, data: ResponseIn
) -> ResponseCreated:
    user = current_user(request)
    if user is None:
        raise NotAuthorizedException("ログインしてください。")
    # The check runs here on the event loop: it reads cached aggregates (a database read only
    # on a miss), and the save is awaited rather than holding a worker thread for the commit.
    submitted = storage.app.check_response(survey_id, user.id, data.answers)
    response_id = await asyncio.wrap_future(storage.app.record_response(submitted))
    return ResponseCreated(response_id=str(response_id), survey_id=str(survey_id))


@get(
    "/surveys/{survey_id:uuid}/results",
    summary="集計結果（5人未満のセルは非表示）",
    responses={200: ResponseSpec(data_container=SurveyResults, description="the published results")},
    middleware=[PublicPageMiddleware],
    opt=OPT,
)
async def get_results(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID) -> ASGIApp:
    # The figures are encoded once per change of the read models and shared by everyone allowed to read them.
    position, survey, user = await visible_survey_at(request, storage, survey_id)
    cache = page_cache(request)
    # Another department's staff, like everyone else, get published results only.
    if not access.may_read_results(user, survey):
        raise PermissionDeniedException("results are not published yet")
    figures = await results_at(cache, storage, position, survey)

    def build() -> CachedPage:
        return CachedPage.of(msgspec.json.encode(figures), "application/json")

    if user is None:
        return await public_page(request, position, build)
    # The same bytes for those signed in (a staff member's live results too), never under the public key.
    page = await cache.value(position, ("results.json", survey.id, language(request.scope), rule_version()), build)
    return private_response(page)


router = Router(path="/api/v1", route_handlers=[list_surveys, get_survey, submit_response, get_results], tags=["v1"])
