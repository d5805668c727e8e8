"""The plan's KPIs for the DX推進会議 and everyone: the public dashboard /kpis (each KPI as a chart
beside its numbers), its open data (GET /api/v1/kpis as JSON, /kpis.csv for Excel), both for any
fiscal year as it stood at the end of any past day; and the staff page that records a measurement
from a source outside Kyoso, or corrects one, with the history of every measurement.

The figures come from projections/kpis_read.py; a measurement is a Kyoso command
(domain/kpi_commands.py), which checks the rules again.
"""

import calendar
import csv
import io
import math
import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Router, get, post
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from litestar.response import Response, Template

from domain import clock
from domain.errors import InvalidCommand
from domain.kpi import KPIS, PLAN_NAME, RECORDED_KPIS, check_measurement
from projections.kpis_read import Dashboard, Figure, KpiReader, MeasurementRow, display
from projections.storage import Storage
from web.auth import User, current_user, staff_only
from web.forms import one, parse_date
from web.i18n import gettext
from web.routes.api import Problem
from web.routes.common import FormData, go, page, translated

EARLIEST_YEAR = 2000
LATEST_YEAR = 2100
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_NUMBER_TEXT = 30

FiscalYearParam = Annotated[
    str,
    Parameter(description="年度（西暦、例: 2025 は2025年4月〜2026年3月）。省略時は今年度。", required=False),
]
AsOfParam = Annotated[
    str,
    Parameter(
        description="基準日: YYYY-MM-DD（その日の終わり、日本時間）または YYYY-MM（その月の末日）。"
        "その時点で記録されていたイベントと測定値から再構成する。省略時は現在。",
        required=False,
    ),
]


# Reading the view


def parse_view(fiscal_year: str, as_of: str, today: date) -> tuple[int, date | None]:
    """The fiscal year and the as-of day asked for; InvalidCommand (422) with field errors otherwise."""
    errors: dict[str, str] = {}
    year = clock.fiscal_year(today)
    text = unicodedata.normalize("NFKC", fiscal_year).strip()
    if text:
        if text.isdigit() and len(text) == 4 and EARLIEST_YEAR <= int(text) <= LATEST_YEAR:
            year = int(text)
        else:
            errors["fiscal_year"] = gettext("年度は%(first)s〜%(last)sの西暦4桁で指定してください（例: 2025）。") % {
                "first": EARLIEST_YEAR,
                "last": LATEST_YEAR,
            }
    day = None
    text = unicodedata.normalize("NFKC", as_of).strip()
    if text:
        try:
            if _MONTH.match(text):
                y, m = int(text[:4]), int(text[5:])
                day = date(y, m, calendar.monthrange(y, m)[1])
            elif _DAY.match(text):
                day = date.fromisoformat(text)
            else:
                raise ValueError(text)
        except ValueError:
            errors["as_of"] = gettext(
                "基準日はYYYY-MM-DD（その日の終わり）またはYYYY-MM（その月末）の形式で指定してください。"
            )
        else:
            if day > today:
                errors["as_of"] = gettext("基準日に未来の日付は指定できません。")
            elif day.year < EARLIEST_YEAR:
                errors["as_of"] = gettext("基準日は%(first)s年以降の日付を指定してください。") % {
                    "first": EARLIEST_YEAR
                }
    if errors:
        raise InvalidCommand(" ".join(errors.values()), field_errors=errors)
    return year, day


def _dashboard(storage: Storage, fiscal_year: str, as_of: str) -> Dashboard:
    year, day = parse_view(fiscal_year, as_of, clock.city_today())
    return KpiReader(storage.db).dashboard(year, day)


def as_of_choices(fiscal_year: int, today: date) -> list[tuple[str, str]]:
    """The month ends of the fiscal year that are past, newest first: (value, label)."""
    choices = []
    for i in range(12):
        y, m = (fiscal_year, 4 + i) if i < 9 else (fiscal_year + 1, i - 8)
        last = date(y, m, calendar.monthrange(y, m)[1])
        if last < today:
            label = gettext("%(year)s年%(month)s月末（年度末）") if m == 3 else gettext("%(year)s年%(month)s月末")
            choices.append((last.isoformat(), label % {"year": y, "month": m}))
    return list(reversed(choices))


# The public page


def _chart_rows(figure: Figure) -> tuple[list[str], list[float]]:
    """The bars of a KPI's chart: the numbers it has (a missing one gets no bar, and no mark)."""
    labels, values = [], []
    for label, value in (
        (gettext("実績"), figure.value),
        (gettext("年度末見込み"), figure.pace),
        (gettext("目標"), figure.target),
    ):
        if value is not None:
            labels.append(label)
            values.append(int(value) if value == int(value) else value)
    return labels, values


def _month_rows(figure: Figure) -> tuple[list[str], list[float]]:
    shown = [m for m in figure.months if m.value is not None]
    return [gettext("%(month)s月") % {"month": int(m.key[5:])} for m in shown], [
        int(m.value) if m.value == int(m.value) else m.value for m in shown
    ]  # type: ignore[arg-type]


def status_label(figure: Figure) -> str:
    if figure.on_track is None:
        return "—"
    return gettext("達成見込み") if figure.on_track else gettext("未達の見込み")


@get("/kpis", sync_to_thread=True)
def kpis_page(
    request: Request[Any, Any, Any], storage: Storage, fiscal_year: FiscalYearParam = "", as_of: AsOfParam = ""
) -> Template:
    dash = _dashboard(storage, fiscal_year, as_of)
    today = clock.city_today()
    pillars: dict[str, list[Figure]] = {}
    for figure in dash.figures:
        pillars.setdefault(figure.kpi.pillar, []).append(figure)
    query = f"fiscal_year={dash.fiscal_year}" + (f"&as_of={dash.as_of.isoformat()}" if dash.as_of else "")
    return page(
        request,
        "kpis/index.html",
        dash=dash,
        pillars=pillars,
        plan=PLAN_NAME,
        years=KpiReader(storage.db).fiscal_years(today),
        this_year=clock.fiscal_year(today),
        as_of_choices=as_of_choices(dash.fiscal_year, today),
        query=query,
        display=display,
        chart_rows=_chart_rows,
        month_rows=_month_rows,
        status_label=status_label,
    )


# Open data


def _cell(value: Any) -> Any:
    # Excel runs a cell starting = + - @ (or tab, CR) as a formula: such text is kept text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def _csv_number(value: float | None) -> Any:
    if value is None:
        return ""
    return int(value) if value == int(value) else value


CSV_COLUMNS = [
    "年度",
    "基準",
    "取組項目",
    "区分",
    "指標",
    "計画の記載",
    "単位",
    "目標",
    "目標の見方",
    "実績",
    "年度末見込み",
    "達成見込み",
    "集計の方法",
    "算出方法",
    "出典",
    "測定日",
    "備考",
]


@get("/kpis.csv", sync_to_thread=True)
def kpis_csv(storage: Storage, fiscal_year: FiscalYearParam = "", as_of: AsOfParam = "") -> Response[bytes]:
    dash = _dashboard(storage, fiscal_year, as_of)
    basis = f"{dash.as_of:%Y-%m-%d}終了時点" if dash.as_of else f"{clock.city_date(dash.moment):%Y-%m-%d}現在"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for f in dash.figures:
        line = (
            f"{dash.fiscal_year}年度", basis, f.kpi.pillar, "KGI" if f.kpi.kgi else "KPI", f.kpi.name,
            f.kpi.plan_text, f.kpi.unit, _csv_number(f.target), f.target_label, _csv_number(f.value),
            _csv_number(f.pace), status_label(f), f.kpi.computation.label, f.kpi.how, f.source,
            f.measured_on.isoformat() if f.measured_on else "", f.note,
        )  # fmt: skip
        writer.writerow([_cell(v) for v in line])
    suffix = f"-asof-{dash.as_of.isoformat()}" if dash.as_of else ""
    # Excel detects UTF-8 only with a byte-order mark.
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        media_type="text/csv",  # Litestar adds "; charset=utf-8"
        headers={"Content-Disposition": f'attachment; filename="kyoso-kpis-FY{dash.fiscal_year}{suffix}.csv"'},
    )


class KpiMonthOut(msgspec.Struct):
    month: Annotated[str, msgspec.Meta(description="YYYY-MM（日本時間）")]
    value: Annotated[
        float | None,
        msgspec.Meta(description="集計: その月の件数。記録: その月の最新の測定値。null: 未来の月、測定値なし"),
    ]


class KpiOut(msgspec.Struct):
    key: str
    name: Annotated[str, msgspec.Meta(description="計画での指標名")]
    plan_text: Annotated[str, msgspec.Meta(description="計画の記載（目標を含む）")]
    pillar: Annotated[str, msgspec.Meta(description="計画の取組項目")]
    kgi: Annotated[bool, msgspec.Meta(description="最終目標（KGI）か")]
    unit: str
    direction: Annotated[str, msgspec.Meta(description="higher: 高いほど良い / lower: 低いほど良い")]
    computation: Annotated[str, msgspec.Meta(description="events: イベントから集計 / recorded: 外部の出典から記録")]
    aggregation: Annotated[str, msgspec.Meta(description="year_count, rate, index, latest, year_to_date")]
    target: Annotated[float | None, msgspec.Meta(description="この年度の目標（「向上」は前年度の値、なければ null）")]
    target_label: str
    value: Annotated[float | None, msgspec.Meta(description="基準時点の値（なければ null）")]
    pace: Annotated[float | None, msgspec.Meta(description="年度末の見込み")]
    on_track: Annotated[bool | None, msgspec.Meta(description="見込みが目標に届くか（判定できなければ null）")]
    measured_on: Annotated[date | None, msgspec.Meta(description="記録された指標: 採用した測定値の測定日")]
    source: Annotated[str, msgspec.Meta(description="出典")]
    how_computed: Annotated[str, msgspec.Meta(description="算出方法")]
    note: str
    months: list[KpiMonthOut]


class KpiDashboardOut(msgspec.Struct):
    plan: str
    fiscal_year: int
    fiscal_year_starts: date
    fiscal_year_ends: date
    as_of: Annotated[date | None, msgspec.Meta(description="基準日（その日の終わり、日本時間）。null は現在")]
    figures_at: Annotated[datetime, msgspec.Meta(description="数値が表す時点（UTC）")]
    elapsed_share: Annotated[float, msgspec.Meta(description="基準時点で経過した年度の割合（0〜1）")]
    kpis: list[KpiOut]


def _kpi_out(f: Figure) -> KpiOut:
    return KpiOut(
        key=f.kpi.key, name=f.kpi.name, plan_text=f.kpi.plan_text, pillar=f.kpi.pillar, kgi=f.kpi.kgi,
        unit=f.kpi.unit, direction=f.kpi.direction.value, computation=f.kpi.computation.value,
        aggregation=f.kpi.aggregation.value, target=f.target, target_label=f.target_label, value=f.value,
        pace=f.pace, on_track=f.on_track, measured_on=f.measured_on, source=f.source, how_computed=f.kpi.how,
        note=f.note, months=[KpiMonthOut(m.key, m.value) for m in f.months],
    )  # fmt: skip


@get(
    "/kpis",
    sync_to_thread=True,
    summary="DX推進会議のKPI: 計画の各指標の目標・実績・年度末見込み・出典（オープンデータ）",
    description="あまがさき共創DXプランの全KPI（とKGIのぱいたり値）を、年度ごとに、任意の過去の日の終わり時点で"
    "再構成して返す。422: fiscal_year または as_of が正しくない（field_errors）。",
    responses={422: ResponseSpec(data_container=Problem, description="fiscal_year or as_of is invalid; field_errors")},
)
def api_kpis(storage: Storage, fiscal_year: FiscalYearParam = "", as_of: AsOfParam = "") -> KpiDashboardOut:
    dash = _dashboard(storage, fiscal_year, as_of)
    return KpiDashboardOut(
        plan=PLAN_NAME,
        fiscal_year=dash.fiscal_year,
        fiscal_year_starts=dash.starts,
        fiscal_year_ends=dash.ends,
        as_of=dash.as_of,
        figures_at=dash.moment,
        elapsed_share=round(dash.elapsed, 4),
        kpis=[_kpi_out(f) for f in dash.figures],
    )


# Staff: recording measurements


def _user(request: Request[Any, Any, Any]) -> User:
    user = current_user(request)
    assert user is not None  # The router's guard has checked.
    return user


def _names(storage: Storage, rows: list[MeasurementRow]) -> dict[str, str]:
    names = {}
    for staff_id in {r.recorded_by for r in rows}:
        identity = storage.identities.get(UUID(staff_id))
        names[staff_id] = identity.display_name if identity else gettext("（削除済み）")
    return names


def _measurements_page(
    request: Request[Any, Any, Any], storage: Storage, status_code: int = 200, **context: Any
) -> Template:
    rows = KpiReader(storage.db).measurements()
    history: dict[str, list[MeasurementRow]] = {}
    for row in rows:
        history.setdefault(row.kpi, []).append(row)
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return page(
        request, "kpis/measurements.html", status_code=status_code, kpis=RECORDED_KPIS, KPIS=KPIS,
        history=history, names=_names(storage, rows), today=clock.city_today(), display=display, **context,
    )  # fmt: skip


@get("/kpis/measurements", sync_to_thread=True)
def measurements_page(
    request: Request[Any, Any, Any], storage: Storage, corrects: str = "", recorded: str = ""
) -> Template:
    values: dict[str, str] = {"measured_on": clock.city_today().isoformat()}
    correcting = None
    if corrects.strip():
        try:
            correcting = KpiReader(storage.db).measurement(str(UUID(corrects.strip())))
        except ValueError:
            correcting = None
        if correcting is not None:
            values = {
                "kpi": correcting.kpi,
                "value": f"{correcting.value:g}",
                "measured_on": correcting.measured_on.isoformat(),
                "source": correcting.source,
                "corrects": correcting.id,
            }
    return _measurements_page(request, storage, values=values, correcting=correcting, recorded=recorded)


def _value(raw: str, errors: dict[str, str]) -> float:
    text = unicodedata.normalize("NFKC", raw).replace(",", "").strip()
    if not text:
        errors["value"] = gettext("値を入力してください。")
        return math.nan
    try:
        if len(text) > MAX_NUMBER_TEXT:
            raise ValueError(text)
        return float(text)
    except ValueError:
        errors["value"] = gettext("値を数値で入力してください（例: 1600、92.5）。")
        return math.nan


@post("/kpis/measurements", sync_to_thread=True)
def record_measurement(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    user = _user(request)
    errors: dict[str, str] = {}
    kpi = one(data, "kpi").strip()
    value = _value(one(data, "value"), errors)
    measured_on = parse_date(one(data, "measured_on"), "measured_on", errors)
    source = one(data, "source")
    corrects = None
    if raw := one(data, "corrects").strip():
        try:
            corrects = UUID(raw)
        except ValueError:
            errors["corrects"] = gettext(
                "訂正する測定値の指定が正しくありません。履歴の「訂正する」から選んでください。"
            )
    # Every problem at once: what the form could not read, and what the rules refuse.
    errors = check_measurement(kpi, value, measured_on, source, clock.city_today()) | errors
    if not errors:
        try:
            measurement_id = storage.app.record_measurement(
                user.id, kpi=kpi, value=value, measured_on=measured_on, source=source, corrects=corrects
            )
        except InvalidCommand as e:
            errors = translated(e.field_errors) or {"form": gettext(e.message)}
        else:
            storage.projector.catch_up()
            return go(request, f"/staff/kpis/measurements?recorded={measurement_id}#m-{measurement_id}")
    values = {name: one(data, name) for name in ("kpi", "value", "measured_on", "source", "corrects")}
    correcting = KpiReader(storage.db).measurement(str(corrects)) if corrects else None
    return _measurements_page(request, storage, status_code=422, errors=errors, values=values, correcting=correcting)


routes: list[Any] = [
    kpis_page,
    kpis_csv,
    Router(path="/api/v1", route_handlers=[api_kpis], tags=["v1"]),
    # A Router of its own: the staff pages' Routers already own /staff, and a bare handler on a path
    # below them would be registered twice by Litestar.
    Router(path="/staff", guards=[staff_only], route_handlers=[measurements_page, record_measurement]),
]
