"""Benchmarks of SDGs points: points.award_lag, points.claim and points.rebuild.

- points.award_lag.{sqlite,postgres}: seconds from a survey response's 201 (the real HTTP server,
  concurrent submissions as in write.*) until its award is in the read model (points_awards);
  baseline: the same lag for the response itself (participant_responses). Median as the value,
  p95 alongside: the difference is what the awarding process adds. One web process, which runs
  the projector and the awarding process (`kyoso serve`). While the awarding process is slower
  than the submissions, the lag grows with the load's length: `load_s` says how long it was.
- points.claim.{sqlite,postgres}: venue-code claims per second through the real HTTP API (POST
  /api/v1/points/claims) from concurrent signed-in clients; baseline: the bare eventsourcing
  recorder saving the same three events per claim (Award.Granted, MenuBudget.Drawn,
  PointsAccount.Credited) in one insert per claim. The claims spread over a few menus, each
  with a few codes: every claim of a menu draws on that menu's budget (one aggregate).
- points.rebuild.{sqlite,postgres}: events per second rebuilding the ledger's read model
  (PointsProjection alone) over 200,000+ of its events; baseline: selecting and decoding the
  same events. The events are built as the domain builds them and inserted straight into the
  event store's recorder: a year of awards through the commands would cost minutes. Only the
  projection's own topics are written (not the budgets' Drawn or the accounts' Credited): other
  events in the log would slow the baseline's select as much as the rebuild's.
"""

import asyncio
import json
import os
import random
import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import InfrastructureFactory, StoredEvent
from eventsourcing.utils import Environment, get_topic

from domain import clock
from domain.points_ledger import Award, MenuBudget, PointsAccount, SourceKind, account_id, award_id
from domain.points_menu import Limit, MenuRule, SdgMenu, Trigger
from domain.points_rewards import PayoutBatch, Reward, Transfer
from domain.response import response_id
from domain.values import Role, Ward
from domain.venue_code import VenueCode
from projections.composite import Projections
from projections.points import PointsProjection
from projections.runner import REBUILD_FACTOR, Projector, gc_paused
from projections.storage import Storage, event_store_env, open_database

DEPARTMENT = "ベンチマーク課"


def run(wanted: Callable[[str], bool], quick: bool) -> None:
    from web.bench import DATABASE_URL_VARIABLE  # Here: web.bench imports this module.

    kinds = ["sqlite", *(["postgres"] if os.environ.get(DATABASE_URL_VARIABLE) else [])]
    for kind in kinds:
        if wanted(f"points.award_lag.{kind}"):
            bench_award_lag(kind, *((60, 5, 16) if quick else (250, 15, 32)))
        if wanted(f"points.claim.{kind}"):
            bench_claim(kind, *((40, 2, 3, 16) if quick else (80, 5, 4, 32)))
        if wanted(f"points.rebuild.{kind}"):
            bench_rebuild(kind, 20_000 if quick else 200_000, rounds=1 if quick else 2)


def _rule(points: int) -> MenuRule:
    today = clock.city_today()
    return MenuRule(
        points=points,
        budget=1_000_000_000,
        valid_from=today - timedelta(days=1),
        valid_until=today + timedelta(days=30),
        limit=Limit.PER_YEAR,
        per_year=366,
    )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# --- award lag ------------------------------------------------------------------------------------


async def _fire_timed(port: int, requests: list[bytes], connections: int, answered: dict[int, float]) -> dict[int, int]:
    """bench.fire, noting when each 201 arrived (by request index)."""
    codes: dict[int, int] = {}
    queue = iter(enumerate(requests))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for index, request in queue:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            if status == 201:
                answered[index] = time.perf_counter()
            codes[status] = codes.get(status, 0) + 1
        writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return codes


class _Watcher(threading.Thread):
    """Polls the read models for the sampled responses and their awards; notes when each appears."""

    def __init__(self, data_dir: Path, url: str | None, samples: dict[int, tuple[str, str, str]]) -> None:
        super().__init__(daemon=True)
        self.data_dir, self.url, self.samples = data_dir, url, samples
        self.response_seen: dict[int, float] = {}
        self.award_seen: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        db = open_database(self.data_dir, self.url)
        by_person = {(p, s): i for i, (p, s, _) in self.samples.items()}
        by_award = {a: i for i, (_, _, a) in self.samples.items()}
        try:
            while not self.stop.is_set() and (
                len(self.response_seen) < len(self.samples) or len(self.award_seen) < len(self.samples)
            ):
                people = list({p for i, (p, _, _) in self.samples.items() if i not in self.response_seen})
                awards = [a for i, (_, _, a) in self.samples.items() if i not in self.award_seen]
                for chunk in range(0, len(people), 400):
                    part = people[chunk : chunk + 400]
                    rows = db.query(
                        "SELECT participant_id, survey_id FROM participant_responses"
                        f" WHERE participant_id IN ({','.join('?' * len(part))})",
                        part,
                    )
                    now = time.perf_counter()
                    for row in rows:
                        index = by_person.get((str(row[0]), str(row[1])))
                        if index is not None:
                            self.response_seen.setdefault(index, now)
                for chunk in range(0, len(awards), 400):
                    part = awards[chunk : chunk + 400]
                    rows = db.query(
                        f"SELECT award_id FROM points_awards WHERE award_id IN ({','.join('?' * len(part))})", part
                    )
                    now = time.perf_counter()
                    for row in rows:
                        self.award_seen.setdefault(by_award[str(row[0])], now)
                self.stop.wait(0.02)
        finally:
            db.close()


def bench_award_lag(kind: str, people: int, surveys: int, connections: int, every: int = 10) -> None:
    from web.bench import (
        backend,
        csrf_token,
        emit,
        note,
        random_answers,
        random_attributes,
        server_process,
        signed_in_sessions,
        survey_with_questions,
    )

    with backend(kind) as (data_dir, url):
        note(f"points.award_lag.{kind}: {people} people × {surveys} surveys, {connections} clients")
        storage = Storage.open(data_dir, url)
        rng = random.Random(11)
        app = storage.app
        staff = app.register_participant(Role.STAFF, department=DEPARTMENT)
        menu = app.define_menu(
            staff, name="市政アンケート回答", sdg_goals=[16, 17], trigger=Trigger.SURVEY_ANSWERED, rule=_rule(50)
        )
        survey_ids = [survey_with_questions(storage, staff, f"調査{i}") for i in range(surveys)]
        citizens = [app.register_participant(Role.CITIZEN, attributes=random_attributes(rng)) for _ in range(people)]
        sessions = signed_in_sessions(storage, citizens)
        storage.close()
        # One web process running the projector and the awarding process (`kyoso serve`): with
        # several, the projector runs as `kyoso projections run`, which does not award.
        with server_process(data_dir, url, 1) as port:
            token = csrf_token(port)
            requests, samples = [], {}
            pairs = [(s, q, p) for s, q in survey_ids for p in citizens]
            rng.shuffle(pairs)
            for index, (survey, questions, person) in enumerate(pairs):
                body = json.dumps({"answers": random_answers(rng, questions)}).encode()
                requests.append(
                    f"POST /api/v1/surveys/{survey}/responses HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Cookie: kyoso_session={sessions[person]}; kyoso_csrf={token}\r\nX-CSRFToken: {token}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                if index % every == every // 2:
                    source = f"response:{response_id(survey, person)}"
                    samples[index] = (str(person), str(survey), str(award_id(menu, source)))
            watcher = _Watcher(data_dir, url, samples)
            watcher.start()
            answered: dict[int, float] = {}
            started = time.perf_counter()
            codes = asyncio.run(_fire_timed(port, requests, connections, answered))
            elapsed = time.perf_counter() - started
            watcher.join(timeout=120)
            watcher.stop.set()
        if codes.get(201, 0) != len(requests):
            note(f"points.award_lag.{kind}: unexpected status codes {codes}")
        awards = [watcher.award_seen[i] - answered[i] for i in samples if i in watcher.award_seen and i in answered]
        responses = [
            watcher.response_seen[i] - answered[i] for i in samples if i in watcher.response_seen and i in answered
        ]
        if len(awards) < len(samples):
            note(f"points.award_lag.{kind}: {len(samples) - len(awards)} sampled awards not seen within 120 s")
    emit(
        f"points.award_lag.{kind}",
        statistics.median(awards),
        "s",
        statistics.median(responses),
        p95=round(_percentile(awards, 0.95), 3),
        baseline_p95=round(_percentile(responses, 0.95), 3),
        samples=len(awards),
        requests=len(requests),
        clients=connections,
        responses_per_s=round(codes.get(201, 0) / elapsed, 1),
        load_s=round(elapsed, 1),
        workers=1,
    )


# --- claims ---------------------------------------------------------------------------------------


def claim_events(app: Any) -> list[StoredEvent]:
    """One claim's three events as the product stores them (mapper and all), for the baseline."""
    person = uuid4()
    menu = uuid4()
    today = clock.city_today()
    award = Award(
        participant_id=person, menu_id=menu, menu_version=1, points=100, sdg_goals=[11, 13],
        source_kind=SourceKind.CODE, source=f"code:{uuid4()}:{person}", caused_at=clock.now(), earned_on=today,
        expires_on=date(clock.fiscal_year(today) + 1, 3, 31), reason="中央地区 総合防災訓練", ward=Ward.CHUO,
    )  # fmt: skip
    budget = MenuBudget(menu_id=menu, fiscal_year=clock.fiscal_year(today))
    account = PointsAccount(participant_id=person)
    rule = _rule(100)
    budget.draw(award.id, award.points, rule)
    account.credit(award, rule, today, clock.fiscal_year(today))
    granted, drawn, credited = award.collect_events()[0], budget.collect_events()[-1], account.collect_events()[-1]
    return [app.mapper.to_stored_event(e) for e in (granted, drawn, credited)]


def bare_claim_saves_per_second(
    data_dir: Path, database_url: str | None, template: list[StoredEvent], menus: int, people: int, seconds: float
) -> float:
    env = event_store_env(data_dir, database_url)
    if not database_url:
        env["SQLITE_DBNAME"] = str(data_dir / "baseline-claims.sqlite3")
    env["PERSISTENCE_MODULE"] = "eventsourcing.postgres" if database_url else "eventsourcing.sqlite"
    env["CREATE_TABLE"] = "y"
    factory = InfrastructureFactory.construct(Environment("baseline", env))
    recorder = factory.application_recorder()
    granted, drawn, credited = template
    budgets = [[uuid4(), 1] for _ in range(menus)]
    accounts = [[uuid4(), 1] for _ in range(people)]
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        budget, account = budgets[count % menus], accounts[count % people]
        budget[1] += 1
        account[1] += 1
        recorder.insert_events(
            [
                StoredEvent(uuid4(), 1, granted.topic, granted.state),
                StoredEvent(budget[0], budget[1], drawn.topic, drawn.state),
                StoredEvent(account[0], account[1], credited.topic, credited.state),
            ]
        )
        count += 1
    rate = count / (time.perf_counter() - started)
    factory.close()
    return rate


def bench_claim(kind: str, people: int, menus: int, codes_per_menu: int, connections: int) -> None:
    from web.bench import backend, csrf_token, emit, fire, note, server_process, signed_in_sessions

    with backend(kind) as (data_dir, url):
        claims = people * menus * codes_per_menu
        note(f"points.claim.{kind}: {claims} claims ({people} people × {menus} menus × {codes_per_menu} codes)")
        storage = Storage.open(data_dir, url)
        app = storage.app
        staff = app.register_participant(Role.STAFF, department=DEPARTMENT)
        now = clock.now()
        texts = []
        for m in range(menus):
            menu = app.define_menu(
                staff, name=f"会場メニュー{m}", sdg_goals=[11, 13], trigger=Trigger.VENUE_CODE, rule=_rule(100)
            )
            for c in range(codes_per_menu):
                code = app.issue_code(
                    staff, menu, label=f"会場{m}-{c}", valid_from=now - timedelta(hours=1),
                    valid_until=now + timedelta(hours=6),
                )  # fmt: skip
                texts.append(app.code_text(code))
        citizens = [app.register_participant(Role.CITIZEN) for _ in range(people)]
        sessions = signed_in_sessions(storage, citizens)
        template = claim_events(app)
        storage.close()
        baseline = bare_claim_saves_per_second(data_dir, url, template, menus, people, 2 if claims < 1000 else 5)
        with server_process(data_dir, url, 1) as port:
            token = csrf_token(port)
            requests = []
            for person in citizens:
                for text in texts:
                    body = json.dumps({"code": text}).encode()
                    requests.append(
                        f"POST /api/v1/points/claims HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        f"Cookie: kyoso_session={sessions[person]}; kyoso_csrf={token}\r\nX-CSRFToken: {token}\r\n"
                        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                        + body
                    )
            random.Random(12).shuffle(requests)
            started = time.perf_counter()
            codes = asyncio.run(fire(port, requests, connections))
            elapsed = time.perf_counter() - started
        awarded = codes.get(201, 0)
        if awarded != len(requests):
            note(f"points.claim.{kind}: unexpected status codes {codes}")
    emit(
        f"points.claim.{kind}",
        awarded / elapsed,
        "claims/s",
        baseline,
        clients=connections,
        requests=len(requests),
        awarded=awarded,
        menus=menus,
        workers=1,
    )


# --- rebuild --------------------------------------------------------------------------------------


class _Ledger:
    """Writes a plausible year of the ledger's events: menus, codes and rewards first, then awards,
    with reward redemptions (some from stock), wallet transfers paid out in batches, and a few
    revocations, in the proportions a city might see."""

    def __init__(self, app: Any, rng: random.Random, people: int = 5_000) -> None:
        self.app, self.rng = app, rng
        self.to_stored = app.mapper.to_stored_event
        self.pending: list[StoredEvent] = []
        self.written = 0
        self.moment = datetime.now(UTC) - timedelta(days=365)
        self.staff = uuid4()
        self.people = [uuid4() for _ in range(people)]
        self.wards = [self.rng.choice([None, *Ward]) for _ in range(people)]
        self.versions = [0] * people
        self.lots: list[list[list[Any]]] = [[] for _ in range(people)]
        self.waiting: list[UUID] = []

    def _add(self, event: Any, read: bool = True) -> None:
        """Writes the event; counts it when the ledger projection reads its kind."""
        self.pending.append(self.to_stored(event))
        self.written += read
        if len(self.pending) >= 5000:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.app.recorder.insert_events(self.pending)
            self.pending = []

    def _meta(self, cls: type, oid: UUID, version: int = 1) -> dict[str, Any]:
        """An event's envelope; version 1 is the aggregate's creation, which names its class."""
        self.moment += timedelta(seconds=30)
        meta = {"originator_id": oid, "originator_version": version, "timestamp": self.moment}
        if version == 1:
            meta["originator_topic"] = get_topic(cls)
        return meta

    def setup(self, menus: int = 100, rewards: int = 20, codes: int = 300) -> None:
        today = clock.city_today()
        self.menus: list[tuple[UUID, list[int], int]] = []
        for m in range(menus):
            goals = sorted(self.rng.sample(range(1, 18), self.rng.randint(1, 3)))
            rule = MenuRule(points=self.rng.choice([30, 50, 100, 150, 200, 300]), budget=10_000_000,
                            valid_from=today - timedelta(days=400), valid_until=today + timedelta(days=30))  # fmt: skip
            menu = uuid4()
            self._add(SdgMenu.Defined(
                **self._meta(SdgMenu, menu), name=f"メニュー{m}", sdg_goals=goals, trigger=Trigger.VENUE_CODE,
                department=DEPARTMENT, rule=rule, survey_ids=[], funder_id=None, defined_by=self.staff,
            ))  # fmt: skip
            self.menus.append((menu, goals, rule.points))
        self.rewards: list[tuple[UUID, int, bool]] = []
        for r in range(rewards):
            reward, points, stock = uuid4(), self.rng.choice([200, 300, 500, 800]), r % 2 == 0
            self._add(Reward.Offered(**self._meta(Reward, reward), name=f"特典{r}", partner=f"協力店{r}",
                                     points=points, stock=10**6 if stock else None, offered_by=self.staff))  # fmt: skip
            self.rewards.append((reward, points, stock))
        self.taken = {reward: 0 for reward, _, _ in self.rewards}
        for c in range(codes):
            number = self.rng.randbytes(4)
            self._add(VenueCode.Issued(
                **self._meta(VenueCode, VenueCode.create_id(number)), number=number,
                menu_id=self.menus[c % menus][0], label=f"会場{c}", valid_from=self.moment,
                valid_until=self.moment + timedelta(hours=3), issued_by=self.staff,
            ))  # fmt: skip

    def award(self) -> None:
        n = self.rng.randrange(len(self.people))
        # An award carries its menu's points, as the domain grants them (version 1 of its rule).
        person, (menu, goals, points) = self.people[n], self.rng.choice(self.menus)
        source = f"code:{uuid4()}:{person}"
        the_award = award_id(menu, source)
        meta = self._meta(Award, the_award)
        earned = clock.city_date(self.moment)
        self._add(Award.Granted(
            **meta, participant_id=person, menu_id=menu, menu_version=1, points=points, sdg_goals=goals,
            source_kind=SourceKind.CODE, source=source, caused_at=self.moment, earned_on=earned,
            expires_on=date(clock.fiscal_year(earned) + 1, 3, 31), reason="会場での参加", ward=self.wards[n],
        ))  # fmt: skip
        self.versions[n] += 1  # its Credited (not written: the projection does not read it)
        self.lots[n].append([the_award, points])

    def _draw(self, n: int, points: int) -> list[tuple[UUID, int]] | None:
        if sum(left for _, left in self.lots[n]) < points:
            return None
        drawn, needed = [], points
        for lot in self.lots[n]:
            take = min(lot[1], needed)
            if take:
                drawn.append((lot[0], take))
                lot[1] -= take
                needed -= take
            if not needed:
                break
        self.lots[n] = [lot for lot in self.lots[n] if lot[1]]
        return drawn

    def spend(self, transfer: bool) -> None:
        n = self.rng.randrange(len(self.people))
        reward, points, stock = self.rng.choice(self.rewards)
        if transfer:
            points = self.rng.choice([100, 200, 300])
        drawn = self._draw(n, points)
        if drawn is None:
            return
        person, spending = self.people[n], uuid4()
        self.versions[n] += 1
        reference = spending if transfer else reward
        self._add(PointsAccount.Spent(
            **self._meta(PointsAccount, account_id(person), self.versions[n]), participant_id=person,
            spending_id=spending, purpose="transfer" if transfer else "reward", reference=reference, points=points,
            drawn=drawn,
        ))  # fmt: skip
        if transfer:
            self._add(Transfer.Requested(**self._meta(Transfer, spending), participant_id=person, points=points,
                                         wallet=b"\x00" * 60, spent_in=self.versions[n]))  # fmt: skip
            self.waiting.append(spending)
        elif stock:
            self.taken[reward] += 1
            self._add(Reward.Taken(**self._meta(Reward, reward, 1 + self.taken[reward]), spending_id=spending))

    def revoke(self) -> None:
        n = self.rng.randrange(len(self.people))
        if not self.lots[n]:
            return
        the_award, left = self.lots[n].pop()
        self.versions[n] += 1
        self._add(PointsAccount.Debited(**self._meta(PointsAccount, account_id(self.people[n]), self.versions[n]),
                                        award_id=the_award, points=left), read=False)  # fmt: skip
        self._add(Award.Revoked(**self._meta(Award, the_award, 2), reason="不正の申告", revoked_by=self.staff,
                                points_removed=left))  # fmt: skip

    def pay_out(self) -> None:
        if not self.waiting:
            return
        batch = uuid4()
        self._add(PayoutBatch.Made(**self._meta(PayoutBatch, batch), transfer_ids=self.waiting,
                                   points=100 * len(self.waiting), made_by=self.staff))  # fmt: skip
        for transfer in self.waiting:
            self._add(Transfer.Batched(**self._meta(Transfer, transfer, 2), batch_id=batch))
        self.waiting = []


def load_ledger(storage: Storage, events: int, seed: int = 13) -> int:
    """Writes at least `events` of the ledger projection's events; returns how many."""
    ledger = _Ledger(storage.app, random.Random(seed))
    ledger.setup()
    rng = ledger.rng
    count = 0
    while ledger.written < events:
        ledger.award()
        count += 1
        roll = rng.random()
        if roll < 0.10:
            ledger.spend(transfer=False)
        elif roll < 0.12:
            ledger.spend(transfer=True)
        elif roll < 0.125:
            ledger.revoke()
        if count % 2000 == 0:
            ledger.pay_out()
    ledger.pay_out()
    ledger.flush()
    return ledger.written


def select_and_decode(storage: Storage, projector: Projector, batch_size: int) -> int:
    """Reads and decodes the projection's events as its rebuild does (batches of the same size,
    the cyclic collector paused likewise), and does nothing with them."""
    topics, start, count = projector.projection.topics, 0, 0
    to_event = storage.app.mapper.to_domain_event
    with gc_paused():
        while True:
            notifications = storage.app.recorder.select_notifications(
                start=start, limit=batch_size, topics=topics, inclusive_of_start=False
            )
            if not notifications:
                return count
            for n in notifications:
                to_event(n)
            count += len(notifications)
            start = notifications[-1].id


def bench_rebuild(kind: str, events: int, rounds: int = 1) -> None:
    from web.bench import backend, emit, note

    with backend(kind) as (data_dir, url):
        storage = Storage.open(data_dir, url)
        only_ours = Projections([PointsProjection()])
        only_ours.name = "points_bench"  # its own position row, apart from the read models'
        projector = Projector(storage.app, storage.db, only_ours)
        started = time.perf_counter()
        written = load_ledger(storage, events)
        note(f"points.rebuild.{kind}: wrote {written} events in {time.perf_counter() - started:.1f}s")
        # The baseline before and after each rebuild, the best of each kept: the select is a few
        # seconds, the rebuild a few times that, and noise on a shared machine hits either; two
        # rebuilds in a full run, so that one unlucky rebuild does not make the figure.
        baseline_times, rebuild_times, decoded, applied = [], [], 0, 0
        for n in range(2 * rounds + 1):
            started = time.perf_counter()
            if n % 2 == 0:
                decoded = select_and_decode(storage, projector, projector.batch_size * REBUILD_FACTOR)
                baseline_times.append(time.perf_counter() - started)
            else:
                applied = projector.rebuild()
                rebuild_times.append(time.perf_counter() - started)
        awards = storage.db.query_one("SELECT COUNT(*) FROM points_awards")
        storage.close()
    emit(
        f"points.rebuild.{kind}",
        applied / min(rebuild_times),
        "events/s",
        decoded / min(baseline_times),
        events=applied,
        awards=int(awards[0]) if awards else 0,
    )
