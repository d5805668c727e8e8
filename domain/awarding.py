"""Which recorded events earn points automatically: the causes the awarding process acts on.

A cause names its source (the causing event, by aggregate id) and the moment it happened; the
award is then decided by the menu's rule at that moment, so it does not depend on when, or how
many times, the awarding process reads the event.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.utils import get_topic

from domain.idea import Idea
from domain.idea_values import IdeaStatus
from domain.points_menu import SdgMenu, Trigger
from domain.proposal import Proposal, Stage
from domain.response import Response
from domain.values import Role


class Cause(msgspec.Struct, frozen=True, kw_only=True):
    trigger: Trigger
    source: str
    caused_at: datetime
    # Known from the event itself for responses; for ideas and proposals, from the aggregate.
    participant_id: UUID | None = None
    subject_id: UUID | None = None
    survey_id: UUID | None = None


# The events the awarding process reads: the causes, and the menus, whose rules it must know.
TOPICS = tuple(
    get_topic(cls)
    for cls in (
        Response.Submitted,
        Idea.StatusChanged,
        Proposal.StageChanged,
        SdgMenu.Defined,
        SdgMenu.RuleChanged,
    )
)
MENU_EVENTS = (SdgMenu.Defined, SdgMenu.RuleChanged)


def cause_of(event: Any) -> Cause | None:
    """The cause an event is, or None if it earns nothing."""
    if isinstance(event, Response.Submitted):
        # Citizens earn points for answering; staff answering their engagement survey, or an
        # admin trying a survey out, do not.
        if event.role is not Role.CITIZEN:
            return None
        return Cause(
            trigger=Trigger.SURVEY_ANSWERED,
            source=f"response:{event.originator_id}",
            caused_at=event.timestamp,
            participant_id=event.participant_id,
            survey_id=event.survey_id,
        )
    if isinstance(event, Idea.StatusChanged) and event.status is IdeaStatus.DECIDED:
        return Cause(
            trigger=Trigger.IDEA_ADOPTED,
            source=f"idea-adopted:{event.originator_id}",
            caused_at=event.timestamp,
            subject_id=event.originator_id,
        )
    if isinstance(event, Proposal.StageChanged) and event.stage is Stage.AGREEMENT:
        return Cause(
            trigger=Trigger.PROPOSAL_AGREED,
            source=f"proposal-agreed:{event.originator_id}",
            caused_at=event.timestamp,
            subject_id=event.originator_id,
        )
    return None
