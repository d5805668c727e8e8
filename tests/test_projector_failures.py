"""An event the projection cannot apply never stops the city: it is recorded, shown, and retried.

The poison events are written straight through the event store, as events stored before a check
existed would be: an answer naming a choice the question does not have (fails on both engines, in
the projection's Python) and, on PostgreSQL, free text holding U+0000, which text columns refuse.
"""

import dataclasses
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import psycopg
import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from domain.personal_data import seal, text_context
from domain.response import Response, response_id
from domain.values import Attributes, Role
from projections.composite import Projections
from projections.database import Cursor
from projections.runner import Projector, describe
from projections.storage import Storage
from projections.surveys import SurveyProjection
from tests.conftest import PASSWORD_HASH, Client, World
from web.app import create_app
from web.cli import cli
from web.settings import Settings

TABLES = ("surveys", "result_cells", "free_text_answers")
RESPONSE_TOPIC = "domain.response:Response.Submitted"


def snapshot(storage: Storage) -> dict[str, list[tuple[object, ...]]]:
    return {t: sorted(storage.db.query(f"SELECT * FROM {t}"), key=repr) for t in TABLES}


def answer(world: World, n: int) -> None:
    for person in world.citizens(n):
        world.storage.app.submit_response(world.survey, person, world.valid_answers())


def store_unchecked(storage: Storage, event: Response.Submitted) -> int:
    """Saves the event as is, past every check, and returns its position."""
    storage.app.record_response(event).result()
    position = storage.app.recorder.max_notification_id()
    assert position is not None
    return position


def store_poison(world: World) -> tuple[int, UUID]:
    """A response choosing option 8 of a three-option question."""
    (person,) = world.citizens(1)
    event = Response.submitted(
        survey_id=world.survey,
        participant_id=person,
        role=Role.CITIZEN,
        attributes=Attributes(),
        answers={world.q_single: 7, world.q_scale: 3},
        texts={},
    )
    return store_unchecked(world.storage, event), event.originator_id


def response_count(storage: Storage, world: World) -> int:
    survey = storage.catalogue.survey(str(world.survey))
    assert survey is not None
    return survey.response_count


class Faulty(SurveyProjection):
    """The survey projection with a fault injected: any batch holding one of the positions raises
    `error()` after projecting (so there is work to roll back), the first `times` times."""

    def __init__(self, positions: set[int], error: Callable[[], Exception], times: int = -1) -> None:
        super().__init__()
        self.positions, self.error, self.times = positions, error, times

    def project(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        super().project(cur, events)
        if self.times != 0 and any(position in self.positions for position, _ in events):
            self.times -= 1
            raise self.error()


def test_a_poison_event_is_recorded_and_every_other_event_applied(world: World, storage: Storage) -> None:
    answer(world, 3)
    first, first_id = store_poison(world)
    answer(world, 4)
    second, _ = store_poison(world)
    answer(world, 2)
    storage.projector.catch_up()

    assert response_count(storage, world) == 9
    assert storage.projector.position() == storage.app.recorder.max_notification_id()
    failures = storage.projector.failures()
    assert [f.position for f in failures] == [first, second]
    assert failures[0].originator_id == str(first_id) and failures[0].originator_version == 1
    assert failures[0].topic == RESPONSE_TOPIC
    assert failures[0].error.startswith("IndexError: ")
    assert storage.projector.failure_count() == 2

    # A rebuild gives the same read models and records the same failures afresh.
    projected = snapshot(storage)
    storage.projector.rebuild()
    assert snapshot(storage) == projected
    again = storage.projector.failures()
    assert [(f.position, f.error) for f in again] == [(f.position, f.error) for f in failures]
    assert again[0].failed_at > failures[0].failed_at


def test_poison_events_side_by_side_and_at_batch_edges(world: World, storage: Storage) -> None:
    poisons = [store_poison(world)[0], store_poison(world)[0]]
    answer(world, 5)
    poisons.append(store_poison(world)[0])
    small = Projector(storage.app, storage.db, Projections([SurveyProjection()]), batch_size=3)
    assert small.catch_up() == 5
    assert response_count(storage, world) == 5
    assert [f.position for f in small.failures()] == poisons


def test_healthz_is_503_and_the_audit_page_lists_the_failure(world: World, storage: Storage, client: Client) -> None:
    healthy = client.get("/healthz")
    assert healthy.status_code == 200 and healthy.json()["status"] == "ok"
    assert "failures" not in healthy.json()
    storage.app.sign_up(email="audit@example.jp", display_name="監査", password_hash=PASSWORD_HASH, role=Role.AUDITOR)
    client.login("audit@example.jp")
    assert "集計に反映できなかったイベント" not in client.get("/audit").text

    poison, _ = store_poison(world)
    answer(world, 1)
    storage.projector.catch_up()

    degraded = client.get("/healthz")
    assert degraded.status_code == 503
    body = degraded.json()
    assert body["status"] == "degraded"
    assert body["projection_position"] == storage.projector.position() > poison
    assert [f["position"] for f in body["failures"]] == [poison]
    assert body["failures"][0]["error"].startswith("IndexError: ")
    audit = client.get("/audit")
    assert audit.status_code == 200
    assert "集計に反映できなかったイベント（1件）" in audit.text
    assert f'<th scope="row" class="num">{poison}</th>' in audit.text
    assert "IndexError" in audit.text and "kyoso projections retry" in audit.text


def test_the_server_starts_with_a_poison_event_stored(
    world: World, storage: Storage, settings: Settings, database_url: str | None
) -> None:
    poison, _ = store_poison(world)
    answer(world, 2)
    # A restart: new storage on the same database, and the app's startup catches up in process.
    restarted = Storage.open(settings.data_dir, database_url)
    try:
        app = create_app(dataclasses.replace(settings, project_in_process=True), restarted)
        with TestClient(app=app) as client:
            health = client.get("/healthz")
            assert health.status_code == 503
            assert [f["position"] for f in health.json()["failures"]] == [poison]
            assert client.get("/").status_code == 200
        assert response_count(restarted, world) == 2
    finally:
        restarted.close()


def cli_env(database_url: str | None) -> dict[str, str | None]:
    return {"KYOSO_DATABASE_URL": database_url, "KYOSO_DATA_DIR": None}


def test_rebuild_completes_the_read_models_lists_the_failures_and_exits_1(
    world: World, storage: Storage, settings: Settings, database_url: str | None
) -> None:
    answer(world, 3)
    poison, _ = store_poison(world)
    answer(world, 3)
    runner = CliRunner()
    data = ["--data-dir", str(settings.data_dir)]
    rebuilt = runner.invoke(cli, ["projections", "rebuild", *data], env=cli_env(database_url))
    assert rebuilt.exit_code == 1, rebuilt.output
    assert f"position {poison}" in rebuilt.output and "IndexError" in rebuilt.output
    assert response_count(storage, world) == 6
    assert storage.projector.position() == storage.app.recorder.max_notification_id()

    # Retrying cannot help while the event is what it is: it stays on record, and exit 1 again.
    retried = runner.invoke(cli, ["projections", "retry", *data], env=cli_env(database_url))
    assert retried.exit_code == 1, retried.output
    assert "0 failed event(s) applied" in retried.output and f"position {poison}" in retried.output
    assert [f.position for f in storage.projector.failures()] == [poison]


def test_rebuild_exits_0_without_failures(world: World, settings: Settings, database_url: str | None) -> None:
    answer(world, 2)
    rebuilt = CliRunner().invoke(
        cli, ["projections", "rebuild", "--data-dir", str(settings.data_dir)], env=cli_env(database_url)
    )
    assert rebuilt.exit_code == 0, rebuilt.output


def test_retry_applies_a_failed_event_once_its_cause_is_fixed(world: World, storage: Storage) -> None:
    answer(world, 3)
    first = storage.app.recorder.max_notification_id()
    assert first is not None
    answer(world, 3)
    faulty = Faulty({first}, lambda: ValueError("projection bug"))
    projector = Projector(storage.app, storage.db, Projections([faulty]))
    projector.catch_up()
    assert response_count(storage, world) == 5
    (failure,) = projector.failures()
    assert failure.position == first and failure.error == "ValueError: projection bug"

    applied, remaining = projector.retry_failures()
    assert applied == 0 and [(f.position, f.error) for f in remaining] == [(first, "ValueError: projection bug")]
    assert response_count(storage, world) == 5

    faulty.times = 0  # the fix
    assert projector.retry_failures() == (1, [])
    assert response_count(storage, world) == 6
    retried = snapshot(storage)
    storage.projector.rebuild()
    assert snapshot(storage) == retried and storage.projector.failures() == []


def test_an_error_that_does_not_repeat_is_not_recorded(world: World, storage: Storage) -> None:
    answer(world, 3)
    flaky = storage.app.recorder.max_notification_id()
    assert flaky is not None
    answer(world, 3)
    projector = Projector(storage.app, storage.db, Projections([Faulty({flaky}, lambda: ValueError("once"), times=1)]))
    assert projector.catch_up() == 6
    assert response_count(storage, world) == 6 and projector.failures() == []


def test_a_database_error_is_not_recorded_as_a_poison_event(
    world: World, storage: Storage, database_url: str | None
) -> None:
    answer(world, 3)
    before = storage.projector.position()
    at = storage.app.recorder.max_notification_id()
    assert at is not None
    answer(world, 3)
    outage = (
        (lambda: psycopg.OperationalError("server closed the connection unexpectedly"))
        if database_url
        else (lambda: sqlite3.OperationalError("database is locked"))
    )
    projector = Projector(storage.app, storage.db, Projections([Faulty({at}, outage)]))
    with pytest.raises((psycopg.OperationalError, sqlite3.OperationalError)):
        projector.catch_up()
    assert projector.failures() == [] and storage.projector.position() == before
    # Back up: everything is applied and nothing was ever recorded.
    waiting = storage.app.recorder.select_notifications(
        start=before, limit=10_000, topics=storage.projector.projection.topics, inclusive_of_start=False
    )
    assert storage.projector.catch_up() == len(waiting)
    assert response_count(storage, world) == 6 and storage.projector.failures() == []


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_nul_in_free_text_is_recorded_on_postgresql_and_the_city_goes_on(
    world: World, storage: Storage, settings: Settings, database_url: str | None
) -> None:
    (person,) = world.citizens(1)
    response = response_id(world.survey, person)
    key = storage.app.keys.key_for(person)
    assert key is not None
    event = Response.submitted(
        survey_id=world.survey,
        participant_id=person,
        role=Role.CITIZEN,
        attributes=Attributes(),
        answers={world.q_scale: 5},
        texts={world.q_text: seal(key, "公園\x00がほしい", text_context(response, world.q_text))},
    )
    poison = store_unchecked(storage, event)
    answer(world, 2)
    storage.projector.catch_up()

    assert response_count(storage, world) == 2
    (failure,) = storage.projector.failures()
    assert failure.position == poison
    assert failure.error == "DataError: PostgreSQL text fields cannot contain NUL (0x00) bytes"

    restarted = Storage.open(settings.data_dir, database_url)
    try:
        app = create_app(dataclasses.replace(settings, project_in_process=True), restarted)
        with TestClient(app=app) as client:
            assert client.get("/healthz").status_code == 503
        rebuilt = CliRunner().invoke(
            cli, ["projections", "rebuild", "--data-dir", str(settings.data_dir)], env=cli_env(database_url)
        )
        assert rebuilt.exit_code == 1 and "DataError" in rebuilt.output
        assert response_count(restarted, world) == 2
        assert len(restarted.db.query("SELECT * FROM free_text_answers")) == 2
    finally:
        restarted.close()


def test_a_failure_is_described_by_its_type_and_first_line_only() -> None:
    # Later lines of a driver's message (DETAIL) can quote the row; a NUL would break the record.
    error = ValueError("bad\x00value\nDETAIL: Key (text)=(山田花子の意見) already exists.")
    assert describe(error) == "ValueError: bad\ufffdvalue"
    assert len(describe(ValueError("x" * 1000))) == 300
    assert describe(IndexError()) == "IndexError"
