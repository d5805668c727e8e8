"""Several projections kept under one position: one pass over the event log keeps every read
model current, in one transaction per batch, so the read models never disagree about how far
they have got. Each projection sees only the events of its own topics.

Adding a projection to the set needs `kyoso projections rebuild`, since the position is shared.
"""

from collections.abc import Sequence
from typing import Any

from eventsourcing.utils import get_topic

from projections.database import Cursor
from projections.runner import Projection


class Projections:
    name = "read_models"

    def __init__(self, projections: Sequence[Projection]) -> None:
        self.projections = list(projections)
        self.topics = tuple(dict.fromkeys(t for p in self.projections for t in p.topics))
        self._routes: dict[type, list[Projection]] = {}

    def project(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        # By the kinds of event in the batch (a few), not event by event: a projection that takes
        # every kind present gets the batch as it is, the others one pass of a comprehension each.
        present = {type(item[1]) for item in events}
        for projection in self.projections:
            wanted = {kind for kind in present if projection in self._route(kind)}
            if not wanted:
                continue
            if len(wanted) == len(present):
                projection.project(cur, events)
            else:
                projection.project(cur, [item for item in events if type(item[1]) in wanted])

    @property
    def deferred_indexes(self) -> tuple[str, ...]:
        return tuple(name for p in self.projections for name in getattr(p, "deferred_indexes", ()))

    def clear(self, cur: Cursor) -> None:
        for projection in self.projections:
            projection.clear(cur)

    def _route(self, event_class: type) -> list[Projection]:
        route = self._routes.get(event_class)
        if route is None:
            topic = get_topic(event_class)
            route = self._routes[event_class] = [p for p in self.projections if topic in p.topics]
        return route
