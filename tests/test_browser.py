"""A real Chromium: a citizen signs up and answers (one mistake first); staff see it in the chart."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from projections.storage import Storage
from tests.conftest import PASSWORD, World
from tests.support.browser import chromium, serve_in_thread
from web.app import create_app
from web.settings import Settings

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def test_citizen_answers_and_staff_see_it(browser: Browser, settings: Settings, storage: Storage, world: World) -> None:
    for person in world.citizens(6):
        storage.app.submit_response(world.survey, person, world.valid_answers(**{world.q_single: 0}))
    settings.project_in_process = True
    app = create_app(settings, storage)
    with serve_in_thread(app) as base_url:
        citizen = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        citizen.goto(f"{base_url}/")
        citizen.get_by_role("link", name="新規登録").first.click()
        citizen.get_by_label("メールアドレス").fill("hanako@example.jp")
        citizen.get_by_label("ニックネーム").fill("はなこ")
        citizen.get_by_label("パスワード（10文字以上）").fill(PASSWORD)
        citizen.get_by_label("お住まいの地区").select_option("sonoda")
        citizen.get_by_label("18歳未満の子どもと同居していますか").select_option("yes")
        citizen.get_by_label("利用規約とプライバシーポリシーに同意します").check()
        citizen.get_by_role("button", name="登録する").click()
        expect(citizen.get_by_role("link", name="はなこさん")).to_be_visible()

        citizen.get_by_role("link", name="子育てアンケート").click()
        citizen.get_by_label("はい").check()
        citizen.get_by_label("保育").check()
        citizen.get_by_label("医療").check()
        citizen.get_by_label("公園").check()  # three, where at most two are allowed
        citizen.locator("input[name=q3][value='4']").check()
        citizen.locator("input[name=q4]").fill("2")
        citizen.get_by_role("button", name="回答を送信する").click()
        error = citizen.locator("#error-q2")
        expect(error).to_contain_text("2個まで")
        expect(citizen.locator("#form-message")).to_be_focused()
        assert citizen.get_by_label("はい").is_checked()  # what was entered is kept
        citizen.get_by_label("公園").uncheck()
        citizen.get_by_role("button", name="回答を送信する").click()
        expect(citizen.get_by_role("heading", name="ご回答ありがとうございました")).to_be_visible()
        assert citizen.url.endswith(f"/surveys/{world.survey}/thanks")

        staff = browser.new_context().new_page()
        staff.goto(f"{base_url}/login")
        staff.get_by_label("メールアドレス").fill("staff@example.jp")
        staff.get_by_label("パスワード").fill(PASSWORD)
        staff.get_by_role("button", name="ログイン").click()
        expect(staff.get_by_role("heading", name="職員メニュー")).to_be_visible()
        staff.goto(f"{base_url}/staff/surveys/{world.survey}/results")
        expect(staff.get_by_test_id("respondents")).to_have_text("7")
        chart = staff.locator("figure[data-question=q1] svg")
        expect(chart).to_have_attribute("aria-label", re.compile("はい: 7"))
        expect(staff.locator("figure[data-question=q1] svg text", has_text="7")).to_be_visible()
        staff.get_by_role("link", name="年代", exact=True).click()  # htmx swaps the breakdown
        expect(staff.get_by_text("年代別の内訳").first).to_be_visible()
