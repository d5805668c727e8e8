"""A survey response: one per participant per survey, made unique by its id.

The id is derived from (survey, participant), so a second response is a second "version 1" of
the same aggregate, which the event store rejects atomically: no check-then-write race.
Free-text answers travel sealed under the author's own key (domain/personal_data.py).
"""

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic

from domain.aggregate import KyosoAggregate
from domain.questions import AnswerValue
from domain.values import Attributes, Role

RESPONSE_NAMESPACE = UUID("6b1f3c1e-8a59-4d8e-9a4f-3f0c2b6d7a10")


def response_id(survey_id: UUID, participant_id: UUID) -> UUID:
    return uuid5(RESPONSE_NAMESPACE, f"{survey_id}/{participant_id}")


class Response(KyosoAggregate):
    class Submitted(Aggregate.Created):
        """`answers` holds choices, scales and numbers; `texts` the sealed free-text answers."""

        survey_id: UUID
        participant_id: UUID
        role: Role
        attributes: Attributes
        answers: dict[str, AnswerValue]
        texts: dict[str, bytes]

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 kept free text in plain view among the answers.
            state["texts"] = {}

    @staticmethod
    def create_id(survey_id: UUID, participant_id: UUID) -> UUID:  # type: ignore[override]
        return response_id(survey_id, participant_id)

    @classmethod
    def submitted(
        cls,
        *,
        survey_id: UUID,
        participant_id: UUID,
        role: Role,
        attributes: Attributes,
        answers: dict[str, AnswerValue],
        texts: dict[str, bytes],
    ) -> "Response.Submitted":
        """The event that creates a response, built directly: the submission hot path needs only
        the event, and skipping the aggregate machinery halves the cost of a submission. A test
        holds it equal to what the aggregate itself records."""
        return cls.Submitted(
            originator_id=response_id(survey_id, participant_id),
            originator_version=cls.INITIAL_VERSION,
            timestamp=cls.Submitted.create_timestamp(),
            originator_topic=_TOPIC,
            survey_id=survey_id,
            participant_id=participant_id,
            role=role,
            attributes=attributes,
            answers=answers,
            texts=texts,
        )

    @event(Submitted)
    def __init__(
        self,
        survey_id: UUID,
        participant_id: UUID,
        role: Role,
        attributes: Attributes,
        answers: dict[str, AnswerValue],
        texts: dict[str, bytes],
    ) -> None:
        self.survey_id = survey_id
        self.participant_id = participant_id
        self.role = role
        self.attributes = attributes
        self.answers = answers
        self.texts = texts


_TOPIC = get_topic(Response)
