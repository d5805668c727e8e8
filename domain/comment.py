"""A comment on an idea, with one level of replies; reported by anyone, hidden by moderators.

Hiding is an event with who hid it, when and why, so the history keeps what was hidden. The
text is sealed under its author's key.
"""

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.aggregate import KyosoAggregate
from domain.errors import DomainError, InvalidCommand, NotAllowed
from domain.idea import Idea, IdeaWithdrawn
from domain.idea_values import MAX_COMMENT, MAX_REASON
from domain.messages import N_
from domain.participant import STAFF_ROLES, Participant
from domain.text import forbidden_characters_problem
from domain.values import Role

REPLY_TO_REPLY = N_("返信への返信はできません。元のコメントに返信してください。")
COMMENTER_ROLES = frozenset({Role.CITIZEN, Role.BUSINESS, Role.STAFF, Role.ADMIN})


class AlreadyReported(DomainError):
    code = "already_reported"
    message = N_("このコメントはすでに通報済みです。")


class CommentHidden(DomainError):
    code = "comment_hidden"
    message = N_("このコメントはモデレーターにより非表示になっています。")


def comment_context(comment_id: UUID) -> str:
    return f"comment/{comment_id}"


def check_comment_text(text: str) -> dict[str, str]:
    if not text.strip():
        return {"text": N_("コメントを入力してください。")}
    if len(text.strip()) > MAX_COMMENT:
        return {"text": N_("コメントは%(limit)s文字以内で入力してください。", limit=MAX_COMMENT)}
    if problem := forbidden_characters_problem(text):
        return {"text": problem}
    return {}


class Comment(KyosoAggregate):
    class Posted(Aggregate.Created):
        """`text` is sealed under the author's key; `parent_id` is the comment replied to."""

        idea_id: UUID
        author_id: UUID
        parent_id: UUID | None
        text: bytes

    class Reported(Aggregate.Event):
        reporter_id: UUID

    class Hidden(Aggregate.Event):
        moderator_id: UUID
        reason: str

    @classmethod
    def post(
        cls, *, comment_id: UUID, idea: Idea, author: Participant, text: bytes, parent: "Comment | None"
    ) -> "Comment":
        if author.erased or author.role not in COMMENTER_ROLES:
            raise NotAllowed(N_("このアカウントではコメントできません。"))
        if idea.withdrawn:
            raise IdeaWithdrawn()
        if parent is not None:
            if parent.idea_id != idea.id:
                raise InvalidCommand(field_errors={"parent_id": N_("返信先のコメントが見つかりません。")})
            if parent.parent_id is not None:
                raise InvalidCommand(field_errors={"parent_id": REPLY_TO_REPLY})
            if parent.hidden:
                raise CommentHidden(N_("非表示のコメントには返信できません。"))
        return cls._create(
            cls.Posted,
            id=comment_id,
            idea_id=idea.id,
            author_id=author.id,
            parent_id=parent.id if parent is not None else None,
            text=text,
        )

    @event(Posted)
    def __init__(self, idea_id: UUID, author_id: UUID, parent_id: UUID | None, text: bytes) -> None:
        self.idea_id = idea_id
        self.author_id = author_id
        self.parent_id = parent_id
        self.text = text
        self.reporters: set[UUID] = set()
        self.hidden = False
        self.hidden_reason = ""

    def report(self, reporter_id: UUID) -> None:
        """One report per person: a second report by the same person is refused."""
        if reporter_id == self.author_id:
            raise NotAllowed(N_("自分のコメントは通報できません。"))
        if reporter_id in self.reporters:
            raise AlreadyReported()
        self._report(reporter_id)

    def hide(self, moderator: Participant, reason: str) -> None:
        if moderator.erased or moderator.role not in STAFF_ROLES:
            raise NotAllowed(N_("コメントを非表示にできるのはモデレーター（職員）だけです。"))
        if self.hidden:
            raise CommentHidden(N_("このコメントはすでに非表示です。"))
        reason = reason.strip()
        if not reason:
            raise InvalidCommand(field_errors={"reason": N_("非表示にする理由を入力してください。")})
        if len(reason) > MAX_REASON:
            raise InvalidCommand(
                field_errors={"reason": N_("理由は%(limit)s文字以内で入力してください。", limit=MAX_REASON)}
            )
        if problem := forbidden_characters_problem(reason):
            raise InvalidCommand(field_errors={"reason": problem})
        self._hide(moderator.id, reason)

    @event(Reported)
    def _report(self, reporter_id: UUID) -> None:
        self.reporters.add(reporter_id)

    @event(Hidden)
    def _hide(self, moderator_id: UUID, reason: str) -> None:
        self.hidden = True
        self.hidden_reason = reason
