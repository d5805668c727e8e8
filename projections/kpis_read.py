"""The DX推進会議 dashboard: every KPI of the plan for a fiscal year, as it stood at any moment.

For each KPI: its value, its target, its pace projected to the year end, and where the value comes
from. Counted KPIs sum the day rows of `kpi_daily` up to the moment's day (at most 366 per metric);
recorded KPIs take the latest measurement of the fiscal year (by measured_on, then by when it was
recorded) among those recorded by the moment and not yet corrected by then. The reach rate and the
engagement index come from the notices' and the engagement survey's read models; when those cannot
be read (not installed, tables missing), the dashboard shows "—" with a note rather than failing.

"As of" is the end of a city day (a month's or a fiscal year's last day, usually): the counts of
the days up to it, and the measurements as they stood then. Pace:
- counts: value ÷ the share of the fiscal year elapsed at the moment (the value itself once the
  year is over; none before it starts);
- running totals since April 1 (YEAR_TO_DATE): the same, at the end of the measurement's day;
- the other recorded KPIs, the reach rate and the index: the value itself.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain import clock
from domain.kpi import CATALOGUE, PLAN_FIRST_YEAR, Aggregation, Direction, Kpi
from projections.database import Database
from projections.kpis import (
    BUSINESS_PROPOSALS,
    SDG_POINT_AWARDS,
    SDG_POINT_REVOCATIONS,
    SURVEY_PARTICIPATIONS,
    moment_text,
)

log = logging.getLogger(__name__)

NOT_AVAILABLE = "—"
COUNTED = {
    "survey_participations": SURVEY_PARTICIPATIONS,
    "business_proposals": BUSINESS_PROPOSALS,
    "sdg_point_awards": SDG_POINT_AWARDS,
}
MAX_HISTORY = 5_000
# A measurement in force: (measured_on, recorded_at, value, source).
Item = tuple[date, str, float, str]


@dataclass(frozen=True)
class Month:
    key: str  # YYYY-MM
    label: str
    value: float | None  # None: a month still to come, or no measurement in it
    future: bool


@dataclass(frozen=True)
class Figure:
    kpi: Kpi
    value: float | None
    target: float | None
    target_label: str
    pace: float | None
    on_track: bool | None
    measured_on: date | None
    source: str
    note: str
    months: list[Month]

    @property
    def how(self) -> str:
        return self.kpi.how


@dataclass(frozen=True)
class Dashboard:
    fiscal_year: int
    as_of: date | None  # None: now
    moment: datetime  # the moment the figures stand at (UTC)
    starts: date
    ends: date
    elapsed: float  # the share of the fiscal year elapsed at the moment, 0–1
    figures: list[Figure]


@dataclass(frozen=True)
class MeasurementRow:
    id: str
    kpi: str
    value: float
    measured_on: date
    source: str
    recorded_by: str
    recorded_at: str
    corrects: str | None
    corrected_by: str | None
    corrected_at: str | None


def year_start(fiscal_year: int) -> datetime:
    return datetime(fiscal_year, 4, 1, tzinfo=clock.CITY_TZ)


def end_of_day(day: date) -> datetime:
    """The first moment after the city day (exclusive bound)."""
    after = day + timedelta(days=1)
    return datetime(after.year, after.month, after.day, tzinfo=clock.CITY_TZ)


def elapsed_share(fiscal_year: int, moment: datetime) -> float:
    start, end = year_start(fiscal_year), year_start(fiscal_year + 1)
    share = (moment - start) / (end - start)
    return min(1.0, max(0.0, share))


def month_keys(fiscal_year: int) -> list[tuple[str, date]]:
    """April to March: (YYYY-MM, first day)."""
    months = []
    for i in range(12):
        year, month = (fiscal_year, 4 + i) if i < 9 else (fiscal_year + 1, i - 8)
        months.append((f"{year:04d}-{month:02d}", date(year, month, 1)))
    return months


def display(kpi: Kpi, value: float | None, *, unit: bool = True) -> str:
    """A value as the dashboard prints it: thousands separated, a decimal only where the KPI has them."""
    if value is None:
        return NOT_AVAILABLE
    text = f"{value:,.0f}" if kpi.integer or value == int(value) else f"{value:,.{kpi.decimals}f}"
    return f"{text}{kpi.unit}" if unit else text


def _rounded(kpi: Kpi, value: float) -> float:
    return float(round(value)) if kpi.integer else round(value, kpi.decimals)


def _on_track(direction: Direction, pace: float | None, target: float | None, *, improve: bool) -> bool | None:
    if pace is None or target is None:
        return None
    if improve:
        return pace > target
    return pace >= target if direction is Direction.HIGHER else pace <= target


class KpiReader:
    def __init__(self, db: Database) -> None:
        self.db = db

    def dashboard(self, fiscal_year: int, as_of: date | None = None, *, now: datetime | None = None) -> Dashboard:
        now = now or clock.now()
        # The day's last instant (timestamps have microseconds): everything up to it, inclusive.
        moment = min(end_of_day(as_of) - timedelta(microseconds=1), now) if as_of is not None else now
        starts, ends = year_start(fiscal_year).date(), year_start(fiscal_year + 1).date() - timedelta(days=1)
        day = clock.city_date(moment)
        elapsed = elapsed_share(fiscal_year, moment)
        counts = self._counts(starts, min(ends, day))
        latest = self._measurements(starts, ends, moment)
        figures = []
        for kpi in CATALOGUE:
            if kpi.aggregation is Aggregation.YEAR_COUNT:
                figures.append(self._counted(kpi, fiscal_year, counts, elapsed, day))
            elif kpi.aggregation is Aggregation.RATE:
                figures.append(self._reach(kpi, fiscal_year, as_of))
            elif kpi.aggregation is Aggregation.INDEX:
                figures.append(self._engagement(kpi, fiscal_year, moment))
            else:
                figures.append(self._recorded(kpi, fiscal_year, latest.get(kpi.key, []), day))
        return Dashboard(fiscal_year, as_of, moment.astimezone(UTC), starts, ends, elapsed, figures)

    def fiscal_years(self, today: date) -> list[int]:
        """The plan's years, any earlier year with data, up to this one."""
        first = PLAN_FIRST_YEAR
        for sql in ("SELECT MIN(day) FROM kpi_daily", "SELECT MIN(measured_on) FROM kpi_measurements"):
            row = self.db.query_one(sql)
            if row and row[0]:
                first = min(first, clock.fiscal_year(date.fromisoformat(str(row[0]))))
        return list(range(first, max(clock.fiscal_year(today), PLAN_FIRST_YEAR) + 1))

    def measurements(self, kpi: str | None = None, limit: int = MAX_HISTORY) -> list[MeasurementRow]:
        """Every measurement, corrections and corrected ones alike, newest first per KPI."""
        where, params = ("WHERE kpi = ?", (kpi,)) if kpi else ("", ())
        rows = self.db.query(
            "SELECT measurement_id, kpi, value, measured_on, source, recorded_by, recorded_at, corrects,"
            f" corrected_by, corrected_at FROM kpi_measurements {where} ORDER BY kpi, position DESC LIMIT {int(limit)}",
            params,
        )
        return [_measurement_row(row) for row in rows]

    def measurement(self, measurement_id: str) -> MeasurementRow | None:
        row = self.db.query_one(
            "SELECT measurement_id, kpi, value, measured_on, source, recorded_by, recorded_at, corrects,"
            " corrected_by, corrected_at FROM kpi_measurements WHERE measurement_id = ?",
            (measurement_id,),
        )
        return _measurement_row(row) if row else None

    # Counted from the events

    def _counts(self, starts: date, until: date) -> dict[tuple[str, str], int]:
        """Events per (metric, month) over the days from `starts` to `until`."""
        if until < starts:
            return {}
        rows = self.db.query(
            "SELECT metric, SUBSTR(day, 1, 7), SUM(events) FROM kpi_daily WHERE day >= ? AND day <= ?"
            " GROUP BY metric, SUBSTR(day, 1, 7)",
            (starts.isoformat(), until.isoformat()),
        )
        return {(str(metric), str(month)): int(n) for metric, month, n in rows}

    def _counted(
        self, kpi: Kpi, fiscal_year: int, counts: dict[tuple[str, str], int], elapsed: float, day: date
    ) -> Figure:
        metric = COUNTED[kpi.key]
        months = [
            Month(key, f"{first.month}月", None if first > day else counts.get((metric, key), 0), first > day)
            for key, first in month_keys(fiscal_year)
        ]
        value = float(sum(counts.get((metric, key), 0) for key, _ in month_keys(fiscal_year)))
        pace = None if elapsed <= 0 else value if elapsed >= 1 else _rounded(kpi, value / elapsed)
        target, label = kpi.target_for(fiscal_year)
        note = ""
        if kpi.key == "sdg_point_awards":
            revoked = sum(n for (m, _), n in counts.items() if m == SDG_POINT_REVOCATIONS)
            note = f"この年度中の取り消し {revoked:,}件（発行件数からは差し引きません）。"
        if elapsed <= 0:
            note = (note + " " if note else "") + "年度が始まる前の時点です。"
        return Figure(
            kpi, value, target, label, pace, _on_track(kpi.direction, pace, target, improve=False), None,
            kpi.source, note, months,
        )  # fmt: skip

    # Recorded from outside sources

    def _measurements(
        self, starts: date, ends: date, moment: datetime
    ) -> dict[str, list[tuple[date, str, float, str]]]:
        """Per KPI, the fiscal year's measurements in force at the moment: (measured_on, recorded_at,
        value, source), oldest first."""
        bound = moment_text(moment)
        rows = self.db.query(
            "SELECT kpi, measured_on, recorded_at, value, source, corrected_at FROM kpi_measurements"
            " WHERE measured_on >= ? AND measured_on <= ? AND recorded_at <= ?",
            (starts.isoformat(), ends.isoformat(), bound),
        )
        found: dict[str, list[Item]] = {}
        for kpi, measured_on, recorded_at, value, source, corrected_at in rows:
            if corrected_at is not None and str(corrected_at) <= bound:
                continue  # corrected by then: the correction stands in its place
            found.setdefault(str(kpi), []).append(
                (date.fromisoformat(str(measured_on)), str(recorded_at), float(value), str(source))
            )
        for items in found.values():
            items.sort()
        return found

    def _recorded(self, kpi: Kpi, fiscal_year: int, items: list[Item], day: date) -> Figure:
        target, label = kpi.target_for(fiscal_year)
        by_month: dict[str, float] = {}
        for measured_on, _, value, _ in items:
            by_month[measured_on.isoformat()[:7]] = value  # items are oldest first: the month's latest wins
        months = [
            Month(key, f"{first.month}月", by_month.get(key), first > day) for key, first in month_keys(fiscal_year)
        ]
        if not items:
            return Figure(
                kpi, None, target, label, None, None, None, kpi.source, "この年度の測定値はまだありません。", months
            )
        measured_on, _, value, source = items[-1]
        pace = value
        if kpi.aggregation is Aggregation.YEAR_TO_DATE:
            share = elapsed_share(fiscal_year, end_of_day(measured_on))
            pace = _rounded(kpi, value / share) if share < 1 else value
        note = f"{measured_on:%Y年%m月%d日}時点の測定値。"
        return Figure(
            kpi, value, target, label, pace, _on_track(kpi.direction, pace, target, improve=False), measured_on,
            source, note, months,
        )  # fmt: skip

    # From the other read models (written by other parts of Kyoso; imported when used, so that the
    # dashboard still shows everything else when they are missing or fail)

    def _reach(self, kpi: Kpi, fiscal_year: int, as_of: date | None) -> Figure:
        target, label = kpi.target_for(fiscal_year)
        months: list[Month] = []
        this_year = _reach_by_fiscal_year(self.db, fiscal_year)
        if this_year is None:
            note = "ターゲット別のお知らせの集計を読めませんでした（未導入または未集計）。"
            return Figure(kpi, None, target, label, None, None, None, kpi.source, note, months)
        targeted, opened = this_year
        value = round(100 * opened / targeted, 1) if targeted else None
        note = f"対象 {targeted:,}人・開封 {opened:,}人。"
        if value is None:
            note = "この年度に送ったターゲット別のお知らせはまだありません。"
        previous = _reach_by_fiscal_year(self.db, fiscal_year - 1)
        if previous is not None and previous[0]:
            target = round(100 * previous[1] / previous[0], 1)
            label = f"前年度（{target:.1f}%）を上回る"
        if as_of is not None:
            note += "リーチ率は時点を指定しても現在の集計です。"
        return Figure(
            kpi, value, target, label, value, _on_track(kpi.direction, value, target, improve=True), None,
            kpi.source, note, months,
        )  # fmt: skip

    def _engagement(self, kpi: Kpi, fiscal_year: int, moment: datetime) -> Figure:
        target, label = kpi.target_for(fiscal_year)
        until = min(moment, year_start(fiscal_year + 1))
        found = _organisation_index(self.db, until)
        if found is None:
            note = "職員エンゲージメント調査の集計を読めませんでした（未導入または未集計）。"
            return Figure(kpi, None, target, label, None, None, None, kpi.source, note, [])
        index, wave = found
        note = f"調査回: {wave}。" if index is not None and wave else "まだ調査の結果がありません。"
        before = _organisation_index(self.db, min(moment, year_start(fiscal_year)))
        if before is not None and before[0] is not None:
            target = round(before[0], 2)
            label = f"前年度末の値（{target:g}、{before[1]}）を上回る"
        value = round(index, 2) if index is not None else None
        return Figure(
            kpi, value, target, label, value, _on_track(kpi.direction, value, target, improve=True), None,
            kpi.source, note, [],
        )  # fmt: skip


def _measurement_row(row: Any) -> MeasurementRow:
    mid, kpi, value, measured_on, source, recorded_by, recorded_at, corrects, corrected_by, corrected_at = row
    return MeasurementRow(
        str(mid), str(kpi), float(value), date.fromisoformat(str(measured_on)), str(source), str(recorded_by),
        str(recorded_at), corrects, corrected_by, corrected_at,
    )  # fmt: skip


def _reach_by_fiscal_year(db: Database, fiscal_year: int) -> tuple[int, int] | None:
    try:
        from projections.notices_read import reach_by_fiscal_year

        targeted, opened = reach_by_fiscal_year(db, fiscal_year)
        return int(targeted), int(opened)
    except Exception as error:
        log.warning("KPI dashboard: reach rate unavailable: %s", type(error).__name__)
        return None


def _organisation_index(db: Database, as_of: datetime) -> tuple[float | None, str] | None:
    try:
        from projections.engagement_read import organisation_index

        index, wave = organisation_index(db, as_of)
        return (float(index) if index is not None else None), str(wave or "")
    except Exception as error:
        log.warning("KPI dashboard: engagement index unavailable: %s", type(error).__name__)
        return None
