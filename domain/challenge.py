"""A challenge (テーマ型): a department publishes a problem and takes proposals to it until its deadline.

The deadline is a day in the city's calendar: the deadline day itself takes proposals until
23:59:59 in Asia/Tokyo, and from 00:00 the next day the challenge is closed to new proposals.
"""

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.aggregate import KyosoAggregate
from domain.clock import city_date
from domain.errors import DomainError, InvalidCommand
from domain.messages import N_
from domain.text import forbidden_characters_problem
from domain.values import check_sdg_goals

MAX_TITLE = 120
MAX_TEXT = 4000


class ChallengeStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"draft": "下書き", "published": "募集中", "closed": "募集終了"}[self.value]


class ChallengeClosed(DomainError):
    code = "challenge_closed"
    message = N_("この課題の提案募集は終了しています。")


FIELDS = ("title", "background", "shareable_data", "outcomes")


def check_details(
    title: str, background: str, shareable_data: str, outcomes: str, sdg_goals: list[int], deadline: date | None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = N_("課題名を入力してください。")
    elif len(title) > MAX_TITLE:
        errors["title"] = N_("課題名は%(limit)s文字以内にしてください。", limit=MAX_TITLE)
    if not background.strip():
        errors["background"] = N_("課題の背景を入力してください。")
    if not outcomes.strip():
        errors["outcomes"] = N_("求める成果を入力してください。")
    for name, value in zip(FIELDS, (title, background, shareable_data, outcomes), strict=True):
        if name not in errors and len(value) > MAX_TEXT:
            errors[name] = N_("%(limit)s文字以内にしてください。", limit=MAX_TEXT)
        elif name not in errors and (problem := forbidden_characters_problem(value)):
            errors[name] = problem
    if problem := check_sdg_goals(sdg_goals):
        errors["sdg_goals"] = problem
    if deadline is None:
        errors["deadline"] = N_("提案の締切日を入力してください。")
    return errors


class Challenge(KyosoAggregate):
    class Drafted(Aggregate.Created):
        department: str
        title: str
        background: str
        shareable_data: str
        outcomes: str
        sdg_goals: list[int]
        deadline: date
        drafted_by: UUID

    class Revised(Aggregate.Event):
        title: str
        background: str
        shareable_data: str
        outcomes: str
        sdg_goals: list[int]
        deadline: date
        revised_by: UUID

    class Published(Aggregate.Event):
        published_by: UUID

    class Closed(Aggregate.Event):
        closed_by: UUID

    @classmethod
    def draft(
        cls,
        *,
        department: str,
        title: str,
        background: str,
        shareable_data: str,
        outcomes: str,
        sdg_goals: list[int],
        deadline: date | None,
        drafted_by: UUID,
    ) -> "Challenge":
        _require(title, background, shareable_data, outcomes, sdg_goals, deadline)
        return cls(
            department=department,
            title=title.strip(),
            background=background.strip(),
            shareable_data=shareable_data.strip(),
            outcomes=outcomes.strip(),
            sdg_goals=sorted(sdg_goals),
            deadline=deadline,
            drafted_by=drafted_by,
        )

    @event(Drafted)
    def __init__(
        self,
        department: str,
        title: str,
        background: str,
        shareable_data: str,
        outcomes: str,
        sdg_goals: list[int],
        deadline: date,
        drafted_by: UUID,
    ) -> None:
        self.department = department
        self._set(title, background, shareable_data, outcomes, sdg_goals, deadline)
        self.status = ChallengeStatus.DRAFT

    def revise(
        self,
        *,
        title: str,
        background: str,
        shareable_data: str,
        outcomes: str,
        sdg_goals: list[int],
        deadline: date | None,
        revised_by: UUID,
    ) -> None:
        if self.status is ChallengeStatus.CLOSED:
            raise InvalidCommand(N_("募集を終了した課題は編集できません。"))
        _require(title, background, shareable_data, outcomes, sdg_goals, deadline)
        self._revise(
            title.strip(), background.strip(), shareable_data.strip(), outcomes.strip(), sorted(sdg_goals),
            deadline, revised_by,
        )  # fmt: skip

    def publish(self, published_by: UUID, now: datetime) -> None:
        if self.status is not ChallengeStatus.DRAFT:
            raise InvalidCommand(N_("下書きの課題だけを公開できます。"))
        if city_date(now) > self.deadline:
            raise InvalidCommand(N_("締切日が過ぎています。締切日を変更してから公開してください。"))
        self._publish(published_by)

    def close(self, closed_by: UUID) -> None:
        if self.status is not ChallengeStatus.PUBLISHED:
            raise InvalidCommand(N_("募集中の課題だけを終了できます。"))
        self._close(closed_by)

    def is_accepting(self, now: datetime) -> bool:
        """Published, and the city's day is the deadline or before it."""
        return self.status is ChallengeStatus.PUBLISHED and city_date(now) <= self.deadline

    def require_accepting(self, now: datetime) -> None:
        if not self.is_accepting(now):
            raise ChallengeClosed()

    def _set(
        self, title: str, background: str, shareable_data: str, outcomes: str, sdg_goals: list[int], deadline: date
    ) -> None:
        self.title = title
        self.background = background
        self.shareable_data = shareable_data
        self.outcomes = outcomes
        self.sdg_goals = sdg_goals
        self.deadline = deadline

    @event(Revised)
    def _revise(
        self,
        title: str,
        background: str,
        shareable_data: str,
        outcomes: str,
        sdg_goals: list[int],
        deadline: date,
        revised_by: UUID,
    ) -> None:
        self._set(title, background, shareable_data, outcomes, sdg_goals, deadline)

    @event(Published)
    def _publish(self, published_by: UUID) -> None:
        self.status = ChallengeStatus.PUBLISHED

    @event(Closed)
    def _close(self, closed_by: UUID) -> None:
        self.status = ChallengeStatus.CLOSED


def _require(
    title: str, background: str, shareable_data: str, outcomes: str, sdg_goals: list[int], deadline: date | None
) -> None:
    errors = check_details(title, background, shareable_data, outcomes, sdg_goals, deadline)
    if errors:
        raise InvalidCommand(field_errors=errors)
