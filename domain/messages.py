"""Marks a message for translation where it is defined; the web translates it where it is shown.

The domain speaks Japanese, the source of truth. `N_` changes nothing at run time: it only lets
Babel's extractor (`make messages`) find labels kept in constants, such as the wards' names.

A message with values (a limit, a name) is written as one whole sentence with named placeholders,
`N_("質問は%(limit)s問までです。", limit=20)`, so that a translator sees the sentence, not pieces.
It returns a `Message`: a `str` that reads as the Japanese sentence with the values filled in, exactly
as an f-string would have (so the API's `detail`, logs and comparisons see what they always saw), and
that remembers its template and values, so that the web can translate the template first and fill the
values in afterwards (`Message.translate`, which `web.i18n.gettext` calls).
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any


class Message(str):
    """A Japanese sentence that still knows its template and values, to be translated whole."""

    template: str
    params: Mapping[str, Any]

    def __new__(cls, template: str, params: Mapping[str, Any] | None = None) -> "Message":
        params = dict(params or {})
        self = super().__new__(cls, _fill(template, params, lambda value: value))
        self.template = template
        self.params = params
        return self

    def translate(self, gettext: Callable[[str], str]) -> str:
        """The sentence in another language: the template through `gettext`, then the values."""
        return _fill(gettext(self.template), self.params, lambda value: _translated(value, gettext))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.template, self.params))


class Joined(Message):
    """Several messages shown as one (a form's problems in a summary line), each translated alone."""

    parts: tuple[str, ...]
    separator: str

    def __new__(cls, parts: Iterable[str], separator: str = " ") -> "Joined":
        parts = tuple(parts)
        self = str.__new__(cls, separator.join(parts))
        self.template, self.params, self.parts, self.separator = separator.join(parts), {}, parts, separator
        return self

    def translate(self, gettext: Callable[[str], str]) -> str:
        # Each part is a sentence of its own (a `Message`, or a plain marked string).
        return self.separator.join(
            part.translate(gettext) if isinstance(part, Message) else gettext(part) for part in self.parts
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.parts, self.separator))


def N_(message: str, /, **params: Any) -> str:
    """Marks `message` for extraction; with values, a `Message` that is filled in after translation."""
    return Message(message, params) if params else message


def joined(messages: Iterable[str], separator: str = " ") -> str:
    """Messages shown together; each part is translated on its own where the whole is shown."""
    return Joined(messages, separator)


def _translated(value: Any, gettext: Callable[[str], str]) -> Any:
    # A value that is itself a message (a stage's label, a nested sentence) is translated too;
    # numbers, names and what people wrote are filled in as they are.
    if isinstance(value, Message):
        return value.translate(gettext)
    return value


def _fill(template: str, params: Mapping[str, Any], convert: Callable[[Any], Any]) -> str:
    # Without values the text is used as written, so a literal "%" needs no escaping.
    if not params:
        return template
    return template % {name: convert(value) for name, value in params.items()}
