"""Labels the domain and the read models keep in Japanese, marked here for the English catalogue.

The pages translate them where they are shown (`_(x.label)` in a template); `N_` only lets Babel's
extractor find them, since the modules that define them are shared with the rest of the domain.
"""

from domain.messages import N_

LABELS = (
    # Ideas (domain/idea_values.py)
    N_("受付"),
    N_("検討中"),
    N_("実施決定"),
    N_("実施済み"),
    N_("既に実施中"),
    N_("実施しない"),
    N_("新着順"),
    N_("賛同の多い順"),
    N_("回答の新しい順"),
    # Policy areas an idea can be addressed to (domain/idea_values.py)
    N_("子育て・教育"),
    N_("公園・みどり"),
    N_("防災・安全"),
    N_("交通・道路"),
    N_("商店街・産業振興"),
    N_("環境・ごみ"),
    N_("高齢者・福祉"),
    N_("健康・医療"),
    N_("文化・スポーツ"),
    N_("デジタル・行政手続き"),
    N_("まちづくり・住まい"),
    N_("その他"),
    # Proposals, challenges and organisations (domain/proposal.py, challenge.py, organisation.py)
    N_("対話中"),
    N_("協定締結"),
    N_("実証実験"),
    N_("事業化"),
    N_("協議終了"),
    N_("下書き"),
    N_("募集中"),
    N_("募集終了"),
    N_("法人"),
    N_("個人事業主"),
    # SDGs points (domain/points_ledger.py, points_menu.py, projections/points_dashboard.py)
    N_("活動"),
    N_("会場コード"),
    N_("名簿"),
    N_("アンケート回答（自動）"),
    N_("提案の実施決定（自動）"),
    N_("事業者提案の協定締結（自動）"),
    N_("名簿による一括付与"),
    N_("1人1回"),
    N_("1日1回"),
    N_("年度内N回まで"),
    N_("取り消し済み"),
    N_("開始前"),
    N_("終了"),
    N_("有効"),
    # KPIs (domain/kpi.py)
    N_("あまがさき共創DXプラン（2023–2025）"),
    N_("高いほど良い"),
    N_("低いほど良い"),
    N_("Kyosoのイベントから自動集計"),
    N_("外部の出典から職員が記録"),
    # Notices and mail (domain/notice.py, projections/mail_outbox.py)
    N_("事業者提案の課題"),
    N_("SDGsアクションメニュー"),
    N_("受信箱"),
    N_("メールのリンク"),
    N_("送信待ち"),
    N_("配信済み"),
    N_("送信失敗"),
    N_("対象外"),
    # The staff engagement survey (projections/engagement_read.py)
    N_("準備中"),
    N_("回答受付中（終了後に集計）"),
    N_("集計済み"),
    N_("（部署未登録）"),
    N_("活力"),
    N_("熱意"),
    N_("没頭"),
    N_("ユトレヒト・ワーク・エンゲイジメント尺度 9項目版（UWES-9）"),
    # The e-mail consent (domain/preference_commands.py): the Japanese wording is the one agreed to.
    N_(
        "市からのお知らせ（フォローしているSDGsの目標・部署に関するもの、回答できるアンケートの案内など）を、"
        "登録したメールアドレスに送ることに同意します。メールアドレスは送信のときだけ使い、"
        "お知らせの記録には含めません。同意はこのページか、メールの末尾の「配信停止」リンクからいつでも取り消せます。"
    ),
)
