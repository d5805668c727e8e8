"""Read model: notices (being built)."""

from collections.abc import Sequence
from typing import Any

from projections.database import Cursor


class NoticeProjection:
    name = "notices"
    topics: tuple[str, ...] = ()

    def project(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        pass

    def clear(self, cur: Cursor) -> None:
        pass
