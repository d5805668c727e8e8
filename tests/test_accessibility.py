"""WCAG 2.1 A/AA checks with axe-core in a real Chromium, on a phone-sized and a desktop viewport."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from domain.values import Role
from projections.storage import Storage
from tests.conftest import PASSWORD, PASSWORD_HASH, World
from tests.support.browser import chromium, serve_in_thread
from web.app import create_app
from web.settings import Settings

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "support" / "vendor" / "axe.min.js").read_text()
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def backend() -> str:
    return "sqlite"  # What the browser is given does not depend on the storage engine.


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def violations(page: Page) -> list[str]:
    page.add_script_tag(content=AXE)
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}× e.g. {v['nodes'][0]['html'][:120]})" for v in result["violations"]
    ]


@pytest.mark.parametrize("width", [390, 1280])
def test_pages_meet_wcag_21_aa(
    browser: Browser, settings: Settings, storage: Storage, world: World, width: int
) -> None:
    for person in world.citizens(6):
        storage.app.submit_response(world.survey, person, world.valid_answers())
    storage.projector.catch_up()
    app = create_app(settings, storage)
    with serve_in_thread(app) as base:
        # axe is injected as a script, which the app's CSP rightly forbids: bypass it for the audit only.
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        page = context.new_page()
        found: dict[str, list[str]] = {}

        def check(url: str) -> None:
            page.goto(base + url)
            if problems := violations(page):
                found[url] = problems

        for url in ("/", "/login", "/signup", "/results", "/terms", "/privacy", "/goodbye", "/participate"):
            check(url)
        page.goto(base + "/login")
        page.get_by_label("メールアドレス").fill("citizen@example.jp")
        page.get_by_label("パスワード").fill(PASSWORD)
        page.get_by_role("button", name="ログイン").click()
        check(f"/surveys/{world.survey}")
        page.get_by_role("button", name="回答を送信する").click()  # every required field missing
        page.wait_for_selector("#form-message")
        if problems := violations(page):
            found["answer form with errors"] = problems
        check("/me")
        check("/me/data")
        context.clear_cookies()
        page.goto(base + "/login")
        page.get_by_label("メールアドレス").fill("staff@example.jp")
        page.get_by_label("パスワード").fill(PASSWORD)
        page.get_by_role("button", name="ログイン").click()
        for url in (
            "/staff",
            f"/staff/surveys/{world.survey}",
            f"/staff/surveys/{world.survey}/results",
            "/staff/surveys/new",
            f"/staff/surveys/{world.survey}/themes",
        ):
            check(url)
        context.clear_cookies()
        storage.app.sign_up(
            email="auditor@example.jp", display_name="監査", password_hash=PASSWORD_HASH, role=Role.AUDITOR
        )
        page.goto(base + "/login")
        page.get_by_label("メールアドレス").fill("auditor@example.jp")
        page.get_by_label("パスワード").fill(PASSWORD)
        page.get_by_role("button", name="ログイン").click()
        for url in ("/audit", f"/audit/surveys/{world.survey}?at=2030-01-01T00:00"):
            check(url)
        context.close()
    assert not found, found
