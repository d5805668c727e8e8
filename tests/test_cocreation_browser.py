"""A real Chromium: a business signs up with its 法人番号 and sends a proposal with a file to a
challenge; staff move it to 対話中 and reply; the co-creation pages pass axe at phone and desk widths."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from domain import clock
from domain.values import Role
from projections.storage import Storage
from tests.conftest import PASSWORD, PASSWORD_HASH, World
from tests.support.browser import chromium, serve_in_thread
from tests.test_accessibility import violations
from web.app import create_app
from web.settings import Settings

pytestmark = pytest.mark.browser
PDF_BYTES = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def _challenge(storage: Storage) -> tuple[object, object]:
    env = storage.app.sign_up(
        email="env@example.jp",
        display_name="環境",
        password_hash=PASSWORD_HASH,
        role=Role.STAFF,
        department="環境保全課",
    )
    challenge = storage.app.draft_challenge(
        staff_id=env, title="食品ロス削減", background="家庭ごみの3割が食品です。", shareable_data="ごみ組成調査",
        outcomes="食品ロスの半減", sdg_goals=[12], deadline=clock.city_today() + timedelta(days=30),
    )  # fmt: skip
    storage.app.publish_challenge(challenge, staff_id=env)
    storage.projector.catch_up()
    return env, challenge


def _login(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()


def test_a_business_proposes_and_staff_answer(
    browser: Browser, settings: Settings, storage: Storage, world: World
) -> None:
    _challenge(storage)
    settings.project_in_process = True
    with serve_in_thread(create_app(settings, storage)) as base:
        business = browser.new_page(viewport={"width": 390, "height": 844})
        business.goto(f"{base}/challenges")
        business.get_by_role("link", name="事業者として登録する").click()
        business.get_by_label("組織名（法人名または屋号）").fill("トヨタ自動車株式会社")
        business.get_by_label("法人番号（13桁・法人の場合）").fill("1180301018772")  # a wrong check digit first
        business.get_by_label("担当者名").fill("豊田")
        business.get_by_label("メールアドレス").fill("toyota@example.jp")
        business.get_by_label("パスワード（10文字以上）").fill(PASSWORD)
        business.get_by_label("利用規約とプライバシーポリシーに同意します").check()
        business.get_by_role("button", name="事業者として登録する").click()
        expect(business.locator("#error-corporate_number")).to_contain_text("検査用数字が一致しません")
        business.get_by_label("法人番号（13桁・法人の場合）").fill("１１８０３０１０１８７７１")
        business.get_by_label("パスワード（10文字以上）").fill(PASSWORD)
        business.get_by_role("button", name="事業者として登録する").click()
        expect(business.get_by_role("heading", name="事業者ホーム")).to_be_visible()
        expect(business.get_by_role("heading", name="トヨタ自動車株式会社")).to_be_visible()

        business.locator("a[href^='/proposals/new?challenge=']").first.click()
        business.get_by_label("提案名").fill("てまえどりアプリ")
        business.get_by_label("概要").fill("消費期限の近い商品をアプリで知らせます。")
        business.get_by_label("実施内容・方法").fill("協力店の在庫と連携して通知します。")
        business.get_by_label("期待される効果").fill("食品ロスの2割削減")
        business.get_by_label("市の費用負担（円）").fill("0")
        business.get_by_label("添付ファイル", exact=False).set_input_files(
            {"name": "計画書.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}
        )
        business.get_by_role("button", name="提案を送る").click()
        expect(business.get_by_role("status")).to_contain_text("提案を受け付けました")
        expect(business.get_by_role("link", name="計画書.pdf")).to_be_visible()
        expect(business.locator(".tag", has_text="市の費用負担なし")).to_be_visible()
        proposal_url = business.url.split("?")[0]

        staff = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        _login(staff, base, "env@example.jp")
        staff.goto(f"{base}/staff/proposals")
        staff.get_by_role("link", name="てまえどりアプリ").click()
        staff.get_by_label("次の段階").select_option("in_dialogue")
        staff.get_by_role("button", name="段階を変更する").click()
        expect(staff.get_by_text("現在の段階")).to_be_visible()
        expect(staff.locator(".facts")).to_contain_text("対話中")
        staff.get_by_label("メッセージ").fill("ご提案ありがとうございます。協力店の想定を教えてください。")
        staff.get_by_role("button", name="送信する").click()
        expect(staff.locator(".thread")).to_contain_text("協力店の想定")

        business.goto(proposal_url)
        expect(business.locator(".thread")).to_contain_text("協力店の想定を教えてください")
        expect(business.locator(".facts")).to_contain_text("対話中")


@pytest.mark.parametrize("width", [390, 1280])
def test_cocreation_pages_meet_wcag_21_aa(
    browser: Browser, settings: Settings, storage: Storage, world: World, width: int
) -> None:
    _, challenge = _challenge(storage)
    biz = storage.app.sign_up(
        email="biz@example.jp", display_name="事業者", password_hash=PASSWORD_HASH, role=Role.BUSINESS
    )
    storage.app.register_organisation(
        biz, kind="corporation", name="ソニーグループ株式会社", corporate_number="5010401067252"
    )
    from uuid import uuid4

    proposal = storage.app.submit_proposal(
        biz, challenge_id=challenge, submission_key=uuid4(), cost_yen=0,  # type: ignore[arg-type]
        texts={"title": "提案", "summary": "概要", "plan": "計画", "effect": "効果"},
    )  # fmt: skip
    storage.projector.catch_up()
    with serve_in_thread(create_app(settings, storage)) as base:
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        page = context.new_page()
        found: dict[str, list[str]] = {}

        def check(url: str) -> None:
            page.goto(base + url)
            if problems := violations(page):
                found[url] = problems

        for url in ("/challenges", f"/challenges/{challenge}", "/cocreation", "/signup/business"):
            check(url)
        _login(page, base, "biz@example.jp")
        for url in ("/business", f"/proposals/new?challenge={challenge}", f"/proposals/{proposal}"):
            check(url)
        page.get_by_role("button", name="提案を送る").count()
        context.clear_cookies()
        _login(page, base, "env@example.jp")
        for url in (
            "/staff/proposals",
            "/staff/challenges",
            f"/staff/challenges/{challenge}",
            f"/proposals/{proposal}",
        ):
            check(url)
        context.close()
    assert not found, found
