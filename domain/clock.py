"""Kyoso's clock and the city's calendar.

Events are stamped in UTC. Days belong to the city: a survey that closes on 3/31 takes answers
until 23:59 on 3/31 in Asia/Tokyo (KYOSO_TIMEZONE), and the fiscal year runs April to March.
The clock can be set to a past moment for loading history (the demo) and for tests.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

CITY_TZ = ZoneInfo(os.environ.get("KYOSO_TIMEZONE") or "Asia/Tokyo")

_frozen: ContextVar[datetime | None] = ContextVar("kyoso_clock", default=None)


def now() -> datetime:
    """The current moment, timezone-aware, in UTC (or the moment the clock is set to)."""
    moment = _frozen.get()
    return moment if moment is not None else datetime.now(UTC)


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Within this block, this thread's events are stamped `moment`."""
    if moment.tzinfo is None:
        raise ValueError("the clock takes timezone-aware moments only")
    token = _frozen.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _frozen.reset(token)


def city_date(moment: datetime) -> date:
    """The calendar day in the city at that moment."""
    return moment.astimezone(CITY_TZ).date()


def city_today() -> date:
    return city_date(now())


def fiscal_year(day: date) -> int:
    """Japan's fiscal year (年度): FY2025 runs from 2025-04-01 to 2026-03-31."""
    return day.year if day.month >= 4 else day.year - 1
