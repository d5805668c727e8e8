"""Benchmark of the DX推進会議 dashboard: kpi.scaling.

- kpi.scaling: milliseconds to render the public dashboard (GET /kpis for this fiscal year, through
  the app) with 1,000,000 events in the store; baseline: the same page with 10,000 events. `ratio`
  is value ÷ baseline (time at 1M ÷ time at 10k), as for results.scaling: it stays near 1 because
  the page sums per-day rows (at most 366 a metric for the year), never the events. The plan is
  1.2 at most. Both stores hold the same mix over the same eighteen months: answers to citizens'
  and staff surveys, SDGs-point awards (a few revoked), new business proposals and a year and a
  half of monthly measurements (one corrected a month); the two pages are rendered in turn so that
  noise hits them alike, and the median of each is kept.

The events are built as the domain builds them and inserted straight into the event store's
recorder (as bench_points.load_ledger does), then projected by the KPI projection alone under a
position of its own: a million answers through the commands would take most of an hour.
"""

import os
import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain import clock
from domain.kpi import RECORDED_KPIS, KpiMeasurements, measurements_id
from domain.points_ledger import Award, SourceKind, award_id
from domain.proposal import Proposal
from domain.response import Response, response_id
from domain.survey import Survey
from domain.values import AgeBand, Attributes, Audience, Role, Ward
from projections.checkpoints import INTERVAL_VARIABLE
from projections.composite import Projections
from projections.kpis import KpiProjection
from projections.runner import Projector
from projections.storage import Storage

DEPARTMENT = "ベンチマーク課"
SPAN = timedelta(days=540)
CHUNK = 5_000


def run(wanted: Callable[[str], bool], quick: bool) -> None:
    if wanted("kpi.scaling"):
        bench_scaling(100_000 if quick else 1_000_000, 10_000, rounds=9 if quick else 15)


class _History:
    """Writes a plausible eighteen months of what the KPIs count, in time order."""

    def __init__(self, app: Any, rng: random.Random, events: int) -> None:
        self.app, self.rng = app, rng
        self.to_stored = app.mapper.to_stored_event
        self.pending: list[StoredEvent] = []
        self.written = 0
        self.end = clock.now()
        self.start = self.end - SPAN
        self.step = SPAN / max(events, 1)
        self.moment = self.start
        self.staff = uuid4()
        self.attributes = [
            Attributes(ward=rng.choice(list(Ward)), age_band=rng.choice(list(AgeBand)), has_children=rng.random() < 0.3)
            for _ in range(50)
        ]
        self.versions: dict[UUID, int] = {}

    def _add(self, event: Any) -> None:
        self.pending.append(self.to_stored(event))
        self.written += 1
        if len(self.pending) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.app.recorder.insert_events(self.pending)
            self.pending = []

    def _meta(self, cls: type, oid: UUID, version: int = 1) -> dict[str, Any]:
        meta = {"originator_id": oid, "originator_version": version, "timestamp": self.moment}
        if version == 1:
            meta["originator_topic"] = get_topic(cls)
        return meta

    def setup(self, surveys: int = 20) -> None:
        self.surveys: list[UUID] = []
        for n in range(surveys):
            survey = uuid4()
            audience = Audience.STAFF if n % 10 == 9 else Audience.CITIZENS
            self._add(Survey.Drafted(
                **self._meta(Survey, survey), department=DEPARTMENT, title=f"調査{n}", description="",
                audience=audience, opens_on=None, closes_on=None, drafted_by=self.staff,
            ))  # fmt: skip
            self.surveys.append(survey)
        self.menu = uuid4()
        self.organisation = uuid4()

    def response(self) -> None:
        survey, person = self.rng.choice(self.surveys), uuid4()
        self._add(Response.Submitted(
            **self._meta(Response, response_id(survey, person)), survey_id=survey, participant_id=person,
            role=Role.CITIZEN, attributes=self.rng.choice(self.attributes), answers={"q1": self.rng.randrange(3)},
            texts={},
        ))  # fmt: skip

    def award(self) -> UUID:
        person = uuid4()
        source = f"response:{uuid4()}"
        the_award = award_id(self.menu, source)
        earned = clock.city_date(self.moment)
        self._add(Award.Granted(
            **self._meta(Award, the_award), participant_id=person, menu_id=self.menu, menu_version=1, points=50,
            sdg_goals=[16, 17], source_kind=SourceKind.EVENT, source=source, caused_at=self.moment,
            earned_on=earned, expires_on=date(clock.fiscal_year(earned) + 1, 3, 31), reason="アンケートへの回答",
            ward=None,
        ))  # fmt: skip
        return the_award

    def revoke(self, the_award: UUID) -> None:
        self._add(Award.Revoked(**self._meta(Award, the_award, 2), reason="重複", revoked_by=self.staff,
                                points_removed=50))  # fmt: skip

    def proposal(self) -> None:
        self._add(Proposal.Submitted(
            **self._meta(Proposal, uuid4()), organisation_id=self.organisation, submission_key=uuid4(),
            submitted_by=self.staff, challenge_id=None, department="共創推進課", sdg_goals=[], cost_yen=0, texts={},
        ))  # fmt: skip

    def measurements(self, month_end: date) -> None:
        """Each recorded KPI's figure for the month, the first of them corrected at once."""
        for n, kpi in enumerate(RECORDED_KPIS):
            aggregate = measurements_id(kpi.key)
            version = self.versions.get(aggregate, 0)
            if version == 0:
                self._add(KpiMeasurements.Opened(**self._meta(KpiMeasurements, aggregate), kpi=kpi.key))
                version = 1
            value = float(min(kpi.maximum, 10 + self.rng.randrange(90)))
            first = uuid4()
            for corrects in [None, first] if n == 0 else [None]:
                version += 1
                self._add(KpiMeasurements.Recorded(
                    **self._meta(KpiMeasurements, aggregate, version), measurement_id=first if corrects is None
                    else uuid4(), kpi=kpi.key, value=value, measured_on=month_end, source="ベンチマーク",
                    recorded_by=self.staff, corrects=corrects,
                ))  # fmt: skip
            self.versions[aggregate] = version


def load_history(storage: Storage, events: int, seed: int = 17) -> int:
    """Writes about `events` events over the last eighteen months; returns how many."""
    history = _History(storage.app, random.Random(seed), events)
    history.setup()
    rng = history.rng
    last_month = clock.city_date(history.moment).replace(day=1)
    while history.moment < history.end and history.written < events:
        history.moment += history.step
        month = clock.city_date(history.moment).replace(day=1)
        if month != last_month:
            history.measurements(month - timedelta(days=1))
            last_month = month
        roll = rng.random()
        if roll < 0.74:
            history.response()
        elif roll < 0.9995:
            the_award = history.award()
            if roll > 0.995:
                history.revoke(the_award)
        else:
            history.proposal()
    history.flush()
    return history.written


@contextmanager
def _without_checkpoints() -> Iterator[None]:
    """The app verifies the whole chain when it starts (in a thread): not what is being measured."""
    saved = os.environ.get(INTERVAL_VARIABLE)
    os.environ[INTERVAL_VARIABLE] = "0"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(INTERVAL_VARIABLE, None)
        else:
            os.environ[INTERVAL_VARIABLE] = saved


def _prepared(data_dir: Path, events: int) -> tuple[Storage, int, float]:
    storage = Storage.open(data_dir)
    started = time.perf_counter()
    written = load_history(storage, events)
    only_ours = Projections([KpiProjection()])
    only_ours.name = "kpi_bench"  # its own position row, apart from the read models'
    Projector(storage.app, storage.db, only_ours).catch_up()
    return storage, written, time.perf_counter() - started


def bench_scaling(big: int, small: int, rounds: int = 15) -> None:
    import tempfile

    from litestar.testing import TestClient

    from web.app import create_app
    from web.bench import backend, emit, note
    from web.settings import Settings

    with ExitStack() as stack:
        stack.enter_context(_without_checkpoints())
        stores = []
        for events in (small, big):
            data_dir, _ = stack.enter_context(backend("sqlite"))
            storage, written, seconds = _prepared(data_dir, events)
            stack.callback(storage.close)
            note(f"kpi.scaling: wrote and projected {written} events in {seconds:.1f}s")
            stores.append((storage, written))
        clients = []
        for storage, _ in stores:
            settings = Settings(data_dir=Path(tempfile.mkdtemp()), secret="bench", project_in_process=False)
            clients.append(stack.enter_context(TestClient(app=create_app(settings, storage))))
        url = f"/kpis?fiscal_year={clock.fiscal_year(clock.city_today())}"
        for client in clients:
            for _ in range(2):  # warm: templates compiled, connections open
                assert client.get(url).status_code == 200
        # In turn, page by page, so that the machine's noise hits both stores alike.
        times: list[list[float]] = [[], []]
        for _ in range(rounds):
            for i, client in enumerate(clients):
                started = time.perf_counter()
                client.get(url)
                times[i].append(time.perf_counter() - started)
        baseline, value = (statistics.median(t) for t in times)
        day_rows = stores[1][0].db.query_one("SELECT COUNT(*) FROM kpi_daily")
    emit(
        "kpi.scaling",
        value * 1000,
        "ms",
        baseline * 1000,
        events=stores[1][1],
        baseline_events=stores[0][1],
        day_rows=int(day_rows[0]) if day_rows else 0,
        rounds=rounds,
    )
