"""A tamper-evident event history: every stored event is chained to the one before it.

An event's digest is sha256 over the previous event's digest and the stored record (position,
topic, originator id, version, state), in an unambiguous length-prefixed encoding. The recorders
below write the digests of a whole batch into `<events table>_chain` in the same transaction as
the events, under the lock that already serialises writers, with one statement per batch.

Whoever can write to the database can also recompute the chain, so the chain alone only catches
edits made behind the recorder's back; signed checkpoints kept outside the database
(projections/checkpoints.py) pin its head, which catches a rewritten chain or a cut tail.
"""

from __future__ import annotations

import struct
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from hashlib import sha256
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, PersistenceError, StoredEvent
from eventsourcing.postgres import PostgresFactory, PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteCursor, SQLiteFactory, SQLiteProcessRecorder
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

# Digests are domain-separated from any other use of sha256 over the same bytes.
TAG = b"kyoso.event_chain.v1"
GENESIS = bytes(32)
PAGE = 20_000

_header = struct.Struct(">qqIII").pack

# A stored event as the chain sees it: position, topic, originator id bytes, version, state.
Record = tuple[int, str, bytes, int, bytes]
Progress = Callable[[int, int], None]


def link_digest(prev: bytes, position: int, topic: str, originator_id: bytes, version: int, state: bytes) -> bytes:
    """sha256(TAG, prev (32 bytes), position and version (int64 big-endian), the byte lengths of
    topic, originator id and state (uint32 big-endian), topic (UTF-8), originator id (the UUID's
    16 bytes), state), so that an auditor can recompute it with any sha256 tool."""
    topic_bytes = topic.encode()
    return sha256(
        b"".join(
            (
                TAG,
                prev,
                _header(position, version, len(topic_bytes), len(originator_id), len(state)),
                topic_bytes,
                originator_id,
                state,
            )
        )
    ).digest()


def chain_links(prev: bytes, records: Sequence[Record]) -> list[tuple[int, bytes]]:
    """The (position, digest) links for records in position order, continuing from `prev`."""
    links = []
    for position, topic, originator_id, version, state in records:
        prev = link_digest(prev, position, topic, originator_id, version, state)
        links.append((position, prev))
    return links


def originator_bytes(originator_id: UUID | str) -> bytes:
    return originator_id.bytes if isinstance(originator_id, UUID) else originator_id.encode()


class ChainBrokenError(PersistenceError):
    """The chain's head is not behind the new events: the store was changed outside the recorder."""


@dataclass(frozen=True)
class Link:
    position: int
    digest: bytes

    @property
    def hex(self) -> str:
        return self.digest.hex()


class Anchor(Protocol):
    """A trusted (position, digest) pair, e.g. a signed checkpoint; digest in hex."""

    @property
    def position(self) -> int: ...
    @property
    def digest(self) -> str: ...


class ChainStore(Protocol):
    """What verification reads; both recorders below provide it."""

    def events_after(self, after: int, limit: int) -> list[Record]: ...
    def links_between(self, after: int, upto: int) -> list[tuple[int, bytes]]: ...
    def link_at(self, position: int) -> bytes | None: ...
    def chain_head(self) -> Link | None: ...
    def first_orphan_link(self, after: int) -> int | None: ...
    def max_notification_id(self) -> int | None: ...


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int  # events found intact (on failure: those before the first bad position)
    head: Link | None  # the last link found intact
    first_bad_position: int | None = None
    reason: str | None = None
    checkpoint: int | None = None  # the position of the checkpoint that was checked, if any


class _Bad(Exception):
    def __init__(self, position: int, reason: str) -> None:
        super().__init__(reason)
        self.position = position
        self.reason = reason


def verify(
    source: Any,
    checkpoint: Anchor | None = None,
    *,
    resume: Link | None = None,
    page_size: int = PAGE,
    progress: Progress | None = None,
) -> Verification:
    """Recomputes the chain from the first event, or from `resume` (a link verified earlier), and
    checks it against `checkpoint`: its position must still hold an event with the same digest.

    `source` is the application or its recorder. Events and links are streamed in position order
    in large pages; the first bad position and why are reported, nothing is repaired.
    """
    store: ChainStore = getattr(source, "recorder", source)
    prev_position, prev = (resume.position, resume.digest) if resume else (0, GENESIS)
    head, count, checked = resume, 0, None
    anchor = (checkpoint.position, bytes.fromhex(checkpoint.digest)) if checkpoint else None
    total = store.max_notification_id() or 0
    try:
        if resume is not None and store.link_at(resume.position) != resume.digest:
            raise _Bad(resume.position, "前回検証した位置のリンクが変更または削除されています")
        if anchor is not None and resume is not None and anchor[0] <= resume.position:
            # Recomputed earlier; what is left to check is that its stored link still matches.
            if store.link_at(anchor[0]) != anchor[1]:
                raise _Bad(anchor[0], REWRITTEN)
            checked = anchor[0]
        while records := store.events_after(prev_position, page_size):
            last = records[-1][0]
            links = store.links_between(prev_position, last)
            problems = [_check_page(prev, records, links)]
            if anchor is not None and checked is None and prev_position < anchor[0] <= last:
                problems.append(_check_anchor(anchor, links))
                checked = anchor[0]
            found = [p for p in problems if p is not None]
            if found:
                bad = min(found, key=lambda p: p.position)
                # The records before it were recomputed and matched their links: count them as intact.
                intact = bisect_left(records, bad.position, key=lambda r: r[0])
                if intact:
                    head = Link(*links[intact - 1])
                count += intact
                raise bad
            prev_position, prev = links[-1]
            head = Link(prev_position, prev)
            count += len(records)
            if progress:
                progress(count, total)
        orphan = store.first_orphan_link(prev_position)
        if orphan is not None:
            raise _Bad(orphan, ORPHAN_LINK)
        if anchor is not None and checked is None:
            raise _Bad(
                prev_position + 1,
                f"履歴の末尾が切り取られています: 署名済みチェックポイントは位置 {anchor[0]} を指していますが、"
                f"履歴は位置 {prev_position} で終わっています",
            )
    except _Bad as bad:
        return Verification(False, count, head, bad.position, bad.reason, checked)
    return Verification(True, count, head, checkpoint=checked)


REWRITTEN = "署名済みチェックポイントのダイジェストと一致しません（それ以前の履歴が書き換えられています）"
ORPHAN_LINK = "イベントのないチェーンのリンクがあります（イベントが削除されています）"
UNCHAINED = "チェーンのリンクがないイベントがあります（記録の外から挿入されています）"
MALFORMED = "イベントの記録の型が正しくありません（記録の外から書き換えられています）"


def _check_page(prev: bytes, records: list[Record], links: list[tuple[int, bytes]]) -> _Bad | None:
    """Recomputes a page's digests from `prev`; the first problem in it, if any."""
    unpaired = None
    if [r[0] for r in records] != [link[0] for link in links]:
        k, unpaired = _first_unpaired(records, links)
        records, links = records[:k], links[:k]
    # The hot loop of verification: one sha256 over one joined buffer per event, nothing else.
    sha, join, header, tag = sha256, b"".join, _header, TAG
    encoded: dict[str, bytes] = {}
    position = records[0][0] if records else 0
    try:
        for (position, topic, originator_id, version, state), (_, stored) in zip(records, links, strict=True):
            topic_bytes = encoded.get(topic) or encoded.setdefault(topic, topic.encode())
            digest = sha(
                join(
                    (
                        tag,
                        prev,
                        header(position, version, len(topic_bytes), len(originator_id), len(state)),
                        topic_bytes,
                        originator_id,
                        state,
                    )
                )
            ).digest()
            if digest != stored:
                i = bisect_left(records, position, key=lambda r: r[0])
                return _Bad(position, _mismatch_reason(digest, i, records, links))
            prev = digest
    except (TypeError, ValueError, AttributeError, struct.error):
        # Only a value written behind the recorder's back has the wrong type (NULL, text for bytes...).
        return _Bad(position, MALFORMED)
    return unpaired


def _first_unpaired(records: list[Record], links: list[tuple[int, bytes]]) -> tuple[int, _Bad]:
    """Where events and links stop pairing up by position, and which side has the extra one."""
    k = 0
    while k < len(records) and k < len(links) and records[k][0] == links[k][0]:
        k += 1
    event = records[k][0] if k < len(records) else None
    link = links[k][0] if k < len(links) else None
    if link is None or (event is not None and event < link):
        return k, _Bad(event, UNCHAINED)  # type: ignore[arg-type]
    return k, _Bad(link, ORPHAN_LINK)


def _mismatch_reason(recomputed: bytes, i: int, records: list[Record], links: list[tuple[int, bytes]]) -> str:
    """Tells a changed event from a changed link by the next link, which was made from the original."""
    if i + 1 < len(records) and _well_formed(records[i + 1]):
        position, topic, originator_id, version, state = records[i + 1]
        following = links[i + 1][1]
        if link_digest(recomputed, position, topic, originator_id, version, state) == following:
            return "チェーンのリンクのダイジェストが変更されています"
        if link_digest(links[i][1], position, topic, originator_id, version, state) == following:
            return "イベントの内容（種類・集約ID・版・状態・位置）が変更されています"
    return (
        "ダイジェストが一致しません: この位置のイベントが変更されたか、直前のイベントが削除・挿入・並べ替えられています"
    )


def _well_formed(record: Record) -> bool:
    try:
        link_digest(GENESIS, *record)
    except (TypeError, ValueError, AttributeError, struct.error):
        return False
    return True


def _check_anchor(anchor: tuple[int, bytes], links: list[tuple[int, bytes]]) -> _Bad | None:
    position, digest = anchor
    i = bisect_left(links, position, key=lambda link: link[0])
    if i == len(links) or links[i][0] != position:
        return _Bad(position, "署名済みチェックポイントの位置のイベントがありません（削除されています）")
    if links[i][1] != digest:
        return _Bad(position, REWRITTEN)
    return None


# --- SQLite ----------------------------------------------------------------------------------


class ChainedSQLiteRecorder(SQLiteProcessRecorder):
    """SQLite's process recorder (events, and a process's tracking row in the same transaction),
    chaining each batch under the write lock its insert takes."""

    def __init__(self, datastore: Any, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self._insert_links = f"INSERT INTO {self.chain_table_name} (position, digest) VALUES (?, ?)"
        self._select_head = f"SELECT position, digest FROM {self.chain_table_name} ORDER BY position DESC LIMIT 1"

    @property
    def chain_table_name(self) -> str:
        return f"{self.events_table_name}_chain"

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {self.chain_table_name} (position INTEGER PRIMARY KEY, digest BLOB NOT NULL)",
        ]

    def create_table(self) -> None:
        super().create_table()
        self._seal_unchained_store()

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        # The first insert took SQLite's write lock, so no other writer moves the head until commit.
        positions = super()._insert_events(c, stored_events, **kwargs) or []
        if not positions:
            return positions
        head = self._head(c)
        if head is not None and head.position >= positions[0]:
            raise ChainBrokenError(
                f"event chain head {head.position} is not behind new event {positions[0]}: run `kyoso audit verify`"
            )
        records = [
            (p, s.topic, originator_bytes(s.originator_id), s.originator_version, s.state)
            for p, s in zip(positions, stored_events, strict=True)
        ]
        c.executemany(self._insert_links, chain_links(head.digest if head else GENESIS, records))
        return positions

    def _head(self, c: SQLiteCursor) -> Link | None:
        c.execute(self._select_head)
        row = c.fetchone()
        return Link(row[0], bytes(row[1])) if row else None

    def _seal_unchained_store(self) -> None:
        """Chains the events of a store made before the chain existed, once, when its table is new."""
        if self.chain_head() is not None:
            return
        with self.datastore.get_connection(commit=True) as conn:
            c = conn.cursor()
            c.execute("BEGIN IMMEDIATE")  # Under the write lock, so that no event slips in unchained.
            try:
                if self._head(c) is None:
                    prev, after = GENESIS, 0
                    while records := self._events_after(c, after, PAGE):
                        links = chain_links(prev, records)
                        c.executemany(self._insert_links, links)
                        after, prev = links[-1]
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def _events_after(self, c: SQLiteCursor, after: int, limit: int) -> list[Record]:
        c.sqlite_cursor.row_factory = None
        c.execute(
            f"SELECT rowid, topic, originator_id, originator_version, state FROM {self.events_table_name} "
            "WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (after, limit),
        )
        rows = c.fetchall()
        convert = bytes.fromhex if self.datastore.originator_id_type == "uuid" else str.encode
        try:
            return [(p, t, convert(o), v, s) for p, t, o, v, s in rows]
        except (TypeError, ValueError):
            # A changed id that no longer converts: keep it as stored, verification reports it.
            return [(p, t, _converted(convert, o), v, s) for p, t, o, v, s in rows]

    def events_after(self, after: int, limit: int) -> list[Record]:
        with self.datastore.transaction(commit=False) as c:
            return self._events_after(c, after, limit)

    def links_between(self, after: int, upto: int) -> list[tuple[int, bytes]]:
        with self.datastore.transaction(commit=False) as c:
            c.sqlite_cursor.row_factory = None
            c.execute(
                f"SELECT position, digest FROM {self.chain_table_name} WHERE position > ? AND position <= ? "
                "ORDER BY position",
                (after, upto),
            )
            return c.fetchall()

    def link_at(self, position: int) -> bytes | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT digest FROM {self.chain_table_name} WHERE position = ?", (position,))
            row = c.fetchone()
            return bytes(row[0]) if row else None

    def chain_head(self) -> Link | None:
        with self.datastore.transaction(commit=False) as c:
            return self._head(c)

    def first_orphan_link(self, after: int) -> int | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT min(position) FROM {self.chain_table_name} AS c WHERE position > ? "
                f"AND NOT EXISTS (SELECT 1 FROM {self.events_table_name} WHERE rowid = c.position)",
                (after,),
            )
            return c.fetchone()[0]


def _converted(convert: Callable[[Any], bytes], value: Any) -> Any:
    try:
        return convert(value)
    except (TypeError, ValueError):
        return value


class ChainedSQLiteFactory(SQLiteFactory):
    application_recorder_class = ChainedSQLiteRecorder


# --- PostgreSQL ------------------------------------------------------------------------------


class ChainedPostgresRecorder(PostgresProcessRecorder):
    """PostgreSQL's process recorder (events, and a process's tracking row in the same
    transaction), chaining each batch under the table lock its insert takes.

    The insert statement also returns the chain's head (read after the lock), and the links go
    out with the commit, so chaining adds one statement and no round trip.
    """

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.chain_table_name = f"{events_table_name}_chain"
        self.check_identifier_length(self.chain_table_name)
        schema = Identifier(self.datastore.schema)
        chain = SQL("{}.{}").format(schema, Identifier(self.chain_table_name))
        events = SQL("{}.{}").format(schema, Identifier(self.events_table_name))
        self.sql_create_statements.append(
            SQL("CREATE TABLE IF NOT EXISTS {} (position bigint PRIMARY KEY, digest bytea NOT NULL)").format(chain)
        )
        # The insert path's statements are rendered once: psycopg would compose them on every call.
        # The ids come back with their keys, so events are matched by key, not by RETURNING's order;
        # the head is read by the same statement, after the table lock.
        self.insert_events_statement = (
            SQL(
                "WITH new AS (INSERT INTO {} (originator_id, originator_version, topic, state) "
                "SELECT originator_id, originator_version, topic, state FROM unnest(%s::{}.{}[]) "
                "RETURNING notification_id, originator_id, originator_version) "
                "SELECT new.*, head.position AS head_position, head.digest AS head_digest FROM new "
                "LEFT JOIN (SELECT position, digest FROM {} ORDER BY position DESC LIMIT 1) AS head ON true"
            )
            .format(events, schema, Identifier(self.stored_event_type_name), chain)
            .as_string()
        )
        # Binary parameters (%b): psycopg's text format escapes each bytea of an array with a regex.
        self._insert_links = (
            SQL("INSERT INTO {} (position, digest) SELECT * FROM unnest(%b::bigint[], %b::bytea[])")
            .format(chain)
            .as_string()
        )
        self._select_head = SQL("SELECT position, digest FROM {} ORDER BY position DESC LIMIT 1").format(chain)
        oid = (
            "uuid_send(originator_id)"
            if self.datastore.originator_id_type == "uuid"
            else "convert_to(originator_id, 'UTF8')"
        )
        self._select_records = SQL(
            "SELECT notification_id, topic, " + oid + ", originator_version, state FROM {} "
            "WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(events)
        self._select_links = SQL(
            "SELECT position, digest FROM {} WHERE position > %s AND position <= %s ORDER BY position"
        ).format(chain)
        self._select_link = SQL("SELECT digest FROM {} WHERE position = %s").format(chain)
        self._select_orphan = SQL(
            "SELECT min(position) FROM {} AS c WHERE position > %s "
            "AND NOT EXISTS (SELECT 1 FROM {} WHERE notification_id = c.position)"
        ).format(chain, events)

    def create_table(self) -> None:
        super().create_table()
        self._seal_unchained_store()

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if self.datastore.enable_db_functions:
            raise PersistenceError("the event chain needs POSTGRES_ENABLE_DB_FUNCTIONS off")
        # As the base recorder's, with the links inserted after the events' ids are known.
        exc: Exception | None = None
        notification_ids: list[int] | None = None
        with self.datastore.get_connection() as conn:
            with conn.pipeline() as pipeline, conn.transaction():
                with conn.cursor() as curs:
                    self._insert_events(curs, stored_events, **kwargs)
                if stored_events:
                    with conn.cursor() as curs:
                        try:
                            self._insert_stored_events(curs, stored_events, **kwargs)
                            pipeline.sync()
                            returned = curs.fetchall()
                            notification_ids = [row["notification_id"] for row in returned]
                            self._insert_links_for(curs, stored_events, returned)
                        except Exception as e:
                            exc = e  # Raised after the pipeline exits, as the base recorder does.
            if exc:
                raise exc
        return notification_ids

    def _insert_links_for(self, curs: Any, stored_events: Sequence[StoredEvent], returned: list[Any]) -> None:
        by_key = {(s.originator_id, s.originator_version): s for s in stored_events}
        records = []
        for row in sorted(returned, key=lambda r: r["notification_id"]):
            s = by_key[(row["originator_id"], row["originator_version"])]
            records.append(
                (row["notification_id"], s.topic, originator_bytes(s.originator_id), s.originator_version, s.state)
            )
        head_position, head_digest = returned[0]["head_position"], returned[0]["head_digest"]
        if head_position is not None and head_position >= records[0][0]:
            raise ChainBrokenError(
                f"event chain head {head_position} is not behind new event {records[0][0]}: run `kyoso audit verify`"
            )
        links = chain_links(bytes(head_digest) if head_digest is not None else GENESIS, records)
        curs.execute(self._insert_links, ([p for p, _ in links], [d for _, d in links]))

    def _seal_unchained_store(self) -> None:
        """Chains the events of a store made before the chain existed, once, when its table is new."""
        if self.chain_head() is not None:
            return
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)  # The writers' lock, so that no event slips in unchained.
            with curs.connection.cursor(row_factory=tuple_row, binary=True) as reader:
                reader.execute(self._select_head)
                if reader.fetchone() is not None:
                    return
                prev, after = GENESIS, 0
                while True:
                    reader.execute(self._select_records, (after, PAGE))
                    records = reader.fetchall()
                    if not records:
                        return
                    links = chain_links(prev, records)
                    curs.execute(self._insert_links, ([p for p, _ in links], [d for _, d in links]))
                    after, prev = links[-1]

    def _read(self, query: Any, params: tuple[Any, ...]) -> list[Any]:
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row, binary=True) as curs:
            curs.execute(query, params, prepare=True)
            return curs.fetchall()

    def events_after(self, after: int, limit: int) -> list[Record]:
        return self._read(self._select_records, (after, limit))

    def links_between(self, after: int, upto: int) -> list[tuple[int, bytes]]:
        return self._read(self._select_links, (after, upto))

    def link_at(self, position: int) -> bytes | None:
        rows = self._read(self._select_link, (position,))
        return bytes(rows[0][0]) if rows else None

    def chain_head(self) -> Link | None:
        rows = self._read(self._select_head, ())
        return Link(rows[0][0], bytes(rows[0][1])) if rows else None

    def first_orphan_link(self, after: int) -> int | None:
        return self._read(self._select_orphan, (after,))[0][0]


class ChainedPostgresFactory(PostgresFactory):
    application_recorder_class = ChainedPostgresRecorder
