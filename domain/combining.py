"""Combining: concurrent requests of one kind decided together, by one thread, in one save.

Claims of a venue code all draw on one menu's budget. Decided one by one, concurrent claims
conflict on the budget's version and retry, so at a busy event most of the work is lost to
conflicts. Here they queue instead; one thread decides everything waiting as one round (each
request still gets its own answer) and saves it in one transaction.
"""

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")

MAX_ROUND = 500


class Combiner(Generic[Item, Outcome]):
    def __init__(
        self, decide: Callable[[Sequence[Item]], Sequence[Outcome | BaseException]], name: str = "kyoso-combiner"
    ) -> None:
        self._decide = decide
        self._queue: queue.SimpleQueue[tuple[Item, Future[Outcome]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False
        self._lock = threading.Lock()

    def __call__(self, item: Item) -> Outcome:
        """The item's outcome, decided with whatever else is waiting; raises the item's refusal."""
        with self._lock:
            if not self._started:
                self._thread.start()
                self._started = True
        future: Future[Outcome] = Future()
        self._queue.put((item, future))
        return future.result()

    def close(self) -> None:
        if self._started:
            self._queue.put(None)
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            closing = False
            while len(batch) < MAX_ROUND:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    closing = True
                    break
                batch.append(more)
            self._round(batch)
            if closing:
                return

    def _round(self, batch: list[tuple[Item, Future[Outcome]]]) -> None:
        try:
            outcomes = self._decide([item for item, _ in batch])
        except BaseException as error:
            for _, future in batch:
                future.set_exception(error)
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
