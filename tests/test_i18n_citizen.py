"""The citizen's own pages in English: home, a survey (and its preview for a visitor), thanks, /me for a
citizen and a business, sign-up, login, the password reset pages and the reset mail itself.

Each page must say `<html lang="en">`, show its headings, labels and buttons in English, and leave no
Japanese UI text in its chrome (the heuristic of tests/test_i18n_pages.py); a survey's title is the
staff's English where they gave one, and Japanese (content) where they did not.
"""

import re
import time
from uuid import UUID

import pytest

from domain.questions import QuestionTranslation
from domain.values import Role
from projections.storage import Storage
from tests.conftest import PASSWORD_HASH, Client, World
from tests.test_i18n_pages import untranslated
from tests.test_mailer import Inbox, inbox, mail_settings  # noqa: F401  (the real SMTP server fixture)
from web.app import create_app
from web.settings import Settings

ENGLISH = {"accept-language": "en"}
LINK = re.compile(r"https://kyoso\.example\.jp/password/reset\?token=([0-9a-f]{32}\.\d+\.[A-Za-z0-9_-]+)")


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the language of a page does not depend on the storage engine


# What the test city's staff wrote: content, Japanese in every language where no English was given.
CONTENT = {"保育", "医療", "公園", "満足度", "ご意見", "必要な支援"}


def english(client: Client, url: str, *expected: str, status: int = 200) -> str:
    page = client.get(url, headers=ENGLISH)
    assert page.status_code == status, (url, page.status_code, page.text[:300])
    html = str(page.text)
    assert '<html lang="en">' in html and page.headers["content-language"] == "en", url
    missing = [text for text in expected if text not in html]
    assert not missing, (url, missing)
    left = untranslated(html, CONTENT)
    assert left == [], (url, left)
    return html


def translate_title(storage: Storage, world: World) -> None:
    storage.app.provide_survey_translation(
        world.survey,
        staff_id=world.staff,
        language="en",
        title="Childcare survey",
        description="About childcare",
        questions={world.q_single: QuestionTranslation(text="Stay here?", options=("Yes", "No", "Not sure"))},
    )
    storage.projector.catch_up()


def test_home_lists_surveys_in_english_with_their_english_titles(
    storage: Storage, client: Client, world: World
) -> None:
    translate_title(storage, world)
    home = english(client, "/", "City surveys", "All departments", "Childcare survey")
    assert "子育てアンケート" not in home  # the staff's English replaces the title
    storage.app.close_survey(world.survey, staff_id=world.staff)
    storage.app.publish_results(world.survey, staff_id=world.staff)
    storage.projector.catch_up()
    published = english(client, "/", "Surveys with published results", "Childcare survey")
    assert re.search(r"<h3><a href=\"/surveys/[^\"]+/results\">Childcare survey</a></h3>", published)


def test_a_visitor_previews_a_survey_in_english_and_is_asked_to_sign_up(
    storage: Storage, client: Client, world: World
) -> None:
    translate_title(storage, world)
    page = english(
        client,
        f"/surveys/{world.survey}",
        "<h1>Childcare survey</h1>",
        "The questions (5 in all, preview)",
        "Sign up to answer",
        "Choose one.",
        "Choose all that apply (up to 2).",
        "Answer with a number (0 to 10).",
        "Write freely (up to 200 characters).",
        "Stay here?",  # the question the staff translated
        "必要な支援",  # and one they did not, in Japanese: content falls back
    )
    assert "Open" in page.split('class="meta"')[1].split("</p>")[0]  # the status label, in English


def test_a_citizen_answers_in_english_and_is_thanked_in_english(storage: Storage, client: Client, world: World) -> None:
    translate_title(storage, world)
    client.login("citizen@example.jp")
    english(client, f"/surveys/{world.survey}", "Childcare survey")
    storage.app.submit_response(world.survey, world.citizen, world.valid_answers())
    storage.projector.catch_up()
    thanks = english(
        client,
        f"/surveys/{world.survey}/thanks",
        "Thank you for your answers",
        "We have received your answers to “Childcare survey”.",
        "The results will be published after the survey closes.",
    )
    assert "子育てアンケート" not in thanks
    storage.app.close_survey(world.survey, staff_id=world.staff)
    storage.app.publish_results(world.survey, staff_id=world.staff)
    storage.projector.catch_up()
    english(client, f"/surveys/{world.survey}/thanks", "have already been published", "See the results")


def test_me_for_a_citizen_in_english_lists_answers_by_their_english_title(
    storage: Storage, client: Client, world: World
) -> None:
    translate_title(storage, world)
    storage.app.submit_response(world.survey, world.citizen, world.valid_answers())
    storage.projector.catch_up()
    client.login("citizen@example.jp")
    me = english(
        client,
        "/me",
        "<h1>Account details</h1>",
        "Surveys I have answered",
        "(Japan time)",
        "Results not yet published",
        "Sign-in details",
        "Change e-mail address",
        "Change password",
        "Delete my account",
        'name="ward"',
    )
    history = me.split('id="answers"')[1].split("</section>")[0]
    assert "Childcare survey" in history and "子育てアンケート" not in history
    # A form error from the route comes back in English too.
    wrong = client.submit(
        "/me/password",
        {"current_password": "not-it-at-all", "new_password": "a-long-new-one", "new_password_confirm": "x"},
        headers=ENGLISH,
    )
    assert wrong.status_code == 422
    assert "The current password is incorrect." in wrong.text and "The two passwords do not match." in wrong.text
    taken = client.submit(
        "/me/email", {"new_email": "staff@example.jp", "email_password": "wrong-password"}, headers=ENGLISH
    )
    assert taken.status_code == 422 and "The current password is incorrect." in taken.text
    saved = english(client, "/me?saved=password", "Your password has been changed.")
    assert 'role="status"' in saved


@pytest.fixture
def business(storage: Storage) -> UUID:
    return storage.app.sign_up(
        email="biz@example.jp", display_name="担当", password_hash=PASSWORD_HASH, role=Role.BUSINESS
    )


def test_me_for_a_business_in_english_points_to_the_business_home(client: Client, business: UUID) -> None:
    client.login("biz@example.jp")
    me = english(client, "/me", "This is a business account.", 'href="/business">business home page</a>')
    assert 'name="ward"' not in me
    refused = client.submit("/me", {"ward": "sonoda"}, headers=ENGLISH)
    assert refused.status_code == 403


def test_sign_up_pages_in_english_with_english_errors(client: Client, world: World) -> None:
    english(client, "/signup", "<h1>Sign up</h1>", "E-mail address", "Nickname", "business sign-up", "terms of use")
    english(client, "/signup/business", 'lang="en"')
    refused = client.submit(
        "/signup",
        {"email": "not-an-address", "display_name": "", "password": "long-enough-password"},
        headers=ENGLISH,
    )
    assert refused.status_code == 422
    for message in (
        "Please check what you entered.",
        "The e-mail address is not in a valid format.",
        "Enter a nickname.",
        "You need to agree to the terms of use and the privacy policy.",
    ):
        assert message in refused.text, message
    taken = client.submit(
        "/signup",
        {"email": "citizen@example.jp", "display_name": "x", "password": "long-enough-password", "agree": "on"},
        headers=ENGLISH,
    )
    assert taken.status_code == 422 and "This e-mail address is already registered" in taken.text


def test_login_in_english_with_an_english_error(client: Client) -> None:
    english(client, "/login?next=/me", "<h1>Sign in</h1>", "Forgot your password?", 'href="/signup?next=/me"')
    failed = client.submit("/login", {"email": "nobody@example.jp", "password": "wrong"}, headers=ENGLISH)
    assert failed.status_code == 401 and "The e-mail address or password is incorrect." in failed.text


def test_password_forgot_and_reset_pages_in_english(client: Client) -> None:
    forgot = english(client, "/password/forgot", "<h1>Reset your password</h1>", "Send the reset link")
    assert "E-mail cannot be sent at the moment" in forgot  # no SMTP server in this test
    english(client, "/password/reset?token=nonsense", "<h1>Set a new password</h1>", "Send a new link", status=400)


def _wait_for_mail(handler: Inbox, count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while len(handler.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(handler.messages) >= count, f"{len(handler.messages)} of {count} messages arrived"


def test_a_reset_mail_asked_for_in_english_is_english_and_in_japanese_japanese(
    storage: Storage,
    settings: Settings,
    world: World,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    handler, port = inbox
    app = create_app(mail_settings(settings, port), storage)
    with Client(app=app, base_url="https://kyoso.example.jp") as client:
        sent = client.submit("/password/forgot", {"email": "citizen@example.jp"}, headers=ENGLISH)
        assert sent.status_code == 200 and "we have sent it a link" in sent.text and '<html lang="en">' in sent.text
        _wait_for_mail(handler, 1)
        message = handler.messages[0][1]
        assert message["Subject"] == "[Kyoso] Reset your password"
        body = message.get_body().get_content()  # type: ignore[union-attr]
        body = body.replace("\r\n", "\n")
        assert body.startswith("Dear 市民,\n")
        assert "Open the link below to set a new password." in body and "(Japan time)" in body
        assert LINK.search(body), body
        assert not re.search(r"[\u3040-\u30ff]", body.replace("市民", "")), body  # no Japanese but the name

        # The same account asking in Japanese gets the Japanese mail: the request's language decides.
        client.submit("/password/forgot", {"email": "citizen@example.jp"})
        _wait_for_mail(handler, 2)
        japanese = handler.messages[1][1]
        assert japanese["Subject"] == "【共創 Kyoso】パスワードの再設定"
        assert "日本時間" in japanese.get_body().get_content()  # type: ignore[union-attr]
