"""Demo data for citizens' ideas: realistic proposals about Amagasaki, with supports, comments (one
reported and hidden with a reason) and the city's answers in every status, as they happened."""

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from domain import clock
from projections.storage import Storage

# (title, body, department, SDG goals, ward or None, status, answer, reason)
IDEAS: list[tuple[str, str, str, list[int], str | None, str, str, str]] = [
    (
        "公園に木陰とベンチを増やしてほしい",
        "夏の公園は日差しが強く、子どもを遊ばせている間に親が休める場所がありません。記念公園や橘公園に木陰とベンチを増やしてください。",
        "公園・みどり",
        [3, 11],
        "tachibana",
        "decided",
        "来年度の公園改修計画に、日よけ付きベンチの設置を盛り込みます。",
        "",
    ),
    (
        "病児保育の予約をオンラインで",
        "病児保育の予約が電話だけで、朝の忙しい時間に何度もかけ直しています。スマホで空き状況を見て予約できるようにしてほしいです。",
        "子育て支援課",
        [3, 5, 9],
        None,
        "considering",
        "",
        "",
    ),
    (
        "駅前の放置自転車対策",
        "尼崎駅前の歩道に自転車があふれ、ベビーカーや車いすが通れません。駐輪場の案内を増やし、撤去を強化してください。",
        "交通・道路",
        [11],
        "chuo",
        "already",
        "令和6年度から撤去を週3回に増やしています。駐輪場の案内板も順次更新中です。",
        "",
    ),
    (
        "ハザードマップをスマホで見やすく",
        "紙のハザードマップは持ち歩けません。現在地の浸水想定と最寄りの避難所がすぐわかるウェブ地図がほしいです。",
        "防災・安全",
        [11, 13],
        None,
        "done",
        "防災ポータルに現在地から避難所を探せる地図を公開しました。",
        "",
    ),
    (
        "商店街の空き店舗をこども食堂に",
        "出屋敷の商店街に空き店舗が増えています。週に数日でも、こども食堂や地域の居場所として使えるようにしてはどうでしょうか。",
        "商店街・産業振興",
        [1, 2, 11],
        "chuo",
        "considering",
        "",
        "",
    ),
    (
        "学童保育の時間延長",
        "仕事の都合で18時のお迎えに間に合いません。19時まで延長できる学童を増やしてほしいです。",
        "子育て支援課",
        [4, 5, 8],
        "muko",
        "declined",
        "今年度は指導員の確保が難しく、延長は見送ります。民間学童の利用補助をご案内しています。",
        "指導員の確保が難しく、今年度の延長は見送ります。",
    ),
    (
        "高齢者の見守りにIoTを",
        "一人暮らしの母が心配です。電気やガスの使用状況で異変を知らせる見守りサービスに市の補助があると助かります。",
        "高齢者・福祉",
        [3, 10],
        "sonoda",
        "received",
        "",
        "",
    ),
    (
        "園田地区にコミュニティバスを",
        "園田から市役所や病院へ行くバスが少なく、高齢者が困っています。小型のコミュニティバスを走らせてください。",
        "交通・道路",
        [3, 11],
        "sonoda",
        "considering",
        "",
        "",
    ),
    (
        "公園のトイレにおむつ替え台を",
        "男性用トイレにもおむつ替え台がほしいです。父親だけで公園に来ると困ります。",
        "公園・みどり",
        [5, 6],
        None,
        "decided",
        "主要な公園の男女トイレに順次おむつ替え台を設置します。",
        "",
    ),
    (
        "避難所にペット同伴スペースを",
        "ペットがいるので避難をためらう人がいます。避難所にペットと一緒にいられる場所を決めておいてください。",
        "防災・安全",
        [11, 15],
        None,
        "received",
        "",
        "",
    ),
    (
        "ごみ分別アプリの多言語化",
        "外国人住民が増えています。ごみの分別や収集日を多言語で調べられるようにしてほしいです。",
        "環境・ごみ",
        [10, 12],
        None,
        "done",
        "ごみ分別アプリを英語・中国語・ベトナム語に対応しました。",
        "",
    ),
    (
        "公共施設の予約をキャッシュレス決済に",
        "地区会館の予約で毎回窓口に現金を払いに行くのが大変です。オンライン予約とキャッシュレス決済を導入してください。",
        "デジタル・行政手続き",
        [9, 16],
        None,
        "already",
        "来月から地区会館のオンライン予約を始めます。決済も順次対応します。",
        "",
    ),
    (
        "尼崎の森中央緑地でマルシェを",
        "広い芝生を活かして、地元農家や商店が出店するマルシェを定期的に開いてほしいです。",
        "公園・みどり",
        [8, 11, 12],
        "daisho",
        "considering",
        "",
        "",
    ),
    (
        "通学路に歩道の色分けを",
        "小田小学校の通学路で車がスピードを出していて危ないです。路側帯を緑に塗るなど対策してください。",
        "交通・道路",
        [3, 11],
        "oda",
        "decided",
        "小田地区の通学路3路線で路側帯のカラー化を行います。",
        "",
    ),
    (
        "子育て情報を一つのサイトに",
        "子育て支援の情報が部署ごとにばらばらで探しにくいです。年齢別にまとめたサイトがほしいです。",
        "子育て支援課",
        [4, 16],
        None,
        "done",
        "子育て応援サイトを開設し、年齢別に情報をまとめました。",
        "",
    ),
    (
        "防災訓練を休日にも",
        "平日昼の訓練には働いている人が参加できません。休日や夜に短時間の訓練を開いてください。",
        "防災・安全",
        [11],
        "tachibana",
        "considering",
        "",
        "",
    ),
    (
        "商店街にWi-Fiと充電スポットを",
        "立花の商店街に無料Wi-Fiとスマホの充電スポットがあれば、若い人も立ち寄りやすくなると思います。",
        "商店街・産業振興",
        [8, 9],
        "tachibana",
        "received",
        "",
        "",
    ),
    (
        "街路樹の落ち葉を堆肥に",
        "秋の落ち葉を集めて堆肥にし、市民農園や学校で使えばごみも減らせます。",
        "環境・ごみ",
        [12, 15],
        None,
        "declined",
        "",
        "収集・保管の場所が確保できないため、現時点では実施しません。",
    ),
    (
        "高齢者向けスマホ教室",
        "役所の手続きがオンラインになっても、使い方がわからない高齢者が多いです。地域でスマホ教室を開いてください。",
        "高齢者・福祉",
        [4, 10],
        "muko",
        "already",
        "各地区の生涯学習プラザでスマホ相談会を毎月開いています。",
        "",
    ),
    (
        "夜の公園に明るい照明を",
        "小田南公園は夜になると真っ暗で、通り抜けるのが怖いです。LED照明を増やしてほしいです。",
        "公園・みどり",
        [11, 16],
        "oda",
        "considering",
        "",
        "",
    ),
    (
        "保育園の空き状況を毎日公開",
        "保育園の空き状況が月1回しか更新されません。毎日更新して、申し込みの目安にしたいです。",
        "子育て支援課",
        [4, 5],
        None,
        "received",
        "",
        "",
    ),
    (
        "自転車専用レーンの整備",
        "国道沿いは自転車が車道を走るのが怖いです。自転車専用レーンを整備してください。",
        "交通・道路",
        [3, 11, 13],
        "muko",
        "received",
        "",
        "",
    ),
    (
        "マイナンバーカードで図書館利用",
        "図書館カードを持ち歩かなくていいように、マイナンバーカードで本を借りられるようにしてほしい。",
        "デジタル・行政手続き",
        [4, 9],
        None,
        "considering",
        "",
        "",
    ),
    (
        "雨水タンクの設置補助",
        "庭に雨水タンクを置いて水やりに使いたいです。設置費用の補助があれば広がると思います。",
        "環境・ごみ",
        [6, 13],
        "daisho",
        "received",
        "",
        "",
    ),
    (
        "空き家を若者向けシェアハウスに",
        "空き家を改修して、学生や若い社会人が安く住めるシェアハウスにすれば、まちに若者が増えます。",
        "まちづくり・住まい",
        [11],
        "daisho",
        "considering",
        "",
        "",
    ),
    (
        "認知症カフェを各地区に",
        "家族が認知症になり、相談できる場所を探しました。気軽に行ける認知症カフェを各地区につくってほしいです。",
        "高齢者・福祉",
        [3],
        "chuo",
        "decided",
        "来年度までに6地区すべてで認知症カフェを開けるよう準備します。",
        "",
    ),
    (
        "防犯カメラの設置場所を公開",
        "どこに防犯カメラがあるのか分かれば、通学路選びの参考になります。設置場所を地図で公開してください。",
        "防災・安全",
        [16],
        None,
        "declined",
        "",
        "防犯上の理由から、設置場所の詳細は公開しません。",
    ),
    (
        "子ども向けプログラミング教室",
        "市の施設で小学生向けのプログラミング教室を開いてほしいです。民間の教室は高くて通わせられません。",
        "子育て・教育",
        [4, 9],
        None,
        "received",
        "",
        "",
    ),
    (
        "商店街のスタンプラリーをデジタルで",
        "紙のスタンプラリーはなくしがちです。スマホで参加できるデジタルスタンプラリーにしませんか。",
        "商店街・産業振興",
        [8, 9],
        "sonoda",
        "done",
        "今年の秋祭りからデジタルスタンプラリーを実施しました。",
        "",
    ),
    (
        "公園でボール遊びができる時間帯を",
        "ボール遊び禁止の公園が多く、子どもが遊ぶ場所がありません。時間帯を決めてボール遊びを認めてほしいです。",
        "公園・みどり",
        [3, 11],
        "muko",
        "received",
        "",
        "",
    ),
    (
        "窓口の待ち時間をスマホで確認",
        "市役所の窓口がいつ混んでいるのか分かれば、空いている時間に行けます。待ち人数をスマホで見られるようにしてください。",
        "デジタル・行政手続き",
        [9, 16],
        None,
        "already",
        "市ホームページで窓口の待ち人数を公開しています。",
        "",
    ),
    (
        "猛暑日のクールスポット",
        "猛暑日に涼める場所として、公共施設のロビーをクールスポットとして開放してほしいです。",
        "健康・医療",
        [3, 13],
        None,
        "done",
        "市内24か所の公共施設をクールスポットとして開放しました。",
        "",
    ),
]

COMMENTS = [
    "とても良い提案だと思います。私も同じことで困っていました。",
    "近所でも同じ声を聞きます。ぜひ実現してほしいです。",
    "費用がどのくらいかかるのか気になります。",
    "他の市でも似た取り組みがあると聞きました。参考になりそうです。",
    "子どもと一緒に利用したいです。",
    "高齢の親のためにも必要だと思います。",
]
REPLIES = [
    "ありがとうございます。皆さんの声が集まるとうれしいです。",
    "確かに費用は気になりますね。市の回答を待ちたいと思います。",
]
HIDDEN_BECAUSE = "個人を特定できる情報（氏名・電話番号）が含まれていたため"
REPORTED = "この件は○○町の山田さんの家の問題なので、本人に直接言ってください。電話は06-XXXX-XXXXです。"


def load_ideas_demo(storage: Storage, ids: dict[str, UUID], citizens: list[UUID]) -> None:
    """Ideas over the last ~150 days, each step stamped in order (clock.frozen_at)."""
    if not citizens:
        return
    rng = random.Random(8)
    app = storage.app
    now = clock.now()
    start = now - timedelta(days=150)
    authors = [ids["citizen"], *citizens[:40]]
    admin = ids["admin"]
    timeline: list[tuple[datetime, int, Callable[[], Any]]] = []
    made: dict[int, UUID] = {}
    comments: dict[int, list[UUID]] = {}

    def responder(department: str) -> UUID:
        return ids["staff"] if department == "子育て支援課" else admin

    for n, (title, body, department, goals, ward, status, answer, reason) in enumerate(IDEAS):
        author = authors[n % len(authors)]
        submitted = start + timedelta(days=n * 4 + rng.random() * 3, hours=rng.randint(8, 20))

        def submit(n: int = n, author: UUID = author, t: str = title, b: str = body, d: str = department,
                   g: list[int] = goals, w: str | None = ward) -> None:  # fmt: skip
            made[n] = app.submit_idea(author, title=t, body=b, department=d, sdg_goals=g, ward=w)

        timeline.append((submitted, 0, submit))
        supporters = rng.sample(citizens, min(len(citizens), rng.choice([0, 2, 5, 8, 12, 20, 35, 60])))
        for person in supporters:
            if person != author:
                at = submitted + timedelta(hours=rng.random() * 24 * 20)
                timeline.append((at, 1, lambda n=n, p=person: app.support_idea(made[n], p)))
        for c in range(rng.randint(0, 3)):
            commenter = rng.choice(citizens)
            at = submitted + timedelta(hours=2 + c * 30 + rng.random() * 10)

            def post(n: int = n, who: UUID = commenter, text: str = rng.choice(COMMENTS)) -> None:
                comments.setdefault(n, []).append(app.post_comment(made[n], who, text))

            timeline.append((at, 2, post))
            if c == 0 and n % 3 == 0:
                reply = rng.choice(REPLIES)
                timeline.append(
                    (at + timedelta(hours=5), 3, lambda n=n, a=author, r=reply: app.post_comment(
                        made[n], a, r, parent_id=comments[n][0]))
                )  # fmt: skip
        responded = submitted + timedelta(days=12 + rng.random() * 6)
        decided = responded + timedelta(days=10)
        staff = responder(department)
        if status != "received":
            timeline.append((responded, 4, _status(app, made, n, staff, "considering", "")))
        if status not in ("received", "considering"):
            timeline.append((decided, 5, _status(app, made, n, staff, status, reason)))
        if answer or reason:
            text = answer or reason
            timeline.append((decided + timedelta(hours=1), 6, _draft(app, made, n, staff, text)))
            timeline.append((decided + timedelta(days=1), 7, _publish(app, made, n, staff)))

    # One comment that names a private person is reported by a citizen and hidden with a reason.
    target = 0
    first = start + timedelta(days=2)
    reported_at = first + timedelta(days=3)

    def post_reported() -> None:
        comments.setdefault(target, []).append(app.post_comment(made[target], citizens[-1], REPORTED))

    timeline.append((reported_at, 2, post_reported))
    timeline.append(
        (reported_at + timedelta(hours=3), 8, lambda: app.report_comment(comments[target][-1], ids["citizen"]))
    )
    timeline.append(
        (
            reported_at + timedelta(hours=20),
            9,
            lambda: app.hide_comment(comments[target][-1], moderator_id=admin, reason=HIDDEN_BECAUSE),
        )
    )
    timeline = [item for item in timeline if item[0] < now]
    timeline.sort(key=lambda item: (item[0], item[1]))
    for at, _, action in timeline:
        with clock.frozen_at(at):
            action()


def _status(app: Any, made: dict[int, UUID], n: int, staff: UUID, status: str, reason: str) -> Callable[[], None]:
    return lambda: app.change_idea_status(made[n], staff_id=staff, status=status, reason=reason)


def _draft(app: Any, made: dict[int, UUID], n: int, staff: UUID, text: str) -> Callable[[], None]:
    return lambda: app.draft_idea_answer(made[n], staff_id=staff, answer=text)


def _publish(app: Any, made: dict[int, UUID], n: int, staff: UUID) -> Callable[[], None]:
    return lambda: app.publish_idea_answer(made[n], staff_id=staff)
