"""A rebuild drops a projection's deferred indexes while it writes, and always gets them back."""

import sqlite3
from collections.abc import Sequence
from typing import Any

import psycopg
import pytest

from projections.composite import Projections
from projections.database import Cursor
from projections.points import PointsProjection
from projections.runner import Projector
from projections.storage import Storage
from web import bench_points

DEFERRED = PointsProjection.deferred_indexes


def _definitions(storage: Storage) -> dict[str, str | None]:
    with storage.db.transaction() as cur:
        return {name: storage.db.index_definition(cur, name) for name in DEFERRED}


def _kept(storage: Storage) -> list[tuple[Any, ...]]:
    return storage.db.query("SELECT projection, index_name FROM projection_deferred_indexes ORDER BY index_name")


class _Watching(PointsProjection):
    """The points projection, noting at each batch which deferred indexes exist, and failing as the
    database would (a transient error) at the batch given."""

    def __init__(self, storage: Storage, fail_at_batch: int | None = None) -> None:
        self.storage = storage
        self.fail_at_batch = fail_at_batch
        self.seen: list[dict[str, bool]] = []

    def project(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        self.seen.append({name: self.storage.db.index_definition(cur, name) is not None for name in DEFERRED})
        if len(self.seen) == self.fail_at_batch:
            raise (psycopg.OperationalError if self.storage.db.dialect == "postgres" else sqlite3.OperationalError)(
                "the server went away"
            )
        super().project(cur, events)


def _projector(storage: Storage, projection: PointsProjection, name: str = "points_deferred") -> Projector:
    alone = Projections([projection])
    alone.name = name
    return Projector(storage.app, storage.db, alone, batch_size=25)


def test_a_rebuild_writes_without_the_deferred_indexes_and_builds_them_again_at_the_end(storage: Storage) -> None:
    bench_points.load_ledger(storage, 1500)
    before = _definitions(storage)
    assert all(before.values())
    watching = _Watching(storage)

    assert _projector(storage, watching).rebuild() >= 1500

    assert len(watching.seen) > 1
    assert all(not any(seen.values()) for seen in watching.seen)  # absent in every batch
    assert _definitions(storage) == before
    assert _kept(storage) == []
    # A person's history is read through the index built again.
    person = storage.db.query_one("SELECT participant_id FROM points_awards LIMIT 1")
    assert person is not None
    assert storage.db.query("SELECT COUNT(*) FROM points_awards WHERE participant_id = ?", (person[0],))[0][0] > 0


def test_a_rebuild_cut_short_gets_its_indexes_back_once_a_later_run_has_caught_up(storage: Storage) -> None:
    bench_points.load_ledger(storage, 1500)
    before = _definitions(storage)

    with pytest.raises((sqlite3.OperationalError, psycopg.OperationalError)):
        _projector(storage, _Watching(storage, fail_at_batch=3)).rebuild()
    assert not any(_definitions(storage).values())  # still dropped: the rebuild has not finished
    assert [name for _, name in _kept(storage)] == sorted(DEFERRED)

    # A second rebuild cut short keeps the definitions it found kept, not the absence of the index.
    with pytest.raises((sqlite3.OperationalError, psycopg.OperationalError)):
        _projector(storage, _Watching(storage, fail_at_batch=2)).rebuild()
    assert [name for _, name in _kept(storage)] == sorted(DEFERRED)

    # Another process (a new projector) catches up from where the failed one stopped.
    watching = _Watching(storage)
    assert _projector(storage, watching).catch_up() > 0
    assert _definitions(storage) == before
    assert _kept(storage) == []


def test_the_indexes_another_projection_deferred_are_not_built_by_this_one(storage: Storage) -> None:
    bench_points.load_ledger(storage, 300)
    with pytest.raises((sqlite3.OperationalError, psycopg.OperationalError)):
        _projector(storage, _Watching(storage, fail_at_batch=2), name="points_one").rebuild()

    nothing = Projections([])
    nothing.name = "nothing"
    Projector(storage.app, storage.db, nothing).catch_up()
    assert not any(_definitions(storage).values())
    assert [projection for projection, _ in _kept(storage)] == ["points_one"] * len(DEFERRED)
