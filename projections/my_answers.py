"""A person's own answers, from the read model (participant_responses joined to the catalogue):
which surveys they answered, for 回答済み on the home page, and the history on /me.

Read from the projection rather than the Response aggregates, so a page costs one indexed query
whatever the number of surveys; an answer shows up here once the projector has caught up (well
under a second in the server)."""

from uuid import UUID

import msgspec

from projections.database import Database


class MyAnswer(msgspec.Struct, frozen=True):
    survey_id: str
    title: str
    department: str
    submitted_at: str
    results_published: bool


def answered_survey_ids(db: Database, participant_id: UUID | str) -> frozenset[str]:
    rows = db.query("SELECT survey_id FROM participant_responses WHERE participant_id = ?", (str(participant_id),))
    return frozenset(row[0] for row in rows)


def my_answers(db: Database, participant_id: UUID | str) -> list[MyAnswer]:
    """Newest first; a survey the catalogue no longer has is left out rather than shown untitled."""
    rows = db.query(
        "SELECT r.survey_id, s.title, s.department, r.submitted_at, s.results_published"
        " FROM participant_responses r JOIN surveys s ON s.survey_id = r.survey_id"
        " WHERE r.participant_id = ? ORDER BY r.position DESC",
        (str(participant_id),),
    )
    return [MyAnswer(row[0], row[1], row[2], row[3], bool(row[4])) for row in rows]
