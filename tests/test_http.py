"""Through a real HTTP server on loopback: twenty simultaneous submits, one response."""

import threading
from collections import Counter

import httpx

from projections.storage import Storage
from tests.conftest import PASSWORD, World
from tests.support.browser import serve_in_thread
from web.app import create_app
from web.settings import Settings


def test_twenty_simultaneous_submits_store_one_response(settings: Settings, storage: Storage, world: World) -> None:
    app = create_app(settings, storage)
    with serve_in_thread(app) as base_url, httpx.Client(base_url=base_url) as browser:
        browser.get("/login")
        token = browser.cookies["kyoso_csrf"]
        login = browser.post(
            "/login", data={"email": "citizen@example.jp", "password": PASSWORD}, headers={"x-csrftoken": token}
        )
        assert login.status_code == 303
        cookies = dict(browser.cookies)
        barrier = threading.Barrier(20)
        codes: list[int] = []
        # A thread's failed assertion would otherwise only be printed: collect them, assert none.
        errors: list[BaseException] = []

        def submit() -> None:
            try:
                with httpx.Client(base_url=base_url, cookies=cookies, timeout=30) as c:
                    barrier.wait(timeout=30)
                    r = c.post(
                        f"/api/v1/surveys/{world.survey}/responses",
                        json={"answers": world.valid_answers()},
                        headers={"x-csrftoken": token},
                    )
                    codes.append(r.status_code)
                    if r.status_code == 409:
                        assert r.json()["error"] == "already_answered"
                        assert "回答済み" in r.json()["detail"]
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=submit) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert Counter(codes) == {201: 1, 409: 19}
    storage.projector.catch_up()
    survey = storage.catalogue.survey(str(world.survey))
    assert survey is not None and survey.response_count == 1
