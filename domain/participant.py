"""A participant: anyone who takes part, named in events only by a pseudonymous id."""

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.aggregate import KyosoAggregate
from domain.errors import InvalidCommand, NotAllowed
from domain.values import Attributes, Role

STAFF_ROLES = frozenset({Role.STAFF, Role.ADMIN})


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
            raise InvalidCommand("同意した規約の版が必要です。")
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

    def _require_present(self) -> None:
        if self.erased:
            raise NotAllowed("この利用者は削除されています。")

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


def _department_for(role: Role, department: str | None) -> str | None:
    """Staff and admins belong to a department; nobody else does."""
    if role not in STAFF_ROLES:
        return None
    if not department or not department.strip():
        raise InvalidCommand("職員には部署が必要です。")
    return department.strip()
