"""The staff and audit pages in English in a real Chromium, at a phone's width and a desktop's:
axe (WCAG 2.1 A/AA) passes in English as in Japanese, and the English of a survey is edited there."""

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from domain.questions import QuestionTranslation
from domain.values import Role
from projections.storage import Storage
from tests.conftest import PASSWORD, PASSWORD_HASH, World
from tests.support.browser import chromium, serve_in_thread
from tests.test_accessibility import violations
from web.app import create_app
from web.settings import Settings

pytestmark = pytest.mark.browser

WIDTHS = [pytest.param(390, id="phone"), pytest.param(1280, id="desktop")]


@pytest.fixture
def backend() -> str:
    return "sqlite"  # What the browser is given does not depend on the engine.


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def _english_page(browser: Browser, width: int) -> Page:
    # The browser asks for English, as a foreign resident's or a staff member's set to English would.
    context = browser.new_context(
        viewport={"width": width, "height": 900},
        bypass_csp=True,  # axe is injected as a script, which the app's CSP rightly forbids
        locale="en-US",
        extra_http_headers={"accept-language": "en"},
    )
    return context.new_page()


def _login(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def _app(settings: Settings, storage: Storage) -> Any:
    settings.project_in_process = True
    return create_app(settings, storage)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_staff_and_audit_pages_in_english_meet_wcag_21_aa(
    browser: Browser, settings: Settings, storage: Storage, world: World, width: int
) -> None:
    app = storage.app
    for person in world.citizens(6):
        app.submit_response(world.survey, person, world.valid_answers())
    app.provide_survey_translation(
        world.survey,
        staff_id=world.staff,
        language="en",
        title="Childcare survey",
        description="",
        questions={world.q_single: QuestionTranslation(text="Do you want to stay?", options=("Yes", "No", ""))},
    )
    draft = app.draft_survey(staff_id=world.staff, title="下書き", closes_on=date(2099, 6, 30))
    app.add_question(
        draft, staff_id=world.staff, kind="multiple", text="困りごと", options=["a", "特にない"], exclusive=[1]
    )
    app.add_question(draft, staff_id=world.staff, kind="scale", text="満足度")
    app.sign_up(email="audit@example.jp", display_name="監査", password_hash=PASSWORD_HASH, role=Role.AUDITOR)
    storage.projector.catch_up()
    with serve_in_thread(_app(settings, storage)) as base:
        page = _english_page(browser, width)
        found: dict[str, list[str]] = {}

        def check(url: str) -> None:
            page.goto(base + url)
            assert page.locator("html").get_attribute("lang") == "en", url
            if problems := violations(page):
                found[url] = problems

        _login(page, base, "staff@example.jp")
        for url in (
            "/staff",
            "/staff/surveys/new",
            f"/staff/surveys/{draft}",
            f"/staff/surveys/{draft}/preview",
            f"/staff/surveys/{draft}/confirm/publish",
            f"/staff/surveys/{draft}/questions/q1/delete",
            f"/staff/surveys/{world.survey}",
            f"/staff/surveys/{world.survey}/results",
            f"/staff/surveys/{world.survey}/results?segment=age3",
            f"/surveys/{world.survey}",
        ):
            check(url)
        page.context.clear_cookies()
        _login(page, base, "audit@example.jp")
        position = app.recorder.max_notification_id()
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M")
        for url in ("/audit", f"/audit/surveys/{world.survey}?at={at}", f"/audit/events/{position}/actor"):
            check(url)
        page.get_by_label(re.compile("Reason for the lookup")).fill("check")
        page.get_by_role("button", name="Record and look up").click()
        expect(page.get_by_role("heading", name="Lookup result")).to_be_visible()
        if problems := violations(page):
            found["resolved"] = problems
        assert found == {}


@pytest.mark.parametrize("width", WIDTHS)
def test_staff_write_the_english_and_an_english_reader_sees_it_with_japanese_where_missing(
    browser: Browser, settings: Settings, storage: Storage, world: World, width: int
) -> None:
    with serve_in_thread(_app(settings, storage)) as base:
        staff = _english_page(browser, width)
        _login(staff, base, "staff@example.jp")
        staff.goto(f"{base}/staff/surveys/{world.survey}")
        english = staff.locator("#english")
        expect(english.get_by_role("heading", name="English version (optional)")).to_be_visible()
        english.get_by_label("Title (English)").fill("Childcare survey")
        english.locator(f"input[name='{world.q_single}.text']").fill("Do you want to stay?")
        english.locator(f"textarea[name='{world.q_single}.options']").fill("Yes\n\nNot sure")
        english.get_by_role("button", name="Save English version").click()
        expect(staff).to_have_url(re.compile("#english$"))
        expect(staff.locator("#en-title")).to_have_value("Childcare survey")

        reader = _english_page(browser, width)
        reader.goto(f"{base}/surveys/{world.survey}")
        expect(reader.get_by_role("heading", level=1)).to_have_text("Childcare survey")
        preview = reader.locator(".survey-preview, #answer-area").first
        expect(preview).to_contain_text("Do you want to stay?")
        expect(preview).to_contain_text("いいえ")  # the option left empty reads in Japanese
        expect(preview).to_contain_text("Not sure")
        expect(preview).to_contain_text("必要な支援")  # an untranslated question
