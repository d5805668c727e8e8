"""The rules' refusals in English: translated whole, values filled in after; Japanese unchanged.

The domain raises Japanese sentences (`N_`, with named values where a sentence has any); the web shows
them in the request's language on the error page, in form field errors and in htmx fragments. The
API's `detail` stays Japanese in every language: clients read the stable `error` code.
"""

import pickle
import re
from datetime import datetime, timedelta
from html import unescape
from typing import Any
from uuid import uuid4

import pytest

from domain import clock
from domain.errors import InvalidCommand
from domain.idea_values import MAX_TITLE
from domain.messages import N_, Joined, Message, joined
from domain.points_menu import Limit, MenuRule, Trigger
from domain.proposal import COCREATION_WINDOW, Stage
from domain.questions import QuestionTranslation
from domain.survey import MAX_QUESTIONS
from domain.values import Role
from tests.conftest import PASSWORD_HASH, Client, World
from web.i18n import gettext, use_language

EN = {"accept-language": "en"}
JA = {"accept-language": "ja"}
TEMPLATE = "質問は%(limit)s問までです。"


@pytest.fixture
def backend() -> str:
    return "sqlite"  # Which words a page shows does not depend on the storage engine.


@pytest.fixture
def english() -> Any:
    token = use_language("en")
    yield
    use_language("ja")
    del token


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


# --- the mechanism ---------------------------------------------------------------------------------


def test_a_message_with_values_reads_as_the_japanese_sentence_an_f_string_made() -> None:
    message = N_(TEMPLATE, limit=MAX_QUESTIONS)
    assert isinstance(message, Message)
    assert message == f"質問は{MAX_QUESTIONS}問までです。"
    assert str(message) == f"質問は{MAX_QUESTIONS}問までです。" and type(str(message)) is str
    assert (message.template, dict(message.params)) == (TEMPLATE, {"limit": MAX_QUESTIONS})
    error = InvalidCommand(message)
    assert str(error) == error.message == f"質問は{MAX_QUESTIONS}問までです。"


def test_a_message_without_values_is_the_plain_string() -> None:
    plain = N_("変更がありません。")
    assert type(plain) is str and plain == "変更がありません。"
    assert N_("100%を超えています。") == "100%を超えています。"  # no values: a "%" needs no escaping


def test_english_translates_the_template_then_fills_in_the_values(english: None) -> None:
    message = N_(TEMPLATE, limit=20)
    assert gettext(message) == "A survey can have up to 20 questions."
    # A value is filled in as it is, even one with a "%" in it (people write such options).
    option = N_("「%(option)s」は他の選択肢と一緒には選べません。", option="50%以上")
    assert gettext(option) == "\u201c50%以上\u201d cannot be chosen together with other options."


def test_japanese_shows_the_sentence_unchanged() -> None:
    use_language("ja")
    assert gettext(N_(TEMPLATE, limit=20)) == "質問は20問までです。"


def test_values_that_are_messages_are_translated_too(english: None) -> None:
    message = N_(
        "「%(current)s」から「%(wanted)s」へは進められません。",
        current=Message(Stage.RECEIVED.label),
        wanted=Message(Stage.AGREEMENT.label),
    )
    assert message == "「受付」から「協定締結」へは進められません。"
    english_text = gettext(message)
    assert english_text.startswith("A proposal cannot move from \u201c") and "受付" not in english_text
    window = N_("組織の確認は%(window)sが行います。", window=Message(COCREATION_WINDOW))
    assert gettext(window) == "Organizations are verified by the Co-creation Promotion Division."


def test_joined_messages_are_translated_part_by_part(english: None) -> None:
    parts = [N_("選択肢を2つ以上入力してください。"), N_("選択肢は%(limit)s個までです。", limit=30)]
    together = joined(parts)
    assert isinstance(together, Joined)
    assert together == "選択肢を2つ以上入力してください。 選択肢は30個までです。"
    assert gettext(together) == "Please enter at least two options. You can have up to 30 options."


def test_a_message_survives_pickling_with_its_template() -> None:
    message = N_(TEMPLATE, limit=7)
    copy = pickle.loads(pickle.dumps(message))
    assert copy == message and copy.template == TEMPLATE and copy.params == {"limit": 7}
    together = pickle.loads(pickle.dumps(joined([message, "x"])))
    assert together == message + " x" and together.parts == (message, "x")


# --- the flows, through HTTP ---------------------------------------------------------------------------


def citizen_form(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "公園にベンチを",
        "body": "近所の公園に木陰とベンチがほしい",
        "department": "子育て支援課",
        "sdg_goals": ["3", "11"],
        "ward": "chuo",
        **overrides,
    }


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (EN, f"The title must be {MAX_TITLE} characters or fewer."),
        (JA, f"タイトルは{MAX_TITLE}文字以内で入力してください。"),
    ],
)
def test_an_over_long_idea_title(client: Client, world: World, headers: dict[str, str], expected: str) -> None:
    client.login("citizen@example.jp")
    response = client.submit("/ideas", citizen_form(title="あ" * (MAX_TITLE + 1)), headers=headers)
    assert response.status_code == 422
    assert expected in text_of(response.text)


def _closed_challenge(client: Client, world: World) -> Any:
    app = world.storage.app
    env = app.sign_up(
        email="env@example.jp",
        display_name="env",
        password_hash=PASSWORD_HASH,
        role=Role.STAFF,
        department="環境保全課",
    )
    biz = app.sign_up(email="biz@example.jp", display_name="biz", password_hash=PASSWORD_HASH, role=Role.BUSINESS)
    app.register_organisation(biz, kind="corporation", name="トヨタ自動車株式会社", corporate_number="1180301018771")
    past = datetime.now(clock.CITY_TZ) - timedelta(days=20)
    with clock.frozen_at(past):
        challenge = app.draft_challenge(
            staff_id=env, title="締切済みの課題", background="b", shareable_data="", outcomes="o", sdg_goals=[],
            deadline=clock.city_date(past) + timedelta(days=1),
        )  # fmt: skip
        app.publish_challenge(challenge, staff_id=env)
    world.storage.projector.catch_up()
    client.login("biz@example.jp")
    return challenge


PROPOSAL = {"title": "食品ロス見える化アプリ", "summary": "売れ残り", "plan": "アプリ", "effect": "半減"}
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"


def _send_proposal(client: Client, challenge: Any, headers: dict[str, str]) -> Any:
    form = {**PROPOSAL, "cost_yen": "0", "challenge": str(challenge), "submission_key": str(uuid4())}
    return client.post(
        "/proposals",
        data=form,
        files={"file": ("plan.pdf", PDF, "application/pdf")},  # the form is multipart, as a browser sends it
        headers={"x-csrftoken": client.csrf(), **headers},
        follow_redirects=False,
    )


def test_a_proposal_to_a_closed_challenge(client: Client, world: World) -> None:
    challenge = _closed_challenge(client, world)
    english = _send_proposal(client, challenge, EN)
    assert english.status_code == 409
    assert "This challenge is no longer accepting proposals." in text_of(english.text)
    japanese = _send_proposal(client, challenge, JA)
    assert japanese.status_code == 409 and "この課題の提案募集は終了しています。" in text_of(japanese.text)
    # The API keeps its Japanese detail whatever the language; clients read the code.
    api = client.api_post("/api/v1/proposals", {**PROPOSAL, "cost_yen": 0, "challenge_id": str(challenge)}, headers=EN)
    assert api.status_code == 409
    assert api.json()["error"] == "challenge_closed" and api.json()["detail"] == "この課題の提案募集は終了しています。"


def _code(world: World, menu: Any) -> str:
    app = world.storage.app
    now = clock.now()
    code_id = app.issue_code(
        world.staff,
        menu,
        label="市民清掃デー",
        valid_from=now - timedelta(hours=1),
        valid_until=now + timedelta(hours=2),
    )
    return app.code_text(code_id)


def test_a_points_claim_over_the_limit(client: Client, world: World) -> None:
    today = clock.city_today()
    rule = MenuRule(
        points=100, budget=100_000, valid_from=today - timedelta(days=1), valid_until=today + timedelta(days=30),
        limit=Limit.ONCE, per_year=1, expires_after_days=None,
    )  # fmt: skip
    menu = world.storage.app.define_menu(
        world.staff, name="スマホ教室", sdg_goals=[4], rule=rule, trigger=Trigger.VENUE_CODE
    )
    client.login("citizen@example.jp")
    assert client.submit("/points/claim", {"code": _code(world, menu)}).status_code == 303
    english = client.submit("/points/claim", {"code": _code(world, menu)}, headers=EN)
    assert english.status_code == 409
    expected = "You have reached the maximum number of times you can earn points from this menu."
    assert expected in text_of(english.text)
    japanese = client.submit("/points/claim", {"code": _code(world, menu)}, headers=JA)
    assert "このメニューで獲得できる回数の上限に達しています。" in text_of(japanese.text)


def test_a_survey_answer_missing_a_required_field(client: Client, world: World) -> None:
    client.login("citizen@example.jp")
    form = {world.q_multi: ["0"], world.q_scale: "4", world.q_number: "2"}  # the single choice left out
    english = client.submit(f"/surveys/{world.survey}/answer", form, headers=EN)
    assert english.status_code == 422
    page = text_of(english.text)
    assert "Please make a choice." in page and "選択してください。" not in page
    assert "回答に誤りがあります" not in page  # the form's summary line is English too
    japanese = client.submit(f"/surveys/{world.survey}/answer", form, headers=JA)
    assert japanese.status_code == 422 and "選択してください。" in text_of(japanese.text)
    # htmx swaps in the form alone: the fragment speaks the same language.
    fragment = client.submit(f"/surveys/{world.survey}/answer", form, headers={**EN, "hx-request": "true"})
    assert fragment.status_code == 422 and "<html" not in fragment.text
    assert "Please make a choice." in text_of(fragment.text)


@pytest.mark.parametrize(
    ("english_options", "quoted"),
    [
        # Without a translation the option is what staff wrote: quoted as written, in an English sentence.
        ((), "\u201c特にない\u201d"),
        # With one, the survey's own English.
        (("Benches", "Shade", "Nothing"), "\u201cNothing\u201d"),
    ],
)
def test_an_exclusive_option_ticked_with_another(
    client: Client, world: World, english_options: tuple[str, ...], quoted: str
) -> None:
    app = world.storage.app
    survey = app.draft_survey(staff_id=world.staff, title="公園アンケート", description="説明")
    question = app.add_question(
        survey, staff_id=world.staff, kind="multiple", text="必要なもの", options=["ベンチ", "木陰", "特にない"],
        exclusive=[2],
    )  # fmt: skip
    if english_options:
        app.provide_survey_translation(
            survey, staff_id=world.staff, language="en", title="Park survey", description="About parks",
            questions={question: QuestionTranslation(text="What is needed", options=english_options)},
        )  # fmt: skip
    app.publish_survey(survey, staff_id=world.staff)
    world.storage.projector.catch_up()
    client.login("citizen@example.jp")
    form = {question: ["0", "2"]}
    english = client.submit(f"/surveys/{survey}/answer", form, headers=EN)
    assert english.status_code == 422
    assert f"{quoted} cannot be chosen together with other options." in text_of(english.text)
    japanese = client.submit(f"/surveys/{survey}/answer", form, headers=JA)
    assert "「特にない」は他の選択肢と一緒には選べません。" in text_of(japanese.text)


def test_a_refusal_by_a_guard_is_shown_in_english(client: Client, world: World) -> None:
    client.login("citizen@example.jp")
    refused = client.get("/staff", headers=EN)
    assert refused.status_code == 403
    assert "Only staff can use this." in text_of(refused.text)
    assert "職員のみが利用できます。" in text_of(client.get("/staff", headers=JA).text)


def test_the_api_detail_and_field_errors_stay_japanese_in_english(client: Client, world: World) -> None:
    client.login("citizen@example.jp")
    response = client.api_post(f"/api/v1/surveys/{world.survey}/responses", {"answers": {}}, headers=EN)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_answers"
    assert body["detail"] == "回答に誤りがあります。赤字の項目を確認してください。"
    assert body["field_errors"][world.q_single] == "選択してください。"
