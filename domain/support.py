"""A support (賛同) of an idea: one per person per idea, made unique by its id.

The id is derived from (idea, person), so a person's supports of one idea are the versions of
one aggregate: a second support while one stands changes nothing, and two concurrent first
supports are two "version 1"s, of which the event store keeps one. Each Given or GivenAgain is
+1 and each Withdrawn −1 in the projection, which is therefore exact under any concurrency.
"""

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.aggregate import KyosoAggregate
from domain.errors import NotAllowed
from domain.idea import Idea, IdeaWithdrawn
from domain.messages import N_
from domain.participant import Participant
from domain.values import Role

SUPPORT_NAMESPACE = UUID("3d4c2b1a-5e6f-4a7b-8c9d-0e1f2a3b4c5d")
SUPPORTER_ROLES = frozenset({Role.CITIZEN, Role.STAFF, Role.ADMIN})


def support_id(idea_id: UUID, participant_id: UUID) -> UUID:
    return uuid5(SUPPORT_NAMESPACE, f"{idea_id}/{participant_id}")


def check_supporter(idea: Idea, participant: Participant) -> None:
    if participant.erased or participant.role not in SUPPORTER_ROLES:
        raise NotAllowed(N_("賛同できるのは市民と職員のアカウントだけです。"))
    if participant.id == idea.author_id:
        raise NotAllowed(N_("自分の提案には賛同できません。"))
    if idea.withdrawn:
        raise IdeaWithdrawn()


class Support(KyosoAggregate):
    class Given(Aggregate.Created):
        idea_id: UUID
        participant_id: UUID

    # Every event names its idea, so the projection counts without looking anything up.
    class GivenAgain(Aggregate.Event):
        idea_id: UUID

    class Withdrawn(Aggregate.Event):
        idea_id: UUID

    @staticmethod
    def create_id(idea_id: UUID, participant_id: UUID) -> UUID:  # type: ignore[override]
        return support_id(idea_id, participant_id)

    @classmethod
    def give(cls, idea: Idea, participant: Participant) -> "Support":
        check_supporter(idea, participant)
        return cls(idea_id=idea.id, participant_id=participant.id)

    @event(Given)
    def __init__(self, idea_id: UUID, participant_id: UUID) -> None:
        self.idea_id = idea_id
        self.participant_id = participant_id
        self.active = True

    def give_again(self, idea: Idea, participant: Participant) -> None:
        """Nothing happens if the support stands already: a second support changes nothing."""
        if self.active:
            return
        check_supporter(idea, participant)
        self._give_again(self.idea_id)

    def withdraw(self) -> None:
        """Nothing happens if the support was already withdrawn."""
        if self.active:
            self._withdraw(self.idea_id)

    @event(GivenAgain)
    def _give_again(self, idea_id: UUID) -> None:
        self.active = True

    @event(Withdrawn)
    def _withdraw(self, idea_id: UUID) -> None:
        self.active = False
