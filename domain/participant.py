"""A participant: anyone who takes part, named in events only by a pseudonymous id."""

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.values import Attributes, Role


class Participant(Aggregate):
    class Registered(Aggregate.Created):
        role: Role
        department: str | None
        attributes: Attributes

    class AttributesChanged(Aggregate.Event):
        attributes: Attributes

    class Erased(Aggregate.Event):
        """The person's identity was deleted; only the pseudonymous id remains in history."""

    @event(Registered)
    def __init__(self, role: Role, department: str | None, attributes: Attributes) -> None:
        self.role = role
        self.department = department
        self.attributes = attributes
        self.erased = False

    @event(AttributesChanged)
    def change_attributes(self, attributes: Attributes) -> None:
        self.attributes = attributes

    @event(Erased)
    def erase(self) -> None:
        self.erased = True
        self.attributes = Attributes()

    @property
    def participant_id(self) -> UUID:
        return self.id
