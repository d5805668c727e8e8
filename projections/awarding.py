"""The awarding process: follows the event log and awards the points that activity earns.

It reads the log itself (not the application's notifications), so it sees responses written by
the group-commit hot path too. Each batch's awards are saved with eventsourcing's tracking row
for the batch's last position in the same transaction: after a crash it resumes exactly where
the last commit left it. Were two workers to race over one batch, the loser's save conflicts
(on the tracking row, or on the awards' deterministic ids) and nothing of it is kept.
"""

import logging
import threading
from collections.abc import Callable
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from domain.application import Kyoso
from domain.awarding import TOPICS, Cause, cause_of
from domain.points_commands import AlreadyProcessed
from domain.points_menu import SdgMenu, Trigger

log = logging.getLogger(__name__)

NAME = "kyoso-awarding"
DEFAULT_BATCH = 2000
_MENU_DEFINED = get_topic(SdgMenu.Defined)

Progress = Callable[[int, int], None]


class AwardingProcess:
    def __init__(self, app: Kyoso, batch_size: int = DEFAULT_BATCH) -> None:
        self.app = app
        self.batch_size = batch_size
        self._lock = threading.Lock()
        # Menus with an automatic trigger, by trigger, as defined up to `_menus_upto`.
        self._menus: dict[Trigger, list[UUID]] = {}
        self._menus_upto = 0

    def position(self) -> int:
        return self.app.recorder.max_tracking_id(NAME) or 0

    def backlog(self) -> int:
        return max(0, (self.app.recorder.max_notification_id() or 0) - self.position())

    def catch_up(self, progress: Progress | None = None, on_awarded: Callable[[], None] | None = None) -> int:
        """Awards what every event not yet processed earns; returns how many awards it made.
        `on_awarded` is called after each batch that saved awards, as soon as they are committed."""
        awarded = 0
        total = self.backlog() if progress else 0
        with self._lock:
            while True:
                start = self.position()
                self._index_menus(upto=start)
                notifications = self.app.recorder.select_notifications(
                    start=start, limit=self.batch_size, topics=TOPICS, inclusive_of_start=False
                )
                if not notifications:
                    return awarded
                causes: list[Cause] = []
                for notification in notifications:
                    event = self.app.mapper.to_domain_event(notification)
                    if isinstance(event, SdgMenu.Defined):
                        self._add_menu(event)
                    elif (cause := cause_of(event)) is not None:
                        causes.append(cause)
                reached = notifications[-1].id
                try:
                    outcomes = self.app.award_causes(causes, self._menus, Tracking(NAME, reached))
                except AlreadyProcessed:
                    log.info("awarding: another worker processed up to %d first", reached)
                    continue
                self._menus_upto = max(self._menus_upto, reached)
                made = sum(1 for o in outcomes if isinstance(o, UUID))
                awarded += made
                if made and on_awarded is not None:
                    on_awarded()
                if progress:
                    progress(reached - start, total)

    def _index_menus(self, upto: int) -> None:
        """Knows every menu defined up to `upto` (after a restart, or if another worker moved on)."""
        while self._menus_upto < upto:
            found = self.app.recorder.select_notifications(
                start=self._menus_upto,
                stop=upto,
                limit=self.batch_size,
                topics=[_MENU_DEFINED],
                inclusive_of_start=False,
            )
            for notification in found:
                self._add_menu(self.app.mapper.to_domain_event(notification))
            if len(found) < self.batch_size:
                self._menus_upto = upto
            else:
                self._menus_upto = found[-1].id

    def _add_menu(self, event: SdgMenu.Defined) -> None:
        if event.trigger.automatic:
            menus = self._menus.setdefault(event.trigger, [])
            if event.originator_id not in menus:
                menus.append(event.originator_id)


class AwardingThread:
    """Keeps the awarding process caught up in the background; `wake()` asks for a run at once."""

    def __init__(
        self, process: AwardingProcess, interval: float = 0.5, on_awarded: Callable[[], None] | None = None
    ) -> None:
        self.process = process
        self.interval = interval
        self.on_awarded = on_awarded
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kyoso-awarding", daemon=True)

    def start(self) -> "AwardingThread":
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                # The awards are new events: the projector need not wait for its next round, nor
                # for the end of a long catch-up (under load, batch after batch).
                self.process.catch_up(on_awarded=self.on_awarded)
            except Exception:
                log.exception("awarding failed; will retry")
                self._stop.wait(2)
            self._wake.wait(self.interval)
            self._wake.clear()
