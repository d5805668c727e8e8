"""The Kyoso Application: every command the platform accepts, each recorded as domain events."""

import time
from collections.abc import Mapping
from concurrent.futures import Future
from datetime import UTC, date, datetime
from typing import Any, ClassVar
from uuid import UUID

import msgspec
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import Mapper, RecordConflictError

from domain.batching import GroupCommitter
from domain.errors import (
    AlreadyAnswered,
    InvalidAnswers,
    InvalidCommand,
    NotAllowed,
    NotFound,
    SurveyNotOpen,
)
from domain.identities import Identity, IdentityStore, normalise_email
from domain.participant import Participant
from domain.questions import QUESTION_KINDS, AnswerValue, AnyQuestion, check_answers
from domain.response import Response, response_id
from domain.serialization import MsgspecMapper
from domain.survey import MAX_QUESTIONS, Survey, SurveyStatus, check_details
from domain.themes import AnalysisModel, ThemeAnalysis, ThemeNode
from domain.values import Attributes, Audience, Role

STAFF_ROLES = frozenset({Role.STAFF, Role.ADMIN})
# How stale a read-only aggregate may be on the submission hot path (see Kyoso._recent): a
# survey closed by another server process stops taking answers within a second; a participant's
# new attributes reach responses handled by other processes within half a minute.
RECENT_SECONDS = {"Survey": 1.0, "Participant": 30.0}
RECENT_MAX = 100_000


def utcnow() -> datetime:
    return datetime.now(UTC)


class Kyoso(Application[UUID]):
    name = "kyoso"
    # Cached aggregates are fast-forwarded with one query per get, so they stay current.
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "20000"}

    def __init__(self, env: Mapping[str, str] | None = None, identities: IdentityStore | None = None) -> None:
        super().__init__(env)
        self.identities = identities
        # New responses need no snapshots or aggregate caching, only the event store's atomic put.
        self._group_commit = GroupCommitter(lambda *events: self.events.put(list(events)))
        self._recent_reads: dict[UUID, tuple[float, Any]] = {}

    def construct_mapper(self) -> Mapper[UUID]:
        return MsgspecMapper()

    def close(self) -> None:
        self._group_commit.close()
        super().close()

    # Participants

    def sign_up(
        self,
        *,
        email: str,
        display_name: str,
        password_hash: str,
        role: Role = Role.CITIZEN,
        department: str | None = None,
        attributes: Attributes | None = None,
    ) -> UUID:
        """Registers a participant; personal data goes to the identity store, not to events."""
        if self.identities is None:
            raise RuntimeError("sign_up needs an identity store")
        participant = Participant(
            role=Role(role),
            department=department if role in STAFF_ROLES else None,
            attributes=attributes or Attributes(),
        )
        identity = Identity(
            participant_id=participant.id,
            email=normalise_email(email),
            display_name=display_name.strip(),
            password_hash=password_hash,
        )
        self.identities.add(identity)  # Unique e-mail is enforced here, before any event.
        try:
            self.save(participant)
        except BaseException:
            self.identities.erase(participant.id)
            raise
        return participant.id

    def register_participant(
        self, role: Role, department: str | None = None, attributes: Attributes | None = None
    ) -> UUID:
        """Registers a participant without an identity (imports, demo data, benchmarks)."""
        participant = Participant(role=Role(role), department=department, attributes=attributes or Attributes())
        self.save(participant)
        return participant.id

    def get_participant(self, participant_id: UUID) -> Participant:
        return self._get(participant_id, Participant, "利用者が見つかりません。")

    def change_attributes(self, participant_id: UUID, attributes: Attributes) -> None:
        participant = self.get_participant(participant_id)
        if participant.attributes != attributes:
            participant.change_attributes(attributes)
            self.save(participant)

    def erase_participant(self, participant_id: UUID) -> None:
        """Deletes the person's identity; their past answers stay, pseudonymous and coarse."""
        participant = self.get_participant(participant_id)
        if self.identities is not None:
            self.identities.erase(participant_id)
        if not participant.erased:
            participant.erase()
            self.save(participant)

    # Surveys

    def draft_survey(
        self,
        *,
        staff_id: UUID,
        title: str,
        description: str = "",
        audience: Audience = Audience.CITIZENS,
        opens_on: date | None = None,
        closes_on: date | None = None,
        department: str | None = None,
    ) -> UUID:
        staff = self._require_staff(staff_id)
        errors = check_details(title, description, opens_on, closes_on)
        if errors:
            raise InvalidCommand(field_errors=errors)
        survey = Survey(
            department=department or staff.department or "",
            title=title.strip(),
            description=description.strip(),
            audience=Audience(audience),
            opens_on=opens_on,
            closes_on=closes_on,
            drafted_by=staff_id,
        )
        self.save(survey)
        return survey.id

    def revise_survey_details(
        self,
        survey_id: UUID,
        *,
        staff_id: UUID,
        title: str,
        description: str,
        audience: Audience,
        opens_on: date | None,
        closes_on: date | None,
    ) -> None:
        survey = self._editable_survey(survey_id, staff_id)
        survey.require_draft()
        errors = check_details(title, description, opens_on, closes_on)
        if errors:
            raise InvalidCommand(field_errors=errors)
        survey.revise_details(title.strip(), description.strip(), Audience(audience), opens_on, closes_on)
        self.save(survey)

    def add_question(self, survey_id: UUID, *, staff_id: UUID, kind: str, **fields: Any) -> str:
        survey = self._editable_survey(survey_id, staff_id)
        survey.require_draft()
        if len(survey.questions) >= MAX_QUESTIONS:
            raise InvalidCommand(f"質問は{MAX_QUESTIONS}問までです。")
        question = self._make_question(kind, f"q{survey.next_question_number}", fields)
        survey.add_question(question)
        self.save(survey)
        return question.id

    def revise_question(self, survey_id: UUID, question_id: str, *, staff_id: UUID, kind: str, **fields: Any) -> None:
        survey = self._editable_survey(survey_id, staff_id)
        survey.require_draft()
        survey.question(question_id)
        survey.revise_question(self._make_question(kind, question_id, fields))
        self.save(survey)

    def remove_question(self, survey_id: UUID, question_id: str, *, staff_id: UUID) -> None:
        survey = self._editable_survey(survey_id, staff_id)
        survey.require_draft()
        survey.question(question_id)
        survey.remove_question(question_id)
        self.save(survey)

    def publish_survey(self, survey_id: UUID, *, staff_id: UUID) -> None:
        survey = self._editable_survey(survey_id, staff_id)
        survey.require_draft()
        if not survey.questions:
            raise InvalidCommand("質問が1つもないアンケートは公開できません。")
        survey.publish(staff_id)
        self.save(survey)

    def close_survey(self, survey_id: UUID, *, staff_id: UUID) -> None:
        survey = self._editable_survey(survey_id, staff_id)
        if survey.status is not SurveyStatus.PUBLISHED:
            raise InvalidCommand("回答受付中のアンケートだけを終了できます。")
        survey.close(staff_id)
        self.save(survey)

    def publish_results(self, survey_id: UUID, *, staff_id: UUID) -> None:
        survey = self._editable_survey(survey_id, staff_id)
        if survey.status is SurveyStatus.DRAFT:
            raise InvalidCommand("下書きのアンケートの結果は公開できません。")
        if survey.results_published:
            raise InvalidCommand("結果はすでに公開されています。")
        survey.publish_results(staff_id)
        self.save(survey)

    def get_survey(self, survey_id: UUID) -> Survey:
        return self._get(survey_id, Survey, "アンケートが見つかりません。")

    # Responses

    def submit_response(
        self,
        survey_id: UUID,
        participant_id: UUID,
        answers: Mapping[str, AnswerValue],
        *,
        now: datetime | None = None,
    ) -> UUID:
        """Records a participant's answers; exactly one response per participant per survey."""
        return self.record_response(self.check_response(survey_id, participant_id, answers, now=now)).result()

    def record_response(self, submitted: Response.Submitted) -> Future[UUID]:
        """Saves a checked response with the next group commit, without waiting for it.

        The future gives the response id, or raises AlreadyAnswered. Async callers await it
        instead of parking a thread on it.
        """
        outcome: Future[UUID] = Future()

        def settle(saved: Future[None]) -> None:
            error = saved.exception()
            if error is None:
                outcome.set_result(submitted.originator_id)
            elif isinstance(error, RecordConflictError):
                outcome.set_exception(AlreadyAnswered())
            else:
                outcome.set_exception(error)

        self._group_commit.submit([submitted]).add_done_callback(settle)
        return outcome

    def check_response(
        self,
        survey_id: UUID,
        participant_id: UUID,
        answers: Mapping[str, AnswerValue],
        *,
        now: datetime | None = None,
    ) -> Response.Submitted:
        """Checks a participant's answers against the survey; the event to record, or a DomainError.

        Reads recently loaded aggregates, so it rarely touches the database.
        """
        survey = self._recent(survey_id, Survey, "アンケートが見つかりません。")
        participant = self._recent(participant_id, Participant, "利用者が見つかりません。")
        if participant.erased:
            raise NotAllowed()
        if not survey.audience.admits(participant.role):
            raise NotAllowed("このアンケートの対象ではありません。")
        if not survey.is_accepting(now or utcnow()):
            raise SurveyNotOpen()
        normalised, errors = check_answers(survey.questions, dict(answers))
        if errors:
            raise InvalidAnswers(field_errors=errors)
        return Response.submitted(
            survey_id=survey_id,
            participant_id=participant_id,
            role=participant.role,
            attributes=participant.attributes,
            answers=normalised,
        )

    # Theme analyses

    def record_theme_analysis(
        self,
        *,
        survey_id: UUID,
        question_id: str,
        staff_id: UUID,
        input_ids: list[str],
        model: AnalysisModel,
        params: dict[str, Any],
        seed: int,
        themes: list[ThemeNode],
    ) -> UUID:
        """Records a completed analysis of a survey's free-text answers."""
        survey = self._editable_survey(survey_id, staff_id)
        survey.question(question_id)
        analysis = ThemeAnalysis(
            survey_id=survey_id,
            question_id=question_id,
            requested_by=staff_id,
            input_ids=input_ids,
            model=model,
            params=params,
            seed=seed,
            themes=themes,
        )
        self.save(analysis)
        return analysis.id

    def record_theme_view(self, analysis_id: UUID, *, staff_id: UUID) -> None:
        """Notes that staff looked at an analysis, so auditors know which results informed whom."""
        self._require_staff(staff_id)
        analysis = self._get(analysis_id, ThemeAnalysis, "分析結果が見つかりません。")
        analysis.record_view(staff_id)
        self.save(analysis)

    def get_theme_analysis(self, analysis_id: UUID) -> ThemeAnalysis:
        return self._get(analysis_id, ThemeAnalysis, "分析結果が見つかりません。")

    def has_answered(self, survey_id: UUID, participant_id: UUID) -> bool:
        return response_id(survey_id, participant_id) in self.repository

    # Helpers

    def _get(self, aggregate_id: UUID, cls: type, not_found: str, *, copy: bool = True) -> Any:
        try:
            aggregate = self.repository.get(aggregate_id, deepcopy_from_cache=copy)
        except AggregateNotFoundError:
            raise NotFound(not_found) from None
        if not isinstance(aggregate, cls):
            raise NotFound(not_found)
        return aggregate

    def _recent(self, aggregate_id: UUID, cls: type, not_found: str) -> Any:
        """A read-only aggregate at most RECENT_SECONDS[cls] old, for the hot path of submissions.

        Saves made by this process drop their aggregates from here at once; a change made by
        another server process (closing a survey, new attributes) is seen within that bound.
        """
        now = time.monotonic()
        hit = self._recent_reads.get(aggregate_id)
        if hit is not None and now - hit[0] < RECENT_SECONDS[cls.__name__]:
            return hit[1]
        aggregate = self._get(aggregate_id, cls, not_found, copy=False)
        if len(self._recent_reads) >= RECENT_MAX:
            self._recent_reads.clear()
        self._recent_reads[aggregate_id] = (now, aggregate)
        return aggregate

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        recordings = super().save(*objs, **kwargs)
        for recording in recordings:
            self._recent_reads.pop(recording.domain_event.originator_id, None)
        return recordings

    def _require_staff(self, staff_id: UUID) -> Participant:
        staff = self.get_participant(staff_id)
        if staff.role not in STAFF_ROLES or staff.erased:
            raise NotAllowed()
        return staff

    def _editable_survey(self, survey_id: UUID, staff_id: UUID) -> Survey:
        staff = self._require_staff(staff_id)
        survey = self.get_survey(survey_id)
        if staff.role is not Role.ADMIN and staff.department != survey.department:
            raise NotAllowed("他の部署のアンケートは編集できません。")
        return survey

    @staticmethod
    def _make_question(kind: str, question_id: str, fields: Mapping[str, Any]) -> AnyQuestion:
        cls = QUESTION_KINDS.get(kind)
        if cls is None:
            raise InvalidCommand("質問の種類が正しくありません。")
        try:
            question = msgspec.convert({**fields, "id": question_id}, type=cls)
        except msgspec.ValidationError as e:
            raise InvalidCommand(f"質問の設定が正しくありません: {e}") from None
        problems = question.check_definition()
        if problems:
            raise InvalidCommand(" ".join(problems))
        return question  # type: ignore[return-value]
