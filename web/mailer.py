"""Sends the e-mail outbox (projections/mail_outbox.py) through the SMTP server of KYOSO_SMTP_URL.

A background thread, started with the web app, takes the due rows in batches. Taking a batch is
a claim: in one transaction the rows' next attempt moves a lease ahead and their attempt count
goes up, so other server processes (each runs a mailer) skip them, and a process that dies
mid-batch leaves its rows to be tried again once the lease runs out (at least once, never lost).

Each address is looked up in the identity store at the moment of sending, and the participant
aggregate is read then too: an erased person, or one who withdrew consent after the message
was queued, is skipped. The address never enters an event, the outbox or a log line.

A message refused with a 4xx is tried again later, after 1, 2, 4... times `retry_base`, until
`max_attempts`; a 5xx is a permanent failure. When the server cannot be reached at all, no
message is to blame: the batch is put back without using up attempts, and the mailer waits.

Every message carries a signed one-click unsubscribe link in its body and in the
List-Unsubscribe / List-Unsubscribe-Post headers (RFC 8058), so that mail clients can offer
「配信停止」 themselves.
"""

import base64
import contextlib
import hashlib
import hmac
import logging
import re
import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any
from urllib.parse import unquote, urlparse
from uuid import UUID

from domain.errors import NotFound
from projections.mail_outbox import DELIVERED, FAILED, QUEUED, SKIPPED, moment
from projections.storage import Storage
from web.settings import Settings

log = logging.getLogger(__name__)

SCHEMES = {"smtp": ("plain", 25), "smtps": ("tls", 465), "smtp+starttls": ("starttls", 587)}
MAX_BACKOFF = timedelta(hours=6)
_TOKEN = re.compile(r"^([0-9a-f]{32})\.([A-Za-z0-9_-]{24})$")


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str  # plain, tls (from the start) or starttls
    username: str | None = None
    password: str | None = None

    def describe(self) -> str:
        """Where mail goes, for the staff page: never the credentials."""
        return f"{self.host}:{self.port}" + {"plain": "", "tls": "（TLS）", "starttls": "（STARTTLS）"}[self.security]


def parse_smtp_url(url: str) -> SmtpServer:
    parsed = urlparse(url.strip())
    if parsed.scheme not in SCHEMES:
        raise ValueError("KYOSO_SMTP_URL must start with smtp://, smtps:// or smtp+starttls://")
    if not parsed.hostname:
        raise ValueError("KYOSO_SMTP_URL names no host")
    security, default_port = SCHEMES[parsed.scheme]
    port = parsed.port or default_port  # .port raises ValueError for a port out of range
    return SmtpServer(
        host=parsed.hostname,
        port=port,
        security=security,
        username=unquote(parsed.username) if parsed.username else None,
        password=unquote(parsed.password) if parsed.password else None,
    )


# Signed tokens. A link in an e-mail names a participant; the HMAC under the deployment's secret
# proves that Kyoso wrote it, so nobody can unsubscribe (or be counted as reading) someone else.


def _mac(secret: str, purpose: str, participant_id: UUID) -> str:
    key = hmac.new(secret.encode(), b"kyoso-mail:" + purpose.encode(), hashlib.sha256).digest()
    digest = hmac.new(key, participant_id.bytes, hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode()


def _sign(secret: str, purpose: str, participant_id: UUID) -> str:
    return f"{participant_id.hex}.{_mac(secret, purpose, participant_id)}"


def _verify(secret: str, purpose: str, token: str) -> UUID | None:
    match = _TOKEN.match(token or "")
    if match is None:
        return None
    participant_id = UUID(hex=match[1])
    if not hmac.compare_digest(match[2], _mac(secret, purpose, participant_id)):
        return None
    return participant_id


def unsubscribe_token(secret: str, participant_id: UUID) -> str:
    return _sign(secret, "unsubscribe", participant_id)


def unsubscribed_participant(secret: str, token: str) -> UUID | None:
    """Whom a one-click unsubscribe token names, or None for a malformed or forged one."""
    return _verify(secret, "unsubscribe", token)


def recipient_token(secret: str, kind: str, reference: str, participant_id: UUID) -> str:
    """Put in place of `{r}` in a message's link: names the recipient of that one message."""
    return _sign(secret, f"open:{kind}:{reference}", participant_id)


def recipient_of(secret: str, token: str, kind: str, reference: str) -> UUID | None:
    """Who followed a message's link (see recipient_token), or None for a malformed or forged token."""
    return _verify(secret, f"open:{kind}:{reference}", token)


def _absolute(base_url: str, link: str) -> str:
    if not link or link.startswith(("http://", "https://")):
        return link
    return base_url.rstrip("/") + "/" + link.lstrip("/")


def compose(
    settings: Settings,
    *,
    to: str,
    participant_id: UUID,
    kind: str,
    reference: str,
    subject: str,
    body: str,
    link: str,
) -> EmailMessage:
    secret = settings.resolved_secret()
    unsubscribe = _absolute(settings.base_url, f"/unsubscribe?token={unsubscribe_token(secret, participant_id)}")
    link = link.replace("{r}", recipient_token(secret, kind, reference, participant_id))
    lines = [body.rstrip(), ""]
    if link:
        lines += ["▼ 詳しくはこちら", _absolute(settings.base_url, link), ""]
    lines += [
        "―――",
        "このメールは、共創 Kyoso でメールでのお知らせの受け取りに同意された方にお送りしています。",
        "受け取る内容の設定：" + _absolute(settings.base_url, "/me/preferences"),
        "配信停止（ワンクリック）：" + unsubscribe,
    ]
    message = new_message(settings, to, subject)
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content("\n".join(lines) + "\n", charset="utf-8")
    return message


def new_message(settings: Settings, to: str, subject: str) -> EmailMessage:
    """A message's envelope headers, as every mail of Kyoso carries them; the body is the caller's."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.mail_from
    message["To"] = to
    message["Date"] = format_datetime(datetime.now(UTC))
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "kyoso.local"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    return message


class _Unreachable(Exception):
    """The server could not be reached or refused the session: no message is to blame."""


@dataclass(frozen=True)
class _Claimed:
    mail_id: int
    kind: str
    reference: str
    participant_id: str
    attempts: int


class Mailer:
    def __init__(
        self,
        storage: Storage,
        settings: Settings,
        *,
        batch_size: int = 100,
        max_attempts: int = 8,
        retry_base: float = 60.0,
        lease: float = 600.0,
        timeout: float = 30.0,
    ) -> None:
        self.storage = storage
        self.settings = settings
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.retry_base = timedelta(seconds=retry_base)
        self.lease = timedelta(seconds=lease)
        self.timeout = timeout
        self.problem: str | None = None
        self.server: SmtpServer | None = None
        if settings.smtp_url:
            try:
                self.server = parse_smtp_url(settings.smtp_url)
            except ValueError as e:
                self.problem = str(e)
                log.error("e-mail disabled: %s", e)
        self._outage = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self.server is not None

    # The background thread

    def start(self, interval: float = 5.0) -> "Mailer":
        """Sends in the background; does nothing when e-mail is not configured."""
        if self.enabled and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, args=(interval,), name="kyoso-mailer", daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout=self.timeout + 5)
            self._thread = None

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            wait = interval
            try:
                if self.send_due() == self.batch_size:
                    wait = 0
                elif self._outage:
                    wait = min(interval * 2**self._outage, 300)
            except Exception:
                log.exception("mailer failed; will retry")
                wait = max(interval, 2)
            if wait:
                self._wake.wait(wait)
                self._wake.clear()

    # One batch

    def send_due(self, now: datetime | None = None) -> int:
        """Sends one batch of the due rows; returns how many rows it settled (0 when none were due)."""
        if self.server is None:
            return 0
        now = now or datetime.now(UTC)
        claimed = self._claim(now)
        if not claimed:
            return 0
        messages = self._messages({(c.kind, c.reference) for c in claimed})
        connection: smtplib.SMTP | None = None
        try:
            for index, row in enumerate(claimed):
                try:
                    connection = self._send_one(row, messages, connection, now)
                except _Unreachable as e:
                    self._outage += 1
                    log.warning("SMTP server %s unreachable (%s); mails wait", self.server.describe(), e)
                    self._release(claimed[index:], now)
                    return index
            self._outage = 0
            return len(claimed)
        finally:
            if connection is not None:
                with contextlib.suppress(OSError, smtplib.SMTPException):
                    connection.quit()

    def _send_one(
        self,
        row: _Claimed,
        messages: dict[tuple[str, str], tuple[str, str, str]],
        connection: smtplib.SMTP | None,
        now: datetime,
    ) -> smtplib.SMTP | None:
        participant_id = UUID(row.participant_id)
        reason = self._reason_not_to_send(participant_id)
        identity = None if reason else self.storage.identities.get(participant_id)
        if reason is None and identity is None:
            reason = "no_address"
        message = messages.get((row.kind, row.reference))
        if reason is None and message is None:
            reason = "no_message"
        if reason or identity is None or message is None:
            self._settle(row, SKIPPED, reason, now)
            return connection
        subject, body, link = message
        email = compose(
            self.settings,
            to=identity.email,
            participant_id=participant_id,
            kind=row.kind,
            reference=row.reference,
            subject=subject,
            body=body,
            link=link,
        )
        envelope_from = parseaddr(self.settings.mail_from)[1] or "no-reply@kyoso.local"
        if connection is None:
            connection = self._connect()
        try:
            connection.send_message(email, from_addr=envelope_from, to_addrs=[identity.email])
        except smtplib.SMTPRecipientsRefused as e:
            self._refused(row, min(code for code, _ in e.recipients.values()), now)
        except (
            smtplib.SMTPServerDisconnected,
            smtplib.SMTPSenderRefused,  # our own sender address: every message would be refused alike
            smtplib.SMTPHeloError,
            smtplib.SMTPNotSupportedError,
        ) as e:
            raise _Unreachable(_describe(e)) from e
        except smtplib.SMTPResponseException as e:
            self._refused(row, e.smtp_code, now)
        except OSError as e:
            raise _Unreachable(_describe(e)) from e
        else:
            self._settle(row, DELIVERED, None, now)
        return connection

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        assert server is not None
        try:
            if server.security == "tls":
                connection: smtplib.SMTP = smtplib.SMTP_SSL(
                    server.host, server.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                connection = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
                if server.security == "starttls":
                    connection.starttls(context=ssl.create_default_context())
            if server.username:
                connection.login(server.username, server.password or "")
        except (OSError, smtplib.SMTPException) as e:  # SMTPException is an OSError; both named for clarity
            raise _Unreachable(_describe(e)) from e
        return connection

    def _reason_not_to_send(self, participant_id: UUID) -> str | None:
        """Read from the events, not the read model, so a withdrawal a moment ago already counts."""
        try:
            participant = self.storage.app.get_participant(participant_id)
        except NotFound:
            return "unknown"
        if participant.erased:
            return "erased"
        if not participant.email_opt_in:
            return "opted_out"
        return None

    def _refused(self, row: _Claimed, code: int, now: datetime) -> None:
        """A 4xx may pass later (greylisting, a full mailbox); a 5xx will not."""
        if 400 <= code < 500 and row.attempts < self.max_attempts:
            delay = min(self.retry_base * 2 ** (row.attempts - 1), MAX_BACKOFF)
            with self.storage.db.transaction() as cur:
                cur.execute(
                    "UPDATE mail_outbox SET status = ?, next_attempt_at = ?, last_error = ? WHERE mail_id = ?",
                    (QUEUED, moment(now + delay), f"SMTP {code}", row.mail_id),
                )
        else:
            self._settle(row, FAILED, f"SMTP {code}", now)

    # The outbox

    def _claim(self, now: datetime) -> list[_Claimed]:
        lock = " FOR UPDATE SKIP LOCKED" if self.storage.db.dialect == "postgres" else ""
        with self.storage.db.transaction() as cur:
            cur.execute(
                "SELECT mail_id, kind, reference, participant_id, attempts FROM mail_outbox"
                " WHERE status = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, mail_id LIMIT ?" + lock,
                (QUEUED, moment(now), self.batch_size),
            )
            claimed = [_Claimed(r[0], r[1], r[2], r[3], r[4] + 1) for r in cur.fetchall()]
            if claimed:
                cur.executemany(
                    "UPDATE mail_outbox SET attempts = ?, next_attempt_at = ? WHERE mail_id = ?",
                    [(c.attempts, moment(now + self.lease), c.mail_id) for c in claimed],
                )
        return claimed

    def _release(self, rows: list[_Claimed], now: datetime) -> None:
        """Puts rows back without using up their attempts: the server was unreachable, not refusing them."""
        delay = min(self.retry_base * 2 ** min(self._outage - 1, 16), MAX_BACKOFF)
        with self.storage.db.transaction() as cur:
            cur.executemany(
                "UPDATE mail_outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE mail_id = ?",
                [(r.attempts - 1, moment(now + delay), "unreachable", r.mail_id) for r in rows],
            )

    def _settle(self, row: _Claimed, status: str, error: str | None, now: datetime) -> None:
        with self.storage.db.transaction() as cur:
            cur.execute(
                "UPDATE mail_outbox SET status = ?, last_error = ?, sent_at = ? WHERE mail_id = ?",
                (status, error, moment(now) if status == DELIVERED else None, row.mail_id),
            )

    def _messages(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str, str]]:
        found: dict[tuple[str, str], tuple[str, str, str]] = {}
        for kind, reference in keys:
            row = self.storage.db.query_one(
                "SELECT subject, body, link FROM mail_messages WHERE kind = ? AND reference = ?", (kind, reference)
            )
            if row is not None:
                found[(kind, reference)] = (row[0], row[1], row[2])
        return found


def mail_status(settings: Settings) -> dict[str, Any]:
    """For staff pages: whether e-mail goes out, where to (never the credentials), or why not."""
    if not settings.smtp_url:
        return {"enabled": False, "server": None, "problem": None}
    try:
        return {"enabled": True, "server": parse_smtp_url(settings.smtp_url).describe(), "problem": None}
    except ValueError as e:
        return {"enabled": False, "server": None, "problem": str(e)}


def _describe(error: BaseException) -> str:
    """The error's type and SMTP code only: a server's text may quote the address."""
    code = getattr(error, "smtp_code", None)
    return f"{type(error).__name__} {code}" if code else type(error).__name__
