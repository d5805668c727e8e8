"""The co-creation projection: organisations, challenges, the proposal pipeline and the public tally."""

from collections.abc import Sequence
from typing import Any

from projections.database import Cursor


class CoCreationProjection:
    name = "cocreation"
    topics: tuple[str, ...] = ()

    def project(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        pass

    def clear(self, cur: Cursor) -> None:
        pass
