"""Issue 12 in a real Chromium, at a phone's width (390 px) and a desktop's: staff build, confirm,
correct and read a survey; another department is told why not; an auditor reads the log.

The editor and the confirmations run with JavaScript off at phone width: they must work without it.
"""

import re
from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from playwright.sync_api import Browser, Page, expect

from domain.values import AgeBand, Role, Ward
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
    return "sqlite"  # What the browser is given does not depend on the engine (tests/test_journeys_staff.py: both).


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def _page(browser: Browser, width: int, *, javascript: bool = True) -> Page:
    # Japanese, as the city's staff and most citizens read it (Accept-Language picks the language).
    context = browser.new_context(
        viewport={"width": width, "height": 900}, java_script_enabled=javascript, locale="ja-JP"
    )
    return context.new_page()


def _login(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def _app(settings: Settings, storage: Storage) -> Any:
    settings.project_in_process = True
    return create_app(settings, storage)


@pytest.mark.parametrize("width", WIDTHS)
def test_staff_build_preview_reorder_publish_and_correct_a_survey(
    browser: Browser, settings: Settings, storage: Storage, world: World, width: int
) -> None:
    with serve_in_thread(_app(settings, storage)) as base:
        staff = _page(browser, width, javascript=width > 400)
        _login(staff, base, "staff@example.jp")
        staff.goto(f"{base}/staff/surveys/new")
        staff.get_by_label("タイトル").fill("公園アンケート")
        staff.get_by_label("終了日").fill("2099-06-30")
        staff.get_by_role("button", name="下書きを作成").click()
        survey_id = UUID(staff.url.rstrip("/").split("/")[-1])
        add = staff.locator("form[aria-labelledby=add-question]")

        # Only the chosen kind's settings show (CSS alone; the server ignores the others).
        add.get_by_label("種類").select_option("number")
        expect(add.locator('.kind-settings[data-kind="number"]')).to_be_visible()
        for hidden in ("single multiple", "multiple", "scale", "text"):
            expect(add.locator(f'.kind-settings[data-kind="{hidden}"]')).to_be_hidden()
        add.get_by_label("質問文").fill("子どもの人数")
        add.get_by_label("最大").fill("10")
        add.get_by_label("単位").fill("人")
        add.get_by_role("button", name="質問を追加").click()

        add.get_by_label("種類").select_option("multiple")
        expect(add.get_by_label("選択肢（1行に1つ）")).to_be_visible()
        expect(add.get_by_label("最大")).to_be_hidden()
        add.get_by_label("質問文").fill("困っていること")
        add.get_by_label("選択肢（1行に1つ）").fill("保育\n医療\n特にない")
        add.get_by_label(re.compile("他の選択肢と同時に選べない選択肢")).fill("特にない")
        add.get_by_role("button", name="質問を追加").click()

        add.get_by_label("種類").select_option("text")
        add.get_by_label("質問文").fill("不要な質問")
        add.get_by_role("button", name="質問を追加").click()

        # The list shows each question's settings.
        expect(staff.locator("#question-q1 .settings")).to_contain_text("0〜10人")
        expect(staff.locator("#question-q1 .settings")).to_contain_text("整数のみ")
        expect(staff.locator("#question-q2 .settings")).to_contain_text("「特にない」は他と同時に選べない")
        expect(staff.locator("#question-q3 .settings")).to_contain_text("1000文字まで")

        # Reorder: 困っていること goes first.
        staff.get_by_role("button", name=re.compile(r"^上へ\s*移動: 困っていること$")).click()
        expect(staff.locator(".question-list > li").first).to_contain_text("困っていること")

        # Delete, after a confirmation page.
        staff.get_by_role("link", name=re.compile(r"^削除…\s*: 不要な質問$")).click()
        expect(staff.get_by_role("heading", name="質問「不要な質問」を削除しますか？")).to_be_visible()
        staff.get_by_role("button", name="削除する").click()
        expect(staff.get_by_role("heading", name="質問（2問）")).to_be_visible()

        # The preview: as a citizen will see it, nothing to send.
        staff.get_by_role("link", name="回答画面のプレビュー").click()
        expect(staff.get_by_role("heading", name="公園アンケート", exact=True)).to_be_visible()
        expect(staff.locator("legend").first).to_contain_text("1. 困っていること")
        expect(staff.get_by_text("（他の選択肢と同時には選べません）")).to_be_visible()
        expect(staff.get_by_label("保育")).to_be_disabled()
        staff.get_by_role("link", name="管理画面へ戻る").click()

        # Publishing asks first.
        staff.get_by_role("link", name="公開する…").click()
        expect(staff.get_by_role("heading", name="このアンケートを公開しますか？")).to_be_visible()
        expect(staff.get_by_text("質問は変更できなくなります")).to_be_visible()
        staff.get_by_role("button", name="公開する").click()
        expect(staff.get_by_test_id("status")).to_have_text("回答受付中")
        expect(staff.get_by_role("button", name=re.compile("上へ|下へ"))).to_have_count(0)

        # After publishing: a typo corrected and the deadline extended, each shown as 更新履歴.
        staff.get_by_label("タイトル", exact=True).fill("公園についてのアンケート")
        staff.get_by_role("button", name="訂正を保存").click()
        staff.get_by_label("新しい締切").fill("2099-07-31")
        staff.get_by_role("button", name="締切を延長").click()
        history = staff.locator(".change-list")
        expect(history).to_contain_text("締切を2099/06/30から2099/07/31に延長しました")
        expect(history).to_contain_text("タイトルを訂正しました（訂正前:「公園アンケート」）")

        citizen = _page(browser, width)
        _login(citizen, base, "citizen@example.jp")
        citizen.goto(f"{base}/surveys/{survey_id}")
        expect(citizen.get_by_role("heading", name="公園についてのアンケート")).to_be_visible()
        expect(citizen.get_by_role("heading", name="更新履歴")).to_be_visible()
        expect(citizen.locator(".change-list li")).to_have_count(2)

        # An exclusive option ticked with another: refused in Japanese, 4xx, nothing written.
        citizen.get_by_label("保育").check()
        citizen.get_by_label(re.compile("特にない")).check()
        citizen.locator("input[name=q1]").fill("2")
        with citizen.expect_response(lambda r: r.url.endswith("/answer")) as answered:
            citizen.get_by_role("button", name="回答を送信する").click()
        assert answered.value.status == 422
        expect(citizen.locator("#error-q2")).to_have_text(re.compile("「特にない」は他の選択肢と一緒には選べません。"))
        assert not storage.app.has_answered(survey_id, world.citizen)


def _small_survey(storage: Storage, world: World) -> UUID:
    """13 respondents: every one of the 8 age bands is under 5, while 39歳以下 has 6."""
    app = storage.app
    survey = app.draft_survey(staff_id=world.staff, title="小規模アンケート")
    app.add_question(survey, staff_id=world.staff, kind="single", text="満足ですか", options=["はい", "いいえ"])
    app.add_question(survey, staff_id=world.staff, kind="number", text="通園時間（分）", minimum=0, maximum=59)
    app.publish_survey(survey, staff_id=world.staff)
    bands = [AgeBand.AGE_18_29] * 3 + [AgeBand.AGE_30S] * 3 + [AgeBand.AGE_40S] * 2
    bands += [AgeBand.AGE_50S] * 3 + [AgeBand.AGE_60S] * 2
    for i, band in enumerate(bands):
        (person,) = world.citizens(1, ward=Ward.SONODA, age_band=band)
        app.submit_response(survey, person, {"q1": i % 2, "q2": 3 * i})
    storage.projector.catch_up()
    return survey


@pytest.mark.parametrize("width", WIDTHS)
def test_a_small_survey_closed_and_published_with_confirmations_then_read_in_coarser_groups(
    browser: Browser, settings: Settings, storage: Storage, world: World, width: int
) -> None:
    survey = _small_survey(storage, world)
    with serve_in_thread(_app(settings, storage)) as base:
        staff = _page(browser, width, javascript=width > 400)
        _login(staff, base, "staff@example.jp")
        staff.goto(f"{base}/staff/surveys/{survey}")
        staff.get_by_role("link", name="回答の受付を終了する…").click()
        expect(staff.get_by_role("heading", name="回答の受付を終了しますか？")).to_be_visible()
        staff.get_by_role("button", name="受付を終了する").click()
        expect(staff.get_by_test_id("status")).to_have_text("終了")
        staff.get_by_role("link", name="結果を公開する…").click()
        expect(staff.get_by_role("heading", name="集計結果を公開しますか？")).to_be_visible()
        staff.get_by_role("button", name="結果を公開する").click()
        expect(staff.locator(".tag", has_text="結果公開中")).to_be_visible()

        page = _page(browser, width)
        page.goto(f"{base}/surveys/{survey}/results?segment=age_band")
        expect(page.get_by_test_id("respondents")).to_have_text("13")
        expect(page.get_by_test_id("why-hidden")).to_contain_text("回答者が13人と少ないため")
        first = page.locator("section.result").first
        age_rows = first.locator(".breakdown tbody tr")
        expect(age_rows.filter(has_text="30代").locator("td").first).to_have_text("x")
        expect(first.locator(".why-hidden")).to_contain_text("非表示です")
        first.locator(".why-hidden").get_by_role("link", name="年代（3区分）").click()
        first = page.locator("section.result").first
        expect(first.get_by_role("row", name=re.compile("39歳以下")).locator("td").first).to_have_text("6")

        # Headers over their numbers: both right-aligned.
        header = first.locator(".breakdown thead th.num").first
        assert header.evaluate("e => getComputedStyle(e).textAlign") == "right"
        cell = first.locator(".breakdown tbody td").first
        assert cell.evaluate("e => getComputedStyle(e).textAlign") == "right"

        # The histogram's bins do not overlap.
        histogram = page.locator("section.result").nth(1).locator("table.numbers").first
        expect(histogram.get_by_role("rowheader", name="0〜5", exact=True)).to_be_visible()
        expect(histogram.get_by_role("rowheader", name="6〜11", exact=True)).to_be_visible()

        staff.goto(f"{base}/staff/surveys/{survey}/results")
        with staff.expect_download() as download:
            staff.get_by_role("link", name=re.compile("CSVをダウンロード")).click()
        name = download.value.suggested_filename
        assert name.startswith("小規模アンケート_") and name.endswith(".csv") and str(survey) not in name


@pytest.mark.parametrize("width", WIDTHS)
def test_another_departments_survey_offers_nothing_refused_and_a_403_says_why(
    browser: Browser, settings: Settings, storage: Storage, world: World, width: int
) -> None:
    storage.app.sign_up(
        email="env@example.jp", display_name="環境", password_hash=PASSWORD_HASH, role=Role.STAFF, department="環境課"
    )
    with serve_in_thread(_app(settings, storage)) as base:
        page = _page(browser, width)
        _login(page, base, "env@example.jp")
        page.goto(f"{base}/staff")
        row = page.get_by_role("row", name=re.compile("子育てアンケート"))
        expect(row.get_by_role("link")).to_have_count(0)
        expect(row).to_contain_text("担当部署のみ閲覧できます")
        page.goto(f"{base}/staff/surveys/{world.survey}/confirm/close")
        expect(page.get_by_role("heading", name=re.compile("他の部署のアンケートは編集できません"))).to_be_visible()
        expect(page.get_by_text("エラーコード: 403")).to_be_visible()
        page.get_by_role("link", name="職員メニューへ戻る").click()
        expect(page.get_by_role("heading", name="職員メニュー")).to_be_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_an_auditor_reads_events_in_japanese_resolves_a_person_on_record_and_sees_a_draft_as_zero(
    browser: Browser, settings: Settings, storage: Storage, world: World, width: int
) -> None:
    storage.app.sign_up(email="audit@example.jp", display_name="監査", password_hash=PASSWORD_HASH, role=Role.AUDITOR)
    draft = storage.app.draft_survey(staff_id=world.staff, title="下書きのまま", closes_on=date(2099, 1, 1))
    storage.app.add_question(draft, staff_id=world.staff, kind="scale", text="満足度")
    storage.projector.catch_up()
    drafted = [
        n.id for n in storage.app.recorder.select_notifications(start=1, limit=500) if "Survey.Drafted" in n.topic
    ]
    with serve_in_thread(_app(settings, storage)) as base:
        page = _page(browser, width)
        _login(page, base, "audit@example.jp")
        page.goto(f"{base}/audit")
        row = page.locator(f"tr[data-position='{drafted[-1]}']")
        expect(row).to_contain_text("アンケート下書き作成")
        expect(row).to_contain_text("Survey.Drafted")
        expect(row).to_contain_text("職員（子育て支援課）")
        expect(row).not_to_contain_text(str(world.staff)[:8])
        row.get_by_role("link", name=re.compile("利用者を照会")).click()
        page.get_by_role("button", name="記録して照会する").click()
        expect(page.locator("#error-reason")).to_contain_text("照会の理由を入力してください")
        page.get_by_label(re.compile("照会の理由")).fill("下書きの作成者の確認")
        page.get_by_role("button", name="記録して照会する").click()
        expect(page.get_by_test_id("resolved-id")).to_have_text(str(world.staff))
        expect(page.get_by_role("status")).to_contain_text("IdentityLookup.Recorded")
        page.goto(f"{base}/audit")
        expect(page.locator("tbody tr", has_text="利用者の照会記録").first).to_contain_text("監査担当")

        page.goto(f"{base}/audit/surveys/{draft}?at=2099-01-01T00:00")
        expect(page.get_by_test_id("respondents-at")).to_have_text("0")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_new_staff_and_audit_pages_meet_wcag_21_aa(
    browser: Browser, settings: Settings, storage: Storage, world: World, width: int
) -> None:
    app = storage.app
    small = _small_survey(storage, world)
    app.close_survey(small, staff_id=world.staff)
    draft = app.draft_survey(staff_id=world.staff, title="下書き", closes_on=date(2099, 6, 30))
    app.add_question(
        draft, staff_id=world.staff, kind="multiple", text="困りごと", options=["a", "特にない"], exclusive=[1]
    )
    app.add_question(draft, staff_id=world.staff, kind="number", text="人数", minimum=0, maximum=10)
    live = app.draft_survey(staff_id=world.staff, title="公開中", closes_on=date(2099, 6, 30))
    app.add_question(live, staff_id=world.staff, kind="scale", text="満足度")
    app.publish_survey(live, staff_id=world.staff)
    app.correct_survey_details(live, staff_id=world.staff, title="公開中のアンケート", description="")
    app.extend_survey_closing(live, staff_id=world.staff, closes_on=date(2099, 7, 31))
    app.sign_up(email="audit@example.jp", display_name="監査", password_hash=PASSWORD_HASH, role=Role.AUDITOR)
    storage.projector.catch_up()
    with serve_in_thread(_app(settings, storage)) as base:
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True, locale="ja-JP")
        page = context.new_page()
        found: dict[str, list[str]] = {}

        def check(url: str) -> None:
            page.goto(base + url)
            if problems := violations(page):
                found[url] = problems

        _login(page, base, "staff@example.jp")
        for url in (
            f"/staff/surveys/{draft}",
            f"/staff/surveys/{draft}/preview",
            f"/staff/surveys/{draft}/confirm/publish",
            f"/staff/surveys/{draft}/questions/q1/delete",
            f"/staff/surveys/{live}",
            f"/surveys/{live}",
            f"/staff/surveys/{small}/results?segment=age3",
        ):
            check(url)
        page.context.clear_cookies()
        _login(page, base, "audit@example.jp")
        position = app.recorder.max_notification_id()
        for url in ("/audit", f"/audit/events/{position}/actor"):
            check(url)
        page.get_by_label(re.compile("照会の理由")).fill("確認")
        page.get_by_role("button", name="記録して照会する").click()
        if problems := violations(page):
            found["resolved"] = problems
        assert found == {}
