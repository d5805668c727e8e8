"""Attachment content, kept by SHA-256 in the read-model database, outside the events.

A table rather than files under the data directory: on PostgreSQL the web workers may run on
machines that share no disk, and a row commits or not with the same guarantees as everything else.
"""

from datetime import UTC, datetime

import msgspec

from projections.database import Database


class StoredFile(msgspec.Struct, frozen=True):
    sha256: str
    content: bytes
    media_type: str
    size: int


class AttachmentStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, sha256: str, content: bytes, media_type: str) -> None:
        # The same content twice is one row: the key is its digest.
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO attachments (sha256, content, media_type, size, stored_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (sha256) DO NOTHING",
                (sha256, content, media_type, len(content), datetime.now(UTC).isoformat()),
            )

    def get(self, sha256: str) -> StoredFile | None:
        row = self.db.query_one("SELECT sha256, content, media_type, size FROM attachments WHERE sha256 = ?", (sha256,))
        return StoredFile(row[0], bytes(row[1]), row[2], row[3]) if row else None
