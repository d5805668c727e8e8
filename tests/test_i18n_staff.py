"""The staff and audit pages in English (issue 12), and in Japanese as they were."""

import re
from datetime import UTC, datetime

import pytest

from domain.values import Role
from projections.storage import Storage
from tests.conftest import PASSWORD_HASH, Client, World
from web.i18n import LANGUAGES

EN = {"accept-language": "en"}
JA = {"accept-language": "ja"}


@pytest.fixture
def backend() -> str:
    return "sqlite"  # The language of a page does not depend on the storage engine.


@pytest.fixture
def draft(world: World, storage: Storage) -> str:
    survey = storage.app.draft_survey(staff_id=world.staff, title="下書きの調査", description="")
    storage.app.add_question(survey, staff_id=world.staff, kind="scale", text="満足度")
    storage.projector.catch_up()
    return str(survey)


@pytest.fixture
def auditor(storage: Storage) -> str:
    storage.app.sign_up(email="auditor@example.jp", display_name="監査", password_hash=PASSWORD_HASH, role=Role.AUDITOR)
    storage.projector.catch_up()
    return "auditor@example.jp"


# (path, what English must show, what Japanese must show) for the staff pages; {s} is the
# published survey, {d} a draft.
STAFF_PAGES = [
    (
        "/staff",
        ["<h1>Staff</h1>", "Create a survey", ">Filter<", "Surveys of all departments"],
        ["<h1>職員メニュー</h1>", "新しいアンケートを作成", "全部署のアンケート"],
    ),
    (
        "/staff/surveys/new",
        ["<h1>Create a survey</h1>", ">Title ", "Create the draft"],
        ["<h1>アンケートを作成</h1>", "下書きを作成"],
    ),
    (
        "/staff/surveys/{d}",
        [
            "Publish and close",
            "Publish…",
            "Save details",
            "Add question",
            "English version (optional)",
            "5-point scale",
        ],
        ["公開・終了", "公開する…", "基本情報を保存", "質問を追加", "英語版（任意）", "5段階評価"],
    ),
    (
        "/staff/surveys/{s}",
        [
            "Changes after publishing",
            "Save correction",
            "Stop taking answers…",
            "Questions (5)",
            "Single choice",
            "Required",
        ],
        ["公開後の変更", "訂正を保存", "回答の受付を終了する…", "質問（5問）", "単一選択", "必須"],
    ),
    (
        "/staff/surveys/{d}/preview",
        ["This is a preview", "Send answers (not in a preview)"],
        ["プレビューです。", "回答を送信する（プレビューでは送信できません）"],
    ),
    (
        "/staff/surveys/{d}/confirm/publish",
        ['<h1 id="confirm-heading">Publish this survey?</h1>', ">Publish<", "Cancel (back to the survey)"],
        ["このアンケートを公開しますか？", "やめる（管理画面へ戻る）"],
    ),
    (
        "/staff/surveys/{s}/results",
        ["Results: 子育てアンケート", "Download CSV (opens in Excel)", ">Age group<"],
        ["集計結果: 子育てアンケート", "CSVをダウンロード（Excel対応）", ">年代<"],
    ),
]


def _url(path: str, world: World, draft: str) -> str:
    return path.format(s=world.survey, d=draft)


@pytest.mark.parametrize(("path", "english", "japanese"), STAFF_PAGES, ids=[p[0] for p in STAFF_PAGES])
def test_staff_pages_read_in_english(
    client: Client, world: World, draft: str, path: str, english: list[str], japanese: list[str]
) -> None:
    client.login("staff@example.jp")
    page = client.get(_url(path, world, draft), headers=EN)
    assert page.status_code == 200 and '<html lang="en">' in page.text
    for text in english:
        assert text in page.text, text
    for text in japanese:
        assert text not in page.text, text


@pytest.mark.parametrize(("path", "english", "japanese"), STAFF_PAGES, ids=[p[0] for p in STAFF_PAGES])
def test_staff_pages_stay_japanese_by_default(
    client: Client, world: World, draft: str, path: str, english: list[str], japanese: list[str]
) -> None:
    client.login("staff@example.jp")
    page = client.get(_url(path, world, draft), headers=JA)
    assert page.status_code == 200 and '<html lang="ja">' in page.text
    for text in japanese:
        assert text in page.text, text
    assert "English version (optional)" not in page.text and "Save English version" not in page.text


def test_question_settings_and_errors_read_in_english(client: Client, world: World, draft: str) -> None:
    client.login("staff@example.jp")
    page = client.get(f"/staff/surveys/{world.survey}", headers=EN).text
    assert "Up to 2 choices" in page and "Whole numbers only" in page and "Optional" in page
    refused = client.submit(f"/staff/surveys/{world.survey}/extend", {"closes_on": ""}, headers=EN)
    assert refused.status_code == 422 and "The closing date could not be extended" in refused.text
    assert "Enter the new closing date." in refused.text


def test_the_audit_page_reads_in_english_with_the_english_event_name_first(
    client: Client, world: World, auditor: str
) -> None:
    client.login(auditor)
    page = client.get("/audit", headers=EN).text
    assert '<html lang="en">' in page and "<h1>Audit</h1>" in page
    for text in (
        "Latest events (newest first)",
        "Tamper detection of the event history",
        "Verify everything now",
        "Who (role and department)",
        "results at a past moment",
        "Look up user",
    ):
        assert text in page, text
    row = re.search(r'<tr data-position="\d+">.*?Survey\.Published.*?</tr>', page, re.S)
    assert row is not None
    cell = row.group(0)
    # In English, the English name comes first and the Japanese one follows, marked as Japanese.
    assert cell.index("Survey.Published") < cell.index("アンケート公開")
    assert '<span class="muted small" lang="ja">アンケート公開</span>' in cell
    assert "Staff (子育て支援課)" in cell


def test_the_audit_page_stays_japanese_with_the_japanese_event_name_first(
    client: Client, world: World, auditor: str
) -> None:
    client.login(auditor)
    page = client.get("/audit", headers=JA).text
    assert '<html lang="ja">' in page and "<h1>監査</h1>" in page and "最近のイベント（新しい順）" in page
    row = re.search(r'<tr data-position="\d+">.*?Survey\.Published.*?</tr>', page, re.S)
    assert row is not None and row.group(0).index("アンケート公開") < row.group(0).index("Survey.Published")
    assert "職員（子育て支援課）" in row.group(0)


def test_audit_replay_and_lookup_read_in_english(client: Client, world: World, auditor: str) -> None:
    client.login(auditor)
    now = datetime.now(UTC).astimezone().strftime("%Y-%m-%dT%H:%M")
    replay = client.get(f"/audit/surveys/{world.survey}", params={"at": now}, headers=EN).text
    assert "Results at a past moment: 子育てアンケート" in replay and "Rebuild at this moment" in replay
    assert re.search(r"Rebuilt from \d+ events? up to", replay)
    bad = client.get(f"/audit/surveys/{world.survey}", params={"at": "tomorrow"}, headers=EN)
    assert bad.status_code == 422 and "Enter the date and time as YYYY-MM-DDTHH:MM" in bad.text
    page = client.get("/audit", headers=EN).text
    position = re.search(r'href="/audit/events/(\d+)/actor"', page)
    assert position is not None
    lookup = client.get(f"/audit/events/{position.group(1)}/actor", headers=EN).text
    assert "<h1>Look up a user</h1>" in lookup and "Record and look up" in lookup
    assert "Reason for the lookup (required, up to 200 characters)" in lookup


def test_every_language_offered_is_english_or_japanese() -> None:
    # What these tests cover: if a language is added, its staff pages need the same checks.
    assert set(LANGUAGES) == {"ja", "en"}
