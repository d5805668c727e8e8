"""Reading the points ledger for the people who earn and spend: their history, the SDG goals they
contributed to, the public menus, the rewards on offer, and one award or voucher of theirs.

Balances are not read here: the person's PointsAccount aggregate is the authority on them (the
read model may lag a write by a moment); this module only says where the points came from and went.
"""

from datetime import date
from typing import Any

import msgspec

from domain.points_ledger import SourceKind
from domain.points_menu import Limit, Trigger
from domain.values import SDG_GOALS
from projections.database import Database
from projections.points import goals_of

MAX_HISTORY_PAGE = 200


class HistoryEntry(msgspec.Struct, kw_only=True):
    """One line of a person's points history: an award (kind "award") or a spending ("reward",
    "transfer"). `points` is positive for an award and negative for a spending."""

    kind: str
    id: str
    position: int
    at: str
    points: int
    # An award's
    earned_on: date | None = None
    menu_id: str | None = None
    menu_name: str | None = None
    reason: str = ""
    source_kind: SourceKind | None = None
    sdg_goals: list[int] = []
    expires_on: date | None = None
    # What is left of the award: the ledger's figure (PointsAccount.lots), set by whoever reads the
    # account for the balance; as written, the award's points.
    remaining: int = 0
    revoked_at: str | None = None
    revoke_reason: str | None = None
    points_revoked: int = 0
    # A spending's
    reward_name: str | None = None
    partner: str | None = None
    paid_out: bool = False

    @property
    def voucher(self) -> str | None:
        return voucher_number(self.id) if self.kind == "reward" else None

    def expired_points(self, today: date) -> int:
        """Points of this award that nobody can spend any more because their day has passed."""
        if self.kind != "award" or self.expires_on is None or self.expires_on >= today:
            return 0
        return self.remaining


class HistoryPage(msgspec.Struct):
    entries: list[HistoryEntry]
    offset: int
    limit: int
    has_more: bool


class GoalTotal(msgspec.Struct):
    goal: int
    name: str
    points: int
    awards: int


class MenuView(msgspec.Struct, kw_only=True):
    id: str
    name: str
    trigger: Trigger
    department: str
    sdg_goals: list[int]
    points: int
    valid_from: date
    valid_until: date
    limit: Limit
    per_year: int
    expires_after_days: int | None
    funder_name: str | None
    budget_left: int

    @property
    def how_to_earn(self) -> str:
        return HOW_TO_EARN[self.trigger]

    @property
    def limit_label(self) -> str:
        return f"年度内{self.per_year}回まで" if self.limit is Limit.PER_YEAR else self.limit.label

    @property
    def expiry_label(self) -> str:
        if self.expires_after_days is None:
            return "獲得した年度の末日（3月31日）まで"
        return f"獲得した日から{self.expires_after_days}日間"

    @property
    def budget_reached(self) -> bool:
        """No award of this menu fits in what is left of this fiscal year's budget."""
        return self.budget_left < self.points

    def started(self, today: date) -> bool:
        return self.valid_from <= today


HOW_TO_EARN = {
    Trigger.SURVEY_ANSWERED: "対象の市政アンケートに回答すると自動で付与されます。",
    Trigger.IDEA_ADOPTED: "投稿した市民の提案が「実施決定」になると自動で付与されます。",
    Trigger.PROPOSAL_AGREED: "事業者提案が「協定締結」に至ると自動で付与されます。",
    Trigger.VENUE_CODE: "会場で掲示されるQRコードを読み取るか、コードを入力して受け取ります。",
    Trigger.BULK: "参加者名簿（例: 健診の受診記録）にもとづき、市がまとめて付与します。",
}


class RewardView(msgspec.Struct, kw_only=True):
    id: str
    name: str
    partner: str
    points: int
    stock_left: int | None  # None: no stock limit

    @property
    def out_of_stock(self) -> bool:
        return self.stock_left is not None and self.stock_left <= 0


class AwardView(msgspec.Struct, kw_only=True):
    id: str
    menu_id: str
    menu_name: str
    reason: str
    points: int
    earned_on: date
    expires_on: date


class VoucherView(msgspec.Struct, kw_only=True):
    spending_id: str
    reward_id: str
    reward_name: str
    partner: str
    points: int
    spent_at: str

    @property
    def number(self) -> str:
        return voucher_number(self.spending_id)


def voucher_number(spending_id: str) -> str:
    """The 引換番号 a shop checks: the spending id's first eight hex digits, upper-case."""
    return spending_id.replace("-", "")[:8].upper()


_HISTORY = (
    "SELECT 'award', a.award_id, a.position, a.awarded_at, a.earned_on, a.points, a.reason,"
    " a.source_kind, a.expires_on, v.revoked_at, v.reason, COALESCE(v.points, 0), a.menu_id, m.name,"
    " CAST(NULL AS TEXT), CAST(NULL AS TEXT)"
    " FROM points_awards a LEFT JOIN points_menus m ON m.menu_id = a.menu_id"
    " LEFT JOIN points_revocations v ON v.award_id = a.award_id WHERE a.participant_id = ?"
    " UNION ALL"
    " SELECT s.purpose, s.spending_id, s.position, s.spent_at, CAST(NULL AS TEXT), s.points, '',"
    " CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), CAST(NULL AS TEXT), 0, CAST(NULL AS TEXT),"
    " r.name, r.partner, t.batch_id"
    " FROM points_spendings s LEFT JOIN points_rewards r ON r.reward_id = s.reference"
    " LEFT JOIN points_transfers t ON t.transfer_id = s.reference WHERE s.participant_id = ?"
    " ORDER BY 3 DESC LIMIT ? OFFSET ?"
)


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _entry(row: Any) -> HistoryEntry:
    kind = row[0]
    if kind == "award":
        return HistoryEntry(
            kind=kind,
            id=row[1],
            position=row[2],
            at=row[3],
            earned_on=_day(row[4]),
            points=row[5],
            remaining=row[5],
            reason=row[6],
            source_kind=SourceKind(row[7]),
            expires_on=_day(row[8]),
            revoked_at=row[9],
            revoke_reason=row[10],
            points_revoked=row[11],
            menu_id=row[12],
            menu_name=row[13],
        )
    return HistoryEntry(
        kind=kind,
        id=row[1],
        position=row[2],
        at=row[3],
        points=-row[5],
        reward_name=row[13],
        partner=row[14],
        paid_out=row[15] is not None,
    )


class MyPoints:
    """Queries over the points_* tables for one person's pages and the public lists."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def history(self, participant_id: str, *, limit: int = 50, offset: int = 0) -> HistoryPage:
        """Awards and spendings, newest first (in the order the log recorded them)."""
        limit = max(1, min(limit, MAX_HISTORY_PAGE))
        offset = max(0, offset)
        rows = self.db.query(_HISTORY, (participant_id, participant_id, limit + 1, offset))
        entries = [_entry(row) for row in rows[:limit]]
        awards = [e.id for e in entries if e.kind == "award"]
        if awards:
            marks = ", ".join("?" for _ in awards)
            goals = {
                award: goals_of(int(bits))
                for award, bits in self.db.query(
                    f"SELECT award_id, goal_bits FROM points_awards WHERE award_id IN ({marks})", awards
                )
            }
            for entry in entries:
                entry.sdg_goals = goals.get(entry.id, [])
        return HistoryPage(entries=entries, offset=offset, limit=limit, has_more=len(rows) > limit)

    def goals(self, participant_id: str) -> list[GoalTotal]:
        """All 17 goals with the points and awards (not revoked) that contributed to each; an award
        for several goals counts in full for each of them."""
        rows = self.db.query(
            "SELECT a.goal_bits, SUM(a.points), COUNT(*) FROM points_awards a"
            " LEFT JOIN points_revocations v ON v.award_id = a.award_id"
            " WHERE a.participant_id = ? AND v.award_id IS NULL GROUP BY a.goal_bits",
            (participant_id,),
        )
        found: dict[int, tuple[int, int]] = {}
        for bits, points, count in rows:
            for goal in goals_of(int(bits)):
                had_points, had_count = found.get(goal, (0, 0))
                found[goal] = (had_points + int(points), had_count + int(count))
        return [GoalTotal(goal, name, *found.get(goal, (0, 0))) for goal, name in SDG_GOALS.items()]

    def award(self, participant_id: str, award_id: str) -> AwardView | None:
        row = self.db.query_one(
            "SELECT a.award_id, a.menu_id, m.name, a.reason, a.points, a.earned_on, a.expires_on"
            " FROM points_awards a LEFT JOIN points_menus m ON m.menu_id = a.menu_id"
            " WHERE a.award_id = ? AND a.participant_id = ?",
            (award_id, participant_id),
        )
        if row is None:
            return None
        return AwardView(
            id=row[0],
            menu_id=row[1],
            menu_name=row[2] or "",
            reason=row[3],
            points=row[4],
            earned_on=date.fromisoformat(row[5]),
            expires_on=date.fromisoformat(row[6]),
        )

    def voucher(self, participant_id: str, spending_id: str) -> VoucherView | None:
        row = self.db.query_one(
            "SELECT s.spending_id, s.reference, r.name, r.partner, s.points, s.spent_at"
            " FROM points_spendings s LEFT JOIN points_rewards r ON r.reward_id = s.reference"
            " WHERE s.spending_id = ? AND s.participant_id = ? AND s.purpose = 'reward'",
            (spending_id, participant_id),
        )
        if row is None:
            return None
        return VoucherView(
            spending_id=row[0],
            reward_id=row[1],
            reward_name=row[2] or "",
            partner=row[3] or "",
            points=row[4],
            spent_at=row[5],
        )

    def menus(self, today: date, fiscal_year: int, goal: int | None = None) -> list[MenuView]:
        """The menus that are running or about to start (ended ones are left out), by name."""
        rows = self.db.query(
            "SELECT m.menu_id, m.name, m.trigger, m.department, m.sdg_goals, m.points, m.valid_from,"
            " m.valid_until, m.limit_kind, m.per_year, m.expires_after_days, o.name, m.budget - COALESCE(b.spent, 0)"
            " FROM points_menus m LEFT JOIN organisations o ON o.organisation_id = m.funder_id"
            " LEFT JOIN points_budgets b ON b.menu_id = m.menu_id AND b.fiscal_year = ?"
            " WHERE m.valid_until >= ? ORDER BY m.valid_from, m.name, m.menu_id",
            (fiscal_year, today.isoformat()),
        )
        menus = [
            MenuView(
                id=row[0],
                name=row[1],
                trigger=Trigger(row[2]),
                department=row[3],
                sdg_goals=[int(g) for g in row[4].split(",") if g],
                points=row[5],
                valid_from=date.fromisoformat(row[6]),
                valid_until=date.fromisoformat(row[7]),
                limit=Limit(row[8]),
                per_year=row[9],
                expires_after_days=row[10],
                funder_name=row[11],
                budget_left=max(0, int(row[12])),
            )
            for row in rows
        ]
        return [m for m in menus if goal is None or goal in m.sdg_goals]

    def rewards(self) -> list[RewardView]:
        """The rewards on offer, cheapest first."""
        rows = self.db.query(
            "SELECT reward_id, name, partner, points, stock, taken FROM points_rewards"
            " WHERE active = 1 ORDER BY points, name, reward_id"
        )
        return [
            RewardView(
                id=row[0],
                name=row[1],
                partner=row[2],
                points=row[3],
                stock_left=None if row[4] is None else max(0, row[4] - row[5]),
            )
            for row in rows
        ]

    def reward(self, reward_id: str) -> RewardView | None:
        return next((r for r in self.rewards() if r.id == reward_id), None)
