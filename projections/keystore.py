"""The key store for personal data: one AES key per person, in the read-model database, apart
from the events. Destroying a key leaves a tombstone, so no key is ever made again for that person."""

import os
import threading
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

from domain.personal_data import new_key
from projections.database import Cursor, Database

# Sealing new text needs the key on every submission; a destroyed key that lingers here only
# seals text nobody can ever read, since the tombstone stops a new key being made.
_CACHE_SIZE = 50_000
# Keys looked up per statement; SQLite allows 32,766 parameters.
_CHUNK = 5000


class SQLDataKeys:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: OrderedDict[UUID, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def key_for(self, participant_id: UUID) -> bytes | None:
        with self._lock:
            key = self._cache.get(participant_id)
        if key is not None:
            return key
        row = self.db.query_one("SELECT key FROM data_keys WHERE participant_id = ?", (str(participant_id),))
        if row is not None:  # Made at registration: a read, not a write, on the submission path.
            key = bytes(row[0]) if row[0] is not None else None
            if key is not None:
                self._remember(participant_id, key)
            return key
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO data_keys (participant_id, key, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (participant_id) DO NOTHING",
                (str(participant_id), new_key(), datetime.now(UTC).isoformat()),
            )
            row = cur.execute("SELECT key FROM data_keys WHERE participant_id = ?", (str(participant_id),)).fetchone()
        key = bytes(row[0]) if row and row[0] is not None else None
        if key is not None:
            self._remember(participant_id, key)
        return key

    def existing_key(self, participant_id: UUID) -> bytes | None:
        row = self.db.query_one("SELECT key FROM data_keys WHERE participant_id = ?", (str(participant_id),))
        return bytes(row[0]) if row and row[0] is not None else None

    def keys_of(self, participant_ids: list[UUID]) -> dict[UUID, bytes]:
        with self.db.transaction() as cur:
            return {UUID(k): v for k, v in live_keys(cur, (str(p) for p in participant_ids)).items()}

    def destroy(self, participant_id: UUID) -> None:
        with self._lock:
            self._cache.pop(participant_id, None)
        now = datetime.now(UTC).isoformat()
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO data_keys (participant_id, key, created_at, destroyed_at) VALUES (?, NULL, ?, ?)"
                " ON CONFLICT (participant_id) DO UPDATE SET key = NULL, destroyed_at = excluded.destroyed_at",
                (str(participant_id), now, now),
            )

    def _remember(self, participant_id: UUID, key: bytes) -> None:
        with self._lock:
            self._cache[participant_id] = key
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)


def live_keys(cur: Cursor, participant_ids: Iterable[str]) -> dict[str, bytes]:
    """The live keys of these people, read inside the caller's transaction (never cached, so a
    projection cannot open text with a key destroyed a moment ago)."""
    wanted = list(dict.fromkeys(participant_ids))
    found: dict[str, bytes] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        cur.execute(f"SELECT participant_id, key FROM data_keys WHERE participant_id IN ({marks})", chunk)
        found.update({pid: bytes(key) for pid, key in cur.fetchall() if key is not None})
    return found


def shared_secret(db: Database, name: str) -> bytes:
    """A secret every server of one deployment shares (the venue-code key), made on first use.

    Kept in the database rather than in a server's data directory, so that a code shown by one
    server is accepted by another."""
    candidate = os.urandom(32)
    with db.transaction() as cur:
        cur.execute(
            "INSERT INTO signing_keys (name, secret) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", (name, candidate)
        )
        cur.execute("SELECT secret FROM signing_keys WHERE name = ?", (name,))
        row = cur.fetchone()
    assert row is not None
    return bytes(row[0])
