"""Demo data for citizens' ideas."""

from uuid import UUID

from projections.storage import Storage


def load_ideas_demo(storage: Storage, ids: dict[str, UUID], citizens: list[UUID]) -> None:
    pass
