"""Jinja set-up: autoescaping, and the labels and charts templates may use."""

from datetime import UTC, date, datetime
from typing import Any

from litestar.plugins.jinja import JinjaTemplateEngine

from domain.clock import CITY_TZ
from domain.questions import QUESTION_KINDS
from domain.survey import SurveyStatus
from domain.values import AGE_BAND_LABELS, AUDIENCE_LABELS, ROLE_LABELS, SDG_GOALS, WARD_LABELS, Audience
from projections.segments import SEGMENT_VALUES, SEGMENTS, SUPPRESSED
from web import charts, i18n
from web.localize import localized, localized_results


def kind_of(question: Any) -> str:
    return question.__struct_config__.tag


def question_form_values(question: Any) -> dict[str, Any]:
    """A question as the staff editor's form fields, to edit it in place."""
    values: dict[str, Any] = {"kind": kind_of(question), "text": question.text, "help": question.help}
    if question.required:
        values["required"] = "on"
    for name in ("max_choices", "low_label", "high_label", "minimum", "maximum", "unit", "max_length"):
        value = getattr(question, name, None)
        if value is not None:
            values[name] = f"{value:g}" if isinstance(value, float) else value
    if hasattr(question, "options"):
        values["options"] = "\n".join(question.options)
    values["integer"] = "on" if getattr(question, "integer", True) else ""
    return values


def city_time(value: str | datetime | None) -> datetime | None:
    """A stored moment (ISO text or datetime; UTC when it says nothing) in the city's time."""
    if not value:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CITY_TZ)


def format_date(value: str | date | datetime | None) -> str:
    """YYYY/MM/DD: calendar days as they are; moments as the day they fell on in Japan."""
    if not value:
        return ""
    if isinstance(value, str) and len(value) == 10:
        return value.replace("-", "/")
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.strftime("%Y/%m/%d")
    moment = city_time(value)
    return moment.strftime("%Y/%m/%d") if moment else ""


def format_datetime(value: str | datetime | None) -> str:
    """YYYY/MM/DD HH:MM in Japan time: every time shown to a person."""
    moment = city_time(value)
    return moment.strftime("%Y/%m/%d %H:%M") if moment else ""


def stacked_rows(columns: list[Any]) -> list[tuple[str, list[float | None], Any]]:
    return [(c.label, c.percents, c.respondents) for c in columns]


def configure(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.autoescape = True
    env.trim_blocks = True
    env.lstrip_blocks = True
    i18n.install(env)
    translated = i18n.Translated
    env.globals.update(
        WARD_LABELS=translated(WARD_LABELS),
        AGE_BAND_LABELS=translated(AGE_BAND_LABELS),
        AUDIENCE_LABELS=translated(AUDIENCE_LABELS),
        ROLE_LABELS=translated(ROLE_LABELS),
        SDG_GOALS=translated(SDG_GOALS),
        SEGMENTS=translated(SEGMENTS),
        SEGMENT_VALUES=translated(SEGMENT_VALUES),
        SUPPRESSED=SUPPRESSED,
        QUESTION_KINDS=i18n.Translated({k: v.kind_label for k, v in QUESTION_KINDS.items()}),
        Audience=Audience,
        SurveyStatus=SurveyStatus,
        bar_chart=charts.bar_chart,
        stacked_chart=charts.stacked_chart,
        kind_of=kind_of,
        stacked_rows=stacked_rows,
        question_form_values=question_form_values,
        localized=localized,  # survey content in the reader's language (web/localize.py)
        localized_results=localized_results,
    )
    env.filters["date"] = format_date
    env.filters["datetime"] = format_datetime
    env.filters["status_label"] = lambda value: i18n.gettext(SurveyStatus(value).label)
    env.filters["audience_label"] = lambda value: i18n.gettext(Audience(value).label)
