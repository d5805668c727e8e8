"""The English UI in a real Chromium: axe (WCAG 2.1 A/AA) finds nothing on the participation, ideas,
co-creation, points, notices, preferences, KPI and engagement pages, on a phone and on a desktop."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from projections.storage import Storage
from tests.support.browser import chromium, serve_in_thread
from tests.test_accessibility import violations
from web.app import create_app
from web.demo import DEMO_PASSWORD, load_demo
from web.settings import Settings

pytestmark = pytest.mark.browser

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
PAGES: dict[str, tuple[str, ...]] = {
    "anonymous": (
        "/participate",
        "/results",
        "/privacy",
        "/terms",
        "/ideas",
        "/ideas/{idea}",
        "/challenges",
        "/challenges/{challenge}",
        "/cocreation",
        "/points/menus",
        "/points/rewards",
        "/kpis",
    ),
    "citizen": ("/ideas/new", "/me/data", "/me/points", "/me/notices", "/me/preferences", "/points/claim"),
    "business": ("/business", "/proposals/{proposal}", "/proposals/new"),
    "staff": (
        "/staff/ideas",
        "/staff/proposals",
        "/staff/challenges",
        "/staff/points",
        "/staff/points/menus",
        "/staff/notices",
        "/staff/notices/new",
        "/staff/kpis/measurements",
        "/staff/engagement",
    ),
}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo city served once for the module (SQLite: what the browser is given does not depend on it)."""
    data = tmp_path_factory.mktemp("i18n-browser") / "data"
    storage = Storage.open(data, None)
    load_demo(storage, responses_per_survey=5)
    storage.catch_up()
    settings = Settings(data_dir=data, secret="test-secret", project_in_process=False, auth_rate_limit_per_minute=1000)
    with serve_in_thread(create_app(settings, storage)) as base:
        yield base
    storage.close()


def sign_in(page: Page, base: str, who: str) -> None:
    # By field names: the sign-in page's own wording is someone else's to translate.
    page.goto(base + "/login")
    page.fill("input[name=email]", f"{who}@demo.kyoso.jp")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def ids(page: Page, base: str) -> dict[str, Any]:
    def first(url: str, pattern: str) -> str:
        page.goto(base + url)
        found = re.search(pattern, page.content())
        assert found, (url, pattern)
        return found.group(1)

    return {
        "idea": first("/ideas", rf'href="/ideas/({UUID})"'),
        "challenge": first("/challenges", rf'href="/challenges/({UUID})"'),
    }


@pytest.mark.parametrize("width", [390, 1280])
def test_english_pages_meet_wcag_21_aa(browser: Browser, base_url: str, width: int) -> None:
    found: dict[str, list[str]] = {}
    for who, urls in PAGES.items():
        # axe is injected as a script, which the app's CSP rightly forbids: bypass it for the audit only.
        context = browser.new_context(
            viewport={"width": width, "height": 900},
            bypass_csp=True,
            locale="en-US",
            extra_http_headers={"accept-language": "en"},
        )
        page = context.new_page()
        if who != "anonymous":
            sign_in(page, base_url, who)
        named = ids(page, base_url)
        if who == "business":
            page.goto(base_url + "/business")
            proposal = re.search(rf'href="/proposals/({UUID})"', page.content())
            assert proposal
            named["proposal"] = proposal.group(1)
        for url in urls:
            page.goto(base_url + url.format(**named))
            assert page.locator("html").get_attribute("lang") == "en", url
            if problems := violations(page):
                found[f"{who} {url}"] = problems
        context.close()
    assert not found, found
