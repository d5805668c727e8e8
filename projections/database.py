"""One small interface over the read-model database: SQLite by default, PostgreSQL in production.

Queries are written once with `?` placeholders and standard SQL that both engines accept
(upserts with ON CONFLICT, CASE instead of LEAST/MIN); PostgreSQL gets `%s` in their place.
"""

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

Row = tuple[Any, ...]
# A column for insert_many: its name and its PostgreSQL type (for the arrays it is sent as).
Column = tuple[str, str]


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> "Cursor": ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def insert_many(
        self, table: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]], suffix: str = ""
    ) -> None:
        """Inserts many rows in one statement where the engine allows; `suffix` is e.g. ON CONFLICT."""

    def append_rows(self, table: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> None:
        """Appends rows that cannot conflict, by the engine's fastest path (COPY on PostgreSQL)."""

    def add_many(self, table: str, key: str, column: str, deltas: Sequence[tuple[str, int]]) -> None:
        """Adds each delta to `column` of the row whose text `key` it names (keys distinct), in one
        statement where the engine allows."""

    def fetchall(self) -> list[Row]: ...
    def fetchone(self) -> Row | None: ...
    @property
    def rowcount(self) -> int: ...


class Database:
    dialect: str

    def transaction(self) -> Any:
        """A context manager yielding a cursor; commits at the end, rolls back on error."""
        raise NotImplementedError

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.transaction() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def purge_deleted(self) -> None:
        """Makes sure that what was deleted is gone from the files too, where the engine allows."""

    def prepare_bulk_writer(self) -> None:
        """Tunes this thread's connection for large batches (the projector's), where the engine needs it."""

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Around a rebuild's many large transactions on this thread, where the engine can use it."""
        yield

    def index_definition(self, cur: Cursor, name: str) -> str | None:
        """The CREATE INDEX statement of the index `name` in the current schema, if there is one."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class _DriverCursor:
    """What both engines' cursors share: fetching and the row count come from the driver as is."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def fetchall(self) -> list[Row]:
        return self._cursor.fetchall()

    def fetchone(self) -> Row | None:
        return self._cursor.fetchone()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


class _SQLiteCursor(_DriverCursor):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> "_SQLiteCursor":
        self._cursor.execute(sql, params)
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(sql, rows)

    def insert_many(
        self, table: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]], suffix: str = ""
    ) -> None:
        names = ", ".join(name for name, _ in columns)
        marks = ", ".join("?" for _ in columns)
        self._cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks}) {suffix}", rows)

    def append_rows(self, table: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> None:
        self.insert_many(table, columns, rows)

    def add_many(self, table: str, key: str, column: str, deltas: Sequence[tuple[str, int]]) -> None:
        self._cursor.executemany(
            f"UPDATE {table} SET {column} = {column} + ? WHERE {key} = ?", [(delta, k) for k, delta in deltas]
        )


# About 400 MB of write-ahead log at most during a rebuild (pages of 4 KiB).
_BULK_CHECKPOINT_PAGES = 100_000


class SQLiteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            # Deleted content is overwritten with zeros, so an erased person's words do not
            # linger in free pages of the file.
            conn.execute("PRAGMA secure_delete=ON")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def prepare_bulk_writer(self) -> None:
        # SQLite's default 2 MB page cache thrashes when a batch inserts thousands of rows under
        # random keys (UUIDs); only the projector's connection gets the larger one, so that the
        # web's many reader threads do not each hold 64 MB.
        self._connection().execute("PRAGMA cache_size=-65536")

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        # Each commit appends every page it changed to the write-ahead log, and every 1,000 pages
        # of log the pages are copied into the database. A rebuild's batches change the same index
        # pages over and over: checkpointing seldom copies each page once instead of once per
        # batch. Bounded, so that a country's rebuild does not grow the log without end.
        conn = self._connection()
        conn.execute(f"PRAGMA wal_autocheckpoint={_BULK_CHECKPOINT_PAGES}")
        try:
            yield
        finally:
            conn.execute("PRAGMA wal_autocheckpoint=1000")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def index_definition(self, cur: Cursor, name: str) -> str | None:
        row = cur.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)).fetchone()
        return str(row[0]) if row and row[0] else None

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        conn = self._connection()
        cursor = conn.cursor()
        # IMMEDIATE takes the write lock up front, so two writers queue instead of deadlocking.
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield _SQLiteCursor(cursor)
        except BaseException:
            conn.rollback()
            raise
        else:
            conn.commit()
        finally:
            cursor.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        # Reads need no write lock: WAL readers see the last committed state.
        return self._connection().execute(sql, params).fetchall()

    def purge_deleted(self) -> None:
        # The write-ahead log still holds earlier images of the pages until it is checkpointed
        # and truncated; VACUUM then rewrites the file without any free page.
        conn = self._connection()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


class _PostgresCursor(_DriverCursor):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> "_PostgresCursor":
        self._cursor.execute(_pg(sql), params or None)
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._cursor.executemany(_pg(sql), rows)

    def insert_many(
        self, table: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]], suffix: str = ""
    ) -> None:
        # One statement with one array per column: psycopg's executemany pays Python per row.
        names = ", ".join(name for name, _ in columns)
        arrays = ", ".join(f"%s::{pgtype}[]" for _, pgtype in columns)
        values = [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in columns]
        self._cursor.execute(f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {suffix}", values)

    def append_rows(self, table: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> None:
        names = ", ".join(name for name, _ in columns)
        with self._cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def add_many(self, table: str, key: str, column: str, deltas: Sequence[tuple[str, int]]) -> None:
        # One UPDATE joined to the arrays: executemany would send (and plan) a statement per row.
        self._cursor.execute(
            f"UPDATE {table} AS t SET {column} = t.{column} + d.delta"
            f" FROM unnest(%s::text[], %s::bigint[]) AS d(k, delta) WHERE t.{key} = d.k",
            ([k for k, _ in deltas], [delta for _, delta in deltas]),
        )


_pg_cache: dict[str, str] = {}


def _pg(sql: str) -> str:
    converted = _pg_cache.get(sql)
    if converted is None:
        converted = _pg_cache[sql] = sql.replace("?", "%s")
    return converted


class PostgresDatabase(Database):
    dialect = "postgres"

    def __init__(self, url: str, min_size: int = 1, max_size: int = 10) -> None:
        from psycopg_pool import ConnectionPool

        self.url = url
        self.pool = ConnectionPool(url, min_size=min_size, max_size=max_size, open=True)

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield _PostgresCursor(cur)

    def index_definition(self, cur: Cursor, name: str) -> str | None:
        row = cur.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ?", (name,)
        ).fetchone()
        return str(row[0]) if row else None

    def close(self) -> None:
        self.pool.close()


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and urlparse(url).scheme in {"postgres", "postgresql"}  # type: ignore[arg-type]


def postgres_env(url: str) -> dict[str, str]:
    """The eventsourcing settings for a postgresql:// URL."""
    parts = urlparse(url)
    return {
        # PostgreSQL's recorder, plus the tamper-evident chain written in the same transaction.
        "PERSISTENCE_MODULE": "projections.event_chain:ChainedPostgresFactory",
        "POSTGRES_DBNAME": parts.path.lstrip("/") or "kyoso",
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_POOL_SIZE": "10",
        "POSTGRES_MAX_OVERFLOW": "20",
        "POSTGRES_LOCK_TIMEOUT": "10",
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "30",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "CREATE_TABLE": "y",
    }
