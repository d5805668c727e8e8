"""Hostile input and authentication at the web boundary, on both engines.

Imports of the modules under test sit inside the tests that need them, so that each test fails
on its own when its protection is missing.
"""

import logging
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.text import CONTROL_MESSAGE
from projections.storage import Storage
from tests.conftest import PASSWORD, Client, World
from tests.support.browser import serve_in_thread
from web.app import create_app
from web.settings import Settings

NEW_PASSWORD = "long-enough-password"


def signup_form(email: str = "hanako@example.jp", name: str = "花子") -> dict[str, str]:
    return {"email": email, "display_name": name, "password": NEW_PASSWORD, "agree": "on"}


def pathological_email(length: int) -> str:
    """Many dots and a trailing "@": every split of the domain is tried by a backtracking pattern."""
    return "a@" + "." * (length - 3) + "@"


def client_for(settings: Settings, storage: Storage, base_url: str = "http://testserver.local") -> Client:
    return Client(app=create_app(settings, storage), base_url=base_url)


def serve_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """The uvicorn options `kyoso serve` uses that decide whose address a request comes from."""
    import uvicorn
    from click.testing import CliRunner

    from web.cli import cli

    seen: dict[str, Any] = {}
    monkeypatch.setenv("KYOSO_DATA_DIR", str(tmp_path / "serve"))  # `serve` sets it; restored afterwards
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    result = CliRunner().invoke(cli, ["serve", "--data-dir", str(tmp_path / "serve")])
    assert result.exit_code == 0, result.output
    return {k: v for k, v in seen.items() if k in ("proxy_headers", "forwarded_allow_ips")}


def login_codes(base_url: str, settings: Settings, forwarded: list[str], source: str = "127.0.0.1") -> list[int]:
    """Failed sign-ins through a real server from `source`, each claiming to be forwarded for a client."""
    with httpx.Client(base_url=base_url, transport=httpx.HTTPTransport(local_address=source)) as browser:
        browser.get("/login")
        token = browser.cookies[settings.csrf_cookie]
        return [
            browser.post(
                "/login",
                data={"email": "x@example.jp", "password": "x"},
                headers={"x-csrftoken": token, "x-forwarded-for": value},
            ).status_code
            for value in forwarded
        ]


def test_huge_email_is_refused_at_once(client: Client) -> None:
    # A backtracking pattern takes about 4 s on 20,000 characters, and 100 times that on 200,000:
    # the smaller size is checked first so that such a pattern fails this test quickly.
    for length, limit in ((20_000, 1.0), (200_000, 2.0)):
        started = time.perf_counter()
        refused = client.submit("/signup", signup_form(email=pathological_email(length)))
        elapsed = time.perf_counter() - started
        assert refused.status_code == 422 and "メールアドレスの形式" in refused.text
        assert elapsed < limit, (length, elapsed)


def test_healthz_answers_while_a_huge_signup_runs(settings: Settings, storage: Storage) -> None:
    app = create_app(settings, storage)
    with (
        serve_in_thread(app, proxy_headers=False) as base_url,
        httpx.Client(base_url=base_url, timeout=60) as browser,
        httpx.Client(base_url=base_url, timeout=60) as probe,
    ):
        browser.get("/login")
        token = browser.cookies[settings.csrf_cookie]
        # The smaller size first: with a backtracking pattern it holds the whole process ~4 s, not hours.
        for length in (20_000, 200_000):
            status: list[int] = []

            def sign_up(length: int = length, status: list[int] = status) -> None:
                form = signup_form(email=pathological_email(length))
                status.append(browser.post("/signup", data=form, headers={"x-csrftoken": token}).status_code)

            worker = threading.Thread(target=sign_up)
            worker.start()
            latencies = []
            while worker.is_alive() or not latencies:
                started = time.perf_counter()
                assert probe.get("/healthz").status_code == 200
                latencies.append(time.perf_counter() - started)
            worker.join()
            assert status == [422]
            assert max(latencies) < 1.0, (length, max(latencies))


def test_control_characters_in_a_form_field_are_refused_and_nothing_stored(client: Client, storage: Storage) -> None:
    before = storage.app.recorder.max_notification_id()
    refused = client.submit("/signup", signup_form(name="花\x00子"))
    assert refused.status_code == 422 and CONTROL_MESSAGE in refused.text
    assert storage.identities.find_by_email("hanako@example.jp") is None
    assert storage.app.recorder.max_notification_id() == before
    # Carriage returns are what browsers send for a textarea's line breaks: not refused here.
    assert client.submit("/signup", signup_form(name="花子")).status_code == 303


def test_control_characters_in_a_json_answer_are_refused_and_nothing_stored(
    client: Client, world: World, storage: Storage
) -> None:
    client.login("citizen@example.jp")
    before = storage.app.recorder.max_notification_id()
    url = f"/api/v1/surveys/{world.survey}/responses"
    refused = client.api_post(url, {"answers": world.valid_answers(**{world.q_text: "公園\x07がほしい"})})
    assert refused.status_code == 422
    assert refused.json() == {
        "status_code": 422,
        "error": "invalid_characters",
        "detail": CONTROL_MESSAGE,
        "field_errors": {f"answers.{world.q_text}": CONTROL_MESSAGE},
    }
    assert storage.app.recorder.max_notification_id() == before
    accepted = client.api_post(url, {"answers": world.valid_answers(**{world.q_text: "公園が\r\nほしい\tです"})})
    assert accepted.status_code == 201


def test_control_characters_in_a_query_string_are_refused(client: Client, world: World) -> None:
    page = client.get("/", params={"department": "子育て\x00支援課"})
    assert page.status_code == 422 and CONTROL_MESSAGE in page.text
    api = client.get("/api/v1/surveys", params={"department": "\x1b[31m"})
    assert api.status_code == 422
    assert api.json()["error"] == "invalid_characters" and api.json()["field_errors"] == {"department": CONTROL_MESSAGE}
    assert client.get("/", params={"department": "子育て支援課"}).status_code == 200


def test_control_characters_in_a_staff_survey_title_are_refused_and_nothing_stored(
    client: Client, world: World, storage: Storage
) -> None:
    client.login("staff@example.jp")
    before = storage.app.recorder.max_notification_id()
    refused = client.submit("/staff/surveys", {"title": "予算\x00アンケート", "audience": "citizens"})
    assert refused.status_code == 422 and CONTROL_MESSAGE in refused.text
    assert storage.app.recorder.max_notification_id() == before
    # An htmx form gets the error as the whole page, not swapped into the form.
    htmx = client.submit("/staff/surveys", {"title": "\x0c", "audience": "citizens"}, headers={"hx-request": "true"})
    assert htmx.status_code == 422 and htmx.headers["hx-retarget"] == "body"
    assert storage.app.recorder.max_notification_id() == before


def test_malformed_requests_get_a_4xx_not_a_500(client: Client, world: World) -> None:
    client.login("citizen@example.jp")
    url = f"/api/v1/surveys/{world.survey}/responses"
    headers = {"x-csrftoken": client.csrf(), "content-type": "application/json"}
    deep = b'{"answers": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    assert client.post(url, content=deep, headers=headers).status_code == 400
    bad_utf8 = b'{"answers": {"' + world.q_text.encode() + b'": "\xff\xfe"}}'
    assert client.post(url, content=bad_utf8, headers=headers).status_code == 400
    huge_number = client.api_post(url, {"answers": world.valid_answers(**{world.q_number: 2**64})})
    assert huge_number.status_code == 422 and huge_number.json()["error"] == "number_out_of_range"
    assert client.get("/api/v1/surveys", params={"offset": 2**63}).status_code == 400
    assert client.get("/api/v1/surveys", params={"limit": -1}).status_code == 400
    form = {"x-csrftoken": client.csrf(), "content-type": "application/x-www-form-urlencoded"}
    assert client.post(f"/surveys/{world.survey}/answer", content=b"q5=%ff%fe", headers=form).status_code == 400
    # A multipart form would be parsed by the CSRF check, and that parse handed to the route unchecked.
    multipart = client.post(
        f"/surveys/{world.survey}/answer",
        data={"_csrf_token": client.csrf(), world.q_text: "\x00"},
        files={"attachment": ("a.txt", b"x")},
    )
    assert multipart.status_code == 415
    assert client.get("/api/v1/surveys", params={"offset": 1}).status_code == 200


def test_spoofed_x_forwarded_for_does_not_escape_the_rate_limit(
    settings: Settings, storage: Storage, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings.auth_rate_limit_per_minute = 3
    # Served as `kyoso serve` serves it: uvicorn must not rewrite the client address itself.
    with serve_in_thread(create_app(settings, storage), **serve_options(monkeypatch, tmp_path)) as base_url:
        codes = login_codes(base_url, settings, [f"198.51.100.{i}" for i in range(5)])
    assert codes == [401, 401, 401, 429, 429]


def test_x_forwarded_for_is_honoured_from_a_trusted_proxy_only(
    settings: Settings, storage: Storage, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from web.throttle import client_address, parse_networks

    proxies = parse_networks("10.0.0.0/8, 2001:db8::/32")
    chain = [(b"x-forwarded-for", b"192.0.2.66, 203.0.113.7"), (b"x-forwarded-for", b"10.1.2.3")]
    assert client_address({"client": ("10.0.0.1", 1), "headers": chain}, proxies) == "203.0.113.7"  # type: ignore[typeddict-item]
    assert client_address({"client": ("2001:db8::1", 1), "headers": chain}, proxies) == "203.0.113.7"  # type: ignore[typeddict-item]
    assert client_address({"client": ("192.0.2.1", 1), "headers": chain}, proxies) == "192.0.2.1"  # type: ignore[typeddict-item]
    assert client_address({"client": ("10.0.0.1", 1), "headers": []}, proxies) == "10.0.0.1"  # type: ignore[typeddict-item]

    settings.auth_rate_limit_per_minute = 2
    settings.trusted_proxies = "127.0.0.2"  # the proxy: the test connects from that loopback address
    with serve_in_thread(create_app(settings, storage), **serve_options(monkeypatch, tmp_path)) as base_url:
        codes = login_codes(base_url, settings, ["203.0.113.1"] * 3, source="127.0.0.2")
        # What the client wrote left of the proxy's entry is not believed; another client is counted apart.
        codes += login_codes(base_url, settings, ["198.51.100.9, 203.0.113.1", "203.0.113.2"], source="127.0.0.2")
        # Not from the proxy: the header is ignored, and the peer's own address is counted.
        codes += login_codes(base_url, settings, ["203.0.113.3"] * 3, source="127.0.0.3")
    assert codes == [401, 401, 429, 429, 401, 401, 401, 429]


def test_failed_logins_lock_the_account_without_revealing_whether_it_exists(client: Client, world: World) -> None:
    def login(email: str, password: str) -> Any:
        return client.submit("/login", {"email": email, "password": password})

    for email in ("citizen@example.jp", "nobody@example.jp"):
        assert [login(email, "wrong-password").status_code for _ in range(10)] == [401] * 10
    locked = login("Citizen@Example.jp", PASSWORD)
    assert locked.status_code == 429 and "一時的に停止" in locked.text
    unknown = login("nobody@example.jp", PASSWORD)
    assert unknown.status_code == 429
    assert locked.text.replace("Citizen@Example.jp", "E") == unknown.text.replace("nobody@example.jp", "E")
    assert login("staff@example.jp", PASSWORD).status_code == 303  # other accounts are untouched


def test_counts_are_shared_by_every_web_worker(settings: Settings, storage: Storage, world: World) -> None:
    settings.auth_rate_limit_per_minute = 3
    with client_for(settings, storage) as first, client_for(settings, storage) as second:
        codes = [
            (first if i % 2 else second).submit("/login", {"email": "x@example.jp", "password": "x"}).status_code
            for i in range(5)
        ]
    assert codes == [401, 401, 401, 429, 429]

    settings.auth_rate_limit_per_minute = 1000
    with client_for(settings, storage) as first, client_for(settings, storage) as second:
        for i in range(10):
            worker = first if i % 2 else second
            assert worker.submit("/login", {"email": "citizen@example.jp", "password": "nope"}).status_code == 401
        assert first.submit("/login", {"email": "citizen@example.jp", "password": PASSWORD}).status_code == 429


def test_signup_with_a_taken_email_does_not_hash_a_password(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import web.routes.auth_pages as auth_pages

    calls: list[str] = []
    real = auth_pages.hash_password
    monkeypatch.setattr(auth_pages, "hash_password", lambda password: calls.append(password) or real(password))
    taken = client.submit("/signup", signup_form(email="Citizen@example.jp"))
    assert taken.status_code == 422 and "すでに登録" in taken.text
    assert calls == []
    assert client.submit("/signup", signup_form()).status_code == 303
    assert calls == [NEW_PASSWORD]  # the count is taken where sign-up really hashes


def test_cookies_are_secure_and_host_prefixed_behind_tls(settings: Settings, storage: Storage, world: World) -> None:
    settings.secure_cookies = True
    with client_for(settings, storage, base_url="https://testserver.local") as browser:
        form = browser.get("/login")
        csrf = form.headers["set-cookie"]
        assert csrf.startswith("__Host-kyoso_csrf=") and "Secure" in csrf and "Path=/" in csrf
        assert "domain=" not in csrf.lower()
        session = browser.login("citizen@example.jp").headers["set-cookie"]
        assert session.startswith("__Host-kyoso_session=") and "Secure" in session and "HttpOnly" in session
        assert "domain=" not in session.lower()
        assert browser.get("/me").status_code == 200
        assert "strict-transport-security" in browser.get("/").headers


def test_signed_in_pages_and_csv_are_not_stored_by_caches(client: Client, world: World) -> None:
    assert "no-store" not in client.get("/").headers.get("cache-control", "")
    assert "no-store" not in client.get("/results").headers.get("cache-control", "")
    client.login("staff@example.jp")
    assert client.get("/").headers["cache-control"] == "no-store"
    csv = client.get(f"/staff/surveys/{world.survey}/results.csv")
    assert csv.status_code == 200 and csv.headers["cache-control"] == "no-store"
    stylesheet = client.get("/static/css/kyoso.css")
    assert stylesheet.status_code == 200 and "no-store" not in stylesheet.headers.get("cache-control", "")


def test_safe_next_keeps_only_same_site_paths() -> None:
    from web.routes.common import safe_next

    kept = ["/surveys/1?segment=ward", "/staff", "/me?saved=1"]
    refused = [
        "",
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example/",
        "/\t/evil.example/",
        "/\n/evil.example/",
        "/\r/evil.example/",
        "/\x00",
        "/\x85",
    ]
    assert [safe_next(url) for url in kept] == kept
    assert [safe_next(url) for url in refused] == ["/"] * len(refused)


def test_security_events_are_logged_without_personal_data(
    client: Client, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kyoso.security")
    assert client.submit("/signup", signup_form(email="hanako@example.jp", name="花子")).status_code == 303
    client.submit("/logout")
    assert client.submit("/login", {"email": "hanako@example.jp", "password": "wrong-password"}).status_code == 401
    client.login("hanako@example.jp", NEW_PASSWORD)
    lines = [r.getMessage() for r in caplog.records if r.name == "kyoso.security"]
    events = [line.split('"event":"')[1].split('"')[0] for line in lines]
    assert events == ["sign_up", "sign_out", "sign_in_failed", "sign_in"]
    participant = client.app.state.storage.identities.find_by_email("hanako@example.jp").participant_id  # type: ignore[attr-defined]
    for line in lines:
        assert str(participant) in line and '"client":"testclient"' in line
        assert "hanako" not in line and "花子" not in line and "example.jp" not in line

    from web.security_log import security_event

    with pytest.raises(TypeError):
        security_event("role_changed", participant, email="hanako@example.jp")
