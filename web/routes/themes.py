"""Staff and auditor pages for opinion themes: start an analysis, follow it, read its themes."""

from typing import Any
from uuid import UUID

from litestar import Request, Router, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.response import Response, Template

from domain.disclosure import Purpose
from domain.questions import FreeText
from domain.themes import IDEAS, PROPOSALS, ideas_corpus, parse_corpus, proposals_corpus, survey_corpus
from domain.values import Role
from projections.storage import Storage
from projections.themes import idea_count, proposal_count
from web import access
from web.access import theme_analysts_only
from web.auth import User, current_user, staff_only
from web.forms import one
from web.routes.common import FormData, go, page, survey_or_404
from web.themes import ThemeJobs


def _text_questions(storage: Storage, survey_id: UUID) -> tuple[Any, list[Any]]:
    survey = survey_or_404(storage, survey_id)
    return survey, [q for q in survey.questions if isinstance(q, FreeText)]


@get("/surveys/{survey_id:uuid}/themes", sync_to_thread=True, guards=[theme_analysts_only])
def themes_home(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID) -> Template:
    survey, questions = _text_questions(storage, survey_id)
    return page(
        request,
        "themes/index.html",
        survey=survey,
        questions=questions,
        analyses=storage.themes.analyses(str(survey_id)),
        errors={},
        values={},
    )


@post("/surveys/{survey_id:uuid}/themes", sync_to_thread=True, guards=[theme_analysts_only])
def start_analysis(
    request: Request[Any, Any, Any], storage: Storage, state: State, survey_id: UUID, data: FormData
) -> Response[Any]:
    survey, questions = _text_questions(storage, survey_id)
    errors: dict[str, str] = {}
    question_id = one(data, "question_id")
    if question_id not in {q.id for q in questions}:
        errors["question_id"] = "自由記述の質問を選んでください。"
    k = _k(data, errors)
    if errors:
        return page(
            request,
            "themes/index.html",
            status_code=422,
            survey=survey,
            questions=questions,
            analyses=storage.themes.analyses(str(survey_id)),
            errors=errors,
            values=data,
        )
    jobs: ThemeJobs = state.theme_jobs
    job = jobs.start(survey_corpus(survey_id, question_id), current_user(request).id, k)  # type: ignore[union-attr]
    return go(request, f"/staff/themes/jobs/{job.id}")


def _k(data: FormData, errors: dict[str, str]) -> int | None:
    raw_k = one(data, "k").strip()
    if not raw_k:
        return None
    try:
        k = int(raw_k)
        if not 1 <= k <= 30:
            raise ValueError
    except ValueError:
        errors["k"] = "テーマ数は1〜30の整数で入力するか、空欄（自動）にしてください。"
        return None
    return k


def may_analyse_department(user: User | None, department: str) -> bool:
    """What the city makes of the ideas and proposals a department receives is that department's
    work: its own staff analyse them, or admins."""
    return bool(user and user.is_staff and (user.role is Role.ADMIN or user.department == department))


# The department corpora staff can analyse: where their texts come from, and how pages name them.
CORPORA = {
    IDEAS: (ideas_corpus, idea_count, "市民の提案"),
    PROPOSALS: (proposals_corpus, proposal_count, "事業者提案の概要"),
}
NOT_YOUR_CORPUS = "他の部署に寄せられた提案は分析できません。"


def _department_corpus_page(
    request: Request[Any, Any, Any],
    storage: Storage,
    kind: str,
    department: str,
    status_code: int = 200,
    **context: Any,
) -> Template:
    user = current_user(request)
    chosen = department or (user.department if user else "") or ""
    access.require(may_analyse_department(user, chosen), NOT_YOUR_CORPUS)
    make_corpus, count, name = CORPORA[kind]
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return page(
        request,
        "themes/department_index.html",
        status_code=status_code,
        kind=kind,
        corpus_name=name,
        department=chosen,
        text_count=count(storage.db, chosen),
        analyses=storage.themes.analyses(corpus=make_corpus(chosen)),
        **context,
    )


def _start_department_analysis(
    request: Request[Any, Any, Any], storage: Storage, state: State, kind: str, data: FormData
) -> Response[Any]:
    user = current_user(request)
    department = one(data, "department")
    access.require(may_analyse_department(user, department), NOT_YOUR_CORPUS)
    errors: dict[str, str] = {}
    k = _k(data, errors)
    if errors:
        return _department_corpus_page(request, storage, kind, department, 422, errors=errors, values=data)
    jobs: ThemeJobs = state.theme_jobs
    job = jobs.start(CORPORA[kind][0](department), user.id, k)  # type: ignore[union-attr]
    return go(request, f"/staff/themes/jobs/{job.id}")


@get("/ideas/themes", sync_to_thread=True)
def ideas_themes_home(request: Request[Any, Any, Any], storage: Storage, department: str = "") -> Template:
    return _department_corpus_page(request, storage, IDEAS, department)


@post("/ideas/themes", sync_to_thread=True)
def start_ideas_analysis(
    request: Request[Any, Any, Any], storage: Storage, state: State, data: FormData
) -> Response[Any]:
    return _start_department_analysis(request, storage, state, IDEAS, data)


@get("/proposals/themes", sync_to_thread=True)
def proposals_themes_home(request: Request[Any, Any, Any], storage: Storage, department: str = "") -> Template:
    return _department_corpus_page(request, storage, PROPOSALS, department)


@post("/proposals/themes", sync_to_thread=True)
def start_proposals_analysis(
    request: Request[Any, Any, Any], storage: Storage, state: State, data: FormData
) -> Response[Any]:
    return _start_department_analysis(request, storage, state, PROPOSALS, data)


@get("/themes/jobs/{job_id:str}", sync_to_thread=True)
def job_status(request: Request[Any, Any, Any], state: State, job_id: str) -> Response[Any]:
    job = state.theme_jobs.get(job_id)
    if job is None:
        raise NotFoundException("分析ジョブが見つかりません。")
    kind, scope, _ = parse_corpus(job.corpus)
    user = current_user(request)
    if kind in CORPORA:
        access.require(may_analyse_department(user, scope), NOT_YOUR_CORPUS)
    else:
        survey = survey_or_404(state.storage, UUID(scope))
        access.require(access.may_run_themes(user, survey), access.TEXT_OF_ANOTHER_DEPARTMENT)
    if job.analysis_id is not None and request.headers.get("hx-request"):
        return Response(content=None, headers={"HX-Redirect": f"/staff/themes/{job.analysis_id}"})
    template = "themes/job_status.html" if request.headers.get("hx-request") else "themes/job.html"
    return page(request, template, job=job)


def analysis_page(request: Request[Any, Any, Any], storage: Storage, analysis_id: UUID, audit: bool) -> Template:
    """An analysis with its quotes and opinions, word for word. Staff see their own department's;
    auditors see any on /audit, and every read outside the owning department is on record."""
    analysis = storage.themes.analysis(str(analysis_id))
    if analysis is None:
        raise NotFoundException("分析結果が見つかりません。")
    user = current_user(request)
    kind, scope, _ = parse_corpus(analysis.corpus)
    if kind in CORPORA:
        # Auditors read everything; survey answers are the raw text whose reads are disclosed.
        access.require(audit or may_analyse_department(user, scope), NOT_YOUR_CORPUS)
        members = [m for t in analysis.themes for m in t.members]
        return page(
            request,
            "themes/analysis.html",
            analysis=analysis,
            survey=None,
            question=None,
            department=scope,
            corpus_name=CORPORA[kind][2],
            breakdown={},
            opinions=storage.themes.corpus_opinions(analysis, members),
            audit=audit,
        )
    survey = survey_or_404(storage, UUID(analysis.survey_id))
    allowed = access.may_read_raw_text(user, survey) if audit else access.may_run_themes(user, survey)
    access.require(allowed, access.TEXT_OF_ANOTHER_DEPARTMENT)
    question = next((q for q in survey.questions if q.id == analysis.question_id), None)
    members = [m for t in analysis.themes for m in t.members]
    opinions = storage.themes.opinions(analysis.survey_id, analysis.question_id, members)
    if opinions and access.text_read_is_disclosed(user, survey, audit_view=audit):
        _disclose(storage, user, survey, analysis.question_id)
    return page(
        request,
        "themes/analysis.html",
        analysis=analysis,
        survey=survey,
        question=question,
        breakdown=storage.themes.breakdown(analysis),
        opinions=opinions,
        audit=audit,
    )


@get("/themes/{analysis_id:uuid}", sync_to_thread=True)
def staff_analysis(request: Request[Any, Any, Any], storage: Storage, analysis_id: UUID) -> Template:
    response = analysis_page(request, storage, analysis_id, audit=False)
    storage.app.record_theme_view(analysis_id, staff_id=current_user(request).id)  # type: ignore[union-attr]
    return response


def _disclose(storage: Storage, user: User | None, survey: Any, question_id: str) -> None:
    assert user is not None  # may_read_raw_text has checked.
    storage.app.record_text_disclosure(
        reader_id=user.id, survey_id=UUID(survey.id), question_ids=[question_id], purpose=Purpose.THEMES
    )


staff_router = Router(
    path="/staff",
    guards=[staff_only],
    route_handlers=[
        themes_home,
        start_analysis,
        ideas_themes_home,
        start_ideas_analysis,
        proposals_themes_home,
        start_proposals_analysis,
        job_status,
        staff_analysis,
    ],
)


routes = [staff_router]
