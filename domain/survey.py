"""A survey: drafted by a department, published, closed; its results are published separately.

Every rule of a survey's life lives here: each public method checks its rule, then triggers
its event. Nothing about a survey is decided outside this aggregate.

Questions are frozen from publication on, not from the first answer: answers are separate
aggregates written by the group commit at any moment after publication, so a rule waiting for
"the first answer" would race them, while publication is this aggregate's own event. Once
published, only a typo in the title or description may be corrected and the closing date
extended; each is its own event, shown to respondents as 更新履歴.

A survey may also carry its texts in English (TranslationProvided), for the city's foreign
residents. The Japanese stays the source of truth: answers are option indices, scale points and
numbers of the Japanese questions, and a translation changes none of that, only what a reader of
English sees. So it may be given or corrected in any state, draft, published or closed, even
after answers exist; it is not 更新履歴 (the meaning of the survey did not change).
"""

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, event

from domain.aggregate import KyosoAggregate
from domain.clock import city_date
from domain.engagement import check_label, item_map_problems
from domain.errors import InvalidAnswers, InvalidCommand, NotAllowed, SurveyNotOpen
from domain.messages import N_, joined
from domain.questions import AnswerValue, AnyQuestion, QuestionTranslation, check_answers
from domain.text import forbidden_characters_problem
from domain.values import Audience, Role

MAX_TITLE = 120
MAX_DESCRIPTION = 4000
MAX_QUESTIONS = 100
# The languages survey content may be translated into; Japanese is the original, never a translation.
TRANSLATION_LANGUAGES = ("en",)


class SurveyTranslation(msgspec.Struct, frozen=True, kw_only=True):
    """A survey's texts in one language; empty texts and questions not named read in Japanese."""

    title: str = ""
    description: str = ""
    questions: dict[str, QuestionTranslation] = {}


class SurveyStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"draft": N_("下書き"), "published": N_("回答受付中"), "closed": N_("終了")}[self.value]


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

    class QuestionsReordered(Aggregate.Event):
        order: list[str]

    class DetailsCorrected(Aggregate.Event):
        """A typo put right after publication: the title and description as they now read."""

        title: str
        description: str
        corrected_by: UUID

    class ClosingExtended(Aggregate.Event):
        closes_on: date
        extended_by: UUID

    class TranslationProvided(Aggregate.Event):
        """The survey's texts in `language`, as a whole: what is missing (an empty text, a
        question not named) reads in Japanese."""

        language: str
        title: str
        description: str
        questions: dict[str, QuestionTranslation]
        provided_by: UUID

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
        self.translations: dict[str, SurveyTranslation] = {}

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
            raise InvalidCommand(N_("エンゲージメント調査は職員向けのままにしてください。"))
        self._revise_details(title.strip(), description.strip(), Audience(audience), opens_on, closes_on)

    def add_question(self, question: AnyQuestion) -> None:
        self.require_questions_open()
        if len(self.questions) >= MAX_QUESTIONS:
            raise InvalidCommand(N_("質問は%(limit)s問までです。", limit=MAX_QUESTIONS))
        if question.id != self.next_question_id:
            raise InvalidCommand(N_("質問の番号が正しくありません。"))
        _require_valid_question(question)
        self._add_question(question)

    def revise_question(self, question: AnyQuestion) -> None:
        self.require_questions_open()
        self._require_not_an_item(question.id)
        self.question(question.id)
        _require_valid_question(question)
        self._revise_question(question)

    def remove_question(self, question_id: str) -> None:
        self.require_questions_open()
        self._require_not_an_item(question_id)
        self.question(question_id)
        self._remove_question(question_id)

    def reorder_questions(self, order: list[str]) -> None:
        """`order` names every question once, in the order respondents will see them."""
        self.require_questions_open()
        if sorted(order) != sorted(q.id for q in self.questions) or len(set(order)) != len(order):
            raise InvalidCommand(N_("並べ替えには、すべての質問を1回ずつ指定してください。"))
        if order == [q.id for q in self.questions]:
            return
        self._reorder_questions(list(order))

    def move_question(self, question_id: str, offset: int) -> None:
        """Moves one question up (−1) or down (+1); at either end nothing happens."""
        order = [q.id for q in self.questions]
        index = order.index(self.question(question_id).id)
        target = index + offset
        if 0 <= target < len(order):
            order.insert(target, order.pop(index))
        self.reorder_questions(order)

    def correct_details(self, title: str, description: str, corrected_by: UUID) -> None:
        """After publication: a typo in the title or description. The questions stay as they are."""
        if self.status is SurveyStatus.DRAFT:
            raise InvalidCommand(N_("下書きのあいだは基本情報の保存で変更してください。"))
        errors = check_details(title, description, None, None)
        if errors:
            raise InvalidCommand(field_errors=errors)
        title, description = title.strip(), description.strip()
        if (title, description) == (self.title, self.description):
            raise InvalidCommand(N_("変更がありません。"))
        self._correct_details(title, description, corrected_by)

    def extend_closing(self, closes_on: date, extended_by: UUID, now: datetime) -> None:
        """Only later, only while answers are taken, and never to a day already past."""
        if self.status is not SurveyStatus.PUBLISHED:
            raise InvalidCommand(N_("締切を延長できるのは回答受付中のアンケートだけです。"))
        if self.closes_on is None:
            raise InvalidCommand(N_("このアンケートには締切がありません。"))
        if closes_on <= self.closes_on:
            raise InvalidCommand(field_errors={"closes_on": N_("新しい締切は今の締切より後の日にしてください。")})
        if closes_on < city_date(now):
            raise InvalidCommand(field_errors={"closes_on": N_("過ぎた日には延長できません。")})
        self._extend_closing(closes_on, extended_by)

    def provide_translation(
        self,
        language: str,
        title: str,
        description: str,
        questions: dict[str, QuestionTranslation],
        provided_by: UUID,
    ) -> None:
        """The English (say) of the title, description and questions, replacing any given before.
        Any state: see the module's docstring. Saving the same texts again records nothing."""
        if language not in TRANSLATION_LANGUAGES:
            raise InvalidCommand(N_("翻訳できる言語は英語（en）だけです。"))
        errors = check_translated_details(title, description)
        by_id = {q.id: q for q in self.questions}
        cleaned: dict[str, QuestionTranslation] = {}
        for question_id, translation in questions.items():
            question = by_id.get(question_id)
            if question is None:
                raise InvalidCommand(N_("その質問は見つかりません。"))
            translation = translation.stripped()
            if problems := translation.problems_for(question):
                errors[f"questions.{question_id}"] = joined(problems)
            elif not translation.is_empty():
                cleaned[question_id] = translation
        if errors:
            raise InvalidCommand(field_errors=errors)
        title, description = title.strip(), description.strip()
        given = SurveyTranslation(title=title, description=description, questions=cleaned)
        if given == self.translations.get(language, SurveyTranslation()):
            return
        self._provide_translation(language, title, description, cleaned, provided_by)

    def translation(self, language: str) -> "SurveyTranslation | None":
        return self.translations.get(language)

    def attach_instrument(self, instrument: str, item_map: dict[str, int], wave_label: str) -> None:
        """Makes this staff survey a wave of the instrument; its items are fixed from then on."""
        self.require_draft()
        if self.instrument:
            raise InvalidCommand(N_("このアンケートにはすでに尺度が設定されています。"))
        if self.audience is not Audience.STAFF:
            raise InvalidCommand(N_("エンゲージメント調査は職員向けのアンケートにだけ設定できます。"))
        if problem := check_label(wave_label):
            raise InvalidCommand(field_errors={"label": problem})
        problems = item_map_problems(instrument, self.questions, item_map)
        if problems:
            raise InvalidCommand(joined(problems))
        self._attach_instrument(instrument, dict(item_map), wave_label.strip())

    def _require_not_an_item(self, question_id: str) -> None:
        # Scores are comparable across waves only while every wave asks the same items.
        if question_id in self.item_map:
            raise InvalidCommand(N_("尺度の設問は変更・削除できません。"))

    def publish(self, published_by: UUID) -> None:
        self.require_draft()
        if not self.questions:
            raise InvalidCommand(N_("質問が1つもないアンケートは公開できません。"))
        self._publish(published_by)

    def close(self, closed_by: UUID) -> None:
        if self.status is not SurveyStatus.PUBLISHED:
            raise InvalidCommand(N_("回答受付中のアンケートだけを終了できます。"))
        self._close(closed_by)

    def publish_results(self, published_by: UUID) -> None:
        # Results that move while people watch would let anyone diff out single answers.
        if self.status is not SurveyStatus.CLOSED:
            raise InvalidCommand(N_("結果は回答の受付を終了してから公開できます。"))
        if self.results_published:
            raise InvalidCommand(N_("結果はすでに公開されています。"))
        self._publish_results(published_by)

    def accept(self, role: Role, answers: dict[str, AnswerValue], now: datetime) -> dict[str, AnswerValue]:
        """Whether this survey takes these answers from a person in this role now: the
        normalised answers, or the rule that refuses them."""
        if not self.audience.admits(role):
            raise NotAllowed(N_("このアンケートの対象ではありません。"))
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
        raise InvalidCommand(N_("その質問は見つかりません。"))

    def require_draft(self) -> None:
        if self.status is not SurveyStatus.DRAFT:
            raise InvalidCommand(N_("公開後のアンケートの内容は変更できません。"))

    def require_questions_open(self) -> None:
        """Questions change only in a draft: from publication on, answers may exist at any moment."""
        if self.status is not SurveyStatus.DRAFT:
            raise InvalidCommand(N_("公開後のアンケートの質問は変更できません。回答を同じ質問で集計するためです。"))

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

    @event(QuestionsReordered)
    def _reorder_questions(self, order: list[str]) -> None:
        by_id = {q.id: q for q in self.questions}
        self.questions = [by_id[qid] for qid in order]

    @event(DetailsCorrected)
    def _correct_details(self, title: str, description: str, corrected_by: UUID) -> None:
        self.title = title
        self.description = description

    @event(ClosingExtended)
    def _extend_closing(self, closes_on: date, extended_by: UUID) -> None:
        self.closes_on = closes_on

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

    @event(TranslationProvided)
    def _provide_translation(
        self,
        language: str,
        title: str,
        description: str,
        questions: dict[str, QuestionTranslation],
        provided_by: UUID,
    ) -> None:
        self.translations[language] = SurveyTranslation(title=title, description=description, questions=questions)

    @event(ResultsPublished)
    def _publish_results(self, published_by: UUID) -> None:
        self.results_published = True


def check_details(title: str, description: str, opens_on: date | None, closes_on: date | None) -> dict[str, str]:
    errors = {}
    if not title.strip():
        errors["title"] = N_("タイトルを入力してください。")
    elif len(title) > MAX_TITLE:
        errors["title"] = N_("タイトルは%(limit)s文字以内にしてください。", limit=MAX_TITLE)
    elif problem := forbidden_characters_problem(title):
        errors["title"] = problem
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = N_("説明は%(limit)s文字以内にしてください。", limit=MAX_DESCRIPTION)
    elif problem := forbidden_characters_problem(description):
        errors["description"] = problem
    if opens_on and closes_on and closes_on < opens_on:
        errors["closes_on"] = N_("終了日は開始日より後にしてください。")
    return errors


def check_translated_details(title: str, description: str) -> dict[str, str]:
    """The Japanese texts' limits, except that nothing is required: a missing text reads in Japanese."""
    errors = {}
    if len(title.strip()) > MAX_TITLE:
        errors["title"] = N_("タイトルは%(limit)s文字以内にしてください。", limit=MAX_TITLE)
    elif problem := forbidden_characters_problem(title):
        errors["title"] = problem
    if len(description.strip()) > MAX_DESCRIPTION:
        errors["description"] = N_("説明は%(limit)s文字以内にしてください。", limit=MAX_DESCRIPTION)
    elif problem := forbidden_characters_problem(description):
        errors["description"] = problem
    return errors


def _require_valid_details(title: str, description: str, opens_on: date | None, closes_on: date | None) -> None:
    errors = check_details(title, description, opens_on, closes_on)
    if errors:
        raise InvalidCommand(field_errors=errors)


def _require_valid_question(question: AnyQuestion) -> None:
    problems = question.check_definition()
    if problems:
        raise InvalidCommand(joined(problems))
