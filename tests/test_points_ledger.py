"""The SDGs points ledger on both engines: each source awards once, budgets and per-person limits hold
and balances never go below zero under real concurrency; the awarding process follows the log (group
commit included), races and restarts without awarding twice; revocation and payout batches."""

import asyncio
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import msgspec
import pytest
from eventsourcing.utils import get_topic

from domain import clock
from domain.application import Kyoso
from domain.errors import InvalidCommand, NotAllowed
from domain.points_ledger import (
    AlreadyAwarded,
    Award,
    InsufficientPoints,
    NotValid,
    OverBudget,
    OverLimit,
    PointsAccount,
    award_id,
    budget_id,
)
from domain.points_menu import Limit, MenuRule, Trigger
from domain.proposal import COCREATION_WINDOW
from domain.response import response_id
from domain.values import Audience, Role
from domain.venue_code import InvalidCode, code_text, read_code
from projections.awarding import AwardingProcess
from projections.storage import Storage
from tests.conftest import World
from tests.support.threads import run_in_threads

JST = clock.CITY_TZ
DEPARTMENT = "子育て支援課"
GRANTED = get_topic(Award.Granted)


class Ledger:
    """Staff of one department, a way to make citizens, menus and codes, and to read the awards."""

    def __init__(self, storage: Storage) -> None:
        if storage.app.code_key is None:  # until Storage.open sets it from its signing keys
            storage.app.code_key = b"k" * 32
        self.storage = storage
        self.app = storage.app
        self.staff = self.app.register_participant(Role.STAFF, department=DEPARTMENT)

    def citizens(self, n: int) -> list[UUID]:
        return [self.app.register_participant(Role.CITIZEN) for _ in range(n)]

    def menu(self, trigger: Trigger, *, by: UUID | None = None, **rule: Any) -> UUID:
        today = clock.city_today()
        fields: dict[str, Any] = {
            "points": 100,
            "budget": 1_000_000,
            "valid_from": today - timedelta(days=1),
            "valid_until": today + timedelta(days=30),
        }
        fields.update(rule)
        name = {Trigger.SURVEY_ANSWERED: "市政アンケート回答", Trigger.VENUE_CODE: "地域清掃"}.get(trigger, "健診受診")
        return self.app.define_menu(
            by or self.staff, name=name, sdg_goals=[11, 17], trigger=trigger, rule=MenuRule(**fields)
        )

    def code(self, menu_id: UUID, start: datetime | None = None, end: datetime | None = None) -> str:
        now = clock.now()
        code = self.app.issue_code(
            self.staff,
            menu_id,
            label="地域清掃 中央公園",
            valid_from=start or now - timedelta(hours=1),
            valid_until=end or now + timedelta(hours=1),
        )
        return str(self.app.code_text(code))

    def earn(self, participant_id: UUID, points: int) -> UUID:
        """Gives the person `points` by a one-person bulk award; returns the award's id."""
        menu_id = self.menu(Trigger.BULK, points=points, budget=points)
        assert self.app.award_bulk(
            self.staff, menu_id, reference="テスト付与", participant_ids=[participant_id]
        ).awarded
        return award_id(menu_id, f"bulk:テスト付与:{participant_id}")

    def balance(self, participant_id: UUID) -> int:
        account = self.app.points_account(participant_id)
        return account.balance(clock.city_today()) if account else 0

    def spent(self, menu_id: UUID, day: date | None = None) -> int:
        budget = self.app.repository.get(budget_id(menu_id, clock.fiscal_year(day or clock.city_today())))
        return int(budget.spent)


def granted(app: Kyoso) -> list[Award.Granted]:
    """Every award recorded, read from the log itself."""
    notifications = app.recorder.select_notifications(start=None, limit=100_000, topics=[GRANTED])
    return [app.mapper.to_domain_event(n) for n in notifications]


def first_event(app: Kyoso, aggregate_id: UUID) -> Any:
    return next(iter(app.events.get(aggregate_id)))


def reopen(storage: Storage) -> Storage:
    """A second server process (or the same one restarted) on the same data."""
    other = Storage.open(storage.data_dir, storage.database_url)
    if other.app.code_key is None:
        other.app.code_key = storage.app.code_key
    return other


def outcomes_of(targets: list[Any]) -> tuple[list[Any], list[BaseException]]:
    """Runs the targets at once; what they returned, and what they raised."""
    returned: list[Any] = []

    def keeping(target: Any) -> Any:
        return lambda: returned.append(target())

    refused = run_in_threads([keeping(t) for t in targets])
    return returned, refused


@pytest.fixture
def ledger(storage: Storage) -> Ledger:
    return Ledger(storage)


# Venue codes: budgets, claims once, per-person limits


def test_fifty_concurrent_claims_against_a_budget_for_ten_make_ten_awards(ledger: Ledger) -> None:
    menu_id = ledger.menu(Trigger.VENUE_CODE, points=30, budget=300)
    text = ledger.code(menu_id)
    people = ledger.citizens(50)
    awards, refused = outcomes_of([lambda p=p: ledger.app.claim_code(p, text) for p in people])
    assert len(awards) == 10 and len(set(awards)) == 10
    assert len(refused) == 40 and all(type(e) is OverBudget and e.code == "over_budget" for e in refused)
    assert ledger.spent(menu_id) == 300
    assert sorted(ledger.balance(p) for p in people) == [0] * 40 + [30] * 10
    assert len(granted(ledger.app)) == 10


def test_one_citizen_claiming_one_code_ten_times_at_once_is_awarded_once(ledger: Ledger) -> None:
    menu_id = ledger.menu(Trigger.VENUE_CODE, limit=Limit.PER_YEAR, per_year=50)  # only the source stops it
    text = ledger.code(menu_id)
    (person,) = ledger.citizens(1)
    awards, refused = outcomes_of([lambda: ledger.app.claim_code(person, text) for _ in range(10)])
    day = clock.city_today().isoformat()
    assert awards == [award_id(menu_id, f"code:{read_code(ledger.app.code_key or b'', text)}:{person}:{day}")]
    assert len(refused) == 9 and all(type(e) is AlreadyAwarded and e.code == "already_claimed" for e in refused)
    with pytest.raises(AlreadyAwarded):
        ledger.app.claim_code(person, text)
    assert ledger.balance(person) == 100 and ledger.spent(menu_id) == 100


def test_a_daily_limit_allows_one_award_a_day_even_with_codes_claimed_at_once(ledger: Ledger) -> None:
    day_one = datetime(2026, 6, 1, 10, tzinfo=JST)
    day_two = day_one + timedelta(days=1)
    with clock.frozen_at(datetime(2026, 5, 1, 9, tzinfo=JST)):
        menu_id = ledger.menu(
            Trigger.VENUE_CODE, limit=Limit.DAILY, valid_from=date(2026, 4, 1), valid_until=date(2027, 3, 31)
        )
        codes = [
            ledger.code(menu_id, datetime(2026, 6, 1, tzinfo=JST), datetime(2026, 6, 3, tzinfo=JST)) for _ in range(7)
        ]
    person, neighbour = ledger.citizens(2)

    def claim(moment: datetime, who: UUID, text: str) -> UUID:
        with clock.frozen_at(moment):  # the clock is per thread
            return ledger.app.claim_code(who, text)

    awards, refused = outcomes_of([lambda t=t: claim(day_one, person, t) for t in codes[:5]])
    assert len(awards) == 1 and len(refused) == 4 and all(type(e) is OverLimit for e in refused)
    assert claim(day_one, neighbour, codes[1])  # the limit is each person's
    assert claim(day_two, person, codes[5])  # a new day
    with pytest.raises(OverLimit):
        claim(day_two + timedelta(hours=5), person, codes[6])
    assert ledger.spent(menu_id, date(2026, 6, 1)) == 300
    assert sorted(e.earned_on for e in granted(ledger.app) if e.participant_id == person) == [
        date(2026, 6, 1),
        date(2026, 6, 2),
    ]


def test_a_per_year_limit_allows_n_awards_in_each_fiscal_year(ledger: Ledger) -> None:
    last_evening = datetime(2026, 3, 31, 23, 0, tzinfo=JST)  # FY2025
    first_night = datetime(2026, 4, 1, 0, 30, tzinfo=JST)  # FY2026
    with clock.frozen_at(datetime(2025, 4, 1, 9, tzinfo=JST)):
        window = {"valid_from": date(2025, 4, 1), "valid_until": date(2027, 3, 31)}
        by_code = ledger.menu(Trigger.VENUE_CODE, limit=Limit.PER_YEAR, per_year=3, **window)
        by_list = ledger.menu(Trigger.BULK, limit=Limit.PER_YEAR, per_year=2, **window)
        codes = [
            ledger.code(by_code, last_evening - timedelta(hours=1), first_night + timedelta(hours=1)) for _ in range(7)
        ]
    person, other = ledger.citizens(2)

    def claim(text: str) -> UUID:
        with clock.frozen_at(last_evening):
            return ledger.app.claim_code(person, text)

    awards, refused = outcomes_of([lambda t=t: claim(t) for t in codes[:6]])
    assert len(awards) == 3 and len(refused) == 3 and all(type(e) is OverLimit for e in refused)
    with clock.frozen_at(first_night):
        assert ledger.app.claim_code(person, codes[6])  # a new fiscal year counts again

    def bulk(reference: str) -> Any:
        return ledger.app.award_bulk(ledger.staff, by_list, reference=reference, participant_ids=[person, other])

    with clock.frozen_at(last_evening):
        assert (bulk("春の健診").awarded, bulk("秋の健診").awarded) == (2, 2)
        third = bulk("冬の健診")
        assert (third.awarded, third.refused) == (0, [(1, "over_limit"), (2, "over_limit")])
    with clock.frozen_at(first_night):
        assert bulk("冬の健診").awarded == 2
    assert ledger.spent(by_list, date(2026, 3, 31)) == 400 and ledger.spent(by_list, date(2026, 4, 1)) == 200


# Spending


def test_twenty_concurrent_redemptions_and_transfers_never_overspend(ledger: Ledger) -> None:
    (person,) = ledger.citizens(1)
    ledger.earn(person, 1000)
    reward = ledger.app.offer_reward(ledger.staff, name="コーヒー1杯", partner="喫茶あまがさき", points=150)

    def redeem() -> int:
        ledger.app.redeem_reward(person, reward)
        return 150

    def transfer() -> int:
        ledger.app.transfer_to_wallet(person, 100, "1234-5678-9012")
        return 100

    spent, refused = outcomes_of([redeem, transfer] * 10)
    assert all(type(e) is InsufficientPoints and e.code == "insufficient_points" for e in refused), refused
    assert len(spent) + len(refused) == 20 and refused
    left = ledger.balance(person)
    assert left >= 0 and sum(spent) + left == 1000
    account = ledger.app.points_account(person)
    assert account is not None and all(points >= 0 for points, _ in account.lots.values())
    spendings = [e for e in ledger.app.events.get(account.id) if isinstance(e, PointsAccount.Spent)]
    assert sorted(e.points for e in spendings) == sorted(spent)
    # Each refusal saw less than it needed, and the balance only went down since: nothing was refused
    # that could have been paid.
    assert left < 100


# Bulk awards


def test_a_bulk_award_is_idempotent_per_row_and_reports_refused_rows(ledger: Ledger) -> None:
    menu_id = ledger.menu(Trigger.BULK, points=100, budget=300)
    a, b, c, d = ledger.citizens(4)
    rows = [a, b, ledger.staff, uuid4(), c, d]
    first = ledger.app.award_bulk(ledger.staff, menu_id, reference="2026年11月 特定健診", participant_ids=rows)
    assert (first.awarded, first.already) == (3, 0)
    assert first.refused == [(3, "not_allowed"), (4, "not_found"), (6, "over_budget")]
    again = ledger.app.award_bulk(ledger.staff, menu_id, reference=" 2026年11月 特定健診 ", participant_ids=rows)
    assert again.awarded == 0
    assert [ledger.balance(p) for p in (a, b, c, d)] == [100, 100, 100, 0]
    assert ledger.spent(menu_id) == 300 and len(granted(ledger.app)) == 3
    with pytest.raises(NotAllowed):
        ledger.app.award_bulk(a, menu_id, reference="x", participant_ids=[a])
    with pytest.raises(InvalidCommand) as no_reference:
        ledger.app.award_bulk(ledger.staff, menu_id, reference=" ", participant_ids=[a])
    assert set(no_reference.value.field_errors) == {"reference"}
    with pytest.raises(InvalidCommand):
        ledger.app.award_bulk(ledger.staff, ledger.menu(Trigger.VENUE_CODE), reference="x", participant_ids=[a])


def test_the_same_list_again_reports_its_awarded_rows_as_already_awarded(ledger: Ledger) -> None:
    once = ledger.menu(Trigger.BULK)  # a once-only menu with budget left
    spent_out = ledger.menu(Trigger.BULK, limit=Limit.PER_YEAR, per_year=5, budget=200)  # budget used up
    a, b = ledger.citizens(2)
    outcomes = []
    for menu_id in (once, spent_out):
        assert ledger.app.award_bulk(ledger.staff, menu_id, reference="健診", participant_ids=[a, b]).awarded == 2
        again = ledger.app.award_bulk(ledger.staff, menu_id, reference="健診", participant_ids=[a, b])
        outcomes.append((again.awarded, again.already, again.refused))
    assert outcomes == [(0, 2, []), (0, 2, [])]


def test_a_bulk_list_naming_a_person_twice_awards_them_once(ledger: Ledger) -> None:
    menu_id = ledger.menu(Trigger.BULK, limit=Limit.PER_YEAR, per_year=3)
    person, other = ledger.citizens(2)
    outcome = ledger.app.award_bulk(ledger.staff, menu_id, reference="健診", participant_ids=[person, other, person])
    assert outcome.awarded == 2 and outcome.awarded + outcome.already + len(outcome.refused) == 3
    assert ledger.balance(person) == 100 and ledger.balance(other) == 100


# Code validity and rule changes


def test_a_code_outside_its_period_withdrawn_or_forged_is_refused(ledger: Ledger) -> None:
    now = clock.now()
    menu_id = ledger.menu(Trigger.VENUE_CODE)
    (person,) = ledger.citizens(1)
    early = ledger.code(menu_id, now + timedelta(hours=1), now + timedelta(hours=2))
    late = ledger.code(menu_id, now - timedelta(hours=2), now - timedelta(minutes=1))
    code_id = ledger.app.issue_code(
        ledger.staff, menu_id, label="x", valid_from=now - timedelta(hours=1), valid_until=now + timedelta(hours=1)
    )
    ledger.app.withdraw_code(ledger.staff, code_id)
    withdrawn = ledger.app.code_text(code_id)
    today = clock.city_today()
    ended = ledger.menu(Trigger.VENUE_CODE, valid_from=today - timedelta(30), valid_until=today - timedelta(1))
    for text in (early, late, withdrawn, ledger.code(ended)):
        with pytest.raises(NotValid) as refused:
            ledger.app.claim_code(person, text)
        assert refused.value.code == "expired"
    good = ledger.code(menu_id)
    forged = good[:-1] + ("0" if good[-1] != "0" else "1")
    never_issued = code_text(ledger.app.code_key or b"", b"\x00\x00\x00\x01")
    with pytest.raises(NotAllowed):
        ledger.app.claim_code(ledger.staff, good)  # staff accounts do not earn
    with pytest.raises(InvalidCommand):
        ledger.app.issue_code(
            ledger.staff, ledger.menu(Trigger.BULK), label="x", valid_from=now, valid_until=now + timedelta(1)
        )
    for text in (forged, never_issued, "not a code"):
        with pytest.raises(InvalidCode):
            ledger.app.claim_code(person, text)
    assert ledger.app.points_account(person) is None and granted(ledger.app) == []
    assert ledger.app.claim_code(person, good)


def test_a_menu_rule_change_applies_to_claims_from_that_moment(ledger: Ledger) -> None:
    menu_id = ledger.menu(Trigger.VENUE_CODE, points=100)
    text = ledger.code(menu_id)
    before, after = ledger.citizens(2)
    first = ledger.app.claim_code(before, text)
    rule = ledger.app.get_menu(menu_id).rule
    ledger.app.change_menu_rule(ledger.staff, menu_id, msgspec.structs.replace(rule, points=250))
    second = ledger.app.claim_code(after, text)
    assert (first_event(ledger.app, first).menu_version, first_event(ledger.app, first).points) == (1, 100)
    assert (first_event(ledger.app, second).menu_version, first_event(ledger.app, second).points) == (2, 250)
    assert (ledger.balance(before), ledger.balance(after)) == (100, 250)
    assert ledger.spent(menu_id) == 350
    other_department = ledger.app.register_participant(Role.STAFF, department="環境保全課")
    with pytest.raises(NotAllowed):
        ledger.app.change_menu_rule(other_department, menu_id, rule)


# The awarding process


def answer(world: World, people: list[UUID]) -> None:
    """Through the group-commit hot path, all at once."""
    app = world.storage.app
    assert (
        run_in_threads([lambda p=p: app.submit_response(world.survey, p, world.valid_answers()) for p in people]) == []
    )


def test_answers_earn_the_survey_menus_points_once_and_staff_answers_earn_nothing(ledger: Ledger, world: World) -> None:
    app = ledger.app
    menu_id = ledger.menu(Trigger.SURVEY_ANSWERED, by=world.staff, points=50)
    elsewhere = app.draft_survey(staff_id=world.staff, title="別のアンケート")
    app.define_menu(
        world.staff, name="別アンケート回答", sdg_goals=[4], trigger="survey_answered", rule=app.get_menu(menu_id).rule,
        survey_ids=[elsewhere],
    )  # fmt: skip
    people = [world.citizen, *world.citizens(4)]
    answer(world, people[:4])

    async def answer_async(person: UUID) -> UUID:  # as the API does
        return await asyncio.wrap_future(
            app.record_response(app.check_response(world.survey, person, world.valid_answers()))
        )

    asyncio.run(answer_async(people[4]))
    staff_survey = app.draft_survey(staff_id=world.staff, title="職員意識調査", audience=Audience.STAFF)
    question = app.add_question(
        staff_survey, staff_id=world.staff, kind="single", text="満足?", options=["はい", "いいえ"]
    )
    app.publish_survey(staff_survey, staff_id=world.staff)
    app.submit_response(staff_survey, world.staff, {question: 0})
    admin = app.register_participant(Role.ADMIN, department="総務課")
    app.submit_response(world.survey, admin, world.valid_answers())

    process = AwardingProcess(app)
    assert process.catch_up() == 5
    assert process.catch_up() == 0 and AwardingProcess(app).catch_up() == 0
    assert [ledger.balance(p) for p in people] == [50] * 5
    assert app.points_account(world.staff) is None and app.points_account(admin) is None
    awards = granted(app)
    assert sorted(e.source for e in awards) == sorted(f"response:{response_id(world.survey, p)}" for p in people)
    assert all(e.menu_id == menu_id and e.sdg_goals == [11, 17] and e.menu_version == 1 for e in awards)
    assert ledger.spent(menu_id) == 250


def test_two_awarding_processes_racing_award_each_cause_once(ledger: Ledger, world: World) -> None:
    ledger.menu(Trigger.SURVEY_ANSWERED, by=world.staff, points=50)
    people = world.citizens(12)
    answer(world, people)
    other = reopen(ledger.storage)
    try:
        racers = [AwardingProcess(ledger.app, batch_size=2), AwardingProcess(other.app, batch_size=2)]
        counts, errors = outcomes_of([r.catch_up for r in racers])
        assert errors == [] and sum(counts) == 12
        assert [r.catch_up() for r in racers] == [0, 0]
    finally:
        other.close()
    sources = [e.source for e in granted(ledger.app)]
    assert len(sources) == len(set(sources)) == 12
    assert [ledger.balance(p) for p in people] == [50] * 12


def test_an_adopted_idea_and_an_agreed_proposal_award_their_authors(ledger: Ledger, world: World) -> None:
    app = ledger.app
    adopted = ledger.menu(Trigger.IDEA_ADOPTED, by=world.staff, points=500)
    agreed = ledger.menu(Trigger.PROPOSAL_AGREED, by=world.staff, points=3000)
    idea = app.submit_idea(world.citizen, title="公園にベンチを", body="木陰に", department=DEPARTMENT)
    declined = app.submit_idea(world.citizen, title="噴水を", body="広場に", department=DEPARTMENT)
    app.change_idea_status(idea, staff_id=world.staff, status="considering")
    app.change_idea_status(declined, staff_id=world.staff, status="considering")
    business = app.register_participant(Role.BUSINESS)
    app.register_organisation(
        business, kind="corporation", name="トヨタ自動車株式会社", corporate_number="1180301018771"
    )
    window = app.register_participant(Role.STAFF, department=COCREATION_WINDOW)
    texts = {"title": "食品ロス見える化", "summary": "要約", "plan": "計画", "effect": "効果"}
    proposal = app.submit_proposal(business, challenge_id=None, submission_key=uuid4(), texts=texts, cost_yen=0)
    app.change_proposal_stage(proposal, staff_id=window, stage="in_dialogue")
    process = AwardingProcess(app)
    assert process.catch_up() == 0  # nothing decided yet
    app.change_idea_status(idea, staff_id=world.staff, status="decided")
    app.change_proposal_stage(proposal, staff_id=window, stage="agreement")
    app.change_proposal_stage(proposal, staff_id=window, stage="pilot")  # a later stage earns nothing more
    assert process.catch_up() == 2
    assert ledger.balance(world.citizen) == 500 and ledger.balance(business) == 3000
    assert {(e.menu_id, e.source) for e in granted(app)} == {
        (adopted, f"idea-adopted:{idea}"),
        (agreed, f"proposal-agreed:{proposal}"),
    }


def test_the_awarding_process_resumes_after_a_crash_without_double_awards(ledger: Ledger, world: World) -> None:
    ledger.menu(Trigger.SURVEY_ANSWERED, by=world.staff, points=50)
    people = world.citizens(7)
    for person in people:  # one by one: one position each
        ledger.app.submit_response(world.survey, person, world.valid_answers())

    class Crash(Exception):
        pass

    def crash(done: int, total: int) -> None:  # after the first batch's commit
        raise Crash()

    with pytest.raises(Crash):
        AwardingProcess(ledger.app, batch_size=3).catch_up(progress=crash)  # the menu and two answers
    assert len(granted(ledger.app)) == 2
    reached = AwardingProcess(ledger.app).position()
    restarted = reopen(ledger.storage)
    try:
        process = AwardingProcess(restarted.app, batch_size=3)
        assert process.position() == reached > 0
        assert process.catch_up() == 5 and process.catch_up() == 0
    finally:
        restarted.close()
    assert AwardingProcess(ledger.app).catch_up() == 0
    sources = [e.source for e in granted(ledger.app)]
    assert len(sources) == len(set(sources)) == 7
    assert [ledger.balance(p) for p in people] == [50] * 7


def test_causes_are_judged_by_the_menu_as_it_stood_when_they_happened(ledger: Ledger, world: World) -> None:
    app = ledger.app
    today = clock.city_today()
    ledger.menu(
        Trigger.SURVEY_ANSWERED, by=world.staff, valid_from=today - timedelta(30), valid_until=today - timedelta(1)
    )
    current = ledger.menu(Trigger.SURVEY_ANSWERED, by=world.staff, points=50)
    early, late = world.citizens(2)
    app.submit_response(world.survey, early, world.valid_answers())
    app.change_menu_rule(world.staff, current, msgspec.structs.replace(app.get_menu(current).rule, points=80))
    app.submit_response(world.survey, late, world.valid_answers())
    ledger.menu(Trigger.SURVEY_ANSWERED, by=world.staff)  # defined after both answers
    assert AwardingProcess(app).catch_up() == 2
    by_person = {e.participant_id: e for e in granted(app)}
    assert (by_person[early].menu_id, by_person[early].menu_version, by_person[early].points) == (current, 1, 50)
    assert (by_person[late].menu_id, by_person[late].menu_version, by_person[late].points) == (current, 2, 80)
    assert (ledger.balance(early), ledger.balance(late)) == (50, 80)


# Revocation


def test_revocation_after_partial_spending_takes_back_only_the_rest_and_only_once(ledger: Ledger) -> None:
    person, untouched = ledger.citizens(2)
    award = ledger.earn(person, 500)
    ledger.app.transfer_to_wallet(person, 300, "12345678")
    with pytest.raises(NotAllowed):
        ledger.app.revoke_award(person, award, "自分で")
    assert ledger.app.revoke_award(ledger.staff, award, "対象外の参加者でした") == 200
    assert ledger.balance(person) == 0
    with pytest.raises(InvalidCommand):
        ledger.app.revoke_award(ledger.staff, award, "二重取り消し")
    account = ledger.app.points_account(person)
    assert account is not None and account.lots[award][0] == 0
    revoked = [e for e in ledger.app.events.get(award) if isinstance(e, Award.Revoked)]
    assert [(e.reason, e.points_removed, e.revoked_by) for e in revoked] == [
        ("対象外の参加者でした", 200, ledger.staff)
    ]
    whole = ledger.earn(untouched, 400)
    assert ledger.app.revoke_award(ledger.staff, whole, "不正取得") == 400 and ledger.balance(untouched) == 0
    with pytest.raises(InsufficientPoints):
        ledger.app.transfer_to_wallet(untouched, 100, "12345678")


# Payout batches


def test_two_staff_batching_the_same_transfers_at_once_make_one_batch(ledger: Ledger) -> None:
    app = ledger.app
    person, other = ledger.citizens(2)
    ledger.earn(person, 1000)
    ledger.earn(other, 500)
    transfers = [
        app.transfer_to_wallet(person, 300, "1234-5678"),
        app.transfer_to_wallet(person, 200, "1234 5678 9012"),
        app.transfer_to_wallet(other, 500, "87654321"),
    ]
    second_staff = app.register_participant(Role.ADMIN, department="総務課")
    batches, refused = outcomes_of(
        [lambda s=s: app.make_payout_batch(s, transfers) for s in (ledger.staff, second_staff)]
    )
    assert len(batches) == 1 and len(refused) == 1 and type(refused[0]) is InvalidCommand
    (batch,) = batches
    with pytest.raises(InvalidCommand):
        app.make_payout_batch(ledger.staff, transfers[:1])
    lines = app.payout_lines(batch)
    assert [(line["line"], line["transfer_id"], line["points"], line["yen"]) for line in lines] == [
        (1, str(transfers[0]), 300, 300),
        (2, str(transfers[1]), 200, 200),
        (3, str(transfers[2]), 500, 500),
    ]
    assert [line["wallet_number"] for line in lines] == ["12345678", "123456789012", "87654321"]
    for line, transfer_id in zip(lines, transfers, strict=True):
        transfer = app.repository.get(transfer_id)
        assert transfer.batch_id == batch and line["participant"] == str(transfer.participant_id)
        account = app.points_account(transfer.participant_id)
        assert account is not None
        assert line["events"] == (
            f"Transfer {transfer_id} v1; PointsAccount {account.id} v{transfer.spent_in}; PayoutBatch {batch} v1"
        )
        (spent,) = [e for e in app.events.get(account.id) if e.originator_version == transfer.spent_in]
        assert (
            isinstance(spent, PointsAccount.Spent) and spent.reference == transfer_id and spent.points == line["points"]
        )
    ledger.storage.erase(person)
    assert [line["wallet_number"] for line in app.payout_lines(batch)] == [None, None, "87654321"]
