"""The unified "参加する" view: everything a person can take part in now, from every read model:
open surveys, ideas waiting for support, and (for businesses) open challenges, by department and SDG goal."""

from datetime import date

import msgspec

from domain.idea_values import IdeaStatus
from domain.survey import SurveyStatus
from domain.values import Audience
from projections.catalogue import Catalogue, SurveySummary
from projections.cocreation_read import ChallengeView, CoCreationReader
from projections.database import Database
from projections.idea_list import Filters, IdeaList, IdeaSummary

SHOWN = 6
# Ideas still open to support: not yet decided.
OPEN_IDEAS = (IdeaStatus.RECEIVED, IdeaStatus.CONSIDERING)


class Participation(msgspec.Struct, kw_only=True):
    surveys: list[SurveySummary]
    ideas: list[IdeaSummary]
    challenges: list[ChallengeView]
    departments: list[str]


class ParticipationView:
    def __init__(self, db: Database) -> None:
        self.catalogue = Catalogue(db)
        self.ideas = IdeaList(db)
        self.cocreation = CoCreationReader(db)

    def for_person(
        self,
        *,
        audience: Audience | None,
        with_challenges: bool,
        today: date,
        department: str | None = None,
        goal: int | None = None,
    ) -> Participation:
        # Surveys carry no SDG goals: filtering by a goal leaves the ideas and challenges that serve it.
        surveys = (
            []
            if goal
            else self.catalogue.surveys(
                statuses=(SurveyStatus.PUBLISHED,), audience=audience, department=department, limit=SHOWN
            )
        )
        ideas: list[IdeaSummary] = []
        for status in OPEN_IDEAS:
            filters = Filters(status=status, department=department, goal=goal, sort="supported")
            ideas += self.ideas.page(filters, limit=SHOWN).items
        ideas = sorted(ideas, key=lambda i: (-i.support_count, i.submitted_at))[:SHOWN]
        challenges = self.cocreation.open_challenges(today, department, goal) if with_challenges else []
        departments = sorted({*self.catalogue.departments(), *(c.department for c in self.cocreation.challenges())})
        return Participation(surveys=surveys, ideas=ideas, challenges=challenges, departments=departments)
