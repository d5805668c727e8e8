"""Mail that goes straight to the SMTP server, not through the outbox: a password-reset link, a
notice that the sign-in address changed. It must reach people who never opted in to notices,
carries no unsubscribe link, and what it holds (a link that is a credential) sits in no table.

Sent from a background thread, so that a page answers in the same time whether or not a mail goes.
The server is KYOSO_SMTP_URL's, connected the way web.mailer connects.
"""

import contextvars
import logging
import threading
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from projections.storage import Storage
from web.i18n import use_language
from web.mailer import Mailer, new_message
from web.settings import Settings

log = logging.getLogger(__name__)


def compose(settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    message = new_message(settings, to, subject)
    message.set_content(body, charset="utf-8")
    return message


def send_now(storage: Storage, settings: Settings, message: EmailMessage) -> bool:
    """Delivers one message; False (logged without the address) when it could not be."""
    mailer = Mailer(storage, settings)
    if not mailer.enabled:
        return False
    envelope_from = parseaddr(settings.mail_from)[1] or "no-reply@kyoso.local"
    try:
        connection = mailer._connect()
        try:
            connection.send_message(message, from_addr=envelope_from, to_addrs=[str(message["To"])])
        finally:
            connection.quit()
    except Exception as e:  # whatever went wrong, the person simply asks again; never a 500
        log.warning("%s mail not sent: %s", message.get("Subject", ""), type(e).__name__)
        return False
    return True


def send_in_background(storage: Storage, settings: Settings, message: EmailMessage) -> threading.Thread:
    thread = threading.Thread(target=send_now, args=(storage, settings, message), name="kyoso-direct-mail", daemon=True)
    thread.start()
    return thread


def render(
    environment: Any, template: str, language: str, sentences: Callable[[], dict[str, str]], **context: Any
) -> tuple[str, str]:
    """The subject (the template's first line) and body of a mail template, its sentences made by
    `sentences` in `language`: the one of the page that caused the mail, which the person reads."""

    def in_language() -> dict[str, str]:
        use_language(language)  # in a copied context: the caller's language stays as it was
        return sentences()

    text = contextvars.copy_context().run(in_language)
    rendered = environment.get_template(template).render(text=text, **context)
    subject, _, body = rendered.partition("\n")
    return subject.strip(), body.lstrip("\n")
