"""Reading the co-creation read models: challenges, organisations, the pipeline and the tally."""

from datetime import date, datetime
from typing import Any

import msgspec

from domain.challenge import ChallengeStatus
from domain.organisation import OrganisationKind
from domain.proposal import AGREED, Stage
from projections.database import Database

WAITING_LIMIT_DAYS = 30
PLAN_TARGET = 10  # The plan's target: 10 new business proposals a fiscal year.


def _goals(text: str | None) -> list[int]:
    return [int(g) for g in (text or "").split(",") if g]


def _days_since(moment: str | None, now: datetime) -> int | None:
    if not moment:
        return None
    return max(0, (now - datetime.fromisoformat(moment)).days)


class ChallengeView(msgspec.Struct, kw_only=True):
    id: str
    department: str
    title: str
    background: str
    shareable_data: str
    outcomes: str
    sdg_goals: list[int]
    deadline: date
    status: ChallengeStatus
    published_at: str | None
    closed_at: str | None

    def is_open(self, today: date) -> bool:
        return self.status is ChallengeStatus.PUBLISHED and today <= self.deadline


class OrganisationView(msgspec.Struct, kw_only=True):
    id: str
    kind: OrganisationKind
    corporate_number: str | None
    name: str
    verified: bool
    registered_at: str
    member_count: int = 0


class ProposalRow(msgspec.Struct, kw_only=True):
    id: str
    title: str
    organisation_id: str
    organisation_name: str
    organisation_verified: bool
    department: str
    challenge_id: str | None
    challenge_title: str | None
    routed: bool
    sdg_goals: list[int]
    cost_yen: int
    submitted_at: str
    fiscal_year: int
    stage: Stage
    stage_since: str
    waiting_on: str | None
    waiting_since: str | None
    ended_reason: str | None
    messages: int
    consent_at: str | None
    public_summary: str | None
    summary_published_at: str | None

    @property
    def free(self) -> bool:
        return self.challenge_id is None

    @property
    def no_cost(self) -> bool:
        return self.cost_yen == 0

    def days_in_stage(self, now: datetime) -> int:
        return _days_since(self.stage_since, now) or 0

    def days_waiting(self, now: datetime) -> int | None:
        return _days_since(self.waiting_since, now) if self.waiting_on == "city" else None

    def overdue(self, now: datetime) -> bool:
        """Waiting on the city for more than 30 days."""
        days = self.days_waiting(now)
        return days is not None and days > WAITING_LIMIT_DAYS


class ProposalDetail(ProposalRow, kw_only=True):
    submitted_by: str
    summary: str
    plan: str
    effect: str
    period: str


class HistoryEntry(msgspec.Struct):
    kind: str
    stage: Stage | None
    department: str | None
    reason: str
    actor_id: str
    at: str


class Message(msgspec.Struct):
    number: int
    author_id: str
    from_city: bool
    text: str
    posted_at: str


class AttachmentView(msgspec.Struct):
    sha256: str
    name: str
    media_type: str
    size: int
    added_at: str


class TallyRow(msgspec.Struct):
    fiscal_year: int
    received: int
    waiting: int
    in_talks: int
    agreed: int
    ended: int


class PublishedSummary(msgspec.Struct):
    proposal_id: str
    fiscal_year: int
    stage: Stage
    department: str
    challenge_title: str | None
    summary: str
    published_at: str


_CHALLENGE = (
    "SELECT challenge_id, department, title, background, shareable_data, outcomes, sdg_goals, deadline, status,"
    " published_at, closed_at FROM challenges"
)
_ORGANISATION = (
    "SELECT o.organisation_id, o.kind, o.corporate_number, o.name, o.verified, o.registered_at,"
    " (SELECT COUNT(*) FROM organisation_members m WHERE m.organisation_id = o.organisation_id)"
    " FROM organisations o"
)
_ROW_COLUMNS = (
    "p.proposal_id, p.title, p.organisation_id, o.name, o.verified, p.department, p.challenge_id, c.title, p.routed,"
    " p.sdg_goals, p.cost_yen, p.submitted_at, p.fiscal_year, p.stage, p.stage_since, p.waiting_on, p.waiting_since,"
    " p.ended_reason, p.messages, p.consent_at, p.public_summary, p.summary_published_at"
)
_FROM = (
    " FROM proposals p LEFT JOIN organisations o ON o.organisation_id = p.organisation_id"
    " LEFT JOIN challenges c ON c.challenge_id = p.challenge_id"
)


def _challenge(row: Any) -> ChallengeView:
    return ChallengeView(
        id=row[0],
        department=row[1],
        title=row[2],
        background=row[3],
        shareable_data=row[4],
        outcomes=row[5],
        sdg_goals=_goals(row[6]),
        deadline=date.fromisoformat(row[7]),
        status=ChallengeStatus(row[8]),
        published_at=row[9],
        closed_at=row[10],
    )


def _organisation(row: Any) -> OrganisationView:
    return OrganisationView(
        id=row[0],
        kind=OrganisationKind(row[1]),
        corporate_number=row[2],
        name=row[3],
        verified=bool(row[4]),
        registered_at=row[5],
        member_count=row[6],
    )


def _row_fields(row: Any) -> dict[str, Any]:
    return {
        "id": row[0],
        "title": row[1],
        "organisation_id": row[2],
        "organisation_name": row[3] or "",
        "organisation_verified": bool(row[4]),
        "department": row[5],
        "challenge_id": row[6],
        "challenge_title": row[7],
        "routed": bool(row[8]),
        "sdg_goals": _goals(row[9]),
        "cost_yen": row[10],
        "submitted_at": row[11],
        "fiscal_year": row[12],
        "stage": Stage(row[13]),
        "stage_since": row[14],
        "waiting_on": row[15],
        "waiting_since": row[16],
        "ended_reason": row[17],
        "messages": row[18],
        "consent_at": row[19],
        "public_summary": row[20],
        "summary_published_at": row[21],
    }


class CoCreationReader:
    def __init__(self, db: Database) -> None:
        self.db = db

    # Challenges

    def challenges(
        self, *, statuses: tuple[ChallengeStatus, ...] = (), department: str | None = None
    ) -> list[ChallengeView]:
        sql, params = _CHALLENGE + " WHERE 1 = 1", []
        if statuses:
            sql += f" AND status IN ({', '.join('?' for _ in statuses)})"
            params += [s.value for s in statuses]
        if department:
            sql += " AND department = ?"
            params.append(department)
        return [_challenge(r) for r in self.db.query(sql + " ORDER BY deadline, title", params)]

    def open_challenges(
        self, today: date, department: str | None = None, goal: int | None = None
    ) -> list[ChallengeView]:
        sql, params = (
            _CHALLENGE + " WHERE status = ? AND deadline >= ?",
            [ChallengeStatus.PUBLISHED.value, today.isoformat()],
        )
        if department:
            sql += " AND department = ?"
            params.append(department)
        if goal:
            sql += " AND sdg_goals LIKE ?"
            params.append(f"%,{goal},%")
        return [_challenge(r) for r in self.db.query(sql + " ORDER BY deadline, title", params)]

    def challenge(self, challenge_id: str) -> ChallengeView | None:
        row = self.db.query_one(_CHALLENGE + " WHERE challenge_id = ?", (challenge_id,))
        return _challenge(row) if row else None

    # Organisations

    def organisation(self, organisation_id: str) -> OrganisationView | None:
        row = self.db.query_one(_ORGANISATION + " WHERE o.organisation_id = ?", (organisation_id,))
        return _organisation(row) if row else None

    def organisation_of(self, participant_id: str) -> OrganisationView | None:
        row = self.db.query_one(
            _ORGANISATION + " JOIN organisation_members mm ON mm.organisation_id = o.organisation_id"
            " WHERE mm.participant_id = ?",
            (participant_id,),
        )
        return _organisation(row) if row else None

    def organisations(self, *, unverified_only: bool = False) -> list[OrganisationView]:
        where = " WHERE o.verified = 0" if unverified_only else ""
        return [_organisation(r) for r in self.db.query(_ORGANISATION + where + " ORDER BY o.registered_at")]

    # Proposals

    def proposals(
        self,
        *,
        organisation_id: str | None = None,
        stage: str | None = None,
        department: str | None = None,
        challenge_id: str | None = None,
        goal: int | None = None,
        fiscal_year: int | None = None,
        free_only: bool = False,
        limit: int = 1000,
    ) -> list[ProposalRow]:
        sql, params = "SELECT " + _ROW_COLUMNS + _FROM + " WHERE 1 = 1", []
        for column, value in (
            ("p.organisation_id", organisation_id),
            ("p.stage", stage),
            ("p.department", department),
            ("p.challenge_id", challenge_id),
            ("p.fiscal_year", fiscal_year),
        ):
            if value is not None and value != "":
                sql += f" AND {column} = ?"
                params.append(value)
        if goal:
            sql += " AND p.sdg_goals LIKE ?"
            params.append(f"%,{goal},%")
        if free_only:
            sql += " AND p.challenge_id IS NULL"
        sql += " ORDER BY p.submitted_at DESC LIMIT ?"
        params.append(limit)
        return [ProposalRow(**_row_fields(r)) for r in self.db.query(sql, params)]

    def proposal(self, proposal_id: str) -> ProposalDetail | None:
        row = self.db.query_one(
            "SELECT " + _ROW_COLUMNS + ", p.submitted_by, p.summary, p.plan, p.effect, p.period" + _FROM
            + " WHERE p.proposal_id = ?",
            (proposal_id,),
        )  # fmt: skip
        if row is None:
            return None
        return ProposalDetail(
            **_row_fields(row), submitted_by=row[22], summary=row[23], plan=row[24], effect=row[25], period=row[26]
        )

    def history(self, proposal_id: str) -> list[HistoryEntry]:
        rows = self.db.query(
            "SELECT kind, stage, department, reason, actor_id, at FROM proposal_history WHERE proposal_id = ?"
            " ORDER BY position",
            (proposal_id,),
        )
        return [HistoryEntry(r[0], Stage(r[1]) if r[1] else None, r[2], r[3] or "", r[4], r[5]) for r in rows]

    def messages(self, proposal_id: str) -> list[Message]:
        rows = self.db.query(
            "SELECT number, author_id, from_city, text, posted_at FROM proposal_messages WHERE proposal_id = ?"
            " ORDER BY number",
            (proposal_id,),
        )
        return [Message(r[0], r[1], bool(r[2]), r[3], r[4]) for r in rows]

    def attachments(self, proposal_id: str) -> list[AttachmentView]:
        rows = self.db.query(
            "SELECT sha256, name, media_type, size, added_at FROM proposal_attachments WHERE proposal_id = ?"
            " ORDER BY added_at",
            (proposal_id,),
        )
        return [AttachmentView(*r) for r in rows]

    def attachment(self, proposal_id: str, sha256: str) -> AttachmentView | None:
        row = self.db.query_one(
            "SELECT sha256, name, media_type, size, added_at FROM proposal_attachments"
            " WHERE proposal_id = ? AND sha256 = ?",
            (proposal_id, sha256),
        )
        return AttachmentView(*row) if row else None

    def departments(self) -> list[str]:
        rows = self.db.query(
            "SELECT DISTINCT department FROM proposals UNION SELECT DISTINCT department FROM challenges"
        )
        return sorted(r[0] for r in rows)

    def fiscal_years(self) -> list[int]:
        return [r[0] for r in self.db.query("SELECT DISTINCT fiscal_year FROM proposals ORDER BY fiscal_year DESC")]

    def new_in_fiscal_year(self, year: int) -> int:
        row = self.db.query_one("SELECT COUNT(*) FROM proposals WHERE fiscal_year = ?", (year,))
        return int(row[0]) if row else 0

    def tally(self) -> list[TallyRow]:
        """Per fiscal year of submission: received, and where those proposals stand now."""
        agreed = ", ".join(f"'{s.value}'" for s in sorted(AGREED))
        rows = self.db.query(
            "SELECT fiscal_year, COUNT(*),"
            f" SUM(CASE WHEN stage = '{Stage.RECEIVED.value}' THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN stage = '{Stage.IN_DIALOGUE.value}' THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN stage IN ({agreed}) THEN 1 ELSE 0 END),"
            f" SUM(CASE WHEN stage = '{Stage.ENDED.value}' THEN 1 ELSE 0 END)"
            " FROM proposals GROUP BY fiscal_year ORDER BY fiscal_year DESC"
        )
        return [TallyRow(*(int(v) for v in r)) for r in rows]

    def published_summaries(self) -> list[PublishedSummary]:
        rows = self.db.query(
            "SELECT p.proposal_id, p.fiscal_year, p.stage, p.department, c.title, p.public_summary,"
            " p.summary_published_at FROM proposals p LEFT JOIN challenges c ON c.challenge_id = p.challenge_id"
            " WHERE p.public_summary IS NOT NULL ORDER BY p.summary_published_at DESC"
        )
        return [PublishedSummary(r[0], r[1], Stage(r[2]), r[3], r[4], r[5], r[6]) for r in rows]
