"""Citizens' and businesses' journeys (issue 12), without a browser, on SQLite and PostgreSQL:
password reset by e-mail through a real SMTP server (signed, single use, expiring within the hour,
rate limited), changing the password and the e-mail address on /me, 回答済み and the answer
history, the thanks page, the preview before sign-up, and a company's /me."""

import re
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from domain.values import Role
from projections.storage import Storage
from tests.conftest import PASSWORD, PASSWORD_HASH, Client, World
from tests.test_mailer import Inbox, inbox, mail_settings  # noqa: F401  (the real SMTP server fixture)
from web.app import create_app
from web.password_reset import RESET_TTL, make_token, reset_key, verify_token
from web.passwords import hash_password, verify_password
from web.settings import Settings

NEW_PASSWORD = "a-brand-new-passphrase"
LINK = re.compile(r"https://kyoso\.example\.jp/password/reset\?token=([0-9a-f]{32}\.\d+\.[A-Za-z0-9_-]+)")


def _token(storage: Storage, pid: UUID, now: float | None = None) -> str:
    identity = storage.identities.get(pid)
    assert identity is not None
    return make_token(reset_key(storage), pid, identity.password_hash, identity.email, now=now)


def _events(storage: Storage) -> bytes:
    return b"".join(n.state for n in storage.app.recorder.select_notifications(start=1, limit=10_000))


def _wait_for_mail(handler: Inbox, count: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while len(handler.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(handler.messages) >= count, f"{len(handler.messages)} of {count} messages arrived"


# The token's rules


def test_a_reset_token_works_until_the_password_changes_then_never_again(storage: Storage, world: World) -> None:
    key = reset_key(storage)
    token = _token(storage, world.citizen)
    assert verify_token(storage, key, token) == world.citizen
    assert verify_token(storage, key, token) == world.citizen  # verifying alone does not use it up
    storage.identities.update_password_hash(world.citizen, hash_password(NEW_PASSWORD))
    assert verify_token(storage, key, token) is None
    # Even the same password again gets a new salt, so the old link stays dead.
    storage.identities.update_password_hash(world.citizen, PASSWORD_HASH)
    assert verify_token(storage, key, token) is None


def test_a_reset_token_expires_within_the_hour(storage: Storage, world: World) -> None:
    assert RESET_TTL <= 3600
    key = reset_key(storage)
    issued = time.time()
    token = _token(storage, world.citizen, now=issued)
    assert verify_token(storage, key, token, now=issued + RESET_TTL - 1) == world.citizen
    assert verify_token(storage, key, token, now=issued + RESET_TTL) is None
    assert verify_token(storage, key, token, now=issued + 3600) is None


def test_a_forged_tampered_or_foreign_token_is_refused(storage: Storage, world: World) -> None:
    key = reset_key(storage)
    token = _token(storage, world.citizen)
    pid, expires, mac = token.split(".")
    later = str(int(expires) + 60)
    assert verify_token(storage, key, f"{pid}.{later}.{mac}") is None  # a longer life
    assert verify_token(storage, key, f"{world.staff.hex}.{expires}.{mac}") is None  # someone else's account
    assert verify_token(storage, key, f"{pid}.{expires}.{mac[:-2]}AA") is None
    assert verify_token(storage, b"another deployment's key", token) is None
    hostile = [f"{pid}.{expires}²." + mac, f"{pid}.{expires}.{mac[:-1]}あ", f"{pid}.{'9' * 40}.{mac}"]
    for junk in ("", "x", "..", f"{pid}.{expires}", f"{pid}.-1.{mac}", f"{'z' * 32}.{expires}.{mac}", *hostile):
        assert verify_token(storage, key, junk) is None
    # A token made far in the future is refused even with a right MAC: nothing lives past RESET_TTL.
    far = _token(storage, world.citizen, now=time.time() + 7200)
    assert verify_token(storage, key, far) is None


def test_changing_the_address_voids_links_sent_to_the_old_one(storage: Storage, world: World, client: Client) -> None:
    token = _token(storage, world.citizen)
    client.login("citizen@example.jp")
    response = client.submit("/me/email", {"new_email": "new-citizen@example.jp", "email_password": PASSWORD})
    assert response.status_code == 303
    assert verify_token(storage, reset_key(storage), token) is None


# Password reset through the pages and a real SMTP server


def _mail_client(settings: Settings, storage: Storage, port: int, **more: Any) -> Client:
    configured = mail_settings(settings, port, **more)
    return Client(app=create_app(configured, storage), base_url="https://kyoso.example.jp")


def test_a_reset_link_arrives_by_mail_sets_a_new_password_once_and_ends_other_sessions(
    storage: Storage,
    settings: Settings,
    world: World,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    handler, port = inbox
    with _mail_client(settings, storage, port) as other, _mail_client(settings, storage, port) as client:
        other.login("citizen@example.jp")  # signed in elsewhere: a reset must sign that browser out
        assert other.get("/me", follow_redirects=False).status_code == 200

        response = client.submit("/password/forgot", {"email": "Citizen@Example.jp"})
        assert response.status_code == 200 and "リンクを送りました" in response.text
        _wait_for_mail(handler, 1)
        [(envelope, message)] = handler.messages
        assert envelope.rcpt_tos == ["citizen@example.jp"]
        assert message["Subject"] == "【共創 Kyoso】パスワードの再設定"
        assert "List-Unsubscribe" not in message  # a transactional message, not a notice
        body = message.get_body().get_content()  # type: ignore[union-attr]
        assert "日本時間" in body and "1回だけ" in body
        match = LINK.search(body)
        assert match, body
        token = match[1]
        link = f"/password/reset?token={token}"

        page = client.get(link)
        assert page.status_code == 200 and 'name="token"' in page.text
        assert page.headers["cache-control"] == "no-store"
        mismatch = client.submit(
            "/password/reset", {"token": token, "password": NEW_PASSWORD, "password_confirm": "something-else"}
        )
        assert mismatch.status_code == 422 and "一致しません" in mismatch.text
        done = client.submit(
            "/password/reset", {"token": token, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
        )
        assert done.status_code == 303 and done.headers["location"] == "/me?saved=password"
        assert client.get("/me").status_code == 200  # signed in, with a fresh session

        identity = storage.identities.get(world.citizen)
        assert identity is not None and verify_password(identity.password_hash, NEW_PASSWORD)
        time.sleep(5.1)  # past the session store's per-process cache
        assert other.get("/me", follow_redirects=False).status_code in (302, 303, 401)

        again = client.submit(
            "/password/reset", {"token": token, "password": "yet-another-passphrase", "password_confirm": "x"}
        )
        assert again.status_code == 400 and "使えません" in again.text
        assert client.get(link).status_code == 400
    assert b"citizen@example.jp" not in _events(storage)


@pytest.fixture
def citizen_with_mail(
    storage: Storage,
    settings: Settings,
    world: World,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> Iterator[tuple[Inbox, Client]]:
    """The citizen signed in, on an app that sends mail to a real SMTP server, and its inbox."""
    handler, port = inbox
    with _mail_client(settings, storage, port) as client:
        client.login("citizen@example.jp")
        yield handler, client


def test_the_old_address_is_told_when_the_sign_in_address_changes(
    storage: Storage, citizen_with_mail: tuple[Inbox, Client]
) -> None:
    handler, client = citizen_with_mail
    wrong = client.submit("/me/email", {"new_email": "thief@example.jp", "email_password": "not-my-password"})
    assert wrong.status_code == 422  # refused: nothing changed, nobody told
    moved = client.submit("/me/email", {"new_email": "New-Citizen@Example.jp", "email_password": PASSWORD})
    assert moved.status_code == 303
    _wait_for_mail(handler, 1)
    [(envelope, message)] = handler.messages
    assert envelope.rcpt_tos == ["citizen@example.jp"]  # the address the account had
    assert message["Subject"] == "【共創 Kyoso】メールアドレスが変更されました"
    body = message.get_body().get_content()  # type: ignore[union-attr]
    assert "n•••@example.jp" in body and "new-citizen@example.jp" not in body
    assert "日本時間" in body and "窓口" in body

    # In English when the change was made in English; the same address again tells nobody.
    back = client.submit(
        "/me/email",
        {"new_email": "citizen@example.jp", "email_password": PASSWORD},
        headers={"accept-language": "en"},
    )
    assert back.status_code == 303
    _wait_for_mail(handler, 2)
    envelope, message = handler.messages[1]
    assert envelope.rcpt_tos == ["new-citizen@example.jp"]
    assert message["Subject"] == "[Kyoso] Your e-mail address was changed"
    assert "c•••@example.jp" in message.get_body().get_content()  # type: ignore[union-attr]
    same = client.submit("/me/email", {"new_email": "citizen@example.jp", "email_password": PASSWORD})
    assert same.status_code == 303
    time.sleep(0.5)
    assert len(handler.messages) == 2
    assert b"citizen@example.jp" not in _events(storage)


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    storage: Storage,
    settings: Settings,
    world: World,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    handler, port = inbox
    with _mail_client(settings, storage, port) as client:
        known = client.submit("/password/forgot", {"email": "citizen@example.jp"})
        unknown = client.submit("/password/forgot", {"email": "nobody@example.jp"})
    assert known.status_code == unknown.status_code == 200
    strip = re.compile(r'value="[^"]*"|name="csrf[^"]*"')
    assert strip.sub("", known.text).replace("citizen@example.jp", "") == strip.sub("", unknown.text).replace(
        "nobody@example.jp", ""
    )
    _wait_for_mail(handler, 1)
    time.sleep(0.5)
    assert [e.rcpt_tos for e, _ in handler.messages] == [["citizen@example.jp"]]


def test_an_expired_link_is_refused_and_the_password_stays(storage: Storage, client: Client, world: World) -> None:
    token = _token(storage, world.citizen, now=time.time() - RESET_TTL - 1)
    assert client.get(f"/password/reset?token={token}").status_code == 400
    for hostile in (token.replace(".", "².", 1), token + "あ", "." * 5000):
        assert client.get("/password/reset", params={"token": hostile}).status_code == 400
    before = storage.identities.get(world.citizen)
    response = client.submit(
        "/password/reset", {"token": token, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )
    assert response.status_code == 400
    assert storage.identities.get(world.citizen) == before


def test_reset_requests_are_rate_limited_like_sign_in(
    storage: Storage,
    settings: Settings,
    world: World,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    handler, port = inbox
    with _mail_client(settings, storage, port, auth_rate_limit_per_minute=3) as client:
        codes = [client.submit("/password/forgot", {"email": "citizen@example.jp"}).status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        # The same budget as /login: the address that asked too often cannot try passwords either.
        assert client.submit("/login", {"email": "citizen@example.jp", "password": PASSWORD}).status_code == 429
    _wait_for_mail(handler, 3)


def test_at_most_three_reset_mails_an_hour_reach_one_address(
    storage: Storage,
    settings: Settings,
    world: World,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    handler, port = inbox
    with _mail_client(settings, storage, port) as client:
        for _ in range(5):
            assert client.submit("/password/forgot", {"email": "citizen@example.jp"}).status_code == 200
    _wait_for_mail(handler, 3)
    time.sleep(0.5)
    assert len(handler.messages) == 3


def test_without_smtp_the_page_says_mail_cannot_be_sent(client: Client, world: World) -> None:
    response = client.submit("/password/forgot", {"email": "citizen@example.jp"})
    assert response.status_code == 503 and "メールを送信できない" in response.text


# Changing the password and the address on /me


def test_changing_the_password_needs_the_current_one_rotates_the_session_and_signs_out_elsewhere(
    storage: Storage, settings: Settings, world: World
) -> None:
    app = create_app(settings, storage)
    with (
        Client(app=app, base_url="http://testserver.local") as client,
        Client(app=app, base_url="http://testserver.local") as other,
    ):
        client.login("citizen@example.jp")
        other.login("citizen@example.jp")
        before = client.cookies.get(settings.session_cookie)
        wrong = client.submit(
            "/me/password",
            {"current_password": "not-my-password", "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD},
        )
        assert wrong.status_code == 422 and "現在のパスワードが正しくありません" in wrong.text
        identity = storage.identities.get(world.citizen)
        assert identity is not None and verify_password(identity.password_hash, PASSWORD)
        short = client.submit(
            "/me/password", {"current_password": PASSWORD, "new_password": "short", "new_password_confirm": "short"}
        )
        assert short.status_code == 422 and "10文字以上" in short.text
        ok = client.submit(
            "/me/password",
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_confirm": NEW_PASSWORD},
        )
        assert ok.status_code == 303 and ok.headers["location"].startswith("/me?saved=password")
        after = client.cookies.get(settings.session_cookie)
        assert after and after != before
        assert "パスワードを変更しました" in client.get(ok.headers["location"]).text  # still signed in
        time.sleep(5.1)  # past the session store's per-process cache
        assert other.get("/me", follow_redirects=False).status_code in (302, 303, 401)
    with Client(app=create_app(settings, storage), base_url="http://testserver.local") as fresh:
        assert fresh.submit("/login", {"email": "citizen@example.jp", "password": PASSWORD}).status_code == 401
        assert fresh.submit("/login", {"email": "citizen@example.jp", "password": NEW_PASSWORD}).status_code == 303


def test_wrong_current_passwords_count_towards_the_sign_in_lock(
    storage: Storage, settings: Settings, client: Client, world: World
) -> None:
    client.login("citizen@example.jp")
    for _ in range(settings.login_failure_limit):
        client.submit("/me/email", {"new_email": "x@example.jp", "email_password": "guess-guess-guess"})
    locked = client.submit("/me/email", {"new_email": "x@example.jp", "email_password": PASSWORD})
    assert locked.status_code == 422 and "しばらく待って" in locked.text
    identity = storage.identities.get(world.citizen)
    assert identity is not None and identity.email == "citizen@example.jp"


def test_changing_the_address_needs_the_password_and_a_free_address(
    storage: Storage, client: Client, world: World
) -> None:
    client.login("citizen@example.jp")
    before = _events(storage)
    wrong = client.submit("/me/email", {"new_email": "hanako@example.jp", "email_password": "not-my-password"})
    assert wrong.status_code == 422
    taken = client.submit("/me/email", {"new_email": "STAFF@example.jp", "email_password": PASSWORD})
    assert taken.status_code == 422 and "すでに登録されています" in taken.text
    bad = client.submit("/me/email", {"new_email": "not-an-address", "email_password": PASSWORD})
    assert bad.status_code == 422 and "形式が正しくありません" in bad.text
    identity = storage.identities.get(world.citizen)
    assert identity is not None and identity.email == "citizen@example.jp"
    ok = client.submit("/me/email", {"new_email": "Hanako@Example.jp", "email_password": PASSWORD})
    assert ok.status_code == 303
    assert storage.identities.get(world.citizen).email == "hanako@example.jp"  # type: ignore[union-attr]
    assert "hanako@example.jp" in client.get("/me").text
    # Personal data stays out of the events: the change wrote none.
    assert _events(storage) == before
    client.submit("/logout")
    assert client.submit("/login", {"email": "citizen@example.jp", "password": PASSWORD}).status_code == 401
    assert client.submit("/login", {"email": "hanako@example.jp", "password": PASSWORD}).status_code == 303


# Answered surveys, the history, the thanks page and the preview


def test_home_marks_answered_surveys_and_me_lists_them_with_results_once_published(
    storage: Storage, client: Client, world: World
) -> None:
    other = storage.app.draft_survey(staff_id=world.staff, title="公園アンケート", description="")
    storage.app.add_question(other, staff_id=world.staff, kind="single", text="よく行く?", options=["はい", "いいえ"])
    storage.app.publish_survey(other, staff_id=world.staff)
    storage.app.submit_response(world.survey, world.citizen, world.valid_answers())
    storage.projector.catch_up()

    assert "回答済み" not in client.get("/").text  # a visitor has answered nothing
    client.login("citizen@example.jp")
    home = client.get("/").text
    answered = re.findall(r'<li class="card answered" data-answered="true">.*?</li>', home, re.S)
    assert len(answered) == 1 and "子育てアンケート" in answered[0] and "回答済み" in answered[0]
    assert "公園アンケート" in home and home.count("回答済み") == 2  # the tag and its spoken twin

    me = client.get("/me").text
    history = me.split('id="answers"')[1].split("</section>")[0]
    assert "子育てアンケート" in history and "公園アンケート" not in history
    assert "集計結果は公開前です" in history
    submitted = storage.db.query("SELECT submitted_at FROM participant_responses")[0][0]
    from web.templating import format_datetime

    assert format_datetime(submitted) in history  # Japan time
    storage.app.close_survey(world.survey, staff_id=world.staff)
    storage.app.publish_results(world.survey, staff_id=world.staff)
    storage.projector.catch_up()
    history = client.get("/me").text.split('id="answers"')[1].split("</section>")[0]
    assert f'href="/surveys/{world.survey}/results"' in history


def test_the_thanks_page_links_to_results_that_are_already_public(
    storage: Storage, client: Client, world: World
) -> None:
    client.login("citizen@example.jp")
    before = client.get(f"/surveys/{world.survey}/thanks").text
    assert "締切のあと公開されます" in before and f"/surveys/{world.survey}/results" not in before
    storage.app.close_survey(world.survey, staff_id=world.staff)
    storage.app.publish_results(world.survey, staff_id=world.staff)
    storage.projector.catch_up()
    after = client.get(f"/surveys/{world.survey}/thanks").text
    assert "すでに公開されています" in after and f'href="/surveys/{world.survey}/results"' in after
    assert "公開されると" not in after and "公開されます" not in after


def test_a_visitor_previews_the_questions_read_only_with_a_sign_up_call(
    storage: Storage, client: Client, world: World
) -> None:
    page = client.get(f"/surveys/{world.survey}").text
    assert "質問の内容（全5問・プレビュー）" in page
    for text in (
        "住み続けたい?",
        "わからない",
        "必要な支援",
        "2つまで",
        "満足度",
        "子どもの人数",
        "ご意見",
        "200文字まで",
    ):
        assert text in page
    assert "<form" not in page.split('class="survey-preview"')[1].split("</section>")[0]
    assert f"/signup?next=/surveys/{world.survey}" in page
    # An exclusive option such as 「特にない」 says so in the preview too.
    other = storage.app.draft_survey(staff_id=world.staff, title="困りごと", description="")
    storage.app.add_question(
        other, staff_id=world.staff, kind="multiple", text="困っていること", options=["通勤", "買い物", "特にない"],
        exclusive=[2],
    )  # fmt: skip
    storage.app.publish_survey(other, staff_id=world.staff)
    storage.projector.catch_up()
    preview = client.get(f"/surveys/{other}").text
    assert '特にない<span class="muted small">（他の選択肢と同時には選べません）' in preview
    client.login("citizen@example.jp")
    signed_in = client.get(f"/surveys/{world.survey}").text
    assert "survey-preview" not in signed_in and 'class="answer-form"' in signed_in


# A business's /me


@pytest.fixture
def business(storage: Storage) -> UUID:
    return storage.app.sign_up(
        email="biz@example.jp", display_name="担当", password_hash=PASSWORD_HASH, role=Role.BUSINESS
    )


def test_a_company_is_not_asked_for_ward_age_or_children(client: Client, business: UUID, storage: Storage) -> None:
    client.login("biz@example.jp")
    me = client.get("/me").text
    assert 'name="ward"' not in me and 'name="age_band"' not in me and 'name="has_children"' not in me
    assert 'href="/business"' in me and 'action="/me/password"' in me
    refused = client.submit("/me", {"ward": "sonoda", "age_band": "30s", "has_children": "yes"})
    assert refused.status_code == 403
    assert storage.app.get_participant(business).attributes.ward is None


def test_the_citizen_sign_up_points_businesses_to_theirs(client: Client) -> None:
    assert 'href="/signup/business"' in client.get("/signup").text
    assert 'href="/password/forgot"' in client.get("/login").text


def test_no_personal_data_enters_the_events_of_a_reset(
    storage: Storage,
    settings: Settings,
    world: World,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    _, port = inbox
    with _mail_client(settings, storage, port) as client:
        client.submit("/password/forgot", {"email": "citizen@example.jp"})
        token = _token(storage, world.citizen)
        client.submit("/password/reset", {"token": token, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    events = _events(storage)
    assert b"citizen@example.jp" not in events and token.encode() not in events
