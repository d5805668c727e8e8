"""Citizens' pages: the unified list of surveys, answering one, thanks, and published results."""

from typing import Any
from uuid import UUID

import anyio.to_thread
from litestar import Request, get, post
from litestar.enums import MediaType
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.response import Response, Template
from litestar.types import ASGIApp

from domain.disclosure import Purpose
from domain.errors import AlreadyAnswered, InvalidAnswers, NotAllowed, SurveyNotOpen
from domain.survey import SurveyStatus
from domain.values import Audience, Role
from projections.my_answers import answered_survey_ids
from projections.results import SurveyResults
from projections.storage import Storage
from projections.survey_changes import SurveyChanges
from web import access
from web.auth import User, current_user
from web.forms import answers_from_form
from web.i18n import gettext
from web.localize import localized_answer_errors
from web.page_cache import (
    CSRF_FREE,
    OPT,
    PublicPageMiddleware,
    page_cache,
    public_page,
    read_models_version,
    render,
    results_at,
    signed_in,
    survey_at,
)
from web.routes.common import FormData, go, page, survey_or_404, translated


@get("/", middleware=[PublicPageMiddleware], opt=OPT, media_type=MediaType.HTML)
async def home(request: Request[Any, Any, Any], storage: Storage, department: str = "", audience: str = "") -> ASGIApp:
    if signed_in(request.scope):
        return await anyio.to_thread.run_sync(_home, request, storage, department, audience)
    # Anonymous visitors all see the same page for the same address: one rendering per catalogue change.
    cache = page_cache(request)
    position = await cache.position()
    return await public_page(request, position, lambda: render(request, _home(request, storage, department, audience)))


def _home(request: Request[Any, Any, Any], storage: Storage, department: str, audience: str) -> Template:
    if not audience:
        # By default each person sees the surveys meant for them; "all" shows every audience.
        user = current_user(request)
        audience = {Role.STAFF: "all", Role.ADMIN: "all", Role.AUDITOR: "all", Role.BUSINESS: "businesses"}.get(
            user.role if user else Role.CITIZEN, "citizens"
        )
    try:
        chosen_audience = None if audience == "all" else Audience(audience)
    except ValueError:
        chosen_audience, audience = None, "all"
    surveys = storage.catalogue.surveys(
        statuses=(SurveyStatus.PUBLISHED,), audience=chosen_audience, department=department or None
    )
    results = storage.catalogue.surveys(results_published=True, limit=6)
    template = "partials/survey_list.html" if request.headers.get("hx-request") else "home.html"
    return page(
        request,
        template,
        surveys=surveys,
        results=results,
        departments=storage.catalogue.departments(),
        department=department,
        audience=audience,
        # 回答済み: the signed-in person's answered surveys, from the read model (anonymous pages have none).
        answered=answered_survey_ids(storage.db, user.id) if (user := current_user(request)) else frozenset(),
    )


@get("/surveys/{survey_id:uuid}", sync_to_thread=True)
def survey_page(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID) -> Template:
    user = current_user(request)
    survey = _viewable(user, storage, survey_id)
    answered = bool(user) and storage.app.has_answered(survey_id, user.id)  # type: ignore[union-attr]
    changes = SurveyChanges(storage.db).of(survey.id)  # 更新履歴, shown to respondents
    return page(request, "survey.html", survey=survey, answered=answered, errors={}, values={}, changes=changes)


@post("/surveys/{survey_id:uuid}/answer", sync_to_thread=True)
def answer(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, data: FormData) -> Response[Any]:
    user = current_user(request)
    if user is None:
        raise NotAuthorizedException("回答するにはログインしてください。")
    survey = _viewable(user, storage, survey_id)
    answers = answers_from_form(survey.questions, data)
    try:
        storage.app.submit_response(survey_id, user.id, answers)
    except InvalidAnswers as e:
        template = "partials/answer_form.html" if request.headers.get("hx-request") else "survey.html"
        return page(
            request,
            template,
            status_code=422,
            survey=survey,
            answered=False,
            errors=translated(localized_answer_errors(survey, e.field_errors, answers)),
            values=data,
            message=gettext(e.message),
        )
    except (AlreadyAnswered, SurveyNotOpen, NotAllowed) as e:
        if isinstance(e, NotAllowed):
            raise PermissionDeniedException(e.message) from None
        status = 409
        template = "partials/answer_form.html" if request.headers.get("hx-request") else "survey.html"
        return page(
            request,
            template,
            status_code=status,
            survey=survey,
            answered=isinstance(e, AlreadyAnswered),
            errors={},
            values={},
            message=gettext(e.message),
        )
    return go(request, f"/surveys/{survey_id}/thanks")


def _viewable(user: User | None, storage: Storage, survey_id: UUID) -> Any:
    """The survey, if this person may see it at all; a draft is hidden outside its department."""
    survey = survey_or_404(storage, survey_id)
    if not access.may_view_survey(user, survey):
        raise NotFoundException("アンケートが見つかりません。")
    return survey


@get("/surveys/{survey_id:uuid}/thanks", sync_to_thread=True)
def thanks(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID) -> Template:
    survey = _viewable(current_user(request), storage, survey_id)
    return page(request, "thanks.html", survey=survey)


@get("/results", middleware=[PublicPageMiddleware], opt=OPT, media_type=MediaType.HTML)
async def results_index(request: Request[Any, Any, Any], storage: Storage) -> ASGIApp:
    def build() -> Template:
        return page(request, "results_index.html", surveys=storage.catalogue.surveys(results_published=True))

    if signed_in(request.scope):
        return await anyio.to_thread.run_sync(build)
    cache = page_cache(request)
    position = await cache.position()
    return await public_page(request, position, lambda: render(request, build()))


@get("/surveys/{survey_id:uuid}/results", middleware=[PublicPageMiddleware], opt=OPT, media_type=MediaType.HTML)
async def public_results(
    request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, segment: str = "ward"
) -> ASGIApp:
    cache = page_cache(request)
    position = await cache.position()
    survey = await survey_at(cache, storage, position, survey_id)
    if signed_in(request.scope):
        # Who is signed in shows on the page: it is rendered for them, from the figures everyone shares.
        user = await anyio.to_thread.run_sync(current_user, request)
        _check_public_results(user, survey)
        figures = await results_at(cache, storage, position, survey)
        return await anyio.to_thread.run_sync(
            lambda: results_page(request, storage, survey, segment, staff_view=False, results=figures)
        )
    _check_public_results(None, survey)
    figures = await results_at(cache, storage, position, survey)
    return await public_page(
        request,
        position,
        lambda: render(request, results_page(request, storage, survey, segment, staff_view=False, results=figures)),
    )


def _check_public_results(user: User | None, survey: Any) -> None:
    if survey is None or not access.may_view_survey(user, survey):
        raise NotFoundException("アンケートが見つかりません。")
    access.require(access.may_read_results(user, survey), access.RESULTS_NOT_YET_PUBLIC)


def results_page(
    request: Request[Any, Any, Any],
    storage: Storage,
    survey: Any,
    segment: str,
    *,
    staff_view: bool,
    results: SurveyResults | None = None,
) -> Template:
    """The results page; `results` are figures already computed for this survey (the public pages'
    cache), otherwise they are computed here, as the staff view always does."""
    if results is None:
        results = storage.results.of(survey)
    if segment not in results.segments:
        segment = "ward"
    user = current_user(request)
    texts: dict[str, Any] = {}
    # Raw free text only on the staff view, to those who may read it; read from outside the
    # owning department (an admin), the read is on record before the page shows it.
    if staff_view and access.may_read_raw_text(user, survey):
        texts = {
            q.id: storage.results.free_texts(survey.id, q.id, limit=20) for q in results.questions if q.kind == "text"
        }
        shown = [qid for qid, answers in texts.items() if answers]
        if shown and access.text_read_is_disclosed(user, survey, audit_view=False):
            storage.app.record_text_disclosure(
                reader_id=user.id,  # type: ignore[union-attr]
                survey_id=UUID(survey.id),
                question_ids=shown,
                purpose=Purpose.RESULTS,
            )
    template = "partials/results_body.html" if request.headers.get("hx-request") else "results.html"
    # Link the citizens' theme summary only once staff have published one (a change of the read models).
    themes_published = bool(survey.results_published and storage.themes.summaries(survey_id=str(survey.id)))
    return page(
        request,
        template,
        survey=survey,
        results=results,
        segment=segment,
        texts=texts,
        staff_view=staff_view,
        themes_published=themes_published,
    )


# Monitoring changes nothing and submits nothing: no CSRF token to make, sign and set as a cookie.
@get("/healthz", sync_to_thread=True, opt=CSRF_FREE)
def healthz(storage: Storage) -> Response[dict[str, Any]]:
    """503 while any event that the projection could not apply is on record, with where and why
    (never the event's content), so that monitoring sees what the read models are missing."""
    # One round trip: the position and the count of failures together (it proves the database answers, too).
    position, count = read_models_version(storage)
    body: dict[str, Any] = {"status": "ok", "storage": storage.db.dialect, "projection_position": position}
    if not count:
        return Response(body)
    failures = [{"position": f.position, "error": f.error} for f in storage.projector.failures(limit=20)]
    body.update(status="degraded", failure_count=count, failures=failures)
    return Response(body, status_code=503)


routes = [home, survey_page, answer, thanks, results_index, public_results, healthz]
