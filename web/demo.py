"""Realistic Japanese demo data: surveys from several departments, citizens' answers, logins."""

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from domain import clock
from domain.identities import Consent
from domain.questions import QuestionTranslation
from domain.values import AgeBand, Attributes, Role, Ward
from projections.storage import Storage
from web.demo_cocreation import load_cocreation_demo
from web.demo_engagement import load as load_engagement_demo
from web.demo_ideas import load_ideas_demo
from web.demo_kpis import load as load_kpis_demo
from web.demo_notices import load as load_notices_demo
from web.demo_points import PointsDemo
from web.legal import PRIVACY_VERSION, TERMS_VERSION
from web.passwords import hash_password

DEMO_PASSWORD = "kyoso-demo-2025"

LOGINS = [
    ("staff", "staff@demo.kyoso.jp", "子育て支援課 職員", Role.STAFF, "子育て支援課"),
    ("citizen", "citizen@demo.kyoso.jp", "尼崎 花子", Role.CITIZEN, None),
    ("auditor", "auditor@demo.kyoso.jp", "監査 太郎", Role.AUDITOR, None),
    ("admin", "admin@demo.kyoso.jp", "管理者", Role.ADMIN, "デジタル推進課"),
]

CHILDCARE_OPINIONS = [
    "保育園の空きが少なく、育休明けの復職が不安です。{x}",
    "病児保育をもっと利用しやすくしてほしい。{x}",
    "子どもが遊べる屋内施設が近くにあると助かります。{x}",
    "児童手当の申請をオンラインで完結できるようにしてほしい。{x}",
    "学童保育の時間をもう少し延長してほしいです。{x}",
    "子育て支援の情報がばらばらで探しにくい。一か所にまとめてほしい。{x}",
    "子ども医療費の助成はとても助かっています。{x}",
    "公園のトイレにおむつ替えの台を増やしてほしい。{x}",
]
PARK_OPINIONS = [
    "公園の木陰とベンチを増やしてほしい。夏は暑くて子どもを遊ばせにくい。{x}",
    "ボール遊びができる公園が少ないです。{x}",
    "夜の公園が暗くて怖い。照明を増やしてほしい。{x}",
    "{park}をもっと活用してイベントを開いてほしい。{x}",
    "犬の散歩のマナーが悪い人がいて困っています。{x}",
    "駅前に緑が少ない。花壇や街路樹を増やしてほしい。{x}",
    "遊具が古くなっているので更新してほしいです。{x}",
]
DISASTER_OPINIONS = [
    "避難所の場所を知らない人が多いと思う。地図を配ってほしい。{x}",
    "高齢の親の避難が心配です。支援の仕組みを知りたい。{x}",
    "防災訓練に参加したいが、平日の昼間は難しい。{x}",
    "ハザードマップがわかりにくい。スマホで見られるようにしてほしい。{x}",
    "備蓄品のチェックリストがあると便利です。{x}",
    "外国人住民にも伝わる多言語の防災情報が必要です。{x}",
]
TAILS = ["", "よろしくお願いします。", "検討をお願いします。", "期待しています。", "", "ぜひお願いします。"]
PARKS = ["橘公園", "記念公園", "小田南公園", "尼崎の森中央緑地", "近所の公園"]


def _opinion(rng: random.Random, pool: list[str]) -> str:
    return rng.choice(pool).format(x=rng.choice(TAILS), park=rng.choice(PARKS)).strip()


def _attributes(rng: random.Random) -> Attributes:
    ward = rng.choices(list(Ward), weights=[22, 18, 14, 18, 14, 20])[0]
    age = rng.choices(list(AgeBand), weights=[2, 12, 20, 22, 18, 14, 12])[0]
    children = rng.random() < (0.55 if age in (AgeBand.AGE_30S, AgeBand.AGE_40S) else 0.12)
    if rng.random() < 0.05:
        return Attributes(ward=ward)
    return Attributes(ward=ward, age_band=age, has_children=children)


def _moment(today: date, days: int, hour: int = 9, minute: int = 0) -> datetime:
    """A moment `days` from today, city time."""
    day = today + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=clock.CITY_TZ)


# Each survey's window, in days from today: two closed with published results, two still open.
WINDOWS = {"childcare": (-170, -110), "disaster": (-100, -55), "parks": (-40, 60)}


def load_demo(
    storage: Storage,
    *,
    responses_per_survey: int = 300,
    seed: int = 2025,
    progress: Callable[[int, int], None] | None = None,
) -> list[tuple[str, str]]:
    """Loads the demo as it happened: every event carries a realistic past timestamp, written in
    the order of those timestamps, so that replaying any past date shows the history unfold."""
    rng = random.Random(seed)
    app = storage.app
    password_hash = hash_password(DEMO_PASSWORD)
    today = clock.city_today()
    ids: dict[str, UUID] = {}
    # A year and a bit back, so that the points demo has a full year of awards.
    with clock.frozen_at(_moment(today, -370)):
        for key, email, name, role, department in LOGINS:
            ids[key] = app.sign_up(
                email=email,
                display_name=name,
                password_hash=password_hash,
                role=role,
                department=department,
                attributes=Attributes(ward=Ward.CHUO, age_band=AgeBand.AGE_30S, has_children=True)
                if role is Role.CITIZEN
                else None,
                consent=Consent(TERMS_VERSION, PRIVACY_VERSION),
            )
        citizens = [
            app.register_participant(Role.CITIZEN, attributes=_attributes(rng))
            for _ in range(int(responses_per_survey * 1.2))
        ]
    admin = ids["admin"]

    def survey(name: str, department: str, title: str, description: str, audience: str = "citizens") -> UUID:
        opens, closes = WINDOWS[name]
        survey_id = app.draft_survey(
            staff_id=admin,
            department=department,
            title=title,
            description=description,
            audience=audience,  # type: ignore[arg-type]
            opens_on=today + timedelta(days=opens),
            closes_on=today + timedelta(days=closes),
        )
        return survey_id

    surveys: dict[str, UUID] = {}
    questions: dict[str, list[str]] = {}

    def draft_childcare() -> None:
        childcare = survey(
            "childcare",
            "子育て支援課",
            "子育て支援に関する市民アンケート",
            "子育て世帯が住み続けたいと思えるまちづくりのため、子育て支援についてご意見をお聞かせください。",
        )
        c_q = [
            app.add_question(
                childcare, staff_id=admin, kind="scale", text="尼崎市は子育てしやすいまちだと思いますか。"
            ),
            app.add_question(
                childcare,
                staff_id=admin,
                kind="multiple",
                text="充実してほしい支援を選んでください（3つまで）。",
                options=["保育所の定員", "病児保育", "学童保育", "子どもの遊び場", "医療費助成", "相談窓口"],
                max_choices=3,
            ),
            app.add_question(
                childcare,
                staff_id=admin,
                kind="single",
                text="今後も尼崎市に住み続けたいですか。",
                options=["住み続けたい", "どちらともいえない", "市外に移りたい"],
            ),
            app.add_question(
                childcare,
                staff_id=admin,
                kind="text",
                text="子育て支援についてのご意見をご自由にお書きください。",
                required=False,
                max_length=800,
            ),
        ]
        # An English version for foreign residents; the free-text question is left in Japanese on purpose,
        # so the demo shows the fallback too.
        app.provide_survey_translation(
            childcare,
            staff_id=admin,
            language="en",
            title="Citizens' survey on support for families with children",
            description="Tell us about support for families with children, so that they want to keep living here.",
            questions={
                c_q[0]: QuestionTranslation(text="Is Amagasaki a good city to raise children in?"),
                c_q[1]: QuestionTranslation(
                    text="Choose the support you want more of (up to 3).",
                    options=(
                        "Nursery places",
                        "Care for sick children",
                        "After-school care",
                        "Places for children to play",
                        "Medical cost subsidies",
                        "Advice desks",
                    ),
                ),
                c_q[2]: QuestionTranslation(
                    text="Do you want to keep living in Amagasaki?",
                    options=("Yes", "Not sure", "I want to move out of the city"),
                ),
            },
        )
        surveys["childcare"], questions["childcare"] = childcare, c_q

    def draft_parks() -> None:
        parks = survey(
            "parks",
            "公園計画課",
            "公園とまちの魅力についてのアンケート",
            "身近な公園やまちの魅力について、利用状況とご意見をお聞かせください。",
        )
        p_q = [
            app.add_question(
                parks,
                staff_id=admin,
                kind="single",
                text="近所の公園をどのくらい利用しますか。",
                options=["ほぼ毎日", "週に1〜2回", "月に数回", "ほとんど利用しない"],
            ),
            app.add_question(
                parks,
                staff_id=admin,
                kind="number",
                text="1回あたりの滞在時間は何分くらいですか。",
                minimum=0,
                maximum=240,
                unit="分",
            ),
            app.add_question(
                parks,
                staff_id=admin,
                kind="scale",
                text="まちの緑や公園に満足していますか。",
                low_label="不満",
                high_label="満足",
            ),
            app.add_question(
                parks,
                staff_id=admin,
                kind="text",
                text="公園やまちの魅力づくりへのアイデアをお聞かせください。",
                required=False,
            ),
        ]
        surveys["parks"], questions["parks"] = parks, p_q

    def draft_disaster() -> None:
        disaster = survey(
            "disaster",
            "危機管理課",
            "防災意識に関する調査",
            "災害への備えについて、市民の皆さまの現状をお聞きし、防災施策に活かします。",
        )
        d_q = [
            app.add_question(
                disaster,
                staff_id=admin,
                kind="single",
                text="お住まいの地域の避難所を知っていますか。",
                options=["知っている", "なんとなく知っている", "知らない"],
            ),
            app.add_question(
                disaster,
                staff_id=admin,
                kind="multiple",
                text="家庭で備えているものを選んでください。",
                options=["飲料水", "非常食", "簡易トイレ", "懐中電灯", "モバイルバッテリー", "特にない"],
            ),
            app.add_question(
                disaster,
                staff_id=admin,
                kind="number",
                text="何日分の食料を備蓄していますか。",
                minimum=0,
                maximum=30,
                unit="日",
            ),
            app.add_question(
                disaster,
                staff_id=admin,
                kind="text",
                text="市の防災対策へのご意見・ご要望をお書きください。",
                required=False,
            ),
        ]
        surveys["disaster"], questions["disaster"] = disaster, d_q

    def draft_in_preparation() -> None:
        draft = app.draft_survey(
            staff_id=ids["staff"],
            title="子ども食堂の利用についての調査（準備中）",
            description="下書きの例です。",
            opens_on=None,
            closes_on=None,
        )
        app.add_question(
            draft,
            staff_id=ids["staff"],
            kind="single",
            text="子ども食堂を利用したことがありますか。",
            options=["ある", "ない"],
        )

    def answers_to(name: str, person: UUID) -> dict[str, Any]:
        family = app.get_participant(person).attributes.has_children
        q = questions[name]
        if name == "childcare":
            return {
                q[0]: rng.choices([1, 2, 3, 4, 5], [2, 4, 4, 3, 1] if family else [1, 2, 4, 4, 2])[0],
                q[1]: sorted(rng.sample(range(6), rng.randint(1, 3))),
                q[2]: rng.choices([0, 1, 2], [5, 3, 2] if family else [6, 3, 1])[0],
                q[3]: _opinion(rng, CHILDCARE_OPINIONS) if rng.random() < 0.6 else None,
            }
        if name == "parks":
            return {
                q[0]: rng.choices([0, 1, 2, 3], [2, 4, 3, 2])[0],
                q[1]: rng.choice([10, 15, 20, 30, 30, 45, 60, 90]),
                q[2]: rng.choices([1, 2, 3, 4, 5], [1, 3, 4, 3, 2])[0],
                q[3]: _opinion(rng, PARK_OPINIONS) if rng.random() < 0.55 else None,
            }
        if name == "disaster":
            chosen = sorted(rng.sample(range(5), rng.randint(0, 4))) or [5]
            return {
                q[0]: rng.choices([0, 1, 2], [4, 3, 2])[0],
                q[1]: chosen,
                q[2]: rng.choice([0, 1, 2, 3, 3, 3, 5, 7]),
                q[3]: _opinion(rng, DISASTER_OPINIONS) if rng.random() < 0.5 else None,
            }
        raise ValueError(name)

    # Everything after drafting happens on one timeline: publishing, answers, closing, results.
    now = clock.now()
    timeline: list[tuple[datetime, int, Callable[[], Any]]] = []
    plan = [
        ("childcare", draft_childcare, citizens, True),
        ("parks", draft_parks, citizens, False),
        ("disaster", draft_disaster, citizens, True),
    ]
    for name, drafting, people, publish_results in plan:
        opens, closes = WINDOWS[name]
        opened = _moment(today, opens, 9)
        timeline.append((_moment(today, opens - 14, 10), 0, drafting))
        timeline.append((opened, 0, lambda n=name: app.publish_survey(surveys[n], staff_id=admin)))
        last = min(_moment(today, closes, 23, 59), now)
        span = (last - opened).total_seconds()
        for person in rng.sample(people, min(responses_per_survey, len(people))):
            at = opened + timedelta(seconds=span * rng.random() ** 1.5)  # most answers come early
            timeline.append((at, 1, lambda n=name, p=person: app.submit_response(surveys[n], p, answers_to(n, p))))
        if closes < 0:
            closing = _moment(today, closes + 1, 9)
            timeline.append((closing, 2, lambda n=name: app.close_survey(surveys[n], staff_id=admin)))
            if publish_results:
                results_day = _moment(today, closes + 14, 10)
                timeline.append((results_day, 3, lambda n=name: app.publish_results(surveys[n], staff_id=admin)))
    timeline.append((_moment(today, -5, 15), 0, draft_in_preparation))
    points = PointsDemo(storage, ids, citizens)
    # Before the first answer, so that the awarding process awards every citizen's answer.
    timeline.append(points.automatic_menus())
    timeline.sort(key=lambda item: (item[0], item[1]))
    for done, (at, _, action) in enumerate(timeline, 1):
        with clock.frozen_at(at):
            action()
        if progress and done % 25 == 0:
            progress(done, len(timeline))
    if progress:
        progress(len(timeline), len(timeline))
    load_ideas_demo(storage, ids, citizens)
    # The staff engagement survey's two waves (UWES-9), a year apart.
    load_engagement_demo(storage, ids, citizens)
    extra_logins = load_cocreation_demo(storage, ids)
    # A year of the plan's KPIs measured outside Kyoso (one corrected), for the DX dashboard.
    load_kpis_demo(storage, ids, citizens)
    point_logins = points.load()
    # Last: who opted in to e-mail decides who also gets each notice by e-mail.
    load_notices_demo(storage, ids, citizens)
    return [(key, email) for key, email, *_ in LOGINS] + extra_logins + point_logins
