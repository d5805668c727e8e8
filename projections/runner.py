"""Runs projections in batches: one transaction per batch, the position row included.

The position only moves by a conditional update (`WHERE position = <what we read>`), so if two
workers race over the same batch, one commits and the other rolls back: each event is applied
exactly once. eventsourcing's own ProjectionRunner commits per event and needs LISTEN/NOTIFY;
this one is engine-neutral and costs one transaction per few thousand events.
"""

import gc
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from projections.database import Cursor, Database

log = logging.getLogger(__name__)

DEFAULT_BATCH = 5000

Progress = Callable[[int, int], None]


class Projection(Protocol):
    name: str
    topics: Sequence[str]

    def project(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        """Applies the decoded events (with their positions) inside the caller's transaction."""

    def clear(self, cur: Cursor) -> None:
        """Deletes every row this projection owns, for a rebuild from zero."""


@contextmanager
def _gc_paused() -> Iterator[None]:
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

    def catch_up(self, progress: Progress | None = None) -> int:
        """Processes every recorded event not yet projected; returns how many it applied."""
        total_hint = self.backlog() if progress else 0
        applied = 0
        with self._lock:
            while True:
                start = self.position()
                notifications = self.app.recorder.select_notifications(
                    start=start,
                    limit=self.batch_size,
                    topics=self.projection.topics,
                    inclusive_of_start=False,
                )
                if not notifications:
                    return applied
                try:
                    with _gc_paused():
                        self._apply(start, notifications)
                except PositionMoved:
                    log.info("projection %s: position moved under us; retrying", self.projection.name)
                    continue
                applied += len(notifications)
                if progress:
                    progress(notifications[-1].id - start, total_hint)

    def rebuild(self, progress: Progress | None = None) -> int:
        """Deletes the read model and projects every event again from the first."""
        with self._lock, self.db.transaction() as cur:
            self.projection.clear(cur)
            cur.execute(
                "UPDATE projection_positions SET position = 0 WHERE projection = ?",
                (self.projection.name,),
            )
        return self.catch_up(progress)

    def _apply(self, start: int, notifications: Sequence[Notification]) -> None:
        to_event = self.app.mapper.to_domain_event
        events = [(n.id, to_event(n)) for n in notifications]
        with self.db.transaction() as cur:
            cur.execute(
                "UPDATE projection_positions SET position = ? WHERE projection = ? AND position = ?",
                (notifications[-1].id, self.projection.name, start),
            )
            if cur.rowcount != 1:
                raise PositionMoved()
            self.projection.project(cur, events)


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
