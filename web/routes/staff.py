"""Staff pages: drafting surveys and their questions, the lifecycle, results and CSV export."""

import csv
import io
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, Router, get, post
from litestar.response import Redirect, Response, Template

from domain.errors import InvalidCommand
from projections.storage import Storage
from web import access
from web.access import editors_only, exporters_only
from web.auth import User, current_user, staff_only
from web.forms import one, parse_audience, parse_date, question_fields
from web.routes.common import FormData, go, page, survey_or_404
from web.routes.pages import results_page


def _user(request: Request[Any, Any, Any]) -> User:
    user = current_user(request)
    assert user is not None  # The router's guard has checked.
    return user


@get("/", sync_to_thread=True)
def dashboard(request: Request[Any, Any, Any], storage: Storage, department: str = "") -> Template:
    user = _user(request)
    chosen = department or ""
    # Every department's surveys are listed, each with only the actions this person may take;
    # another department's drafts are not theirs to read.
    surveys = [
        (s, access.offers(user, s))
        for s in storage.catalogue.surveys(department=chosen or None, limit=500)
        if access.may_view_survey(user, s)
    ]
    return page(
        request,
        "staff/dashboard.html",
        surveys=surveys,
        departments=storage.catalogue.departments(),
        department=chosen,
        my_department=user.department,
    )


@get("/surveys/new", sync_to_thread=False)
def new_survey_form(request: Request[Any, Any, Any]) -> Template:
    return page(request, "staff/survey_new.html", errors={}, values={"audience": "citizens"})


def _details(data: FormData) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    details = {
        "title": one(data, "title"),
        "description": one(data, "description"),
        "audience": parse_audience(one(data, "audience"), errors),
        "opens_on": parse_date(one(data, "opens_on"), "opens_on", errors),
        "closes_on": parse_date(one(data, "closes_on"), "closes_on", errors),
    }
    return details, errors


@post("/surveys", sync_to_thread=True)
def create_survey(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    details, errors = _details(data)
    if not errors:
        try:
            survey_id = storage.app.draft_survey(staff_id=_user(request).id, **details)
        except InvalidCommand as e:
            errors = e.field_errors or {"title": e.message}
        else:
            storage.projector.catch_up()
            return go(request, f"/staff/surveys/{survey_id}")
    return page(request, "staff/survey_new.html", status_code=422, errors=errors, values=data)


def _editor(
    request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, status_code: int = 200, **context: Any
) -> Template:
    survey = survey_or_404(storage, survey_id)
    context.setdefault("errors", {})
    context.setdefault("values", {})
    context.setdefault("question_errors", {})
    context.setdefault("question_values", {"kind": "single", "required": "on"})
    offers = access.offers(_user(request), survey)
    return page(request, "staff/survey_edit.html", status_code=status_code, survey=survey, offers=offers, **context)


@get("/surveys/{survey_id:uuid}", sync_to_thread=True, guards=[editors_only])
def edit_survey(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID) -> Template:
    return _editor(request, storage, survey_id)


@post("/surveys/{survey_id:uuid}/details", sync_to_thread=True, guards=[editors_only])
def revise_details(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, data: FormData) -> Response[Any]:
    details, errors = _details(data)
    if not errors:
        try:
            storage.app.revise_survey_details(survey_id, staff_id=_user(request).id, **details)
        except InvalidCommand as e:
            errors = e.field_errors or {"title": e.message}
    if errors:
        return _editor(request, storage, survey_id, status_code=422, errors=errors, values=data)
    storage.projector.catch_up()
    return go(request, f"/staff/surveys/{survey_id}")


@post("/surveys/{survey_id:uuid}/questions", sync_to_thread=True, guards=[editors_only])
def add_question(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, data: FormData) -> Response[Any]:
    errors: dict[str, str] = {}
    kind, fields = question_fields(data, errors)
    if not errors:
        try:
            storage.app.add_question(survey_id, staff_id=_user(request).id, kind=kind, **fields)
        except InvalidCommand as e:
            errors = {"form": e.message}
    if errors:
        return _editor(request, storage, survey_id, status_code=422, question_errors=errors, question_values=data)
    storage.projector.catch_up()
    return go(request, f"/staff/surveys/{survey_id}#questions")


@post("/surveys/{survey_id:uuid}/questions/{question_id:str}", sync_to_thread=True, guards=[editors_only])
def revise_question(
    request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, question_id: str, data: FormData
) -> Response[Any]:
    errors: dict[str, str] = {}
    kind, fields = question_fields(data, errors)
    if not errors:
        try:
            storage.app.revise_question(survey_id, question_id, staff_id=_user(request).id, kind=kind, **fields)
        except InvalidCommand as e:
            errors = {"form": e.message}
    if errors:
        message = "質問を保存できませんでした: " + " ".join(errors.values())
        return _editor(request, storage, survey_id, status_code=422, message=message)
    storage.projector.catch_up()
    return go(request, f"/staff/surveys/{survey_id}#questions")


@post("/surveys/{survey_id:uuid}/questions/{question_id:str}/delete", sync_to_thread=True, guards=[editors_only])
def remove_question(
    request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, question_id: str
) -> Response[Any]:
    storage.app.remove_question(survey_id, question_id, staff_id=_user(request).id)
    storage.projector.catch_up()
    return go(request, f"/staff/surveys/{survey_id}#questions")


def _transition(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, command: str) -> Response[Any]:
    try:
        getattr(storage.app, command)(survey_id, staff_id=_user(request).id)
    except InvalidCommand as e:
        return _editor(request, storage, survey_id, status_code=422, message=e.message)
    storage.projector.catch_up()
    return go(request, f"/staff/surveys/{survey_id}")


@post("/surveys/{survey_id:uuid}/publish", sync_to_thread=True, guards=[editors_only])
def publish(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID) -> Response[Any]:
    return _transition(request, storage, survey_id, "publish_survey")


@post("/surveys/{survey_id:uuid}/close", sync_to_thread=True, guards=[editors_only])
def close(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID) -> Response[Any]:
    return _transition(request, storage, survey_id, "close_survey")


@post("/surveys/{survey_id:uuid}/publish-results", sync_to_thread=True, guards=[editors_only])
def publish_results(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID) -> Response[Any]:
    return _transition(request, storage, survey_id, "publish_results")


@get("/surveys/{survey_id:uuid}/results", sync_to_thread=True)
def staff_results(
    request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, segment: str = "ward"
) -> Response[Any]:
    survey = survey_or_404(storage, survey_id)
    user = _user(request)
    if not access.may_read_live_results(user, survey) and access.may_read_published_results(user, survey):
        # Another department's published results: the public view, in aggregate only.
        return Redirect(f"/surveys/{survey_id}/results?{urlencode({'segment': segment})}", status_code=303)
    access.require(access.may_read_live_results(user, survey), access.RESULTS_NOT_PUBLISHED)
    return results_page(request, storage, survey, segment, staff_view=True)


@get("/surveys/{survey_id:uuid}/results.csv", sync_to_thread=True, guards=[exporters_only])
def results_csv(storage: Storage, survey_id: UUID) -> Response[bytes]:
    survey = survey_or_404(storage, survey_id)
    results = storage.results.of(survey)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")

    def row(cells: list[object]) -> None:
        # Excel runs a cell starting = + - @ (or tab, CR) as a formula; staff-typed text such as a
        # question or option is kept text by a leading apostrophe. Numbers are written as they are.
        writer.writerow(
            ["'" + c if isinstance(c, str) and c[:1] in ("=", "+", "-", "@", "\t", "\r") else c for c in cells]
        )

    row(["質問ID", "質問", "区分", "区分の値", "回答者数", "選択肢・階級", "件数", "割合(%)", "平均"])
    for q in results.questions:
        has_mean = q.kind in ("scale", "number")
        columns = [q.overall] + [c for cols in q.breakdowns.values() for c in cols]
        for col in columns:
            segment = "全体" if col.segment == "all" else results.segments[col.segment]
            mean = col.mean if col.mean is not None else (results.suppressed_mark if has_mean else "")
            if not q.buckets:
                row([q.id, q.text, segment, col.label, col.respondents, "", "", "", ""])
            for label, count, percent in zip(q.buckets, col.counts, col.percents, strict=True):
                shown_percent = results.suppressed_mark if percent is None else percent
                row([q.id, q.text, segment, col.label, col.respondents, label, count, shown_percent, mean])
    # Excel detects UTF-8 only with a byte-order mark; without it Japanese turns to mojibake.
    body = "\ufeff" + out.getvalue()
    filename = f"kyoso-results-{survey.id}.csv"
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


router = Router(
    path="/staff",
    guards=[staff_only],
    route_handlers=[
        dashboard,
        new_survey_form,
        create_survey,
        edit_survey,
        revise_details,
        add_question,
        revise_question,
        remove_question,
        publish,
        close,
        publish_results,
        staff_results,
        results_csv,
    ],
)
routes = [router]
