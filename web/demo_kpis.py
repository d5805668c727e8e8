"""Demo data for the DX推進会議 dashboard: a year of monthly measurements of every KPI that comes from
outside Kyoso, recorded by デジタル推進課 a few days after each month ends, each stamped at its moment
(clock.frozen_at), with one correction (a teleworker count typed wrong, corrected three days later).

The counted KPIs (survey participations, proposals, SDGs-point awards, reach, engagement) come from
the rest of the demo's events.
"""

import calendar
import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from uuid import UUID

from domain import clock
from domain.kpi import KPIS
from projections.storage import Storage

MONTHS = 12
# The month (0 = the oldest of the twelve) whose teleworker count is first recorded wrong.
CORRECTED_MONTH = 8
Trajectory = Callable[[int, int, random.Random], float]


class RunningTotal:
    """A running total since April 1: each month adds `monthly(fiscal_month, rng)`; April starts again."""

    def __init__(self, monthly: Callable[[int, random.Random], float]) -> None:
        self.monthly = monthly
        self.total = 0.0

    def __call__(self, i: int, fiscal_month: int, rng: random.Random) -> float:
        if fiscal_month == 0:
            self.total = 0.0
        elif i == 0:
            # The demo's year starts mid fiscal year: the months before it were not recorded here.
            self.total = sum(self.monthly(earlier, rng) for earlier in range(fiscal_month))
        self.total = round(self.total + self.monthly(fiscal_month, rng), 1)
        return self.total


def _trajectories() -> dict[str, Trajectory]:
    """Each KPI's value for month i of the twelve (fiscal_month: April = 0), heading for its target."""
    return {
        "online_procedures": lambda i, fm, rng: 96 + 2 * i,
        "smart_procedure_satisfaction": lambda i, fm, rng: round(71.5 + 0.7 * i + rng.uniform(-0.6, 0.6), 1),
        "call_centre_first_answer": lambda i, fm, rng: min(100.0, round(93.0 + 0.45 * i + rng.uniform(-0.5, 0.5), 1)),
        # Classes fill up in the autumn (September, October).
        "smartphone_class_participants": RunningTotal(lambda fm, rng: rng.randint(60, 110) + 40 * (fm in (5, 6))),
        "teleworkers": lambda i, fm, rng: 1150 + 35 * i + rng.randint(-8, 8),
        # Overtime peaks in December (budget) and March (year end).
        "overtime_per_person": RunningTotal(lambda fm, rng: rng.uniform(9.2, 11.2) + (2.5 if fm in (8, 11) else 0)),
        "improvement_hours": RunningTotal(lambda fm, rng: rng.randint(640, 860)),
        "printing_reduction": lambda i, fm, rng: round(36.0 + 1.0 * i + rng.uniform(-0.4, 0.4), 1),
        "dx_specialists": lambda i, fm, rng: 8 + i // 2,
        "workplace_promoters": lambda i, fm, rng: round(11.0 + 0.6 * i, 1),
        "security_audit_followup": lambda i, fm, rng: round(min(100.0, 78.0 + 1.6 * i), 1),
    }


def _month_end(today: date, back: int) -> date:
    """The last day of the month `back` months before today's."""
    year, month = today.year, today.month - back
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, calendar.monthrange(year, month)[1])


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=clock.CITY_TZ)


def load(storage: Storage, ids: dict[str, UUID], citizens: list[UUID]) -> None:
    """Records the last twelve months' measurements as デジタル推進課 (the demo's admin) would have."""
    app, rng = storage.app, random.Random(2023)
    recorder = ids["admin"]
    today = clock.city_today()
    trajectories = _trajectories()
    for i in range(MONTHS):
        measured_on = _month_end(today, MONTHS - i)
        fiscal_month = (measured_on.month - 4) % 12
        label = f"{measured_on.year}年{measured_on.month}月分"
        recorded_day = measured_on + timedelta(days=5)
        for n, (key, trajectory) in enumerate(trajectories.items()):
            kpi = KPIS[key]
            value = float(trajectory(i, fiscal_month, rng))
            source = f"{kpi.source}（{label}）"
            at = _at(recorded_day, 10, 3 * n)
            if at >= clock.now():
                continue
            if key == "teleworkers" and i == CORRECTED_MONTH:
                # Typed with two digits swapped; the 給与課 spots it three days later.
                with clock.frozen_at(at):
                    wrong = app.record_measurement(
                        recorder, kpi=key, value=_swap(value), measured_on=measured_on, source=source
                    )
                at = _at(recorded_day + timedelta(days=3), 15)
                source = f"{kpi.source}（{label}・再集計）"
                with clock.frozen_at(at):
                    app.record_measurement(
                        recorder, kpi=key, value=value, measured_on=measured_on, source=source, corrects=wrong
                    )
                continue
            with clock.frozen_at(at):
                app.record_measurement(recorder, kpi=key, value=value, measured_on=measured_on, source=source)
    storage.projector.catch_up()


def _swap(value: float) -> float:
    """1480 → 1840: the slip the correction fixes."""
    digits = f"{int(value):d}"
    return float(digits[0] + digits[2] + digits[1] + digits[3:]) if len(digits) >= 3 else value + 100
