"""Read model of the plan's KPIs: daily counts from the events, and the recorded measurements.

`kpi_daily` holds one row per city day and metric, folded per batch, so the dashboard sums at most a
few hundred rows a fiscal year whatever the number of events:
- survey_participations: a Response.Submitted to a survey whose audience is not staff (the
  engagement survey and other 職員アンケート are not 市政アンケート), on the response's day;
- business_proposals: a Proposal.Submitted, on its day;
- sdg_point_awards: an Award.Granted, on its `earned_on` day (the day of its cause: the awarding
  process only lags it), so the fiscal year is the one the points ledger counts it in;
- sdg_point_revocations: an Award.Revoked, on its own day. The KPI counts awards issued (発行件数),
  as the points dashboard does; revocations are shown beside it, not subtracted.

`kpi_measurements` keeps every measurement with the moment it was recorded and, once a later one
corrects it, the correction's id and moment: the dashboard as of any moment takes the
measurements recorded by then that were not yet corrected by then.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from eventsourcing.utils import get_topic

from domain.clock import city_date
from domain.kpi import KpiMeasurements
from domain.points_ledger import Award
from domain.proposal import Proposal
from domain.response import Response
from domain.survey import Survey
from domain.values import Audience
from projections.database import Cursor

SURVEY_PARTICIPATIONS = "survey_participations"
BUSINESS_PROPOSALS = "business_proposals"
SDG_POINT_AWARDS = "sdg_point_awards"
SDG_POINT_REVOCATIONS = "sdg_point_revocations"
TABLES = ("kpi_daily", "kpi_surveys", "kpi_measurements")
_STAFF = Audience.STAFF.value


def moment_text(moment: datetime) -> str:
    """A moment as this read model stores it: UTC, microseconds, fixed width (text order = time order)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class KpiProjection:
    name = "kpis"
    topics = tuple(
        get_topic(cls)
        for cls in (
            Survey.Drafted,
            Survey.DetailsRevised,
            Response.Submitted,
            Proposal.Submitted,
            Award.Granted,
            Award.Revoked,
            KpiMeasurements.Recorded,
        )
    )

    def __init__(self) -> None:
        # A survey's audience is fixed once it is published (before any response), so what was
        # read once stays true; the cache is dropped with the read model.
        self._audiences: dict[Any, str] = {}

    def clear(self, cur: Cursor) -> None:
        for table in TABLES:
            cur.execute(f"DELETE FROM {table}")
        self._audiences.clear()

    def project(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        counts: dict[tuple[str, str], int] = defaultdict(int)
        days: dict[Any, str] = {}
        audiences = self._audiences
        unknown: list[tuple[Any, str]] = []
        for position, event in events:
            kind = type(event)
            if kind is Response.Submitted:
                day = _day(days, event.timestamp)
                audience = audiences.get(event.survey_id)
                if audience is None:
                    unknown.append((event.survey_id, day))
                elif audience != _STAFF:
                    counts[(day, SURVEY_PARTICIPATIONS)] += 1
            elif kind is Award.Granted:
                earned = event.earned_on
                counts[(days.get(earned) or days.setdefault(earned, earned.isoformat()), SDG_POINT_AWARDS)] += 1
            elif kind is Award.Revoked:
                counts[(_day(days, event.timestamp), SDG_POINT_REVOCATIONS)] += 1
            elif kind is Proposal.Submitted:
                counts[(_day(days, event.timestamp), BUSINESS_PROPOSALS)] += 1
            elif kind is Survey.Drafted or kind is Survey.DetailsRevised:
                audience = event.audience.value
                audiences[event.originator_id] = audience
                cur.execute(
                    "INSERT INTO kpi_surveys (survey_id, audience) VALUES (?, ?)"
                    " ON CONFLICT (survey_id) DO UPDATE SET audience = excluded.audience",
                    (str(event.originator_id), audience),
                )
            elif kind is KpiMeasurements.Recorded:
                _record(cur, position, event)
        for survey_id, day in unknown:
            # A survey drafted before this process started: its audience is in the table.
            audience = audiences.get(survey_id) or self._audience(cur, survey_id)
            if audience is not None and audience != _STAFF:
                counts[(day, SURVEY_PARTICIPATIONS)] += 1
        if counts:
            cur.executemany(
                "INSERT INTO kpi_daily (day, metric, events) VALUES (?, ?, ?)"
                " ON CONFLICT (day, metric) DO UPDATE SET events = kpi_daily.events + excluded.events",
                [(day, metric, n) for (day, metric), n in counts.items()],
            )

    def _audience(self, cur: Cursor, survey_id: Any) -> str | None:
        row = cur.execute("SELECT audience FROM kpi_surveys WHERE survey_id = ?", (str(survey_id),)).fetchone()
        if row is None:
            return None
        self._audiences[survey_id] = str(row[0])
        return str(row[0])


def _day(days: dict[Any, str], moment: datetime) -> str:
    # Many events of a batch share a day; the quarter hour tells which (every zone's offset is a
    # multiple of 15 minutes).
    key = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
    day = days.get(key)
    if day is None:
        day = days[key] = city_date(moment).isoformat()
    return day


def _record(cur: Cursor, position: int, event: Any) -> None:
    at = moment_text(event.timestamp)
    measurement = str(event.measurement_id)
    corrects = str(event.corrects) if event.corrects is not None else None
    cur.execute(
        "INSERT INTO kpi_measurements (measurement_id, position, kpi, value, measured_on, source, recorded_by,"
        " recorded_at, corrects) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            measurement,
            position,
            event.kpi,
            float(event.value),
            event.measured_on.isoformat(),
            event.source,
            str(event.recorded_by),
            at,
            corrects,
        ),
    )
    if corrects is not None:
        cur.execute(
            "UPDATE kpi_measurements SET corrected_by = ?, corrected_at = ? WHERE measurement_id = ?",
            (measurement, at, corrects),
        )
