"""Staff commands on a recorded theme analysis: rename, merge and split its themes, and publish
a summary to citizens. Each is an event on the analysis, so the machine's output (Completed)
and what people made of it stay apart on the record.

Who may: the staff who may run the analysis (the survey's department, or the corpus's), or an
admin. Publishing needs the survey's results to be public: the summary is linked from them.
"""

from typing import Any
from uuid import UUID

from domain.errors import InvalidCommand, NotAllowed
from domain.messages import N_
from domain.themes import DEPARTMENT_CORPORA, SURVEY, ThemeAnalysis, parse_corpus
from domain.values import Role


def _curate(app: Any, analysis_id: UUID, staff_id: UUID) -> ThemeAnalysis:
    analysis: ThemeAnalysis = app.get_theme_analysis(analysis_id)
    staff = app._require_staff(staff_id)
    kind, scope, _ = parse_corpus(analysis.corpus)
    if kind == SURVEY:
        department = app.get_survey(UUID(scope)).department
    elif kind in DEPARTMENT_CORPORA:
        department = scope
    else:
        raise InvalidCommand(N_("分析の対象が正しくありません。"))
    if staff.role is not Role.ADMIN and staff.department != department:
        raise NotAllowed(N_("他の部署のテーマは編集できません。"))
    return analysis


def rename_theme(app: Any, analysis_id: UUID, *, staff_id: UUID, theme_id: str, label: str) -> None:
    analysis = _curate(app, analysis_id, staff_id)
    analysis.rename_theme(staff_id, theme_id, label)
    app.save(analysis)


def merge_themes(app: Any, analysis_id: UUID, *, staff_id: UUID, theme_ids: list[str], label: str) -> None:
    analysis = _curate(app, analysis_id, staff_id)
    analysis.merge_themes(staff_id, theme_ids, label)
    app.save(analysis)


def split_theme(
    app: Any, analysis_id: UUID, *, staff_id: UUID, theme_id: str, opinion_ids: list[str], label: str
) -> None:
    analysis = _curate(app, analysis_id, staff_id)
    analysis.split_theme(staff_id, theme_id, opinion_ids, label)
    app.save(analysis)


def publish_theme_summary(app: Any, analysis_id: UUID, *, staff_id: UUID, summaries: dict[str, str]) -> None:
    analysis = _curate(app, analysis_id, staff_id)
    if analysis.survey_id is not None and not app.get_survey(analysis.survey_id).results_published:
        raise InvalidCommand(N_("アンケートの結果を公開してから、テーマのまとめを公表してください。"))
    analysis.publish_summary(staff_id, summaries)
    app.save(analysis)
