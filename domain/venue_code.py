"""Venue codes: a signed, time-limited code that staff display (as a QR code) at an event.

The code a person scans or types is 16 characters of Crockford's base32: a 4-byte number naming
the code, then a 6-byte HMAC-SHA256 tag of it under the city's code key (48 bits: guessing one
online, through the rate limits, is out of reach). A forged or mistyped code
fails the tag check before anything is looked up; the key never enters an event, so a person who
can read the event log (an auditor) still cannot make a code.
"""

import hashlib
import hmac
import secrets
from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.aggregate import KyosoAggregate
from domain.errors import InvalidCommand
from domain.messages import N_
from domain.text import has_forbidden_characters

CODE_NAMESPACE = UUID("8e1d2c3b-4a5f-4e6d-9c8b-1a2b3c4d5e6f")
NUMBER_BYTES = 4
TAG_BYTES = 6
MAX_LABEL = 80
# Crockford's alphabet: no I, L, O or U, so a typed 1/I/L or 0/O means the same.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUES = {c: i for i, c in enumerate(ALPHABET)} | {"I": 1, "L": 1, "O": 0}


class InvalidCode(InvalidCommand):
    code = "invalid_code"
    message = N_("コードが正しくありません。もう一度確認してください。")

    def __init__(self) -> None:
        super().__init__(field_errors={"code": self.message})


def _encode(data: bytes) -> str:
    number = int.from_bytes(data)
    chars = []
    for _ in range(len(data) * 8 // 5):
        chars.append(ALPHABET[number & 31])
        number >>= 5
    return "".join(reversed(chars))


def _decode(text: str, size: int) -> bytes | None:
    number = 0
    for c in text:
        value = _VALUES.get(c)
        if value is None:
            return None
        number = number << 5 | value
    return number.to_bytes(size) if number < 1 << (size * 8) else None


def _tag(key: bytes, number: bytes) -> bytes:
    return hmac.new(key, b"kyoso-venue-code/" + number, hashlib.sha256).digest()[:TAG_BYTES]


def code_id(number: bytes) -> UUID:
    return uuid5(CODE_NAMESPACE, number.hex())


def new_number() -> bytes:
    return secrets.token_bytes(NUMBER_BYTES)


def code_text(key: bytes, number: bytes) -> str:
    """The code as shown: four groups of four characters."""
    raw = _encode(number + _tag(key, number))
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def read_code(key: bytes, text: str) -> UUID:
    """The id of the code a person scanned or typed; InvalidCode if it is malformed or forged."""
    cleaned = "".join(text.split()).replace("-", "").upper()
    size = NUMBER_BYTES + TAG_BYTES
    if len(cleaned) != size * 8 // 5:
        raise InvalidCode()
    data = _decode(cleaned, size)
    if data is None:
        raise InvalidCode()
    number, tag = data[:NUMBER_BYTES], data[NUMBER_BYTES:]
    if not hmac.compare_digest(tag, _tag(key, number)):
        raise InvalidCode()
    return code_id(number)


class VenueCode(KyosoAggregate):
    """A code for one menu at one venue, valid from one moment to another."""

    class Issued(Aggregate.Created):
        number: bytes
        menu_id: UUID
        label: str
        valid_from: datetime
        valid_until: datetime
        issued_by: UUID

    class Withdrawn(Aggregate.Event):
        withdrawn_by: UUID

    @staticmethod
    def create_id(number: bytes) -> UUID:  # type: ignore[override]
        return code_id(number)

    @classmethod
    def issue(
        cls, *, menu_id: UUID, label: str, valid_from: datetime, valid_until: datetime, issued_by: UUID
    ) -> "VenueCode":
        errors: dict[str, str] = {}
        label = label.strip()
        if not label or len(label) > MAX_LABEL or has_forbidden_characters(label):
            errors["label"] = N_("会場・催しの名前を%(limit)s文字以内で入力してください。", limit=MAX_LABEL)
        if valid_until <= valid_from:
            errors["valid_until"] = N_("終了日時は開始日時より後にしてください。")
        if errors:
            raise InvalidCommand(field_errors=errors)
        return cls(
            number=new_number(),
            menu_id=menu_id,
            label=label,
            valid_from=valid_from,
            valid_until=valid_until,
            issued_by=issued_by,
        )

    @event(Issued)
    def __init__(
        self, number: bytes, menu_id: UUID, label: str, valid_from: datetime, valid_until: datetime, issued_by: UUID
    ) -> None:
        self.number = number
        self.menu_id = menu_id
        self.label = label
        self.valid_from = valid_from
        self.valid_until = valid_until
        self.withdrawn = False

    def valid_at(self, moment: datetime) -> bool:
        return not self.withdrawn and self.valid_from <= moment < self.valid_until

    def text(self, key: bytes) -> str:
        return code_text(key, self.number)

    def withdraw(self, withdrawn_by: UUID) -> None:
        if not self.withdrawn:
            self._withdraw(withdrawn_by)

    @event(Withdrawn)
    def _withdraw(self, withdrawn_by: UUID) -> None:
        self.withdrawn = True
