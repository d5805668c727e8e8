"""The interface language: Japanese, the source of truth, and English from a Babel catalogue.

Messages are written in Japanese in the templates and the code; `web/locale/en/LC_MESSAGES/messages.po`
holds their English. The catalogue is read from its `.po` text at start-up (no compiled `.mo` to fall
out of date), and a message it lacks stays Japanese rather than showing an empty string.

The language of a request comes from, in order: the `kyoso_lang` cookie (set by the visible switch and,
for a signed-in person, from their saved preference), then `Accept-Language`, then Japanese.
"""

from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from domain.messages import Message as RuleMessage
from web.auth import SESSION_KEY, standing_of, standings

LANGUAGES: dict[str, str] = {"ja": "日本語", "en": "English"}
DEFAULT = "ja"
COOKIE = "kyoso_lang"
CATALOGUES = Path(__file__).parent / "locale"
DOMAIN = "messages"
ONE_YEAR = 365 * 24 * 3600

_language: ContextVar[str] = ContextVar("kyoso_language", default=DEFAULT)


def current_language() -> str:
    """The language of the request being handled (Japanese outside a request)."""
    return _language.get()


def use_language(language: str) -> Any:
    """Sets the language for the current context (a request, a CLI job, a test); returns a reset token."""
    return _language.set(language if language in LANGUAGES else DEFAULT)


@cache
def translations(language: str) -> NullTranslations:
    if language == DEFAULT:
        return NullTranslations()
    path = CATALOGUES / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as po:
        catalogue = read_po(po, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    # Fuzzy entries are guesses awaiting review: showing Japanese is better than showing a wrong guess.
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(message: str) -> str:
    # A rule's message with values (domain.messages.Message) is translated whole, then filled in.
    if isinstance(message, RuleMessage):
        return message.translate(gettext)
    return translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_language.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return translations(_language.get()).pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return translations(_language.get()).npgettext(context, singular, plural, n)


class Translated(Mapping[Any, Any]):
    """A table of Japanese labels (wards, age bands, SDG goals) read in the request's language.

    Nested tables (a segment's values) are translated too, so templates index them as before.
    """

    def __init__(self, labels: Mapping[Any, Any]) -> None:
        self._labels = labels

    def __getitem__(self, key: Any) -> Any:
        value = self._labels[key]
        if isinstance(value, str):
            return gettext(value)
        if isinstance(value, Mapping):
            return Translated(value)
        return value

    def __iter__(self) -> Iterator[Any]:
        return iter(self._labels)

    def __len__(self) -> int:
        return len(self._labels)


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The language a request asks for: an explicit choice first, then the browser's preferences."""
    if cookie in LANGUAGES:
        return cookie
    if accept_language:
        preferred = [part.split(";")[0].strip().replace("-", "_") for part in accept_language.split(",")]
        chosen = negotiate_locale([p for p in preferred if p and p != "*"], list(LANGUAGES), sep="_")
        if chosen:
            return chosen
    return DEFAULT


def _cookie_value(raw_cookies: Iterable[bytes]) -> str | None:
    for raw in raw_cookies:
        for part in raw.decode("latin-1").split(";"):
            name, _, value = part.strip().partition("=")
            if name == COOKIE:
                return value
    return None


def _saved_language(scope: Scope) -> str | None:
    """The language a signed-in person chose; None for everyone else. It comes with their standing,
    which the page reads anyway (web/auth.py), so it costs no query of its own."""
    session = scope.get("session")
    user = session.get(SESSION_KEY) if isinstance(session, dict) else None
    participant_id = user.get("participant_id") if isinstance(user, dict) else None
    if not isinstance(participant_id, str):
        return None
    storage = scope["app"].state.storage
    saved = standings.get(participant_id, lambda: standing_of(storage, participant_id)).language
    return saved if saved in LANGUAGES else None


def language_cookie(language: str, secure: bool) -> bytes:
    flags = "; Secure" if secure else ""
    return f"{COOKIE}={language}; Path=/; Max-Age={ONE_YEAR}; HttpOnly; SameSite=Lax{flags}".encode()


class LocaleMiddleware:
    """Sets the request's language before any handler or template runs, and says which it used.

    It runs after the session middleware, so that a signed-in person's saved choice can apply on a
    device that has no choice of its own yet; the response then stores it there as the cookie, so
    the read model is asked once per device, not once per request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", [])
        cookie = _cookie_value(v for k, v in headers if k == b"cookie")
        remember: bytes | None = None
        saved = None if cookie in LANGUAGES else _saved_language(scope)
        if saved:
            language = saved
            remember = language_cookie(saved, scope["app"].state.settings.secure_cookies)
        else:
            accept = next((v.decode("latin-1") for k, v in headers if k == b"accept-language"), None)
            language = choose(cookie, accept)
        scope.setdefault("state", {})["language"] = language
        token = _language.set(language)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent = list(message.get("headers", []))
                sent.append((b"content-language", language.encode()))
                # The same address answers in two languages: a cache must keep them apart.
                sent.append((b"vary", b"Accept-Language"))
                if remember:
                    sent.append((b"set-cookie", remember))
                message["headers"] = sent  # type: ignore[typeddict-unknown-key]
            await send(message)

        try:
            await self.app(scope, receive, send_with_language)
        finally:
            _language.reset(token)


def install(env: Any) -> None:
    """Jinja's i18n extension with callables that follow the request's language."""
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext)
    env.globals.update(current_language=current_language, LANGUAGES=LANGUAGES)
