"""A theme analysis of a survey's free-text answers, recorded so that it can be audited and re-run.

The event carries everything needed to repeat the run exactly (the ids of the opinions analysed,
the model and its version, the parameters and the seed) and its result, the themes themselves.
"""

from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, event

from domain.aggregate import KyosoAggregate


class ThemeQuote(msgspec.Struct, frozen=True):
    """A representative opinion, by id only: its text stays sealed under its author's key, so
    an erased person's words drop out of every analysis that quoted them."""

    id: str


class ThemeNode(msgspec.Struct, frozen=True):
    id: str
    label: str
    keywords: list[str]
    size: int
    members: list[str]
    quotes: list[ThemeQuote]
    children: list["ThemeNode"] = []


class AnalysisModel(msgspec.Struct, frozen=True):
    name: str
    version: str
    dim: int


class ThemeAnalysis(KyosoAggregate):
    class Completed(Aggregate.Created):
        survey_id: UUID
        question_id: str
        requested_by: UUID
        input_ids: list[str]
        model: AnalysisModel
        params: dict[str, Any]
        seed: int
        themes: list[ThemeNode]

    class Viewed(Aggregate.Event):
        viewed_by: UUID

    @event(Completed)
    def __init__(
        self,
        survey_id: UUID,
        question_id: str,
        requested_by: UUID,
        input_ids: list[str],
        model: AnalysisModel,
        params: dict[str, Any],
        seed: int,
        themes: list[ThemeNode],
    ) -> None:
        self.survey_id = survey_id
        self.question_id = question_id
        self.requested_by = requested_by
        self.input_ids = input_ids
        self.model = model
        self.params = params
        self.seed = seed
        self.themes = themes
        self.viewers: list[UUID] = []

    @event(Viewed)
    def record_view(self, viewed_by: UUID) -> None:
        self.viewers.append(viewed_by)
