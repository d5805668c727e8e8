"""Group commit: concurrent saves of new aggregates share one transaction.

The PostgreSQL recorder takes a table lock per insert, so one event per transaction caps writes
at about a thousand a second. Concurrent callers hand their events to one writer thread, which
saves everything waiting in a single insert. If that insert conflicts (a duplicate somewhere in
the batch), each caller's events are saved alone, so only the duplicate fails.
"""

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

from eventsourcing.persistence import RecordConflictError

MAX_BATCH = 500

Save = Callable[..., Any]


class GroupCommitter:
    def __init__(self, save: Save, name: str = "kyoso-group-commit") -> None:
        self._save = save
        self._queue: queue.SimpleQueue[tuple[Sequence[Any], Future[None]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False
        self._lock = threading.Lock()

    def save(self, events: Sequence[Any]) -> None:
        """Saves the events atomically, together with whatever else is waiting; blocks until done."""
        self.submit(events).result()

    def submit(self, events: Sequence[Any]) -> Future[None]:
        """Queues the events for the next group commit; the future settles when they are saved."""
        self._ensure_started()
        future: Future[None] = Future()
        self._queue.put((events, future))
        return future

    def close(self) -> None:
        if self._started:
            self._queue.put(None)
            self._thread.join(timeout=5)

    def _ensure_started(self) -> None:
        if not self._started:
            with self._lock:
                if not self._started:
                    self._thread.start()
                    self._started = True

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._commit(batch)
                    return
                batch.append(more)
            self._commit(batch)

    def _commit(self, batch: list[tuple[Sequence[Any], Future[None]]]) -> None:
        if len(batch) > 1:
            try:
                self._save(*(e for events, _ in batch for e in events))
            except RecordConflictError:
                pass  # Somebody's duplicate: fall back to saving each alone.
            except BaseException as e:
                for _, future in batch:
                    future.set_exception(e)
                return
            else:
                for _, future in batch:
                    future.set_result(None)
                return
        for events, future in batch:
            try:
                self._save(*events)
            except BaseException as e:
                future.set_exception(e)
            else:
                future.set_result(None)
