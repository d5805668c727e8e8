"""A notice to the address a person had, when their sign-in address changes.

Whoever changed it (the person, or someone with their password) now receives every mail of the
account, password resets included; the old address is the one place the real owner still reads.
It goes like a reset mail, straight to SMTP (web/direct_mail.py), and says where the account
moved only in part: enough to recognise it, not a second copy of somebody's address.
"""

from datetime import datetime
from typing import Any

from web import direct_mail
from web.i18n import gettext
from web.templating import format_datetime as city_datetime


def masked(email: str) -> str:
    """`n•••@example.jp`: the first character and the domain."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


def email_changed_text(display_name: str, new_email: str, when: datetime) -> dict[str, str]:
    """The sentences in the current language (marked here: Babel extracts Python and .html only)."""
    return {
        "subject": gettext("【共創 Kyoso】メールアドレスが変更されました"),
        "greeting": gettext("%(name)s 様") % {"name": display_name},
        "changed": gettext(
            "%(when)s（日本時間）に、共創 Kyoso のログイン用メールアドレスが %(email)s に変更されました。"
        )
        % {"when": city_datetime(when), "email": masked(new_email)},
        "from_now": gettext("今後のお知らせは新しいアドレスに届き、このアドレスには届きません。"),
        "not_you": gettext(
            "お心当たりのない場合は、第三者がログインした可能性があります。市の担当窓口までご連絡ください。"
        ),
        "footer": gettext("このメールは送信専用です。共創 Kyoso"),
    }


def render_email_changed(
    environment: Any, *, language: str, display_name: str, new_email: str, when: datetime
) -> tuple[str, str]:
    """The subject and body of mail/email_changed.txt, in the language of the page that made the change."""
    return direct_mail.render(
        environment, "mail/email_changed.txt", language, lambda: email_changed_text(display_name, new_email, when)
    )
