"""Citizens' pages: the unified list of surveys, answering one, thanks, and published results."""

from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.response import Response, Template

from domain.disclosure import Purpose
from domain.errors import AlreadyAnswered, InvalidAnswers, NotAllowed, SurveyNotOpen
from domain.survey import SurveyStatus
from domain.values import Audience, Role
from projections.storage import Storage
from web import access
from web.auth import User, current_user
from web.forms import answers_from_form
from web.routes.common import FormData, go, page, survey_or_404


@get("/", sync_to_thread=True)
def home(request: Request[Any, Any, Any], storage: Storage, department: str = "", audience: str = "") -> Template:
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
    )


@get("/surveys/{survey_id:uuid}", sync_to_thread=True)
def survey_page(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID) -> Template:
    user = current_user(request)
    survey = _viewable(user, storage, survey_id)
    answered = bool(user) and storage.app.has_answered(survey_id, user.id)  # type: ignore[union-attr]
    return page(request, "survey.html", survey=survey, answered=answered, errors={}, values={})


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
            errors=e.field_errors,
            values=data,
            message=e.message,
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
            message=e.message,
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


@get("/results", sync_to_thread=True)
def results_index(request: Request[Any, Any, Any], storage: Storage) -> Template:
    surveys = storage.catalogue.surveys(results_published=True)
    return page(request, "results_index.html", surveys=surveys)


@get("/surveys/{survey_id:uuid}/results", sync_to_thread=True)
def public_results(
    request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, segment: str = "ward"
) -> Template:
    survey = _viewable(current_user(request), storage, survey_id)
    access.require(access.may_read_results(current_user(request), survey), access.RESULTS_NOT_YET_PUBLIC)
    return results_page(request, storage, survey, segment, staff_view=False)


def results_page(
    request: Request[Any, Any, Any], storage: Storage, survey: Any, segment: str, *, staff_view: bool
) -> Template:
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
    return page(request, template, survey=survey, results=results, segment=segment, texts=texts, staff_view=staff_view)


@get("/healthz", sync_to_thread=True)
def healthz(storage: Storage) -> Response[dict[str, Any]]:
    """503 while any event that the projection could not apply is on record, with where and why
    (never the event's content), so that monitoring sees what the read models are missing."""
    storage.db.query("SELECT 1")
    body: dict[str, Any] = {
        "status": "ok",
        "storage": storage.db.dialect,
        "projection_position": storage.projector.position(),
    }
    count = storage.projector.failure_count()
    if not count:
        return Response(body)
    failures = [{"position": f.position, "error": f.error} for f in storage.projector.failures(limit=20)]
    body.update(status="degraded", failure_count=count, failures=failures)
    return Response(body, status_code=503)


routes = [home, survey_page, answer, thanks, results_index, public_results, healthz]
