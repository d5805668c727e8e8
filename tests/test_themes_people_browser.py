"""Themes for people in a real Chromium, at phone and desktop widths: staff rename, merge, split
and publish through the page's own forms, a citizen reads the published summary from the results
page, and axe finds nothing on either page in Japanese or English."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from projections.segments import SUPPRESSED
from projections.storage import Storage
from tests.conftest import PASSWORD, World
from tests.support.browser import chromium, serve_in_thread
from tests.test_accessibility import violations
from tests.test_themes_people import TEXTS, recorded
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


def fits(page: Page) -> bool:
    """Nothing makes the page scroll sideways (tables scroll inside their own box)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


@pytest.mark.parametrize("width", [390, 1280])
def test_staff_curate_and_publish_and_citizens_read_the_summary(
    browser: Browser, settings: Settings, storage: Storage, world: World, width: int
) -> None:
    survey, analysis_id, _ = recorded(world, storage)
    app = create_app(settings, storage)
    found: dict[str, list[str]] = {}
    with serve_in_thread(app) as base:
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        page = context.new_page()
        page.goto(base + "/login")
        page.get_by_label("メールアドレス").fill("staff@example.jp")
        page.get_by_label("パスワード").fill(PASSWORD)
        page.get_by_role("button", name="ログイン").click()
        page.goto(f"{base}/staff/themes/{analysis_id}")
        assert page.locator('[data-testid="theme-label"]').first.inner_text().startswith("1. 保育園の定員を増やして")
        if problems := violations(page):
            found["staff analysis"] = problems

        # Rename the first theme.
        first = page.locator("section.theme").first
        first.locator("summary", has_text="このテーマを編集").click()
        first.get_by_label("テーマの名前（40文字以内）").fill("保育園の定員")
        first.get_by_role("button", name="名前を変える").click()
        page.wait_for_url(f"**/staff/themes/{analysis_id}*")
        assert "1. 保育園の定員" in page.locator('[data-testid="theme-label"]').first.inner_text()
        assert "機械の案: 保育園の定員を増やしてほしい（0）" in page.content()

        # Split two opinions out of it.
        first = page.locator("section.theme").first
        first.locator("summary", has_text="このテーマを編集").click()
        first.get_by_label(TEXTS[0]).check()
        first.get_by_label(TEXTS[1]).check()
        first.get_by_label("新しいテーマの名前").fill("保育の質")
        first.get_by_role("button", name="選んだ意見で新しいテーマを作る").click()
        page.wait_for_url("**#edit-history")

        # Merge the two bus themes.
        merge = page.locator("section", has=page.get_by_role("heading", name="テーマをまとめる"))
        merge.locator("#merge-t2").check()
        merge.locator("#merge-t3").check()
        merge.get_by_label("まとめたテーマの名前").fill("バスの便")
        merge.get_by_role("button", name="まとめる").click()
        page.wait_for_url("**#edit-history")
        history = page.get_by_test_id("edit-history").inner_text()
        assert "名前を「保育園の定員」に変更" in history and "「バスの便」にまとめた" in history
        assert "新しいテーマ「保育の質」に分けた" in history

        # Publish with a description of the first theme.
        page.get_by_label("「保育園の定員」の説明（400文字以内）").fill("定員の拡大を求める声が多く寄せられました。")
        page.get_by_role("button", name="テーマのまとめを公表する").click()
        page.wait_for_url("**#publish")
        assert page.get_by_test_id("summary-published").is_visible()
        if problems := violations(page):
            found["staff analysis, edited"] = problems
        assert fits(page)

        english = browser.new_context(
            viewport={"width": width, "height": 900}, bypass_csp=True, extra_http_headers={"accept-language": "en"}
        )
        en_page = english.new_page()
        en_page.goto(base + "/login")
        en_page.locator("#email").fill("staff@example.jp")
        en_page.locator("#password").fill(PASSWORD)
        en_page.locator("form button[type=submit]").last.click()
        en_page.goto(f"{base}/staff/themes/{analysis_id}")
        assert en_page.locator("html").get_attribute("lang") == "en" and "Edit history" in en_page.content()
        if problems := violations(en_page):
            found["staff analysis (en)"] = problems
        english.close()
        context.close()

        for language in ("ja", "en"):
            citizen = browser.new_context(
                viewport={"width": width, "height": 900},
                bypass_csp=True,
                extra_http_headers={"accept-language": language},
            )
            public = citizen.new_page()
            public.goto(f"{base}/surveys/{survey}/results")
            public.get_by_test_id("themes-link").click()
            public.wait_for_url(f"**/surveys/{survey}/themes")
            text = public.locator("main").inner_text() if public.locator("main").count() else public.content()
            assert "定員の拡大を求める声が多く寄せられました。" in text and "保育の質" in text
            assert f"（{SUPPRESSED}）" in text  # the split-off theme of 2 opinions
            assert not any(t in public.content() for t in TEXTS)  # never an opinion
            if language == "en":
                assert public.locator("html").get_attribute("lang") == "en"
                assert "Themes of the opinions received" in text
            if problems := violations(public):
                found[f"public themes ({language})"] = problems
            assert fits(public), f"public themes ({language}) scrolls sideways at {width}px"
            citizen.close()
    assert not found, found
