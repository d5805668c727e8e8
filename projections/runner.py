"""Runs projections in batches: one transaction per batch, the position row included.

The position only moves by a conditional update (`WHERE position = <what we read>`), so if two
workers race over the same batch, one commits and the other rolls back: each event is applied
exactly once. eventsourcing's own ProjectionRunner commits per event and needs LISTEN/NOTIFY;
this one is engine-neutral and costs one transaction per few thousand events.

An event the projection cannot apply (a poison event: text PostgreSQL refuses, an answer the
projection cannot place) must not stop every event after it. When a batch fails, the runner
finds the first event that fails on its own, applies the events before it, and records the
failure in `projection_failures` in the same transaction that moves the position past it. The
failure stays on record, shown by /healthz and the audit page, until `retry_failures` applies
the event after a fix; a rebuild records the failures afresh.
"""

import gc
import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from projections.database import Cursor, Database

log = logging.getLogger(__name__)

DEFAULT_BATCH = 5000
REBUILD_FACTOR = 8
ERROR_CHARS = 300

Progress = Callable[[int, int], None]

# Errors of the database itself, not of an event: the server is gone, a lock timed out, a
# serialization conflict, a full disk (and, on SQLite, a missing table). Any event would fail
# alike, so none is recorded; the batch is rolled back and tried again later. Every other
# exception (a value the column refuses, a constraint, an error in the projection's Python) is
# then taken to be the event's, but only once the event has failed on its own twice, in two
# transactions: the type alone cannot tell a flaky bug from a poison event, and one more try of
# one event costs nothing, whereas recording a good event as poison would leave it unapplied.
TRANSIENT: tuple[type[Exception], ...] = (sqlite3.OperationalError, psycopg.OperationalError, psycopg.InterfaceError)


class Projection(Protocol):
    """What the projector runs. A projection may also name, as `deferred_indexes`, secondary
    indexes of its tables that nothing it does while projecting reads: a rebuild drops them and
    builds them again once it has caught up."""

    name: str
    topics: Sequence[str]

    def project(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        """Applies the decoded events (with their positions) inside the caller's transaction."""

    def clear(self, cur: Cursor) -> None:
        """Deletes every row this projection owns, for a rebuild from zero."""


@dataclass(frozen=True)
class Failure:
    """An event a projection could not apply: where it is, what it is, and why (type and message)."""

    position: int
    originator_id: str
    originator_version: int
    topic: str
    error: str
    failed_at: str


def describe(error: BaseException) -> str:
    """The exception's type and the first line of its message, short: a driver's later lines
    (DETAIL, the row's values) could quote an answer, and free text is personal data."""
    lines = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    # Control characters out (a NUL would make the record itself fail on PostgreSQL).
    text = "".join(c if c.isprintable() else "\ufffd" for c in text)
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


@contextmanager
def gc_paused() -> Iterator[None]:
    """A batch allocates many short-lived objects and no cycles; the cyclic collector running
    over and over during it costs more than the projection itself, so it waits until the end."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class PositionMoved(Exception):
    """Another worker advanced (or reset) the position first: this batch was rolled back."""


class _AlreadyRetried(Exception):
    """Another worker applied (or a rebuild cleared) this failure first: nothing to do."""


_CREATE_INDEX = re.compile(r"^(CREATE (?:UNIQUE )?INDEX )(?!IF NOT EXISTS )", re.IGNORECASE)
_FAILURE_COLUMNS = "position, originator_id, originator_version, topic, error, failed_at"


class Projector:
    def __init__(
        self, app: Application[Any], db: Database, projection: Projection, batch_size: int = DEFAULT_BATCH
    ) -> None:
        self.app = app
        self.db = db
        self.projection = projection
        self.batch_size = batch_size
        self._lock = threading.Lock()
        with db.transaction() as cur:
            cur.execute(
                "INSERT INTO projection_positions (projection, position) VALUES (?, 0) "
                "ON CONFLICT (projection) DO NOTHING",
                (projection.name,),
            )

    def position(self) -> int:
        row = self.db.query_one(
            "SELECT position FROM projection_positions WHERE projection = ?", (self.projection.name,)
        )
        return int(row[0]) if row else 0

    def backlog(self) -> int:
        """How many events at most are waiting (an upper bound: other topics count too)."""
        return max(0, (self.app.recorder.max_notification_id() or 0) - self.position())

    def failures(self, limit: int | None = None) -> list[Failure]:
        """The events on record as not applied, in position order."""
        sql = f"SELECT {_FAILURE_COLUMNS} FROM projection_failures WHERE projection = ? ORDER BY position"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [
            Failure(int(p), str(oid), int(version), str(topic), str(error), str(at))
            for p, oid, version, topic, error, at in self.db.query(sql, (self.projection.name,))
        ]

    def failure_count(self) -> int:
        row = self.db.query_one(
            "SELECT COUNT(*) FROM projection_failures WHERE projection = ?", (self.projection.name,)
        )
        return int(row[0]) if row else 0

    def catch_up(self, progress: Progress | None = None, *, batch_size: int | None = None) -> int:
        """Processes every recorded event not yet projected; returns how many it applied.

        An event that fails on its own is recorded as a failure and passed over; an error of the
        database itself (TRANSIENT) propagates, with the events before it applied."""
        total_hint = self.backlog() if progress else 0
        applied = 0
        with self._lock:
            self.db.prepare_bulk_writer()
            while True:
                start = self.position()
                # The recorder makes an object or two per event; thousands of them would set the
                # cyclic collector going over and over, each pass longer, while nothing is garbage.
                with gc_paused():
                    notifications = self.app.recorder.select_notifications(
                        start=start,
                        limit=batch_size or self.batch_size,
                        topics=self.projection.topics,
                        inclusive_of_start=False,
                    )
                if not notifications:
                    self._restore_indexes()
                    return applied
                try:
                    error = self._attempt(start, notifications)
                    if error is None:
                        reached, count = notifications[-1].id, len(notifications)
                    else:
                        reached, count = self._isolate(start, notifications, error)
                except PositionMoved:
                    log.info("projection %s: position moved under us; retrying", self.projection.name)
                    continue
                applied += count
                if progress:
                    progress(reached - start, total_hint)

    def rebuild(self, progress: Progress | None = None) -> int:
        """Deletes the read model and its failures, and projects every event again from the first."""
        with self._lock, self.db.transaction() as cur:
            self._defer_indexes(cur)
            self.projection.clear(cur)
            cur.execute("DELETE FROM projection_failures WHERE projection = ?", (self.projection.name,))
            cur.execute(
                "UPDATE projection_positions SET position = 0 WHERE projection = ?",
                (self.projection.name,),
            )
        # Larger batches than catching up: each commit of thousands of scattered rows rewrites the
        # index pages they touch, and a rebuild has the read models to itself.
        with self.db.bulk_load():
            return self.catch_up(progress, batch_size=self.batch_size * REBUILD_FACTOR)

    def _defer_indexes(self, cur: Cursor) -> None:
        """Drops the projection's deferred indexes, keeping their definitions to build them again."""
        for name in getattr(self.projection, "deferred_indexes", ()):
            definition = self.db.index_definition(cur, name)
            if definition is None:  # dropped by a rebuild cut short: its definition is kept already
                continue
            cur.execute(
                "INSERT INTO projection_deferred_indexes (projection, index_name, definition) VALUES (?, ?, ?)"
                " ON CONFLICT (projection, index_name) DO UPDATE SET definition = excluded.definition",
                (self.projection.name, name, definition),
            )
            cur.execute(f"DROP INDEX {name}")

    def _restore_indexes(self) -> None:
        """Builds again the indexes a rebuild dropped, once every event has been projected."""
        if not self.db.query_one(
            "SELECT 1 FROM projection_deferred_indexes WHERE projection = ? LIMIT 1", (self.projection.name,)
        ):
            return
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT index_name, definition FROM projection_deferred_indexes WHERE projection = ?",
                (self.projection.name,),
            )
            for name, definition in cur.fetchall():
                log.info("projection %s: building index %s", self.projection.name, name)
                cur.execute(_CREATE_INDEX.sub(r"\1IF NOT EXISTS ", str(definition), count=1))
            cur.execute("DELETE FROM projection_deferred_indexes WHERE projection = ?", (self.projection.name,))

    def retry_failures(self) -> tuple[int, list[Failure]]:
        """Applies each recorded failure's event again, in position order, and deletes its record
        when it succeeds; returns how many it applied and the failures that remain.

        The events come later than they would have: for a projection whose events commute (counts)
        that is the same; where order matters, a rebuild applies everything in order."""
        applied = 0
        with self._lock:
            for failure in self.failures():
                try:
                    self._retry(failure)
                except _AlreadyRetried:
                    continue
                except TRANSIENT:
                    raise
                except Exception as error:
                    log.error(
                        "projection %s: event at %d still fails: %s",
                        self.projection.name,
                        failure.position,
                        describe(error),
                    )
                    with self.db.transaction() as cur:
                        cur.execute(
                            "UPDATE projection_failures SET error = ?, failed_at = ?"
                            " WHERE projection = ? AND position = ?",
                            (describe(error), _now(), self.projection.name, failure.position),
                        )
                    continue
                applied += 1
        return applied, self.failures()

    def _attempt(self, start: int, notifications: Sequence[Notification]) -> Exception | None:
        """Applies the events as one batch; returns the error the events caused, if they did."""
        try:
            with gc_paused():
                self._apply(start, notifications)
        except (PositionMoved, *TRANSIENT):
            raise
        except Exception as error:
            return error
        return None

    def _isolate(self, start: int, batch: Sequence[Notification], error: Exception) -> tuple[int, int]:
        """`batch` failed as a whole: applies the events before the first one that fails on its
        own (halving, so a few transactions find it among thousands), then that event alone once
        more, and records it as a failure if it fails again. Returns the position reached and how
        many events were applied."""
        failing, applied = list(batch), 0
        while len(failing) > 1:
            half = len(failing) // 2
            head, tail = failing[:half], failing[half:]
            head_error = self._attempt(start, head)
            if head_error is not None:
                failing, error = head, head_error
                continue
            start, applied = head[-1].id, applied + len(head)
            tail_error = self._attempt(start, tail)
            if tail_error is None:
                return tail[-1].id, applied + len(tail)
            failing, error = tail, tail_error
        (poison,) = failing
        again = self._attempt(start, failing)
        if again is None:
            log.warning(
                "projection %s: event at %d failed (%s), then applied on retry",
                self.projection.name,
                poison.id,
                describe(error),
            )
            return poison.id, applied + 1
        self._record(start, poison, again)
        return poison.id, applied

    def _record(self, start: int, notification: Notification, error: Exception) -> None:
        text = describe(error)
        log.error(
            "projection %s: event at %d (%s, %s v%d) not applied: %s",
            self.projection.name,
            notification.id,
            notification.topic,
            notification.originator_id,
            notification.originator_version,
            text,
        )
        with self.db.transaction() as cur:
            self._move(cur, start, notification.id)
            cur.execute(
                f"INSERT INTO projection_failures (projection, {_FAILURE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (projection, position) DO UPDATE SET error = excluded.error,"
                " failed_at = excluded.failed_at",
                (
                    self.projection.name,
                    notification.id,
                    str(notification.originator_id),
                    notification.originator_version,
                    notification.topic,
                    text,
                    _now(),
                ),
            )

    def _retry(self, failure: Failure) -> None:
        found = self.app.recorder.select_notifications(start=failure.position, stop=failure.position, limit=1)
        with self.db.transaction() as cur:
            # Deleting first makes the retry exactly-once too: a second worker finds no row.
            cur.execute(
                "DELETE FROM projection_failures WHERE projection = ? AND position = ?",
                (self.projection.name, failure.position),
            )
            if cur.rowcount != 1:
                raise _AlreadyRetried()
            if not found:
                raise LookupError(f"no event is stored at position {failure.position}")
            self.projection.project(cur, [(found[0].id, self.app.mapper.to_domain_event(found[0]))])

    def _apply(self, start: int, notifications: Sequence[Notification]) -> None:
        to_event = self.app.mapper.to_domain_event
        events = [(n.id, to_event(n)) for n in notifications]
        with self.db.transaction() as cur:
            self._move(cur, start, notifications[-1].id)
            self.projection.project(cur, events)

    def _move(self, cur: Cursor, start: int, to: int) -> None:
        cur.execute(
            "UPDATE projection_positions SET position = ? WHERE projection = ? AND position = ?",
            (to, self.projection.name, start),
        )
        if cur.rowcount != 1:
            raise PositionMoved()


def _now() -> str:
    return datetime.now(UTC).isoformat()


class ProjectorThread:
    """Keeps a projector caught up in the background, a batch every `interval` seconds at most."""

    def __init__(self, projector: Projector, interval: float = 0.5) -> None:
        self.projector = projector
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kyoso-projector", daemon=True)

    def start(self) -> "ProjectorThread":
        self._thread.start()
        return self

    def wake(self) -> None:
        """Asks for a batch now rather than at the next interval (new events are known to wait)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.projector.catch_up()
            except Exception:
                log.exception("projection %s failed; will retry", self.projector.projection.name)
                self._stop.wait(2)
            self._wake.wait(self.interval)
            self._wake.clear()
