"""What staff and auditors read about SDGs points: menus, codes, rewards, payouts, the dashboard,
and, for auditors, the chain of events behind one person's balance.

The dashboard's counts follow the results' small-cell rule: a count under MIN_CELL is shown as
the mark, and so is every further cell that could give a hidden one away (projections.suppression).
A reader can write these equations down: menus add up to the year's total, and so do months and
wards; a goal's count is the sum of the counts of the menus carrying that goal (each menu's goals
are on the menus page); a menu's points are its count times its points per award when the rule's
points did not change in the year. A menu whose count is hidden has its points (the budget used)
hidden too. Awards are counted when granted: a later revocation takes points back from the person
but gives no budget back, so it stays counted here, as in the budget.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.points_ledger import Award, PointsAccount, SourceKind
from domain.points_menu import Limit, Trigger
from domain.values import SDG_GOALS, WARD_LABELS, Ward
from projections.database import Database
from projections.points import goals_of
from projections.segments import MIN_CELL, SUPPRESSED, SUPPRESSED_LEGEND, UNKNOWN
from projections.suppression import line, protect

PLAN_TARGET = 46_000  # The plan's KPI: SDGs-point awards a fiscal year (SDGsポイント発行件数).
NOT_APPLICABLE = "—"  # A month still to come, or a goal no menu carries: nothing to count, nothing to hide.
LEGEND = SUPPRESSED_LEGEND
FISCAL_MONTHS = (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)
WARD_CELLS: dict[str, str] = {**{w.value: WARD_LABELS[w] for w in Ward}, UNKNOWN: "未回答"}

Shown = int | str  # a count, the mark SUPPRESSED, or NOT_APPLICABLE


def _goals(text: str | None) -> list[int]:
    return [int(g) for g in (text or "").split(",") if g]


def _ids(text: str | None) -> list[str]:
    return [s for s in (text or "").split(",") if s]


@dataclass(frozen=True)
class MenuRow:
    id: str
    name: str
    trigger: Trigger
    department: str
    sdg_goals: list[int]
    points: int
    budget: int
    valid_from: date
    valid_until: date
    limit: Limit
    per_year: int
    expires_after_days: int | None
    rule_version: int
    survey_ids: list[str]
    funder_id: str | None
    defined_at: str

    @property
    def limit_label(self) -> str:
        return f"年度内{self.per_year}回まで" if self.limit is Limit.PER_YEAR else self.limit.label

    @property
    def expiry_label(self) -> str:
        return f"獲得から{self.expires_after_days}日" if self.expires_after_days else "年度末（3月31日）"


_MENU = (
    "SELECT menu_id, name, trigger, department, sdg_goals, points, budget, valid_from, valid_until, limit_kind,"
    " per_year, expires_after_days, rule_version, survey_ids, funder_id, defined_at FROM points_menus"
)


def _menu(row: Any) -> MenuRow:
    return MenuRow(
        id=row[0],
        name=row[1],
        trigger=Trigger(row[2]),
        department=row[3],
        sdg_goals=_goals(row[4]),
        points=int(row[5]),
        budget=int(row[6]),
        valid_from=date.fromisoformat(row[7]),
        valid_until=date.fromisoformat(row[8]),
        limit=Limit(row[9]),
        per_year=int(row[10]),
        expires_after_days=None if row[11] is None else int(row[11]),
        rule_version=int(row[12]),
        survey_ids=_ids(row[13]),
        funder_id=row[14],
        defined_at=row[15],
    )


@dataclass(frozen=True)
class CodeRow:
    id: str
    menu_id: str
    label: str
    valid_from: datetime
    valid_until: datetime
    issued_by: str
    issued_at: str
    withdrawn: bool

    def state(self, now: datetime) -> str:
        if self.withdrawn:
            return "取り消し済み"
        if now < self.valid_from:
            return "開始前"
        if now >= self.valid_until:
            return "終了"
        return "有効"


_CODE = "SELECT code_id, menu_id, label, valid_from, valid_until, issued_by, issued_at, withdrawn FROM points_codes"


def _code(row: Any) -> CodeRow:
    return CodeRow(
        row[0],
        row[1],
        row[2],
        datetime.fromisoformat(row[3]),
        datetime.fromisoformat(row[4]),
        row[5],
        row[6],
        bool(row[7]),
    )


@dataclass(frozen=True)
class RewardRow:
    id: str
    name: str
    partner: str
    points: int
    stock: int | None
    taken: int
    active: bool
    offered_at: str

    @property
    def left(self) -> int | None:
        return None if self.stock is None else max(0, self.stock - self.taken)


@dataclass(frozen=True)
class TransferRow:
    id: str
    participant_id: str
    points: int
    requested_at: str
    batch_id: str | None


@dataclass(frozen=True)
class BatchRow:
    id: str
    made_at: str
    made_by: str
    points: int
    lines: int


@dataclass(frozen=True)
class AwardRow:
    id: str
    position: int
    participant_id: str
    menu_id: str
    menu_name: str
    menu_version: int
    points: int
    source_kind: SourceKind
    source: str
    reason: str
    awarded_at: str
    earned_on: str
    expires_on: str
    revoked_at: str | None
    revoke_reason: str | None
    points_revoked: int
    # What is left of it: the ledger's figure (PointsAccount.lots), not the read model's.
    remaining: int | None = None


_AWARD = (
    "SELECT a.award_id, a.position, a.participant_id, a.menu_id, COALESCE(m.name, ''), a.menu_version, a.points,"
    " a.source_kind, a.source, a.reason, a.awarded_at, a.earned_on, a.expires_on, v.revoked_at,"
    " v.reason, COALESCE(v.points, 0) FROM points_awards a LEFT JOIN points_menus m ON m.menu_id = a.menu_id"
    " LEFT JOIN points_revocations v ON v.award_id = a.award_id"
)


def _award(row: Any) -> AwardRow:
    return AwardRow(
        row[0], int(row[1]), row[2], row[3], row[4], int(row[5]), int(row[6]), SourceKind(row[7]), row[8],
        row[9], row[10], row[11], row[12], row[13], row[14], int(row[15]),
    )  # fmt: skip


# The dashboard


@dataclass(frozen=True)
class MenuFigures:
    menu: MenuRow
    awards: Shown
    points: Shown  # the budget used this fiscal year
    used_percent: float | None


@dataclass(frozen=True)
class Dashboard:
    fiscal_year: int
    target: int
    total: Shown
    per_year: list[tuple[int, Shown]]
    menus: list[MenuFigures]
    goals: list[tuple[int, str, Shown]]
    months: list[tuple[str, Shown]]
    wards: list[tuple[str, Shown]]
    legend: str = LEGEND
    mark: str = SUPPRESSED

    @property
    def any_hidden(self) -> bool:
        cells = [self.total, *(m.awards for m in self.menus), *(c for *_, c in self.goals)]
        cells += [c for _, c in self.months] + [c for _, c in self.wards]
        return SUPPRESSED in cells

    @property
    def target_percent(self) -> float | None:
        return round(100 * self.total / self.target, 1) if isinstance(self.total, int) else None


Cell = tuple[str, ...]


@dataclass
class _Counts:
    total: int = 0
    menus: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    menu_points: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    menu_values: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    months: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    wards: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    goals: dict[int, int] = field(default_factory=lambda: defaultdict(int))


def month_keys(year: int, today: date) -> list[tuple[str, str, bool]]:
    """(key YYYY-MM, label, still to come) for April to March of the fiscal year."""
    months = []
    for month in FISCAL_MONTHS:
        calendar_year = year if month >= 4 else year + 1
        months.append((f"{calendar_year:04d}-{month:02d}", f"{month}月", date(calendar_year, month, 1) > today))
    return months


def hidden_dashboard_cells(counts: _Counts, menus: list[MenuRow], months: list[str], goals: list[int]) -> set[Cell]:
    """The cells to show as the mark: small ones, and enough more that none can be worked out."""
    total: Cell = ("total",)
    menu_cells = {m.id: ("menu", m.id) for m in menus}
    point_cells = {m.id: ("points", m.id) for m in menus}
    month_cells = [("month", k) for k in months]
    ward_cells = [("ward", w) for w in WARD_CELLS]
    goal_cells = {g: ("goal", str(g)) for g in goals}
    value: dict[Cell, int] = {total: counts.total}
    value.update({menu_cells[m.id]: counts.menus[m.id] for m in menus})
    value.update({c: counts.months[c[1]] for c in month_cells})
    value.update({c: counts.wards[c[1]] for c in ward_cells})
    value.update({goal_cells[g]: counts.goals[g] for g in goals})
    if counts.total < MIN_CELL:
        return {*value, *point_cells.values()}
    equations: list[dict[Cell, int]] = [
        line(total, menu_cells.values()),
        line(total, month_cells),
        line(total, ward_cells),
    ]
    for goal, cell in goal_cells.items():
        equations.append(line(cell, [menu_cells[m.id] for m in menus if goal in m.sdg_goals]))
    for m in menus:
        values = counts.menu_values[m.id]
        if len(values) == 1:  # points = count × points per award, for anyone who reads the rule
            (points,) = values
            equations.append(line(point_cells[m.id], [menu_cells[m.id]], lambda _, p=points: p))  # type: ignore[misc]
    hidden = {cell for cell, count in value.items() if count < MIN_CELL and cell != total}
    # The total stays shown (it is MIN_CELL or more); breakdown cells are hidden cheapest first,
    # goals before the rest: a menu's count is what its budget is run by.
    cost: dict[Cell, tuple[int, int, int]] = {
        cell: (0 if cell[0] == "goal" else 1, count, i) for i, (cell, count) in enumerate(value.items())
    }
    cost.pop(total)
    for m in menus:
        cost[point_cells[m.id]] = (1, counts.menus[m.id], len(cost))
    hidden = protect(equations, hidden, cost)
    # A hidden count's points would give it away whatever the rule's history: hide them together.
    hidden |= {point_cells[m.id] for m in menus if menu_cells[m.id] in hidden}
    return hidden


class PointsReader:
    def __init__(self, db: Database) -> None:
        self.db = db

    # Menus and codes

    def menus(self) -> list[MenuRow]:
        return [_menu(r) for r in self.db.query(_MENU + " ORDER BY department, name, menu_id")]

    def menu(self, menu_id: str) -> MenuRow | None:
        row = self.db.query_one(_MENU + " WHERE menu_id = ?", (menu_id,))
        return _menu(row) if row else None

    def codes(self, menu_id: str) -> list[CodeRow]:
        return [_code(r) for r in self.db.query(_CODE + " WHERE menu_id = ? ORDER BY issued_at DESC", (menu_id,))]

    def code(self, code_id: str) -> CodeRow | None:
        row = self.db.query_one(_CODE + " WHERE code_id = ?", (code_id,))
        return _code(row) if row else None

    # Rewards and payouts

    def rewards(self) -> list[RewardRow]:
        return [
            RewardRow(r[0], r[1], r[2], int(r[3]), None if r[4] is None else int(r[4]), int(r[5]), bool(r[6]), r[7])
            for r in self.db.query(
                "SELECT reward_id, name, partner, points, stock, taken, active, offered_at FROM points_rewards"
                " ORDER BY active DESC, offered_at DESC"
            )
        ]

    def waiting_transfers(self) -> list[TransferRow]:
        return [
            TransferRow(r[0], r[1], int(r[2]), r[3], r[4])
            for r in self.db.query(
                "SELECT transfer_id, participant_id, points, requested_at, batch_id FROM points_transfers"
                " WHERE batch_id IS NULL ORDER BY requested_at, transfer_id"
            )
        ]

    def batches(self) -> list[BatchRow]:
        return [
            BatchRow(r[0], r[1], r[2], int(r[3]), int(r[4]))
            for r in self.db.query(
                "SELECT batch_id, made_at, made_by, points, lines FROM points_batches ORDER BY made_at DESC"
            )
        ]

    # Awards

    def award(self, award_id: str) -> AwardRow | None:
        row = self.db.query_one(_AWARD + " WHERE a.award_id = ?", (award_id,))
        return _award(row) if row else None

    def awards_of(self, participant_id: str, limit: int = 500) -> list[AwardRow]:
        return [
            _award(r)
            for r in self.db.query(
                _AWARD + " WHERE a.participant_id = ? ORDER BY a.position DESC LIMIT ?", (participant_id, limit)
            )
        ]

    def bulk_awarded(self, menu_id: str, reference: str, participant_ids: list[str]) -> set[str]:
        """Which of these people already hold the award of this bulk menu under this reference."""
        found: set[str] = set()
        for i in range(0, len(participant_ids), 500):
            chunk = participant_ids[i : i + 500]
            marks = ", ".join("?" for _ in chunk)
            found.update(
                r[0]
                for r in self.db.query(
                    f"SELECT participant_id FROM points_awards WHERE menu_id = ? AND source_kind = ? AND reason = ?"
                    f" AND participant_id IN ({marks})",
                    (menu_id, SourceKind.BULK.value, reference, *chunk),
                )
            )
        return found

    def first_position_of(self, participant_id: str) -> int | None:
        row = self.db.query_one("SELECT MIN(position) FROM points_awards WHERE participant_id = ?", (participant_id,))
        return int(row[0]) if row and row[0] is not None else None

    # The dashboard

    def fiscal_years(self) -> list[int]:
        return [int(r[0]) for r in self.db.query("SELECT DISTINCT fiscal_year FROM points_tally ORDER BY 1")]

    def dashboard(self, year: int, today: date) -> Dashboard:
        menus = self.menus()
        counts = _Counts()
        for menu_id, month, ward, points, n in self.db.query(
            "SELECT menu_id, month, ward, points, SUM(awards) FROM points_tally"
            " WHERE fiscal_year = ? GROUP BY menu_id, month, ward, points",
            (year,),
        ):
            n = int(n)
            counts.total += n
            counts.menus[menu_id] += n
            counts.menu_points[menu_id] += n * int(points)
            counts.menu_values[menu_id].add(int(points))
            counts.months[month] += n
            counts.wards[ward or UNKNOWN] += n
        # Few distinct sets of goals (about one per menu): grouped by the set, spread over goals here.
        for bits, n in self.db.query(
            "SELECT goal_bits, SUM(awards) FROM points_tally WHERE fiscal_year = ? GROUP BY goal_bits", (year,)
        ):
            for goal in goals_of(int(bits)):
                counts.goals[goal] += int(n)
        known = {m.id for m in menus}
        # An award of a menu not (yet) projected would break "menus add up to the total".
        menus += [_orphan(menu_id) for menu_id in counts.menus if menu_id not in known]
        month_list = month_keys(year, today)
        past_months = [key for key, _, future in month_list if not future or counts.months[key]]
        carried = sorted({g for m in menus for g in m.sdg_goals})
        hidden = hidden_dashboard_cells(counts, menus, past_months, carried)

        def shown(cell: Cell, count: int) -> Shown:
            return SUPPRESSED if cell in hidden else count

        years = sorted({*self.fiscal_years(), year})
        per_year = [(y, self._year_total(y) if y != year else counts.total) for y in years]
        return Dashboard(
            fiscal_year=year,
            target=PLAN_TARGET,
            total=shown(("total",), counts.total),
            per_year=[(y, n if n >= MIN_CELL else SUPPRESSED) for y, n in per_year],
            menus=[
                MenuFigures(
                    menu=m,
                    awards=shown(("menu", m.id), counts.menus[m.id]),
                    points=shown(("points", m.id), counts.menu_points[m.id]),
                    used_percent=None
                    if ("points", m.id) in hidden
                    else round(100 * counts.menu_points[m.id] / m.budget, 1)
                    if m.budget
                    else None,
                )
                for m in menus
            ],
            goals=[
                (g, label, shown(("goal", str(g)), counts.goals[g]) if g in carried else NOT_APPLICABLE)
                for g, label in SDG_GOALS.items()
            ],
            months=[
                (label, shown(("month", key), counts.months[key]) if key in past_months else NOT_APPLICABLE)
                for key, label, _ in month_list
            ],
            wards=[(label, shown(("ward", key), counts.wards[key])) for key, label in WARD_CELLS.items()],
        )

    def _year_total(self, year: int) -> int:
        row = self.db.query_one("SELECT SUM(awards) FROM points_tally WHERE fiscal_year = ?", (year,))
        return int(row[0]) if row and row[0] is not None else 0


def _orphan(menu_id: str) -> MenuRow:
    return MenuRow(
        id=menu_id, name="（未反映のメニュー）", trigger=Trigger.BULK, department="", sdg_goals=[], points=0, budget=0,
        valid_from=date.min, valid_until=date.min, limit=Limit.ONCE, per_year=1, expires_after_days=None,
        rule_version=1, survey_ids=[], funder_id=None, defined_at="",
    )  # fmt: skip


# The auditor's chain


LEDGER_TOPICS = tuple(
    get_topic(cls)
    for cls in (
        Award.Granted,
        Award.Revoked,
        PointsAccount.Opened,
        PointsAccount.Credited,
        PointsAccount.Debited,
        PointsAccount.Spent,
    )
)
PAGE = 1000
PURPOSES = {"reward": "特典との交換", "transfer": "地域通貨ウォレットへの移行"}


@dataclass(frozen=True)
class Link:
    """One event in a person's points history, as recorded."""

    position: int
    at: datetime
    kind: str  # "Award.Granted", "PointsAccount.Credited", ...
    originator_id: UUID
    version: int
    what: str  # in Japanese
    change: int | None  # on the balance, for the account's events
    running: int | None  # the account's points after this event (expired lots still counted)
    award_id: UUID | None = None


@dataclass(frozen=True)
class Chain:
    participant_id: UUID
    links: list[Link]
    running: int  # Σ credited − debited − spent
    expired: int  # what of that has passed its last day
    balance: int  # running − expired: the balance today
    account_version: int  # events the account has; the chain must hold them all
    account_events: int


def points_chain(app: Any, db: Database, participant_id: UUID, today: date) -> Chain | None:
    """The events that produced the person's balance, in the order they were recorded, each with
    its position in the log, and the balance worked out from them alone. None without an account."""
    account = app.points_account(participant_id)
    if account is None:
        return None
    # Each aggregate's events up to the version just read: a snapshot, however the log moves on.
    # Compared as text: the engines' recorders hand originator ids back as UUID or as text.
    versions = {str(account.id): account.version}
    versions.update({str(award): app.repository.get(award).version for award in account.lots})
    start = PointsReader(db).first_position_of(str(participant_id)) or 1
    notifications = _ledger_notifications(app, versions, start)
    if len(notifications) < sum(versions.values()) and start > 1:
        # The read model had not seen the first award yet: read the whole log.
        notifications = _ledger_notifications(app, versions, 1)
    menus = {m.id: m.name for m in PointsReader(db).menus()}
    links: list[Link] = []
    lots: dict[UUID, list[Any]] = {}
    running = 0
    for n in notifications:
        event = app.mapper.to_domain_event(n)
        kind = type(event)
        change: int | None = None
        award: UUID | None = None
        if kind is Award.Granted:
            award = UUID(str(n.originator_id))
            what = (
                f"付与 {event.points}pt（{menus.get(str(event.menu_id), str(event.menu_id))} 第{event.menu_version}版・"
                f"{SourceKind(event.source_kind).label}: {event.reason or event.source}"
                f"・獲得日 {event.earned_on:%Y/%m/%d}・期限 {event.expires_on:%Y/%m/%d}）"
            )
        elif kind is Award.Revoked:
            award = UUID(str(n.originator_id))
            what = f"付与の取り消し（理由: {event.reason}・未使用分 {event.points_removed}pt を回収）"
        elif kind is PointsAccount.Opened:
            what = "ポイント口座の開設"
        elif kind is PointsAccount.Credited:
            award, change = event.award_id, event.points
            lots[event.award_id] = [event.points, event.expires_on]
            what = f"入金（期限 {event.expires_on:%Y/%m/%d}）"
        elif kind is PointsAccount.Debited:
            award, change = event.award_id, -event.points
            lots[event.award_id][0] -= event.points
            what = "取り消しによる回収"
        else:  # PointsAccount.Spent
            change = -event.points
            for drawn, take in event.drawn:
                lots[drawn][0] -= take
            sources = "、".join(f"{str(d)[:8]}…から{take}pt" for d, take in event.drawn)
            what = f"{PURPOSES.get(event.purpose, event.purpose)}（{sources}）"
        if change is not None:
            running += change
        links.append(
            Link(
                position=n.id,
                at=event.timestamp,
                kind=f"{'Award' if kind in (Award.Granted, Award.Revoked) else 'PointsAccount'}.{kind.__name__}",
                originator_id=UUID(str(n.originator_id)),
                version=n.originator_version,
                what=what,
                change=change,
                running=running if change is not None else None,
                award_id=award,
            )
        )
    expired = sum(left for left, expires_on in lots.values() if expires_on < today and left > 0)
    return Chain(
        participant_id=participant_id,
        links=links,
        running=running,
        expired=expired,
        balance=running - expired,
        account_version=account.version,
        account_events=sum(1 for link in links if str(link.originator_id) == str(account.id)),
    )


def _ledger_notifications(app: Any, versions: dict[str, int], start: int) -> list[Any]:
    """The ledger's events of these aggregates up to these versions, from `start` on; the reading
    stops at the last of them, not at the end of the log."""
    expected = sum(versions.values())
    found = []
    while True:
        page = app.recorder.select_notifications(start=start, limit=PAGE, topics=LEDGER_TOPICS)
        found.extend(n for n in page if n.originator_version <= versions.get(str(n.originator_id), 0))
        if len(found) >= expected or len(page) < PAGE:
            return found
        start = page[-1].id + 1
