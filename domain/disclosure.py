"""A disclosure of raw free text to someone outside the department that owns it.

Citizens write free text on the promise that their department reads it; when an auditor (or an
admin acting as one) reads it word for word, that read is itself on record, one aggregate per
read, so that the record cannot be rewritten by later reads.
"""

from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.aggregate import KyosoAggregate
from domain.errors import InvalidCommand, NotAllowed
from domain.messages import N_
from domain.values import Role

# Only these roles read another department's raw text; staff read their own department's text
# without a disclosure (their theme-analysis views are on record as ThemeAnalysis.Viewed).
DISCLOSED_TO = frozenset({Role.AUDITOR, Role.ADMIN})


class Purpose(StrEnum):
    """Where the text was shown, so an auditor reviewing the record knows what was read."""

    RESULTS = "results"  # the free-text list of a results page
    THEMES = "themes"  # the quotes and opinions of a theme analysis

    @property
    def label(self) -> str:
        return {Purpose.RESULTS: "集計結果の自由記述", Purpose.THEMES: "テーマ分析の意見"}[self]


class TextDisclosure(KyosoAggregate):
    class Disclosed(Aggregate.Created):
        reader_id: UUID
        role: Role
        survey_id: UUID
        question_id: str
        purpose: Purpose

    @classmethod
    def disclose(
        cls, *, reader_id: UUID, role: Role, erased: bool, survey_id: UUID, question_id: str, purpose: Purpose
    ) -> "TextDisclosure":
        role = Role(role)
        if erased or role not in DISCLOSED_TO:
            raise NotAllowed(N_("自由記述の閲覧を記録できるのは監査担当と管理者だけです。"))
        if not question_id:
            raise InvalidCommand(N_("質問が必要です。"))
        return cls(
            reader_id=reader_id, role=role, survey_id=survey_id, question_id=question_id, purpose=Purpose(purpose)
        )

    @event(Disclosed)
    def __init__(self, reader_id: UUID, role: Role, survey_id: UUID, question_id: str, purpose: Purpose) -> None:
        self.reader_id = reader_id
        self.role = role
        self.survey_id = survey_id
        self.question_id = question_id
        self.purpose = purpose
