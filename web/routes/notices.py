"""Targeted notices (ターゲット別情報発信): staff write, target, send and measure; citizens read.

Staff see how many people a segment reaches before sending (never an exact number under 5, so
that narrowing a segment cannot single anyone out); sending runs as a background job
(web/notice_jobs.py) whose progress the page polls. Citizens read their notices in their inbox;
opening one there, or following the e-mail's link, is recorded once per person.
"""

import threading
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, post
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from litestar.response import Redirect, Response, Template

from domain.errors import InvalidCommand
from domain.messages import N_
from domain.notice import MAX_BODY, MAX_TITLE, LinkKind, OpenedHow, Segment
from domain.values import SDG_GOALS, AgeBand, Role, Ward, sdg_goal_of
from projections import notices_read as read
from projections.participants import departments_to_follow
from projections.storage import Storage
from web import access
from web.auth import User, current_user, signed_in, staff_only
from web.forms import Form, many, one
from web.i18n import Translated, gettext
from web.mailer import recipient_of
from web.notice_jobs import MAIL_KIND, NoticeJobs
from web.routes.api import Problem
from web.routes.common import FormData, go, page, translated

NOT_YOUR_NOTICE = N_("他の部署のお知らせは表示・送信できません。")
LINK_ACTIONS = {
    LinkKind.SURVEY: N_("アンケートに回答する"),
    LinkKind.IDEA: N_("提案を見る"),
    LinkKind.CHALLENGE: N_("課題を見る"),
    LinkKind.MENU: N_("SDGsアクションメニューを見る"),
}
HAS_CHILDREN = {"yes": True, "no": False}
_jobs_lock = threading.Lock()


def _jobs(state: State) -> NoticeJobs:
    with _jobs_lock:
        jobs = state.get("notice_jobs")
        if jobs is None:
            jobs = state["notice_jobs"] = NoticeJobs(state.storage)
        return jobs  # type: ignore[no-any-return]


def _user(request: Request[Any, Any, Any]) -> User:
    user = current_user(request)
    if user is None:
        raise NotAuthorizedException("ログインしてください。")
    return user


def may_manage(user: User | None, department: str) -> bool:
    """A department's notices are its own staff's to send and measure; admins see every department's."""
    return bool(user and user.is_staff and (user.role is Role.ADMIN or user.department == department))


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


# Reading a segment from a form


def segment_from(form: Form, storage: Storage, errors: dict[str, str]) -> Segment:
    """The segment a staff form (or the live count's query) describes; problems go to `errors`."""

    def members(name: str, kind: Any) -> tuple[Any, ...]:
        chosen = []
        for value in many(form, name):
            try:
                chosen.append(kind(value))
            except ValueError:
                errors[name] = gettext("一覧から選んでください。")
        return tuple(dict.fromkeys(chosen))

    wards = members("wards", Ward)
    age_bands = members("age_bands", AgeBand)
    roles = members("roles", Role)
    goals = []
    for value in many(form, "follows_goals"):
        goal = sdg_goal_of(value)
        if goal is None:
            errors["follows_goals"] = gettext("SDGsの目標は1〜17の番号で選んでください。")
        else:
            goals.append(goal)
    known = set(_departments(storage))
    departments = tuple(dict.fromkeys(d.strip() for d in many(form, "follows_departments") if d.strip()))
    if any(d not in known for d in departments):
        errors["follows_departments"] = gettext("部署を一覧から選んでください。")
    raw_children = one(form, "has_children")
    if raw_children and raw_children not in HAS_CHILDREN:
        errors["has_children"] = gettext("選択肢から選んでください。")
    survey_id = None
    if raw_survey := one(form, "not_answered_survey_id").strip():
        try:
            survey_id = UUID(raw_survey)
        except ValueError:
            survey_id = None
        if survey_id is None or storage.catalogue.survey(str(survey_id)) is None:
            errors["not_answered_survey_id"] = gettext("アンケートを一覧から選んでください。")
            survey_id = None
    segment = Segment(
        wards=wards,
        age_bands=age_bands,
        has_children=HAS_CHILDREN.get(raw_children),
        roles=roles,
        follows_goals=tuple(dict.fromkeys(goals)),
        follows_departments=departments,
        not_answered_survey_id=survey_id,
    )
    for name, problem in segment.problems().items():
        errors.setdefault(name, problem)
    return segment


def _departments(storage: Storage) -> list[str]:
    return departments_to_follow(storage.db, storage.catalogue.departments())


def _link_from(form: Form, errors: dict[str, str]) -> tuple[LinkKind | None, UUID | None]:
    raw = one(form, "link").strip()
    if not raw:
        return None, None
    kind, _, raw_id = raw.partition(":")
    try:
        return LinkKind(kind), UUID(raw_id)
    except ValueError:
        errors["link"] = gettext("リンク先を一覧から選んでください。")
        return None, None


def _segment_values(segment: Segment) -> dict[str, Any]:
    """A segment as the picker's form values, to show it again."""
    return {
        "wards": [w.value for w in segment.wards],
        "age_bands": [a.value for a in segment.age_bands],
        "has_children": {True: "yes", False: "no"}.get(segment.has_children, ""),  # type: ignore[call-overload]
        "roles": [r.value for r in segment.roles],
        "follows_goals": [str(g) for g in segment.follows_goals],
        "follows_departments": list(segment.follows_departments),
        "not_answered_survey_id": str(segment.not_answered_survey_id or ""),
    }


DEFAULT_SEGMENT = {"roles": [Role.CITIZEN.value]}


def _form_values(form: Form) -> dict[str, Any]:
    values: dict[str, Any] = {k: one(form, k) for k in ("title", "body", "link", "has_children")}
    values["not_answered_survey_id"] = one(form, "not_answered_survey_id")
    for name in ("wards", "age_bands", "roles", "follows_goals", "follows_departments"):
        values[name] = many(form, name)
    return values


def _picker_context(storage: Storage, user: User) -> dict[str, Any]:
    return {
        "departments": _departments(storage),
        "surveys": read.link_choices(storage.db, user.department)[LinkKind.SURVEY],
        "WARDS": list(Ward),
        "AGE_BANDS": list(AgeBand),
        "ROLES": [Role.CITIZEN, Role.BUSINESS, Role.STAFF],
        "SDG_GOALS": Translated(SDG_GOALS),
    }


# Staff pages


def _staff_notice(request: Request[Any, Any, Any], storage: Storage, notice_id: UUID) -> read.NoticeView:
    found = read.notice(storage.db, str(notice_id))
    if found is None:
        raise NotFoundException("お知らせが見つかりません。")
    access.require(may_manage(current_user(request), found.department), NOT_YOUR_NOTICE)
    return found


@get("/", sync_to_thread=True)
def staff_notices(request: Request[Any, Any, Any], storage: Storage) -> Template:
    user = _user(request)
    department = None if user.role is Role.ADMIN else user.department
    found = read.notices(storage.db, department)
    sent = [n for n in found if n.sent]
    surveys = [str(n.segment.not_answered_survey_id) for n in sent if n.segment and n.segment.not_answered_survey_id]
    titles = read.survey_titles(storage.db, surveys)
    years = read.by_fiscal_year(storage.db, department)
    return page(
        request, "notices/staff_list.html", drafts=[n for n in found if not n.sent], sent=sent,
        segments={n.id: read.describe_segment(n.segment, titles.get(str(n.segment.not_answered_survey_id)))
                  for n in sent if n.segment},
        chart_labels=[n.title for n in sent], chart_values=[_chart_value(n.reach, n.small) for n in sent],
        years=years, year_labels=[gettext("%(year)s年度") % {"year": y} for y, _ in years],
        year_values=[_chart_value(r.reach, r.small) for _, r in years],
        by_segment=read.by_segment(storage.db, department, titles), people=read.people, percent=_percent,
    )  # fmt: skip


def _chart_value(reach: float | None, small: bool) -> float | str:
    if small or reach is None:
        return "x"
    return round(reach * 100, 1)


def _compose(request: Request[Any, Any, Any], storage: Storage, status_code: int = 200, **context: Any) -> Template:
    user = _user(request)
    context.setdefault("errors", {})
    context.setdefault("values", dict(DEFAULT_SEGMENT))
    return page(
        request, "notices/new.html", status_code=status_code, links=read.link_choices(storage.db, user.department),
        LINK_LABELS={k: gettext(k.label) for k in LinkKind}, max_title=MAX_TITLE, max_body=MAX_BODY,
        **_picker_context(storage, user), **context,
    )  # fmt: skip


@get("/new", sync_to_thread=True)
def compose(request: Request[Any, Any, Any], storage: Storage) -> Template:
    return _compose(request, storage)


@post("/", sync_to_thread=True)
def create_notice(request: Request[Any, Any, Any], storage: Storage, state: State, data: FormData) -> Response[Any]:
    user = _user(request)
    errors: dict[str, str] = {}
    kind, link_id = _link_from(data, errors)
    sending = one(data, "action") == "send"
    segment = segment_from(data, storage, errors) if sending else None
    if not errors and segment is not None and read.count_segment(storage.db, segment) == 0:
        errors["segment"] = gettext("この条件で届く人はいません。条件を見直してください。")
    if not errors:
        try:
            notice_id = storage.app.draft_notice(
                staff_id=user.id, title=one(data, "title"), body=one(data, "body"), link_kind=kind, link_id=link_id
            )
        except InvalidCommand as e:
            errors = translated(e.field_errors) or {"form": gettext(e.message)}
        else:
            storage.projector.catch_up()
            if segment is None:
                return go(request, f"/staff/notices/{notice_id}")
            job_id = _jobs(state).start(notice_id, user.id, segment)
            return go(request, f"/staff/notices/jobs/{job_id}")
    return _compose(request, storage, status_code=422, errors=errors, values=_form_values(data))


@get("/count", sync_to_thread=True)
def segment_count(request: Request[Any, Any, Any], storage: Storage) -> Template:
    """The live count beside the segment picker (htmx): how many people the segment reaches now."""
    form = {key: request.query_params.getall(key) for key in request.query_params}
    errors: dict[str, str] = {}
    segment = segment_from(form, storage, errors)
    count = None if errors else read.count_segment(storage.db, segment)
    return page(
        request, "notices/_count.html", status_code=422 if errors else 200, count=count, people=read.people,
        errors=errors,
    )  # fmt: skip


def _notice_page(
    request: Request[Any, Any, Any], storage: Storage, found: read.NoticeView, status_code: int = 200, **context: Any
) -> Template:
    user = _user(request)
    survey_id = found.segment.not_answered_survey_id if found.segment else None
    titles = read.survey_titles(storage.db, [str(survey_id)] if survey_id else [])
    context.setdefault("errors", {})
    context.setdefault("values", dict(DEFAULT_SEGMENT))
    stages = [
        (gettext("対象者（送信時）"), found.targeted),
        (gettext("配信済み"), found.delivered),
        (gettext("開封"), found.opened),
    ]
    if found.acts_counted:
        stages.append((gettext("行動（7日以内に回答）"), found.acted))
    return page(
        request, "notices/staff_notice.html", status_code=status_code, notice=found,
        segment_label=read.describe_segment(found.segment, titles.get(str(survey_id))) if found.segment else "",
        stages=stages, chart_values=["x" if found.small else n for _, n in stages],
        running=read.running_job(storage.db, found.id), link=read.link_path(found.link_kind, found.link_id),
        people=read.people, percent=_percent, **_picker_context(storage, user), **context,
    )  # fmt: skip


@get("/{notice_id:uuid}", sync_to_thread=True)
def staff_notice(request: Request[Any, Any, Any], storage: Storage, notice_id: UUID, sent: str = "") -> Template:
    return _notice_page(request, storage, _staff_notice(request, storage, notice_id), just_sent=bool(sent))


@post("/{notice_id:uuid}/send", sync_to_thread=True)
def send_notice(
    request: Request[Any, Any, Any], storage: Storage, state: State, notice_id: UUID, data: FormData
) -> Response[Any]:
    found = _staff_notice(request, storage, notice_id)
    errors: dict[str, str] = {}
    segment = segment_from(data, storage, errors)
    if not errors and read.count_segment(storage.db, segment) == 0:
        errors["segment"] = gettext("この条件で届く人はいません。条件を見直してください。")
    if errors:
        return _notice_page(request, storage, found, status_code=422, errors=errors, values=_form_values(data))
    job_id = _jobs(state).start(notice_id, _user(request).id, segment)
    return go(request, f"/staff/notices/jobs/{job_id}")


@get("/jobs/{job_id:str}", sync_to_thread=True)
def job_status(request: Request[Any, Any, Any], storage: Storage, job_id: str) -> Response[Any]:
    job = read.job(storage.db, job_id)
    found = read.notice(storage.db, job.notice_id) if job else None
    if job is None or found is None:
        raise NotFoundException("送信ジョブが見つかりません。")
    access.require(may_manage(current_user(request), found.department), NOT_YOUR_NOTICE)
    htmx = bool(request.headers.get("hx-request"))
    if job.finished_at and not job.error:
        # Done (perhaps before this page was first opened, for a small segment): on to the reach.
        if htmx:
            return Response(content=None, headers={"HX-Redirect": f"/staff/notices/{found.id}?sent=1"})
        return Redirect(f"/staff/notices/{found.id}?sent=1", status_code=303)
    template = "notices/_job_status.html" if htmx else "notices/job.html"
    return page(request, template, job=job, notice=found, people=read.people)


staff_router = Router(
    path="/staff/notices",
    guards=[staff_only],
    route_handlers=[staff_notices, compose, create_notice, segment_count, staff_notice, send_notice, job_status],
)


# Citizens' pages


@get("/", sync_to_thread=True, guards=[signed_in])
def inbox(request: Request[Any, Any, Any], storage: Storage) -> Template:
    user = _user(request)
    items = read.inbox(storage.db, str(user.id), limit=100)
    return page(request, "notices/inbox.html", items=items, unread=sum(1 for i in items if i.unread))


@get("/{notice_id:uuid}", sync_to_thread=True)
def my_notice(
    request: Request[Any, Any, Any], storage: Storage, state: State, notice_id: UUID, r: str = ""
) -> Template:
    """A notice as delivered. Opened from the inbox by the signed-in recipient, or by following the
    e-mail's link, whose token names the recipient (so the link works before signing in, too)."""
    user = current_user(request)
    reader: str | None = None
    how = OpenedHow.INBOX
    if r:
        named = recipient_of(state.settings.resolved_secret(), r, MAIL_KIND, str(notice_id))
        if named is not None and read.inbox_item(storage.db, str(named), str(notice_id)) is not None:
            reader, how = str(named), OpenedHow.EMAIL_LINK
    if reader is None:
        if user is None:
            raise NotAuthorizedException("ログインしてください。")
        reader = str(user.id)
    if read.inbox_item(storage.db, reader, str(notice_id)) is None:
        raise NotFoundException("お知らせが見つかりません。")
    if storage.app.open_notice(UUID(reader), notice_id, how):
        storage.projector.catch_up()
    item = read.inbox_item(storage.db, reader, str(notice_id))
    assert item is not None
    return page(
        request, "notices/notice.html", item=item, link=read.link_path(item.link_kind, item.link_id),
        link_action=gettext(LINK_ACTIONS[item.link_kind]) if item.link_kind else None,  # type: ignore[call-overload]
        own=user is not None and str(user.id) == reader,
    )  # fmt: skip


citizen_router = Router(path="/me/notices", route_handlers=[inbox, my_notice])


# API


class NoticeOut(msgspec.Struct):
    id: str
    title: str
    body: str
    department: str
    link_kind: LinkKind | None
    link_url: str | None
    delivered_at: str
    read: bool
    read_at: str | None


class MyNoticesOut(msgspec.Struct):
    unread: int
    notices: list[NoticeOut]


class ReadOut(msgspec.Struct):
    notice_id: str
    read: bool
    read_at: str | None
    newly_read: bool


def _notice_out(item: read.InboxItem) -> NoticeOut:
    return NoticeOut(
        id=item.notice_id, title=item.title, body=item.body, department=item.department, link_kind=item.link_kind,
        link_url=read.link_path(item.link_kind, item.link_id), delivered_at=item.delivered_at,
        read=not item.unread, read_at=item.opened_at,
    )  # fmt: skip


AUTH_PROBLEMS = {401: ResponseSpec(data_container=Problem, description="not signed in")}


@get(
    "/me/notices",
    sync_to_thread=True,
    summary="わたしへのお知らせ（新しい順、未読数つき）",
    responses=AUTH_PROBLEMS,
)
def api_my_notices(
    request: Request[Any, Any, Any],
    storage: Storage,
    limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
    offset: Annotated[int, Parameter(ge=0, le=1_000_000)] = 0,
) -> MyNoticesOut:
    user = _user(request)
    items = read.inbox(storage.db, str(user.id), limit=limit, offset=offset)
    return MyNoticesOut(unread=read.unread_count(storage.db, str(user.id)), notices=[_notice_out(i) for i in items])


@post(
    "/me/notices/{notice_id:uuid}/read",
    status_code=200,
    sync_to_thread=True,
    summary="お知らせを既読にする（何度送っても同じ結果）",
    description="200 every time: `newly_read` says whether this request was the first opening."
    " 404 if the notice was not delivered to you.",
    responses={**AUTH_PROBLEMS, 404: ResponseSpec(data_container=Problem, description="not delivered to you")},
)
def api_read_notice(request: Request[Any, Any, Any], storage: Storage, notice_id: UUID) -> ReadOut:
    user = _user(request)
    if read.inbox_item(storage.db, str(user.id), str(notice_id)) is None:
        raise NotFoundException("お知らせが見つかりません。")
    newly = storage.app.open_notice(user.id, notice_id, OpenedHow.INBOX)
    storage.projector.catch_up()
    item = read.inbox_item(storage.db, str(user.id), str(notice_id))
    assert item is not None
    return ReadOut(notice_id=str(notice_id), read=True, read_at=item.opened_at, newly_read=newly)


api_router = Router(path="/api/v1", route_handlers=[api_my_notices, api_read_notice], tags=["notices"])

routes: list[Any] = [staff_router, citizen_router, api_router]
