"""Turning submitted HTML forms into command arguments, with messages in Japanese."""

from datetime import date
from typing import Any

from domain.questions import AnswerValue, AnyQuestion, MultipleChoice, Scale, SingleChoice
from domain.values import AgeBand, Attributes, Audience, Ward
from web.i18n import gettext

Form = dict[str, Any]


def one(form: Form, key: str, default: str = "") -> str:
    value = form.get(key, default)
    if isinstance(value, list):
        value = value[-1] if value else default
    return str(value)


def many(form: Form, key: str) -> list[str]:
    value = form.get(key)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _int_or_raw(raw: str) -> int | str:
    try:
        return int(raw)
    except ValueError:
        return raw  # The question's own check turns this into a clear message.


def answers_from_form(questions: list[AnyQuestion], form: Form) -> dict[str, AnswerValue]:
    answers: dict[str, AnswerValue] = {}
    for question in questions:
        if isinstance(question, MultipleChoice):
            chosen = many(form, question.id)
            answers[question.id] = [_int_or_raw(v) for v in chosen] if chosen else None  # type: ignore[misc]
        elif isinstance(question, SingleChoice | Scale):
            raw = one(form, question.id).strip()
            answers[question.id] = _int_or_raw(raw) if raw else None
        else:
            raw = one(form, question.id)
            answers[question.id] = raw if raw.strip() else None
    return answers


def parse_date(raw: str, field: str, errors: dict[str, str]) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[field] = gettext("日付はYYYY-MM-DDの形式で入力してください。")
        return None


def parse_audience(raw: str, errors: dict[str, str]) -> Audience:
    try:
        return Audience(raw)
    except ValueError:
        errors["audience"] = gettext("対象を選んでください。")
        return Audience.CITIZENS


def attributes_from_form(form: Form, errors: dict[str, str]) -> Attributes:
    ward_raw, age_raw, children_raw = one(form, "ward"), one(form, "age_band"), one(form, "has_children")
    ward = age = None
    if ward_raw:
        try:
            ward = Ward(ward_raw)
        except ValueError:
            errors["ward"] = gettext("地区を一覧から選んでください。")
    if age_raw:
        try:
            age = AgeBand(age_raw)
        except ValueError:
            errors["age_band"] = gettext("年代を一覧から選んでください。")
    children = {"yes": True, "no": False}.get(children_raw)
    if children_raw and children is None:
        errors["has_children"] = gettext("選択肢から選んでください。")
    return Attributes(ward=ward, age_band=age, has_children=children)


def question_fields(form: Form, errors: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The kind and settings of a question from the staff editor's form."""
    kind = one(form, "kind")
    fields: dict[str, Any] = {
        "text": one(form, "text").strip(),
        "required": one(form, "required") == "on",
        "help": one(form, "help").strip(),
    }
    if kind in ("single", "multiple"):
        fields["options"] = [line.strip() for line in one(form, "options").splitlines() if line.strip()]
        if kind == "multiple" and one(form, "max_choices").strip():
            fields["max_choices"] = _number(one(form, "max_choices"), "max_choices", errors, integer=True)
    elif kind == "scale":
        fields["low_label"] = one(form, "low_label").strip() or "そう思わない"
        fields["high_label"] = one(form, "high_label").strip() or "そう思う"
    elif kind == "number":
        fields["minimum"] = _number(one(form, "minimum"), "minimum", errors)
        fields["maximum"] = _number(one(form, "maximum"), "maximum", errors)
        fields["integer"] = one(form, "integer") == "on"
        fields["unit"] = one(form, "unit").strip()[:20]
    elif kind == "text":
        fields["max_length"] = _number(one(form, "max_length", "1000"), "max_length", errors, integer=True)
    else:
        errors["kind"] = gettext("質問の種類を選んでください。")
    if not fields["text"]:
        errors["text"] = gettext("質問文を入力してください。")
    return kind, fields


def _number(raw: str, field: str, errors: dict[str, str], integer: bool = False) -> Any:
    try:
        value = float(raw.strip())
    except ValueError:
        errors[field] = gettext("数値を入力してください。")
        return 0
    if integer:
        if value != int(value):
            errors[field] = gettext("整数を入力してください。")
        return int(value)
    return value
