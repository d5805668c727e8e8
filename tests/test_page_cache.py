"""Public pages computed once per change (web/page_cache.py): cached bytes are exactly what an uncached
render shows now, ETags change exactly when the bytes do, and nothing personal is ever cached publicly."""

import asyncio
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from domain.values import AgeBand, Ward
from projections import results as results_module
from projections import segments
from projections.storage import Storage
from tests.conftest import Client, World
from web.app import create_app
from web.i18n import COOKIE as LANGUAGE_COOKIE
from web.page_cache import PageCache, _Flight
from web.settings import Settings


@contextmanager
def uncached(settings: Settings, storage: Storage) -> Iterator[Client]:
    """The same app with its page cache switched off: every request computes and renders afresh."""
    app = create_app(settings, storage)
    cache = PageCache(storage)
    cache.enabled = False
    app.state.page_cache = cache
    app.on_shutdown.append(cache.aclose)
    with Client(app=app, base_url="http://testserver.local") as fresh:
        yield fresh


def answer(world: World, n: int, ward: Ward = Ward.SONODA) -> None:
    app = world.storage.app
    for i, person in enumerate(world.citizens(n, ward=ward, age_band=AgeBand.AGE_30S, has_children=True)):
        answers = world.valid_answers(**{world.q_single: i % 3, world.q_scale: 1 + i % 5})
        app.submit_response(world.survey, person, answers)


def publish(world: World, n: int = 12) -> None:
    answer(world, n)
    world.storage.app.close_survey(world.survey, staff_id=world.staff)
    world.storage.app.publish_results(world.survey, staff_id=world.staff)
    world.storage.projector.catch_up()


def builds(client: Client) -> int:
    return client.app.state.page_cache.builds  # type: ignore[no-any-return]


def respondents(html: str) -> str:
    found = re.search(r'data-testid="respondents">([^<]*)<', html)
    assert found, html[:500]
    return found.group(1)


def test_anonymous_results_are_rendered_once_and_are_what_a_fresh_render_shows(
    client: Client, world: World, settings: Settings, storage: Storage
) -> None:
    publish(world)
    url = f"/surveys/{world.survey}/results"
    first = client.get(url)
    assert first.status_code == 200 and respondents(first.text) == "12"
    made = builds(client)
    for _ in range(5):
        again = client.get(url)
        assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert builds(client) == made  # nothing computed again: no event, no new rule, same language
    with uncached(settings, storage) as fresh:
        assert fresh.get(url).content == first.content
        assert (
            fresh.get(f"/api/v1/surveys/{world.survey}/results").content
            == client.get(f"/api/v1/surveys/{world.survey}/results").content
        )


def test_public_pages_are_publicly_cacheable_with_an_etag_answered_304(client: Client, world: World) -> None:
    publish(world)
    for url in ("/", "/results", f"/surveys/{world.survey}/results", f"/api/v1/surveys/{world.survey}/results"):
        page = client.get(url)
        assert page.status_code == 200
        assert page.headers["cache-control"].startswith("public, max-age=")
        assert "set-cookie" not in page.headers  # no CSRF cookie: the same bytes for every visitor
        vary = page.headers["vary"].lower()
        assert "cookie" in vary and "hx-request" in vary
        etag = page.headers["etag"]
        unchanged = client.get(url, headers={"if-none-match": etag})
        assert unchanged.status_code == 304 and unchanged.content == b""
        assert client.get(url, headers={"if-none-match": f'W/{etag}, "other"'}).status_code == 304
        assert client.get(url, headers={"if-none-match": '"other"'}).status_code == 200


def test_etag_changes_exactly_when_the_page_does(client: Client, world: World, storage: Storage) -> None:
    answer(world, 4)
    storage.projector.catch_up()
    home = client.get("/")
    assert "回答 x 件" in home.text
    # An event elsewhere moves the read models' position: the page is made again, its bytes the same.
    made = builds(client)
    world.citizens(1)
    storage.projector.catch_up()
    same = client.get("/")
    assert builds(client) > made
    assert same.content == home.content and same.headers["etag"] == home.headers["etag"]
    assert client.get("/", headers={"if-none-match": home.headers["etag"]}).status_code == 304
    # A fifth answer to the survey: the count shows, and the old ETag no longer matches.
    answer(world, 1)
    storage.projector.catch_up()
    changed = client.get("/", headers={"if-none-match": home.headers["etag"]})
    assert changed.status_code == 200 and "回答 5 件" in changed.text
    assert changed.headers["etag"] != home.headers["etag"]


def test_a_new_event_for_the_survey_is_shown_at_once(
    client: Client, world: World, storage: Storage, settings: Settings
) -> None:
    url = f"/surveys/{world.survey}/results"
    answer(world, 12)
    storage.projector.catch_up()
    assert client.get(url).status_code == 403  # not published: refused, and nothing cached for anyone
    storage.app.close_survey(world.survey, staff_id=world.staff)
    storage.app.publish_results(world.survey, staff_id=world.staff)
    storage.projector.catch_up()
    page = client.get(url)
    assert page.status_code == 200 and respondents(page.text) == "12"
    with uncached(settings, storage) as fresh:
        assert fresh.get(url).content == page.content


def test_unpublished_results_read_by_staff_never_reach_anyone_else(client: Client, world: World) -> None:
    answer(world, 12)
    world.storage.projector.catch_up()
    api = f"/api/v1/surveys/{world.survey}/results"
    client.login("staff@example.jp")
    live = client.get(api)
    assert live.status_code == 200 and live.json()["respondents"] == 12
    assert live.headers["cache-control"] == "no-store" and "etag" not in live.headers
    assert client.get(f"/surveys/{world.survey}/results").status_code == 200
    client.cookies.clear()
    assert client.get(api).status_code == 403
    assert client.get(f"/surveys/{world.survey}/results").status_code == 403


def test_signed_in_pages_are_never_cached_publicly(client: Client, world: World) -> None:
    publish(world)
    urls = ("/", "/results", f"/surveys/{world.survey}/results", f"/api/v1/surveys/{world.survey}/results")
    anonymous = {url: client.get(url) for url in urls}
    assert '"x-csrftoken": ""' in anonymous["/"].text  # no token in a page made for everyone
    client.login("citizen@example.jp")
    for url in urls:
        page = client.get(url)
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store" and "etag" not in page.headers
        assert "public" not in page.headers["cache-control"]
        assert "cookie" in page.headers["vary"].lower()
        # Rendered for the person, not served from the cache: still a page, not JSON.
        wanted = "application/json" if url.startswith("/api/") else "text/html"
        assert page.headers["content-type"].startswith(wanted), (url, page.headers["content-type"])
    home = client.get("/")
    assert "市民さん" in home.text and home.content != anonymous["/"].content
    token = re.search(r'"x-csrftoken": "([^"]+)"', home.text)
    assert token and token.group(1) == client.cookies.get("kyoso_csrf")  # the signed-in page keeps its token
    assert client.submit("/logout").status_code == 303
    assert client.get("/").content == anonymous["/"].content


def test_a_suppression_rule_change_is_never_served_stale(
    client: Client, world: World, settings: Settings, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(world)
    url = f"/surveys/{world.survey}/results"
    api = f"/api/v1/surveys/{world.survey}/results"
    before, before_json = client.get(url), client.get(api).json()
    assert respondents(before.text) == "12" and before_json["respondents"] == 12
    monkeypatch.setattr(results_module, "MIN_CELL", 20)
    monkeypatch.setattr(segments, "MIN_CELL", 20)
    after = client.get(url)
    assert respondents(after.text) == segments.SUPPRESSED
    assert client.get(api).json()["respondents"] == segments.SUPPRESSED
    assert after.headers["etag"] != before.headers["etag"]
    assert client.get(url, headers={"if-none-match": before.headers["etag"]}).status_code == 200
    with uncached(settings, storage) as fresh:
        assert fresh.get(url).content == after.content


def test_each_language_and_fragment_is_its_own_page(
    client: Client, world: World, settings: Settings, storage: Storage
) -> None:
    publish(world)
    url = f"/surveys/{world.survey}/results"
    japanese = client.get(url)
    client.cookies.set(LANGUAGE_COOKIE, "en")
    english = client.get(url)
    fragment = client.get(url, headers={"hx-request": "true"})
    assert 'lang="en"' in english.text and english.content != japanese.content
    assert english.headers["etag"] != japanese.headers["etag"]
    assert "<html" not in fragment.text and fragment.headers["etag"] != english.headers["etag"]
    client.cookies.set(LANGUAGE_COOKIE, "ja")
    assert client.get(url).content == japanese.content
    with uncached(settings, storage) as fresh:
        assert fresh.get(url).content == japanese.content
        fresh.cookies.set(LANGUAGE_COOKIE, "en")
        assert fresh.get(url).content == english.content
        assert fresh.get(url, headers={"hx-request": "true"}).content == fragment.content


def test_two_app_instances_on_one_database_agree(settings: Settings, storage: Storage, world: World) -> None:
    """Two workers: each has its own cache, both read the one position, so neither serves stale pages."""
    other_storage = Storage.open(settings.data_dir, settings.database_url)
    try:
        publish(world)
        with (
            Client(app=create_app(settings, storage), base_url="http://testserver.local") as one,
            Client(app=create_app(settings, other_storage), base_url="http://testserver.local") as two,
        ):
            before = [one.get("/"), two.get("/")]
            assert before[0].content == before[1].content
            assert before[0].headers["etag"] == before[1].headers["etag"]
            # A new survey, published through the first worker's storage and projected there.
            survey = storage.app.draft_survey(staff_id=world.staff, title="公園の使い方アンケート")
            storage.app.add_question(survey, staff_id=world.staff, kind="scale", text="満足度")
            storage.app.publish_survey(survey, staff_id=world.staff)
            storage.projector.catch_up()
            after = [one.get("/"), two.get("/")]
            assert all("公園の使い方アンケート" in page.text for page in after)
            assert after[0].headers["etag"] == after[1].headers["etag"] != before[0].headers["etag"]
            assert two.get("/", headers={"if-none-match": after[0].headers["etag"]}).status_code == 304
    finally:
        other_storage.close()


def test_concurrent_requests_compute_a_page_once(storage: Storage) -> None:
    cache = PageCache(storage)
    calls: list[int] = []

    def build() -> bytes:
        calls.append(1)
        time.sleep(0.05)
        return b"page"

    async def many() -> list[Any]:
        return await asyncio.gather(*(cache.value((1, 0), ("k",), build) for _ in range(20)))

    assert asyncio.run(many()) == [b"page"] * 20
    assert len(calls) == 1 and cache.builds == 1


def test_a_shared_position_read_never_began_before_the_request() -> None:
    """Requests share reads of the position, but each gets a read that began after it arrived."""
    value = [1]
    started: list[float] = []

    async def read() -> tuple[int, int]:
        started.append(time.perf_counter())
        seen = value[0]
        await asyncio.sleep(0.05)
        return seen, 0

    flight = _Flight(read, inline=False)

    async def scenario() -> None:
        early = [asyncio.ensure_future(flight.current()) for _ in range(10)]
        await asyncio.sleep(0.01)  # the first read is under way
        value[0] = 2  # a commit lands while it runs
        arrived = time.perf_counter()
        late = [asyncio.ensure_future(flight.current()) for _ in range(10)]
        # The first request started the first read; the nine that came while it ran share the second
        # (it began after all of them), and so do the ten that came after the commit.
        assert [v for v, _ in await asyncio.gather(*early)] == [1] + [2] * 9
        assert [v for v, _ in await asyncio.gather(*late)] == [2] * 10
        assert len(started) == 2 and started[1] >= arrived

    asyncio.run(scenario())
