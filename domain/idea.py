"""A citizen's idea (市民の提案): submitted by a citizen, answered by the responsible department.

The author edits it until staff first respond (an answer draft, a status change or a
reassignment), and withdraws it any time before a decision. Only staff of the responsible
department (or an admin) draft and publish the answer, change the status and reassign it. The
draft answer is private until it is published. Title and body travel sealed under the author's
key (domain/personal_data.py): a title can name people as well as a body can.
"""

from collections.abc import Collection
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.aggregate import KyosoAggregate
from domain.errors import DomainError, InvalidCommand, NotAllowed
from domain.idea_values import MAX_ANSWER, MAX_BODY, MAX_DEPARTMENT, MAX_REASON, MAX_TITLE, IdeaStatus
from domain.messages import N_, Message
from domain.participant import STAFF_ROLES
from domain.text import forbidden_characters_problem
from domain.values import Role, Ward, check_sdg_goals


class IdeaLocked(DomainError):
    code = "idea_locked"
    message = N_("職員の対応が始まったため、この提案は編集できません。")


class IdeaWithdrawn(DomainError):
    code = "idea_withdrawn"
    message = N_("この提案は取り下げられています。")


class IdeaDecided(DomainError):
    code = "idea_decided"
    message = N_("結論が出た提案は取り下げられません。")


class NoDraftAnswer(DomainError):
    code = "no_draft_answer"
    message = N_("公開する回答の下書きがありません。")


def title_context(idea_id: UUID) -> str:
    return f"idea/{idea_id}/title"


def body_context(idea_id: UUID) -> str:
    return f"idea/{idea_id}/body"


def check_idea_fields(
    title: str,
    body: str,
    department: str,
    sdg_goals: list[int],
    departments: Collection[str] | None = None,
) -> dict[str, str]:
    """Field errors in Japanese for an idea's content, checked on the plain text before sealing."""
    errors: dict[str, str] = {}
    # Whole sentences per field, so that each can be translated as a sentence.
    fields = (
        (
            "title",
            title,
            MAX_TITLE,
            N_("タイトルを入力してください。"),
            N_("タイトルは%(limit)s文字以内で入力してください。"),
        ),
        ("body", body, MAX_BODY, N_("本文を入力してください。"), N_("本文は%(limit)s文字以内で入力してください。")),
    )
    for name, value, limit, missing, too_long in fields:
        if not value.strip():
            errors[name] = missing
        elif len(value.strip()) > limit:
            errors[name] = Message(too_long, {"limit": limit})
        elif problem := forbidden_characters_problem(value):
            errors[name] = problem
    if problem := _department_problem(department, departments):
        errors["department"] = problem
    if problem := check_sdg_goals(sdg_goals):
        errors["sdg_goals"] = problem
    return errors


def _department_problem(department: str, departments: Collection[str] | None) -> str | None:
    if not department.strip():
        return N_("担当部署・分野を選んでください。")
    if len(department) > MAX_DEPARTMENT or forbidden_characters_problem(department):
        return N_("担当部署・分野が正しくありません。")
    if departments is not None and department.strip() not in departments:
        return N_("担当部署・分野を一覧から選んでください。")
    return None


class Idea(KyosoAggregate):
    class Submitted(Aggregate.Created):
        """`title` and `body` are sealed under the author's key."""

        author_id: UUID
        title: bytes
        body: bytes
        department: str
        sdg_goals: list[int]
        ward: Ward | None

    class Edited(Aggregate.Event):
        title: bytes
        body: bytes
        department: str
        sdg_goals: list[int]
        ward: Ward | None

    class Withdrawn(Aggregate.Event):
        pass

    class Reassigned(Aggregate.Event):
        department: str
        previous_department: str
        by: UUID

    class AnswerDrafted(Aggregate.Event):
        answer: str
        by: UUID

    class AnswerPublished(Aggregate.Event):
        """The draft as published: the answer's text travels again, so readers need no draft."""

        answer: str
        by: UUID

    class StatusChanged(Aggregate.Event):
        status: IdeaStatus
        reason: str
        by: UUID

    @classmethod
    def submit(
        cls,
        *,
        idea_id: UUID,
        author_id: UUID,
        author_role: Role,
        title: bytes,
        body: bytes,
        department: str,
        sdg_goals: list[int],
        ward: Ward | None,
    ) -> "Idea":
        """The texts come sealed; check_idea_fields has checked them in plain text first."""
        if author_role is not Role.CITIZEN:
            raise NotAllowed(N_("提案を投稿できるのは市民のアカウントだけです。"))
        if problem := _department_problem(department, None):
            raise InvalidCommand(field_errors={"department": problem})
        if problem := check_sdg_goals(sdg_goals):
            raise InvalidCommand(field_errors={"sdg_goals": problem})
        return cls._create(
            cls.Submitted,
            id=idea_id,
            author_id=author_id,
            title=title,
            body=body,
            department=department.strip(),
            sdg_goals=sorted(sdg_goals),
            ward=Ward(ward) if ward else None,
        )

    @event(Submitted)
    def __init__(
        self,
        author_id: UUID,
        title: bytes,
        body: bytes,
        department: str,
        sdg_goals: list[int],
        ward: Ward | None,
    ) -> None:
        self.author_id = author_id
        self.title = title
        self.body = body
        self.department = department
        self.sdg_goals = sdg_goals
        self.ward = ward
        self.status = IdeaStatus.RECEIVED
        self.status_reason = ""
        self.withdrawn = False
        self.responded = False
        self.draft_answer: str | None = None
        self.published_answer: str | None = None

    # What a page may offer: the same rules the commands enforce.

    def may_edit(self, participant_id: UUID) -> bool:
        return participant_id == self.author_id and not self.withdrawn and not self.responded

    def may_withdraw(self, participant_id: UUID) -> bool:
        return participant_id == self.author_id and not self.withdrawn and not self.status.is_decision

    @staticmethod
    def is_responsible(role: Role, department: str | None, idea_department: str) -> bool:
        return role is Role.ADMIN or (role in STAFF_ROLES and bool(department) and department == idea_department)

    # Commands: each checks its rule, then records its event.

    def edit(
        self,
        participant_id: UUID,
        *,
        title: bytes,
        body: bytes,
        department: str,
        sdg_goals: list[int],
        ward: Ward | None,
    ) -> None:
        if participant_id != self.author_id:
            raise NotAllowed(N_("提案を編集できるのは投稿した本人だけです。"))
        self._require_open()
        if self.responded:
            raise IdeaLocked()
        if problem := _department_problem(department, None):
            raise InvalidCommand(field_errors={"department": problem})
        if problem := check_sdg_goals(sdg_goals):
            raise InvalidCommand(field_errors={"sdg_goals": problem})
        self._edit(title, body, department.strip(), sorted(sdg_goals), Ward(ward) if ward else None)

    def withdraw(self, participant_id: UUID) -> None:
        if participant_id != self.author_id:
            raise NotAllowed(N_("提案を取り下げられるのは投稿した本人だけです。"))
        self._require_open()
        if self.status.is_decision:
            raise IdeaDecided()
        self._withdraw()

    def reassign(
        self, staff_id: UUID, role: Role, staff_department: str | None, department: str, departments: Collection[str]
    ) -> None:
        self._require_responsible(role, staff_department)
        self._require_open()
        if problem := _department_problem(department, departments):
            raise InvalidCommand(field_errors={"department": problem})
        if department.strip() == self.department:
            raise InvalidCommand(field_errors={"department": N_("現在と同じ担当部署です。")})
        self._reassign(department.strip(), self.department, staff_id)

    def draft_answer_text(self, staff_id: UUID, role: Role, staff_department: str | None, answer: str) -> None:
        self._require_responsible(role, staff_department)
        self._require_open()
        answer = answer.strip()
        if not answer:
            raise InvalidCommand(field_errors={"answer": N_("回答を入力してください。")})
        if len(answer) > MAX_ANSWER:
            raise InvalidCommand(
                field_errors={"answer": N_("回答は%(limit)s文字以内で入力してください。", limit=MAX_ANSWER)}
            )
        if problem := forbidden_characters_problem(answer):
            raise InvalidCommand(field_errors={"answer": problem})
        self._draft_answer(answer, staff_id)

    def publish_answer(self, staff_id: UUID, role: Role, staff_department: str | None) -> None:
        self._require_responsible(role, staff_department)
        self._require_open()
        if not self.draft_answer:
            raise NoDraftAnswer()
        if self.draft_answer == self.published_answer:
            raise NoDraftAnswer(N_("この回答はすでに公開されています。"))
        self._publish_answer(self.draft_answer, staff_id)

    def change_status(
        self, staff_id: UUID, role: Role, staff_department: str | None, status: IdeaStatus, reason: str = ""
    ) -> None:
        self._require_responsible(role, staff_department)
        self._require_open()
        status = IdeaStatus(status)
        reason = reason.strip()
        if status is self.status:
            raise InvalidCommand(field_errors={"status": N_("現在と同じ状態です。")})
        if status is IdeaStatus.RECEIVED:
            raise InvalidCommand(field_errors={"status": N_("「受付」には戻せません。")})
        if status is IdeaStatus.DECLINED and not reason:
            raise InvalidCommand(field_errors={"reason": N_("「実施しない」ときは理由を入力してください。")})
        if len(reason) > MAX_REASON:
            raise InvalidCommand(
                field_errors={"reason": N_("理由は%(limit)s文字以内で入力してください。", limit=MAX_REASON)}
            )
        if problem := forbidden_characters_problem(reason):
            raise InvalidCommand(field_errors={"reason": problem})
        self._change_status(status, reason, staff_id)

    def _require_open(self) -> None:
        if self.withdrawn:
            raise IdeaWithdrawn()

    def _require_responsible(self, role: Role, department: str | None) -> None:
        if not self.is_responsible(role, department, self.department):
            raise NotAllowed(N_("この提案に対応できるのは担当部署の職員だけです。"))

    @event(Edited)
    def _edit(self, title: bytes, body: bytes, department: str, sdg_goals: list[int], ward: Ward | None) -> None:
        self.title, self.body, self.department, self.sdg_goals, self.ward = title, body, department, sdg_goals, ward

    @event(Withdrawn)
    def _withdraw(self) -> None:
        self.withdrawn = True

    @event(Reassigned)
    def _reassign(self, department: str, previous_department: str, by: UUID) -> None:
        self.department = department
        self.responded = True

    @event(AnswerDrafted)
    def _draft_answer(self, answer: str, by: UUID) -> None:
        self.draft_answer = answer
        self.responded = True

    @event(AnswerPublished)
    def _publish_answer(self, answer: str, by: UUID) -> None:
        self.published_answer = answer

    @event(StatusChanged)
    def _change_status(self, status: IdeaStatus, reason: str, by: UUID) -> None:
        self.status = status
        self.status_reason = reason
        self.responded = True
