"""A real Chromium at phone (390 px) and desktop (1280 px) widths: the citizen's and the business's
journeys of issue 12. 回答済み and the answer history, the thanks page, the preview before sign-up,
password reset by e-mail (a real SMTP server) and changing the password and address on /me, the
phone layout (checked from the DOM's geometry, with screenshots kept), and a business's sign-up,
home and /me. The rules themselves are checked on both engines in tests/test_journeys_citizen.py."""

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from domain.corporate_number import with_check_digit
from projections.storage import Storage
from tests.conftest import PASSWORD, World
from tests.support.browser import serve_in_thread
from tests.test_accessibility import violations
from tests.test_browser import browser  # noqa: F401  (the one Chromium per module)
from tests.test_cocreation import City, texts
from tests.test_mailer import Inbox, inbox, mail_settings  # noqa: F401  (the real SMTP server)
from web.app import create_app
from web.settings import Settings

pytestmark = pytest.mark.browser
WIDTHS = [390, 1280]
NEW_PASSWORD = "a-brand-new-passphrase"


@pytest.fixture
def backend() -> str:
    return "sqlite"  # What the browser is given does not depend on the storage engine.


@pytest.fixture
def shots(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """Where the screenshots go: $KYOSO_SCREENSHOTS/<test> to keep them, else the test's temporary files."""
    keep = os.environ.get("KYOSO_SCREENSHOTS")
    path = Path(keep) / re.sub(r"[^\w.-]+", "_", request.node.name) if keep else tmp_path / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def served(settings: Settings, storage: Storage) -> Iterator[str]:
    settings.project_in_process = True
    with serve_in_thread(create_app(settings, storage)) as base:
        yield base


def _page(browser: Browser, width: int, **context: Any) -> Page:  # noqa: F811
    """A fresh browser context at this width, in Japanese (the UI's language, whatever Chromium's)."""
    viewport = {"width": width, "height": 844 if width < 600 else 900}
    return browser.new_context(viewport=viewport, locale="ja-JP", **context).new_page()  # type: ignore[arg-type]


def _login(page: Page, base: str, email: str, password: str = PASSWORD, then: str = "/me") -> None:
    page.goto(f"{base}/login?next={then}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("button", name="ログアウト")).to_be_visible()


def _reload_until_visible(page: Page, locator: Locator, timeout: float = 10.0) -> None:
    """The read models follow the events within a second or so in the server: reload until then."""
    deadline = time.monotonic() + timeout
    while not locator.count() and time.monotonic() < deadline:
        time.sleep(0.2)
        page.reload()
    expect(locator.first).to_be_visible()


def _box(locator: Locator) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None, locator
    return box


# 回答済み, the history on /me, and the thanks page


@pytest.mark.parametrize("width", WIDTHS)
def test_a_citizen_sees_answered_surveys_marked_and_listed_with_their_results(
    browser: Browser,  # noqa: F811
    storage: Storage,
    world: World,
    served: str,
    shots: Path,
    width: int,
) -> None:
    page = _page(browser, width)
    _login(page, served, "citizen@example.jp")
    page.goto(f"{served}/")
    card = page.locator("li.card", has=page.get_by_role("link", name="子育てアンケート"))
    expect(card.locator(".tag-done")).to_have_count(0)

    page.get_by_role("link", name="子育てアンケート").click()
    page.get_by_label("はい").check()
    page.get_by_label("保育").check()
    page.locator(f"input[name={world.q_scale}][value='4']").check()
    page.locator(f"input[name={world.q_number}]").fill("2")
    page.get_by_role("button", name="回答を送信する").click()
    expect(page.get_by_role("heading", name="ご回答ありがとうございました")).to_be_visible()
    expect(page.locator("#results-note")).to_contain_text("締切のあと公開されます")

    page.goto(f"{served}/")
    _reload_until_visible(page, card.locator(".tag-done"))
    expect(card.locator(".tag-done")).to_have_text("回答済み")
    page.screenshot(path=shots / f"home-answered-{width}.png", full_page=True)

    page.goto(f"{served}/me")
    history = page.locator("#answers li", has_text="子育てアンケート")
    expect(history).to_contain_text("子育て支援課")
    expect(history.locator("time")).to_have_text(re.compile(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}$"))
    expect(history).to_contain_text("（日本時間）")
    expect(history).to_contain_text("集計結果は公開前です")

    for person in world.citizens(5):
        storage.app.submit_response(world.survey, person, world.valid_answers())
    storage.app.close_survey(world.survey, staff_id=world.staff)
    storage.app.publish_results(world.survey, staff_id=world.staff)
    results_link = history.get_by_role("link", name=re.compile("集計結果を見る"))
    _reload_until_visible(page, results_link)
    page.screenshot(path=shots / f"me-answers-{width}.png", full_page=True)

    page.goto(f"{served}/surveys/{world.survey}/thanks")
    expect(page.locator("#results-note")).to_have_text("このアンケートの集計結果はすでに公開されています。")
    page.get_by_role("link", name="集計結果を見る").click()
    expect(page).to_have_url(f"{served}/surveys/{world.survey}/results")


# The preview before sign-up


@pytest.mark.parametrize("width", WIDTHS)
def test_a_visitor_reads_the_questions_then_signs_up_and_answers(
    browser: Browser,  # noqa: F811
    world: World,
    served: str,
    shots: Path,
    width: int,
) -> None:
    page = _page(browser, width)
    page.goto(f"{served}/surveys/{world.survey}")
    preview = page.locator(".survey-preview")
    expect(preview.get_by_role("heading", name=re.compile("質問の内容"))).to_be_visible()
    expect(preview.locator(".preview-questions > li")).to_have_count(5)
    expect(preview).to_contain_text("住み続けたい?")
    expect(preview).to_contain_text("2つまで")
    expect(preview.locator("input, textarea, select")).to_have_count(0)  # read-only
    page.screenshot(path=shots / f"preview-{width}.png", full_page=True)

    page.locator("#signup-cta").get_by_role("link", name="新規登録して回答する").click()
    page.get_by_label("メールアドレス").fill("visitor@example.jp")
    page.get_by_label("ニックネーム").fill("ビジター")
    page.get_by_label("パスワード（10文字以上）").fill(PASSWORD)
    page.get_by_label("利用規約とプライバシーポリシーに同意します").check()
    page.get_by_role("button", name="登録する").click()
    expect(page).to_have_url(f"{served}/surveys/{world.survey}")
    expect(page.get_by_role("button", name="回答を送信する")).to_be_visible()
    expect(page.locator(".survey-preview")).to_have_count(0)


# Password reset by e-mail, and the sign-in details on /me


@pytest.mark.parametrize("width", WIDTHS)
def test_a_forgotten_password_is_reset_by_mail_and_the_details_are_changed_on_me(
    browser: Browser,  # noqa: F811
    settings: Settings,
    storage: Storage,
    world: World,
    inbox: tuple[Inbox, int],  # noqa: F811
    shots: Path,
    width: int,
) -> None:
    handler, port = inbox
    configured = mail_settings(settings, port, project_in_process=True)
    with serve_in_thread(create_app(configured, storage)) as base:
        configured.base_url = base  # links in the mail lead back to this server
        page = _page(browser, width)
        page.goto(f"{base}/login")
        page.get_by_role("link", name="パスワードを忘れた方").click()
        page.get_by_label("メールアドレス").fill("citizen@example.jp")
        page.get_by_role("button", name="再設定のリンクを送る").click()
        expect(page.locator("#reset-sent")).to_contain_text("リンクを送りました")
        deadline = time.monotonic() + 10
        while not handler.messages and time.monotonic() < deadline:
            time.sleep(0.05)
        [(_, message)] = handler.messages
        body = message.get_body().get_content()  # type: ignore[union-attr]
        link = re.search(r"http://127\.0\.0\.1:\d+/password/reset\?token=\S+", body)
        assert link, body

        page.goto(link[0])
        page.get_by_label("新しいパスワード（10文字以上）").fill(NEW_PASSWORD)
        page.get_by_label("新しいパスワード（確認）").fill(NEW_PASSWORD)
        page.screenshot(path=shots / f"reset-{width}.png", full_page=True)
        page.get_by_role("button", name="パスワードを設定する").click()
        expect(page.get_by_role("status")).to_contain_text("パスワードを変更しました")
        page.goto(link[0])  # the same link again
        expect(page.locator("#reset-invalid")).to_contain_text("すでに使われたか")

        page.goto(f"{base}/me")
        page.locator("summary", has_text="メールアドレスを変更する").click()
        page.get_by_label("新しいメールアドレス").fill("hanako@example.jp")
        page.get_by_label("現在のパスワード（確認のため）").fill("not-my-password")
        page.get_by_role("button", name="メールアドレスを変更する").click()
        expect(page.locator("#error-email_password")).to_contain_text("現在のパスワードが正しくありません")
        page.get_by_label("現在のパスワード（確認のため）").fill(NEW_PASSWORD)
        page.get_by_role("button", name="メールアドレスを変更する").click()
        expect(page.get_by_role("status")).to_contain_text("メールアドレスを変更しました")
        expect(page.locator("#credentials")).to_contain_text("hanako@example.jp")

        page.locator("summary", has_text="パスワードを変更する").click()
        page.get_by_label("現在のパスワード", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("新しいパスワード（10文字以上）").fill(PASSWORD)
        page.get_by_label("新しいパスワード（確認）").fill(PASSWORD)
        page.get_by_role("button", name="パスワードを変更する").click()
        expect(page.get_by_role("status")).to_contain_text("パスワードを変更しました")
        page.screenshot(path=shots / f"me-credentials-{width}.png", full_page=True)

        page.get_by_role("button", name="ログアウト").click()
        _login(page, base, "hanako@example.jp", PASSWORD)


# The phone layout: header, 5-point scale, scrolling tables, chart text


def _published_results(storage: Storage, world: World) -> None:
    from domain.values import AgeBand, Ward

    for ward in (Ward.SONODA, Ward.CHUO):
        for person in world.citizens(6, ward=ward, age_band=AgeBand.AGE_30S, has_children=True):
            storage.app.submit_response(world.survey, person, world.valid_answers())
    storage.app.close_survey(world.survey, staff_id=world.staff)
    storage.app.publish_results(world.survey, staff_id=world.staff)
    storage.projector.catch_up()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_header_and_the_scale_stay_on_one_line_and_wide_tables_show_they_scroll(
    browser: Browser,  # noqa: F811
    storage: Storage,
    world: World,
    settings: Settings,
    shots: Path,
    width: int,
) -> None:
    other = storage.app.draft_survey(staff_id=world.staff, title="満足度調査", description="")
    storage.app.add_question(
        other, staff_id=world.staff, kind="scale", text="満足度", low_label="まったく満足していない",
        high_label="とても満足している",
    )  # fmt: skip
    storage.app.publish_survey(other, staff_id=world.staff)
    _published_results(storage, world)
    with serve_in_thread(create_app(settings, storage)) as base:
        page = _page(browser, width)
        _login(page, base, "citizen@example.jp")

        # The header: ログアウト sits beside the person's name, the menu is one line, the header is short.
        page.goto(f"{base}/participate")
        logout = page.get_by_role("button", name="ログアウト")
        name = page.get_by_role("link", name="市民さん")
        assert abs(_box(logout)["y"] - _box(name)["y"]) < 6, (_box(logout), _box(name))
        header = _box(page.locator(".site-header"))
        assert header["height"] <= (130 if width < 600 else 120), header
        tops = {round(_box(item)["y"]) for item in page.locator(".nav-main > li").all()}
        assert len(tops) == 1, tops
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways page scroll
        page.screenshot(path=shots / f"header-{width}.png")

        # The 5-point scale: five points on one line, labels clear of them, within the page.
        page.goto(f"{base}/surveys/{other}")
        points = [_box(p) for p in page.locator(".scale-point").all()]
        assert len(points) == 5 and len({round(p["y"]) for p in points}) == 1, points
        assert points[-1]["x"] + points[-1]["width"] <= width
        for label in page.locator(".scale-label").all():
            box = _box(label)
            for p in points:
                overlap_x = box["x"] < p["x"] + p["width"] and p["x"] < box["x"] + box["width"]
                overlap_y = box["y"] < p["y"] + p["height"] and p["y"] < box["y"] + box["height"]
                assert not (overlap_x and overlap_y), (box, p)
        page.locator(".scale").screenshot(path=shots / f"scale-{width}.png")

        # Wide tables: a focusable, labelled region with a shadow on the side that has more.
        page = _page(browser, width)  # the published results are public: a visitor reads them
        page.goto(f"{base}/surveys/{world.survey}/results")
        page.locator("details").evaluate_all("ds => ds.forEach(d => { d.open = true })")
        regions = page.locator(".table-scroll")
        expect(regions.first).to_be_visible()
        for region in regions.all():
            assert region.get_attribute("tabindex") == "0" and region.get_attribute("role") == "region"
            assert "横にスクロール" in (region.get_attribute("aria-label") or "")
            style = region.evaluate("e => getComputedStyle(e).backgroundImage")
            assert style.count("radial-gradient") == 2 and style.count("linear-gradient") == 2, style
        scrolling = [r for r in regions.all() if r.evaluate("e => e.scrollWidth > e.clientWidth + 1")]
        if width < 600:
            assert scrolling, "no breakdown table is wider than a phone"
            region = scrolling[0]
            region.focus()
            assert region.evaluate("e => e === document.activeElement")
            page.keyboard.press("ArrowRight")  # the keyboard scrolls it, too
            page.wait_for_function("e => e.scrollLeft > 0", arg=region.element_handle(), timeout=5000)
            region.screenshot(path=shots / f"table-scroll-{width}.png")
        page.screenshot(path=shots / f"results-{width}.png", full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_chart_text_is_at_least_12_css_px_on_a_phone_and_a_desktop(
    browser: Browser,  # noqa: F811
    storage: Storage,
    world: World,
    settings: Settings,
    width: int,
) -> None:
    _published_results(storage, world)
    with serve_in_thread(create_app(settings, storage)) as base:
        page = _page(browser, width)
        page.goto(f"{base}/surveys/{world.survey}/results")
        sizes = page.evaluate(
            """() => [...document.querySelectorAll('svg.chart text')].map(t =>
                parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement.getScreenCTM().a)"""
        )
        assert sizes and min(sizes) >= 12, sorted(sizes)[:3]


# Business accounts


@pytest.mark.parametrize("width", WIDTHS)
def test_a_business_signs_up_as_one_sees_its_home_and_is_not_asked_about_a_household(
    browser: Browser,  # noqa: F811
    storage: Storage,
    world: World,
    settings: Settings,
    shots: Path,
    width: int,
) -> None:
    city = City(storage, world)
    storage.app.submit_proposal(
        city.biz, challenge_id=city.challenge, submission_key=uuid4(), texts=texts("てまえどりアプリ"), cost_yen=0
    )
    storage.projector.catch_up()
    settings.project_in_process = True
    with serve_in_thread(create_app(settings, storage)) as base:
        # A new company signs up as a business, with its 法人番号.
        page = _page(browser, width)
        page.goto(f"{base}/signup")
        page.get_by_role("link", name="事業者の新規登録").click()
        page.get_by_label("組織名（法人名または屋号）").fill("株式会社あまがさき商事")
        page.get_by_label("法人番号（13桁・法人の場合）").fill(with_check_digit("140001234567"))
        page.get_by_label("担当者名").fill("尼崎")
        page.get_by_label("メールアドレス").fill("shoji@example.jp")
        page.get_by_label("パスワード（10文字以上）").fill(PASSWORD)
        page.get_by_label("利用規約とプライバシーポリシーに同意します").check()
        page.get_by_role("button", name="事業者として登録する").click()
        expect(page.get_by_role("heading", name="事業者ホーム")).to_be_visible()
        expect(page.get_by_role("heading", name="株式会社あまがさき商事")).to_be_visible()
        expect(page.get_by_role("link", name="食品ロス削減", exact=True)).to_be_visible()  # the open challenge
        page.goto(f"{base}/me")
        expect(page.locator("select")).to_have_count(0)  # no ward, age band or children
        expect(page.get_by_text("お住まいの地区")).to_have_count(0)
        page.get_by_role("link", name="事業者ホーム").first.click()
        expect(page).to_have_url(f"{base}/business")

        # An existing business signs in and lands on its home: open challenges and its own proposals.
        other = _page(browser, width)
        _login(other, base, "biz@example.jp", then="/")
        expect(other).to_have_url(f"{base}/business")
        expect(other.get_by_role("link", name="てまえどりアプリ")).to_be_visible()
        expect(other.get_by_role("link", name="食品ロス削減", exact=True)).to_be_visible()
        other.screenshot(path=shots / f"business-home-{width}.png", full_page=True)
        other.goto(f"{base}/")
        other.get_by_role("main").get_by_role("link", name="事業者ホーム").click()
        expect(other).to_have_url(f"{base}/business")


# Accessibility of the new pages


@pytest.mark.parametrize("width", WIDTHS)
def test_the_new_pages_meet_wcag_21_aa(
    browser: Browser,  # noqa: F811
    storage: Storage,
    world: World,
    settings: Settings,
    width: int,
) -> None:
    storage.app.submit_response(world.survey, world.citizen, world.valid_answers())
    storage.projector.catch_up()
    with serve_in_thread(create_app(settings, storage)) as base:
        page = _page(browser, width, bypass_csp=True)
        found: dict[str, list[str]] = {}
        for url in (f"/surveys/{world.survey}", "/password/forgot", "/password/reset?token=x"):
            page.goto(base + url)
            if problems := violations(page):
                found[url] = problems
        _login(page, base, "citizen@example.jp")
        for url in ("/", "/me", f"/surveys/{world.survey}/thanks"):
            page.goto(base + url)
            page.locator("details").evaluate_all("ds => ds.forEach(d => d.open = true)")
            if problems := violations(page):
                found[url] = problems
        assert not found, found
