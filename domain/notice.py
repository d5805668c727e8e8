"""A targeted notice (ターゲット別情報発信): written by a department's staff, sent once to a segment.

The segment is resolved when the notice is sent; the Sent event records the segment's definition
and how many people it reached, never who they are (the recipients go to a read model). Each
recipient's first opening is a NoticeOpening, whose id is derived from (notice, person): a second
opening, even a concurrent one, is a second "version 1" that the event store refuses, so a person
is counted as having opened a notice at most once.
"""

from enum import StrEnum
from uuid import UUID, uuid5

import msgspec
from eventsourcing.domain import Aggregate, event

from domain.aggregate import KyosoAggregate
from domain.errors import DomainError, InvalidCommand, NotAllowed
from domain.messages import N_, Message
from domain.participant import STAFF_ROLES, Participant
from domain.text import forbidden_characters_problem
from domain.values import SDG_GOALS, AgeBand, Role, Ward

MAX_TITLE = 80
MAX_BODY = 4000
MAX_DEPARTMENT = 40
MAX_DEPARTMENTS = 30
NOTICE_OPENING_NAMESPACE = UUID("0c7f1e2a-9b3d-4e65-8a1f-5d2c6b7e8f90")


class LinkKind(StrEnum):
    """What a notice may point to."""

    SURVEY = "survey"
    IDEA = "idea"
    CHALLENGE = "challenge"
    MENU = "menu"

    @property
    def label(self) -> str:
        return LINK_LABELS[self]


LINK_LABELS = {
    LinkKind.SURVEY: "アンケート",
    LinkKind.IDEA: "市民の提案",
    LinkKind.CHALLENGE: "事業者提案の課題",
    LinkKind.MENU: "SDGsアクションメニュー",
}


class OpenedHow(StrEnum):
    INBOX = "inbox"
    EMAIL_LINK = "email_link"

    @property
    def label(self) -> str:
        return "受信箱" if self is OpenedHow.INBOX else "メールのリンク"


class NoticeAlreadySent(DomainError):
    code = "notice_already_sent"
    message = N_("このお知らせはすでに送信されています。お知らせの送信は1回だけです。")


class NoticeNotSent(DomainError):
    code = "notice_not_sent"
    message = N_("このお知らせはまだ送信されていません。")


class Segment(msgspec.Struct, frozen=True, kw_only=True):
    """Who a notice is for. An empty field does not narrow; within a field any value matches;
    the fields narrow together (ward AND age band AND ...). Goals and departments match a person
    who follows any of those chosen."""

    wards: tuple[Ward, ...] = ()
    age_bands: tuple[AgeBand, ...] = ()
    has_children: bool | None = None
    roles: tuple[Role, ...] = ()
    follows_goals: tuple[int, ...] = ()
    follows_departments: tuple[str, ...] = ()
    not_answered_survey_id: UUID | None = None

    def problems(self) -> dict[str, str]:
        """Field errors in Japanese; empty when the segment may be used."""
        errors: dict[str, str] = {}
        for name, values, kind in (("wards", self.wards, Ward), ("age_bands", self.age_bands, AgeBand),
                                   ("roles", self.roles, Role)):  # fmt: skip
            if not _all_of(values, kind):
                errors[name] = N_("一覧から選んでください。")
        if self.has_children is not None and not isinstance(self.has_children, bool):
            errors["has_children"] = N_("選択肢から選んでください。")
        if errors:
            return errors
        if len(set(self.wards)) != len(self.wards):
            errors["wards"] = N_("同じ地区が重複しています。")
        if len(set(self.age_bands)) != len(self.age_bands):
            errors["age_bands"] = N_("同じ年代が重複しています。")
        if len(set(self.roles)) != len(self.roles):
            errors["roles"] = N_("同じ区分が重複しています。")
        goals = self.follows_goals
        if any(isinstance(g, bool) or not isinstance(g, int) or g not in SDG_GOALS for g in goals):
            errors["follows_goals"] = N_("SDGsの目標は1〜17の番号で選んでください。")
        elif len(set(goals)) != len(goals):
            errors["follows_goals"] = N_("同じ目標が重複しています。")
        departments = self.follows_departments
        if len(departments) > MAX_DEPARTMENTS or len(set(departments)) != len(departments):
            errors["follows_departments"] = N_("部署の選び方が正しくありません。")
        elif any(
            not isinstance(d, str)
            or not d.strip()
            or d != d.strip()
            or "\n" in d
            or len(d) > MAX_DEPARTMENT
            or forbidden_characters_problem(d)
            for d in departments
        ):
            errors["follows_departments"] = N_("部署を一覧から選んでください。")
        return errors

    @property
    def goal_mask(self) -> int:
        """The goals as the bit set the participants read model keeps (bit n = goal n)."""
        mask = 0
        for goal in self.follows_goals:
            mask |= 1 << goal
        return mask

    def normalised(self) -> "Segment":
        """The same segment written one way only (sorted), so equal segments compare equal."""
        return Segment(
            wards=tuple(sorted(set(self.wards), key=list(Ward).index)),
            age_bands=tuple(sorted(set(self.age_bands), key=list(AgeBand).index)),
            has_children=self.has_children,
            roles=tuple(sorted(set(self.roles), key=list(Role).index)),
            follows_goals=tuple(sorted(set(self.follows_goals))),
            follows_departments=tuple(sorted(set(self.follows_departments))),
            not_answered_survey_id=self.not_answered_survey_id,
        )


EVERYONE = Segment()


def _all_of(values: tuple[object, ...], kind: type[StrEnum]) -> bool:
    try:
        return all(isinstance(v, str) and kind(v) is not None for v in values)
    except ValueError:
        return False


def check_notice_fields(title: str, body: str, department: str) -> dict[str, str]:
    """Field errors in Japanese for a notice's content."""
    errors: dict[str, str] = {}
    # Whole sentences per field, so that each can be translated as a sentence.
    fields = (
        ("title", title, MAX_TITLE, N_("件名を入力してください。"), N_("件名は%(limit)s文字以内で入力してください。")),
        ("body", body, MAX_BODY, N_("本文を入力してください。"), N_("本文は%(limit)s文字以内で入力してください。")),
    )
    for name, value, limit, missing, too_long in fields:
        if not value.strip():
            errors[name] = missing
        elif len(value.strip()) > limit:
            errors[name] = Message(too_long, {"limit": limit})
        elif problem := forbidden_characters_problem(value):
            errors[name] = problem
    if not department.strip() or len(department) > MAX_DEPARTMENT or forbidden_characters_problem(department):
        errors["department"] = N_("部署が正しくありません。")
    return errors


def may_send_for(staff: Participant, department: str) -> bool:
    """Only the department's own staff speak for it; admins for any department."""
    if staff.erased or staff.role not in STAFF_ROLES:
        return False
    return staff.role is Role.ADMIN or staff.department == department


class Notice(KyosoAggregate):
    class Drafted(Aggregate.Created):
        title: str
        body: str
        department: str
        link_kind: LinkKind | None
        link_id: UUID | None
        drafted_by: UUID

    class Sent(Aggregate.Event):
        """The segment as defined and the number of people it reached when sent; not who they are."""

        segment: Segment
        recipient_count: int
        sent_by: UUID
        job_id: str

    @classmethod
    def draft(
        cls,
        *,
        staff: Participant,
        title: str,
        body: str,
        department: str,
        link_kind: LinkKind | None,
        link_id: UUID | None,
    ) -> "Notice":
        errors = check_notice_fields(title, body, department)
        if (link_kind is None) != (link_id is None):
            errors["link"] = N_("リンク先の種類と対象を両方選んでください。")
        if errors:
            raise InvalidCommand(field_errors=errors)
        if not may_send_for(staff, department.strip()):
            raise NotAllowed(N_("お知らせを書けるのはその部署の職員だけです。"))
        return cls(
            title=title.strip(),
            body=body.strip(),
            department=department.strip(),
            link_kind=LinkKind(link_kind) if link_kind else None,
            link_id=link_id,
            drafted_by=staff.id,
        )

    @event(Drafted)
    def __init__(
        self, title: str, body: str, department: str, link_kind: LinkKind | None, link_id: UUID | None, drafted_by: UUID
    ) -> None:
        self.title = title
        self.body = body
        self.department = department
        self.link_kind = link_kind
        self.link_id = link_id
        self.drafted_by = drafted_by
        self.sent = False
        self.segment: Segment | None = None
        self.recipient_count = 0

    def check_sendable(self, staff: Participant) -> None:
        """What sending needs before the segment is resolved: the right person, not sent yet."""
        if not may_send_for(staff, self.department):
            raise NotAllowed(N_("お知らせを送信できるのはその部署の職員だけです。"))
        if self.sent:
            raise NoticeAlreadySent()

    def send(self, staff: Participant, segment: Segment, recipient_count: int, job_id: str) -> None:
        self.check_sendable(staff)
        if errors := segment.problems():
            raise InvalidCommand(field_errors=errors)
        if isinstance(recipient_count, bool) or not isinstance(recipient_count, int) or recipient_count < 1:
            raise InvalidCommand(N_("この条件に当てはまる人がいないため、送信できません。"))
        if not job_id or len(job_id) > 64 or forbidden_characters_problem(job_id):
            raise InvalidCommand(N_("送信ジョブが正しくありません。"))
        self._send(segment.normalised(), recipient_count, staff.id, job_id)

    @event(Sent)
    def _send(self, segment: Segment, recipient_count: int, sent_by: UUID, job_id: str) -> None:
        self.sent = True
        self.segment = segment
        self.recipient_count = recipient_count


def notice_opening_id(notice_id: UUID, participant_id: UUID) -> UUID:
    return uuid5(NOTICE_OPENING_NAMESPACE, f"{notice_id}/{participant_id}")


class NoticeOpening(KyosoAggregate):
    """A recipient's first opening of a notice: in the inbox, or by following the e-mail's link."""

    class Opened(Aggregate.Created):
        notice_id: UUID
        participant_id: UUID
        how: OpenedHow

    @staticmethod
    def create_id(notice_id: UUID, participant_id: UUID) -> UUID:  # type: ignore[override]
        return notice_opening_id(notice_id, participant_id)

    @classmethod
    def open(cls, notice: Notice, participant: Participant, how: OpenedHow) -> "NoticeOpening":
        if participant.erased:
            raise NotAllowed()
        if not notice.sent:
            raise NoticeNotSent()
        return cls(notice_id=notice.id, participant_id=participant.id, how=OpenedHow(how))

    @event(Opened)
    def __init__(self, notice_id: UUID, participant_id: UUID, how: OpenedHow) -> None:
        self.notice_id = notice_id
        self.participant_id = participant_id
        self.how = how
