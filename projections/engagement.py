"""Read model of the staff engagement index (ぱいたり値): per wave and respondent's department, the
number of answers and the sum of scores of each item (never a row per person's answers).

The department is the respondent's at the moment the response was recorded. It is tracked here
from the Participant events, in event order within a batch: the shared `participants` table is
written for the whole batch before this projection runs, so it could be ahead of a response.
Nothing is cached between batches, since a batch that fails is rolled back and tried again.
"""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec

from domain.participant import STAFF_ROLES, Participant
from domain.response import Response
from domain.survey import Survey
from projections.database import Column, Cursor

CELL_COLUMNS: list[Column] = [
    ("survey_id", "text"),
    ("department", "text"),
    ("item", "integer"),
    ("answers", "bigint"),
    ("total", "bigint"),
]
STAFF_COLUMNS: list[Column] = [("participant_id", "text"), ("department", "text")]
RESPONDENTS = 0  # The item number under which a wave's respondents are counted.
UNKNOWN_DEPARTMENT = ""
CHUNK = 500  # Placeholders per IN (...), well under SQLite's limit.

ITEM_MAP = msgspec.json.Decoder(dict[str, int])
_encode = msgspec.json.encode


def _topic(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


Cells = defaultdict[tuple[str, str, int], list[int]]


def fold(cells: Cells, survey_id: str, department: str, answers: dict[str, Any], item_map: dict[str, int]) -> None:
    """Adds one response's scores (the chosen option's index) to its wave's department."""
    cells[(survey_id, department, RESPONDENTS)][0] += 1
    for question_id, item in item_map.items():
        value = answers.get(question_id)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            cell = cells[(survey_id, department, item)]
            cell[0] += 1
            cell[1] += value


class EngagementProjection:
    name = "engagement"
    topics = tuple(
        _topic(cls)
        for cls in (
            Survey.InstrumentAttached,
            Response.Submitted,
            Participant.Registered,
            Participant.RoleChanged,
            Participant.Erased,
        )
    )

    def clear(self, cur: Cursor) -> None:
        for table in ("engagement_cells", "engagement_waves", "engagement_staff"):
            cur.execute(f"DELETE FROM {table}")

    def project(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        waves: dict[UUID, dict[str, int]] | None = None  # Read on the first event that needs it.
        departments: dict[str, str | None] = {}  # This batch's changes: None when no longer staff.
        dropped: set[str] = set()
        cells: Cells = defaultdict(lambda: [0, 0])
        # Responses by people with no Participant event earlier in this batch: their department
        # is the one stored before the batch.
        pending: list[tuple[str, str, dict[str, Any], dict[str, int]]] = []
        for _, event in events:
            kind = type(event)
            if kind is Response.Submitted:
                if waves is None:
                    waves = self._waves(cur)
                item_map = waves.get(event.survey_id)
                if item_map is None:
                    continue
                person = str(event.participant_id)
                if person in departments:
                    department = departments[person] or UNKNOWN_DEPARTMENT
                    fold(cells, str(event.survey_id), department, event.answers, item_map)
                else:
                    pending.append((str(event.survey_id), person, event.answers, item_map))
            elif kind is Survey.InstrumentAttached:
                if waves is None:
                    waves = self._waves(cur)
                waves[event.originator_id] = dict(event.item_map)
                cur.execute(
                    "INSERT INTO engagement_waves (survey_id, instrument, label, item_map, attached_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        str(event.originator_id),
                        event.instrument,
                        event.wave_label,
                        _encode(event.item_map).decode(),
                        event.timestamp.isoformat(),
                    ),
                )
            elif kind is Participant.Erased:
                departments[str(event.originator_id)] = None
                dropped.add(str(event.originator_id))
            else:  # Registered or RoleChanged
                person = str(event.originator_id)
                departments[person] = event.department if event.role in STAFF_ROLES else None
                if kind is Participant.RoleChanged:
                    dropped.add(person)
        if pending:
            stored = self._stored_departments(cur, sorted({person for _, person, _, _ in pending}))
            for survey_id, person, answers, item_map in pending:
                fold(cells, survey_id, stored.get(person, UNKNOWN_DEPARTMENT), answers, item_map)
        self._write_departments(cur, departments, dropped)
        if cells:
            cur.insert_many(
                "engagement_cells",
                CELL_COLUMNS,
                [(*key, answers, total) for key, (answers, total) in cells.items()],
                "ON CONFLICT (survey_id, department, item) DO UPDATE SET"
                " answers = engagement_cells.answers + excluded.answers,"
                " total = engagement_cells.total + excluded.total",
            )

    @staticmethod
    def _waves(cur: Cursor) -> dict[UUID, dict[str, int]]:
        cur.execute("SELECT survey_id, item_map FROM engagement_waves")
        return {UUID(survey_id): ITEM_MAP.decode(item_map) for survey_id, item_map in cur.fetchall()}

    @staticmethod
    def _stored_departments(cur: Cursor, people: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(people), CHUNK):
            chunk = people[start : start + CHUNK]
            marks = ", ".join("?" for _ in chunk)
            cur.execute(
                f"SELECT participant_id, department FROM engagement_staff WHERE participant_id IN ({marks})", chunk
            )
            found.update(dict(cur.fetchall()))
        return found

    @staticmethod
    def _write_departments(cur: Cursor, departments: dict[str, str | None], dropped: set[str]) -> None:
        staff = [(person, department) for person, department in departments.items() if department is not None]
        if staff:
            cur.insert_many(
                "engagement_staff",
                STAFF_COLUMNS,
                staff,
                "ON CONFLICT (participant_id) DO UPDATE SET department = excluded.department",
            )
        # Only people who may have a row: a citizen's registration has nothing to delete.
        gone = [(person,) for person in dropped if departments.get(person) is None]
        if gone:
            cur.executemany("DELETE FROM engagement_staff WHERE participant_id = ?", gone)
