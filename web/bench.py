"""`kyoso bench`: one JSON line per figure, each compared with a baseline measured in the same run.

- write.{sqlite,postgres}: responses accepted per second through the real HTTP server (uvicorn in
  its own process) from concurrent keep-alive clients; baseline: the bare eventsourcing recorder
  saving one event per call.
- rebuild.{sqlite,postgres}: events per second rebuilding the survey projection from zero over
  200,000+ events; baseline: selecting and decoding the same events without projecting.
- results.scaling: time to render a results page with 100,000 responses; baseline: 1,000.
- pages.{results,home,results_json}.{sqlite,postgres} (web/bench_pages.py): anonymous requests/s on
  the public pages from 64 keep-alive clients; baseline: a bare Litestar app serving the same bytes.
- points.award_lag, points.claim, points.rebuild (web/bench_points.py) and kpi.scaling
  (web/bench_kpis.py); ideas.* and proposals.* in web/bench_ideas.py and web/bench_cocreation.py.
- audit.verify: events per second recomputing the tamper-evident event chain over 200,000+ events
  on SQLite; baseline: reading the same events in pages of the same size, without hashing.
"""

import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID, uuid4

from eventsourcing.persistence import InfrastructureFactory, StoredEvent
from eventsourcing.utils import Environment
from litestar.serialization import encode_json

from domain.personal_data import new_key, seal, text_context
from domain.response import Response, response_id
from domain.values import AgeBand, Attributes, Role, Ward
from projections.storage import Storage, event_store_env
from web import bench_cocreation, bench_ideas, bench_kpis, bench_pages, bench_points

# The PostgreSQL server for the postgres figures (`kyoso bench --database-url` sets it too); each
# figure runs in a new database of its own there, dropped afterwards. Unset: SQLite figures only.
DATABASE_URL_VARIABLE = "KYOSO_BENCH_DATABASE_URL"


def emit(name: str, value: float, unit: str, baseline: float | None = None, **extra: Any) -> None:
    line: dict[str, Any] = {"name": name, "value": round(value, 3), "unit": unit}
    if baseline is not None:
        line["baseline"] = round(baseline, 3)
        line["ratio"] = round(value / baseline, 3) if baseline else None
    line.update(extra)
    print(json.dumps(line, ensure_ascii=False), flush=True)


def note(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


@contextmanager
def backend(kind: str) -> Iterator[tuple[Path, str | None]]:
    with tempfile.TemporaryDirectory(prefix=f"kyoso-bench-{kind}-") as tmp:
        if kind == "sqlite":
            yield Path(tmp), None
            return
        import psycopg

        server = os.environ.get(DATABASE_URL_VARIABLE)
        if not server:
            raise RuntimeError(f"the postgres figures need a server: --database-url or ${DATABASE_URL_VARIABLE}")
        # A database of our own, so that a figure never touches the one the URL names.
        name = f"kyoso_bench_{uuid4().hex[:12]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        try:
            yield Path(tmp), urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
        finally:
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def survey_with_questions(storage: Storage, staff: UUID, title: str) -> tuple[UUID, list[str]]:
    app = storage.app
    survey = app.draft_survey(staff_id=staff, title=title)
    questions = [
        app.add_question(
            survey, staff_id=staff, kind="single", text="住み続けたい?", options=["はい", "いいえ", "未定"]
        ),
        app.add_question(
            survey, staff_id=staff, kind="multiple", text="必要な支援", options=["保育", "医療", "公園", "防災"]
        ),
        app.add_question(survey, staff_id=staff, kind="scale", text="満足度"),
        app.add_question(survey, staff_id=staff, kind="number", text="人数", minimum=0, maximum=10),
        app.add_question(survey, staff_id=staff, kind="text", text="ご意見", required=False),
    ]
    app.publish_survey(survey, staff_id=staff)
    return survey, questions


def random_answers(rng: random.Random, q: list[str]) -> dict[str, Any]:
    return {
        q[0]: rng.randrange(3),
        q[1]: sorted(rng.sample(range(4), rng.randint(1, 3))),
        q[2]: rng.randint(1, 5),
        q[3]: rng.randint(0, 10),
        q[4]: rng.choice(["公園を増やしてほしい", "保育園が足りない", "避難所を知りたい", None]),
    }


def random_attributes(rng: random.Random) -> Attributes:
    return Attributes(ward=rng.choice(list(Ward)), age_band=rng.choice(list(AgeBand)), has_children=rng.random() < 0.3)


# --- write -----------------------------------------------------------------------------------


def bare_recorder_saves_per_second(data_dir: Path, database_url: str | None, seconds: float) -> float:
    env = event_store_env(data_dir, database_url)
    if not database_url:
        env["SQLITE_DBNAME"] = str(data_dir / "baseline.sqlite3")
    # The library's own recorder, unchained: what the product's writes are measured against.
    env["PERSISTENCE_MODULE"] = "eventsourcing.postgres" if database_url else "eventsourcing.sqlite"
    env["CREATE_TABLE"] = "y"
    factory = InfrastructureFactory.construct(Environment("baseline", env))
    recorder = factory.application_recorder()
    state = json.dumps({"answers": {"q1": 1, "q2": [0, 2], "q3": 4}, "survey_id": str(uuid4())}).encode()
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        recorder.insert_events([StoredEvent(uuid4(), 1, "bench:Saved", state)])
        count += 1
    rate = count / (time.perf_counter() - started)
    factory.close()
    return rate


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server_process(
    data_dir: Path, database_url: str | None, workers: int = 1, target: tuple[str, ...] = ("web.asgi:app",)
) -> Iterator[int]:
    """The deployment layout under test: with several web workers, projections run in their own process.
    `target` is what uvicorn serves (a baseline app is served with the same settings)."""
    port = free_port()
    env = {
        **os.environ,
        "KYOSO_DATA_DIR": str(data_dir),
        "KYOSO_SECRET": "bench-secret",
        "KYOSO_AUTH_RATE_LIMIT": "100000",
    }
    if database_url:
        env["KYOSO_DATABASE_URL"] = database_url
    helpers = []
    if workers > 1:
        env["KYOSO_PROJECT_IN_PROCESS"] = "0"
        helpers.append(subprocess.Popen([sys.executable, "-m", "web.cli", "projections", "run"], env=env))
    # KYOSO_BENCH_WRAP lets a profiler wrap the server, e.g. "py-spy record -o prof.svg --".
    wrap = os.environ.get("KYOSO_BENCH_WRAP", "").split()
    proc = subprocess.Popen(
        [
            *wrap,
            sys.executable,
            "-m",
            "uvicorn",
            *target,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--workers",
            str(workers),
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the benchmark server did not start")
        yield port
    finally:
        for p in (proc, *helpers):
            p.terminate()
            p.wait(timeout=30)


def projection_lag(data_dir: Path, database_url: str | None, timeout: float = 60) -> float:
    """Seconds until the read models have caught up with the last event written."""
    started = time.perf_counter()
    storage = Storage.open(data_dir, database_url)
    try:
        last = storage.app.recorder.max_notification_id() or 0
        while storage.projector.position() < last - 50 and time.perf_counter() - started < timeout:
            time.sleep(0.05)
    finally:
        storage.close()
    return time.perf_counter() - started


def signed_in_sessions(storage: Storage, people: list[UUID]) -> dict[UUID, str]:
    """A session id for each citizen, written straight to the session table: signing in through
    argon2 would cost more than the figure being measured."""
    sessions = {p: uuid4().hex for p in people}
    with storage.db.transaction() as cur:
        cur.executemany(
            "INSERT INTO web_sessions (session_id, data, expires_at) VALUES (?, ?, ?)",
            [
                (
                    sid,
                    encode_json({"user": {"participant_id": str(p), "role": "citizen", "display_name": "b"}}),
                    time.time() + 3600,
                )
                for p, sid in sessions.items()
            ],
        )
    return sessions


def csrf_token(port: int) -> str:
    import httpx

    r = httpx.get(f"http://127.0.0.1:{port}/login")
    return r.cookies["kyoso_csrf"]


async def fire(
    port: int,
    requests: Iterable[bytes],
    connections: int,
    *,
    until: float | None = None,
    latencies: list[float] | None = None,
) -> dict[int, int]:
    """A lean keep-alive HTTP/1.1 client: pre-built requests, so the client spends little CPU.
    With `until` (a perf_counter time) it stops then; with `latencies` it records each request's."""
    codes: dict[int, int] = {}
    queue = iter(requests)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for request in queue:
            started = time.perf_counter()
            if until is not None and started > until:
                break
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            codes[status] = codes.get(status, 0) + 1
            if latencies is not None:
                latencies.append(time.perf_counter() - started)
        writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return codes


def bench_write(kind: str, quick: bool) -> None:
    participants, surveys, connections = (100, 5, 16) if quick else (400, 25, 32)
    with backend(kind) as (data_dir, url):
        note(f"write.{kind}: preparing {participants} participants × {surveys} surveys")
        storage = Storage.open(data_dir, url)
        rng = random.Random(1)
        staff = storage.app.register_participant(Role.STAFF, department="ベンチマーク課")
        survey_ids = [survey_with_questions(storage, staff, f"調査{i}") for i in range(surveys)]
        people = [
            storage.app.register_participant(Role.CITIZEN, attributes=random_attributes(rng))
            for _ in range(participants)
        ]
        sessions = signed_in_sessions(storage, people)
        storage.close()
        baseline = bare_recorder_saves_per_second(data_dir, url, 3 if quick else 5)
        workers = int(os.environ.get("KYOSO_BENCH_WORKERS", "1" if kind == "sqlite" else "2"))
        with server_process(data_dir, url, workers) as port:
            token = csrf_token(port)
            requests = []
            for survey_id, questions in survey_ids:
                for person in people:
                    body = json.dumps({"answers": random_answers(rng, questions)}).encode()
                    requests.append(
                        f"POST /api/v1/surveys/{survey_id}/responses HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        f"Cookie: kyoso_session={sessions[person]}; kyoso_csrf={token}\r\nX-CSRFToken: {token}\r\n"
                        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                        + body
                    )
            rng.shuffle(requests)
            warm, timed = requests[:200], requests[200:]
            asyncio.run(fire(port, warm, 8))
            started = time.perf_counter()
            codes = asyncio.run(fire(port, timed, connections))
            elapsed = time.perf_counter() - started
            lag = projection_lag(data_dir, url)
        accepted = codes.get(201, 0)
        if accepted != len(timed):
            note(f"write.{kind}: unexpected status codes {codes}")
        emit(
            f"write.{kind}",
            accepted / elapsed,
            "responses/s",
            baseline,
            clients=connections,
            requests=len(timed),
            workers=workers,
            projection_lag_s=round(lag, 2),
        )


# --- rebuild and results scaling ---------------------------------------------------------------


def load_responses(
    storage: Storage,
    survey: UUID,
    questions: list[str],
    n: int,
    rng: random.Random,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Saves n responses as the product would: free text sealed under each person's own key."""
    role, batch, keys = Role.CITIZEN, [], []
    created = datetime.now(UTC).isoformat()
    for i in range(n):
        participant, key = uuid4(), new_key()
        keys.append((str(participant), key, created))
        answers = {k: v for k, v in random_answers(rng, questions).items() if v is not None}
        rid = response_id(survey, participant)
        texts = {k: seal(key, v, text_context(rid, k)) for k, v in answers.items() if isinstance(v, str)}
        response = Response(
            survey_id=survey,
            participant_id=participant,
            role=role,
            attributes=random_attributes(rng),
            answers={k: v for k, v in answers.items() if k not in texts},
            texts=texts,
        )
        batch.append(response)
        if len(batch) == 2000 or i == n - 1:
            with storage.db.transaction() as cur:
                cur.executemany("INSERT INTO data_keys (participant_id, key, created_at) VALUES (?, ?, ?)", keys)
            storage.app.save(*batch)
            batch, keys = [], []
            if progress:
                progress(i + 1)


def select_and_decode(storage: Storage) -> int:
    topics, start, count = storage.projector.projection.topics, 0, 0
    to_event = storage.app.mapper.to_domain_event
    while True:
        notifications = storage.app.recorder.select_notifications(
            start=start, limit=storage.projector.batch_size, topics=topics, inclusive_of_start=False
        )
        if not notifications:
            return count
        for n in notifications:
            to_event(n)
        count += len(notifications)
        start = notifications[-1].id


def render_seconds(client: Any, urls: list[str], rounds: int) -> list[float]:
    """Median time to render each page, the pages taken in turn so that noise hits them alike."""
    for url in urls:
        assert client.get(url).status_code == 200
    times: list[list[float]] = [[] for _ in urls]
    for _ in range(rounds):
        for i, url in enumerate(urls):
            started = time.perf_counter()
            client.get(url)
            times[i].append(time.perf_counter() - started)
    return [statistics.median(t) for t in times]


def bench_rebuild(kind: str, quick: bool, with_scaling: bool) -> None:
    big, small, rest = (20_000, 1_000, 0) if quick else (100_000, 1_000, 100_000)
    with backend(kind) as (data_dir, url):
        storage = Storage.open(data_dir, url)
        rng = random.Random(2)
        staff = storage.app.register_participant(Role.STAFF, department="ベンチマーク課")
        big_survey, big_q = survey_with_questions(storage, staff, "大規模調査")
        small_survey, small_q = survey_with_questions(storage, staff, "小規模調査")
        other_survey, other_q = survey_with_questions(storage, staff, "その他の調査")
        total = big + small + rest
        note(f"rebuild.{kind}: writing {total} responses")
        started = time.perf_counter()
        load_responses(storage, big_survey, big_q, big, rng)
        load_responses(storage, small_survey, small_q, small, rng)
        if rest:
            load_responses(storage, other_survey, other_q, rest, rng)
        note(f"rebuild.{kind}: wrote {total} events in {time.perf_counter() - started:.1f}s")
        # Alternate the two measurements and keep the best of each: on a noisy machine that
        # compares like with like (warm caches for both, least interference for both).
        baseline_times, rebuild_times, decoded, applied = [], [], 0, 0
        for _ in range(1 if quick else 5):
            started = time.perf_counter()
            decoded = select_and_decode(storage)
            baseline_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            applied = storage.projector.rebuild()
            rebuild_times.append(time.perf_counter() - started)
        baseline = decoded / min(baseline_times)
        rate = applied / min(rebuild_times)
        emit(f"rebuild.{kind}", rate, "events/s", baseline, events=applied)
        if with_scaling:
            bench_results_scaling(storage, staff, big_survey, small_survey, big, small)
        storage.close()


def bench_results_scaling(storage: Storage, staff: UUID, big: UUID, small: UUID, n_big: int, n_small: int) -> None:
    from litestar.testing import TestClient

    from web.app import create_app
    from web.settings import Settings

    settings = Settings(data_dir=Path(tempfile.mkdtemp()), secret="bench", project_in_process=False)
    app = create_app(settings, storage)
    with TestClient(app=app) as client:
        token = uuid4().hex
        with storage.db.transaction() as cur:
            cur.execute(
                "INSERT INTO web_sessions (session_id, data, expires_at) VALUES (?, ?, ?)",
                (
                    token,
                    encode_json(
                        {
                            "user": {
                                "participant_id": str(staff),
                                "role": "staff",
                                "display_name": "b",
                                "department": "ベンチマーク課",
                            }
                        }
                    ),
                    time.time() + 3600,
                ),
            )
        client.cookies.set("kyoso_session", token)
        baseline, value = render_seconds(
            client, [f"/staff/surveys/{small}/results", f"/staff/surveys/{big}/results"], 21
        )
    emit("results.scaling", value * 1000, "ms", baseline * 1000, responses=n_big, baseline_responses=n_small)


# --- audit ----------------------------------------------------------------------------------------


def read_pages(storage: Storage, page: int) -> int:
    """Reads every event in pages with the recorder's own query and decodes nothing: verification's floor."""
    start, count = 0, 0
    while notifications := storage.app.recorder.select_notifications(start=start, limit=page, inclusive_of_start=False):
        count += len(notifications)
        start = notifications[-1].id
    return count


def bench_audit_verify(quick: bool) -> None:
    from projections.event_chain import PAGE, verify

    n = 20_000 if quick else 200_000
    with backend("sqlite") as (data_dir, url):
        storage = Storage.open(data_dir, url)
        staff = storage.app.register_participant(Role.STAFF, department="ベンチマーク課")
        survey, questions = survey_with_questions(storage, staff, "監査用調査")
        note(f"audit.verify: writing {n} responses")
        load_responses(storage, survey, questions, n, random.Random(3))
        read_times, verify_times, read, verified = [], [], 0, 0
        for _ in range(1 if quick else 3):
            started = time.perf_counter()
            read = read_pages(storage, PAGE)
            read_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = verify(storage.app)
            verify_times.append(time.perf_counter() - started)
            if not result.ok:
                raise RuntimeError(f"audit.verify: the chain did not verify: {result.reason}")
            verified = result.events
        storage.close()
    emit("audit.verify", verified / min(verify_times), "events/s", read / min(read_times), events=verified)


def run_benchmarks(only: tuple[str, ...] = (), quick: bool = False) -> None:
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)

    def wanted(name: str) -> bool:
        return not only or any(name.startswith(prefix) for prefix in only)

    kinds = ["sqlite"]
    if os.environ.get(DATABASE_URL_VARIABLE):
        kinds.append("postgres")
    elif wanted("write.postgres") or wanted("rebuild.postgres"):
        note(f"postgres figures skipped: no server given (--database-url or ${DATABASE_URL_VARIABLE}); SQLite only")
    for kind in kinds:
        if wanted(f"write.{kind}"):
            bench_write(kind, quick)
        scaling = kind == "sqlite" and wanted("results.scaling")
        if wanted(f"rebuild.{kind}") or scaling:
            bench_rebuild(kind, quick, with_scaling=scaling)
    if wanted("audit.verify"):
        bench_audit_verify(quick)
    bench_pages.run(wanted, quick)
    bench_ideas.run(wanted, quick)
    bench_cocreation.run(wanted, quick)
    bench_points.run(wanted, quick)
    bench_kpis.run(wanted, quick)
    if wanted("themes"):
        from ml.bench import run_benchmarks as theme_benchmarks

        for line in theme_benchmarks():
            print(json.dumps(line, ensure_ascii=False), flush=True)
