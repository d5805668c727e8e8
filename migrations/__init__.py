"""Versioned schema of the read-model tables, one folder of numbered SQL files per engine.

`kyoso migrate` applies, in order and each in its own transaction, every file whose number is
not yet recorded in `schema_migrations`. Files are never edited once released: add a new one.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from projections.database import Database

_FILENAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Serialises concurrent `migrate` runs (a server and a worker starting together) on PostgreSQL.
_PG_LOCK_KEY = 7_105_301


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        return [s.strip() for s in self.sql.split(";\n") if s.strip() and not _only_comments(s)]


def _only_comments(sql: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in sql.splitlines())


def available(dialect: str) -> list[Migration]:
    folder = resources.files(__package__).joinpath(dialect)
    found = []
    for entry in folder.iterdir():
        match = _FILENAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def applied(db: Database) -> set[int]:
    with db.transaction() as cur:
        _ensure_table(cur)
        cur.execute("SELECT version FROM schema_migrations")
        return {row[0] for row in cur.fetchall()}


def _ensure_table(cur: object) -> None:
    cur.execute(  # type: ignore[attr-defined]
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )


def migrate(db: Database) -> list[Migration]:
    """Applies the pending migrations; returns those it applied."""
    done = []
    for migration in available(db.dialect):
        with db.transaction() as cur:
            if db.dialect == "postgres":
                cur.execute("SELECT pg_advisory_xact_lock(?)", (_PG_LOCK_KEY,))
            _ensure_table(cur)
            cur.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,))
            if cur.fetchone():
                continue
            for statement in migration.statements():
                cur.execute(statement)
            cur.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, datetime.now(UTC).isoformat()),
            )
        done.append(migration)
    return done
