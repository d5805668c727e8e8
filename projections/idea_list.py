"""Reading citizens' ideas: the public list with filters, sorts, search and paging; one idea with
its comments and history; the staff list of a department.

The list costs the same for a hundred thousand ideas as for a thousand: each sort walks an index
of `ideas` in order and stops at LIMIT (+1, to know whether a next page exists), and the counts
shown are columns the projection keeps. Nothing counts supports or comments when reading.
"""

from typing import Any

import msgspec

from domain.idea_values import IdeaStatus
from domain.values import Ward
from projections.database import Database
from projections.ideas import bigrams, normalise

SORTS = {
    "newest": ("", "i.submitted_at DESC, i.idea_id DESC"),
    "supported": ("", "i.support_count DESC, i.submitted_at DESC, i.idea_id DESC"),
    "answered": ("i.answered_at IS NOT NULL", "i.answered_at DESC, i.idea_id DESC"),
}
SORT_LABELS = {"newest": "新着順", "supported": "賛同の多い順", "answered": "回答の新しい順"}
MAX_LIMIT = 100
MAX_OFFSET = 10_000
MAX_TERMS = 5
MAX_TERM = 40


class IdeaSummary(msgspec.Struct, kw_only=True):
    id: str
    title: str
    excerpt: str
    department: str
    sdg_goals: list[int]
    ward: Ward | None
    status: IdeaStatus
    support_count: int
    comment_count: int
    submitted_at: str
    answered_at: str | None
    erased: bool

    @property
    def status_label(self) -> str:
        return self.status.label


class IdeaDetail(IdeaSummary, kw_only=True):
    author_id: str
    body: str
    status_reason: str
    status_changed_at: str | None
    answer: str | None
    listed: bool
    responded: bool
    draft_answer: str | None = None
    drafted_at: str | None = None


class IdeaPage(msgspec.Struct, kw_only=True):
    items: list[IdeaSummary]
    limit: int
    offset: int
    has_more: bool


class CommentView(msgspec.Struct, kw_only=True):
    id: str
    idea_id: str
    parent_id: str | None
    author_id: str
    text: str | None
    posted_at: str
    hidden: bool
    hidden_reason: str | None
    hidden_at: str | None
    erased: bool
    report_count: int
    replies: list["CommentView"] = []


class HistoryEntry(msgspec.Struct, kw_only=True):
    at: str
    kind: str
    detail: dict[str, Any]


class Filters(msgspec.Struct, kw_only=True):
    status: IdeaStatus | None = None
    department: str | None = None
    goal: int | None = None
    ward: Ward | None = None
    q: str = ""
    sort: str = "newest"


_SUMMARY = (
    "i.idea_id, i.title, i.body, i.department, i.sdg_goals, i.ward, i.status, i.support_count, i.comment_count,"
    " i.submitted_at, i.answered_at, i.erased"
)
_DETAIL = (
    _SUMMARY + ", i.author_id, i.status_reason, i.status_changed_at, i.answer, i.listed, i.responded,"
    " i.draft_answer, i.drafted_at"
)
_GOALS = msgspec.json.Decoder(list[int])


def _summary_fields(row: tuple[Any, ...]) -> dict[str, Any]:
    body = row[2]
    return dict(
        id=row[0],
        title=row[1],
        excerpt=body if len(body) <= 90 else body[:89] + "…",
        department=row[3],
        sdg_goals=_GOALS.decode(row[4]),
        ward=Ward(row[5]) if row[5] else None,
        status=IdeaStatus(row[6]),
        support_count=int(row[7]),
        comment_count=int(row[8]),
        submitted_at=row[9],
        answered_at=row[10],
        erased=bool(row[11]),
    )


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_terms(q: str) -> list[str]:
    """The query's words, normalised like the index, at most MAX_TERMS of MAX_TERM characters."""
    return [t[:MAX_TERM] for t in normalise(q).split()][:MAX_TERMS]


class IdeaList:
    def __init__(self, db: Database) -> None:
        self.db = db

    def page(self, filters: Filters, *, limit: int = 20, offset: int = 0) -> IdeaPage:
        limit = max(1, min(limit, MAX_LIMIT))
        offset = max(0, min(offset, MAX_OFFSET))
        sort_where, order = SORTS.get(filters.sort, SORTS["newest"])
        where, params = ["i.listed = 1"], []
        if sort_where:
            where.append(sort_where)
        if filters.status:
            where.append("i.status = ?")
            params.append(IdeaStatus(filters.status).value)
        if filters.department:
            where.append("i.department = ?")
            params.append(filters.department)
        if filters.ward:
            where.append("i.ward = ?")
            params.append(Ward(filters.ward).value)
        if filters.goal:
            where.append("EXISTS (SELECT 1 FROM idea_goals g WHERE g.idea_id = i.idea_id AND g.goal = ?)")
            params.append(filters.goal)
        for term in search_terms(filters.q):
            grams = sorted(bigrams(term))
            if grams:
                # Ideas holding every bigram of the word, then the exact substring among those.
                marks = ", ".join("?" for _ in grams)
                where.append(
                    f"i.idea_id IN (SELECT idea_id FROM idea_grams WHERE gram IN ({marks})"
                    " GROUP BY idea_id HAVING COUNT(*) = ?)"
                )
                params.extend([*grams, len(grams)])
            where.append("i.search_text LIKE ? ESCAPE '\\'")
            params.append(_like(term))
        sql = f"SELECT {_SUMMARY} FROM ideas i WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ? OFFSET ?"
        rows = self.db.query(sql, (*params, limit + 1, offset))
        items = [IdeaSummary(**_summary_fields(r)) for r in rows[:limit]]
        return IdeaPage(items=items, limit=limit, offset=offset, has_more=len(rows) > limit)

    def idea(self, idea_id: str) -> IdeaDetail | None:
        row = self.db.query_one(f"SELECT {_DETAIL} FROM ideas i WHERE i.idea_id = ?", (idea_id,))
        return self._detail(row) if row else None

    def comments(self, idea_id: str, limit: int = 500) -> list[CommentView]:
        """Top-level comments in order, each with its replies; hidden ones keep their reason only."""
        rows = self.db.query(
            "SELECT comment_id, idea_id, parent_id, author_id, text, posted_at, hidden, hidden_reason, hidden_at,"
            " erased, report_count FROM idea_comments WHERE idea_id = ? ORDER BY posted_at, comment_id LIMIT ?",
            (idea_id, limit),
        )
        top: list[CommentView] = []
        by_id: dict[str, CommentView] = {}
        for r in rows:
            hidden = bool(r[6])
            comment = CommentView(
                id=r[0],
                idea_id=r[1],
                parent_id=r[2],
                author_id=r[3],
                text=None if hidden else r[4],
                posted_at=r[5],
                hidden=hidden,
                hidden_reason=r[7],
                hidden_at=r[8],
                erased=bool(r[9]),
                report_count=int(r[10]),
                replies=[],
            )
            by_id[comment.id] = comment
            parent = by_id.get(comment.parent_id) if comment.parent_id else None
            if parent is not None:
                parent.replies.append(comment)
            else:
                top.append(comment)
        return top

    def history(self, idea_id: str) -> list[HistoryEntry]:
        rows = self.db.query(
            "SELECT at, kind, detail FROM idea_history WHERE idea_id = ? ORDER BY position", (idea_id,)
        )
        return [HistoryEntry(at=r[0], kind=r[1], detail=msgspec.json.decode(r[2])) for r in rows]

    def for_department(
        self, department: str | None, status: IdeaStatus | None = None, limit: int = 200
    ) -> list[IdeaDetail]:
        """Staff's list: every idea of the department (all departments for None), withdrawn ones too."""
        where, params = [], []
        if department:
            where.append("i.department = ?")
            params.append(department)
        if status:
            where.append("i.status = ?")
            params.append(status.value)
        sql = f"SELECT {_DETAIL} FROM ideas i"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY i.submitted_at DESC, i.idea_id DESC LIMIT ?"
        return [self._detail(r) for r in self.db.query(sql, (*params, limit))]

    def _detail(self, row: tuple[Any, ...]) -> IdeaDetail:
        return IdeaDetail(
            **_summary_fields(row),
            body=row[2],
            author_id=row[12],
            status_reason=row[13],
            status_changed_at=row[14],
            answer=row[15],
            listed=bool(row[16]),
            responded=bool(row[17]),
            draft_answer=row[18],
            drafted_at=row[19],
        )
