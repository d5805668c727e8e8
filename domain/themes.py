"""A theme analysis of free-text opinions, recorded so that it can be audited and re-run.

What was analysed is its corpus: the answers to one free-text question of a survey
(`survey:<survey id>:<question id>`), the citizens' ideas of one department (`ideas:<department>`),
or the summaries of the business proposals one department handles (`proposals:<department>`).

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


SURVEY, IDEAS, PROPOSALS = "survey", "ideas", "proposals"
# Corpora that belong to one department: its ideas, or the summaries of the proposals it handles.
DEPARTMENT_CORPORA = (IDEAS, PROPOSALS)


def survey_corpus(survey_id: UUID | str, question_id: str) -> str:
    return f"{SURVEY}:{survey_id}:{question_id}"


def ideas_corpus(department: str) -> str:
    return f"{IDEAS}:{department}"


def proposals_corpus(department: str) -> str:
    return f"{PROPOSALS}:{department}"


def parse_corpus(corpus: str) -> tuple[str, str, str]:
    """(kind, survey id or department, question id or "")."""
    kind, _, rest = corpus.partition(":")
    if kind == SURVEY:
        survey_id, _, question_id = rest.partition(":")
        return kind, survey_id, question_id
    return kind, rest, ""


class ThemeAnalysis(KyosoAggregate):
    class Completed(Aggregate.Created):
        corpus: str
        survey_id: UUID | None
        question_id: str | None
        requested_by: UUID
        input_ids: list[str]
        model: AnalysisModel
        params: dict[str, Any]
        seed: int
        themes: list[ThemeNode]

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 analysed survey answers only.
            state["corpus"] = survey_corpus(state["survey_id"], state["question_id"])

    class Viewed(Aggregate.Event):
        viewed_by: UUID

    @event(Completed)
    def __init__(
        self,
        corpus: str,
        survey_id: UUID | None,
        question_id: str | None,
        requested_by: UUID,
        input_ids: list[str],
        model: AnalysisModel,
        params: dict[str, Any],
        seed: int,
        themes: list[ThemeNode],
    ) -> None:
        self.corpus = corpus
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
