"""Changes made to a survey after publication (更新履歴): written by the survey projection, read
by the survey page and the staff editor, so respondents see what was corrected and when."""

from typing import Any

import msgspec

from domain.survey import Survey
from projections.database import Cursor, Database

FIELD_LABELS = {"title": "タイトル", "description": "説明", "closes_on": "締切"}
_ROW = (
    "INSERT INTO survey_changes (survey_id, version, field, old_text, new_text, changed_at) VALUES (?, ?, ?, ?, ?, ?)"
)


class SurveyChange(msgspec.Struct, frozen=True):
    field: str
    old: str
    new: str
    changed_at: str

    @property
    def label(self) -> str:
        return FIELD_LABELS[self.field]


def record_change(cur: Cursor, event: Any) -> dict[str, Any]:
    """Writes the rows of one DetailsCorrected or ClosingExtended event, comparing with the
    surveys row before the caller updates it; returns the columns the caller sets on that row."""
    survey_id = str(event.originator_id)
    row = cur.execute("SELECT title, description, closes_on FROM surveys WHERE survey_id = ?", (survey_id,)).fetchone()
    before = {"title": row[0], "description": row[1], "closes_on": row[2] or ""} if row else {}
    if isinstance(event, Survey.DetailsCorrected):
        after = {"title": event.title, "description": event.description}
    else:
        after = {"closes_on": event.closes_on.isoformat()}
    at = event.timestamp.isoformat()
    for field, new in after.items():
        old = before.get(field, "")
        if old != new:
            cur.execute(_ROW, (survey_id, event.originator_version, field, old, new, at))
    return after


class SurveyChanges:
    def __init__(self, db: Database) -> None:
        self.db = db

    def of(self, survey_id: str) -> list[SurveyChange]:
        """Newest first."""
        rows = self.db.query(
            "SELECT field, old_text, new_text, changed_at FROM survey_changes WHERE survey_id = ?"
            " ORDER BY version DESC, field",
            (survey_id,),
        )
        return [SurveyChange(*r) for r in rows]
