"""The base of Kyoso's aggregates: their events are stamped by Kyoso's clock (domain/clock.py)."""

from datetime import datetime

from eventsourcing.domain import Aggregate

from domain import clock


class KyosoAggregate(Aggregate):
    class Event(Aggregate.Event):
        @staticmethod
        def create_timestamp() -> datetime:
            return clock.now()

    class Created(Event, Aggregate.Created):
        pass
