"""The points ledger's read model: menus, budgets used, awards, spending, rewards, codes, payouts.

Built only from the events that say something a page shows: an award's Granted carries all of
it (the budget used is the sum of a year's awards, so MenuBudget's own events are not read), and
each spending names the awards it drew on. A batch's changes are folded in memory first, then
written with one statement per table.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from eventsourcing.utils import get_topic

from domain.points_ledger import Award, PointsAccount
from domain.points_menu import SdgMenu
from domain.points_rewards import PayoutBatch, Reward, Transfer
from domain.venue_code import VenueCode
from projections.database import Column, Cursor

AWARD_COLUMNS: list[Column] = [
    ("award_id", "text"),
    ("position", "bigint"),
    ("participant_id", "text"),
    ("menu_id", "text"),
    ("menu_version", "bigint"),
    ("points", "bigint"),
    ("remaining", "bigint"),
    ("source_kind", "text"),
    ("source", "text"),
    ("reason", "text"),
    ("awarded_at", "text"),
    ("earned_on", "text"),
    ("fiscal_year", "bigint"),
    ("expires_on", "text"),
    ("goal_bits", "bigint"),
    ("ward", "text"),
    ("revoked_at", "text"),
    ("revoke_reason", "text"),
    ("points_revoked", "bigint"),
]
SPENDING_COLUMNS: list[Column] = [
    ("spending_id", "text"),
    ("position", "bigint"),
    ("participant_id", "text"),
    ("purpose", "text"),
    ("reference", "text"),
    ("points", "bigint"),
    ("spent_at", "text"),
]
TRANSFER_COLUMNS: list[Column] = [
    ("transfer_id", "text"),
    ("participant_id", "text"),
    ("points", "bigint"),
    ("requested_at", "text"),
    ("batch_id", "text"),
]
DRAWN_COLUMNS: list[Column] = [("spending_id", "text"), ("award_id", "text"), ("points", "bigint")]

TABLES = (
    "points_menus",
    "points_budgets",
    "points_awards",
    "points_tally",
    "points_spendings",
    "points_drawn",
    "points_rewards",
    "points_transfers",
    "points_batches",
    "points_codes",
)


def _moment(value: datetime) -> str:
    # Event timestamps are UTC already (domain/clock.py); only a foreign one is converted.
    return (value if value.tzinfo is UTC else value.astimezone(UTC)).isoformat()


class PointsProjection:
    name = "points"
    topics = tuple(
        get_topic(cls)
        for cls in (
            SdgMenu.Defined,
            SdgMenu.RuleChanged,
            Award.Granted,
            Award.Revoked,
            PointsAccount.Debited,
            PointsAccount.Spent,
            Reward.Offered,
            Reward.Taken,
            Reward.Withdrawn,
            Transfer.Requested,
            Transfer.Batched,
            PayoutBatch.Made,
            VenueCode.Issued,
            VenueCode.Withdrawn,
        )
    )

    def clear(self, cur: Cursor) -> None:
        for table in TABLES:
            cur.execute(f"DELETE FROM {table}")

    def project(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        new_awards: dict[str, list[Any]] = {}
        budgets: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
        # Points taken from awards recorded before this batch (spent, or taken back).
        taken: dict[str, int] = defaultdict(int)
        spendings: list[list[Any]] = []
        drawn: list[tuple[str, str, int]] = []
        tally: dict[tuple[int, str, str, str, int, int], int] = defaultdict(int)
        revoked: list[tuple[str, str, int, str]] = []
        rewards_taken: dict[str, int] = defaultdict(int)
        transfers: dict[str, list[Any]] = {}
        batched: list[tuple[str, str]] = []
        # A batch has few menus and days: their text forms are made once.
        menus: dict[Any, str] = {}
        days: dict[Any, str] = {}
        for position, event in events:
            kind = type(event)
            if kind is Award.Granted:
                award = str(event.originator_id)
                menu = menus.get(event.menu_id) or menus.setdefault(event.menu_id, str(event.menu_id))
                earned_on = event.earned_on
                year = earned_on.year if earned_on.month >= 4 else earned_on.year - 1
                earned = days.get(earned_on) or days.setdefault(earned_on, earned_on.isoformat())
                expires = days.get(event.expires_on) or days.setdefault(event.expires_on, event.expires_on.isoformat())
                bits = goal_bits(event.sdg_goals)
                ward = event.ward.value if event.ward else None
                new_awards[award] = [
                    award,
                    position,
                    str(event.participant_id),
                    menu,
                    event.menu_version,
                    event.points,
                    event.points,
                    event.source_kind.value,
                    event.source,
                    event.reason,
                    _moment(event.timestamp),
                    earned,
                    year,
                    expires,
                    bits,
                    ward,
                    None,
                    None,
                    0,
                ]
                tally[(year, menu, earned[:7], ward or "", bits, event.points)] += 1
                budget = budgets[(menu, year)]
                budget[0] += event.points
                budget[1] += 1
            elif kind is PointsAccount.Spent:
                spending = str(event.spending_id)
                spendings.append(
                    [
                        spending,
                        position,
                        str(event.participant_id),
                        event.purpose,
                        str(event.reference),
                        event.points,
                        _moment(event.timestamp),
                    ]
                )
                for award_id, points in event.drawn:
                    drawn.append((spending, str(award_id), points))
                    _take(new_awards, taken, str(award_id), points)
            elif kind is PointsAccount.Debited:
                _take(new_awards, taken, str(event.award_id), event.points)
            elif kind is Award.Revoked:
                revocation = (_moment(event.timestamp), event.reason, event.points_removed)
                row = new_awards.get(str(event.originator_id))
                if row is not None:
                    row[-3:] = revocation
                else:
                    revoked.append((*revocation, str(event.originator_id)))
            elif kind is Reward.Taken:
                rewards_taken[str(event.originator_id)] += 1
            elif kind is Transfer.Requested:
                transfer = str(event.originator_id)
                transfers[transfer] = [
                    transfer,
                    str(event.participant_id),
                    event.points,
                    _moment(event.timestamp),
                    None,
                ]
            elif kind is Transfer.Batched:
                row = transfers.get(str(event.originator_id))
                if row is not None:
                    row[-1] = str(event.batch_id)
                else:
                    batched.append((str(event.batch_id), str(event.originator_id)))
            else:
                _apply_other(cur, event, _moment(event.timestamp))
        self._flush(cur, new_awards, budgets, taken, spendings, drawn, tally)
        if revoked:  # Awards recorded before this batch: theirs were inserted by an earlier one.
            cur.executemany(
                "UPDATE points_awards SET revoked_at = ?, revoke_reason = ?, points_revoked = ? WHERE award_id = ?",
                revoked,
            )
        if rewards_taken:
            cur.add_many("points_rewards", "reward_id", "taken", list(rewards_taken.items()))
        if transfers:
            cur.append_rows("points_transfers", TRANSFER_COLUMNS, list(transfers.values()))
        if batched:
            cur.executemany("UPDATE points_transfers SET batch_id = ? WHERE transfer_id = ?", batched)

    @staticmethod
    def _flush(
        cur: Cursor,
        new_awards: dict[str, list[Any]],
        budgets: dict[tuple[str, int], list[int]],
        taken: dict[str, int],
        spendings: list[list[Any]],
        drawn: list[tuple[str, str, int]],
        tally: dict[tuple[int, str, str, str, int, int], int],
    ) -> None:
        if new_awards:
            cur.append_rows("points_awards", AWARD_COLUMNS, list(new_awards.values()))
        if budgets:
            cur.executemany(
                "INSERT INTO points_budgets (menu_id, fiscal_year, spent, awards) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (menu_id, fiscal_year) DO UPDATE SET spent = points_budgets.spent + excluded.spent, "
                "awards = points_budgets.awards + excluded.awards",
                [(menu, year, spent, count) for (menu, year), (spent, count) in budgets.items()],
            )
        if taken:
            cur.add_many(
                "points_awards", "award_id", "remaining", [(award, -points) for award, points in taken.items()]
            )
        if tally:
            cur.executemany(
                "INSERT INTO points_tally (fiscal_year, menu_id, month, ward, goal_bits, points, awards)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (fiscal_year, menu_id, month, ward, goal_bits, points)"
                " DO UPDATE SET awards = points_tally.awards + excluded.awards",
                [(*key, count) for key, count in tally.items()],
            )
        if spendings:
            cur.append_rows("points_spendings", SPENDING_COLUMNS, spendings)
        if drawn:
            cur.append_rows("points_drawn", DRAWN_COLUMNS, drawn)


def goal_bits(goals: Sequence[int]) -> int:
    """The goals as one integer, bit n for goal n."""
    bits = 0
    for goal in goals:
        bits |= 1 << goal
    return bits


def goals_of(bits: int) -> list[int]:
    return [goal for goal in range(1, 18) if bits >> goal & 1]


def _take(new_awards: dict[str, list[Any]], taken: dict[str, int], award: str, points: int) -> None:
    row = new_awards.get(award)
    if row is not None:
        row[6] -= points
    else:
        taken[award] += points


def _apply_other(cur: Cursor, event: Any, at: str) -> None:
    kind = type(event)
    oid = str(event.originator_id)
    if kind is SdgMenu.Defined:
        rule = event.rule
        cur.execute(
            "INSERT INTO points_menus (menu_id, name, trigger, department, sdg_goals, points, budget, valid_from,"
            " valid_until, limit_kind, per_year, expires_after_days, rule_version, survey_ids, funder_id, defined_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
            (
                oid,
                event.name,
                str(event.trigger),
                event.department,
                ",".join(str(g) for g in event.sdg_goals),
                rule.points,
                rule.budget,
                rule.valid_from.isoformat(),
                rule.valid_until.isoformat(),
                str(rule.limit),
                rule.per_year,
                rule.expires_after_days,
                ",".join(str(s) for s in event.survey_ids),
                str(event.funder_id) if event.funder_id else None,
                at,
            ),
        )
    elif kind is SdgMenu.RuleChanged:
        rule = event.rule
        cur.execute(
            "UPDATE points_menus SET points = ?, budget = ?, valid_from = ?, valid_until = ?, limit_kind = ?,"
            " per_year = ?, expires_after_days = ?, rule_version = rule_version + 1 WHERE menu_id = ?",
            (
                rule.points,
                rule.budget,
                rule.valid_from.isoformat(),
                rule.valid_until.isoformat(),
                str(rule.limit),
                rule.per_year,
                rule.expires_after_days,
                oid,
            ),
        )
    elif kind is Reward.Offered:
        cur.execute(
            "INSERT INTO points_rewards (reward_id, name, partner, points, stock, offered_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (oid, event.name, event.partner, event.points, event.stock, at),
        )
    elif kind is Reward.Withdrawn:
        cur.execute("UPDATE points_rewards SET active = 0 WHERE reward_id = ?", (oid,))
    elif kind is PayoutBatch.Made:
        cur.execute(
            "INSERT INTO points_batches (batch_id, made_at, made_by, points, lines) VALUES (?, ?, ?, ?, ?)",
            (oid, at, str(event.made_by), event.points, len(event.transfer_ids)),
        )
    elif kind is VenueCode.Issued:
        cur.execute(
            "INSERT INTO points_codes (code_id, menu_id, label, valid_from, valid_until, issued_by, issued_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                oid,
                str(event.menu_id),
                event.label,
                _moment(event.valid_from),
                _moment(event.valid_until),
                str(event.issued_by),
                at,
            ),
        )
    elif kind is VenueCode.Withdrawn:
        cur.execute("UPDATE points_codes SET withdrawn = 1 WHERE code_id = ?", (oid,))
