"""Jinja set-up: autoescaping, and the labels and charts templates may use."""

from typing import Any

from litestar.plugins.jinja import JinjaTemplateEngine

from domain.questions import QUESTION_KINDS
from domain.survey import SurveyStatus
from domain.values import AGE_BAND_LABELS, AUDIENCE_LABELS, ROLE_LABELS, WARD_LABELS, Audience
from projections.segments import SEGMENT_VALUES, SEGMENTS, SUPPRESSED
from web import charts


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


def stacked_rows(columns: list[Any]) -> list[tuple[str, list[float | None], Any]]:
    return [(c.label, c.percents, c.respondents) for c in columns]


def configure(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.autoescape = True
    env.trim_blocks = True
    env.lstrip_blocks = True
    env.globals.update(
        WARD_LABELS=WARD_LABELS,
        AGE_BAND_LABELS=AGE_BAND_LABELS,
        AUDIENCE_LABELS=AUDIENCE_LABELS,
        ROLE_LABELS=ROLE_LABELS,
        SEGMENTS=SEGMENTS,
        SEGMENT_VALUES=SEGMENT_VALUES,
        SUPPRESSED=SUPPRESSED,
        QUESTION_KINDS={k: v.kind_label for k, v in QUESTION_KINDS.items()},
        Audience=Audience,
        SurveyStatus=SurveyStatus,
        bar_chart=charts.bar_chart,
        stacked_chart=charts.stacked_chart,
        kind_of=kind_of,
        stacked_rows=stacked_rows,
        question_form_values=question_form_values,
    )
    env.filters["date"] = lambda value: (value or "")[:10].replace("-", "/")
    env.filters["status_label"] = lambda value: SurveyStatus(value).label
    env.filters["audience_label"] = lambda value: Audience(value).label
