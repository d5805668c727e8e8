"""Read model: targeted notices, and how far each one reached.

`notices` comes from the Notice events, with counters per notice: opened (from NoticeOpening
events) and acted (the recipient answered the linked survey within 7 days of delivery, from the
responses themselves). Who a notice reached is not in any event: the send job (web/notice_jobs.py)
writes `notice_recipients`, and this projection only fills their opened and acted columns. A
rebuild therefore keeps those rows and recomputes the columns from the events.

A response is seen here after the Sent event it may answer (it comes later in the log), but it
may be projected while the send job is still writing recipients. Both sides lock the notice's
row first (the job when it writes a batch, this projection before reading recipients), and the
job stamps delivery after taking the lock: whichever comes second sees what the first committed,
so a response that came after a delivery always finds its recipient row.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec

from domain.clock import city_date, fiscal_year
from domain.notice import LinkKind, Notice, NoticeOpening, OpenedHow
from domain.response import Response
from projections.database import Cursor

ACTED_WITHIN = timedelta(days=7)
_CHUNK = 500
_DRAFTED = Notice.Drafted
_SENT = Notice.Sent
_OPENED = NoticeOpening.Opened
_RESPONSE = Response.Submitted
_SURVEY = LinkKind.SURVEY.value
_BY_EMAIL = OpenedHow.EMAIL_LINK
_encode = msgspec.json.Encoder().encode


def _topic(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def iso(moment: datetime) -> str:
    """How this read model writes a moment: ISO 8601 in UTC (the events' own zone)."""
    return moment.isoformat()


def lock_notices(cur: Cursor, notice_ids: Sequence[str]) -> None:
    """Takes the notices' rows for this transaction (an update that changes nothing still locks
    on PostgreSQL; SQLite's writers hold the whole database already)."""
    for start in range(0, len(notice_ids), _CHUNK):
        chunk = notice_ids[start : start + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        cur.execute(f"UPDATE notices SET acted = acted WHERE notice_id IN ({marks})", chunk)


class NoticeProjection:
    name = "notices"
    topics: tuple[str, ...] = tuple(_topic(cls) for cls in (_DRAFTED, _SENT, _OPENED, _RESPONSE))

    def clear(self, cur: Cursor) -> None:
        cur.execute("DELETE FROM notices")
        # The recipients exist nowhere else: kept, with what the events say about them forgotten.
        cur.execute(
            "UPDATE notice_recipients SET opened_at = NULL, opened_how = NULL, acted_at = NULL"
            " WHERE opened_at IS NOT NULL OR acted_at IS NOT NULL"
        )

    def project(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        responses: list[Any] = []
        opened: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
        for _, event in events:
            cls = type(event)
            if cls is _RESPONSE:
                responses.append(event)
            elif cls is _OPENED:
                self._open(cur, event, opened)
            elif cls is _DRAFTED:
                cur.execute(
                    "INSERT INTO notices (notice_id, department, title, body, link_kind, link_id, drafted_by,"
                    " drafted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        str(event.originator_id),
                        event.department,
                        event.title,
                        event.body,
                        event.link_kind.value if event.link_kind else None,
                        str(event.link_id) if event.link_id else None,
                        str(event.drafted_by),
                        iso(event.timestamp),
                    ),
                )
            elif cls is _SENT:
                cur.execute(
                    "UPDATE notices SET sent_at = ?, sent_by = ?, fiscal_year = ?, segment = ?, targeted = ?,"
                    " job_id = ? WHERE notice_id = ?",
                    (
                        iso(event.timestamp),
                        str(event.sent_by),
                        fiscal_year(city_date(event.timestamp)),
                        _encode(event.segment).decode(),
                        event.recipient_count,
                        event.job_id,
                        str(event.originator_id),
                    ),
                )
        if opened:
            cur.executemany(
                "UPDATE notices SET opened = opened + ?, opened_by_email = opened_by_email + ? WHERE notice_id = ?",
                [(n, by_email, notice_id) for notice_id, (n, by_email) in opened.items()],
            )
        if responses:
            _acted(cur, responses)

    @staticmethod
    def _open(cur: Cursor, event: Any, opened: defaultdict[str, list[int]]) -> None:
        notice_id = str(event.notice_id)
        cur.execute(
            "UPDATE notice_recipients SET opened_at = ?, opened_how = ?"
            " WHERE notice_id = ? AND participant_id = ? AND opened_at IS NULL",
            (iso(event.timestamp), event.how.value, notice_id, str(event.participant_id)),
        )
        if cur.rowcount == 1:
            counts = opened[notice_id]
            counts[0] += 1
            if event.how is _BY_EMAIL:
                counts[1] += 1


def _acted(cur: Cursor, responses: Sequence[Any]) -> None:
    """Marks as acted the recipients who answered a linked survey within 7 days of delivery."""
    surveys = sorted({str(r.survey_id) for r in responses})
    linked: dict[str, list[str]] = defaultdict(list)  # survey -> notices linking it
    for start in range(0, len(surveys), _CHUNK):
        chunk = surveys[start : start + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        cur.execute(
            "SELECT notice_id, link_id FROM notices"
            f" WHERE link_kind = ? AND sent_at IS NOT NULL AND link_id IN ({marks})",
            (_SURVEY, *chunk),
        )
        for notice_id, survey_id in cur.fetchall():
            linked[survey_id].append(notice_id)
    if not linked:
        return
    # When each person answered each linked survey (a person answers a survey once).
    answered: dict[tuple[str, str], datetime] = {}
    for r in responses:
        survey_id = str(r.survey_id)
        if survey_id in linked:
            answered[(str(r.participant_id), survey_id)] = r.timestamp
    notice_survey = {n: s for s, notices in linked.items() for n in notices}
    notice_ids = sorted(notice_survey)
    lock_notices(cur, notice_ids)
    people = sorted({p for p, _ in answered})
    acted: list[tuple[str, str, str]] = []
    counts: defaultdict[str, int] = defaultdict(int)
    notice_marks = ", ".join("?" for _ in notice_ids)
    for start in range(0, len(people), _CHUNK):
        chunk = people[start : start + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        cur.execute(
            "SELECT notice_id, participant_id, delivered_at FROM notice_recipients"
            f" WHERE notice_id IN ({notice_marks}) AND participant_id IN ({marks}) AND acted_at IS NULL",
            (*notice_ids, *chunk),
        )
        for notice_id, participant_id, delivered_at in cur.fetchall():
            at = answered.get((participant_id, notice_survey[notice_id]))
            delivered = datetime.fromisoformat(delivered_at)
            if at is not None and delivered <= at <= delivered + ACTED_WITHIN:
                acted.append((iso(at), notice_id, participant_id))
                counts[notice_id] += 1
    if acted:
        cur.executemany("UPDATE notice_recipients SET acted_at = ? WHERE notice_id = ? AND participant_id = ?", acted)
        cur.executemany(
            "UPDATE notices SET acted = acted + ? WHERE notice_id = ?", [(n, nid) for nid, n in counts.items()]
        )
