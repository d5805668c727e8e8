"""Smoke tests for the test infrastructure itself: throwaway PostgreSQL and Chromium."""

from __future__ import annotations

import pytest

from tests.support.browser import chromium, serve_in_thread
from tests.support.postgres import ThrowawayPostgres


@pytest.mark.postgres
def test_throwaway_postgres_select_1() -> None:
    import psycopg

    with ThrowawayPostgres() as pg:
        assert pg.url == f"postgresql://postgres@127.0.0.1:{pg.port}/kyoso"
        with psycopg.connect(pg.url) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
        other = pg.create_database("infra_extra")
        with psycopg.connect(other) as conn:
            assert conn.execute("select current_database()").fetchone() == ("infra_extra",)
        data_dir = pg.dir
    assert data_dir is not None and not data_dir.exists()


@pytest.mark.browser
def test_chromium_loads_litestar_page() -> None:
    from litestar import Litestar, MediaType, get

    @get("/", media_type=MediaType.HTML, sync_to_thread=False)
    def index() -> str:
        return "<!doctype html><html><head><title>Kyoso infra</title></head><body>ok</body></html>"

    app = Litestar(route_handlers=[index])
    with serve_in_thread(app) as base_url, chromium() as browser:
        page = browser.new_page()
        page.goto(base_url + "/")
        assert page.title() == "Kyoso infra"
        assert page.text_content("body") == "ok"
