"""The Kyoso Application: every command the platform accepts, each recorded as domain events."""

import time
from collections.abc import Mapping
from concurrent.futures import Future
from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID

import msgspec
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import Mapper, RecordConflictError, Tracking

from domain import clock
from domain.batching import GroupCommitter
from domain.cocreation_commands import CoCreationCommands
from domain.combining import Combiner
from domain.disclosure import Purpose, TextDisclosure
from domain.engagement_commands import EngagementCommands
from domain.errors import AlreadyAnswered, InvalidCommand, NotAllowed, NotFound
from domain.idea_commands import IdeaCommands
from domain.identities import Consent, Identity, IdentityStore, normalise_email
from domain.identity_lookup import IdentityLookup
from domain.kpi_commands import KpiCommands
from domain.messages import N_
from domain.notice_commands import NoticeCommands
from domain.participant import STAFF_ROLES, Participant
from domain.personal_data import DataKeys, seal, text_context, unseal
from domain.points_commands import PointsCommands
from domain.preference_commands import PreferenceCommands
from domain.questions import QUESTION_KINDS, AnswerValue, AnyQuestion, QuestionTranslation
from domain.response import Response, response_id
from domain.serialization import MsgspecMapper
from domain.survey import Survey
from domain.themes import (
    DEPARTMENT_CORPORA,
    SURVEY,
    AnalysisModel,
    AssignmentRun,
    ThemeAnalysis,
    ThemeNode,
    parse_corpus,
    survey_corpus,
)
from domain.values import Attributes, Audience, Role

# How stale a read-only aggregate may be on the submission hot path (see Kyoso._recent): a
# survey closed by another server process stops taking answers within a second; a participant's
# new attributes reach responses handled by other processes within half a minute.
RECENT_SECONDS = {"Survey": 1.0, "Participant": 30.0}
RECENT_MAX = 100_000


class Kyoso(
    IdeaCommands,
    CoCreationCommands,
    PointsCommands,
    NoticeCommands,
    PreferenceCommands,
    EngagementCommands,
    KpiCommands,
    Application[UUID],
):
    name = "kyoso"
    # Cached aggregates are fast-forwarded with one query per get, so they stay current.
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "20000"}

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        identities: IdentityStore | None = None,
        keys: DataKeys | None = None,
        code_key: bytes | None = None,
    ) -> None:
        super().__init__(env)
        self.identities = identities
        self.keys = keys
        # Signs venue codes (domain/venue_code.py); kept out of events, like the data keys.
        self.code_key = code_key
        # New responses need no snapshots or aggregate caching, only the event store's atomic put.
        self._group_commit = GroupCommitter(lambda *events: self.events.put(list(events)))
        self._claims = Combiner(self._award, name="kyoso-claims")
        self._recent_reads: dict[UUID, tuple[float, Any]] = {}

    def construct_mapper(self) -> Mapper[UUID]:
        return MsgspecMapper()

    def close(self) -> None:
        self._group_commit.close()
        self._claims.close()
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
        consent: Consent | None = None,
    ) -> UUID:
        """Registers a participant; personal data goes to the identity store, not to events."""
        if self.identities is None:
            raise RuntimeError("sign_up needs an identity store")
        participant = Participant.register(Role(role), department, attributes or Attributes())
        if consent is not None:
            participant.give_consent(consent.terms_version, consent.privacy_version)
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
        self._make_key(participant.id)
        return participant.id

    def register_participant(
        self, role: Role, department: str | None = None, attributes: Attributes | None = None
    ) -> UUID:
        """Registers a participant without an identity (imports, demo data, benchmarks)."""
        participant = Participant.register(Role(role), department, attributes or Attributes())
        self.save(participant)
        self._make_key(participant.id)
        return participant.id

    def _make_key(self, participant_id: UUID) -> None:
        """Made at registration, so that answering never has to write a key on its hot path."""
        if self.keys is not None:
            self.keys.key_for(participant_id)

    def get_participant(self, participant_id: UUID) -> Participant:
        return self._get(participant_id, Participant, N_("利用者が見つかりません。"))

    def change_attributes(self, participant_id: UUID, attributes: Attributes) -> None:
        participant = self.get_participant(participant_id)
        participant.change_attributes(attributes)
        self.save(participant)

    def change_role(
        self, participant_id: UUID, role: Role, department: str | None = None, *, changed_by: UUID | None = None
    ) -> None:
        participant = self.get_participant(participant_id)
        participant.change_role(role, department, changed_by)
        self.save(participant)

    def erase_participant(self, participant_id: UUID) -> None:
        """Destroys the person's data key and identity: their free text becomes unreadable
        everywhere, while their answers stay counted under a pseudonymous id."""
        participant = self.get_participant(participant_id)
        if self.keys is not None:
            self.keys.destroy(participant_id)
        if self.identities is not None:
            self.identities.erase(participant_id)
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
        survey = Survey.draft(
            department=department or staff.department or "",
            title=title,
            description=description,
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
        survey.revise_details(title, description, audience, opens_on, closes_on)
        self.save(survey)

    def add_question(self, survey_id: UUID, *, staff_id: UUID, kind: str, **fields: Any) -> str:
        survey = self._editable_survey(survey_id, staff_id)
        question = self._make_question(kind, survey.next_question_id, fields)
        survey.add_question(question)
        self.save(survey)
        return question.id

    def revise_question(self, survey_id: UUID, question_id: str, *, staff_id: UUID, kind: str, **fields: Any) -> None:
        survey = self._editable_survey(survey_id, staff_id)
        survey.revise_question(self._make_question(kind, question_id, fields))
        self.save(survey)

    def remove_question(self, survey_id: UUID, question_id: str, *, staff_id: UUID) -> None:
        survey = self._editable_survey(survey_id, staff_id)
        survey.remove_question(question_id)
        self.save(survey)

    def move_question(self, survey_id: UUID, question_id: str, offset: int, *, staff_id: UUID) -> None:
        survey = self._editable_survey(survey_id, staff_id)
        survey.move_question(question_id, offset)
        self.save(survey)

    def reorder_questions(self, survey_id: UUID, order: list[str], *, staff_id: UUID) -> None:
        survey = self._editable_survey(survey_id, staff_id)
        survey.reorder_questions(order)
        self.save(survey)

    def correct_survey_details(self, survey_id: UUID, *, staff_id: UUID, title: str, description: str) -> None:
        survey = self._editable_survey(survey_id, staff_id)
        survey.correct_details(title, description, staff_id)
        self.save(survey)

    def extend_survey_closing(
        self, survey_id: UUID, *, staff_id: UUID, closes_on: date, now: datetime | None = None
    ) -> None:
        survey = self._editable_survey(survey_id, staff_id)
        survey.extend_closing(closes_on, staff_id, now or clock.now())
        self.save(survey)

    def publish_survey(self, survey_id: UUID, *, staff_id: UUID) -> None:
        survey = self._editable_survey(survey_id, staff_id)
        survey.publish(staff_id)
        self.save(survey)

    def close_survey(self, survey_id: UUID, *, staff_id: UUID) -> None:
        survey = self._editable_survey(survey_id, staff_id)
        survey.close(staff_id)
        self.save(survey)

    def publish_results(self, survey_id: UUID, *, staff_id: UUID) -> None:
        survey = self._editable_survey(survey_id, staff_id)
        survey.publish_results(staff_id)
        self.save(survey)

    def provide_survey_translation(
        self,
        survey_id: UUID,
        *,
        staff_id: UUID,
        language: str,
        title: str,
        description: str,
        questions: dict[str, QuestionTranslation],
    ) -> None:
        survey = self._editable_survey(survey_id, staff_id)
        survey.provide_translation(language, title, description, questions, staff_id)
        self.save(survey)

    def get_survey(self, survey_id: UUID) -> Survey:
        return self._get(survey_id, Survey, N_("アンケートが見つかりません。"))

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

        Reads recently loaded aggregates, so it rarely touches the database. Free text is
        sealed under the author's key before it leaves this method.
        """
        survey: Survey = self._recent(survey_id, Survey, N_("アンケートが見つかりません。"))
        participant: Participant = self._recent(participant_id, Participant, N_("利用者が見つかりません。"))
        if participant.erased:
            raise NotAllowed()
        normalised = survey.accept(participant.role, dict(answers), now or clock.now())
        answers_out, texts = self._seal_texts(response_id(survey_id, participant_id), participant_id, normalised)
        return Response.submitted(
            survey_id=survey_id,
            participant_id=participant_id,
            role=participant.role,
            attributes=participant.attributes,
            answers=answers_out,
            texts=texts,
        )

    def _seal_texts(
        self, response: UUID, participant_id: UUID, answers: dict[str, AnswerValue]
    ) -> tuple[dict[str, AnswerValue], dict[str, bytes]]:
        texts = {qid: value for qid, value in answers.items() if isinstance(value, str)}
        if not texts:
            return answers, {}
        key = self._key_of(participant_id)
        sealed = {qid: seal(key, text, text_context(response, qid)) for qid, text in texts.items()}
        return {qid: value for qid, value in answers.items() if qid not in texts}, sealed

    def _key_of(self, participant_id: UUID) -> bytes:
        """The key a person's new text is sealed under; an erased person may write nothing more."""
        if self.keys is None:
            raise RuntimeError("personal text needs a key store")
        key = self.keys.key_for(participant_id)
        if key is None:
            raise NotAllowed()
        return bytes(key)

    def read_texts(self, response: Response) -> dict[str, str | None]:
        """A response's free text, opened with its author's key; None where the key is gone."""
        key = self.keys.existing_key(response.participant_id) if self.keys is not None else None
        opened: dict[str, str | None] = {}
        for qid, sealed in response.texts.items():
            opened[qid] = unseal(key, sealed, text_context(response.id, qid)) if key else None
        return opened

    # Theme analyses

    def record_theme_analysis(
        self,
        *,
        staff_id: UUID,
        input_ids: list[str],
        model: AnalysisModel,
        params: dict[str, Any],
        seed: int,
        themes: list[ThemeNode],
        survey_id: UUID | None = None,
        question_id: str | None = None,
        corpus: str | None = None,
    ) -> UUID:
        """Records a completed analysis: of a survey question's free-text answers (by its
        department's staff), or of one department's ideas (by that department's staff)."""
        if corpus is None:
            if survey_id is None or question_id is None:
                raise InvalidCommand(N_("分析の対象が指定されていません。"))
            corpus = survey_corpus(survey_id, question_id)
        kind, scope, question = parse_corpus(corpus)
        if kind == SURVEY:
            survey_id, question_id = UUID(scope), question
            self._editable_survey(survey_id, staff_id).question(question_id)
        elif kind in DEPARTMENT_CORPORA:
            staff = self._require_staff(staff_id)
            if staff.role is not Role.ADMIN and staff.department != scope:
                raise NotAllowed(N_("他の部署の提案は分析できません。"))
            survey_id = question_id = None
        else:
            raise InvalidCommand(N_("分析の対象が正しくありません。"))
        analysis = ThemeAnalysis(
            corpus=corpus,
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
        analysis = self._get(analysis_id, ThemeAnalysis, N_("分析結果が見つかりません。"))
        analysis.record_view(staff_id)
        self.save(analysis)

    def get_theme_analysis(self, analysis_id: UUID) -> ThemeAnalysis:
        return self._get(analysis_id, ThemeAnalysis, N_("分析結果が見つかりません。"))

    def record_theme_assignment(
        self,
        analysis_id: UUID,
        *,
        staff_id: UUID,
        run: AssignmentRun,
    ) -> None:
        """Records new opinions put into a recorded analysis's themes (by whoever may run it)."""
        analysis = self._get(analysis_id, ThemeAnalysis, N_("分析結果が見つかりません。"))
        self._require_staff(staff_id)
        analysis.assign_new_opinions(staff_id, run)
        self.save(analysis)

    def has_answered(self, survey_id: UUID, participant_id: UUID) -> bool:
        return response_id(survey_id, participant_id) in self.repository

    # Text disclosures

    def record_text_disclosure(
        self, *, reader_id: UUID, survey_id: UUID, question_ids: list[str], purpose: Purpose
    ) -> list[UUID]:
        """Records that an auditor (or an admin acting as one) is being shown a survey's raw free
        text: one disclosure per question, saved together before the page shows any of it."""
        reader = self.get_participant(reader_id)
        survey = self.get_survey(survey_id)
        disclosures = [
            TextDisclosure.disclose(
                reader_id=reader_id,
                role=reader.role,
                erased=reader.erased,
                survey_id=survey_id,
                question_id=survey.question(question_id).id,
                purpose=purpose,
            )
            for question_id in question_ids
        ]
        if disclosures:
            self.save(*disclosures)
        return [d.id for d in disclosures]

    def record_identity_lookup(self, *, auditor_id: UUID, subject_id: UUID, position: int, reason: str) -> UUID:
        """Records that an auditor resolved the person behind the event at `position`; saved
        before anything about that person is shown (domain/identity_lookup.py says why an event)."""
        auditor = self.get_participant(auditor_id)
        lookup = IdentityLookup.record(
            auditor_id=auditor_id,
            role=auditor.role,
            erased=auditor.erased,
            subject_id=subject_id,
            position=position,
            reason=reason,
        )
        self.save(lookup)
        return lookup.id

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

    def save(self, *objs: Any, tracking: Tracking | None = None, **kwargs: Any) -> Any:
        """Saves atomically; with `tracking` (a process's position), the tracking row goes in the
        same transaction as the events (Application.save has no way to pass it)."""
        if tracking is None:
            recordings = super().save(*objs, **kwargs)
        else:
            processing = ProcessingEvent[UUID](tracking)
            processing.collect_events(*objs, **kwargs)
            recordings = self._record(processing)
            self._notify(recordings)
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
            raise NotAllowed(N_("他の部署のアンケートは編集できません。"))
        return survey

    @staticmethod
    def _make_question(kind: str, question_id: str, fields: Mapping[str, Any]) -> AnyQuestion:
        """The question as a value; whether the survey may take it is the survey's rule."""
        cls = QUESTION_KINDS.get(kind)
        if cls is None:
            raise InvalidCommand(N_("質問の種類が正しくありません。"))
        try:
            return msgspec.convert({**fields, "id": question_id}, type=cls)  # type: ignore[return-value]
        except msgspec.ValidationError as e:
            raise InvalidCommand(N_("質問の設定が正しくありません: %(problem)s", problem=str(e))) from None
