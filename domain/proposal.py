"""A business proposal (事業者提案): to a challenge (テーマ型) or free (フリー型), and its whole lifecycle.

Stages: 受付 → 対話中 → 協定締結 / 実証実験 / 事業化, or 協議終了 with a reason. Every step is an
event naming who decided, so an auditor can replay the pipeline. Who may read or act is a rule
of this aggregate too (`readable_by`, `decidable_by`), and web/access_cocreation.py asks the same
functions, so a page can never be more generous than the domain.

What the proposer writes (title, summary, plan, effect, period, attachment names) and every
message is sealed under its writer's key before it enters an event. The city's own words on the
record (a stage change's reason, the published summary) are official acts, kept in plain text so
the decision stays auditable whoever later leaves the city's staff.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.aggregate import KyosoAggregate
from domain.challenge import Challenge
from domain.errors import DomainError, InvalidCommand, NotAllowed
from domain.messages import N_, Message
from domain.organisation import Organisation
from domain.text import forbidden_characters_problem
from domain.values import Role, check_sdg_goals

# The city's co-creation window (共創窓口): free proposals arrive here and it routes them on.
COCREATION_WINDOW = N_("共創推進課")
PROPOSAL_NAMESPACE = UUID("4c2d8a61-93f0-4b5e-a7d2-6e1b0f8c3a95")
TEXT_FIELDS = ("title", "summary", "plan", "effect", "period")
TEXT_LIMITS = {"title": 120, "summary": 2000, "plan": 8000, "effect": 4000, "period": 200}
REQUIRED_TEXTS = ("title", "summary", "plan", "effect")
MAX_COST_YEN = 10**12
MAX_MESSAGE = 4000
MAX_REASON = 2000
MAX_ATTACHMENTS = 20
ERASED_TEXT = "（削除済み）"


class Stage(StrEnum):
    RECEIVED = "received"
    IN_DIALOGUE = "in_dialogue"
    AGREEMENT = "agreement"
    PILOT = "pilot"
    BUSINESS = "business"
    ENDED = "ended"

    @property
    def label(self) -> str:
        return STAGE_LABELS[self]


STAGE_LABELS = {
    Stage.RECEIVED: "受付",
    Stage.IN_DIALOGUE: "対話中",
    Stage.AGREEMENT: "協定締結",
    Stage.PILOT: "実証実験",
    Stage.BUSINESS: "事業化",
    Stage.ENDED: "協議終了",
}
AGREED = frozenset({Stage.AGREEMENT, Stage.PILOT, Stage.BUSINESS})
# An agreement can lead to a pilot and a pilot to a business; talks end only before an outcome.
TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    Stage.RECEIVED: frozenset({Stage.IN_DIALOGUE, Stage.ENDED}),
    Stage.IN_DIALOGUE: frozenset({Stage.AGREEMENT, Stage.PILOT, Stage.BUSINESS, Stage.ENDED}),
    Stage.AGREEMENT: frozenset({Stage.PILOT, Stage.BUSINESS}),
    Stage.PILOT: frozenset({Stage.BUSINESS}),
    Stage.BUSINESS: frozenset(),
    Stage.ENDED: frozenset(),
}


class ProposalClosed(DomainError):
    code = "proposal_closed"
    message = N_("協議が終了した提案には追加できません。")


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the rules need to know them: role, department, organisation."""

    participant_id: UUID
    role: Role
    department: str | None = None
    organisation_id: UUID | None = None


def readable_by(actor: Actor | None, department: str, organisation_id: UUID) -> bool:
    """Confidential: the proposer's members, staff of the responsible department and the window
    (which coordinates every proposal), admins and auditors. Nobody else, not even other staff."""
    if actor is None:
        return False
    if actor.role in (Role.ADMIN, Role.AUDITOR):
        return True
    if actor.role is Role.STAFF:
        return actor.department in (department, COCREATION_WINDOW)
    return actor.role is Role.BUSINESS and actor.organisation_id == organisation_id


def decidable_by(actor: Actor | None, department: str) -> bool:
    """Stage changes, replies and summaries: the responsible department's staff, or an admin."""
    if actor is None:
        return False
    return actor.role is Role.ADMIN or (actor.role is Role.STAFF and actor.department == department)


def routable_by(actor: Actor | None) -> bool:
    return actor is not None and (
        actor.role is Role.ADMIN or (actor.role is Role.STAFF and actor.department == COCREATION_WINDOW)
    )


def proposal_id_for(organisation_id: UUID, submission_key: UUID) -> UUID:
    """Derived from a key the form carries, so a double-clicked submit is one proposal, not two."""
    return uuid5(PROPOSAL_NAMESPACE, f"{organisation_id}/{submission_key}")


def text_context(proposal_id: UUID | str, field: str) -> str:
    return f"proposal/{proposal_id}/{field}"


def message_context(proposal_id: UUID | str, number: int) -> str:
    return f"proposal/{proposal_id}/message/{number}"


def attachment_context(proposal_id: UUID | str, sha256: str) -> str:
    return f"proposal/{proposal_id}/attachment/{sha256}"


def check_content(texts: dict[str, str], cost_yen: object, sdg_goals: list[int]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name in TEXT_FIELDS:
        value = texts.get(name, "")
        if name in REQUIRED_TEXTS and not value.strip():
            errors[name] = N_("入力してください。")
        elif len(value) > TEXT_LIMITS[name]:
            errors[name] = N_("%(limit)s文字以内にしてください。", limit=TEXT_LIMITS[name])
        elif problem := forbidden_characters_problem(value):
            errors[name] = problem
    if isinstance(cost_yen, bool) or not isinstance(cost_yen, int) or not 0 <= cost_yen <= MAX_COST_YEN:
        errors["cost_yen"] = N_("市の費用負担は0以上の整数（円）で入力してください。")
    if problem := check_sdg_goals(sdg_goals):
        errors["sdg_goals"] = problem
    return errors


class Proposal(KyosoAggregate):
    class Submitted(Aggregate.Created):
        """`texts` are sealed under `submitted_by`'s key; sdg_goals are the challenge's unless given."""

        organisation_id: UUID
        submission_key: UUID
        submitted_by: UUID
        challenge_id: UUID | None
        department: str
        sdg_goals: list[int]
        cost_yen: int
        texts: dict[str, bytes]

    class Routed(Aggregate.Event):
        department: str
        routed_by: UUID

    class StageChanged(Aggregate.Event):
        stage: Stage
        reason: str
        decided_by: UUID

    class MessagePosted(Aggregate.Event):
        number: int
        author_id: UUID
        from_city: bool
        text: bytes

    class AttachmentAdded(Aggregate.Event):
        """The file itself is kept outside the events, by this SHA-256; `name` is sealed."""

        sha256: str
        name: bytes
        media_type: str
        size: int
        added_by: UUID

    class ConsentToPublishGiven(Aggregate.Event):
        given_by: UUID

    class SummaryPublished(Aggregate.Event):
        text: str
        published_by: UUID

    @staticmethod
    def create_id(organisation_id: UUID, submission_key: UUID, **_: object) -> UUID:  # type: ignore[override]
        return proposal_id_for(organisation_id, submission_key)

    @classmethod
    def submit(
        cls,
        *,
        actor: Actor,
        organisation: Organisation,
        challenge: Challenge | None,
        submission_key: UUID,
        texts: dict[str, bytes],
        cost_yen: int,
        sdg_goals: list[int],
        now: datetime,
    ) -> "Proposal":
        """`texts` arrive sealed (their content was checked with check_content before sealing)."""
        if actor.role is not Role.BUSINESS:
            raise NotAllowed(N_("提案できるのは事業者アカウントだけです。"))
        if not organisation.is_member(actor.participant_id) or actor.organisation_id != organisation.id:
            raise NotAllowed(N_("所属する組織からのみ提案できます。"))
        if set(texts) - set(TEXT_FIELDS) or not set(REQUIRED_TEXTS) <= set(texts):
            raise InvalidCommand(N_("提案の内容が不足しています。"))
        if challenge is not None:
            challenge.require_accepting(now)
        goals = sorted(sdg_goals) if sdg_goals else (list(challenge.sdg_goals) if challenge else [])
        if problem := check_sdg_goals(goals):
            raise InvalidCommand(field_errors={"sdg_goals": problem})
        if isinstance(cost_yen, bool) or not isinstance(cost_yen, int) or not 0 <= cost_yen <= MAX_COST_YEN:
            raise InvalidCommand(field_errors={"cost_yen": N_("市の費用負担は0以上の整数（円）で入力してください。")})
        return cls(
            organisation_id=organisation.id,
            submission_key=submission_key,
            submitted_by=actor.participant_id,
            challenge_id=challenge.id if challenge else None,
            department=challenge.department if challenge else COCREATION_WINDOW,
            sdg_goals=goals,
            cost_yen=cost_yen,
            texts=texts,
        )

    @event(Submitted)
    def __init__(
        self,
        organisation_id: UUID,
        submission_key: UUID,
        submitted_by: UUID,
        challenge_id: UUID | None,
        department: str,
        sdg_goals: list[int],
        cost_yen: int,
        texts: dict[str, bytes],
    ) -> None:
        self.organisation_id = organisation_id
        self.submitted_by = submitted_by
        self.challenge_id = challenge_id
        self.department = department
        self.sdg_goals = sdg_goals
        self.cost_yen = cost_yen
        self.texts = texts
        self.stage = Stage.RECEIVED
        self.routed = False
        self.messages = 0
        self.attachments: list[str] = []
        self.consent_given = False
        self.summary_published = False

    # Rules

    @property
    def is_free(self) -> bool:
        return self.challenge_id is None

    @property
    def no_cost_to_city(self) -> bool:
        return self.cost_yen == 0

    def readable_by(self, actor: Actor | None) -> bool:
        return readable_by(actor, self.department, self.organisation_id)

    def decidable_by(self, actor: Actor | None) -> bool:
        return decidable_by(actor, self.department)

    def is_member(self, actor: Actor) -> bool:
        return actor.role is Role.BUSINESS and actor.organisation_id == self.organisation_id

    def allowed_stages(self) -> frozenset[Stage]:
        return TRANSITIONS[self.stage]

    # Commands

    def route(self, department: str, actor: Actor) -> None:
        if not routable_by(actor):
            raise NotAllowed(N_("提案の振り分けは共創窓口（共創推進課）が行います。"))
        if not self.is_free:
            raise InvalidCommand(N_("テーマ型の提案は課題の担当部署が担当します。"))
        if self.stage is not Stage.RECEIVED:
            raise InvalidCommand(N_("振り分けは受付の段階でのみできます。"))
        department = department.strip()
        if not department or department == self.department:
            raise InvalidCommand(field_errors={"department": N_("振り分け先の部署を選んでください。")})
        if problem := forbidden_characters_problem(department):
            raise InvalidCommand(field_errors={"department": problem})
        self._route(department, actor.participant_id)

    def change_stage(self, stage: Stage, reason: str, actor: Actor) -> None:
        if not self.decidable_by(actor):
            raise NotAllowed(N_("段階を変更できるのは担当部署の職員だけです。"))
        stage = Stage(stage)
        if stage not in TRANSITIONS[self.stage]:
            message = N_(
                "「%(current)s」から「%(wanted)s」へは進められません。",
                current=Message(self.stage.label),
                wanted=Message(stage.label),
            )
            raise InvalidCommand(message, field_errors={"stage": message})
        reason = reason.strip()
        if stage is Stage.ENDED and not reason:
            raise InvalidCommand(field_errors={"reason": N_("協議終了の理由を入力してください。")})
        if len(reason) > MAX_REASON:
            raise InvalidCommand(field_errors={"reason": N_("%(limit)s文字以内にしてください。", limit=MAX_REASON)})
        if problem := forbidden_characters_problem(reason):
            raise InvalidCommand(field_errors={"reason": problem})
        self._change_stage(stage, reason, actor.participant_id)

    def check_message(self, actor: Actor, text: str) -> bool:
        """Whether this person may post this text now; True if it comes from the city."""
        from_city = self.decidable_by(actor)
        if not from_city and not self.is_member(actor):
            raise NotAllowed(N_("このやり取りに参加できるのは提案者と担当部署だけです。"))
        if self.stage is Stage.ENDED:
            raise ProposalClosed()
        if not text.strip():
            raise InvalidCommand(field_errors={"text": N_("メッセージを入力してください。")})
        if len(text) > MAX_MESSAGE:
            raise InvalidCommand(field_errors={"text": N_("%(limit)s文字以内にしてください。", limit=MAX_MESSAGE)})
        if problem := forbidden_characters_problem(text):
            raise InvalidCommand(field_errors={"text": problem})
        return from_city

    @property
    def next_message_number(self) -> int:
        return self.messages + 1

    def post_message(self, actor: Actor, sealed_text: bytes, number: int, from_city: bool) -> None:
        if from_city != self.check_message(actor, "-") or number != self.next_message_number:
            raise InvalidCommand(N_("メッセージを送信できませんでした。もう一度お試しください。"))
        self._post_message(number, actor.participant_id, from_city, sealed_text)

    def add_attachment(self, actor: Actor, sha256: str, sealed_name: bytes, media_type: str, size: int) -> None:
        if not self.is_member(actor):
            raise NotAllowed(N_("添付できるのは提案者の組織のメンバーだけです。"))
        if self.stage is Stage.ENDED:
            raise ProposalClosed()
        if sha256 in self.attachments:
            raise InvalidCommand(field_errors={"file": N_("同じファイルがすでに添付されています。")})
        if len(self.attachments) >= MAX_ATTACHMENTS:
            raise InvalidCommand(
                field_errors={"file": N_("添付ファイルは%(limit)s件までです。", limit=MAX_ATTACHMENTS)}
            )
        self._add_attachment(sha256, sealed_name, media_type, size, actor.participant_id)

    def give_consent(self, actor: Actor) -> None:
        if not self.is_member(actor):
            raise NotAllowed(N_("公表への同意は提案者の組織のメンバーが行います。"))
        if self.consent_given:
            raise InvalidCommand(N_("公表にはすでに同意しています。"))
        self._give_consent(actor.participant_id)

    def publish_summary(self, text: str, actor: Actor) -> None:
        if not self.decidable_by(actor):
            raise NotAllowed(N_("概要を公表できるのは担当部署の職員だけです。"))
        if not self.consent_given:
            raise InvalidCommand(N_("提案者の同意がないため、概要は公表できません。"))
        text = text.strip()
        if not text:
            raise InvalidCommand(field_errors={"summary_text": N_("公表する概要を入力してください。")})
        if len(text) > TEXT_LIMITS["summary"]:
            raise InvalidCommand(
                field_errors={"summary_text": N_("%(limit)s文字以内にしてください。", limit=TEXT_LIMITS["summary"])}
            )
        if problem := forbidden_characters_problem(text):
            raise InvalidCommand(field_errors={"summary_text": problem})
        self._publish_summary(text, actor.participant_id)

    # Events

    @event(Routed)
    def _route(self, department: str, routed_by: UUID) -> None:
        self.department = department
        self.routed = True

    @event(StageChanged)
    def _change_stage(self, stage: Stage, reason: str, decided_by: UUID) -> None:
        self.stage = stage

    @event(MessagePosted)
    def _post_message(self, number: int, author_id: UUID, from_city: bool, text: bytes) -> None:
        self.messages = number

    @event(AttachmentAdded)
    def _add_attachment(self, sha256: str, name: bytes, media_type: str, size: int, added_by: UUID) -> None:
        self.attachments.append(sha256)

    @event(ConsentToPublishGiven)
    def _give_consent(self, given_by: UUID) -> None:
        self.consent_given = True

    @event(SummaryPublished)
    def _publish_summary(self, text: str, published_by: UUID) -> None:
        self.summary_published = True
