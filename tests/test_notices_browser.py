"""Targeted notices in a real Chromium: staff pick a segment, see how many it reaches, send, and see
the reach change once a citizen opens the notice in their inbox; axe (WCAG 2.1 AA) finds nothing on
the pages on the way."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from domain.values import AgeBand, Ward
from projections.storage import Storage
from tests.conftest import PASSWORD, World
from tests.support.browser import chromium, serve_in_thread
from tests.test_accessibility import violations
from web.app import create_app
from web.settings import Settings

pytestmark = pytest.mark.browser


@pytest.fixture
def backend() -> str:
    return "sqlite"  # What the browser is given does not depend on the storage engine.


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_staff_target_preview_send_and_see_reach_after_a_citizen_opens(
    browser: Browser, settings: Settings, storage: Storage, world: World
) -> None:
    world.citizens(6, ward=Ward.SONODA, age_band=AgeBand.AGE_30S, has_children=True)
    world.citizens(3, ward=Ward.CHUO)
    storage.projector.catch_up()
    found: dict[str, list[str]] = {}
    with serve_in_thread(create_app(settings, storage)) as base:
        # axe is injected as a script, which the app's CSP rightly forbids: bypass it for the audit only.
        staff = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True).new_page()
        sign_in(staff, base, "staff@example.jp")
        staff.goto(base + "/staff/notices/new")
        count = staff.get_by_test_id("segment-count")
        expect(count).to_have_text("この条件で届く人数: 10人")  # citizens, the picker's default
        staff.get_by_label("園田").check()
        expect(count).to_have_text("この条件で届く人数: 7人")
        staff.get_by_label("18歳未満の子ども").select_option("no")
        expect(count).to_have_text("この条件で届く人数: 5人未満")  # never the exact small number
        staff.get_by_label("18歳未満の子ども").select_option("")
        expect(count).to_have_text("この条件で届く人数: 7人")
        if problems := violations(staff):
            found["compose"] = problems
        staff.get_by_label("件名（80文字以内）").fill("子育てアンケートへのご協力のお願い")
        staff.get_by_label("本文（4000文字以内）").fill("園田地区の子育て世帯の皆さまへ。\nご意見をお聞かせください。")
        staff.get_by_label("リンク先（任意）").select_option(label="子育てアンケート")
        staff.get_by_role("button", name="この条件で送信する").click()
        # The job page polls its progress and moves on to the notice's reach when done.
        staff.wait_for_url(lambda url: "/staff/notices/" in url and "sent=1" in url, timeout=30_000)
        expect(staff.get_by_test_id("reach")).to_have_text("0.0%")
        expect(staff.get_by_test_id("notice-reach")).to_contain_text("7")
        if problems := violations(staff):
            found["notice reach"] = problems

        citizen = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True).new_page()
        sign_in(citizen, base, "citizen@example.jp")
        citizen.goto(base + "/me/notices")
        expect(citizen.get_by_test_id("unread")).to_have_text("1")
        if problems := violations(citizen):
            found["inbox"] = problems
        citizen.get_by_role("link", name="子育てアンケートへのご協力のお願い").click()
        expect(citizen.get_by_role("heading", level=1)).to_have_text("子育てアンケートへのご協力のお願い")
        expect(citizen.get_by_role("link", name="アンケートに回答する")).to_be_visible()
        if problems := violations(citizen):
            found["notice"] = problems
        citizen.goto(base + "/me/notices")
        expect(citizen.get_by_text("未読")).to_have_count(0)

        staff.reload()
        expect(staff.get_by_test_id("reach")).to_have_text("14.3%")
        staff.goto(base + "/staff/notices")
        expect(staff.get_by_test_id("reach-table")).to_contain_text("14.3%")
        if problems := violations(staff):
            found["notices list"] = problems
    assert not found, found
