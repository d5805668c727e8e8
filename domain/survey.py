"""A survey: drafted by a department, published, closed; its results are published separately.

Every rule of a survey's life lives here: each public method checks its rule, then triggers
its event. Nothing about a survey is decided outside this aggregate.
"""

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.aggregate import KyosoAggregate
from domain.clock import city_date
from domain.engagement import check_label, item_map_problems
from domain.errors import InvalidAnswers, InvalidCommand, NotAllowed, SurveyNotOpen
from domain.questions import AnswerValue, AnyQuestion, check_answers
from domain.text import forbidden_characters_problem
from domain.values import Audience, Role

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


class Survey(KyosoAggregate):
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

    class InstrumentAttached(Aggregate.Event):
        """The survey is a wave of a measurement instrument (domain/engagement.py): `item_map` says
        which question carries which item, so the engagement projection can score it."""

        instrument: str
        item_map: dict[str, int]
        wave_label: str

    @classmethod
    def draft(
        cls,
        *,
        department: str,
        title: str,
        description: str,
        audience: Audience,
        opens_on: date | None,
        closes_on: date | None,
        drafted_by: UUID,
    ) -> "Survey":
        _require_valid_details(title, description, opens_on, closes_on)
        return cls(
            department=department,
            title=title.strip(),
            description=description.strip(),
            audience=Audience(audience),
            opens_on=opens_on,
            closes_on=closes_on,
            drafted_by=drafted_by,
        )

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
        self.instrument: str | None = None
        self.item_map: dict[str, int] = {}

    # Commands: each checks its rule, then records its event.

    def revise_details(
        self,
        title: str,
        description: str,
        audience: Audience,
        opens_on: date | None,
        closes_on: date | None,
    ) -> None:
        self.require_draft()
        _require_valid_details(title, description, opens_on, closes_on)
        if self.instrument and Audience(audience) is not Audience.STAFF:
            raise InvalidCommand("エンゲージメント調査は職員向けのままにしてください。")
        self._revise_details(title.strip(), description.strip(), Audience(audience), opens_on, closes_on)

    def add_question(self, question: AnyQuestion) -> None:
        self.require_draft()
        if len(self.questions) >= MAX_QUESTIONS:
            raise InvalidCommand(f"質問は{MAX_QUESTIONS}問までです。")
        if question.id != self.next_question_id:
            raise InvalidCommand("質問の番号が正しくありません。")
        _require_valid_question(question)
        self._add_question(question)

    def revise_question(self, question: AnyQuestion) -> None:
        self.require_draft()
        self._require_not_an_item(question.id)
        self.question(question.id)
        _require_valid_question(question)
        self._revise_question(question)

    def remove_question(self, question_id: str) -> None:
        self.require_draft()
        self._require_not_an_item(question_id)
        self.question(question_id)
        self._remove_question(question_id)

    def attach_instrument(self, instrument: str, item_map: dict[str, int], wave_label: str) -> None:
        """Makes this staff survey a wave of the instrument; its items are fixed from then on."""
        self.require_draft()
        if self.instrument:
            raise InvalidCommand("このアンケートにはすでに尺度が設定されています。")
        if self.audience is not Audience.STAFF:
            raise InvalidCommand("エンゲージメント調査は職員向けのアンケートにだけ設定できます。")
        if problem := check_label(wave_label):
            raise InvalidCommand(field_errors={"label": problem})
        problems = item_map_problems(instrument, self.questions, item_map)
        if problems:
            raise InvalidCommand(" ".join(problems))
        self._attach_instrument(instrument, dict(item_map), wave_label.strip())

    def _require_not_an_item(self, question_id: str) -> None:
        # Scores are comparable across waves only while every wave asks the same items.
        if question_id in self.item_map:
            raise InvalidCommand("尺度の設問は変更・削除できません。")

    def publish(self, published_by: UUID) -> None:
        self.require_draft()
        if not self.questions:
            raise InvalidCommand("質問が1つもないアンケートは公開できません。")
        self._publish(published_by)

    def close(self, closed_by: UUID) -> None:
        if self.status is not SurveyStatus.PUBLISHED:
            raise InvalidCommand("回答受付中のアンケートだけを終了できます。")
        self._close(closed_by)

    def publish_results(self, published_by: UUID) -> None:
        # Results that move while people watch would let anyone diff out single answers.
        if self.status is not SurveyStatus.CLOSED:
            raise InvalidCommand("結果は回答の受付を終了してから公開できます。")
        if self.results_published:
            raise InvalidCommand("結果はすでに公開されています。")
        self._publish_results(published_by)

    def accept(self, role: Role, answers: dict[str, AnswerValue], now: datetime) -> dict[str, AnswerValue]:
        """Whether this survey takes these answers from a person in this role now: the
        normalised answers, or the rule that refuses them."""
        if not self.audience.admits(role):
            raise NotAllowed("このアンケートの対象ではありません。")
        if not self.is_accepting(now):
            raise SurveyNotOpen()
        normalised, errors = check_answers(self.questions, answers)
        if errors:
            raise InvalidAnswers(field_errors=errors)
        return normalised

    # Queries

    @property
    def next_question_id(self) -> str:
        return f"q{self.next_question_number}"

    def question(self, question_id: str) -> AnyQuestion:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise InvalidCommand("その質問は見つかりません。")

    def require_draft(self) -> None:
        if self.status is not SurveyStatus.DRAFT:
            raise InvalidCommand("公開後のアンケートの内容は変更できません。")

    def is_accepting(self, now: datetime) -> bool:
        """Open from the first moment of `opens_on` to the last of `closes_on`, city time."""
        if self.status is not SurveyStatus.PUBLISHED:
            return False
        today = city_date(now)
        if self.opens_on and today < self.opens_on:
            return False
        return not (self.closes_on and today > self.closes_on)

    # Events

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
    def _revise_details(
        self,
        title: str,
        description: str,
        audience: Audience,
        opens_on: date | None,
        closes_on: date | None,
    ) -> None:
        self._set_details(title, description, audience, opens_on, closes_on)

    @event(QuestionAdded)
    def _add_question(self, question: AnyQuestion) -> None:
        self.questions.append(question)
        self.next_question_number += 1

    @event(QuestionRevised)
    def _revise_question(self, question: AnyQuestion) -> None:
        self.questions = [question if q.id == question.id else q for q in self.questions]

    @event(QuestionRemoved)
    def _remove_question(self, question_id: str) -> None:
        self.questions = [q for q in self.questions if q.id != question_id]

    @event(Published)
    def _publish(self, published_by: UUID) -> None:
        self.status = SurveyStatus.PUBLISHED

    @event(Closed)
    def _close(self, closed_by: UUID) -> None:
        self.status = SurveyStatus.CLOSED

    @event(InstrumentAttached)
    def _attach_instrument(self, instrument: str, item_map: dict[str, int], wave_label: str) -> None:
        self.instrument = instrument
        self.item_map = item_map

    @event(ResultsPublished)
    def _publish_results(self, published_by: UUID) -> None:
        self.results_published = True


def check_details(title: str, description: str, opens_on: date | None, closes_on: date | None) -> dict[str, str]:
    errors = {}
    if not title.strip():
        errors["title"] = "タイトルを入力してください。"
    elif len(title) > MAX_TITLE:
        errors["title"] = f"タイトルは{MAX_TITLE}文字以内にしてください。"
    elif problem := forbidden_characters_problem(title):
        errors["title"] = problem
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = f"説明は{MAX_DESCRIPTION}文字以内にしてください。"
    elif problem := forbidden_characters_problem(description):
        errors["description"] = problem
    if opens_on and closes_on and closes_on < opens_on:
        errors["closes_on"] = "終了日は開始日より後にしてください。"
    return errors


def _require_valid_details(title: str, description: str, opens_on: date | None, closes_on: date | None) -> None:
    errors = check_details(title, description, opens_on, closes_on)
    if errors:
        raise InvalidCommand(field_errors=errors)


def _require_valid_question(question: AnyQuestion) -> None:
    problems = question.check_definition()
    if problems:
        raise InvalidCommand(" ".join(problems))
