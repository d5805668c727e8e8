"""The port to the one erasable place where personal data lives, outside the event stream."""

from typing import Protocol
from uuid import UUID

import msgspec


class Identity(msgspec.Struct, frozen=True):
    participant_id: UUID
    email: str
    display_name: str
    password_hash: str


class Consent(msgspec.Struct, frozen=True):
    """The versions of the terms of use (利用規約) and privacy policy a person agreed to."""

    terms_version: str
    privacy_version: str


class IdentityStore(Protocol):
    def add(self, identity: Identity) -> None:
        """Stores a new identity; raises EmailAlreadyRegistered if the e-mail is taken."""

    def find_by_email(self, email: str) -> Identity | None: ...

    def get(self, participant_id: UUID) -> Identity | None: ...

    def update_password_hash(self, participant_id: UUID, password_hash: str) -> None: ...

    def erase(self, participant_id: UUID) -> None: ...


def normalise_email(email: str) -> str:
    return email.strip().lower()
