"""Reading targeted notices: who a segment reaches, the inbox, and the reach of what was sent.

Reach is opened ÷ targeted: targeted is the number of people the segment reached when the notice
was sent (the Sent event's count); delivered is how many inbox rows the send job has written;
opened counts an inbox read or a followed e-mail link, once per person; acted counts those who
answered the linked survey within 7 days of delivery.
"""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec

from domain.notice import LINK_LABELS, LinkKind, OpenedHow, Segment
from domain.values import AGE_BAND_LABELS, ROLE_LABELS, WARD_LABELS
from projections.database import Cursor, Database

SMALL = 5
SMALL_LABEL = "5人未満"
_segment = msgspec.json.Decoder(Segment)


def people(n: int) -> str:
    """A count of people as staff may see it: under 5 never exactly, so that narrowing a segment
    step by step cannot single anyone out."""
    return SMALL_LABEL if n < SMALL else f"{n:,}人"


def _escape_like(text: str) -> str:
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def segment_filter(segment: Segment) -> tuple[str, list[Any]]:
    """The WHERE clause over `participants` (the shared read model) that the segment means."""
    clauses = ["p.erased = 0"]
    params: list[Any] = []

    def any_of(column: str, values: Sequence[str]) -> None:
        clauses.append(f"p.{column} IN ({', '.join('?' for _ in values)})")
        params.extend(values)

    if segment.wards:
        any_of("ward", [w.value for w in segment.wards])
    if segment.age_bands:
        any_of("age_band", [a.value for a in segment.age_bands])
    if segment.has_children is not None:
        clauses.append("p.has_children = ?")
        params.append(int(segment.has_children))
    if segment.roles:
        any_of("role", [r.value for r in segment.roles])
    if segment.follows_goals:
        clauses.append("(p.follows_goals & ?) <> 0")
        params.append(segment.goal_mask)
    if segment.follows_departments:
        # One department per line: a whole line matches, never a part of one.
        matches = []
        for department in segment.follows_departments:
            matches.append("(? || p.follows_departments || ?) LIKE ? ESCAPE '!'")
            params.extend(["\n", "\n", f"%\n{_escape_like(department)}\n%"])
        clauses.append("(" + " OR ".join(matches) + ")")
    if segment.not_answered_survey_id is not None:
        clauses.append(
            "NOT EXISTS (SELECT 1 FROM participant_responses r"
            " WHERE r.participant_id = p.participant_id AND r.survey_id = ?)"
        )
        params.append(str(segment.not_answered_survey_id))
    return " AND ".join(clauses), params


def count_segment(db: Database, segment: Segment) -> int:
    where, params = segment_filter(segment)
    row = db.query_one(f"SELECT COUNT(*) FROM participants p WHERE {where}", params)
    return int(row[0]) if row else 0


def resolve_segment(db: Database, segment: Segment) -> list[tuple[str, bool]]:
    """Everyone the segment reaches now, as (participant id, opted in to e-mail), in id order."""
    where, params = segment_filter(segment)
    rows = db.query(
        f"SELECT p.participant_id, p.email_opt_in FROM participants p WHERE {where} ORDER BY p.participant_id",
        params,
    )
    return [(str(pid), bool(opt_in)) for pid, opt_in in rows]


def describe_segment(segment: Segment, survey_title: str | None = None) -> str:
    """The segment in a line of Japanese, for staff pages."""
    parts = []
    if segment.wards:
        parts.append("地区: " + "・".join(WARD_LABELS[w] for w in segment.wards))
    if segment.age_bands:
        parts.append("年代: " + "・".join(AGE_BAND_LABELS[a] for a in segment.age_bands))
    if segment.has_children is not None:
        parts.append("18歳未満の子ども: " + ("あり" if segment.has_children else "なし"))
    if segment.roles:
        parts.append("区分: " + "・".join(ROLE_LABELS[r] for r in segment.roles))
    if segment.follows_goals:
        parts.append("フォロー中のSDGs目標: " + "・".join(str(g) for g in segment.follows_goals))
    if segment.follows_departments:
        parts.append("フォロー中の部署: " + "・".join(segment.follows_departments))
    if segment.not_answered_survey_id is not None:
        parts.append(f"未回答: {survey_title or 'アンケート'}")
    return "／".join(parts) if parts else "登録者全員"


class NoticeView(msgspec.Struct, kw_only=True):
    id: str
    department: str
    title: str
    body: str
    link_kind: LinkKind | None
    link_id: str | None
    drafted_at: str
    sent_at: str | None
    fiscal_year: int | None
    segment: Segment | None
    targeted: int
    delivered: int
    opened: int
    opened_by_email: int
    acted: int
    job_id: str | None

    @property
    def sent(self) -> bool:
        return self.sent_at is not None

    @property
    def small(self) -> bool:
        """Too few recipients to show their behaviour: the numbers would be about individuals."""
        return self.sent and self.targeted < SMALL

    @property
    def reach(self) -> float | None:
        return self.opened / self.targeted if self.targeted else None

    @property
    def acts_counted(self) -> bool:
        return self.link_kind is LinkKind.SURVEY

    @property
    def link_label(self) -> str:
        return LINK_LABELS[self.link_kind] if self.link_kind else ""


class InboxItem(msgspec.Struct, kw_only=True):
    notice_id: str
    title: str
    body: str
    department: str
    link_kind: LinkKind | None
    link_id: str | None
    delivered_at: str
    opened_at: str | None
    opened_how: OpenedHow | None

    @property
    def unread(self) -> bool:
        return self.opened_at is None


class Rollup(msgspec.Struct, kw_only=True):
    """Sent notices added up: per fiscal year, or per segment."""

    label: str
    notices: int
    targeted: int
    delivered: int
    opened: int
    acted: int
    acts_targeted: int  # targeted, over the notices whose acting is counted (a linked survey)

    @property
    def small(self) -> bool:
        return self.targeted < SMALL

    @property
    def reach(self) -> float | None:
        return self.opened / self.targeted if self.targeted else None


class JobView(msgspec.Struct, kw_only=True):
    id: str
    notice_id: str
    total: int
    done: int
    emailed: int
    finished_at: str | None
    error: str | None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None or self.error is not None

    @property
    def percent(self) -> int:
        return 100 if self.finished_at else (self.done * 100 // self.total if self.total else 0)


_NOTICE_COLUMNS = (
    "n.notice_id, n.department, n.title, n.body, n.link_kind, n.link_id, n.drafted_at, n.sent_at, n.fiscal_year,"
    " n.segment, n.targeted, COALESCE(j.done, 0), n.opened, n.opened_by_email, n.acted, n.job_id"
)
_FROM = "FROM notices n LEFT JOIN notice_jobs j ON j.job_id = n.job_id"


def _notice(row: Sequence[Any]) -> NoticeView:
    (nid, department, title, body, kind, link_id, drafted_at, sent_at, year, segment, targeted, delivered,
     opened, by_email, acted, job_id) = row  # fmt: skip
    return NoticeView(
        id=nid, department=department, title=title, body=body, link_kind=LinkKind(kind) if kind else None,
        link_id=link_id, drafted_at=drafted_at, sent_at=sent_at, fiscal_year=year,
        segment=_segment.decode(segment) if segment else None, targeted=int(targeted), delivered=int(delivered),
        opened=int(opened), opened_by_email=int(by_email), acted=int(acted), job_id=job_id,
    )  # fmt: skip


def notices(db: Database, department: str | None = None) -> list[NoticeView]:
    """Every notice (of one department), newest first; drafts too."""
    where, params = ("WHERE n.department = ?", [department]) if department else ("", [])
    rows = db.query(f"SELECT {_NOTICE_COLUMNS} {_FROM} {where} ORDER BY n.drafted_at DESC, n.notice_id", params)
    return [_notice(r) for r in rows]


def notice(db: Database, notice_id: str) -> NoticeView | None:
    row = db.query_one(f"SELECT {_NOTICE_COLUMNS} {_FROM} WHERE n.notice_id = ?", (notice_id,))
    return _notice(row) if row else None


def _rollup(rows: list[Sequence[Any]], label: str) -> Rollup:
    return Rollup(
        label=label,
        notices=len(rows),
        targeted=sum(r[0] for r in rows),
        delivered=sum(r[1] for r in rows),
        opened=sum(r[2] for r in rows),
        acted=sum(r[3] for r in rows),
        acts_targeted=sum(r[0] for r in rows if r[4] == LinkKind.SURVEY.value),
    )


def _sent_rows(db: Database, department: str | None) -> list[Sequence[Any]]:
    where = "n.sent_at IS NOT NULL" + (" AND n.department = ?" if department else "")
    return db.query(
        "SELECT n.targeted, COALESCE(j.done, 0), n.opened, n.acted, n.link_kind, n.fiscal_year, n.segment"
        f" {_FROM} WHERE {where}",
        [department] if department else [],
    )


def by_fiscal_year(db: Database, department: str | None = None) -> list[tuple[int, Rollup]]:
    """The sent notices added up per fiscal year, oldest first."""
    years: dict[int, list[Sequence[Any]]] = {}
    for row in _sent_rows(db, department):
        years.setdefault(int(row[5]), []).append(row)
    return [(year, _rollup(rows, f"{year}年度")) for year, rows in sorted(years.items())]


def by_segment(db: Database, department: str | None = None, titles: dict[str, str] | None = None) -> list[Rollup]:
    """The sent notices added up per segment (notices sent to the same definition together)."""
    groups: dict[str, list[Sequence[Any]]] = {}
    for row in _sent_rows(db, department):
        groups.setdefault(row[6], []).append(row)
    found = []
    for text, rows in groups.items():
        segment = _segment.decode(text)
        survey = str(segment.not_answered_survey_id) if segment.not_answered_survey_id else None
        found.append(_rollup(rows, describe_segment(segment, (titles or {}).get(survey or ""))))
    return sorted(found, key=lambda r: (-r.targeted, r.label))


def reach_by_fiscal_year(db: Database, fiscal_year: int) -> tuple[int, int]:
    """(targeted, opened) over the notices sent in that fiscal year, for the KPI dashboard."""
    row = db.query_one(
        "SELECT COALESCE(SUM(targeted), 0), COALESCE(SUM(opened), 0) FROM notices"
        " WHERE fiscal_year = ? AND sent_at IS NOT NULL",
        (fiscal_year,),
    )
    return (int(row[0]), int(row[1])) if row else (0, 0)


def survey_titles(db: Database, survey_ids: Sequence[str]) -> dict[str, str]:
    ids = sorted(set(survey_ids))
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = db.query(f"SELECT survey_id, title FROM surveys WHERE survey_id IN ({marks})", ids)
    return {str(sid): str(title) for sid, title in rows}


def inbox(db: Database, participant_id: str, limit: int = 50, offset: int = 0) -> list[InboxItem]:
    rows = db.query(
        "SELECT n.notice_id, n.title, n.body, n.department, n.link_kind, n.link_id, r.delivered_at, r.opened_at,"
        " r.opened_how FROM notice_recipients r JOIN notices n ON n.notice_id = r.notice_id"
        " WHERE r.participant_id = ? ORDER BY r.delivered_at DESC, r.notice_id LIMIT ? OFFSET ?",
        (participant_id, limit, offset),
    )
    return [_inbox_item(r) for r in rows]


def inbox_item(db: Database, participant_id: str, notice_id: str) -> InboxItem | None:
    """The notice as delivered to this person; None if it was not delivered to them."""
    row = db.query_one(
        "SELECT n.notice_id, n.title, n.body, n.department, n.link_kind, n.link_id, r.delivered_at, r.opened_at,"
        " r.opened_how FROM notice_recipients r JOIN notices n ON n.notice_id = r.notice_id"
        " WHERE r.participant_id = ? AND r.notice_id = ?",
        (participant_id, notice_id),
    )
    return _inbox_item(row) if row else None


def _inbox_item(row: Sequence[Any]) -> InboxItem:
    nid, title, body, department, kind, link_id, delivered_at, opened_at, how = row
    return InboxItem(
        notice_id=nid, title=title, body=body, department=department, link_kind=LinkKind(kind) if kind else None,
        link_id=link_id, delivered_at=delivered_at, opened_at=opened_at, opened_how=OpenedHow(how) if how else None,
    )  # fmt: skip


def unread_count(db: Database, participant_id: str) -> int:
    row = db.query_one(
        "SELECT COUNT(*) FROM notice_recipients WHERE participant_id = ? AND opened_at IS NULL", (participant_id,)
    )
    return int(row[0]) if row else 0


def job(db: Database, job_id: str) -> JobView | None:
    row = db.query_one(
        "SELECT job_id, notice_id, total, done, emailed, finished_at, error FROM notice_jobs WHERE job_id = ?",
        (job_id,),
    )
    if row is None:
        return None
    jid, nid, total, done, emailed, finished_at, error = row
    return JobView(
        id=jid, notice_id=nid, total=int(total), done=int(done), emailed=int(emailed), finished_at=finished_at,
        error=error,
    )  # fmt: skip


def running_job(db: Database, notice_id: str) -> str | None:
    row = db.query_one(
        "SELECT job_id FROM notice_jobs WHERE notice_id = ? AND finished_at IS NULL AND error IS NULL", (notice_id,)
    )
    return str(row[0]) if row else None


def link_choices(db: Database, department: str | None) -> dict[LinkKind, list[tuple[str, str]]]:
    """What a notice may link to, as (id, title): published surveys, the department's published
    challenges and newest ideas, and the SDGs menus."""
    dept = department or ""
    return {
        LinkKind.SURVEY: [
            (str(i), t)
            for i, t in db.query(
                "SELECT survey_id, title FROM surveys WHERE status IN ('published', 'closed') ORDER BY drafted_at DESC"
            )
        ],
        LinkKind.CHALLENGE: [
            (str(i), t)
            for i, t in db.query(
                "SELECT challenge_id, title FROM challenges WHERE status = 'published' AND department = ?"
                " ORDER BY deadline",
                (dept,),
            )
        ],
        LinkKind.IDEA: [
            (str(i), t)
            for i, t in db.query(
                "SELECT idea_id, title FROM ideas WHERE department = ? AND listed = 1 AND erased = 0"
                " ORDER BY submitted_at DESC LIMIT 50",
                (dept,),
            )
        ],
        LinkKind.MENU: [(str(i), t) for i, t in db.query("SELECT menu_id, name FROM points_menus ORDER BY name")],
    }


def link_path(kind: LinkKind | None, link_id: str | UUID | None) -> str | None:
    """Where a notice's link takes a citizen."""
    if kind is None or link_id is None:
        return None
    return {
        LinkKind.SURVEY: f"/surveys/{link_id}",
        LinkKind.IDEA: f"/ideas/{link_id}",
        LinkKind.CHALLENGE: f"/challenges/{link_id}",
        LinkKind.MENU: "/points/menus",
    }[kind]


# What the send job writes (web/notice_jobs.py), in the caller's transaction.

RECIPIENT_COLUMNS = [
    ("notice_id", "text"),
    ("participant_id", "text"),
    ("delivered_at", "text"),
    ("emailed", "integer"),
]


def write_recipients(cur: Cursor, notice_id: str, delivered_at: str, recipients: Sequence[tuple[str, bool]]) -> int:
    """Delivers to these recipients' inboxes (once each); returns how many rows are new."""
    rows = [(notice_id, pid, delivered_at, int(opt_in)) for pid, opt_in in recipients]
    cur.insert_many("notice_recipients", RECIPIENT_COLUMNS, rows, "ON CONFLICT (notice_id, participant_id) DO NOTHING")
    return len(rows)
