"""The SDGs points ledger: awards, each person's account, and each menu's yearly budget.

Three aggregates share every award, saved in one transaction:
- the `Award`, whose id is derived from (menu, source): a second award for the same source is a
  second "version 1" of the same aggregate, which the event store refuses by construction;
- the `MenuBudget` of the menu's fiscal year: its version orders concurrent awards, so the
  budget is checked against every award before it and can never be exceeded;
- the person's `PointsAccount`: its version orders awards, revocations and spending, so the
  per-person limit holds and the balance never goes below zero.
"""

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.aggregate import KyosoAggregate
from domain.errors import DomainError, InvalidCommand
from domain.messages import N_
from domain.points_menu import Limit, MenuRule
from domain.values import Ward

POINTS_NAMESPACE = UUID("5b0f6a1e-2c3d-4e5f-8a9b-7c6d5e4f3a2b")


class PointsRefused(DomainError):
    """An award or a spending the ledger's rules refuse; `code` says which rule."""

    code = "points_refused"


class OverBudget(PointsRefused):
    code = "over_budget"
    message = N_("このメニューは今年度の予算（ポイント）の上限に達しました。")


class OverLimit(PointsRefused):
    code = "over_limit"
    message = N_("このメニューで獲得できる回数の上限に達しています。")


class NotValid(PointsRefused):
    code = "expired"
    message = N_("このメニューまたはコードの有効期間外です。")


class AlreadyAwarded(PointsRefused):
    code = "already_claimed"
    message = N_("このポイントはすでに付与されています。")


class InsufficientPoints(PointsRefused):
    code = "insufficient_points"
    message = N_("ポイント残高が足りません。")


class SourceKind(StrEnum):
    """What caused an award: a recorded event, a venue code's claim, or a row of a staff list."""

    EVENT = "event"
    CODE = "code"
    BULK = "bulk"

    @property
    def label(self) -> str:
        return {"event": "活動", "code": "会場コード", "bulk": "名簿"}[self.value]


def award_id(menu_id: UUID, source: str) -> UUID:
    return uuid5(POINTS_NAMESPACE, f"award/{menu_id}/{source}")


def account_id(participant_id: UUID) -> UUID:
    return uuid5(POINTS_NAMESPACE, f"account/{participant_id}")


def budget_id(menu_id: UUID, fiscal_year: int) -> UUID:
    return uuid5(POINTS_NAMESPACE, f"budget/{menu_id}/{fiscal_year}")


class Award(KyosoAggregate):
    """One award of points: who, for which menu (and which version of its rule), from what source."""

    class Granted(Aggregate.Created):
        participant_id: UUID
        menu_id: UUID
        menu_version: int
        points: int
        sdg_goals: list[int]
        source_kind: SourceKind
        source: str
        caused_at: datetime
        earned_on: date
        expires_on: date
        reason: str
        # The earner's ward when the award was made (coarse, as responses carry it), for the
        # staff dashboard's counts by ward.
        ward: Ward | None

    class Revoked(Aggregate.Event):
        reason: str
        revoked_by: UUID
        points_removed: int

    @staticmethod
    def create_id(menu_id: UUID, source: str) -> UUID:  # type: ignore[override]
        return award_id(menu_id, source)

    @event(Granted)
    def __init__(
        self,
        participant_id: UUID,
        menu_id: UUID,
        menu_version: int,
        points: int,
        sdg_goals: list[int],
        source_kind: SourceKind,
        source: str,
        caused_at: datetime,
        earned_on: date,
        expires_on: date,
        reason: str,
        ward: Ward | None,
    ) -> None:
        self.participant_id = participant_id
        self.menu_id = menu_id
        self.points = points
        self.revoked = False

    def revoke(self, reason: str, revoked_by: UUID, points_removed: int) -> None:
        if self.revoked:
            raise InvalidCommand(N_("この付与はすでに取り消されています。"))
        if not reason.strip():
            raise InvalidCommand(field_errors={"reason": N_("取り消しの理由を入力してください。")})
        self._revoke(reason.strip(), revoked_by, points_removed)

    @event(Revoked)
    def _revoke(self, reason: str, revoked_by: UUID, points_removed: int) -> None:
        self.revoked = True


class MenuBudget(KyosoAggregate):
    """What a menu has awarded in one fiscal year."""

    class Opened(Aggregate.Created):
        menu_id: UUID
        fiscal_year: int

    class Drawn(Aggregate.Event):
        award_id: UUID
        points: int

    @staticmethod
    def create_id(menu_id: UUID, fiscal_year: int) -> UUID:  # type: ignore[override]
        return budget_id(menu_id, fiscal_year)

    @event(Opened)
    def __init__(self, menu_id: UUID, fiscal_year: int) -> None:
        self.menu_id = menu_id
        self.fiscal_year = fiscal_year
        self.spent = 0

    def draw(self, award: UUID, points: int, rule: MenuRule) -> None:
        if self.spent + points > rule.budget:
            raise OverBudget()
        self._draw(award, points)

    @event(Drawn)
    def _draw(self, award_id: UUID, points: int) -> None:
        self.spent += points


class Usage:
    """How often a person earned one menu's points: ever, per day and per fiscal year.

    Counted per day and per year, not just for the latest ones: an award decided out of order (a
    claim at 23:59:59 saved after one at 00:00:01, a lagging process) must still count where it
    belongs."""

    __slots__ = ("by_day", "by_year", "total")

    def __init__(self) -> None:
        self.total = 0
        self.by_day: dict[date, int] = {}
        self.by_year: dict[int, int] = {}

    def allows(self, rule: MenuRule, day: date, fiscal_year: int) -> bool:
        if rule.limit is Limit.ONCE:
            return self.total == 0
        if rule.limit is Limit.DAILY:
            return self.by_day.get(day, 0) == 0
        return self.by_year.get(fiscal_year, 0) < rule.per_year

    def add(self, day: date, fiscal_year: int) -> None:
        self.total += 1
        self.by_day[day] = self.by_day.get(day, 0) + 1
        self.by_year[fiscal_year] = self.by_year.get(fiscal_year, 0) + 1


class PointsAccount(KyosoAggregate):
    """One person's points: what they earned (as lots that expire), spent and lost to revocation.

    Spending draws on the lots that expire first, and each spending event names the lots it drew
    on, so a replay (and the payout file) can say which awards paid for what."""

    class Opened(Aggregate.Created):
        participant_id: UUID

    class Credited(Aggregate.Event):
        award_id: UUID
        menu_id: UUID
        points: int
        earned_on: date
        fiscal_year: int
        expires_on: date

    class Debited(Aggregate.Event):
        """Points taken back by a revocation (only what was still unspent)."""

        award_id: UUID
        points: int

    class Spent(Aggregate.Event):
        participant_id: UUID  # Named again so that spending can be listed without the account.
        spending_id: UUID
        purpose: str  # "reward" (reference: the reward) or "transfer" (reference: the transfer)
        reference: UUID
        points: int
        drawn: list[tuple[UUID, int]]

    @staticmethod
    def create_id(participant_id: UUID) -> UUID:  # type: ignore[override]
        return account_id(participant_id)

    @event(Opened)
    def __init__(self, participant_id: UUID) -> None:
        self.participant_id = participant_id
        # award id -> [points left, last day they can be spent]
        self.lots: dict[UUID, list] = {}
        self.usage: dict[UUID, Usage] = {}

    def balance(self, today: date) -> int:
        return sum(left for left, expires_on in self.lots.values() if expires_on >= today)

    def expiring(self, today: date, until: date) -> int:
        return sum(left for left, expires_on in self.lots.values() if today <= expires_on <= until)

    def check_limit(self, menu_id: UUID, rule: MenuRule, day: date, fiscal_year: int) -> None:
        usage = self.usage.get(menu_id)
        if usage is not None and not usage.allows(rule, day, fiscal_year):
            raise OverLimit()

    def credit(self, award: Award, rule: MenuRule, earned_on: date, fiscal_year: int) -> None:
        self.check_limit(award.menu_id, rule, earned_on, fiscal_year)
        self._credit(award.id, award.menu_id, award.points, earned_on, fiscal_year, rule.expiry_for(earned_on))

    @event(Credited)
    def _credit(
        self, award_id: UUID, menu_id: UUID, points: int, earned_on: date, fiscal_year: int, expires_on: date
    ) -> None:
        self.lots[award_id] = [points, expires_on]
        self.usage.setdefault(menu_id, Usage()).add(earned_on, fiscal_year)

    def unspent(self, award: UUID) -> int:
        lot = self.lots.get(award)
        return lot[0] if lot else 0

    def take_back(self, award: UUID) -> int:
        """Removes what is left of an award's points; returns how many that was."""
        points = self.unspent(award)
        if points:
            self._debit(award, points)
        return points

    @event(Debited)
    def _debit(self, award_id: UUID, points: int) -> None:
        self.lots[award_id][0] -= points

    def spend(self, spending_id: UUID, purpose: str, reference: UUID, points: int, today: date) -> None:
        if points <= 0:
            raise InvalidCommand(field_errors={"points": N_("ポイント数は1以上で入力してください。")})
        if points > self.balance(today):
            raise InsufficientPoints()
        drawn: list[tuple[UUID, int]] = []
        needed = points
        # Lots that expire first are spent first; among equals, the oldest award (dicts keep order).
        for award, (left, expires_on) in sorted(self.lots.items(), key=lambda item: item[1][1]):
            if needed == 0:
                break
            if left <= 0 or expires_on < today:
                continue
            take = min(left, needed)
            drawn.append((award, take))
            needed -= take
        self._spend(self.participant_id, spending_id, purpose, reference, points, drawn)

    @event(Spent)
    def _spend(
        self,
        participant_id: UUID,
        spending_id: UUID,
        purpose: str,
        reference: UUID,
        points: int,
        drawn: list[tuple[UUID, int]],
    ) -> None:
        for award, take in drawn:
            self.lots[award][0] -= take
