"""The KPIs of あまがさき共創DXプラン (2023–2025) that the DX推進会議 checks each fiscal year, and the
measurements staff record for those that come from outside Kyoso.

The catalogue names each KPI in the plan's own wording (主要取組①②, 取組指標 (KPI) ※2025年度末目標, and
the KGI ぱいたり値), with its unit, its target, which way is better, and how its value is found:
- "events": counted by Kyoso from its own events (survey participations, new business proposals,
  SDGs-point awards, the reach rate of targeted notices, the engagement index);
- "recorded": a dated measurement from a source outside Kyoso (the e-application system, the call
  centre, personnel records...), recorded by staff as an event of `KpiMeasurements`.

The plan states its targets for the end of FY2025. A target written per year (2万件/年) applies to
each fiscal year of the plan; the others are the plan's end state, shown as such for earlier years
and carried over after the plan period. "向上" (improve) has no number: the dashboard compares with
the end of the previous fiscal year.

Measurements are never overwritten. A correction is a later measurement that names the one it
corrects; both stay in the history, and the dashboard uses the correction from the moment it was
recorded. One aggregate per KPI holds its measurements, so it can refuse a second correction of
the same measurement (correct the correction instead), and its version orders concurrent records.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from domain.aggregate import KyosoAggregate
from domain.errors import InvalidCommand
from domain.messages import N_
from domain.text import has_forbidden_characters

PLAN_NAME = "あまがさき共創DXプラン（2023–2025）"
PLAN_FIRST_YEAR = 2023
PLAN_LAST_YEAR = 2025
KPI_NAMESPACE = UUID("3f6c2a8e-9d41-4b7a-8e2f-5a1c7d9e0b64")
MAX_SOURCE = 200
EARLIEST_MEASUREMENT = date(2000, 4, 1)


class Direction(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"

    @property
    def label(self) -> str:
        return {"higher": "高いほど良い", "lower": "低いほど良い"}[self.value]


class Computation(StrEnum):
    EVENTS = "events"
    RECORDED = "recorded"

    @property
    def label(self) -> str:
        return {"events": "Kyosoのイベントから自動集計", "recorded": "外部の出典から職員が記録"}[self.value]


class Aggregation(StrEnum):
    """How a fiscal year's value and its pace to the year end are found."""

    # Events counted over the fiscal year; pace = value ÷ the share of the year elapsed.
    YEAR_COUNT = "year_count"
    # A share of the fiscal year's notices (reach rate); the pace is the rate itself.
    RATE = "rate"
    # The latest wave's index (ぱいたり値); the pace is the index itself.
    INDEX = "index"
    # Recorded: the latest measurement stands for the year, and is its pace.
    LATEST = "latest"
    # Recorded: a running total since April 1; pace = value ÷ the share of the year elapsed on its day.
    YEAR_TO_DATE = "year_to_date"


@dataclass(frozen=True)
class Kpi:
    key: str
    name: str  # the plan's wording
    plan_text: str  # the KPI with its target, as the plan writes it
    pillar: str  # the plan's 取組項目
    unit: str
    direction: Direction
    computation: Computation
    aggregation: Aggregation
    source: str  # where the figures come from
    how: str  # how the value is computed, for the dashboard and the open data
    target: float | None = None  # the plan's target (2025年度末); None for "向上"
    annual: bool = False  # the target is per year (2万件/年): it applies to each fiscal year of the plan
    baseline: str = ""
    minimum: float = 0.0
    maximum: float = 0.0
    integer: bool = True
    decimals: int = 1  # shown, where the KPI is not a whole number
    kgi: bool = False

    @property
    def recorded(self) -> bool:
        return self.computation is Computation.RECORDED

    @property
    def targets(self) -> dict[int, float]:
        """The plan's target per fiscal year, where the plan states one for that year."""
        if self.target is None:
            return {}
        if self.annual:
            return {year: self.target for year in range(PLAN_FIRST_YEAR, PLAN_LAST_YEAR + 1)}
        return {PLAN_LAST_YEAR: self.target}

    def target_for(self, fiscal_year: int) -> tuple[float | None, str]:
        """The target a fiscal year is checked against, and how to read it."""
        if self.target is None:
            return None, "向上（前年度末の値を上回る）"
        stated = self.targets.get(fiscal_year)
        number = _number(self.target, self.unit)
        if stated is not None:
            return stated, f"{number}（計画の年間目標）" if self.annual else f"{number}（計画の2025年度末目標）"
        if fiscal_year > PLAN_LAST_YEAR:
            return self.target, f"{number}（計画の目標を計画期間後も継続）"
        if fiscal_year >= PLAN_FIRST_YEAR:
            return self.target, f"{number}（計画の2025年度末目標）"
        return None, "計画期間前"

    def check_value(self, value: float) -> str | None:
        """A message in Japanese if the value cannot be a measurement of this KPI, else None."""
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return N_("値を数値で入力してください。")
        if self.integer and value != int(value):
            return N_("整数で入力してください。")
        if not self.minimum <= value <= self.maximum:
            return N_(
                "%(minimum)s〜%(maximum)sの範囲で入力してください。",
                minimum=_number(self.minimum, ""),
                maximum=_number(self.maximum, self.unit),
            )
        return None


def _number(value: float, unit: str) -> str:
    text = f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
    return f"{text}{unit}"


CITIZENS_1 = "1 市民ニーズをつかみ活かす仕組みづくり"
CITIZENS_2 = "2 行政手続のスマート化"
CITIZENS_3 = "3 情報発信・協働"
STAFF_4 = "4 多様な働き方推進"
STAFF_5 = "5 業務効率化"
STAFF_6 = "6 人材育成"

CATALOGUE: tuple[Kpi, ...] = (
    Kpi(
        key="survey_participations",
        name="市政アンケート参加数",
        plan_text="市政アンケート参加数 2万件/年",
        pillar=CITIZENS_1,
        unit="件",
        direction=Direction.HIGHER,
        computation=Computation.EVENTS,
        aggregation=Aggregation.YEAR_COUNT,
        source="Kyoso: アンケート回答の記録（Response.Submitted）",
        how="市民向け・事業者向けアンケート（職員向けを除く）への回答件数。回答日（日本時間）の年度に数える。",
        target=20_000,
        annual=True,
    ),
    Kpi(
        key="business_proposals",
        name="事業者提案（新規）",
        plan_text="事業者提案 新規10件/年",
        pillar=CITIZENS_1,
        unit="件",
        direction=Direction.HIGHER,
        computation=Computation.EVENTS,
        aggregation=Aggregation.YEAR_COUNT,
        source="Kyoso: 事業者提案の受付記録（Proposal.Submitted）",
        how="テーマ型・フリー型の新規提案の件数。受付日（日本時間）の年度に数える。",
        target=10,
        annual=True,
    ),
    Kpi(
        key="online_procedures",
        name="オンライン申請項目数",
        plan_text="オンライン申請項目数 120件",
        pillar=CITIZENS_2,
        unit="件",
        direction=Direction.HIGHER,
        computation=Computation.RECORDED,
        aggregation=Aggregation.LATEST,
        source="電子申請システムの公開手続一覧（デジタル推進課）",
        how="オンラインで申請できる手続の数。年度内で最新の測定値。",
        target=120,
        baseline="68件（令和4年度実績）",
        maximum=100_000,
    ),
    Kpi(
        key="smart_procedure_satisfaction",
        name="スマート手続の満足度",
        plan_text="スマート手続の満足度80%",
        pillar=CITIZENS_2,
        unit="%",
        direction=Direction.HIGHER,
        computation=Computation.RECORDED,
        aggregation=Aggregation.LATEST,
        source="電子申請の利用者アンケート（デジタル推進課）",
        how="スマート手続の利用者のうち「満足」「やや満足」と答えた人の割合。年度内で最新の測定値。",
        target=80,
        maximum=100,
        integer=False,
    ),
    Kpi(
        key="reach_rate",
        name="ターゲット層へのリーチ率",
        plan_text="ターゲット層へのリーチ率向上",
        pillar=CITIZENS_3,
        unit="%",
        direction=Direction.HIGHER,
        computation=Computation.EVENTS,
        aggregation=Aggregation.RATE,
        source="Kyoso: ターゲット別のお知らせの送信・開封の記録",
        how="その年度に送ったターゲット別のお知らせの開封数 ÷ 対象者数"
        "（開封: 受信箱で既読、またはメールのリンクを開いた人）。",
        maximum=100,
        integer=False,
    ),
    Kpi(
        key="sdg_point_awards",
        name="SDGsポイント発行件数",
        plan_text="SDGsポイント発行件数4.6万/年",
        pillar=CITIZENS_3,
        unit="件",
        direction=Direction.HIGHER,
        computation=Computation.EVENTS,
        aggregation=Aggregation.YEAR_COUNT,
        source="Kyoso: SDGsポイントの付与記録（Award.Granted）",
        how="SDGsポイントを付与した件数。獲得日（日本時間）の年度に数える。"
        "発行した件数なので、後に取り消された付与も含む（SDGsポイント管理の集計と同じ）。",
        target=46_000,
        annual=True,
    ),
    Kpi(
        key="call_centre_first_answer",
        name="総合CC一次回答率",
        plan_text="総合CC一次回答率100%",
        pillar=CITIZENS_3,
        unit="%",
        direction=Direction.HIGHER,
        computation=Computation.RECORDED,
        aggregation=Aggregation.LATEST,
        source="総合コールセンターの応対記録（月次報告）",
        how="総合コールセンターへの問い合わせのうち、担当課に回さず一次対応で回答できた割合。年度内で最新の測定値。",
        target=100,
        maximum=100,
        integer=False,
    ),
    Kpi(
        key="smartphone_class_participants",
        name="スマホ教室参加者",
        plan_text="スマホ教室参加者1,000名",
        pillar=CITIZENS_3,
        unit="名",
        direction=Direction.HIGHER,
        computation=Computation.RECORDED,
        aggregation=Aggregation.YEAR_TO_DATE,
        source="スマホ教室の参加者名簿の集計（デジタル推進課）",
        how="年度の4月1日からの参加者の累計。年度末の見込みは累計 ÷ 測定日までに経過した年度の割合。",
        target=1_000,
        maximum=1_000_000,
    ),
    Kpi(
        key="teleworkers",
        name="在宅勤務利用者数",
        plan_text="在宅勤務利用者数 1,600人",
        pillar=STAFF_4,
        unit="人",
        direction=Direction.HIGHER,
        computation=Computation.RECORDED,
        aggregation=Aggregation.LATEST,
        source="人事給与システムの在宅勤務申請の集計（給与課）",
        how="在宅勤務を利用した職員の数。年度内で最新の測定値。",
        target=1_600,
        maximum=100_000,
    ),
    Kpi(
        key="overtime_per_person",
        name="超過勤務時間（年間一人当たり）",
        plan_text="超過勤務時間の縮減 年間一人当たり 20%縮減 145H(R4実績) → 120H",
        pillar=STAFF_4,
        unit="時間",
        direction=Direction.LOWER,
        computation=Computation.RECORDED,
        aggregation=Aggregation.YEAR_TO_DATE,
        source="人事給与システムの超過勤務実績（給与課）",
        how="職員一人当たりの超過勤務時間の、年度の4月1日からの累計。"
        "年度末の見込みは累計 ÷ 測定日までに経過した年度の割合。低いほど良い。",
        target=120,
        baseline="145時間（令和4年度実績）",
        maximum=2_000,
        integer=False,
    ),
    Kpi(
        key="improvement_hours",
        name="業務改善時間",
        plan_text="業務改善時間 1万時間",
        pillar=STAFF_5,
        unit="時間",
        direction=Direction.HIGHER,
        computation=Computation.RECORDED,
        aggregation=Aggregation.YEAR_TO_DATE,
        source="業務改善（RPA・kintone等）の効果測定の集計（行政管理課）",
        how="業務改善で削減した作業時間の、年度の4月1日からの累計。"
        "年度末の見込みは累計 ÷ 測定日までに経過した年度の割合。",
        target=10_000,
        baseline="6,490時間（令和4年度、RPA活用による業務改善時間）",
        maximum=10_000_000,
        integer=False,
        decimals=0,
    ),
    Kpi(
        key="printing_reduction",
        name="印刷削減（R4年比）",
        plan_text="印刷削減 R4年比50%減（行政事務支援システムプリンタートナー購入費用）",
        pillar=STAFF_5,
        unit="%",
        direction=Direction.HIGHER,
        computation=Computation.RECORDED,
        aggregation=Aggregation.LATEST,
        source="行政事務支援システムのプリンタートナー購入費用（令和4年度比）",
        how="プリンタートナー購入費用の令和4年度比の削減率。年度内で最新の測定値。",
        target=50,
        maximum=100,
        integer=False,
    ),
    Kpi(
        key="dx_specialists",
        name="DX専門人材育成数",
        plan_text="DX専門人材育成数 15人",
        pillar=STAFF_6,
        unit="人",
        direction=Direction.HIGHER,
        computation=Computation.RECORDED,
        aggregation=Aggregation.LATEST,
        source="DX専門人材育成研修の修了者の記録（デジタル推進課）",
        how="DX専門人材として育成した職員の累計。年度内で最新の測定値。",
        target=15,
        maximum=10_000,
    ),
    Kpi(
        key="workplace_promoters",
        name="職場推進者育成",
        plan_text="職場推進者育成 20%",
        pillar=STAFF_6,
        unit="%",
        direction=Direction.HIGHER,
        computation=Computation.RECORDED,
        aggregation=Aggregation.LATEST,
        source="職場推進者研修の修了者の記録（人材育成担当）",
        how="職場推進者研修を修了した職員の割合。年度内で最新の測定値。",
        target=20,
        maximum=100,
        integer=False,
    ),
    Kpi(
        key="security_audit_followup",
        name="セキュリティ監査指摘対応",
        plan_text="セキュリティ監査指摘対応 100%",
        pillar=STAFF_6,
        unit="%",
        direction=Direction.HIGHER,
        computation=Computation.RECORDED,
        aggregation=Aggregation.LATEST,
        source="外部・内部セキュリティ監査の指摘事項の対応状況（デジタル推進課）",
        how="セキュリティ監査の指摘項目のうち、改善が完了した割合。年度内で最新の測定値。",
        target=100,
        maximum=100,
        integer=False,
    ),
    Kpi(
        key="engagement_index",
        name="職員エンゲージメント指数「ぱいたり値」",
        plan_text="職員エンゲージメント指数「ぱいたり値(ちい)」（最終目標 KGI）",
        pillar=STAFF_4,
        unit="点",
        direction=Direction.HIGHER,
        computation=Computation.EVENTS,
        aggregation=Aggregation.INDEX,
        source="Kyoso: 職員エンゲージメント調査の回答（ぱいたり値の集計）",
        how="職員エンゲージメント調査の回答から算定した、その時点で最新の調査回の全庁の指数（ぱいたり値の集計による）。",
        integer=False,
        decimals=2,
        kgi=True,
    ),
)

KPIS: Mapping[str, Kpi] = {kpi.key: kpi for kpi in CATALOGUE}
RECORDED_KPIS: tuple[Kpi, ...] = tuple(kpi for kpi in CATALOGUE if kpi.recorded)


def kpi_named(key: str) -> Kpi | None:
    return KPIS.get(key)


def measurements_id(kpi: str) -> UUID:
    return uuid5(KPI_NAMESPACE, f"kpi-measurements/{kpi}")


def check_measurement(kpi: str, value: float, measured_on: date | None, source: str, today: date) -> dict[str, str]:
    """Every problem with a measurement, by field, in Japanese (empty when it may be recorded)."""
    errors: dict[str, str] = {}
    found = KPIS.get(kpi)
    if found is None:
        errors["kpi"] = N_("指標を一覧から選んでください。")
    elif not found.recorded:
        errors["kpi"] = N_("この指標はKyosoのイベントから自動で集計されるため、測定値は記録できません。")
    elif problem := found.check_value(value):
        errors["value"] = problem
    if measured_on is None:
        errors["measured_on"] = N_("測定日を入力してください。")
    elif measured_on > today:
        errors["measured_on"] = N_("測定日に未来の日付は指定できません。")
    elif measured_on < EARLIEST_MEASUREMENT:
        errors["measured_on"] = N_(
            "測定日は%(year)s年%(month)s月%(day)s日以降の日付を入力してください。",
            year=EARLIEST_MEASUREMENT.strftime("%Y"),
            month=EARLIEST_MEASUREMENT.strftime("%m"),
            day=EARLIEST_MEASUREMENT.strftime("%d"),
        )
    text = source.strip()
    if not text:
        errors["source"] = N_("出典（どの資料・システムの数値か）を入力してください。")
    elif len(text) > MAX_SOURCE:
        errors["source"] = N_("出典は%(limit)s文字以内で入力してください。", limit=MAX_SOURCE)
    elif has_forbidden_characters(text):
        errors["source"] = N_("使用できない制御文字が含まれています。")
    return errors


@dataclass(frozen=True)
class Measurement:
    id: UUID
    value: float
    measured_on: date
    source: str
    recorded_by: UUID
    corrects: UUID | None


class KpiMeasurements(KyosoAggregate):
    """The measurements of one recorded KPI, in the order they were recorded."""

    class Opened(Aggregate.Created):
        kpi: str

    class Recorded(Aggregate.Event):
        measurement_id: UUID
        kpi: str
        value: float
        measured_on: date
        source: str
        recorded_by: UUID
        corrects: UUID | None

    @staticmethod
    def create_id(kpi: str) -> UUID:  # type: ignore[override]
        return measurements_id(kpi)

    @classmethod
    def open(cls, kpi: str) -> "KpiMeasurements":
        found = KPIS.get(kpi)
        if found is None or not found.recorded:
            message = N_("指標を一覧から選んでください。") if found is None else N_("この指標は記録できません。")
            raise InvalidCommand(field_errors={"kpi": message})
        return cls(kpi=kpi)

    @event(Opened)
    def __init__(self, kpi: str) -> None:
        self.kpi = kpi
        self.measurements: dict[UUID, Measurement] = {}
        self.corrected_by: dict[UUID, UUID] = {}

    def record(
        self,
        *,
        value: float,
        measured_on: date | None,
        source: str,
        recorded_by: UUID,
        corrects: UUID | None,
        today: date,
    ) -> UUID:
        """Records a measurement (or a correction of an earlier one); returns its id."""
        errors = check_measurement(self.kpi, value, measured_on, source, today)
        if corrects is not None:
            if corrects not in self.measurements:
                errors["corrects"] = N_("訂正する測定値がこの指標の記録に見つかりません。")
            elif corrects in self.corrected_by:
                errors["corrects"] = N_("この測定値はすでに訂正されています。訂正後の測定値を訂正してください。")
        if errors:
            raise InvalidCommand(field_errors=errors)
        assert measured_on is not None
        measurement_id = uuid4()
        self._record(measurement_id, self.kpi, float(value), measured_on, source.strip(), recorded_by, corrects)
        return measurement_id

    @event(Recorded)
    def _record(
        self,
        measurement_id: UUID,
        kpi: str,
        value: float,
        measured_on: date,
        source: str,
        recorded_by: UUID,
        corrects: UUID | None,
    ) -> None:
        self.measurements[measurement_id] = Measurement(
            measurement_id, value, measured_on, source, recorded_by, corrects
        )
        if corrects is not None:
            self.corrected_by[corrects] = measurement_id
