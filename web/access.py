"""Who may read and do what with a survey: every route asks these predicates, and nothing else.

Need to know across departments: staff read their own department's drafts, live results, raw
free text and theme analyses; another department's survey is readable only once its results are
published, and then only in aggregate. Admins read everything. Auditors read everything too, and
each time an auditor (or an admin outside the owning department) is shown raw free text, that
read is recorded as a TextDisclosure. Edits are refused by the domain as well
(Kyoso._editable_survey); these predicates decide what a page offers and what a route refuses.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from domain.messages import N_
from domain.survey import SurveyStatus
from domain.values import Role
from web.auth import User, current_user

Rule = Callable[[User | None, Any], bool]
Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]

# Why a route refused, in the words the error page shows.
NOT_YOUR_DEPARTMENT = N_("他の部署のアンケートは編集できません。担当部署の職員にご依頼ください。")
RESULTS_NOT_YET_PUBLIC = N_("このアンケートの結果はまだ公開されていません。")
RESULTS_NOT_PUBLISHED = N_("他の部署のアンケートの結果は、結果が公開されるまで閲覧できません。")
TEXT_OF_ANOTHER_DEPARTMENT = N_(
    "他の部署のアンケートの自由記述とテーマ分析は閲覧できません。回答者には担当部署だけが読むと約束しているためです。"
)


def in_department(user: User | None, survey: Any) -> bool:
    """Staff (or an admin) of the department that owns the survey."""
    return bool(user and user.is_staff and user.department and user.department == survey.department)


def is_admin(user: User | None) -> bool:
    return bool(user and user.role is Role.ADMIN)


def is_auditor(user: User | None) -> bool:
    return bool(user and user.role is Role.AUDITOR)


def may_edit_survey(user: User | None, survey: Any) -> bool:
    """Revise, add questions, publish, close, publish results."""
    return in_department(user, survey) or is_admin(user)


def may_view_survey(user: User | None, survey: Any) -> bool:
    """The survey itself: public once published; a draft only within its department."""
    return survey.status is not SurveyStatus.DRAFT or may_edit_survey(user, survey)


def may_read_live_results(user: User | None, survey: Any) -> bool:
    """Results before publication, with every breakdown."""
    return in_department(user, survey) or is_admin(user) or is_auditor(user)


def may_read_published_results(user: User | None, survey: Any) -> bool:
    """The published results, in aggregate: anyone."""
    return bool(survey.results_published)


def may_read_results(user: User | None, survey: Any) -> bool:
    return may_read_live_results(user, survey) or may_read_published_results(user, survey)


def may_export_results(user: User | None, survey: Any) -> bool:
    """The results CSV holds aggregates only, so published results may be exported by any staff."""
    return bool(user and user.is_staff) and may_read_results(user, survey)


def may_read_raw_text(user: User | None, survey: Any) -> bool:
    """Free-text answers word for word."""
    return in_department(user, survey) or is_admin(user) or is_auditor(user)


def may_run_themes(user: User | None, survey: Any) -> bool:
    """Start or view theme analyses on the staff pages: they quote raw text, so never another
    department's, even once its results are published."""
    return in_department(user, survey) or is_admin(user)


def text_read_is_disclosed(user: User | None, survey: Any, *, audit_view: bool) -> bool:
    """Whether showing this person raw text must be recorded: always on the audit pages, and on
    the staff pages for anyone outside the owning department (an admin acting as auditor)."""
    return may_read_raw_text(user, survey) and (audit_view or not in_department(user, survey))


@dataclass(frozen=True)
class Offers:
    """What a page may offer one person for one survey: only actions that will be allowed."""

    edit: bool
    live_results: bool
    published_results: bool
    export: bool
    themes: bool


def offers(user: User | None, survey: Any) -> Offers:
    return Offers(
        edit=may_edit_survey(user, survey),
        live_results=may_read_live_results(user, survey) and survey.status is not SurveyStatus.DRAFT,
        published_results=may_read_published_results(user, survey),
        export=may_export_results(user, survey) and survey.status is not SurveyStatus.DRAFT,
        themes=may_run_themes(user, survey) and survey.status is not SurveyStatus.DRAFT,
    )


def require(allowed: bool, refusal: str) -> None:
    """A refusal the error page explains (403, with a way back to the staff home)."""
    if not allowed:
        raise PermissionDeniedException(refusal)


def survey_guard(rule: Rule, refusal: str) -> Guard:
    """A route guard: the survey named by the path's survey_id must pass `rule` for this person."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = current_user(connection)
        storage = connection.app.state.storage
        survey = await anyio.to_thread.run_sync(storage.catalogue.survey, str(connection.path_params["survey_id"]))
        if survey is None:
            raise NotFoundException(N_("アンケートが見つかりません。"))
        require(rule(user, survey), refusal)

    return guard


editors_only = survey_guard(may_edit_survey, NOT_YOUR_DEPARTMENT)
exporters_only = survey_guard(may_export_results, RESULTS_NOT_PUBLISHED)
theme_analysts_only = survey_guard(may_run_themes, TEXT_OF_ANOTHER_DEPARTMENT)
