"""The Kyoso Application's commands for targeted notices (ターゲット別情報発信): a mixin of Kyoso.

Staff draft a notice and send it to a segment; who the segment reaches is resolved by the caller
(the send job reads the participants read model) and only the count enters the Sent event. A
recipient's opening is recorded once per person, whatever the retries or concurrent requests.
"""

from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import RecordConflictError

from domain.errors import InvalidCommand, NotFound
from domain.messages import N_
from domain.notice import (
    LinkKind,
    Notice,
    NoticeAlreadySent,
    NoticeOpening,
    OpenedHow,
    Segment,
    notice_opening_id,
)
from domain.participant import Participant


class NoticeCommands:
    # Provided by Kyoso (domain/application.py) and its other mixins.
    repository: Any

    if TYPE_CHECKING:

        def save(self, *objs: Any, **kwargs: Any) -> Any: ...
        def _get(self, aggregate_id: UUID, cls: type, not_found: str, *, copy: bool = True) -> Any: ...
        def get_participant(self, participant_id: UUID) -> Participant: ...
        def get_survey(self, survey_id: UUID) -> Any: ...
        def get_idea(self, idea_id: UUID) -> Any: ...
        def get_challenge(self, challenge_id: UUID) -> Any: ...
        def get_menu(self, menu_id: UUID) -> Any: ...

    def draft_notice(
        self,
        *,
        staff_id: UUID,
        title: str,
        body: str,
        department: str | None = None,
        link_kind: LinkKind | str | None = None,
        link_id: UUID | None = None,
    ) -> UUID:
        """A notice in the staff member's department (an admin may name another), not yet sent."""
        staff = self.get_participant(staff_id)
        kind = self._link_kind(link_kind)
        if kind is not None and link_id is not None:
            self._check_link(kind, link_id)
        notice = Notice.draft(
            staff=staff,
            title=title,
            body=body,
            department=department if department is not None else staff.department or "",
            link_kind=kind,
            link_id=link_id,
        )
        self.save(notice)
        return notice.id

    def check_notice_sendable(self, notice_id: UUID, *, staff_id: UUID) -> Notice:
        """Refuses, before any work is started, what send_notice would refuse whatever the segment."""
        notice = self.get_notice(notice_id)
        notice.check_sendable(self.get_participant(staff_id))
        return notice

    def send_notice(
        self, notice_id: UUID, *, staff_id: UUID, segment: Segment, recipient_count: int, job_id: str
    ) -> None:
        """Records that the notice went to `recipient_count` people of `segment` (resolved by the caller)."""
        notice = self.get_notice(notice_id)
        staff = self.get_participant(staff_id)
        notice.check_sendable(staff)
        if segment.not_answered_survey_id is not None:
            try:
                self.get_survey(segment.not_answered_survey_id)
            except NotFound:
                raise InvalidCommand(
                    field_errors={"not_answered_survey_id": N_("アンケートが見つかりません。")}
                ) from None
        notice.send(staff, segment, recipient_count, job_id)
        try:
            self.save(notice)
        except RecordConflictError:
            raise NoticeAlreadySent() from None  # A concurrent send was recorded first.

    def open_notice(self, participant_id: UUID, notice_id: UUID, how: OpenedHow | str) -> bool:
        """Records the person's first opening of the notice; False if they had opened it already."""
        try:
            chosen = OpenedHow(how)
        except ValueError:
            raise InvalidCommand(field_errors={"how": N_("開き方が正しくありません。")}) from None
        if notice_opening_id(notice_id, participant_id) in self.repository:
            return False
        notice = self._get(notice_id, Notice, N_("お知らせが見つかりません。"), copy=False)
        participant = self._get(participant_id, Participant, N_("利用者が見つかりません。"), copy=False)
        opening = NoticeOpening.open(notice, participant, chosen)
        try:
            self.save(opening)
        except RecordConflictError:
            return False  # A concurrent opening by the same person was recorded first.
        return True

    def has_opened_notice(self, participant_id: UUID, notice_id: UUID) -> bool:
        return notice_opening_id(notice_id, participant_id) in self.repository

    def get_notice(self, notice_id: UUID) -> Notice:
        return self._get(notice_id, Notice, N_("お知らせが見つかりません。"))

    @staticmethod
    def _link_kind(link_kind: LinkKind | str | None) -> LinkKind | None:
        if not link_kind:
            return None
        try:
            return LinkKind(link_kind)
        except ValueError:
            raise InvalidCommand(field_errors={"link": N_("リンク先の種類を一覧から選んでください。")}) from None

    def _check_link(self, kind: LinkKind, link_id: UUID) -> None:
        getters = {
            LinkKind.SURVEY: self.get_survey,
            LinkKind.IDEA: self.get_idea,
            LinkKind.CHALLENGE: self.get_challenge,
            LinkKind.MENU: self.get_menu,
        }
        try:
            getters[kind](link_id)
        except NotFound:
            raise InvalidCommand(field_errors={"link": N_("リンク先が見つかりません。")}) from None
