"""A participant: anyone who takes part, named in events only by a pseudonymous id."""

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.aggregate import KyosoAggregate
from domain.errors import InvalidCommand, NotAllowed
from domain.messages import N_
from domain.text import has_forbidden_characters
from domain.values import LANGUAGES, Attributes, Role, check_sdg_goals

STAFF_ROLES = frozenset({Role.STAFF, Role.ADMIN})
# How a person gave or withdrew their consent to e-mail: on their settings page, or by the
# one-click link at the foot of every message (RFC 8058).
EMAIL_CONSENT_HOWS = frozenset({"settings", "unsubscribe_link"})
MAX_FOLLOWED_DEPARTMENTS = 30
MAX_DEPARTMENT_NAME = 40


class Participant(KyosoAggregate):
    class Registered(Aggregate.Created):
        role: Role
        department: str | None
        attributes: Attributes

    class AttributesChanged(Aggregate.Event):
        attributes: Attributes

    class ConsentGiven(Aggregate.Event):
        """Which versions of the terms of use and the privacy policy the person agreed to."""

        terms_version: str
        privacy_version: str

    class RoleChanged(Aggregate.Event):
        role: Role
        department: str | None
        changed_by: UUID | None

    class Erased(Aggregate.Event):
        """The person's identity and data key were destroyed; only the pseudonymous id remains."""

    class FollowsChanged(Aggregate.Event):
        """The SDG goals and departments the person follows, for notices targeted at them (whole sets)."""

        goals: list[int]
        departments: list[str]

    class EmailConsentGiven(Aggregate.Event):
        """The person agreed to receive notices by e-mail, shown the wording of that version."""

        how: str
        wording_version: str

    class EmailConsentWithdrawn(Aggregate.Event):
        how: str

    class LanguageChosen(Aggregate.Event):
        """The language the person chose for pages and messages, kept for every device they use."""

        language: str

    @classmethod
    def register(cls, role: Role, department: str | None, attributes: Attributes) -> "Participant":
        role = Role(role)
        return cls(role=role, department=_department_for(role, department), attributes=attributes)

    @event(Registered)
    def __init__(self, role: Role, department: str | None, attributes: Attributes) -> None:
        self.role = role
        self.department = department
        self.attributes = attributes
        self.erased = False
        self.consents: list[tuple[str, str]] = []
        self.follows_goals: list[int] = []
        self.follows_departments: list[str] = []
        self.email_opt_in = False
        self.language: str | None = None  # never chosen: the browser decides

    @property
    def participant_id(self) -> UUID:
        return self.id

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES and not self.erased

    def change_attributes(self, attributes: Attributes) -> None:
        self._require_present()
        if attributes != self.attributes:
            self._change_attributes(attributes)

    def give_consent(self, terms_version: str, privacy_version: str) -> None:
        self._require_present()
        if not terms_version or not privacy_version:
            raise InvalidCommand(N_("同意した規約の版が必要です。"))
        self._give_consent(terms_version, privacy_version)

    def change_role(self, role: Role, department: str | None, changed_by: UUID | None) -> None:
        self._require_present()
        role = Role(role)
        department = _department_for(role, department)
        if (role, department) != (self.role, self.department):
            self._change_role(role, department, changed_by)

    def erase(self) -> None:
        if not self.erased:
            self._erase()

    def change_follows(self, goals: list[int], departments: list[str], known: list[str] | None = None) -> None:
        """`known`, when given, is the list the departments must be chosen from."""
        self._require_present()
        errors: dict[str, str] = {}
        goal_problem = check_sdg_goals(list(goals))
        if goal_problem:
            errors["goals"] = goal_problem
        goals = [] if goal_problem else sorted(goals)
        departments = list(dict.fromkeys(d.strip() if isinstance(d, str) else "" for d in departments))
        if len(departments) > MAX_FOLLOWED_DEPARTMENTS:
            errors["departments"] = N_("フォローできる部署は%(limit)sまでです。", limit=MAX_FOLLOWED_DEPARTMENTS)
        elif any(
            not d or len(d) > MAX_DEPARTMENT_NAME or "\n" in d or has_forbidden_characters(d) for d in departments
        ) or (known is not None and any(d not in known for d in departments)):
            errors["departments"] = N_("部署を一覧から選んでください。")
        if errors:
            raise InvalidCommand(field_errors=errors)
        if (goals, departments) != (self.follows_goals, self.follows_departments):
            self._change_follows(goals, departments)

    def give_email_consent(self, wording_version: str, how: str = "settings") -> None:
        self._require_present()
        if how != "settings":
            raise InvalidCommand(N_("メール配信への同意は設定画面で行ってください。"))
        if not wording_version:
            raise InvalidCommand(N_("同意した文言の版が必要です。"))
        if not self.email_opt_in:
            self._give_email_consent(how, wording_version)

    def withdraw_email_consent(self, how: str) -> None:
        """Withdrawing what was never given (or is gone with an erased account) changes nothing,
        so a second click on the same unsubscribe link is harmless."""
        if how not in EMAIL_CONSENT_HOWS:
            raise InvalidCommand(N_("配信停止の方法が不正です。"))
        if self.email_opt_in and not self.erased:
            self._withdraw_email_consent(how)

    def choose_language(self, language: str) -> None:
        self._require_present()
        if language not in LANGUAGES:
            raise InvalidCommand(field_errors={"language": N_("言語を一覧から選んでください。")})
        # Snapshots taken before languages existed have no attribute: nothing was chosen.
        if language != getattr(self, "language", None):
            self._choose_language(language)

    def _require_present(self) -> None:
        if self.erased:
            raise NotAllowed(N_("この利用者は削除されています。"))

    @event(AttributesChanged)
    def _change_attributes(self, attributes: Attributes) -> None:
        self.attributes = attributes

    @event(ConsentGiven)
    def _give_consent(self, terms_version: str, privacy_version: str) -> None:
        self.consents.append((terms_version, privacy_version))

    @event(RoleChanged)
    def _change_role(self, role: Role, department: str | None, changed_by: UUID | None) -> None:
        self.role = role
        self.department = department

    @event(Erased)
    def _erase(self) -> None:
        self.erased = True
        self.attributes = Attributes()
        self.follows_goals, self.follows_departments = [], []
        self.email_opt_in = False

    @event(FollowsChanged)
    def _change_follows(self, goals: list[int], departments: list[str]) -> None:
        self.follows_goals, self.follows_departments = list(goals), list(departments)

    @event(EmailConsentGiven)
    def _give_email_consent(self, how: str, wording_version: str) -> None:
        self.email_opt_in = True

    @event(EmailConsentWithdrawn)
    def _withdraw_email_consent(self, how: str) -> None:
        self.email_opt_in = False

    @event(LanguageChosen)
    def _choose_language(self, language: str) -> None:
        self.language = language


def _department_for(role: Role, department: str | None) -> str | None:
    """Staff and admins belong to a department; nobody else does."""
    if role not in STAFF_ROLES:
        return None
    if not department or not department.strip():
        raise InvalidCommand(N_("職員には部署が必要です。"))
    return department.strip()
