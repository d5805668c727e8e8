"""Password reset by e-mail: a signed link that works once, and for at most RESET_TTL.

A token reads `{participant id hex}.{expiry, Unix seconds}.{MAC}`. The MAC (HMAC-SHA256 under a
key every server of the deployment shares, kept in the database by projections.keystore) covers
the id, the expiry, and the account's current password hash and e-mail address. Setting a new
password changes the hash (argon2 salts every hash), so a link that has been used no longer
verifies: single use by construction, with no table of used tokens to keep or clean. Changing the
e-mail address likewise voids any link sent to the old one.

The message goes straight to the SMTP server, not through the outbox (web/direct_mail.py): it
must reach people who never opted in to notices, and its link is a credential that should sit in
no table.
"""

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from projections.keystore import shared_secret
from projections.storage import Storage
from web import direct_mail
from web.i18n import gettext
from web.templating import format_datetime as city_datetime

RESET_TTL = 30 * 60  # seconds: well within the hour
_KEY_NAME = "password-reset"


def reset_key(storage: Storage) -> bytes:
    return shared_secret(storage.db, _KEY_NAME)


def _mac(key: bytes, participant_id: UUID, expires: int, password_hash: str, email: str) -> str:
    message = b"\n".join(
        [b"kyoso-password-reset", participant_id.bytes, str(expires).encode(), password_hash.encode(), email.encode()]
    )
    return base64.urlsafe_b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode().rstrip("=")


def make_token(key: bytes, participant_id: UUID, password_hash: str, email: str, now: float | None = None) -> str:
    expires = int(now if now is not None else time.time()) + RESET_TTL
    return f"{participant_id.hex}.{expires}.{_mac(key, participant_id, expires, password_hash, email)}"


def token_expiry(token: str) -> datetime | None:
    """When a well-formed token stops working (for the mail's text), without checking its MAC."""
    parts = token.split(".")
    if len(parts) != 3 or not (parts[1].isascii() and parts[1].isdigit()):
        return None
    return datetime.fromtimestamp(int(parts[1]), UTC)


def verify_token(storage: Storage, key: bytes, token: str, now: float | None = None) -> UUID | None:
    """Whose password this token may reset, or None: malformed, forged, expired, or already used
    (the password changed since), or the e-mail changed, or the account is gone."""
    parts = (token or "").split(".")
    # ASCII first: str.isdigit admits "²", which int() refuses, and compare_digest refuses non-ASCII text.
    if len(parts) != 3 or not token.isascii() or len(parts[0]) != 32 or not parts[1].isdigit() or len(parts[1]) > 12:
        return None
    try:
        participant_id = UUID(hex=parts[0])
    except ValueError:
        return None
    expires = int(parts[1])
    moment = now if now is not None else time.time()
    if moment >= expires or expires - moment > RESET_TTL:
        return None
    identity = storage.identities.get(participant_id)
    if identity is None:
        return None
    expected = _mac(key, participant_id, expires, identity.password_hash, identity.email)
    return participant_id if hmac.compare_digest(parts[2], expected) else None


def mail_text(display_name: str, expires: datetime | None) -> dict[str, str]:
    """The mail's sentences in the current language. They are marked here, not in the .txt template,
    because the catalogue is extracted from Python and the .html templates (babel.cfg)."""
    return {
        "subject": gettext("【共創 Kyoso】パスワードの再設定"),
        "greeting": gettext("%(name)s 様") % {"name": display_name},
        "received": gettext("共創 Kyoso のパスワードの再設定を受け付けました。"),
        "open_link": gettext("次のリンクを開いて、新しいパスワードを設定してください。"),
        "expires": gettext("このリンクは %(expires)s（日本時間）まで、1回だけ使えます。")
        % {"expires": city_datetime(expires)},
        "not_you": gettext("お心当たりのない場合は、このメールを破棄してください。パスワードは変わりません。"),
        "footer": gettext("このメールは送信専用です。共創 Kyoso"),
    }


def render_mail(
    environment: Any, *, language: str, display_name: str, link: str, expires: datetime | None
) -> tuple[str, str]:
    """The subject and body of mail/password_reset.txt, in the language of the request that asked
    for it (the account may not have saved one, and the person reads this one)."""
    return direct_mail.render(
        environment, "mail/password_reset.txt", language, lambda: mail_text(display_name, expires), link=link
    )
