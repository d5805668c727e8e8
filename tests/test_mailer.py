"""The mailer against a real SMTP server (aiosmtpd on 127.0.0.1): what arrives, the one-click
unsubscribe link, retries after a refusal, and that a withdrawn consent stops later mail."""

import dataclasses
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlparse
from uuid import UUID

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from domain.values import Role
from projections.mail_outbox import enqueue
from projections.storage import Storage
from tests.conftest import PASSWORD_HASH, Client
from web.app import create_app
from web.mailer import Mailer, mail_status, parse_smtp_url, recipient_of, unsubscribe_token
from web.settings import Settings

SUBJECT = "【子育て支援課】子育てアンケートへのご協力のお願い"
BODY = "尼崎市では、子育て世帯の皆さまのご意見を伺うアンケートを実施しています。\nご協力をお願いします。"


class Inbox:
    """An aiosmtpd handler: keeps every accepted message; can refuse the first few with a code."""

    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, EmailMessage]] = []
        self.refusals: list[str] = []
        self.attempts = 0

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.attempts += 1
        if self.refusals:
            return self.refusals.pop(0)
        raw = envelope.original_content or envelope.content
        self.messages.append((envelope, message_from_bytes(raw, policy=policy.default)))  # type: ignore[arg-type]
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def mail_settings(settings: Settings, port: int, **more: Any) -> Settings:
    return dataclasses.replace(
        settings, smtp_url=f"smtp://127.0.0.1:{port}", base_url="https://kyoso.example.jp", **more
    )


def citizen(storage: Storage, email: str = "hanako@example.jp", *, opted_in: bool = True) -> UUID:
    pid = storage.app.sign_up(email=email, display_name="花子", password_hash=PASSWORD_HASH, role=Role.CITIZEN)
    if opted_in:
        storage.app.give_email_consent(pid)
    storage.projector.catch_up()
    return pid


def queue(storage: Storage, *recipients: UUID, reference: str = "notice-1", link: str = "/notices/notice-1") -> int:
    with storage.db.transaction() as cur:
        return enqueue(
            cur,
            kind="notice",
            reference=reference,
            recipients=[str(r) for r in recipients],
            subject=SUBJECT,
            body=BODY,
            link=link,
        )


def outbox(storage: Storage) -> list[tuple[Any, ...]]:
    return storage.db.query("SELECT participant_id, status, attempts, last_error FROM mail_outbox ORDER BY mail_id")


def test_a_queued_notice_arrives_in_japanese_with_one_click_unsubscribe(
    storage: Storage, settings: Settings, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    pid = citizen(storage)
    assert queue(storage, pid) == 1
    mailer = Mailer(storage, mail_settings(settings, port))
    assert mailer.send_due() == 1

    [(envelope, message)] = handler.messages
    assert envelope.rcpt_tos == ["hanako@example.jp"] and envelope.mail_from == "no-reply@kyoso.local"
    assert message["Subject"] == SUBJECT
    assert message["To"] == "hanako@example.jp" and "Kyoso" in message["From"]
    body = message.get_body().get_content()  # type: ignore[union-attr]
    assert message.get_body().get_content_charset() == "utf-8"  # type: ignore[union-attr]
    assert BODY in body and "https://kyoso.example.jp/notices/notice-1" in body
    token = unsubscribe_token("test-secret", pid)
    unsubscribe = f"https://kyoso.example.jp/unsubscribe?token={token}"
    assert f"配信停止（ワンクリック）：{unsubscribe}" in body
    assert message["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert outbox(storage) == [(str(pid), "delivered", 1, None)]
    # The address is looked up at sending time: it is in no row of the outbox.
    assert "hanako" not in repr(storage.db.query("SELECT * FROM mail_outbox"))
    assert "hanako" not in repr(storage.db.query("SELECT * FROM mail_messages"))
    assert mailer.send_due() == 0  # delivered once, not again


def test_following_the_unsubscribe_link_stops_later_mail(
    storage: Storage, settings: Settings, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    pid = citizen(storage)
    queue(storage, pid)
    configured = mail_settings(settings, port)
    Mailer(storage, configured).send_due()
    [(_, message)] = handler.messages
    url = urlparse(message["List-Unsubscribe"].strip("<>"))

    # The mail client's one-click POST (RFC 8058): no session, no CSRF token, a multipart body.
    with Client(app=create_app(configured, storage), base_url="https://kyoso.example.jp") as client:
        response = client.post(
            f"{url.path}?{url.query}", files={"List-Unsubscribe": (None, "One-Click")}, follow_redirects=False
        )
    assert response.status_code == 200 and "停止しました" in response.text
    assert not storage.app.get_participant(pid).email_opt_in
    storage.projector.catch_up()
    assert queue(storage, pid, reference="notice-2") == 0
    assert Mailer(storage, configured).send_due() == 0
    assert len(handler.messages) == 1


def test_consent_withdrawn_after_queuing_stops_the_mail_at_sending_time(
    storage: Storage, settings: Settings, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    stays, leaves, erased = (
        citizen(storage, "a@example.jp"),
        citizen(storage, "b@example.jp"),
        citizen(storage, "c@example.jp"),
    )
    assert queue(storage, stays, leaves, erased) == 3
    # Withdrawn and erased a moment ago: the projector has not even run, the mailer reads the events.
    storage.app.withdraw_email_consent(leaves, how="settings")
    storage.app.erase_participant(erased)
    assert Mailer(storage, mail_settings(settings, port)).send_due() == 3
    assert [m[0].rcpt_tos for m in handler.messages] == [["a@example.jp"]]
    statuses = {row[0]: (row[1], row[3]) for row in outbox(storage)}
    assert statuses == {
        str(stays): ("delivered", None),
        str(leaves): ("skipped", "opted_out"),
        str(erased): ("skipped", "erased"),
    }


def test_a_temporary_refusal_is_retried_after_a_backoff(
    storage: Storage, settings: Settings, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    handler.refusals.append("451 4.3.0 Try again later")
    pid = citizen(storage)
    queue(storage, pid)
    mailer = Mailer(storage, mail_settings(settings, port), retry_base=60)
    now = datetime.now(UTC)
    assert mailer.send_due(now) == 1
    assert handler.messages == [] and outbox(storage) == [(str(pid), "queued", 1, "SMTP 451")]
    assert mailer.send_due(now + timedelta(seconds=30)) == 0  # not due yet: the backoff holds
    assert mailer.send_due(now + timedelta(seconds=61)) == 1
    assert handler.attempts == 2 and len(handler.messages) == 1
    assert outbox(storage) == [(str(pid), "delivered", 2, None)]


def test_permanent_refusals_and_too_many_retries_fail(
    storage: Storage, settings: Settings, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    handler.refusals += ["550 5.1.1 No such user", "452 4.2.2 Mailbox full", "452 4.2.2 Mailbox full"]
    first, second = citizen(storage, "a@example.jp"), citizen(storage, "b@example.jp")
    queue(storage, first, second)
    mailer = Mailer(storage, mail_settings(settings, port), retry_base=1, max_attempts=2)
    now = datetime.now(UTC)
    assert mailer.send_due(now) == 2
    assert mailer.send_due(now + timedelta(seconds=5)) == 1
    # Sent in the outbox's order (by participant id): one was refused for good, the other twice for now.
    assert sorted(row[1:] for row in outbox(storage)) == [("failed", 1, "SMTP 550"), ("failed", 2, "SMTP 452")]
    assert handler.messages == []


def test_an_unreachable_server_keeps_mail_queued_without_using_up_attempts(
    storage: Storage, settings: Settings
) -> None:
    pid = citizen(storage)
    queue(storage, pid)
    mailer = Mailer(storage, mail_settings(settings, free_port()), timeout=2)
    now = datetime.now(UTC)
    assert mailer.send_due(now) == 0
    assert outbox(storage) == [(str(pid), "queued", 0, "unreachable")]
    assert mailer.send_due(now) == 0  # it waits before trying again


def test_without_smtp_url_nothing_is_sent_and_mail_stays_queued(storage: Storage, settings: Settings) -> None:
    pid = citizen(storage)
    queue(storage, pid)
    mailer = Mailer(storage, settings)
    assert not mailer.enabled and mailer.send_due() == 0
    assert mailer.start()._thread is None
    assert outbox(storage) == [(str(pid), "queued", 0, None)]
    assert mail_status(settings) == {"enabled": False, "server": None, "problem": None}


def test_the_mailer_starts_with_the_app_and_sends_in_the_background(
    storage: Storage, settings: Settings, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    pid = citizen(storage)
    configured = mail_settings(settings, port)
    with Client(app=create_app(configured, storage), base_url="http://testserver.local"):
        queue(storage, pid)
        deadline = time.monotonic() + 15
        while not handler.messages and time.monotonic() < deadline:
            time.sleep(0.1)
    assert len(handler.messages) == 1
    assert outbox(storage)[0][1] == "delivered"


def test_smtp_login_from_the_url(storage: Storage, settings: Settings) -> None:
    handler = Inbox()
    port = free_port()
    logins: list[tuple[bytes, bytes]] = []

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"p@ss word")

    controller = Controller(
        handler, hostname="127.0.0.1", port=port, authenticator=authenticate, auth_require_tls=False
    )
    controller.start()
    try:
        pid = citizen(storage)
        queue(storage, pid)
        configured = dataclasses.replace(settings, smtp_url=f"smtp://kyoso:p%40ss%20word@127.0.0.1:{port}")
        assert Mailer(storage, configured).send_due() == 1
    finally:
        controller.stop()
    assert logins == [(b"kyoso", b"p@ss word")] and len(handler.messages) == 1


def test_recipient_tokens_in_links_name_the_recipient(
    storage: Storage, settings: Settings, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    pid = citizen(storage)
    queue(storage, pid, link="/notices/notice-1?r={r}")
    Mailer(storage, mail_settings(settings, port)).send_due()
    body = handler.messages[0][1].get_body().get_content()  # type: ignore[union-attr]
    token = body.split("/notices/notice-1?r=")[1].split()[0]
    assert recipient_of("test-secret", token, "notice", "notice-1") == pid
    assert recipient_of("test-secret", token, "notice", "notice-2") is None
    assert recipient_of("other-secret", token, "notice", "notice-1") is None


@pytest.mark.parametrize(
    ("url", "described"),
    [
        ("smtp://mail.example.jp", "mail.example.jp:25"),
        ("smtps://u:p@mail.example.jp", "mail.example.jp:465（TLS）"),
        ("smtp+starttls://mail.example.jp:2525", "mail.example.jp:2525（STARTTLS）"),
    ],
)
def test_smtp_urls(url: str, described: str) -> None:
    assert parse_smtp_url(url).describe() == described


@pytest.mark.parametrize("url", ["http://mail.example.jp", "smtp://", "smtp://host:99999"])
def test_bad_smtp_urls_disable_mail_with_a_reason(url: str, tmp_path: Any) -> None:
    status = mail_status(Settings(data_dir=tmp_path, secret="s", smtp_url=url))
    assert status["enabled"] is False and status["problem"]
