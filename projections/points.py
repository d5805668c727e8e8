"""The points ledger's read model: menus, budgets used, awards, spending, rewards, codes, payouts.

Built only from the events that say something a page shows: an award's Granted carries all of
it (the budget used is the sum of a year's awards, so MenuBudget's own events are not read).
Award rows are written once and never updated: what is left of an award is the account's to say
(PointsAccount.lots, read with the balance), so a spending changes no award row, and the account's
Credited and Debited are not read either. A batch's changes are folded in memory first, then
written with one statement per table (COPY on PostgreSQL), rows in the order of an index.

Awards are most of the events, and a rebuild reads hundreds of thousands: their fields are taken
out column by column and turned into text in C (msgspec), not award by award in Python.
"""

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any

import msgspec
from eventsourcing.utils import get_topic

from domain.points_ledger import Award, PointsAccount
from domain.points_menu import SdgMenu
from domain.points_rewards import PayoutBatch, Reward, Transfer
from domain.venue_code import VenueCode
from projections.cocreation import _iso
from projections.database import Column, Cursor

AWARD_COLUMNS: list[Column] = [
    ("award_id", "text"),
    ("position", "bigint"),
    ("participant_id", "text"),
    ("menu_id", "text"),
    ("menu_version", "bigint"),
    ("points", "bigint"),
    ("source_kind", "text"),
    ("source", "text"),
    ("reason", "text"),
    ("awarded_at", "text"),
    ("earned_on", "text"),
    ("expires_on", "text"),
    ("goal_bits", "bigint"),
]
REVOCATION_COLUMNS: list[Column] = [
    ("revoked_at", "text"),
    ("reason", "text"),
    ("points", "bigint"),
    ("award_id", "text"),
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
BUDGET_COLUMNS: list[Column] = [
    ("menu_id", "text"),
    ("fiscal_year", "bigint"),
    ("spent", "bigint"),
    ("awards", "bigint"),
]
TALLY_COLUMNS: list[Column] = [
    ("fiscal_year", "bigint"),
    ("menu_id", "text"),
    ("month", "text"),
    ("ward", "text"),
    ("goal_bits", "bigint"),
    ("points", "bigint"),
    ("awards", "bigint"),
]

TABLES = (
    "points_menus",
    "points_budgets",
    "points_awards",
    "points_revocations",
    "points_tally",
    "points_spendings",
    "points_rewards",
    "points_transfers",
    "points_batches",
    "points_codes",
)


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode
_GRANTED, _SPENT, _REVOKED = Award.Granted, PointsAccount.Spent, Award.Revoked
_TAKEN, _REQUESTED, _BATCHED = Reward.Taken, Transfer.Requested, Transfer.Batched
# An award's fields, taken from the event's __dict__ by one call in C.
_GRANTED_FIELDS = itemgetter(
    "originator_id", "participant_id", "menu_id", "menu_version", "points", "sdg_goals", "source_kind", "source",
    "reason", "timestamp", "earned_on", "expires_on", "ward",
)  # fmt: skip
_FIRST = itemgetter(0)


def _moment(value: datetime) -> str:
    # Event timestamps are UTC already (domain/clock.py); only a foreign one is converted.
    return _iso(value if value.tzinfo is UTC else value.astimezone(UTC))


class PointsProjection:
    name = "points"
    topics = tuple(
        get_topic(cls)
        for cls in (
            SdgMenu.Defined,
            SdgMenu.RuleChanged,
            Award.Granted,
            Award.Revoked,
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

    # Read by the pages (a person's history), never while projecting: a rebuild builds them last.
    deferred_indexes = ("points_awards_by_participant", "points_spendings_by_participant")

    def clear(self, cur: Cursor) -> None:
        for table in TABLES:
            cur.execute(f"DELETE FROM {table}")

    def project(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        granted = [item for item in events if type(item[1]) is _GRANTED]
        spendings: list[tuple[Any, ...]] = []
        revocations: list[tuple[str, str, int, str]] = []
        rewards_taken: dict[str, int] = defaultdict(int)
        transfers: dict[str, list[Any]] = {}
        batched: list[tuple[str, str]] = []
        others = [item for item in events if type(item[1]) is not _GRANTED] if len(granted) < len(events) else ()
        for position, event in others:
            kind = type(event)
            if kind is _SPENT:
                spending, person, reference = _texts([event.spending_id, event.participant_id, event.reference])
                at = _moment(event.timestamp)
                spendings.append((spending, position, person, event.purpose, reference, event.points, at))
            elif kind is _REVOKED:
                revocations.append(
                    (_moment(event.timestamp), event.reason, event.points_removed, str(event.originator_id))
                )
            elif kind is _TAKEN:
                rewards_taken[str(event.originator_id)] += 1
            elif kind is _REQUESTED:
                transfer = str(event.originator_id)
                transfers[transfer] = [
                    transfer,
                    str(event.participant_id),
                    event.points,
                    _moment(event.timestamp),
                    None,
                ]
            elif kind is _BATCHED:
                row = transfers.get(str(event.originator_id))
                if row is not None:
                    row[-1] = str(event.batch_id)
                else:
                    batched.append((str(event.batch_id), str(event.originator_id)))
            else:
                _apply_other(cur, event, _moment(event.timestamp))
        if granted:
            _NewAwards(granted).write(cur)
        if spendings:  # in key order, as the awards above
            spendings.sort(key=_FIRST)
            cur.append_rows("points_spendings", SPENDING_COLUMNS, spendings)
        if revocations:
            cur.append_rows("points_revocations", REVOCATION_COLUMNS, revocations)
        if rewards_taken:
            cur.add_many("points_rewards", "reward_id", "taken", list(rewards_taken.items()))
        if transfers:
            cur.append_rows("points_transfers", TRANSFER_COLUMNS, list(transfers.values()))
        if batched:
            cur.executemany("UPDATE points_transfers SET batch_id = ? WHERE transfer_id = ?", batched)


def goal_bits(goals: Sequence[int]) -> int:
    """The goals as one integer, bit n for goal n."""
    bits = 0
    for goal in goals:
        bits |= 1 << goal
    return bits


def goals_of(bits: int) -> list[int]:
    return [goal for goal in range(1, 18) if bits >> goal & 1]


class _NewAwards:
    """The batch's awards (Award.Granted, most of the events) as columns: each field of all of them
    is taken out and turned into text at once, in C (vars, itemgetter, zip, map, msgspec), instead
    of event by event in Python."""

    def __init__(self, granted: list[tuple[int, Any]]) -> None:
        positions, events = zip(*granted, strict=True)
        (ids, people, menus, self.versions, self.points, goals, kinds, self.sources, self.reasons, stamps, earned,
         expires, wards) = zip(*map(_GRANTED_FIELDS, map(vars, events)), strict=True)  # fmt: skip
        self.positions = positions
        self.ids, self.people, self.menus, self.kinds, self.wards = _texts((ids, people, menus, kinds, wards))
        self.at = _moments(stamps)
        days = {day: _day(day) for day in {*earned, *expires}}
        self.earned = list(map(days.__getitem__, earned))
        self.expires = [days[day][0] for day in expires]
        goal_sets = list(map(tuple, goals))
        bits = {goal_set: goal_bits(goal_set) for goal_set in set(goal_sets)}
        self.bits = list(map(bits.__getitem__, goal_sets))

    def write(self, cur: Cursor) -> None:
        days, years, months = zip(*self.earned, strict=True)
        rows = list(
            zip(
                self.ids,
                self.positions,
                self.people,
                self.menus,
                self.versions,
                self.points,
                self.kinds,
                self.sources,
                self.reasons,
                self.at,
                days,
                self.expires,
                self.bits,
                strict=True,
            )
        )
        # In the order of the award id's index: its pages are then touched once each, in order.
        # (The index by person is built after a rebuild; live batches are a few rows.)
        rows.sort(key=_FIRST)
        cur.append_rows("points_awards", AWARD_COLUMNS, rows)
        # The dashboard's counts, and the budgets used (the sum of the same counts).
        wards = [ward or "" for ward in self.wards]
        tally = Counter(zip(years, self.menus, months, wards, self.bits, self.points, strict=True))
        budgets: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
        for (year, menu, _, _, _, points), count in tally.items():
            budget = budgets[(menu, year)]
            budget[0] += points * count
            budget[1] += count
        cur.insert_many(
            "points_budgets",
            BUDGET_COLUMNS,
            [(menu, year, spent, count) for (menu, year), (spent, count) in budgets.items()],
            "ON CONFLICT (menu_id, fiscal_year) DO UPDATE SET spent = points_budgets.spent + excluded.spent,"
            " awards = points_budgets.awards + excluded.awards",
        )
        cur.insert_many(
            "points_tally",
            TALLY_COLUMNS,
            [(*key, count) for key, count in tally.items()],
            "ON CONFLICT (fiscal_year, menu_id, month, ward, goal_bits, points)"
            " DO UPDATE SET awards = points_tally.awards + excluded.awards",
        )


def _day(day: date) -> tuple[str, int, str]:
    """A day's text, its fiscal year and its month's text."""
    text = day.isoformat()
    return text, day.year if day.month >= 4 else day.year - 1, text[:7]


def _texts(values: Sequence[Any]) -> Any:
    """The same values with every UUID, date and enum in them as its text (None stays None), all
    in one pass of msgspec: str(UUID) is Python, and costs more than the rest of an award's row."""
    return _decode(_encode(values))


def _moments(values: Sequence[datetime]) -> list[str]:
    """_moment of each, at once: msgspec writes a UTC moment as isoformat does, but for its Z."""
    encoded = _encode(values)
    if encoded.count(b'Z"') == len(values):  # all UTC: no other text is in the array
        return _decode(encoded.replace(b'Z"', b'+00:00"'))
    return [_moment(value) for value in values]


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
