"""Pages and API for citizens' ideas (市民の提案): the public list, submitting and editing, supports,
comments and moderation, and the staff pages that answer them. Who may do what: web/access_ideas.py."""

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Router, delete, get, post, put
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from litestar.response import Response, Template
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from domain.errors import InvalidCommand
from domain.idea_values import (
    MAX_BODY,
    MAX_COMMENT,
    MAX_TITLE,
    POLICY_AREAS,
    STATUS_LABELS,
    IdeaStatus,
    department_choices,
)
from domain.values import SDG_GOALS, Ward, sdg_goal_of
from projections.idea_list import MAX_LIMIT, MAX_OFFSET, SORT_LABELS, SORTS, CommentView, Filters, IdeaDetail, IdeaList
from projections.storage import Storage
from web import access_ideas as rules
from web.auth import User, current_user, signed_in, staff_only
from web.forms import many, one
from web.i18n import Translated, gettext
from web.routes.api import Problem
from web.routes.common import FormData, go, translated
from web.routes.common import page as common_page

PAGE_SIZE = 20


def _ideas(storage: Storage) -> IdeaList:
    return IdeaList(storage.db)


def _departments(storage: Storage) -> list[str]:
    return department_choices(storage.catalogue.departments())


# The policy areas are the city's own words, shown in the request's language; departments are names.
AREA_LABELS = Translated({area: area for area in POLICY_AREAS})


def page(request: Request[Any, Any, Any], name: str, status_code: int = 200, **context: Any) -> Template:
    return common_page(request, name, status_code, areas=AREA_LABELS, **context)


def _signed(request: Request[Any, Any, Any]) -> User:
    user = current_user(request)
    if user is None:
        raise NotAuthorizedException("ログインしてください。")
    return user


def _filters(status: str, department: str, goal: str, ward: str, q: str, sort: str) -> tuple[Filters, dict[str, str]]:
    """The list's filters from query parameters; unknown values are reported, never a 500."""
    errors: dict[str, str] = {}
    chosen_status = chosen_ward = chosen_goal = None
    if status:
        try:
            chosen_status = IdeaStatus(status)
        except ValueError:
            errors["status"] = gettext("状態を一覧から選んでください。")
    if ward:
        try:
            chosen_ward = Ward(ward)
        except ValueError:
            errors["ward"] = gettext("地区を一覧から選んでください。")
    if goal:
        chosen_goal = sdg_goal_of(goal)
        if chosen_goal is None:
            errors["goal"] = gettext("SDGsの目標は1〜17の番号で選んでください。")
    if sort and sort not in SORTS:
        errors["sort"] = gettext("並び順を一覧から選んでください。")
    filters = Filters(
        status=chosen_status,
        department=department or None,
        goal=chosen_goal,
        ward=chosen_ward,
        q=q[:200],
        sort=sort if sort in SORTS else "newest",
    )
    return filters, errors


def _visible(request: Request[Any, Any, Any], storage: Storage, idea_id: UUID) -> IdeaDetail:
    idea = _ideas(storage).idea(str(idea_id))
    if idea is None or not rules.may_view(current_user(request), idea):
        raise NotFoundException("提案が見つかりません。")
    return idea


def _idea_form(data: FormData) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    goals: list[int] = []
    for raw in many(data, "sdg_goals"):
        if (number := sdg_goal_of(raw)) is not None:
            goals.append(number)
        else:
            errors["sdg_goals"] = gettext("SDGsの目標は1〜17の番号で選んでください。")
    fields = {
        "title": one(data, "title"),
        "body": one(data, "body"),
        "department": one(data, "department").strip(),
        "sdg_goals": goals,
        "ward": one(data, "ward") or None,
    }
    return fields, errors


def _form_values(fields: dict[str, Any]) -> dict[str, Any]:
    return {**fields, "sdg_goals": [str(g) for g in fields.get("sdg_goals", [])]}


# --- public pages ---------------------------------------------------------------------------------


@get("/", sync_to_thread=True)
def idea_index(
    request: Request[Any, Any, Any],
    storage: Storage,
    status: str = "",
    department: str = "",
    goal: str = "",
    ward: str = "",
    q: str = "",
    sort: str = "newest",
    offset: Annotated[int, Parameter(ge=0, le=MAX_OFFSET)] = 0,
) -> Template:
    filters, _ = _filters(status, department, goal, ward, q, sort)
    found = _ideas(storage).page(filters, limit=PAGE_SIZE, offset=offset)
    query = {
        k: v
        for k, v in {
            "status": status,
            "department": department,
            "goal": goal,
            "ward": ward,
            "q": q,
            "sort": sort,
        }.items()
        if v
    }
    template = "ideas/_list.html" if request.headers.get("hx-request") else "ideas/index.html"
    return page(
        request,
        template,
        found=found,
        filters=filters,
        query=query,
        departments=_departments(storage),
        may_submit=rules.may_submit_idea(current_user(request)),
        sort_labels=Translated(SORT_LABELS),
        statuses=list(IdeaStatus),
        goals=Translated(SDG_GOALS),
    )


@get("/new", sync_to_thread=True, guards=[signed_in])
def new_idea(request: Request[Any, Any, Any], storage: Storage) -> Template:
    rules_ok = rules.may_submit_idea(current_user(request))
    if not rules_ok:
        raise PermissionDeniedException(rules.NOT_A_CITIZEN)
    return page(
        request, "ideas/new.html", errors={}, values={}, departments=_departments(storage), goals=Translated(SDG_GOALS)
    )


@post("/", sync_to_thread=True, guards=[signed_in])
def create_idea(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    user = _signed(request)
    if not rules.may_submit_idea(user):
        raise PermissionDeniedException(rules.NOT_A_CITIZEN)
    fields, errors = _idea_form(data)
    if not errors:
        try:
            idea_id = storage.app.submit_idea(user.id, departments=_departments(storage), **fields)
        except InvalidCommand as e:
            errors = translated(e.field_errors) or {"title": gettext(e.message)}
        else:
            storage.projector.catch_up()
            return go(request, f"/ideas/{idea_id}")
    return page(
        request,
        "ideas/new.html",
        status_code=422,
        errors=errors,
        values=_form_values(fields),
        departments=_departments(storage),
        goals=Translated(SDG_GOALS),
    )


def _detail_page(
    request: Request[Any, Any, Any], storage: Storage, idea: IdeaDetail, status_code: int = 200, **context: Any
) -> Template:
    user = current_user(request)
    ideas = _ideas(storage)
    supported = bool(user) and storage.app.has_supported(UUID(idea.id), user.id)  # type: ignore[union-attr]
    context.setdefault("comment_errors", {})
    context.setdefault("comment_values", {})
    return page(
        request,
        "ideas/detail.html",
        status_code=status_code,
        idea=idea,
        comments=ideas.comments(idea.id),
        history=[h for h in ideas.history(idea.id) if h.kind in ("status", "reassigned", "answered", "withdrawn")],
        supported=supported,
        rules=rules,
        status_labels=Translated(STATUS_LABELS),
        **context,
    )


@get("/{idea_id:uuid}", sync_to_thread=True)
def idea_page(request: Request[Any, Any, Any], storage: Storage, idea_id: UUID) -> Template:
    return _detail_page(request, storage, _visible(request, storage, idea_id))


@get("/{idea_id:uuid}/edit", sync_to_thread=True, guards=[signed_in])
def edit_idea_form(request: Request[Any, Any, Any], storage: Storage, idea_id: UUID) -> Template:
    idea = _visible(request, storage, idea_id)
    user = _signed(request)
    if not rules.may_edit(user, idea):
        raise PermissionDeniedException("職員の対応が始まった提案や、他の人の提案は編集できません。")
    values = {
        "title": idea.title,
        "body": idea.body,
        "department": idea.department,
        "sdg_goals": [str(g) for g in idea.sdg_goals],
        "ward": idea.ward.value if idea.ward else "",
    }
    return page(
        request,
        "ideas/edit.html",
        idea=idea,
        errors={},
        values=values,
        departments=_departments(storage),
        goals=Translated(SDG_GOALS),
    )


@post("/{idea_id:uuid}/edit", sync_to_thread=True, guards=[signed_in])
def edit_idea(request: Request[Any, Any, Any], storage: Storage, idea_id: UUID, data: FormData) -> Response[Any]:
    idea = _visible(request, storage, idea_id)
    user = _signed(request)
    fields, errors = _idea_form(data)
    if not errors:
        try:
            storage.app.edit_idea(idea_id, user.id, departments=_departments(storage), **fields)
        except InvalidCommand as e:
            errors = translated(e.field_errors) or {"title": gettext(e.message)}
        else:
            storage.projector.catch_up()
            return go(request, f"/ideas/{idea_id}")
    return page(
        request,
        "ideas/edit.html",
        status_code=422,
        idea=idea,
        errors=errors,
        values=_form_values(fields),
        departments=_departments(storage),
        goals=Translated(SDG_GOALS),
    )


@post("/{idea_id:uuid}/withdraw", sync_to_thread=True, guards=[signed_in])
def withdraw_idea(request: Request[Any, Any, Any], storage: Storage, idea_id: UUID) -> Response[Any]:
    _visible(request, storage, idea_id)
    storage.app.withdraw_idea(idea_id, _signed(request).id)
    storage.projector.catch_up()
    return go(request, f"/ideas/{idea_id}")


@post("/{idea_id:uuid}/support", sync_to_thread=True, guards=[signed_in])
def support(request: Request[Any, Any, Any], storage: Storage, idea_id: UUID, data: FormData) -> Response[Any]:
    _visible(request, storage, idea_id)
    user = _signed(request)
    if one(data, "action") == "withdraw":
        storage.app.withdraw_support(idea_id, user.id)
    else:
        storage.app.support_idea(idea_id, user.id)
    storage.projector.catch_up()
    if request.headers.get("hx-request"):
        idea = _visible(request, storage, idea_id)
        supported = storage.app.has_supported(idea_id, user.id)
        return page(request, "ideas/_support.html", idea=idea, supported=supported, rules=rules)
    return go(request, f"/ideas/{idea_id}#support")


@post("/{idea_id:uuid}/comments", sync_to_thread=True, guards=[signed_in])
def comment(request: Request[Any, Any, Any], storage: Storage, idea_id: UUID, data: FormData) -> Response[Any]:
    idea = _visible(request, storage, idea_id)
    user = _signed(request)
    text, parent = one(data, "text"), one(data, "parent_id").strip()
    try:
        parent_id = UUID(parent) if parent else None
    except ValueError:
        parent_id = None
    try:
        comment_id = storage.app.post_comment(idea_id, user.id, text, parent_id=parent_id)
    except InvalidCommand as e:
        errors = translated(e.field_errors) or {"text": gettext(e.message)}
        return _detail_page(
            request,
            storage,
            idea,
            status_code=422,
            comment_errors=errors,
            comment_values={"text": text, "parent_id": parent},
        )
    storage.projector.catch_up()
    return go(request, f"/ideas/{idea_id}#comment-{comment_id}")


@post("/{idea_id:uuid}/comments/{comment_id:uuid}/report", sync_to_thread=True, guards=[signed_in])
def report(request: Request[Any, Any, Any], storage: Storage, idea_id: UUID, comment_id: UUID) -> Response[Any]:
    _visible(request, storage, idea_id)
    storage.app.report_comment(comment_id, _signed(request).id)
    storage.projector.catch_up()
    return go(request, f"/ideas/{idea_id}#comment-{comment_id}")


@post("/{idea_id:uuid}/comments/{comment_id:uuid}/hide", sync_to_thread=True, guards=[staff_only])
def hide(
    request: Request[Any, Any, Any], storage: Storage, idea_id: UUID, comment_id: UUID, data: FormData
) -> Response[Any]:
    idea = _visible(request, storage, idea_id)
    try:
        storage.app.hide_comment(comment_id, moderator_id=_signed(request).id, reason=one(data, "reason"))
    except InvalidCommand as e:
        return _detail_page(
            request,
            storage,
            idea,
            status_code=422,
            hide_errors={str(comment_id): translated(e.field_errors).get("reason", gettext(e.message))},
        )
    storage.projector.catch_up()
    return go(request, f"/ideas/{idea_id}#comment-{comment_id}")


# --- staff pages ----------------------------------------------------------------------------------


@get("/", sync_to_thread=True)
def staff_ideas(request: Request[Any, Any, Any], storage: Storage, status: str = "", department: str = "") -> Template:
    user = _signed(request)
    try:
        chosen = IdeaStatus(status) if status else None
    except ValueError:
        chosen = None
    # Staff see their department's ideas; an admin chooses the department (or all).
    shown_department = department if user.role.value == "admin" else user.department
    ideas = _ideas(storage).for_department(shown_department or None, chosen)
    return page(
        request,
        "ideas/staff_list.html",
        ideas=ideas,
        status=status,
        department=shown_department or "",
        departments=_departments(storage),
        is_admin=user.role.value == "admin",
        statuses=list(IdeaStatus),
    )


def _manage_page(
    request: Request[Any, Any, Any], storage: Storage, idea_id: UUID, status_code: int = 200, **context: Any
) -> Template:
    idea = _ideas(storage).idea(str(idea_id))
    if idea is None:
        raise NotFoundException("提案が見つかりません。")
    user = _signed(request)
    if not rules.may_respond(user, idea):
        raise PermissionDeniedException(rules.NOT_RESPONSIBLE)
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return page(
        request,
        "ideas/staff_idea.html",
        status_code=status_code,
        idea=idea,
        history=_ideas(storage).history(idea.id),
        departments=[d for d in _departments(storage) if d != idea.department],
        statuses=[s for s in IdeaStatus if s is not IdeaStatus.RECEIVED],
        status_labels=Translated(STATUS_LABELS),
        **context,
    )


@get("/{idea_id:uuid}", sync_to_thread=True)
def staff_idea(request: Request[Any, Any, Any], storage: Storage, idea_id: UUID) -> Template:
    return _manage_page(request, storage, idea_id)


def _staff_command(
    request: Request[Any, Any, Any], storage: Storage, idea_id: UUID, data: FormData, command: str, **kwargs: Any
) -> Response[Any]:
    _manage_page(request, storage, idea_id)  # 404 / 403 before anything is tried
    try:
        getattr(storage.app, command)(idea_id, staff_id=_signed(request).id, **kwargs)
    except InvalidCommand as e:
        return _manage_page(
            request,
            storage,
            idea_id,
            status_code=422,
            errors=translated(e.field_errors) or {"form": gettext(e.message)},
            values=data,
        )
    storage.projector.catch_up()
    return go(request, f"/staff/ideas/{idea_id}")


@post("/{idea_id:uuid}/answer", sync_to_thread=True)
def draft_answer(request: Request[Any, Any, Any], storage: Storage, idea_id: UUID, data: FormData) -> Response[Any]:
    return _staff_command(request, storage, idea_id, data, "draft_idea_answer", answer=one(data, "answer"))


@post("/{idea_id:uuid}/publish", sync_to_thread=True)
def publish_answer(request: Request[Any, Any, Any], storage: Storage, idea_id: UUID, data: FormData) -> Response[Any]:
    return _staff_command(request, storage, idea_id, data, "publish_idea_answer")


@post("/{idea_id:uuid}/status", sync_to_thread=True)
def change_status(request: Request[Any, Any, Any], storage: Storage, idea_id: UUID, data: FormData) -> Response[Any]:
    return _staff_command(
        request, storage, idea_id, data, "change_idea_status", status=one(data, "status"), reason=one(data, "reason")
    )


@post("/{idea_id:uuid}/reassign", sync_to_thread=True)
def reassign(request: Request[Any, Any, Any], storage: Storage, idea_id: UUID, data: FormData) -> Response[Any]:
    return _staff_command(
        request,
        storage,
        idea_id,
        data,
        "reassign_idea",
        department=one(data, "department").strip(),
        departments=_departments(storage),
    )


staff_router = Router(
    path="/staff/ideas",
    guards=[staff_only],
    route_handlers=[staff_ideas, staff_idea, draft_answer, publish_answer, change_status, reassign],
)


# --- API ------------------------------------------------------------------------------------------


class IdeaIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(max_length=MAX_TITLE * 2)]
    body: Annotated[str, msgspec.Meta(max_length=MAX_BODY * 2)]
    department: Annotated[str, msgspec.Meta(max_length=200)]
    sdg_goals: Annotated[list[int], msgspec.Meta(max_length=17)] = []
    ward: str | None = None


class IdeaCreated(msgspec.Struct):
    idea_id: str


class IdeaOut(msgspec.Struct, kw_only=True):
    """An idea as anyone may see it: the published answer only, and no author id."""

    id: str
    title: str
    body: str
    department: str
    sdg_goals: list[int]
    ward: Ward | None
    status: IdeaStatus
    status_label: str
    status_reason: str
    support_count: int
    comment_count: int
    submitted_at: str
    answer: str | None
    answered_at: str | None


class IdeaSummaryOut(msgspec.Struct, kw_only=True):
    id: str
    title: str
    excerpt: str
    department: str
    sdg_goals: list[int]
    ward: Ward | None
    status: IdeaStatus
    support_count: int
    comment_count: int
    submitted_at: str
    answered_at: str | None


class IdeaListOut(msgspec.Struct):
    items: list[IdeaSummaryOut]
    limit: int
    offset: int
    has_more: bool


class SupportOut(msgspec.Struct):
    idea_id: str
    supported: bool
    changed: bool


class CommentIn(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(max_length=MAX_COMMENT * 2)]
    parent_id: UUID | None = None


class CommentCreated(msgspec.Struct):
    comment_id: str


class CommentOut(msgspec.Struct, kw_only=True):
    """A hidden comment keeps its place with the moderator's reason, and no text."""

    id: str
    parent_id: str | None
    by_idea_author: bool
    text: str | None
    posted_at: str
    hidden: bool
    hidden_reason: str | None
    erased: bool
    replies: list["CommentOut"]


def _idea_out(idea: IdeaDetail) -> IdeaOut:
    return IdeaOut(
        id=idea.id,
        title=idea.title,
        body=idea.body,
        department=idea.department,
        sdg_goals=idea.sdg_goals,
        ward=idea.ward,
        status=idea.status,
        status_label=idea.status.label,
        status_reason=idea.status_reason,
        support_count=idea.support_count,
        comment_count=idea.comment_count,
        submitted_at=idea.submitted_at,
        answer=idea.answer,
        answered_at=idea.answered_at,
    )


def _comment_out(comment: CommentView, author_id: str) -> CommentOut:
    return CommentOut(
        id=comment.id,
        parent_id=comment.parent_id,
        by_idea_author=comment.author_id == author_id,
        text=comment.text,
        posted_at=comment.posted_at,
        hidden=comment.hidden,
        hidden_reason=comment.hidden_reason,
        erased=comment.erased,
        replies=[_comment_out(r, author_id) for r in comment.replies],
    )


def _api_visible(request: Request[Any, Any, Any], storage: Storage, idea_id: UUID) -> IdeaDetail:
    idea = _ideas(storage).idea(str(idea_id))
    if idea is None or not idea.listed:
        raise NotFoundException("提案が見つかりません。")
    return idea


PROBLEMS = {
    401: ResponseSpec(data_container=Problem, description="not signed in"),
    403: ResponseSpec(data_container=Problem, description="this role may not do this"),
    404: ResponseSpec(data_container=Problem, description="no such idea"),
}


@get("/ideas", sync_to_thread=True, summary="市民の提案の一覧（絞り込み・並べ替え・検索）")
def api_list_ideas(
    storage: Storage,
    status: str = "",
    department: str = "",
    goal: str = "",
    ward: str = "",
    q: str = "",
    sort: str = "newest",
    limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Parameter(ge=0, le=MAX_OFFSET)] = 0,
) -> IdeaListOut:
    filters, errors = _filters(status, department, goal, ward, q, sort)
    if errors:
        raise InvalidCommand(field_errors=errors)
    found = _ideas(storage).page(filters, limit=limit, offset=offset)
    items = [IdeaSummaryOut(**{f: getattr(i, f) for f in IdeaSummaryOut.__struct_fields__}) for i in found.items]
    return IdeaListOut(items=items, limit=found.limit, offset=found.offset, has_more=found.has_more)


@post(
    "/ideas",
    status_code=HTTP_201_CREATED,
    sync_to_thread=True,
    summary="提案を投稿する（市民のみ）",
    responses={**PROBLEMS, 422: ResponseSpec(data_container=Problem, description="invalid fields; field_errors")},
)
def api_submit_idea(request: Request[Any, Any, Any], storage: Storage, data: IdeaIn) -> IdeaCreated:
    user = _signed(request)
    if not rules.may_submit_idea(user):
        raise PermissionDeniedException(rules.NOT_A_CITIZEN)
    idea_id = storage.app.submit_idea(
        user.id,
        title=data.title,
        body=data.body,
        department=data.department,
        sdg_goals=data.sdg_goals,
        ward=data.ward,
        departments=_departments(storage),
    )
    return IdeaCreated(idea_id=str(idea_id))


@get("/ideas/{idea_id:uuid}", sync_to_thread=True, summary="提案（公開された回答を含む）", responses=PROBLEMS)
def api_get_idea(request: Request[Any, Any, Any], storage: Storage, idea_id: UUID) -> IdeaOut:
    return _idea_out(_api_visible(request, storage, idea_id))


@put(
    "/ideas/{idea_id:uuid}",
    sync_to_thread=True,
    summary="提案を編集する（投稿者のみ、職員の対応が始まるまで）",
    description="409 idea_locked once staff have responded (an answer draft, a status change or a reassignment).",
    responses={
        **PROBLEMS,
        409: ResponseSpec(data_container=Problem, description="idea_locked or idea_withdrawn"),
        422: ResponseSpec(data_container=Problem, description="invalid fields; field_errors"),
    },
)
def api_edit_idea(request: Request[Any, Any, Any], storage: Storage, idea_id: UUID, data: IdeaIn) -> IdeaCreated:
    user = _signed(request)
    _api_visible(request, storage, idea_id)
    storage.app.edit_idea(
        idea_id,
        user.id,
        title=data.title,
        body=data.body,
        department=data.department,
        sdg_goals=data.sdg_goals,
        ward=data.ward,
        departments=_departments(storage),
    )
    return IdeaCreated(idea_id=str(idea_id))


@put(
    "/ideas/{idea_id:uuid}/support",
    sync_to_thread=True,
    summary="賛同する（1人1回、何度送っても同じ）",
    description="200 both times: `changed` says whether this call added the support.",
    responses=PROBLEMS,
)
def api_support(request: Request[Any, Any, Any], storage: Storage, idea_id: UUID) -> SupportOut:
    user = _signed(request)
    changed = storage.app.support_idea(idea_id, user.id)
    return SupportOut(idea_id=str(idea_id), supported=True, changed=changed)


@delete(
    "/ideas/{idea_id:uuid}/support",
    sync_to_thread=True,
    status_code=HTTP_204_NO_CONTENT,
    summary="賛同を取り消す（何度送っても同じ）",
    responses=PROBLEMS,
)
def api_withdraw_support(request: Request[Any, Any, Any], storage: Storage, idea_id: UUID) -> None:
    user = _signed(request)
    storage.app.withdraw_support(idea_id, user.id)


@get(
    "/ideas/{idea_id:uuid}/comments", sync_to_thread=True, summary="提案へのコメント（返信を含む）", responses=PROBLEMS
)
def api_comments(request: Request[Any, Any, Any], storage: Storage, idea_id: UUID) -> list[CommentOut]:
    idea = _api_visible(request, storage, idea_id)
    return [_comment_out(c, idea.author_id) for c in _ideas(storage).comments(idea.id)]


@post(
    "/ideas/{idea_id:uuid}/comments",
    status_code=HTTP_201_CREATED,
    sync_to_thread=True,
    summary="コメントする（返信は1段まで）",
    responses={**PROBLEMS, 422: ResponseSpec(data_container=Problem, description="invalid text, or reply to a reply")},
)
def api_post_comment(
    request: Request[Any, Any, Any], storage: Storage, idea_id: UUID, data: CommentIn
) -> CommentCreated:
    user = _signed(request)
    _api_visible(request, storage, idea_id)
    comment_id = storage.app.post_comment(idea_id, user.id, data.text, parent_id=data.parent_id)
    return CommentCreated(comment_id=str(comment_id))


api_router = Router(
    path="/api/v1",
    route_handlers=[
        api_list_ideas,
        api_submit_idea,
        api_get_idea,
        api_edit_idea,
        api_support,
        api_withdraw_support,
        api_comments,
        api_post_comment,
    ],
    tags=["ideas"],
)

page_router = Router(
    path="/ideas",
    route_handlers=[
        idea_index,
        new_idea,
        create_idea,
        idea_page,
        edit_idea_form,
        edit_idea,
        withdraw_idea,
        support,
        comment,
        report,
        hide,
    ],
)

routes: list[Any] = [page_router, staff_router, api_router]
