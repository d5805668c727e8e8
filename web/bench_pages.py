"""Benchmarks of the public pages: pages.results, pages.home and pages.results_json, per engine.

Requests per second from 64 keep-alive clients (web/bench.py's client) against one web process
(uvicorn, as `kyoso serve` runs it), anonymous, for the published results of a closed survey of 300
answers, the home page, and the same results as JSON. The baseline is a bare Litestar app, served in
the same run with the same uvicorn settings and measured with the same client, that renders the very
bytes the product answered through Jinja (the page as a template), and for JSON encodes the same
document with msgspec. The two servers are measured in turns, so noise on a shared machine hits both.
"""

import asyncio
import itertools
import os
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from domain.values import Role
from projections.storage import Storage

CONNECTIONS = 64
BASELINE_DIR_VARIABLE = "KYOSO_BENCH_PAGES_DIR"
# (line name, what the product serves, what the baseline serves for the same bytes)
PAGES = (("results", "results.html"), ("home", "home.html"), ("results_json", "results.json"))


def create_baseline_app() -> Any:
    """The bare framework: no middleware, no database, the same bytes through Jinja or msgspec."""
    from litestar import Litestar, get
    from litestar.contrib.jinja import JinjaTemplateEngine
    from litestar.response import Template
    from litestar.template.config import TemplateConfig

    folder = Path(os.environ[BASELINE_DIR_VARIABLE])
    document = msgspec.json.decode((folder / "results.json").read_bytes())

    @get("/results", sync_to_thread=False)
    def results() -> Template:
        return Template("results.html")

    @get("/home", sync_to_thread=False)
    def home() -> Template:
        return Template("home.html")

    @get("/results_json", sync_to_thread=False)
    def results_json() -> Any:
        return document

    return Litestar(
        route_handlers=[results, home, results_json],
        template_config=TemplateConfig(directory=folder / "templates", engine=JinjaTemplateEngine),
    )


def prepare(storage: Storage) -> str:
    """A city with a few open surveys and one closed survey of 300 answers with published results."""
    from web.bench import load_responses, survey_with_questions

    app = storage.app
    staff = app.register_participant(Role.STAFF, department="ベンチマーク課")
    for i in range(6):
        survey_with_questions(storage, staff, f"回答受付中の調査{i}")
    survey, questions = survey_with_questions(storage, staff, "公開結果の調査")
    load_responses(storage, survey, questions, 300, random.Random(4))
    app.close_survey(survey, staff_id=staff)
    app.publish_results(survey, staff_id=staff)
    storage.catch_up()
    return str(survey)


def measure(port: int, request: bytes, seconds: float) -> tuple[int, float, list[float]]:
    from web.bench import fire

    latencies: list[float] = []
    started = time.perf_counter()
    codes = asyncio.run(
        fire(port, itertools.repeat(request), CONNECTIONS, until=started + seconds, latencies=latencies)
    )
    elapsed = time.perf_counter() - started
    ok = codes.get(200, 0)
    if ok != sum(codes.values()):
        raise RuntimeError(f"unexpected status codes {codes}")
    return ok, elapsed, latencies


def _ms(values: list[float], q: int) -> float:
    return round(statistics.quantiles(values, n=100)[q - 1] * 1000, 2)


def bench_pages(kind: str, quick: bool, wanted: Callable[[str], bool]) -> None:
    import httpx

    from web.bench import backend, emit, note, server_process

    names = [name for name, _ in PAGES if wanted(f"pages.{name}.{kind}")]
    if not names:
        return
    workers = int(os.environ.get("KYOSO_BENCH_PAGES_WORKERS", "1"))
    seconds, rounds = (1.0, 1) if quick else (2.5, 2)
    with backend(kind) as (data_dir, url):
        storage = Storage.open(data_dir, url)
        survey = prepare(storage)
        storage.close()
        paths = {
            "results": f"/surveys/{survey}/results",
            "home": "/",
            "results_json": f"/api/v1/surveys/{survey}/results",
        }
        folder = data_dir / "baseline"
        (folder / "templates").mkdir(parents=True)
        with server_process(data_dir, url, workers) as port:
            answers = {name: httpx.get(f"http://127.0.0.1:{port}{paths[name]}") for name in paths}
            for name, answer in answers.items():
                if answer.status_code != 200 or "public" not in answer.headers.get("cache-control", ""):
                    raise RuntimeError(f"pages.{name}: {answer.status_code} {answer.headers.get('cache-control')}")
            for name in ("results", "home"):
                page = answers[name].text
                (folder / "templates" / f"{name}.html").write_text("{% raw %}" + page + "{% endraw %}")
            (folder / "results.json").write_bytes(answers["results_json"].content)
            os.environ[BASELINE_DIR_VARIABLE] = str(folder)
            target = ("--factory", "web.bench_pages:create_baseline_app")
            with server_process(data_dir, None, 1, target=target) as baseline_port:
                for name in names:
                    same = httpx.get(f"http://127.0.0.1:{baseline_port}/{name}").content == answers[name].content
                    if not same:
                        raise RuntimeError(f"pages.{name}: the baseline does not serve the same bytes")
                figures: dict[str, dict[str, list[Any]]] = {n: {"product": [], "baseline": []} for n in names}
                for round_ in range(rounds + 1):  # the first round warms both servers up and is not counted
                    for name in names:
                        sides = (("product", port, paths[name]), ("baseline", baseline_port, f"/{name}"))
                        for side, p, path in sides:
                            request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Language: ja\r\n\r\n".encode()
                            result = measure(p, request, seconds if round_ else 0.5)
                            if round_:
                                figures[name][side].append(result)
        for name in names:
            value, baseline = (_combine(figures[name][side]) for side in ("product", "baseline"))
            emit(
                f"pages.{name}.{kind}",
                value[0],
                "requests/s",
                baseline[0],
                p50_ms=_ms(value[1], 50),
                p95_ms=_ms(value[1], 95),
                baseline_p50_ms=_ms(baseline[1], 50),
                baseline_p95_ms=_ms(baseline[1], 95),
                clients=CONNECTIONS,
                workers=workers,
                bytes=len(answers[name].content),
            )
        note(f"pages.{kind}: done")


def _combine(runs: list[tuple[int, float, list[float]]]) -> tuple[float, list[float]]:
    count = sum(r[0] for r in runs)
    elapsed = sum(r[1] for r in runs)
    return count / elapsed, [x for r in runs for x in r[2]]


def run(wanted: Callable[[str], bool], quick: bool) -> None:
    from web.bench import DATABASE_URL_VARIABLE

    for kind in ["sqlite", *(["postgres"] if os.environ.get(DATABASE_URL_VARIABLE) else [])]:
        bench_pages(kind, quick, wanted)


if __name__ == "__main__":  # a single engine's lines, e.g. while tuning: python -m web.bench_pages sqlite
    import sys

    bench_pages(sys.argv[1] if len(sys.argv) > 1 else "sqlite", quick="--quick" in sys.argv, wanted=lambda name: True)
