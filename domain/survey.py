"""A survey: drafted by a department, published, closed; its results are published separately."""

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidCommand
from domain.questions import AnyQuestion
from domain.values import Audience

MAX_TITLE = 120
MAX_DESCRIPTION = 4000
MAX_QUESTIONS = 100


class SurveyStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"draft": "下書き", "published": "回答受付中", "closed": "終了"}[self.value]


class Survey(Aggregate):
    class Drafted(Aggregate.Created):
        department: str
        title: str
        description: str
        audience: Audience
        opens_on: date | None
        closes_on: date | None
        drafted_by: UUID

    class DetailsRevised(Aggregate.Event):
        title: str
        description: str
        audience: Audience
        opens_on: date | None
        closes_on: date | None

    class QuestionAdded(Aggregate.Event):
        question: AnyQuestion

    class QuestionRevised(Aggregate.Event):
        question: AnyQuestion

    class QuestionRemoved(Aggregate.Event):
        question_id: str

    class Published(Aggregate.Event):
        published_by: UUID

    class Closed(Aggregate.Event):
        closed_by: UUID

    class ResultsPublished(Aggregate.Event):
        published_by: UUID

    @event(Drafted)
    def __init__(
        self,
        department: str,
        title: str,
        description: str,
        audience: Audience,
        opens_on: date | None,
        closes_on: date | None,
        drafted_by: UUID,
    ) -> None:
        self.department = department
        self._set_details(title, description, audience, opens_on, closes_on)
        self.drafted_by = drafted_by
        self.questions: list[AnyQuestion] = []
        self.status = SurveyStatus.DRAFT
        self.results_published = False
        self.next_question_number = 1

    def _set_details(
        self,
        title: str,
        description: str,
        audience: Audience,
        opens_on: date | None,
        closes_on: date | None,
    ) -> None:
        self.title = title
        self.description = description
        self.audience = audience
        self.opens_on = opens_on
        self.closes_on = closes_on

    @event(DetailsRevised)
    def revise_details(
        self,
        title: str,
        description: str,
        audience: Audience,
        opens_on: date | None,
        closes_on: date | None,
    ) -> None:
        self._set_details(title, description, audience, opens_on, closes_on)

    @event(QuestionAdded)
    def add_question(self, question: AnyQuestion) -> None:
        self.questions.append(question)
        self.next_question_number += 1

    @event(QuestionRevised)
    def revise_question(self, question: AnyQuestion) -> None:
        self.questions = [question if q.id == question.id else q for q in self.questions]

    @event(QuestionRemoved)
    def remove_question(self, question_id: str) -> None:
        self.questions = [q for q in self.questions if q.id != question_id]

    @event(Published)
    def publish(self, published_by: UUID) -> None:
        self.status = SurveyStatus.PUBLISHED

    @event(Closed)
    def close(self, closed_by: UUID) -> None:
        self.status = SurveyStatus.CLOSED

    @event(ResultsPublished)
    def publish_results(self, published_by: UUID) -> None:
        self.results_published = True

    # Rules, checked by the application before it triggers an event.

    def question(self, question_id: str) -> AnyQuestion:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise InvalidCommand("その質問は見つかりません。")

    def require_draft(self) -> None:
        if self.status is not SurveyStatus.DRAFT:
            raise InvalidCommand("公開後のアンケートの内容は変更できません。")

    def is_accepting(self, now: datetime) -> bool:
        if self.status is not SurveyStatus.PUBLISHED:
            return False
        today = now.date()
        if self.opens_on and today < self.opens_on:
            return False
        return not (self.closes_on and today > self.closes_on)


def check_details(title: str, description: str, opens_on: date | None, closes_on: date | None) -> dict[str, str]:
    errors = {}
    if not title.strip():
        errors["title"] = "タイトルを入力してください。"
    elif len(title) > MAX_TITLE:
        errors["title"] = f"タイトルは{MAX_TITLE}文字以内にしてください。"
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = f"説明は{MAX_DESCRIPTION}文字以内にしてください。"
    if opens_on and closes_on and closes_on < opens_on:
        errors["closes_on"] = "終了日は開始日より後にしてください。"
    return errors
