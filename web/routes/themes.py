"""Staff and auditor pages for opinion themes: start an analysis, follow it, read its themes."""

from typing import Any
from uuid import UUID

import anyio.to_thread
import msgspec
from litestar import Request, Router, get, post
from litestar.datastructures import State
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.response import Response, Template
from litestar.types import ASGIApp

from domain import theme_curation
from domain.disclosure import Purpose
from domain.errors import InvalidCommand
from domain.messages import N_
from domain.questions import FreeText
from domain.themes import IDEAS, MAX_SUMMARY, PROPOSALS, ideas_corpus, parse_corpus, proposals_corpus, survey_corpus
from domain.values import Role
from projections.storage import Storage
from projections.themes import idea_count, proposal_count
from web import access
from web.access import theme_analysts_only
from web.auth import User, current_user, staff_only
from web.forms import many, one
from web.i18n import gettext
from web.page_cache import OPT, PublicPageMiddleware, public_page, render
from web.routes.common import FormData, go, page, survey_or_404, visible_survey_at
from web.themes import ThemeJobs, assign_new_opinions, machine_labels, new_opinions, who_edited


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
        question_texts={q.id: q.text for q in survey.questions},
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
        errors["question_id"] = gettext("自由記述の質問を選んでください。")
    k = _k(data, errors)
    if errors:
        return page(
            request,
            "themes/index.html",
            status_code=422,
            survey=survey,
            questions=questions,
            analyses=storage.themes.analyses(str(survey_id)),
            question_texts={q.id: q.text for q in survey.questions},
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
        errors["k"] = gettext("テーマ数は1〜30の整数で入力するか、空欄（自動）にしてください。")
        return None
    return k


def may_analyse_department(user: User | None, department: str) -> bool:
    """What the city makes of the ideas and proposals a department receives is that department's
    work: its own staff analyse them, or admins."""
    return bool(user and user.is_staff and (user.role is Role.ADMIN or user.department == department))


# The department corpora staff can analyse: where their texts come from, and how pages name them.
CORPORA = {
    IDEAS: (ideas_corpus, idea_count, N_("市民の提案")),
    PROPOSALS: (proposals_corpus, proposal_count, N_("事業者提案の概要")),
}
NOT_YOUR_CORPUS = N_("他の部署に寄せられた提案は分析できません。")


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
    # The page shows the themes as staff have edited them, the machine's suggestion beside each.
    machine = analysis
    edits = storage.themes.edits(analysis.id)
    analysis = msgspec.structs.replace(analysis, themes=storage.themes.curated(analysis, edits))
    if kind in CORPORA:
        # Auditors read everything; survey answers are the raw text whose reads are disclosed.
        access.require(audit or may_analyse_department(user, scope), NOT_YOUR_CORPUS)
        assignments = storage.themes.assignments(analysis.id)
        members = [m for t in analysis.themes for m in t.members] + _assigned_ids(assignments)
        return page(
            request,
            "themes/analysis.html",
            analysis=analysis,
            survey=None,
            question=None,
            department=scope,
            corpus_name=CORPORA[kind][2],
            breakdown={},
            lift=[],
            opinions=(opinions := storage.themes.corpus_opinions(analysis, members)),
            audit=audit,
            **_v2_context(storage, analysis, assignments, audit),
            **_curation_context(storage, machine, analysis, edits, opinions, None),
        )
    survey = survey_or_404(storage, UUID(analysis.survey_id))
    allowed = access.may_read_raw_text(user, survey) if audit else access.may_run_themes(user, survey)
    access.require(allowed, access.TEXT_OF_ANOTHER_DEPARTMENT)
    question = next((q for q in survey.questions if q.id == analysis.question_id), None)
    assignments = storage.themes.assignments(analysis.id)
    members = [m for t in analysis.themes for m in t.members] + _assigned_ids(assignments)
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
        lift=storage.themes.lift(analysis),
        opinions=opinions,
        audit=audit,
        **_v2_context(storage, analysis, assignments, audit),
        **_curation_context(storage, machine, analysis, edits, opinions, survey),
    )


def _curation_context(
    storage: Storage, machine: Any, analysis: Any, edits: list[Any], opinions: dict[str, str], survey: Any
) -> dict[str, Any]:
    """Labels a person reads (staff's where they wrote one, else a phrase from the theme's most
    central readable opinion), the machine's suggestion beside them, and the history of edits."""
    suggested = machine_labels(machine.themes + analysis.themes, opinions)
    named_by_staff: set[str] = set()
    for e in edits:
        # The history names each theme as the page showed it at the time.
        e.labels_before = {t: lb if t in named_by_staff else suggested.get(t, lb) for t, lb in e.labels_before.items()}
        named_by_staff |= {"renamed": {e.theme_id}, "merged": set(e.theme_ids[:1]), "split": {e.new_theme_id}}[e.kind]
    labels = {t.id: t.label if t.id in named_by_staff else suggested[t.id] for t in analysis.themes}
    summaries = storage.themes.summaries(analysis_id=analysis.id)
    return {
        "labels": labels,
        "chart_labels": [labels[t.id] for t in analysis.themes],
        "suggested": {t.id: suggested[t.id] for t in machine.themes if t.id in named_by_staff and t.id in labels},
        "edits": edits,
        "editors": who_edited(storage, {e.edited_by for e in edits} | {s.published_by for s in summaries}),
        "summary": summaries[0] if summaries else None,
        "may_publish": bool(survey and survey.results_published),
        "max_summary": MAX_SUMMARY,
    }


def _assigned_ids(assignments: list[Any]) -> list[str]:
    return [a.opinion_id for a in assignments[0].assignments] if assignments else []


def _v2_context(storage: Storage, analysis: Any, assignments: list[Any], audit: bool) -> dict[str, Any]:
    """What themes v2 adds to the page: opinions in several themes, and new opinions since."""
    themes_of: dict[str, list[str]] = {}
    for theme in analysis.themes:
        for m in theme.members:
            themes_of.setdefault(m, []).append(theme.id)
    multi = {m: ids for m, ids in themes_of.items() if len(ids) > 1}
    new_count = 0 if audit else len(new_opinions(storage, UUID(analysis.id))[1])
    return {
        "multi_theme": multi,
        "duplicate_groups": sum(len(t.duplicates) for t in analysis.themes),
        "assignment": assignments[0] if assignments else None,
        "new_count": new_count,
    }


@post("/themes/{analysis_id:uuid}/assign", sync_to_thread=True)
def assign_new(request: Request[Any, Any, Any], storage: Storage, analysis_id: UUID) -> Response[Any]:
    """Puts the opinions that arrived since the analysis into its themes (no re-clustering)."""
    user = _curatable(request, storage, analysis_id)
    try:
        assign_new_opinions(storage, analysis_id, user.id)
    except ValueError as e:
        raise InvalidCommand(str(e)) from None
    return go(request, f"/staff/themes/{analysis_id}#assignment")


def _curatable(request: Request[Any, Any, Any], storage: Storage, analysis_id: UUID) -> Any:
    """The signed-in staff member, if they may edit the analysis (as they may run it)."""
    analysis = storage.themes.analysis(str(analysis_id))
    if analysis is None:
        raise NotFoundException("分析結果が見つかりません。")
    user = current_user(request)
    kind, scope, _ = parse_corpus(analysis.corpus)
    if kind in CORPORA:
        access.require(may_analyse_department(user, scope), NOT_YOUR_CORPUS)
    else:
        survey = survey_or_404(storage, UUID(analysis.survey_id))
        access.require(access.may_run_themes(user, survey), access.TEXT_OF_ANOTHER_DEPARTMENT)
    return user


def _edited(request: Request[Any, Any, Any], storage: Storage, analysis_id: UUID, anchor: str) -> Response[Any]:
    storage.projector.catch_up()
    return go(request, f"/staff/themes/{analysis_id}#{anchor}")


@post("/themes/{analysis_id:uuid}/rename", sync_to_thread=True)
def rename_theme(request: Request[Any, Any, Any], storage: Storage, analysis_id: UUID, data: FormData) -> Response[Any]:
    user = _curatable(request, storage, analysis_id)
    theme_curation.rename_theme(
        storage.app, analysis_id, staff_id=user.id, theme_id=one(data, "theme_id"), label=one(data, "label")
    )
    return _edited(request, storage, analysis_id, "theme-" + one(data, "theme_id"))


@post("/themes/{analysis_id:uuid}/merge", sync_to_thread=True)
def merge_themes(request: Request[Any, Any, Any], storage: Storage, analysis_id: UUID, data: FormData) -> Response[Any]:
    user = _curatable(request, storage, analysis_id)
    theme_curation.merge_themes(
        storage.app, analysis_id, staff_id=user.id, theme_ids=many(data, "theme_ids"), label=one(data, "label")
    )
    return _edited(request, storage, analysis_id, "edit-history")


@post("/themes/{analysis_id:uuid}/split", sync_to_thread=True)
def split_theme(request: Request[Any, Any, Any], storage: Storage, analysis_id: UUID, data: FormData) -> Response[Any]:
    user = _curatable(request, storage, analysis_id)
    theme_curation.split_theme(
        storage.app,
        analysis_id,
        staff_id=user.id,
        theme_id=one(data, "theme_id"),
        opinion_ids=many(data, "opinion_ids"),
        label=one(data, "label"),
    )
    return _edited(request, storage, analysis_id, "edit-history")


@post("/themes/{analysis_id:uuid}/publish", sync_to_thread=True)
def publish_summary(
    request: Request[Any, Any, Any], storage: Storage, analysis_id: UUID, data: FormData
) -> Response[Any]:
    user = _curatable(request, storage, analysis_id)
    summaries = {key.removeprefix("summary_"): one(data, key) for key in data if key.startswith("summary_")}
    theme_curation.publish_theme_summary(storage.app, analysis_id, staff_id=user.id, summaries=summaries)
    return _edited(request, storage, analysis_id, "publish")


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
        assign_new,
        rename_theme,
        merge_themes,
        split_theme,
        publish_summary,
    ],
)


@get("/surveys/{survey_id:uuid}/themes", middleware=[PublicPageMiddleware], opt=OPT, media_type=MediaType.HTML)
async def public_themes(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID) -> ASGIApp:
    """The theme summaries staff published for citizens: their words and counts, small counts hidden,
    never an opinion. Cached like the results page: publishing moves the read models' position."""
    position, survey, user = await visible_survey_at(request, storage, survey_id)
    access.require(access.may_read_results(user, survey), access.RESULTS_NOT_YET_PUBLIC)

    def build() -> Template:
        summaries = storage.themes.summaries(survey_id=str(survey_id))
        questions = {q.id: q.text for q in survey.questions}
        return page(request, "themes/public.html", survey=survey, summaries=summaries, question_texts=questions)

    if user is not None:
        return await anyio.to_thread.run_sync(build)
    return await public_page(request, position, lambda: render(request, build()))


routes = [staff_router, public_themes]
