"""The citizen's own pages in English in a real Chromium: axe (WCAG 2.1 A/AA) finds nothing on home, a
survey (previewed by a visitor, answered by a citizen), thanks, /me (citizen and business), sign-up,
login and the password reset pages, on a phone and on a desktop."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from domain.values import Role
from projections.storage import Storage
from tests.conftest import PASSWORD, PASSWORD_HASH, World
from tests.support.browser import chromium, serve_in_thread
from tests.test_accessibility import violations
from web.app import create_app
from web.settings import Settings

pytestmark = pytest.mark.browser


@pytest.fixture
def backend() -> str:
    return "sqlite"  # what the browser is given does not depend on the storage engine


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.mark.parametrize("width", [390, 1280])
def test_english_citizen_pages_meet_wcag_21_aa(
    browser: Browser, settings: Settings, storage: Storage, world: World, width: int
) -> None:
    storage.app.sign_up(email="biz@example.jp", display_name="担当", password_hash=PASSWORD_HASH, role=Role.BUSINESS)
    for person in world.citizens(6):
        storage.app.submit_response(world.survey, person, world.valid_answers())
    storage.projector.catch_up()
    survey = f"/surveys/{world.survey}"
    found: dict[str, list[str]] = {}
    with serve_in_thread(create_app(settings, storage)) as base:
        # axe is injected as a script, which the app's CSP rightly forbids: bypass it for the audit only.
        context = browser.new_context(
            viewport={"width": width, "height": 900},
            bypass_csp=True,
            locale="en-US",
            extra_http_headers={"accept-language": "en"},
        )
        page = context.new_page()

        def check(url: str, heading: str) -> None:
            page.goto(base + url)
            assert page.locator("html").get_attribute("lang") == "en", url
            assert page.get_by_role("heading", level=1).first.inner_text() == heading, url
            if problems := violations(page):
                found[url] = problems

        check("/", "City surveys")
        check(survey, "子育てアンケート")  # content: no English title was given
        assert page.get_by_role("link", name="Sign up to answer").first.is_visible()
        check("/login", "Sign in")
        check("/signup", "Sign up")
        check("/signup/business", "Business sign-up")
        check("/password/forgot", "Reset your password")
        check("/password/reset?token=not-a-token", "Set a new password")

        sign_in(page, base, "citizen@example.jp")
        check(survey, "子育てアンケート")
        page.get_by_role("button", name="Send my answers").click()  # every required field missing
        page.wait_for_selector("#form-message")
        if problems := violations(page):
            found["answer form with errors"] = problems
        storage.app.submit_response(world.survey, world.citizen, world.valid_answers())
        storage.projector.catch_up()
        check(f"{survey}/thanks", "Thank you for your answers")
        check("/me", "Account details")
        for summary in ("Change e-mail address", "Change password"):  # the folded forms are audited open too
            page.locator("summary", has_text=summary).click()
        if problems := violations(page):
            found["/me with its forms open"] = problems

        context.clear_cookies()
        sign_in(page, base, "biz@example.jp")
        check("/me", "Account details")
        context.close()
    assert not found, found
