"""Survey content in the reader's language: the staff's own translation (Survey.TranslationProvided),
each missing text falling back to the Japanese, the original.

Content is not in the message catalogue (staff write it, per survey); the interface labels that
results carry (segments, their values) are, and are translated here with the content so that a
results page reads in one language. Both functions are idempotent: a template that includes a
partial may localize, and the partial again (htmx asks for the partial alone).
"""

from collections.abc import Mapping
from typing import Any

import msgspec

from domain.survey import SurveyTranslation
from projections.results import SurveyResults, bucket_labels
from web.i18n import DEFAULT, current_language, gettext

_NONE = SurveyTranslation()


def translation_of(survey: Any, language: str | None = None) -> SurveyTranslation:
    """The survey's texts in the language (the request's by default); empty when there are none."""
    language = language or current_language()
    if language == DEFAULT:
        return _NONE
    return (getattr(survey, "translations", None) or {}).get(language, _NONE)


def localized(survey: Any, field: str | None = None) -> Any:
    """`localized(survey, "title")`: one text in the reader's language. `localized(survey)`: the
    survey with its title, description and questions as the reader sees them."""
    translation = translation_of(survey)
    if field is not None:
        return getattr(translation, field, "") or getattr(survey, field)
    if translation is _NONE or not isinstance(survey, msgspec.Struct) or not hasattr(survey, "questions"):
        return survey  # a read model's survey is a Struct; anything else is shown as it is
    return msgspec.structs.replace(
        survey,
        title=translation.title or survey.title,
        description=translation.description or survey.description,
        questions=[localized_question(q, translation) for q in survey.questions],
    )


def localized_question(question: Any, translation: SurveyTranslation) -> Any:
    found = translation.questions.get(question.id)
    return found.applied_to(question) if found else question


def localized_answer_errors(survey: Any, field_errors: Mapping[str, str], answers: Mapping[str, Any]) -> dict[str, str]:
    """The answer form's problems, quoting the survey's own texts (an option's name) as the reader
    sees them: each problem is found again by the question in the reader's language."""
    shown = localized(survey)
    if shown is survey:
        return dict(field_errors)
    questions = {q.id: q for q in shown.questions}
    errors = dict(field_errors)
    for question_id in errors:
        question = questions.get(question_id)
        problem = question.check_answer(answers.get(question_id))[1] if question is not None else None
        if problem is not None:
            errors[question_id] = problem
    return errors


def localized_results(results: SurveyResults, survey: Any) -> SurveyResults:
    """The figures as computed (they are the same in every language), their texts in the reader's."""
    if current_language() == DEFAULT:
        return results
    translation = translation_of(survey)
    questions = {q.id: localized_question(q, translation) for q in getattr(survey, "questions", [])}
    shown = []
    for q in results.questions:
        question = questions.get(q.id)
        buckets = q.buckets
        if question is not None:
            labels = bucket_labels(question)[1]
            buckets = labels if len(labels) == len(q.buckets) else q.buckets
        shown.append(
            msgspec.structs.replace(
                q,
                text=question.text if question is not None else q.text,
                buckets=buckets,
                overall=_column(q.overall),
                breakdowns={s: [_column(c) for c in cols] for s, cols in q.breakdowns.items()},
            )
        )
    return msgspec.structs.replace(
        results,
        title=translation.title or results.title,
        segments={key: gettext(label) for key, label in results.segments.items()},
        questions=shown,
    )


def _column(column: Any) -> Any:
    return msgspec.structs.replace(column, label=gettext(column.label))
