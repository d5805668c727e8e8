"""The rules of SDGs points, held by the aggregates alone (no storage): menus and their rule versions,
per-person limits across fiscal years, expiry, spending, revocation, venue codes, rewards and batches."""

import re
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain import clock
from domain.errors import InvalidCommand
from domain.points_ledger import (
    Award,
    InsufficientPoints,
    MenuBudget,
    OverBudget,
    OverLimit,
    PointsAccount,
    SourceKind,
    Usage,
    award_id,
)
from domain.points_menu import Limit, MenuRule, SdgMenu, Trigger, check_rule
from domain.points_rewards import OutOfStock, PayoutBatch, Reward, Transfer, check_wallet_number
from domain.venue_code import ALPHABET, InvalidCode, VenueCode, code_id, code_text, read_code

JST = clock.CITY_TZ
KEY = b"k" * 32


def a_rule(**changes: object) -> MenuRule:
    fields: dict[str, object] = {
        "points": 100,
        "budget": 1000,
        "valid_from": date(2025, 4, 1),
        "valid_until": date(2026, 3, 31),
    }
    fields.update(changes)
    return MenuRule(**fields)  # type: ignore[arg-type]


def a_menu(rule: MenuRule | None = None, **changes: object) -> SdgMenu:
    fields: dict[str, object] = {
        "name": "健診受診",
        "sdg_goals": [3],
        "trigger": Trigger.BULK,
        "department": "健康増進課",
        "rule": rule or a_rule(),
        "defined_by": uuid4(),
    }
    fields.update(changes)
    return SdgMenu.define(**fields)  # type: ignore[arg-type]


def an_award(menu_id: UUID, points: int, earned_on: date, rule: MenuRule, source: str | None = None) -> Award:
    source = source or f"bulk:{uuid4()}"
    return Award(
        participant_id=uuid4(),
        menu_id=menu_id,
        menu_version=1,
        points=points,
        sdg_goals=[3],
        source_kind=SourceKind.BULK,
        source=source,
        caused_at=datetime(earned_on.year, earned_on.month, earned_on.day, 12, tzinfo=JST),
        earned_on=earned_on,
        expires_on=rule.expiry_for(earned_on),
        reason="",
        ward=None,
    )


def credit(account: PointsAccount, points: int, earned_on: date, rule: MenuRule, menu_id: UUID | None = None) -> UUID:
    """Credits an award of `points` earned on `earned_on` under `rule`; returns the award's id."""
    award = an_award(menu_id or uuid4(), points, earned_on, rule)
    account.credit(award, rule, earned_on, clock.fiscal_year(earned_on))
    return award.id


# Menus


def test_a_menu_rule_is_checked_field_by_field() -> None:
    assert check_rule(a_rule()) == {}
    errors = check_rule(
        a_rule(
            points=0, budget=0, valid_until=date(2025, 3, 31), limit=Limit.PER_YEAR, per_year=0, expires_after_days=0
        )
    )
    assert set(errors) == {"points", "budget", "valid_until", "per_year", "expires_after_days"}
    assert set(check_rule(a_rule(points=500, budget=400))) == {"budget"}  # less than one award
    assert check_rule(a_rule(points=500, budget=500)) == {}
    assert check_rule(a_rule(valid_from=date(2025, 5, 1), valid_until=date(2025, 5, 1))) == {}  # one day
    assert set(check_rule(a_rule(limit=Limit.PER_YEAR, per_year=367))) == {"per_year"}
    assert check_rule(a_rule(limit=Limit.ONCE, per_year=0)) == {}  # per_year only counts for PER_YEAR


def test_a_menu_is_checked_when_defined() -> None:
    with pytest.raises(InvalidCommand) as refused:
        a_menu(name=" ", sdg_goals=[18], department="", rule=a_rule(points=0))
    assert set(refused.value.field_errors) == {"name", "sdg_goals", "department", "points"}
    with pytest.raises(InvalidCommand) as no_goal:
        a_menu(sdg_goals=[])
    assert set(no_goal.value.field_errors) == {"sdg_goals"}
    with pytest.raises(InvalidCommand) as surveys:
        a_menu(trigger=Trigger.VENUE_CODE, survey_ids=[uuid4()])
    assert set(surveys.value.field_errors) == {"survey_ids"}
    menu = a_menu(name=" 健診受診 ", sdg_goals=[17, 3], trigger="survey_answered")
    assert (menu.name, menu.sdg_goals, menu.trigger, menu.rule_version) == (
        "健診受診",
        [3, 17],
        Trigger.SURVEY_ANSWERED,
        1,
    )
    assert menu.trigger.automatic and not Trigger.VENUE_CODE.automatic
    assert menu.covers_survey(uuid4())  # no list: every survey
    some = uuid4()
    only = a_menu(trigger=Trigger.SURVEY_ANSWERED, survey_ids=[some])
    assert only.covers_survey(some) and not only.covers_survey(uuid4())


def test_rule_at_gives_the_version_in_force_at_each_moment() -> None:
    defined = datetime(2025, 4, 1, 9, tzinfo=JST)
    changed = datetime(2025, 6, 1, 9, tzinfo=JST)
    first, second = a_rule(), a_rule(points=300)
    with clock.frozen_at(defined):
        menu = a_menu(first)
    with clock.frozen_at(changed):
        menu.change_rule(second, uuid4())
    assert menu.rule_at(defined - timedelta(microseconds=1)) is None  # before the menu existed
    assert menu.rule_at(defined) == (1, first)
    assert menu.rule_at(changed - timedelta(microseconds=1)) == (1, first)
    assert menu.rule_at(changed) == (2, second)
    assert menu.rule_at(changed + timedelta(days=400)) == (2, second)
    assert (menu.rule, menu.rule_version) == (second, 2)
    with pytest.raises(InvalidCommand):
        menu.change_rule(second, uuid4())  # nothing to change
    with pytest.raises(InvalidCommand) as bad:
        menu.change_rule(a_rule(points=0), uuid4())
    assert set(bad.value.field_errors) == {"points"}
    assert menu.rule_version == 2


# Per-person limits and fiscal years


def test_the_fiscal_year_turns_on_april_first_in_tokyo() -> None:
    last_moment = datetime(2026, 3, 31, 14, 59, 59, tzinfo=UTC)  # 23:59:59 JST
    first_moment = datetime(2026, 3, 31, 15, 0, tzinfo=UTC)  # 00:00 JST on 4/1
    assert clock.city_date(last_moment) == date(2026, 3, 31)
    assert clock.fiscal_year(clock.city_date(last_moment)) == 2025
    assert clock.city_date(first_moment) == date(2026, 4, 1)
    assert clock.fiscal_year(clock.city_date(first_moment)) == 2026


def test_usage_once_allows_one_award_ever() -> None:
    rule, usage = a_rule(limit=Limit.ONCE), Usage()
    assert usage.allows(rule, date(2025, 5, 1), 2025)
    usage.add(date(2025, 5, 1), 2025)
    assert not usage.allows(rule, date(2025, 5, 2), 2025)
    assert not usage.allows(rule, date(2026, 5, 1), 2026)  # not even in a later year


def test_usage_daily_allows_one_award_a_day() -> None:
    rule, usage = a_rule(limit=Limit.DAILY), Usage()
    usage.add(date(2025, 5, 1), 2025)
    assert not usage.allows(rule, date(2025, 5, 1), 2025)
    assert usage.allows(rule, date(2025, 5, 2), 2025)
    usage.add(date(2025, 5, 2), 2025)
    assert not usage.allows(rule, date(2025, 5, 2), 2025)


def test_usage_per_year_counts_within_each_fiscal_year() -> None:
    rule, usage = a_rule(limit=Limit.PER_YEAR, per_year=2), Usage()
    march_30, march_31, april_1 = date(2026, 3, 30), date(2026, 3, 31), date(2026, 4, 1)
    usage.add(march_30, 2025)
    assert usage.allows(rule, march_31, 2025)
    usage.add(march_31, 2025)
    assert not usage.allows(rule, march_31, 2025)  # two in FY2025 already
    assert usage.allows(rule, april_1, 2026)  # a new fiscal year starts again
    usage.add(april_1, 2026)
    usage.add(april_1, 2026)  # twice a day is fine for a per-year limit
    assert not usage.allows(rule, date(2027, 3, 31), 2026)
    assert usage.allows(rule, date(2027, 4, 1), 2027)


def test_usage_counts_an_award_decided_out_of_order() -> None:
    # Awards are decided in the order their saves win, not in the order of their causes: two claims
    # either side of midnight (or of April 1st), or an award from a lagging process, can arrive late.
    daily, usage = a_rule(limit=Limit.DAILY), Usage()
    usage.add(date(2026, 6, 2), 2026)
    assert usage.allows(daily, date(2026, 6, 1), 2026)
    usage.add(date(2026, 6, 1), 2026)
    assert not usage.allows(daily, date(2026, 6, 2), 2026)  # 6/2 has its award already
    per_year, yearly = a_rule(limit=Limit.PER_YEAR, per_year=1), Usage()
    yearly.add(date(2026, 4, 1), 2026)
    yearly.add(date(2026, 3, 31), 2025)
    assert not yearly.allows(per_year, date(2026, 4, 2), 2026)  # FY2026 has its award already


def test_the_account_refuses_an_award_over_the_persons_limit() -> None:
    menu = uuid4()
    daily = a_rule(limit=Limit.DAILY)
    account = PointsAccount(participant_id=uuid4())
    credit(account, 100, date(2025, 5, 1), daily, menu)
    with pytest.raises(OverLimit) as refused:
        credit(account, 100, date(2025, 5, 1), daily, menu)
    assert refused.value.code == "over_limit"
    credit(account, 100, date(2025, 5, 1), daily)  # another menu has its own count
    credit(account, 100, date(2025, 5, 2), daily, menu)
    assert account.balance(date(2025, 5, 2)) == 300
    per_year = a_rule(limit=Limit.PER_YEAR, per_year=3)
    other = uuid4()
    for _ in range(3):
        credit(account, 10, date(2026, 3, 31), per_year, other)
    with pytest.raises(OverLimit):
        credit(account, 10, date(2026, 3, 31), per_year, other)
    credit(account, 10, date(2026, 4, 1), per_year, other)


# Budgets


def test_a_budget_is_drawn_up_to_exactly_its_total() -> None:
    rule = a_rule(points=300, budget=1000)
    budget = MenuBudget(menu_id=uuid4(), fiscal_year=2025)
    for _ in range(3):
        budget.draw(uuid4(), 300, rule)
    with pytest.raises(OverBudget) as refused:
        budget.draw(uuid4(), 300, rule)
    assert refused.value.code == "over_budget"
    budget.draw(uuid4(), 100, rule)  # what is left still fits a smaller award
    assert budget.spent == 1000
    with pytest.raises(OverBudget):
        budget.draw(uuid4(), 1, rule)


# Expiry and spending


def test_points_expire_at_the_end_of_the_fiscal_year_or_after_n_days() -> None:
    end_of_year = a_rule()
    assert end_of_year.expiry_for(date(2025, 4, 1)) == date(2026, 3, 31)
    assert end_of_year.expiry_for(date(2026, 3, 31)) == date(2026, 3, 31)
    assert end_of_year.expiry_for(date(2026, 4, 1)) == date(2027, 3, 31)
    thirty = a_rule(expires_after_days=30)
    assert thirty.expiry_for(date(2026, 3, 15)) == date(2026, 4, 14)  # across the year's end
    account = PointsAccount(participant_id=uuid4())
    credit(account, 100, date(2026, 3, 1), end_of_year)
    credit(account, 40, date(2026, 3, 15), thirty)
    assert account.balance(date(2026, 3, 31)) == 140  # the last day still counts
    assert account.expiring(date(2026, 3, 20), date(2026, 3, 31)) == 100
    assert account.balance(date(2026, 4, 1)) == 40
    assert account.balance(date(2026, 4, 15)) == 0


def test_spending_draws_on_the_lots_that_expire_first_and_skips_expired_ones() -> None:
    account = PointsAccount(participant_id=uuid4())
    year_end = credit(account, 100, date(2025, 4, 10), a_rule())  # expires 2026-03-31
    soon = credit(account, 50, date(2025, 4, 10), a_rule(expires_after_days=30))  # 2025-05-10
    gone = credit(account, 30, date(2025, 4, 1), a_rule(expires_after_days=5))  # 2025-04-06
    today = date(2025, 4, 20)
    assert account.balance(today) == 150
    spending = uuid4()
    account.spend(spending, "reward", uuid4(), 120, today)
    spent = account.collect_events()[-1]
    assert isinstance(spent, PointsAccount.Spent)
    assert (spent.spending_id, spent.points, spent.drawn) == (spending, 120, [(soon, 50), (year_end, 70)])
    assert account.unspent(gone) == 30 and account.unspent(soon) == 0 and account.unspent(year_end) == 30
    assert account.balance(today) == 30


def test_the_balance_never_goes_below_zero() -> None:
    account = PointsAccount(participant_id=uuid4())
    today = date(2025, 6, 1)
    credit(account, 100, date(2025, 5, 1), a_rule())
    credit(account, 30, date(2025, 4, 1), a_rule(expires_after_days=10))  # expired: cannot be spent
    with pytest.raises(InsufficientPoints) as refused:
        account.spend(uuid4(), "transfer", uuid4(), 101, today)
    assert refused.value.code == "insufficient_points"
    for nothing in (0, -5):
        with pytest.raises(InvalidCommand):
            account.spend(uuid4(), "reward", uuid4(), nothing, today)
    account.spend(uuid4(), "reward", uuid4(), 100, today)
    assert account.balance(today) == 0
    with pytest.raises(InsufficientPoints):
        account.spend(uuid4(), "reward", uuid4(), 1, today)
    assert all(left >= 0 for left, _ in account.lots.values())


# Revocation


def test_revocation_takes_back_only_what_is_unspent() -> None:
    account = PointsAccount(participant_id=uuid4())
    today = date(2025, 6, 1)
    revoked = credit(account, 100, date(2025, 5, 1), a_rule())  # expires first: spent first
    credit(account, 100, date(2025, 5, 1), a_rule(expires_after_days=3650))
    account.spend(uuid4(), "reward", uuid4(), 70, today)
    assert account.take_back(revoked) == 30
    assert account.balance(today) == 100
    version = account.version
    assert account.take_back(revoked) == 0  # nothing left: no event
    assert account.take_back(uuid4()) == 0  # not this person's award
    assert account.version == version
    assert all(left >= 0 for left, _ in account.lots.values())


def test_an_award_is_revoked_once_and_with_a_reason() -> None:
    award = an_award(uuid4(), 100, date(2025, 5, 1), a_rule(), source="code:x:y")
    assert award.id == award_id(award.menu_id, "code:x:y")  # derived from menu and source
    with pytest.raises(InvalidCommand) as no_reason:
        award.revoke("  ", uuid4(), 0)
    assert set(no_reason.value.field_errors) == {"reason"}
    award.revoke("不正な取得のため", uuid4(), 30)
    assert award.revoked
    with pytest.raises(InvalidCommand):
        award.revoke("二重", uuid4(), 0)


# Venue codes


def test_a_venue_code_reads_back_to_its_id() -> None:
    number = bytes.fromhex("00c0ffee")
    text = code_text(KEY, number)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}", text)
    assert read_code(KEY, text) == code_id(number)
    assert read_code(KEY, f"  {text.lower().replace('-', ' ')} ") == code_id(number)
    assert read_code(KEY, text.replace("-", "")) == code_id(number)


def test_a_mistyped_crockford_letter_still_reads() -> None:
    # A number whose code shows both a 0 and a 1, so that O, I and L can stand in for them.
    number = next(n.to_bytes(4) for n in range(1000) if {"0", "1"} <= set(code_text(KEY, n.to_bytes(4))))
    text = code_text(KEY, number)
    for typed in (text.replace("0", "O"), text.replace("1", "I"), text.replace("1", "l"), text.replace("0", "o")):
        assert typed != text
        assert read_code(KEY, typed) == code_id(number)


def test_a_forged_or_mangled_code_is_refused() -> None:
    number = bytes.fromhex("12345678")
    text = code_text(KEY, number)
    last = text[-1]
    forged = text[:-1] + ALPHABET[(ALPHABET.index(last) + 1) % 32]  # one character of the tag
    other_number = code_text(KEY, bytes.fromhex("12345679"))[:9] + text[9:]  # tag of another number
    for bad in (
        forged,
        other_number,
        text[:-1],
        text + "0",
        text[:-1] + "U",
        "",
        "ああああ-ああああ-ああああ-ああああ",
    ):
        with pytest.raises(InvalidCode) as refused:
            read_code(KEY, bad)
        assert refused.value.code == "invalid_code" and set(refused.value.field_errors) == {"code"}
        assert isinstance(refused.value, InvalidCommand)  # 422
    with pytest.raises(InvalidCode):
        read_code(b"x" * 32, text)  # made under another key


def test_a_venue_code_is_valid_within_its_period_until_withdrawn() -> None:
    start = datetime(2025, 7, 1, 10, tzinfo=JST)
    end = datetime(2025, 7, 1, 17, tzinfo=JST)
    with pytest.raises(InvalidCommand) as backwards:
        VenueCode.issue(menu_id=uuid4(), label="清掃", valid_from=end, valid_until=start, issued_by=uuid4())
    assert set(backwards.value.field_errors) == {"valid_until"}
    with pytest.raises(InvalidCommand) as no_label:
        VenueCode.issue(menu_id=uuid4(), label=" ", valid_from=start, valid_until=end, issued_by=uuid4())
    assert set(no_label.value.field_errors) == {"label"}
    code = VenueCode.issue(menu_id=uuid4(), label="地域清掃 7月", valid_from=start, valid_until=end, issued_by=uuid4())
    assert code.id == code_id(code.number) and read_code(KEY, code.text(KEY)) == code.id
    assert not code.valid_at(start - timedelta(microseconds=1))
    assert code.valid_at(start) and code.valid_at(end - timedelta(microseconds=1))
    assert not code.valid_at(end)
    code.withdraw(uuid4())
    assert not code.valid_at(start + timedelta(hours=1))


# Rewards, transfers and payout batches


def test_a_reward_with_stock_runs_out_and_one_without_never_does() -> None:
    limited = Reward.offer(name="図書カード", partner="駅前書店", points=500, stock=2, offered_by=uuid4())
    limited.take(uuid4())
    limited.take(uuid4())
    with pytest.raises(OutOfStock) as refused:
        limited.take(uuid4())
    assert refused.value.code == "out_of_stock" and limited.stock == 0
    unlimited = Reward.offer(name="コーヒー1杯", partner="喫茶店", points=300, stock=None, offered_by=uuid4())
    version = unlimited.version
    for _ in range(5):
        unlimited.take(uuid4())
    assert unlimited.version == version  # nothing recorded, nothing to conflict on
    unlimited.withdraw(uuid4())
    with pytest.raises(InvalidCommand):
        unlimited.take(uuid4())
    with pytest.raises(InvalidCommand) as bad:
        Reward.offer(name="", partner="", points=0, stock=-1, offered_by=uuid4())
    assert set(bad.value.field_errors) == {"name", "partner", "points", "stock"}


def test_a_transfer_joins_one_payout_batch_only() -> None:
    first = Transfer(participant_id=uuid4(), points=300, wallet=b"sealed", spent_in=5)
    second = Transfer(participant_id=uuid4(), points=200, wallet=b"sealed", spent_in=2)
    batch = PayoutBatch.make([first, second], uuid4())
    assert (batch.transfer_ids, batch.points) == ([first.id, second.id], 500)
    assert first.batch_id == batch.id and second.batch_id == batch.id
    with pytest.raises(InvalidCommand):
        PayoutBatch.make([first], uuid4())
    with pytest.raises(InvalidCommand):
        PayoutBatch.make([], uuid4())
    third = Transfer(participant_id=uuid4(), points=100, wallet=b"sealed", spent_in=2)
    with pytest.raises(InvalidCommand):
        PayoutBatch.make([third, third], uuid4())  # listed twice


def test_a_wallet_number_is_eight_to_sixteen_digits() -> None:
    assert check_wallet_number("1234-5678") is None
    assert check_wallet_number(" 1234 5678 9012 3456 ") is None
    for bad in ("1234567", "12345678901234567", "１２３４５６７８", "abcdefgh", ""):
        assert check_wallet_number(bad) is not None
