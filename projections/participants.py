"""Read model: who each participant is, in the coarse terms targeted notices are aimed by.

One row per participant (role, department, ward, age band, children under 18, erased), what they
follow (SDG goals as bits, bit n for goal n; departments newline-separated) and whether they
opted in to e-mail. A batch is folded in memory: the rows of people registered before it are read
once, every event of the batch is applied, and the rows are written back with one upsert.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from domain.participant import Participant
from projections.database import Cursor, Database

_CHUNK = 500

COLUMNS = [
    ("participant_id", "text"),
    ("role", "text"),
    ("department", "text"),
    ("ward", "text"),
    ("age_band", "text"),
    ("has_children", "integer"),
    ("erased", "integer"),
    ("follows_goals", "integer"),
    ("follows_departments", "text"),
    ("email_opt_in", "integer"),
    ("registered_at", "text"),
    ("language", "text"),
]
_NAMES = [name for name, _ in COLUMNS]
(ID, ROLE, DEPARTMENT, WARD, AGE_BAND, CHILDREN, ERASED, GOALS, DEPARTMENTS, OPT_IN, REGISTERED, LANGUAGE) = range(
    len(COLUMNS)
)
_UPSERT = "ON CONFLICT (participant_id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in _NAMES[1:])
_SELECT = f"SELECT {', '.join(_NAMES)} FROM participants WHERE participant_id IN ({{marks}})"


def _topic(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def goal_bits(goals: Iterable[int]) -> int:
    bits = 0
    for goal in goals:
        bits |= 1 << goal
    return bits


def goals_of(bits: int) -> list[int]:
    return [n for n in range(1, 18) if bits >> n & 1]


def _attributes(row: list[Any], attributes: Any) -> None:
    row[WARD] = attributes.ward.value if attributes.ward is not None else None
    row[AGE_BAND] = attributes.age_band.value if attributes.age_band is not None else None
    row[CHILDREN] = None if attributes.has_children is None else int(attributes.has_children)


class ParticipantProjection:
    name = "participants"
    topics: tuple[str, ...] = tuple(
        _topic(cls)
        for cls in (
            Participant.Registered,
            Participant.AttributesChanged,
            Participant.RoleChanged,
            Participant.Erased,
            Participant.FollowsChanged,
            Participant.EmailConsentGiven,
            Participant.EmailConsentWithdrawn,
            Participant.LanguageChosen,
        )
    )

    def clear(self, cur: Cursor) -> None:
        cur.execute("DELETE FROM participants")

    def project(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        rows: dict[str, list[Any]] = {}
        earlier = {str(e.originator_id) for _, e in events if type(e) is not Participant.Registered}
        earlier -= {str(e.originator_id) for _, e in events if type(e) is Participant.Registered}
        if earlier:
            rows.update(_load(cur, sorted(earlier)))
        for _, event in events:
            kind = type(event)
            pid = str(event.originator_id)
            if kind is Participant.Registered:
                row = rows[pid] = [pid, str(event.role), event.department, None, None, None, 0, 0, "", 0, "", None]
                _attributes(row, event.attributes)
                row[REGISTERED] = event.timestamp.isoformat()
                continue
            row = rows.get(pid)
            if row is None:
                # Its registration failed to project (it is in projection_failures): nothing to change.
                continue
            if kind is Participant.AttributesChanged:
                _attributes(row, event.attributes)
            elif kind is Participant.RoleChanged:
                row[ROLE], row[DEPARTMENT] = str(event.role), event.department
            elif kind is Participant.FollowsChanged:
                row[GOALS] = goal_bits(event.goals)
                row[DEPARTMENTS] = "\n".join(event.departments)
            elif kind is Participant.EmailConsentGiven:
                row[OPT_IN] = 1
            elif kind is Participant.EmailConsentWithdrawn:
                row[OPT_IN] = 0
            elif kind is Participant.LanguageChosen:
                row[LANGUAGE] = event.language
            elif kind is Participant.Erased:
                # The pseudonymous id, role and registration stay (they are counted); the rest goes.
                row[WARD] = row[AGE_BAND] = row[CHILDREN] = None
                row[ERASED], row[GOALS], row[DEPARTMENTS], row[OPT_IN] = 1, 0, "", 0
        if rows:
            cur.insert_many("participants", COLUMNS, [rows[k] for k in sorted(rows)], _UPSERT)


def _load(cur: Cursor, ids: list[str]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        cur.execute(_SELECT.format(marks=", ".join("?" for _ in chunk)), chunk)
        for row in cur.fetchall():
            found[row[ID]] = list(row)
    return found


def departments_to_follow(db: Database, survey_departments: list[str]) -> list[str]:
    """The departments a person can follow: those that run surveys, then every staff member's."""
    staff = [r[0] for r in db.query("SELECT DISTINCT department FROM participants WHERE department IS NOT NULL")]
    return sorted(set(survey_departments) | set(staff))


def preferences_of(db: Database, participant_id: str) -> tuple[list[int], list[str], bool] | None:
    """(goals followed, departments followed, e-mail opt-in) as projected, or None if unknown."""
    row = db.query_one(
        "SELECT follows_goals, follows_departments, email_opt_in FROM participants WHERE participant_id = ?",
        (participant_id,),
    )
    if row is None:
        return None
    return goals_of(row[0]), [d for d in row[1].split("\n") if d], bool(row[2])
