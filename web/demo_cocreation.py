# ruff: noqa: E501  (long Japanese demo sentences read better whole)
"""Demo data for organisations, challenges and proposals: three challenges from three departments,
several organisations (valid 法人番号 made with the check-digit rule, one sole proprietor), proposals
in every stage over the last ~150 days, their threads, and two published summaries."""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from uuid import UUID, uuid5

from domain import clock
from domain.corporate_number import with_check_digit
from domain.identities import Consent
from domain.proposal import COCREATION_WINDOW, Stage
from domain.values import Role
from projections.storage import Storage
from web.legal import PRIVACY_VERSION, TERMS_VERSION

BUSINESS_EMAIL = "business@demo.kyoso.jp"
_KEYS = UUID("7d0c3b52-1f4e-4a57-9d8b-2e6f5a1c0b93")

CHALLENGES = {
    "kosodate": ("子育て支援課", "子育て情報の一元化",
                 "子育て支援の制度・施設・イベントの情報が部署ごとのページや紙の冊子に分かれ、保護者が必要な情報にたどり着けていません。",
                 "子育て支援施設の一覧（オープンデータ）、イベント情報（月200件程度）、問い合わせの分類別件数",
                 "年齢や地域に応じて必要な情報が届く仕組み。問い合わせ件数の2割削減。", [3, 4, 10], 60),
    "hinanjo": ("危機管理課", "避難所の混雑見える化",
                "災害時に一部の避難所へ避難者が集中し、近くの空いている避難所が活用されていません。",
                "指定避難所の一覧と収容人数、過去の避難訓練の参加者数", "避難所ごとの混雑状況をリアルタイムで市民に伝える仕組み。",
                [11, 13], 30),
    "shokuhin": ("環境保全課", "食品ロス削減",
                 "家庭ごみの約3割が食品で、その中には手つかずの食品も多く含まれています。",
                 "家庭ごみの組成調査結果（過去5年）、市内の小売店・飲食店の数", "事業者と市民が参加できる食品ロス削減の取組と、その効果の測定。",
                 [2, 12], -20),
}  # fmt: skip

ORGANISATIONS = [
    # (key, name, 12-digit base of the 法人番号 or None for a sole proprietor)
    ("demo", "株式会社あまがさきデジタル", "140001098765"),
    ("hanshin", "阪神データラボ株式会社", "140001045321"),
    ("green", "一般社団法人みどりの循環ネット", "140005012874"),
    ("bousai", "株式会社ぼうさいテック関西", "120001187650"),
    ("sole", "やまもと写真事務所", None),
]

PROPOSALS = [
    # (org, challenge or None, day, title, summary, cost in yen, stages with their days, messages)
    ("demo", "kosodate", -140, "子育て情報LINE配信サービス",
     "子どもの年齢と地区に合わせて、制度やイベントの情報をLINEで届けます。", 0,
     [(Stage.IN_DIALOGUE, -132, ""), (Stage.PILOT, -90, "中央地区で3か月の実証実験を行う")],
     [(-135, True, "ご提案ありがとうございます。配信対象の絞り込み方法をご説明いただけますか。"),
      (-133, False, "住民基本台帳は使わず、保護者が自分で登録する方式を想定しています。")]),
    ("hanshin", "kosodate", -120, "子育て支援情報のオープンデータ化と検索サイト",
     "散らばっている施設・イベント情報を標準データ形式に整え、検索サイトを公開します。", 1_200_000,
     [(Stage.IN_DIALOGUE, -110, ""), (Stage.AGREEMENT, -60, "連携協定を締結")],
     [(-112, True, "データ形式の案をお送りいただけますか。"), (-111, False, "推奨データセットに沿った案を添付します。")]),
    ("bousai", "hinanjo", -100, "避難所混雑マップ",
     "避難所の受付端末から人数を集計し、地図上で混雑度を3段階で表示します。", 0,
     [(Stage.IN_DIALOGUE, -95, ""), (Stage.BUSINESS, -20, "来年度予算で本格導入")],
     [(-96, True, "避難訓練での試行は可能でしょうか。"), (-94, False, "11月の総合防災訓練で試行できます。")]),
    ("demo", "hinanjo", -80, "AIカメラによる避難所の人数把握",
     "入口のカメラ映像から人数のみを数え、映像は保存しない方式で混雑を把握します。", 3_500_000,
     [(Stage.IN_DIALOGUE, -75, ""), (Stage.ENDED, -40, "個人情報保護の観点と費用から、今回は見送る")], []),
    ("green", "shokuhin", -70, "てまえどり協力店ネットワーク",
     "小売店と連携し、消費期限の近い商品を選ぶ「てまえどり」を広げ、削減量を測定します。", 0,
     [(Stage.IN_DIALOGUE, -66, "")],
     [(-65, True, "協力店の募集方法を教えてください。"), (-64, False, "商店街連合会を通じて募集します。"),
      (-50, False, "測定方法の資料を追加しました。ご確認ください。")]),
    ("sole", "shokuhin", -45, "食品ロス削減の写真展と料理教室",
     "家庭で余りがちな食材を使った料理を写真で紹介し、料理教室を開きます。", 150_000, [], []),
    ("hanshin", None, -60, "公共施設の予約データ分析",
     "公民館などの予約データを分析し、空き時間の活用策を提案します。", 0,
     [(Stage.IN_DIALOGUE, -50, "")], [(-49, True, "分析に必要なデータの範囲をご相談させてください。")]),
    ("bousai", None, -30, "高齢者見守りセンサーの実証", "電力使用量から高齢者の異変を検知する仕組みの実証を提案します。", 0, [], []),
    ("demo", None, -10, "窓口の待ち時間表示", "市役所窓口の待ち人数をウェブで表示します。", 0, [], []),
]  # fmt: skip

# Free proposals are routed by the window to these departments.
ROUTES = {"公共施設の予約データ分析": "公共施設マネジメント課"}
PUBLISHED = {
    "子育て情報LINE配信サービス": "子どもの年齢と地区に合わせて子育て情報を届けるLINE配信を、中央地区で実証実験中です。",
    "避難所混雑マップ": "避難所の混雑状況を地図で知らせる仕組みを、来年度から本格導入します。",
}


def _at(today: date, days: int, hour: int) -> datetime:
    day = today + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=clock.CITY_TZ)


def load_cocreation_demo(storage: Storage, ids: dict[str, UUID]) -> list[tuple[str, str]]:
    """Loads the demo and returns the extra logins it made, as (role, e-mail)."""
    from web.demo import DEMO_PASSWORD  # Here, not at the top: web.demo imports this module.
    from web.passwords import hash_password

    app = storage.app
    today = clock.city_today()
    timeline: list[tuple[datetime, int, Callable[[], None]]] = []
    staff: dict[str, UUID] = {"子育て支援課": ids["staff"]}
    people: dict[str, UUID] = {}
    organisations: dict[str, UUID] = {}
    challenges: dict[str, UUID] = {}
    proposals: dict[str, UUID] = {}

    with clock.frozen_at(_at(today, -160, 9)):
        for department in (COCREATION_WINDOW, "危機管理課", "環境保全課", "公共施設マネジメント課"):
            staff[department] = app.register_participant(Role.STAFF, department=department)
        for key, name, base in ORGANISATIONS:
            if key == "demo":
                people[key] = app.sign_up(
                    email=BUSINESS_EMAIL, display_name="あまがさきデジタル 担当", password_hash=hash_password(DEMO_PASSWORD),
                    role=Role.BUSINESS, consent=Consent(TERMS_VERSION, PRIVACY_VERSION),
                )  # fmt: skip
            else:
                people[key] = app.register_participant(Role.BUSINESS)
            organisations[key] = app.register_organisation(
                people[key], kind="corporation" if base else "sole_proprietor", name=name,
                corporate_number=with_check_digit(base) if base else None,
            )  # fmt: skip
        for key in ("demo", "hanshin", "bousai"):
            app.verify_organisation(organisations[key], staff_id=staff[COCREATION_WINDOW])

    def draft(key: str) -> Callable[[], None]:
        department, title, background, data, outcomes, goals, deadline = CHALLENGES[key]

        def act() -> None:
            challenges[key] = app.draft_challenge(
                staff_id=staff[department], title=title, background=background, shareable_data=data,
                outcomes=outcomes, sdg_goals=goals, deadline=today + timedelta(days=deadline),
            )  # fmt: skip
            app.publish_challenge(challenges[key], staff_id=staff[department])

        return act

    for order, key in enumerate(CHALLENGES):
        timeline.append((_at(today, -150, 10 + order), 0, draft(key)))

    for number, (org, challenge, day, title, summary, cost, stages, messages) in enumerate(PROPOSALS):
        department = CHALLENGES[challenge][0] if challenge else COCREATION_WINDOW

        def submit(org: str = org, challenge: str | None = challenge, title: str = title, summary: str = summary,
                   cost: int = cost, number: int = number) -> None:  # fmt: skip
            proposals[title] = app.submit_proposal(
                people[org], challenge_id=challenges[challenge] if challenge else None,
                submission_key=uuid5(_KEYS, str(number)), cost_yen=cost, sdg_goals=[] if challenge else [11, 17],
                texts={"title": title, "summary": summary, "plan": f"{summary}\n1. 準備\n2. 試行\n3. 効果検証",
                       "effect": "市民の利便性向上と職員の負担軽減", "period": "6か月"},
            )  # fmt: skip

        timeline.append((_at(today, day, 11), 1, submit))
        if title in ROUTES:

            def route(title: str = title) -> None:
                app.route_proposal(proposals[title], staff_id=staff[COCREATION_WINDOW], department=ROUTES[title])

            timeline.append((_at(today, day + 3, 10), 2, route))
            department = ROUTES[title]
        for stage, at, reason in stages:

            def move(
                title: str = title, stage: Stage = stage, reason: str = reason, department: str = department
            ) -> None:
                app.change_proposal_stage(proposals[title], staff_id=staff[department], stage=stage, reason=reason)

            timeline.append((_at(today, at, 15), 3, move))
        for at, from_city, text in messages:

            def post(title: str = title, from_city: bool = from_city, text: str = text, org: str = org,
                     department: str = department) -> None:  # fmt: skip
                author = staff[department] if from_city else people[org]
                app.post_proposal_message(proposals[title], author_id=author, text=text)

            timeline.append((_at(today, at, 14 if from_city else 16), 4, post))
        if title in PUBLISHED:
            last = max(at for _, at, _ in stages)

            def publish(title: str = title, org: str = org, department: str = department) -> None:
                app.give_publication_consent(proposals[title], participant_id=people[org])
                app.publish_proposal_summary(proposals[title], staff_id=staff[department], text=PUBLISHED[title])

            timeline.append((_at(today, last + 5, 10), 5, publish))

    timeline.sort(key=lambda item: (item[0], item[1]))
    for at, _, action in timeline:
        with clock.frozen_at(at):
            action()
    storage.projector.catch_up()
    return [("business", BUSINESS_EMAIL)]
