"""What Kyoso holds about one person, gathered for them to see and download (their own data)."""

from typing import Any
from uuid import UUID

import msgspec

from domain.identities import Consent
from domain.questions import FreeText, MultipleChoice, Number, Scale, SingleChoice
from domain.values import Attributes, Role
from projections.results import ERASED_TEXT
from projections.storage import Storage


class AnswerRecord(msgspec.Struct):
    question: str
    answer: str


class ResponseRecord(msgspec.Struct, kw_only=True):
    survey_id: str
    survey_title: str
    department: str
    response_id: str
    submitted_at: str
    answers: list[AnswerRecord]


class PointsRecord(msgspec.Struct, kw_only=True):
    award_id: str
    earned_on: str
    menu: str
    reason: str
    points: int
    revoked: bool


class PersonalData(msgspec.Struct, kw_only=True):
    participant_id: str
    email: str
    display_name: str
    role: Role
    department: str | None
    attributes: Attributes
    consents: list[Consent]
    responses: list[ResponseRecord]
    points: list[PointsRecord] = []
    # What they follow for targeted notices, and whether they agreed to notices by e-mail (/me/preferences).
    follows_goals: list[int] = []
    follows_departments: list[str] = []
    email_opt_in: bool = False


def personal_data(storage: Storage, participant_id: UUID) -> PersonalData:
    participant = storage.app.get_participant(participant_id)
    identity = storage.identities.get(participant_id)
    responses = []
    for survey_id, response_id, submitted_at in storage.db.query(
        "SELECT survey_id, response_id, submitted_at FROM participant_responses"
        " WHERE participant_id = ? ORDER BY position",
        (str(participant_id),),
    ):
        survey = storage.catalogue.survey(survey_id)
        response = storage.app.repository.get(UUID(response_id))
        texts = storage.app.read_texts(response)
        answers = []
        for question in survey.questions if survey else []:
            if question.id in response.answers:
                answers.append(AnswerRecord(question.text, _shown(question, response.answers[question.id])))
            elif question.id in texts:
                answers.append(AnswerRecord(question.text, texts[question.id] or ERASED_TEXT))
        responses.append(
            ResponseRecord(
                survey_id=survey_id,
                survey_title=survey.title if survey else "",
                department=survey.department if survey else "",
                response_id=response_id,
                submitted_at=submitted_at,
                answers=answers,
            )
        )
    return PersonalData(
        participant_id=str(participant_id),
        email=identity.email if identity else "",
        display_name=identity.display_name if identity else "",
        role=participant.role,
        department=participant.department,
        attributes=participant.attributes,
        consents=[Consent(terms, privacy) for terms, privacy in participant.consents],
        follows_goals=list(participant.follows_goals),
        follows_departments=list(participant.follows_departments),
        email_opt_in=participant.email_opt_in,
        responses=responses,
        points=[
            PointsRecord(
                award_id=award_id, earned_on=earned_on, menu=menu or "", reason=reason, points=points, revoked=revoked
            )
            for award_id, earned_on, menu, reason, points, revoked in storage.db.query(
                "SELECT a.award_id, a.earned_on, m.name, a.reason, a.points, v.award_id IS NOT NULL"
                " FROM points_awards a LEFT JOIN points_menus m ON m.menu_id = a.menu_id"
                " LEFT JOIN points_revocations v ON v.award_id = a.award_id"
                " WHERE a.participant_id = ? ORDER BY a.position",
                (str(participant_id),),
            )
        ],
    )


def _shown(question: Any, value: Any) -> str:
    """An answer as the person chose it, in words."""
    if isinstance(question, SingleChoice):
        return question.options[value]
    if isinstance(question, MultipleChoice):
        return "、".join(question.options[i] for i in value)
    if isinstance(question, Scale):
        label = {1: question.low_label, 5: question.high_label}.get(value)
        return f"{value}（{label}）" if label else str(value)
    if isinstance(question, Number):
        return f"{value}{question.unit}"
    if isinstance(question, FreeText):
        return str(value)  # version 1 of the event kept text in plain view
    return str(value)
