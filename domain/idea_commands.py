"""The Kyoso Application's commands for citizens' ideas (市民の提案): a mixin of Kyoso.

Each command loads the aggregates, lets them check their rules, and saves. What a person writes
is checked in plain text, then sealed under their own key before it enters an event.
"""

from collections.abc import Collection
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from domain.comment import Comment, check_comment_text, comment_context
from domain.errors import InvalidCommand, NotAllowed, NotFound
from domain.idea import Idea, body_context, check_idea_fields, title_context
from domain.idea_values import IdeaStatus
from domain.messages import N_
from domain.participant import Participant
from domain.personal_data import seal, unseal
from domain.support import Support, support_id
from domain.values import Ward

# How often a support is tried again after a concurrent change to the same person's support.
SUPPORT_RETRIES = 5


class IdeaCommands:
    # Provided by Kyoso (domain/application.py).
    keys: Any
    repository: Any
    _group_commit: Any

    if TYPE_CHECKING:

        def save(self, *objs: Any, **kwargs: Any) -> Any: ...
        def _get(self, aggregate_id: UUID, cls: type, not_found: str, *, copy: bool = True) -> Any: ...
        def _recent(self, aggregate_id: UUID, cls: type, not_found: str) -> Any: ...
        def get_participant(self, participant_id: UUID) -> Participant: ...
        def _key_of(self, participant_id: UUID) -> bytes: ...

    # Ideas

    def submit_idea(
        self,
        author_id: UUID,
        *,
        title: str,
        body: str,
        department: str,
        sdg_goals: list[int] | None = None,
        ward: Ward | str | None = None,
        departments: Collection[str] | None = None,
    ) -> UUID:
        """`departments`, when given, is the list the department must be chosen from."""
        author = self.get_participant(author_id)
        goals = list(sdg_goals or [])
        errors = check_idea_fields(title, body, department, goals, departments)
        chosen_ward = _ward(ward, errors)
        if errors:
            raise InvalidCommand(field_errors=errors)
        if author.erased:
            raise NotAllowed()
        idea_id = uuid4()
        key = self._key_of(author_id)
        idea = Idea.submit(
            idea_id=idea_id,
            author_id=author_id,
            author_role=author.role,
            title=seal(key, title.strip(), title_context(idea_id)),
            body=seal(key, body.strip(), body_context(idea_id)),
            department=department,
            sdg_goals=goals,
            ward=chosen_ward,
        )
        self.save(idea)
        return idea_id

    def edit_idea(
        self,
        idea_id: UUID,
        author_id: UUID,
        *,
        title: str,
        body: str,
        department: str,
        sdg_goals: list[int] | None = None,
        ward: Ward | str | None = None,
        departments: Collection[str] | None = None,
    ) -> None:
        idea = self.get_idea(idea_id)
        goals = list(sdg_goals or [])
        errors = check_idea_fields(title, body, department, goals, departments)
        chosen_ward = _ward(ward, errors)
        if errors:
            raise InvalidCommand(field_errors=errors)
        key = self._key_of(author_id) if author_id == idea.author_id else b""
        idea.edit(
            author_id,
            title=seal(key, title.strip(), title_context(idea_id)) if key else b"",
            body=seal(key, body.strip(), body_context(idea_id)) if key else b"",
            department=department,
            sdg_goals=goals,
            ward=chosen_ward,
        )
        self.save(idea)

    def withdraw_idea(self, idea_id: UUID, author_id: UUID) -> None:
        idea = self.get_idea(idea_id)
        idea.withdraw(author_id)
        self.save(idea)

    def reassign_idea(self, idea_id: UUID, *, staff_id: UUID, department: str, departments: Collection[str]) -> None:
        staff = self.get_participant(staff_id)
        idea = self.get_idea(idea_id)
        idea.reassign(staff_id, _present_role(staff), staff.department, department, departments)
        self.save(idea)

    def draft_idea_answer(self, idea_id: UUID, *, staff_id: UUID, answer: str) -> None:
        staff = self.get_participant(staff_id)
        idea = self.get_idea(idea_id)
        idea.draft_answer_text(staff_id, _present_role(staff), staff.department, answer)
        self.save(idea)

    def publish_idea_answer(self, idea_id: UUID, *, staff_id: UUID) -> None:
        staff = self.get_participant(staff_id)
        idea = self.get_idea(idea_id)
        idea.publish_answer(staff_id, _present_role(staff), staff.department)
        self.save(idea)

    def change_idea_status(self, idea_id: UUID, *, staff_id: UUID, status: IdeaStatus | str, reason: str = "") -> None:
        try:
            chosen = IdeaStatus(status)
        except ValueError:
            raise InvalidCommand(field_errors={"status": N_("状態を一覧から選んでください。")}) from None
        staff = self.get_participant(staff_id)
        idea = self.get_idea(idea_id)
        idea.change_status(staff_id, _present_role(staff), staff.department, chosen, reason)
        self.save(idea)

    def get_idea(self, idea_id: UUID) -> Idea:
        return self._get(idea_id, Idea, N_("提案が見つかりません。"))

    def read_idea_texts(self, idea: Idea) -> tuple[str | None, str | None]:
        """The idea's title and body opened with the author's key; None where the key is gone."""
        key = self.keys.existing_key(idea.author_id) if self.keys is not None else None
        if key is None:
            return None, None
        return unseal(key, idea.title, title_context(idea.id)), unseal(key, idea.body, body_context(idea.id))

    # Supports

    def support_idea(self, idea_id: UUID, participant_id: UUID) -> bool:
        """Supports the idea; True if this changed anything (a second support changes nothing)."""
        return self._change_support(idea_id, participant_id, give=True)

    def withdraw_support(self, idea_id: UUID, participant_id: UUID) -> bool:
        """Withdraws the support; True if there was one to withdraw."""
        return self._change_support(idea_id, participant_id, give=False)

    def has_supported(self, idea_id: UUID, participant_id: UUID) -> bool:
        support = self._support(support_id(idea_id, participant_id))
        return bool(support and support.active)

    def _change_support(self, idea_id: UUID, participant_id: UUID, *, give: bool) -> bool:
        sid = support_id(idea_id, participant_id)
        for _ in range(SUPPORT_RETRIES):
            support = self._support(sid)
            if support is None or (give and not support.active):
                # Only a new or renewed support has rules to check (and an unknown idea is a
                # 404): a withdrawal, or a second support while one stands, reads nothing else.
                # The person is read as a submission reads them (at most RECENT_SECONDS old
                # across processes, at once after a save in this one); the idea fresh, since
                # its withdrawal ends supports.
                idea = self._get(idea_id, Idea, N_("提案が見つかりません。"), copy=False)
                participant = self._recent(participant_id, Participant, N_("利用者が見つかりません。"))
                if support is None:
                    if not give:
                        return False
                    support = Support.give(idea, participant)
                else:
                    support.give_again(idea, participant)
            elif give:
                return False  # It stands already: a second support changes nothing.
            else:
                support.withdraw()
            pending = support.collect_events()
            if not pending:
                return False
            try:
                # Concurrent supports of an idea by many people share one insert (group commit).
                self._group_commit.save(pending)
            except RecordConflictError:
                continue  # The same person's support changed meanwhile: look again.
            return True
        raise RecordConflictError(f"support {sid} kept changing")

    def _support(self, sid: UUID) -> Support | None:
        try:
            support = self.repository.get(sid)
        except AggregateNotFoundError:
            return None
        return support if isinstance(support, Support) else None

    # Comments

    def post_comment(self, idea_id: UUID, author_id: UUID, text: str, *, parent_id: UUID | None = None) -> UUID:
        errors = check_comment_text(text)
        if errors:
            raise InvalidCommand(field_errors=errors)
        idea = self.get_idea(idea_id)
        author = self.get_participant(author_id)
        parent = None
        if parent_id is not None:
            try:
                parent = self.get_comment(parent_id)
            except NotFound:
                raise InvalidCommand(field_errors={"parent_id": N_("返信先のコメントが見つかりません。")}) from None
        if author.erased:
            raise NotAllowed()
        comment_id = uuid4()
        key = self._key_of(author_id)
        comment = Comment.post(
            comment_id=comment_id,
            idea=idea,
            author=author,
            text=seal(key, text.strip(), comment_context(comment_id)),
            parent=parent,
        )
        self.save(comment)
        return comment_id

    def report_comment(self, comment_id: UUID, reporter_id: UUID) -> None:
        reporter = self.get_participant(reporter_id)
        if reporter.erased:
            raise NotAllowed()
        comment = self.get_comment(comment_id)
        comment.report(reporter_id)
        self.save(comment)

    def hide_comment(self, comment_id: UUID, *, moderator_id: UUID, reason: str) -> None:
        moderator = self.get_participant(moderator_id)
        comment = self.get_comment(comment_id)
        comment.hide(moderator, reason)
        self.save(comment)

    def get_comment(self, comment_id: UUID) -> Comment:
        return self._get(comment_id, Comment, N_("コメントが見つかりません。"))


def _present_role(participant: Participant) -> Any:
    if participant.erased:
        raise NotAllowed()
    return participant.role


def _ward(ward: Ward | str | None, errors: dict[str, str]) -> Ward | None:
    if not ward:
        return None
    try:
        return Ward(ward)
    except ValueError:
        errors["ward"] = N_("地区を一覧から選んでください。")
        return None
