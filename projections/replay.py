"""Read models as they were at a past moment, rebuilt from the events up to then.

Auditors use it to check a published figure: the same projection code runs over the events
recorded up to that moment, into a private in-memory database, and nothing else is touched.
"""

from datetime import datetime, timedelta
from typing import Any

from eventsourcing.application import Application

from migrations import migrate
from projections.catalogue import Catalogue
from projections.database import SQLiteDatabase
from projections.results import Results
from projections.surveys import SurveyProjection

BATCH = 5000
# Events are numbered in commit order and stamped when created, so stamps may run a little
# out of order across concurrent writers; scanning a minute past the moment catches them all.
SLACK = timedelta(minutes=1)


class PastState:
    def __init__(self, db: SQLiteDatabase, at: datetime, events: int) -> None:
        self.db = db
        self.at = at
        self.events = events
        self.catalogue = Catalogue(db)
        self.results = Results(db)

    def close(self) -> None:
        self.db.close()


def state_at(app: Application[Any], at: datetime) -> PastState:
    """The survey read models as of `at` (use from one thread: the database lives in memory)."""
    db = SQLiteDatabase(":memory:")
    migrate(db)
    projection = SurveyProjection()
    start, applied = 0, 0
    while True:
        notifications = app.recorder.select_notifications(
            start=start, limit=BATCH, topics=projection.topics, inclusive_of_start=False
        )
        if not notifications:
            break
        events = [(n.id, app.mapper.to_domain_event(n)) for n in notifications]
        due = [(position, e) for position, e in events if e.timestamp <= at]
        if due:
            with db.transaction() as cur:
                projection.project(cur, due)
            applied += len(due)
        if events[-1][1].timestamp > at + SLACK:
            break
        start = notifications[-1].id
    return PastState(db, at, applied)
