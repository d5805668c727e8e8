# ruff: noqa: E501  (long Japanese demo names read better whole)
"""Demo data for SDGs points: twenty menus across the 17 goals, a year of awards by venue code and
by staff list, one business-funded menu, partner shops' rewards, redemptions, transfers to the
regional-currency wallet and a payout batch, each step stamped at its moment (clock.frozen_at).

The menus that award on platform activity (answering a survey, an idea reaching 実施決定, a
proposal reaching 協定締結) are defined in the surveys' own timeline, before the first answer, so
that the awarding process, which follows the event log, awards every demo answer; the rest comes
after the co-creation demo, whose organisation funds one menu.
"""

import contextlib
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from uuid import UUID

from domain import clock
from domain.points_ledger import PointsRefused
from domain.points_menu import Limit, MenuRule, Trigger
from domain.values import Ward
from projections.storage import Storage

CHILDCARE = "子育て支援課"
Step = tuple[datetime, int, Callable[[], Any]]


class Menu(NamedTuple):
    name: str
    department: str
    goals: list[int]
    trigger: Trigger
    points: int
    budget: int
    limit: Limit = Limit.ONCE
    per_year: int = 1
    expires_after_days: int | None = None


SURVEY_MENU = "市政アンケート回答"
AUTOMATIC = {
    "survey": Menu(SURVEY_MENU, "デジタル推進課", [16, 17], Trigger.SURVEY_ANSWERED, 50, 600_000, Limit.PER_YEAR, 12),
    "idea": Menu(
        "市民提案の実施決定", "共創推進課", [11, 16, 17], Trigger.IDEA_ADOPTED, 500, 50_000, Limit.PER_YEAR, 3
    ),
    "proposal": Menu(
        "事業者提案の協定締結", "共創推進課", [8, 9, 17], Trigger.PROPOSAL_AGREED, 500, 20_000, Limit.PER_YEAR, 2
    ),
}
MENUS = {
    "checkup": Menu("乳幼児健診の受診", CHILDCARE, [3], Trigger.BULK, 300, 1_200_000, Limit.PER_YEAR, 4),
    "kosodate": Menu("子育て講座への参加", CHILDCARE, [4, 5], Trigger.VENUE_CODE, 100, 300_000, Limit.PER_YEAR, 6),
    "yomikikase": Menu("図書館の親子読み聞かせ会", CHILDCARE, [4], Trigger.VENUE_CODE, 30, 60_000, Limit.DAILY),
    "shokudo": Menu(
        "子ども食堂ボランティア", CHILDCARE, [1, 2, 10], Trigger.VENUE_CODE, 150, 150_000, Limit.PER_YEAR, 12
    ),
    "cleanup": Menu(
        "地域清掃（クリーン作戦）", "環境保全課", [11, 12, 14], Trigger.VENUE_CODE, 100, 300_000, Limit.DAILY
    ),
    "food": Menu(
        "フードドライブへの食品寄付", "環境保全課", [1, 2, 12], Trigger.VENUE_CODE, 50, 200_000, Limit.PER_YEAR, 4
    ),
    "curtain": Menu("緑のカーテン講習会", "環境保全課", [7, 13], Trigger.VENUE_CODE, 100, 50_000),
    "energy": Menu("家庭の省エネ診断", "環境保全課", [7, 13], Trigger.BULK, 300, 300_000),
    "recycle": Menu("小型家電・古着の拠点回収", "環境保全課", [12], Trigger.VENUE_CODE, 30, 100_000, Limit.PER_YEAR, 6),
    "bousai": Menu("防災訓練への参加", "危機管理課", [11, 13], Trigger.VENUE_CODE, 200, 1_000_000, Limit.PER_YEAR, 2),
    "blood": Menu("献血への協力（市役所献血バス）", "危機管理課", [3], Trigger.BULK, 200, 200_000, Limit.PER_YEAR, 3),
    "flowers": Menu(
        "公園の花壇づくりボランティア", "公園計画課", [11, 15], Trigger.VENUE_CODE, 150, 300_000, Limit.PER_YEAR, 12
    ),
    "river": Menu("武庫川河川敷の清掃", "公園計画課", [6, 14, 15], Trigger.VENUE_CODE, 150, 150_000, Limit.DAILY),
    "bicycle": Menu(
        "公共駐輪場の定期利用", "公共施設マネジメント課", [11, 13], Trigger.BULK, 30, 500_000, Limit.PER_YEAR, 12
    ),
    "smartphone": Menu(
        "スマホ教室への参加", "デジタル推進課", [4, 9, 10], Trigger.VENUE_CODE, 100, 200_000, Limit.PER_YEAR, 3
    ),
    "tabunka": Menu(
        "多文化共生サロン（日本語ボランティア）",
        "共創推進課",
        [4, 10],
        Trigger.VENUE_CODE,
        150,
        100_000,
        Limit.PER_YEAR,
        12,
    ),
}
# Funded by the demo's business (株式会社あまがさきデジタル), whose member issues its codes;
# points from it can be spent for 180 days after they are earned.
FUNDED = Menu("親子プログラミング体験会（協賛：株式会社あまがさきデジタル）", "共創推進課", [4, 9, 17],
              Trigger.VENUE_CODE, 150, 100_000, Limit.PER_YEAR, 4, 180)  # fmt: skip

# Venue events: menu, label ({ward}/{place} filled in), days between events, claimants, hours.
PLACES = ["中央地区会館", "小田地区会館", "大庄地区会館", "立花地区会館", "武庫地区会館", "園田地区会館"]
EVENTS: list[tuple[str, str, int, tuple[int, int], tuple[int, int]]] = [
    ("cleanup", "{ward}地区 クリーン作戦", 42, (8, 14), (9, 11)),
    ("bousai", "{ward}地区 総合防災訓練", 95, (10, 16), (9, 12)),
    ("smartphone", "スマホ教室（{place}）", 45, (4, 8), (13, 15)),
    ("kosodate", "子育て講座（{place}）", 40, (4, 7), (10, 12)),
    ("yomikikase", "中央図書館 親子読み聞かせ会", 45, (3, 6), (10, 11)),
    ("shokudo", "子ども食堂（{place}）", 45, (2, 4), (16, 19)),
    ("food", "フードドライブ（{place}）", 60, (5, 9), (10, 15)),
    ("curtain", "緑のカーテン講習会（{place}）", 365, (6, 10), (14, 16)),
    ("recycle", "小型家電・古着回収（{place}）", 75, (5, 8), (9, 12)),
    ("flowers", "{park} 花壇づくり", 60, (4, 7), (9, 11)),
    ("river", "武庫川河川敷クリーンアップ", 120, (10, 15), (9, 11)),
    ("tabunka", "多文化共生サロン（{place}）", 60, (2, 4), (18, 20)),
]
# Events held only in some months (緑のカーテン is planted in early summer).
SEASONS = {"curtain": (5, 6)}
PARKS = ["橘公園", "記念公園", "小田南公園", "尼崎の森中央緑地"]

REWARDS = [
    ("出屋敷商店街 お買い物券（500円分）", "出屋敷商店街振興組合", 500, None),
    ("ドリンク1杯（森のカフェ）", "森のカフェ 尼崎の森中央緑地店", 300, 60),
    ("焼き菓子セット", "ベーカリー立花", 400, 30),
    ("市内銭湯 入浴券", "尼崎市内公衆浴場（協力10店）", 450, None),
    ("レンタサイクル1日無料券", "あまがさきシェアサイクル", 200, 100),
    ("地元野菜の詰め合わせ", "園田ファーマーズマーケット", 800, 20),
    ("子ども向け工作キット", "武庫之荘こども文具店", 250, 40),
]
WALLET_NUMBERS = ["810023456789", "810098761234", "810055512340"]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=clock.CITY_TZ)


def _rule(menu: Menu, valid_from: date, valid_until: date) -> MenuRule:
    return MenuRule(
        points=menu.points,
        budget=menu.budget,
        valid_from=valid_from,
        valid_until=valid_until,
        limit=menu.limit,
        per_year=menu.per_year,
        expires_after_days=menu.expires_after_days,
    )


def _fiscal_start(day: date) -> date:
    return date(clock.fiscal_year(day), 4, 1)


def _fiscal_end(day: date) -> date:
    return date(clock.fiscal_year(day) + 1, 3, 31)


class PointsDemo:
    """The points demo in two parts: `automatic_menus()`, a step for the surveys' timeline, and
    `load()`, after the ideas and co-creation demos; it returns the venue code to try today."""

    def __init__(self, storage: Storage, ids: dict[str, UUID], citizens: list[UUID], seed: int = 9) -> None:
        self.storage = storage
        self.app = storage.app
        self.ids = ids
        self.citizens = citizens
        self.rng = random.Random(seed)
        self.today = clock.city_today()
        # Nobody earns before they exist: the year of awards starts the day after the demo's sign-ups.
        signed_up = clock.city_date(self.app.get_participant(ids["admin"]).created_on)
        self.first_day = max(self.today - timedelta(days=365), signed_up + timedelta(days=1))
        self.valid_from = _fiscal_start(self.first_day)
        self.menus: dict[str, UUID] = {}
        self.rewards: list[UUID] = []
        self.claimed: list[UUID] = []
        # Points each person was given here, roughly (refusals ignored): who to look at for spending.
        self.earned: dict[UUID, int] = dict.fromkeys(citizens, 0)
        self.today_code = ""

    def _staff_for(self, menu: Menu) -> UUID:
        return self.ids["staff"] if menu.department == CHILDCARE else self.ids["admin"]

    def _define(self, key: str, menu: Menu, valid_until: date, funder: UUID | None = None) -> None:
        self.menus[key] = self.app.define_menu(
            self._staff_for(menu),
            name=menu.name,
            sdg_goals=menu.goals,
            trigger=menu.trigger,
            department=menu.department,
            rule=_rule(menu, self.valid_from, valid_until),
            funder_id=funder,
        )

    def automatic_menus(self) -> Step:
        """Defines the menus that award on activity: every citizens' survey carries points (no
        survey named), valid until the end of the fiscal year in which the open surveys close."""

        def define() -> None:
            for key, menu in AUTOMATIC.items():
                until = _fiscal_end(self.today + timedelta(days=90)) if key == "survey" else _fiscal_end(self.today)
                self._define(key, menu, until)

        return (_at(self.first_day, 10), 0, define)

    def load(self) -> list[tuple[str, str]]:
        """Loads the rest, runs the awarding process and the projector, and returns the venue code
        valid today as a line for the demo's output."""
        steps: list[Step] = []
        attributes = {p: self.app.get_participant(p).attributes for p in self.citizens}
        citizen = self.ids["citizen"]

        def define_all() -> None:
            for key, menu in MENUS.items():
                self._define(key, menu, _fiscal_end(self.today))

        steps.append((_at(self.first_day, 10, 30), 0, define_all))
        steps.append((_at(self.first_day + timedelta(days=3), 11), 1, self._offer_rewards))
        for key, label, every, claimants, hours in EVENTS:
            day = self.first_day + timedelta(days=5 + self.rng.randrange(every // 2 + 1))
            number = 0
            while day < self.today:
                day += timedelta(days=(5 - day.weekday()) % 7)  # the Saturday on or after
                while key in SEASONS and day.month not in SEASONS[key]:
                    day += timedelta(days=7)
                if day >= self.today:
                    break
                ward = list(Ward)[number % len(Ward)]
                text = label.format(ward=ward.label, place=self.rng.choice(PLACES), park=self.rng.choice(PARKS))
                locals_first = sorted(self.citizens, key=lambda p: (attributes[p].ward != ward, self.rng.random()))
                people = locals_first[: self.rng.randint(*claimants)]
                if number % 3 == 0 and key not in ("shokudo", "tabunka"):
                    people.append(citizen)  # 尼崎 花子 goes to some of them
                steps.extend(self._event(key, text, day, hours, people))
                day += timedelta(days=every)
                number += 1
        steps.extend(self._bulk_lists(attributes))
        steps.extend(self._spending())
        steps.extend(self._codes_for_today())
        steps.append((_at(self.today - timedelta(days=90), 10), 1, self._raise_cleanup_budget))
        steps.extend(self._funded())
        now = clock.now()
        steps = [step for step in steps if step[0] < now]
        steps.sort(key=lambda step: (step[0], step[1]))
        for at, _, action in steps:
            with clock.frozen_at(at):
                action()
        self.storage.catch_up()
        return [("会場コード", self.today_code)] if self.today_code else []

    # Venue codes and their claims

    def _event(self, key: str, label: str, day: date, hours: tuple[int, int], people: list[UUID],
               issuer: UUID | None = None) -> list[Step]:  # fmt: skip
        menu = MENUS.get(key) or FUNDED
        codes: dict[str, str] = {}
        start, end = _at(day, hours[0]), _at(day, hours[1])

        def issue() -> None:
            code = self.app.issue_code(
                issuer or self._staff_for(menu), self.menus[key], label=label, valid_from=start, valid_until=end
            )
            codes["text"] = self.app.code_text(code)

        steps: list[Step] = [(start - timedelta(minutes=30), 1, issue)]
        span = (end - start).total_seconds()
        for person in people:
            at = start + timedelta(seconds=span * (0.3 + 0.7 * self.rng.random()))
            steps.append((at, 2, lambda p=person: self._claim(p, codes["text"], menu.points)))
        return steps

    def _claim(self, person: UUID, text: str, points: int) -> None:
        try:
            self.claimed.append(self.app.claim_code(person, text))
            if person in self.earned:
                self.earned[person] += points
        except PointsRefused:
            pass  # Over a limit (twice in a day, or a year's quota): refused, as it would be at the venue.

    def _codes_for_today(self) -> list[Step]:
        """A clean-up this week whose code can be typed in at /me/points now, one announced for next
        month (not yet valid), and one withdrawn after a change of venue."""
        yesterday = self.today - timedelta(days=1)
        label = "中央地区 クリーン作戦（今週末）"

        def issue_today() -> None:
            code = self.app.issue_code(
                self.ids["admin"], self.menus["cleanup"], label=label,
                valid_from=_at(yesterday, 9), valid_until=_at(self.today + timedelta(days=7), 17),
            )  # fmt: skip
            self.today_code = f"{self.app.code_text(code)}（/points/claim で入力）"

        def issue_later() -> None:
            day = self.today + timedelta(days=30)
            self.app.issue_code(
                self.ids["admin"], self.menus["bousai"], label="園田地区 総合防災訓練（来月）",
                valid_from=_at(day, 9), valid_until=_at(day, 12),
            )  # fmt: skip

        withdrawn: list[UUID] = []
        moved = self.today - timedelta(days=20)

        def issue_moved() -> None:
            withdrawn.append(self.app.issue_code(
                self.ids["admin"], self.menus["recycle"], label="小型家電回収（会場変更のため取消）",
                valid_from=_at(moved, 9), valid_until=_at(moved, 12),
            ))  # fmt: skip

        return [
            (_at(yesterday, 8, 30), 1, issue_today),
            (_at(yesterday, 8, 40), 1, issue_later),
            (_at(moved - timedelta(days=6), 10), 1, issue_moved),
            (_at(moved - timedelta(days=2), 16), 1, lambda: self.app.withdraw_code(self.ids["admin"], withdrawn[0])),
        ]

    def _raise_cleanup_budget(self) -> None:
        """A rule change mid-year (補正予算): it applies from this moment on, earlier awards keep theirs."""
        menu = self.app.get_menu(self.menus["cleanup"])
        rule = menu.rule
        self.app.change_menu_rule(
            self.ids["admin"],
            menu.id,
            MenuRule(
                points=120, budget=rule.budget + 200_000, valid_from=rule.valid_from, valid_until=rule.valid_until,
                limit=rule.limit, per_year=rule.per_year, expires_after_days=rule.expires_after_days,
            ),
        )  # fmt: skip

    def _funded(self) -> list[Step]:
        from web.demo_cocreation import BUSINESS_EMAIL  # Here: web.demo imports both modules.

        assert self.storage.identities is not None
        identity = self.storage.identities.find_by_email(BUSINESS_EMAIL)
        if identity is None:
            return []
        member = identity.participant_id
        organisation = self.app.organisation_of(member)
        if organisation is None:
            return []
        joined = clock.city_date(self.app.get_organisation(organisation).created_on)
        first = max(self.first_day, joined + timedelta(days=7))

        def define() -> None:
            self._define("funded", FUNDED, _fiscal_end(self.today), funder=organisation)

        steps: list[Step] = [(_at(first, 10), 0, define)]
        day = first + timedelta(days=14)
        while day < self.today:
            day += timedelta(days=(6 - day.weekday()) % 7)  # Sundays
            if day >= self.today:
                break
            people = self.rng.sample(self.citizens, min(len(self.citizens), self.rng.randint(5, 8)))
            if len(steps) == 1:
                people.append(self.ids["citizen"])  # 花子 and her child: points that expire in 180 days
            steps.extend(
                self._event(
                    "funded", "親子プログラミング体験会（あまがさきデジタル本社）", day, (13, 16), people, member
                )
            )
            day += timedelta(days=60)
        return steps

    # Lists from departments (health check-ups, bicycle parking, blood donation, energy audits)

    def _bulk_lists(self, attributes: dict[UUID, Any]) -> list[Step]:
        parents = [p for p in self.citizens if attributes[p].has_children]
        regulars = self.rng.sample(self.citizens, len(self.citizens) // 16)
        steps: list[Step] = []
        month = date(self.first_day.year, self.first_day.month, 1)
        number = 0
        while month < self.today:
            following = (month + timedelta(days=32)).replace(day=1)
            closing = following - timedelta(days=1)
            if closing < self.first_day:
                month, number = following, number + 1
                continue
            checked = self.rng.sample(parents, min(len(parents), self.rng.randint(4, 8)))
            if number % 4 == 1:
                checked.append(self.ids["citizen"])  # 花子's child's check-ups
            steps.append(self._bulk(following + timedelta(days=4), "checkup",
                                    f"{month.year}年{month.month}月 乳幼児健診（4か月・1歳6か月・3歳児）", checked))  # fmt: skip
            users = [p for p in regulars if self.rng.random() < 0.85]
            steps.append(
                self._bulk(
                    following + timedelta(days=6), "bicycle", f"{month.year}年{month.month}月分 定期利用者", users
                )
            )
            if month.month in (5, 8, 11, 2):
                donors = self.rng.sample(self.citizens, min(len(self.citizens), self.rng.randint(10, 18)))
                steps.append(
                    self._bulk(
                        following + timedelta(days=3), "blood", f"{month.year}年{month.month}月 市役所献血バス", donors
                    )
                )
            if month.month in (7, 1):
                audited = self.rng.sample(self.citizens, min(len(self.citizens), self.rng.randint(10, 15)))
                season = "夏" if month.month == 7 else "冬"
                steps.append(
                    self._bulk(
                        following + timedelta(days=8), "energy", f"{month.year}年度 {season}の省エネ診断", audited
                    )
                )
            month, number = following, number + 1
        return steps

    def _bulk(self, day: date, key: str, reference: str, people: list[UUID]) -> Step:
        menu = MENUS[key]

        def award() -> None:
            self.app.award_bulk(self._staff_for(menu), self.menus[key], reference=reference, participant_ids=people)
            for person in people:
                if person in self.earned:
                    self.earned[person] += menu.points

        return (_at(day, 14), 2, award)

    # Rewards, redemptions, transfers and the payout batch

    def _offer_rewards(self) -> None:
        self.rewards = [
            self.app.offer_reward(self.ids["admin"], name=name, partner=partner, points=points, stock=stock)
            for name, partner, points, stock in REWARDS
        ]

    def _richest(self, exclude: set[UUID]) -> UUID | None:
        """The citizen with the largest balance among those who were given the most here."""
        today = clock.city_today()
        likely = sorted((p for p in self.earned if p not in exclude), key=lambda p: -self.earned[p])[:8]
        balances = [(account.balance(today), p) for p in likely if (account := self.app.points_account(p))]
        return max(balances, key=lambda b: b[0])[1] if balances else None

    def _spending(self) -> list[Step]:
        transfers: list[UUID] = []
        chosen: set[UUID] = set()

        def redeem(reward: int, who: UUID | None = None) -> None:
            person = who or self._richest(chosen)
            if person is None:
                return
            chosen.add(person)
            with contextlib.suppress(PointsRefused):  # not enough points that day: no redemption
                self.app.redeem_reward(person, self.rewards[reward])

        def transfer(points: int, wallet: str) -> None:
            person = self._richest(chosen)
            if person is None:
                return
            chosen.add(person)
            with contextlib.suppress(PointsRefused):
                transfers.append(self.app.transfer_to_wallet(person, points, wallet))

        def batch() -> None:
            if transfers:
                self.app.make_payout_batch(self.ids["admin"], transfers)

        def revoke() -> None:
            if self.claimed:
                self.app.revoke_award(
                    self.ids["admin"],
                    self.claimed[len(self.claimed) // 2],
                    "主催者からの連絡により当日欠席と判明したため",
                )

        day = self.today
        return [
            (_at(day - timedelta(days=40), 15), 3, lambda: redeem(1, self.ids["citizen"])),
            (_at(day - timedelta(days=33), 12), 3, lambda: redeem(0)),
            (_at(day - timedelta(days=27), 18), 3, lambda: redeem(2)),
            (_at(day - timedelta(days=21), 11), 3, lambda: redeem(4)),
            (_at(day - timedelta(days=19), 20), 3, lambda: transfer(300, WALLET_NUMBERS[0])),
            (_at(day - timedelta(days=17), 9), 3, lambda: transfer(500, WALLET_NUMBERS[1])),
            (_at(day - timedelta(days=16), 22), 3, lambda: transfer(200, WALLET_NUMBERS[2])),
            (_at(day - timedelta(days=12), 10), 3, batch),
            (_at(day - timedelta(days=8), 16), 3, revoke),
        ]
