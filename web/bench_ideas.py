"""Benchmarks of citizens' ideas: ideas.scaling and ideas.support.

- ideas.scaling: time to render /ideas (first page, default sort) through the app with 100,000
  ideas and 1,000,000 supports; baseline: 1,000 ideas and 10,000 supports. The read models are
  written through the real projection from built events (sealed texts, real keys), which is
  what a rebuild does, without paying the event store for a million rows first.
- ideas.support: supports accepted per second through the real HTTP API (PUT .../support) from
  concurrent keep-alive clients; baseline: the bare eventsourcing recorder saving one event of
  the same size per call.
"""

import asyncio
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

from eventsourcing.persistence import InfrastructureFactory, StoredEvent
from eventsourcing.utils import Environment, get_topic

from domain.idea import Idea, body_context, title_context
from domain.idea_values import POLICY_AREAS
from domain.personal_data import new_key, seal
from domain.support import Support
from domain.values import Role, Ward
from projections.ideas import IdeaProjection
from projections.storage import Storage, event_store_env

TOPICS = ["公園", "保育園", "避難所", "バス", "商店街", "ごみ", "高齢者", "図書館", "自転車", "子ども食堂"]
WISHES = ["を増やしてほしい", "を使いやすく", "の情報をスマホで", "の時間を延長して", "をきれいに"]
PLACES = ["駅前", "近所", "地区会館の周り", "通学路", "川沿い"]


def _text(rng: random.Random) -> tuple[str, str]:
    topic = rng.choice(TOPICS)
    title = f"{rng.choice(PLACES)}の{topic}{rng.choice(WISHES)}"
    body = f"{topic}について提案します。{rng.choice(PLACES)}では困っている人が多く、{rng.choice(WISHES)}と思います。"
    return title, body


def load_ideas(storage: Storage, n_ideas: int, n_supports: int, seed: int) -> None:
    """Projects n_ideas Submitted and n_supports Given events, built as the app would build them."""
    rng = random.Random(seed)
    projection = IdeaProjection()
    authors = [(uuid4(), new_key()) for _ in range(max(10, n_ideas // 10))]
    created = datetime.now(UTC)
    with storage.db.transaction() as cur:
        cur.executemany(
            "INSERT INTO data_keys (participant_id, key, created_at) VALUES (?, ?, ?)",
            [(str(a), k, created.isoformat()) for a, k in authors],
        )
    topic = get_topic(Idea)
    support_topic = get_topic(Support)
    start = created - timedelta(days=365)
    ideas: list[UUID] = []
    position, chunk = 0, 20_000
    for first in range(0, n_ideas, chunk):
        events = []
        for i in range(first, min(n_ideas, first + chunk)):
            author, key = authors[rng.randrange(len(authors))]
            idea_id = uuid4()
            title, body = _text(rng)
            events.append(
                (
                    position := position + 1,
                    Idea.Submitted(
                        originator_id=idea_id,
                        originator_version=1,
                        timestamp=start + timedelta(seconds=i * 300 / max(1, n_ideas / 1000)),
                        originator_topic=topic,
                        author_id=author,
                        title=seal(key, title, title_context(idea_id)),
                        body=seal(key, body, body_context(idea_id)),
                        department=rng.choice(POLICY_AREAS),
                        sdg_goals=sorted(rng.sample(range(1, 18), rng.randint(0, 3))),
                        ward=rng.choice([None, *Ward]),
                    ),
                )
            )
            ideas.append(idea_id)
        with storage.db.transaction() as cur:
            projection.project(cur, events)
    # Supports go mostly to a few popular ideas, as they do in life. Their own ids and the people's
    # are never read by the projection: a pool of them keeps the load time on the projection.
    pool = [uuid4() for _ in range(10_000)]
    for first in range(0, n_supports, 100_000):
        events = []
        for i in range(first, min(n_supports, first + 100_000)):
            popular = rng.random() < 0.5
            idea_id = ideas[min(len(ideas) - 1, int(rng.paretovariate(1.2)) - 1)] if popular else rng.choice(ideas)
            events.append(
                (
                    position := position + 1,
                    Support.Given(
                        originator_id=pool[i % len(pool)],
                        originator_version=1,
                        timestamp=created,
                        originator_topic=support_topic,
                        idea_id=idea_id,
                        participant_id=pool[(i * 7) % len(pool)],
                    ),
                )
            )
        with storage.db.transaction() as cur:
            projection.project(cur, events)


def bench_scaling(quick: bool) -> None:
    from litestar.testing import TestClient

    from web.app import create_app
    from web.bench import backend, emit, note
    from web.settings import Settings

    small, big = (1_000, 10_000) if quick else (1_000, 100_000)
    with backend("sqlite") as (data_dir, _):
        clients, storages = [], []
        for n in (small, big):
            storage = Storage.open(data_dir / f"ideas-{n}")
            note(f"ideas.scaling: projecting {n} ideas and {n * 10} supports")
            started = time.perf_counter()
            load_ideas(storage, n, n * 10, seed=n)
            note(f"ideas.scaling: loaded in {time.perf_counter() - started:.1f}s")
            settings = Settings(data_dir=Path(tempfile.mkdtemp()), secret="bench", project_in_process=False)
            client = TestClient(app=create_app(settings, storage))
            clients.append(client.__enter__())
            storages.append(storage)
        # The two lists rendered in turn, so that noise on a shared machine hits both alike.
        for client in clients:
            assert client.get("/ideas").status_code == 200
        samples: list[list[float]] = [[], []]
        for _ in range(11 if quick else 31):
            for i, client in enumerate(clients):
                started = time.perf_counter()
                client.get("/ideas")
                samples[i].append(time.perf_counter() - started)
        for client in clients:
            client.__exit__(None, None, None)
        for storage in storages:
            storage.close()
    times = {small: statistics.median(samples[0]), big: statistics.median(samples[1])}
    emit(
        "ideas.scaling",
        times[big] * 1000,
        "ms",
        times[small] * 1000,
        ideas=big,
        supports=big * 10,
        baseline_ideas=small,
        baseline_supports=small * 10,
    )


def bare_support_saves_per_second(data_dir: Path, database_url: str | None, seconds: float) -> float:
    env = event_store_env(data_dir, database_url)
    if not database_url:
        env["SQLITE_DBNAME"] = str(data_dir / "baseline-supports.sqlite3")
    env["PERSISTENCE_MODULE"] = "eventsourcing.postgres" if database_url else "eventsourcing.sqlite"
    env["CREATE_TABLE"] = "y"
    factory = InfrastructureFactory.construct(Environment("baseline", env))
    recorder = factory.application_recorder()
    state = json.dumps({"idea_id": str(uuid4()), "participant_id": str(uuid4()), "timestamp": "x" * 32}).encode()
    topic = get_topic(Support.Given)
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        recorder.insert_events([StoredEvent(uuid4(), 1, topic, state)])
        count += 1
    rate = count / (time.perf_counter() - started)
    factory.close()
    return rate


def bench_support(kind: str, quick: bool) -> None:
    from web.bench import backend, csrf_token, emit, fire, note, projection_lag, server_process, signed_in_sessions

    people, n_ideas, connections = (100, 5, 16) if quick else (400, 20, 32)
    with backend(kind) as (data_dir, url):
        note(f"ideas.support.{kind}: {people} people × {n_ideas} ideas")
        storage = Storage.open(data_dir, url)
        app = storage.app
        author = app.register_participant(Role.CITIZEN)
        ideas = [
            app.submit_idea(author, title=f"提案{i}", body="公園にベンチを", department=POLICY_AREAS[i % 5])
            for i in range(n_ideas)
        ]
        supporters = [app.register_participant(Role.CITIZEN) for _ in range(people)]
        sessions = signed_in_sessions(storage, supporters)
        storage.close()
        baseline = bare_support_saves_per_second(data_dir, url, 3 if quick else 5)
        with server_process(data_dir, url, 1 if kind == "sqlite" else 2) as port:
            token = csrf_token(port)
            requests = [
                f"PUT /api/v1/ideas/{idea}/support HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Cookie: kyoso_session={sessions[p]}; kyoso_csrf={token}\r\nX-CSRFToken: {token}\r\n"
                "Content-Length: 0\r\n\r\n".encode()
                for idea in ideas
                for p in supporters
            ]
            random.Random(5).shuffle(requests)
            warm, timed = requests[:200], requests[200:]
            asyncio.run(fire(port, warm, 8))
            started = time.perf_counter()
            codes = asyncio.run(fire(port, timed, connections))
            elapsed = time.perf_counter() - started
            lag = projection_lag(data_dir, url)
        accepted = codes.get(200, 0)
        if accepted != len(timed):
            note(f"ideas.support.{kind}: unexpected status codes {codes}")
        check = Storage.open(data_dir, url)
        check.projector.catch_up()
        counted = check.db.query_one("SELECT SUM(support_count) FROM ideas")
        check.close()
        emit(
            f"ideas.support.{kind}",
            accepted / elapsed,
            "supports/s",
            baseline,
            clients=connections,
            requests=len(timed),
            counted=int(counted[0]) if counted else 0,
            expected=len(requests),
            projection_lag_s=round(lag, 2),
        )


def run(wanted: Callable[[str], bool], quick: bool) -> None:
    import os

    from web.bench import DATABASE_URL_VARIABLE

    if wanted("ideas.scaling"):
        bench_scaling(quick)
    kinds = ["sqlite", *(["postgres"] if os.environ.get(DATABASE_URL_VARIABLE) else [])]
    for kind in kinds:
        if wanted(f"ideas.support.{kind}"):
            bench_support(kind, quick)
