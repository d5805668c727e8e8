"""What auditors see of an event: its name in Japanese (English beside it), and who acted, as a
role and a department rather than a bare pseudonymous id (web/routes/audit.py)."""

from typing import Any
from uuid import UUID

# By the event class's qualified name (its topic without the module). An event not listed here
# (one added since) shows its English name alone, never nothing.
EVENT_NAMES: dict[str, str] = {
    "Challenge.Drafted": "課題の下書き作成",
    "Challenge.Revised": "課題の修正",
    "Challenge.Published": "課題の公開",
    "Challenge.Closed": "課題の募集終了",
    "Comment.Posted": "コメント投稿",
    "Comment.Reported": "コメントの通報",
    "Comment.Hidden": "コメントの非表示",
    "TextDisclosure.Disclosed": "自由記述の閲覧記録",
    "Idea.Submitted": "提案の投稿",
    "Idea.Edited": "提案の編集",
    "Idea.Withdrawn": "提案の取り下げ",
    "Idea.Reassigned": "提案の担当部署変更",
    "Idea.AnswerDrafted": "提案への回答の下書き",
    "Idea.AnswerPublished": "提案への回答の公開",
    "Idea.StatusChanged": "提案の状況変更",
    "IdentityLookup.Recorded": "利用者の照会記録",
    "KpiMeasurements.Opened": "KPI実績の記録開始",
    "KpiMeasurements.Recorded": "KPI実績の記録",
    "Notice.Drafted": "お知らせの下書き作成",
    "Notice.Sent": "お知らせの配信",
    "NoticeOpening.Opened": "お知らせの開封",
    "Organisation.Registered": "事業者の登録",
    "Organisation.MemberAdded": "事業者のメンバー追加",
    "Organisation.Verified": "事業者の確認",
    "Membership.Joined": "事業者への所属",
    "Participant.Registered": "利用者の登録",
    "Participant.AttributesChanged": "利用者の属性変更",
    "Participant.ConsentGiven": "利用規約等への同意",
    "Participant.RoleChanged": "利用者の役割変更",
    "Participant.Erased": "利用者の削除",
    "Participant.FollowsChanged": "フォロー設定の変更",
    "Participant.EmailConsentGiven": "メール受信への同意",
    "Participant.EmailConsentWithdrawn": "メール受信の同意取り消し",
    "Participant.LanguageChosen": "表示言語の選択",
    "Award.Granted": "ポイントの付与",
    "Award.Revoked": "ポイント付与の取り消し",
    "MenuBudget.Opened": "メニュー予算の開始",
    "MenuBudget.Drawn": "メニュー予算の使用",
    "PointsAccount.Opened": "ポイント口座の開設",
    "PointsAccount.Credited": "ポイントの入金",
    "PointsAccount.Debited": "ポイントの減算",
    "PointsAccount.Spent": "ポイントの利用",
    "SdgMenu.Defined": "SDGsアクションメニューの作成",
    "SdgMenu.RuleChanged": "SDGsアクションメニューの条件変更",
    "Reward.Offered": "特典の提供開始",
    "Reward.Taken": "特典の交換",
    "Reward.Withdrawn": "特典の提供終了",
    "Transfer.Requested": "地域通貨への移行申請",
    "Transfer.Batched": "移行申請の取りまとめ",
    "PayoutBatch.Made": "支払データの作成",
    "Proposal.Submitted": "事業者提案の提出",
    "Proposal.Routed": "事業者提案の担当部署振り分け",
    "Proposal.StageChanged": "事業者提案の段階変更",
    "Proposal.MessagePosted": "事業者提案へのメッセージ",
    "Proposal.AttachmentAdded": "事業者提案への添付",
    "Proposal.ConsentToPublishGiven": "提案概要の公開への同意",
    "Proposal.SummaryPublished": "提案概要の公開",
    "Response.Submitted": "アンケート回答",
    "Support.Given": "提案への賛同",
    "Support.GivenAgain": "提案への再賛同",
    "Support.Withdrawn": "賛同の取り消し",
    "Survey.Drafted": "アンケート下書き作成",
    "Survey.DetailsRevised": "アンケート基本情報の変更",
    "Survey.QuestionAdded": "質問の追加",
    "Survey.QuestionRevised": "質問の変更",
    "Survey.QuestionRemoved": "質問の削除",
    "Survey.QuestionsReordered": "質問の並べ替え",
    "Survey.DetailsCorrected": "アンケートの訂正（公開後）",
    "Survey.ClosingExtended": "アンケート締切の延長",
    "Survey.Published": "アンケート公開",
    "Survey.Closed": "アンケート受付終了",
    "Survey.ResultsPublished": "アンケート結果の公開",
    "Survey.InstrumentAttached": "尺度の設定",
    "Survey.TranslationProvided": "アンケート英語版の登録",
    "ThemeAnalysis.Completed": "テーマ分析の完了",
    "ThemeAnalysis.Viewed": "テーマ分析の閲覧",
    "ThemeAnalysis.NewOpinionsAssigned": "新しい意見のテーマ割り当て",
    "ThemeAnalysis.ThemeRenamed": "テーマ名の変更",
    "ThemeAnalysis.ThemesMerged": "テーマの統合",
    "ThemeAnalysis.ThemeSplit": "テーマの分割",
    "ThemeAnalysis.ThemeSummaryPublished": "テーマのまとめの公表",
    "VenueCode.Issued": "会場コードの発行",
    "VenueCode.Withdrawn": "会場コードの取り消し",
}

# The fields naming the person who acted (or, for a response, a support or an opening, the
# person it is from), in the order they are looked for.
_ACTOR_FIELDS = ("author_id", "reporter_id", "moderator_id", "reader_id", "auditor_id", "participant_id")


def english_name(topic: str) -> str:
    """Survey.Drafted, from "domain.survey:Survey.Drafted"."""
    return topic.rsplit(":", 1)[-1]


def japanese_name(topic: str) -> str | None:
    return EVENT_NAMES.get(english_name(topic))


def actor_of(event: Any) -> UUID | None:
    """The participant behind an event: its `…_by` field, else one of the fields above, else the
    participant the event belongs to (a Participant's own events); None for the system's own."""
    fields = vars(event)
    for name, value in fields.items():
        if (name == "by" or name.endswith("_by")) and isinstance(value, UUID):
            return value
    for name in _ACTOR_FIELDS:
        if isinstance(fields.get(name), UUID):
            return fields[name]  # type: ignore[no-any-return]
    if type(event).__qualname__.startswith("Participant."):
        return event.originator_id  # type: ignore[no-any-return]
    return None
