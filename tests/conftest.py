"""Fixtures: every storage-touching test runs on SQLite and on a real PostgreSQL server."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from domain.values import AgeBand, Attributes, Role, Ward
from projections.storage import Storage
from tests.support.postgres import ThrowawayPostgres
from web.app import create_app
from web.passwords import hash_password
from web.settings import Settings

PASSWORD = "correct-horse-battery"
PASSWORD_HASH = hash_password(PASSWORD)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ThrowawayPostgres]:
    with ThrowawayPostgres() as server:
        yield server


BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    if backend == "sqlite":
        return None
    server: ThrowawayPostgres = request.getfixturevalue("postgres_server")
    return server.create_database()


@pytest.fixture
def storage(tmp_path: Path, database_url: str | None) -> Iterator[Storage]:
    store = Storage.open(tmp_path / "data", database_url)
    yield store
    store.close()


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret="test-secret",
        project_in_process=False,
        auth_rate_limit_per_minute=1000,
    )


class Client(TestClient):  # type: ignore[type-arg]
    """A test client that behaves like a browser: it sends the CSRF token with every POST."""

    def csrf(self) -> str:
        name = self.app.state.settings.csrf_cookie  # "__Host-" prefixed behind TLS
        token = self.cookies.get(name)
        if token is None:
            self.get("/login")
            token = self.cookies.get(name)
        assert token
        return token

    def submit(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        headers = {"x-csrftoken": self.csrf(), **kwargs.pop("headers", {})}
        return self.post(url, data=data or {}, headers=headers, follow_redirects=False, **kwargs)

    def api_post(self, url: str, json: Any, **kwargs: Any) -> Any:
        headers = {"x-csrftoken": self.csrf(), **kwargs.pop("headers", {})}
        return self.post(url, json=json, headers=headers, **kwargs)

    def login(self, email: str, password: str = PASSWORD) -> Any:
        response = self.submit("/login", {"email": email, "password": password})
        assert response.status_code in (200, 303), response.text
        return response


@pytest.fixture
def client(settings: Settings, storage: Storage) -> Iterator[Client]:
    app = create_app(settings, storage)
    with Client(app=app, base_url="http://testserver.local") as c:
        yield c


class World:
    """A small city: one staff member, citizens with attributes, and a published survey."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        app = storage.app
        self.staff = app.sign_up(
            email="staff@example.jp",
            display_name="職員",
            password_hash=PASSWORD_HASH,
            role=Role.STAFF,
            department="子育て支援課",
        )
        self.citizen = app.sign_up(
            email="citizen@example.jp",
            display_name="市民",
            password_hash=PASSWORD_HASH,
            attributes=Attributes(ward=Ward.SONODA, age_band=AgeBand.AGE_30S, has_children=True),
        )
        self.survey = app.draft_survey(staff_id=self.staff, title="子育てアンケート", description="説明")
        s = self.survey
        self.q_single = app.add_question(
            s, staff_id=self.staff, kind="single", text="住み続けたい?", options=["はい", "いいえ", "わからない"]
        )
        self.q_multi = app.add_question(
            s, staff_id=self.staff, kind="multiple", text="必要な支援", options=["保育", "医療", "公園"], max_choices=2
        )
        self.q_scale = app.add_question(s, staff_id=self.staff, kind="scale", text="満足度")
        self.q_number = app.add_question(
            s, staff_id=self.staff, kind="number", text="子どもの人数", minimum=0, maximum=10
        )
        self.q_text = app.add_question(
            s, staff_id=self.staff, kind="text", text="ご意見", required=False, max_length=200
        )
        app.publish_survey(s, staff_id=self.staff)
        storage.projector.catch_up()

    def valid_answers(self, **overrides: Any) -> dict[str, Any]:
        answers = {
            self.q_single: 0,
            self.q_multi: [0, 2],
            self.q_scale: 4,
            self.q_number: 2,
            self.q_text: "公園がほしい",
        }
        answers.update(overrides)
        return answers

    def citizens(self, n: int, **attrs: Any) -> list[Any]:
        return [self.storage.app.register_participant(Role.CITIZEN, attributes=Attributes(**attrs)) for _ in range(n)]


@pytest.fixture
def world(storage: Storage) -> World:
    return World(storage)
