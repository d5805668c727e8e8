"""What a person writes is sealed under their own data key (AES-256-GCM).

The keys live in a key store apart from the events. Erasing a person destroys their key, and with
it every copy of their text: in the event log, in backups of it, anywhere the ciphertext went.
"""

import os
from typing import Protocol
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class DataKeys(Protocol):
    """The key store: one key per person, destroyed on erasure and never created again."""

    def key_for(self, participant_id: UUID) -> bytes | None:
        """The person's key, made on first use; None once it has been destroyed."""

    def existing_key(self, participant_id: UUID) -> bytes | None:
        """The person's key if they have one; never makes one."""

    def keys_of(self, participant_ids: list[UUID]) -> dict[UUID, bytes]:
        """The live keys of these people (the erased are missing)."""

    def destroy(self, participant_id: UUID) -> None: ...


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, text: str, context: str) -> bytes:
    """Nonce and ciphertext; `context` (where the text belongs) is authenticated, so a sealed
    text cannot be moved to another response or question unnoticed."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, text.encode("utf-8"), context.encode("utf-8"))


def unseal(key: bytes, sealed: bytes, context: str) -> str | None:
    """The text, or None if it was not sealed under this key for this context."""
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context.encode("utf-8")).decode("utf-8")
    except (InvalidTag, ValueError):
        return None


def text_context(response_id: UUID | str, question_id: str) -> str:
    return f"response/{response_id}/{question_id}"
