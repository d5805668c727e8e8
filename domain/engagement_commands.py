"""The Kyoso Application's commands for the staff engagement survey (ぱいたり値): a mixin of Kyoso.

A wave is an ordinary staff survey (drafted, published, closed like any other) that carries the
instrument's items and says so with Survey.InstrumentAttached; the rules live in the Survey.
"""

from datetime import date
from typing import Any
from uuid import UUID

from domain.engagement import INSTRUMENTS, UWES_9, check_label
from domain.errors import InvalidCommand
from domain.messages import N_
from domain.survey import Survey
from domain.values import Audience, Role


class EngagementCommands:
    # Provided by Kyoso; named here so the mixin reads on its own.
    save: Any
    _require_staff: Any
    _editable_survey: Any

    def draft_engagement_wave(
        self,
        staff_id: UUID,
        *,
        label: str,
        opens_on: date | None,
        closes_on: date | None,
        department: str | None = None,
        instrument: str = UWES_9.key,
    ) -> UUID:
        """Drafts a staff survey asking the instrument's items, as one wave named `label` (e.g.
        2025年度). It belongs to the drafter's department (an admin may name another)."""
        staff = self._require_staff(staff_id)
        chosen = INSTRUMENTS.get(instrument)
        if chosen is None:
            raise InvalidCommand(N_("尺度の種類が正しくありません。"))
        if problem := check_label(label):
            # Before the title, which is made of the label, could report it under another name.
            raise InvalidCommand(field_errors={"label": problem})
        owner = department.strip() if staff.role is Role.ADMIN and department and department.strip() else None
        survey = Survey.draft(
            department=owner or staff.department or "",
            title=f"職員エンゲージメント調査（{label.strip()}）",
            description=chosen.instructions,
            audience=Audience.STAFF,
            opens_on=opens_on,
            closes_on=closes_on,
            drafted_by=staff_id,
        )
        questions = chosen.questions(survey.next_question_number)
        for question in questions:
            survey.add_question(question)
        item_map = {q.id: item.number for q, item in zip(questions, chosen.items, strict=True)}
        survey.attach_instrument(chosen.key, item_map, label)
        # One save: the survey, its items and the attachment exist together or not at all.
        self.save(survey)
        return survey.id

    def attach_instrument(
        self, survey_id: UUID, *, staff_id: UUID, instrument: str, item_map: dict[str, int], label: str
    ) -> None:
        """Makes a draft staff survey that already asks the items a wave of the instrument."""
        survey = self._editable_survey(survey_id, staff_id)
        survey.attach_instrument(instrument, item_map, label)
        self.save(survey)
