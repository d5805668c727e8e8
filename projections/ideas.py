"""The ideas projection: the public list of citizens' ideas, their supports, comments and answers."""

from collections.abc import Sequence
from typing import Any

from projections.database import Cursor


class IdeaProjection:
    name = "ideas"
    topics: tuple[str, ...] = ()

    def project(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        pass

    def clear(self, cur: Cursor) -> None:
        pass
