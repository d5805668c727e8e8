"""Citizens' ideas in a real Chromium: one citizen submits, another supports and comments; and axe
(WCAG 2.1 AA) finds nothing on /ideas and an idea's page, on a phone and on a desktop."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

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


def test_a_citizen_submits_and_another_supports_and_comments(
    browser: Browser, settings: Settings, storage: Storage, world: World
) -> None:
    storage.app.sign_up(email="taro@example.jp", display_name="太郎", password_hash=PASSWORD_HASH, role=Role.CITIZEN)
    with serve_in_thread(create_app(settings, storage)) as base:
        author = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        sign_in(author, base, "citizen@example.jp")
        author.goto(base + "/ideas")
        author.get_by_role("link", name="提案する").click()
        author.get_by_label("タイトル（80文字以内）").fill("公園に木陰とベンチを")
        author.get_by_label("提案の内容（4000文字以内）").fill("夏の公園は暑く、休める場所がありません。")
        author.get_by_label("担当部署・分野").select_option("公園・みどり")
        author.get_by_label("11. 住み続けられるまちづくりを").check()
        author.get_by_role("button", name="提案を投稿する").click()
        expect(author.get_by_role("heading", level=1)).to_have_text("公園に木陰とベンチを")
        idea_url = author.url

        fan = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        sign_in(fan, base, "taro@example.jp")
        fan.goto(base + "/ideas")
        fan.get_by_label("キーワード").fill("公園")
        fan.get_by_label("キーワード").press("Enter")
        fan.get_by_role("link", name="公園に木陰とベンチを").click()
        assert fan.url == idea_url
        fan.get_by_role("button", name="賛同する").click()  # htmx swaps the support box
        expect(fan.get_by_role("button", name="賛同済み（取り消す）")).to_be_visible()
        expect(fan.locator("#support .big-number")).to_have_text("1")
        fan.get_by_label("コメント（2000文字以内）").fill("私も賛成です。")
        fan.get_by_role("button", name="コメントを投稿する").click()
        expect(fan.get_by_text("私も賛成です。")).to_be_visible()

        author.reload()
        expect(author.locator("#support .big-number")).to_have_text("1")
        author.get_by_text("返信する").click()
        author.get_by_label("返信（2000文字以内）").fill("ありがとうございます！")
        author.get_by_role("button", name="返信を投稿する").click()
        expect(author.locator(".comment.reply")).to_contain_text("ありがとうございます！")


@pytest.mark.parametrize("width", [390, 1280])
def test_idea_pages_meet_wcag_21_aa(
    browser: Browser, settings: Settings, storage: Storage, world: World, width: int
) -> None:
    app = storage.app
    idea = app.submit_idea(
        world.citizen,
        title="公園にベンチを",
        body="木陰もほしい",
        department="公園・みどり",
        sdg_goals=[11],
        ward="chuo",
    )
    comment = app.post_comment(idea, world.staff, "ご提案ありがとうございます。")
    app.post_comment(idea, world.citizen, "よろしくお願いします。", parent_id=comment)
    hidden = app.post_comment(idea, world.citizen, "不適切な書き込み")
    app.hide_comment(hidden, moderator_id=world.staff, reason="個人情報を含むため")
    storage.projector.catch_up()
    with serve_in_thread(create_app(settings, storage)) as base:
        # axe is injected as a script, which the app's CSP rightly forbids: bypass it for the audit only.
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        page = context.new_page()
        found: dict[str, list[str]] = {}

        def check(url: str) -> None:
            page.goto(base + url)
            if problems := violations(page):
                found[url] = problems

        check("/ideas")
        check(f"/ideas/{idea}")
        sign_in(page, base, "citizen@example.jp")
        check(f"/ideas/{idea}")
        check("/ideas/new")
        page.get_by_role("button", name="提案を投稿する").click()  # every required field missing
        page.wait_for_selector("#form-message")
        if problems := violations(page):
            found["idea form with errors"] = problems
        context.clear_cookies()
        sign_in(page, base, "staff@example.jp")
        check(f"/ideas/{idea}")
        check("/staff/ideas")
        context.close()
    assert not found, found
