"""The tamper-evident event history, on SQLite and PostgreSQL: every event chained in its own
transaction, every kind of tampering found at its first bad position, signed checkpoints that
catch a cut tail or a rewritten chain, the `kyoso audit` commands and the audit page."""

import json
import sqlite3
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from hashlib import sha256
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from click.testing import CliRunner
from eventsourcing.persistence import InfrastructureFactory, StoredEvent
from eventsourcing.utils import Environment

from domain.values import Role
from projections.checkpoints import Checkpoint, CheckpointLog, verify_against_log
from projections.event_chain import GENESIS, TAG, ChainBrokenError, Link, verify
from projections.storage import Storage
from tests.conftest import PASSWORD_HASH, Client, World
from tests.support.threads import run_in_threads
from web.cli import cli


class RawStore:
    """The event store's tables opened behind the application's back, as an intruder would."""

    def __init__(self, storage: Storage) -> None:
        recorder = storage.app.recorder
        self.events = recorder.events_table_name
        self.chain = recorder.chain_table_name
        self.url = storage.database_url
        self.path = storage.data_dir / "events.sqlite3"
        self.position = "notification_id" if self.url else "rowid"

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        if self.url:
            with psycopg.connect(self.url) as conn, conn.cursor() as cur:
                yield _Placeholders(cur)
        else:
            conn = sqlite3.connect(self.path)
            try:
                yield conn.cursor()
                conn.commit()
            finally:
                conn.close()

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self.cursor() as cur:
            cur.execute(sql.format(events=self.events, chain=self.chain, pos=self.position), params)
            return cur.fetchall() if cur.description else []


class _Placeholders:
    def __init__(self, cur: Any) -> None:
        self._cur = cur
        self.description = None

    def execute(self, sql: str, params: tuple[Any, ...]) -> None:
        self._cur.execute(sql.replace("?", "%s"), params)
        self.description = self._cur.description

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()


@pytest.fixture
def raw(storage: Storage) -> RawStore:
    return RawStore(storage)


def history(storage: Storage, responses: int = 6) -> World:
    """A small city's history: sign-ups, a survey being built and published, then some answers."""
    world = World(storage)
    for person in world.citizens(responses):
        storage.app.submit_response(world.survey, person, world.valid_answers())
    return world


def head(storage: Storage) -> int:
    return storage.app.recorder.max_notification_id() or 0


def log_for(storage: Storage) -> CheckpointLog:
    return storage.checkpointer.checkpoints


# --- writing the chain -------------------------------------------------------------------------


def test_every_saved_event_gets_its_link_computed_from_the_stored_record(storage: Storage, raw: RawStore) -> None:
    history(storage)
    positions = [r[0] for r in raw.run("SELECT {pos} FROM {events} ORDER BY {pos}")]
    links = raw.run("SELECT position, digest FROM {chain} ORDER BY position")
    assert positions and [p for p, _ in links] == positions

    # The first link, recomputed here from the documented encoding, not by the code under test.
    (topic, originator_id, version, state) = raw.run(
        "SELECT topic, originator_id, originator_version, state FROM {events} WHERE {pos} = ?", (positions[0],)
    )[0]
    oid = originator_id.bytes if raw.url else bytes.fromhex(originator_id)
    t = topic.encode()
    expected = sha256(
        TAG + GENESIS + struct.pack(">qqIII", positions[0], version, len(t), len(oid), len(state)) + t + oid + state
    ).digest()
    assert bytes(links[0][1]) == expected

    result = verify(storage.app)
    assert result.ok and result.reason is None
    assert result.events == len(positions)
    assert result.head == Link(positions[-1], bytes(links[-1][1])) == storage.app.recorder.chain_head()


def test_a_concurrent_group_commit_is_chained_in_one_insert(storage: Storage) -> None:
    world = World(storage)
    people = world.citizens(40)
    recorder = storage.app.recorder
    batch_sizes: list[int] = []
    insert = recorder.insert_events

    def counting_insert(stored_events: Any, **kwargs: Any) -> Any:
        batch_sizes.append(len(stored_events))
        return insert(stored_events, **kwargs)

    recorder.insert_events = counting_insert  # type: ignore[method-assign]
    errors = run_in_threads(
        [lambda p=p: storage.app.submit_response(world.survey, p, world.valid_answers()) for p in people]
    )
    assert not errors
    assert sum(batch_sizes) == len(people)
    assert max(batch_sizes) > 1, "the answers should have shared inserts"
    result = verify(storage.app)
    assert result.ok, result.reason
    assert result.events == head(storage)


def test_a_duplicate_in_a_shared_insert_leaves_no_link_behind(storage: Storage) -> None:
    from domain.errors import AlreadyAnswered

    world = World(storage)
    people = world.citizens(10)
    twice = [*people, people[0], people[1]]
    errors = run_in_threads(
        [lambda p=p: storage.app.submit_response(world.survey, p, world.valid_answers()) for p in twice]
    )
    assert len(errors) == 2 and all(isinstance(e, AlreadyAnswered) for e in errors)
    result = verify(storage.app)
    assert result.ok, result.reason
    assert result.events == len(storage.app.recorder.events_after(0, 10_000))


def test_both_engines_compute_the_same_digests(tmp_path: Path, database_url: str | None) -> None:
    from projections.storage import event_store_env

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    events = [StoredEvent(uuid4(), v, "domain.survey:Survey.Drafted", f"状態{v}".encode()) for v in (1, 2, 3)]
    heads = []
    for env in (event_store_env(tmp_path / "a", None), event_store_env(tmp_path / "b", database_url)):
        factory = InfrastructureFactory.construct(Environment("kyoso", env))
        recorder = factory.application_recorder()
        recorder.insert_events(events[:1])
        recorder.insert_events(events[1:])
        heads.append(recorder.chain_head())
        factory.close()
    assert heads[0] == heads[1] and heads[0] is not None and heads[0].position == 3


def test_a_store_from_before_the_chain_is_chained_when_first_opened(tmp_path: Path, database_url: str | None) -> None:
    from projections.storage import event_store_env

    data_dir = tmp_path / "old"
    data_dir.mkdir()
    env = event_store_env(data_dir, database_url)
    env["PERSISTENCE_MODULE"] = "eventsourcing.postgres" if database_url else "eventsourcing.sqlite"
    factory = InfrastructureFactory.construct(Environment("kyoso", env))
    factory.application_recorder().insert_events([StoredEvent(uuid4(), 1, "t:Old", b"{}") for _ in range(5)])
    factory.close()

    storage = Storage.open(data_dir, database_url)
    try:
        result = verify(storage.app)
        assert result.ok and result.events == 5
        storage.app.register_participant(Role.CITIZEN)
        result = verify(storage.app)
        assert result.ok and result.events == 6
    finally:
        storage.close()


# --- tampering -----------------------------------------------------------------------------------

# Each kind of tampering, and the position verification must name (p is an event in the middle).
Tamper = Callable[[RawStore, int], None]


def _modify_state(raw: RawStore, p: int) -> None:
    raw.run("UPDATE {events} SET state = ? WHERE {pos} = ?", (b'{"answers":{}}', p))


def _modify_topic(raw: RawStore, p: int) -> None:
    raw.run("UPDATE {events} SET topic = topic || 'X' WHERE {pos} = ?", (p,))


def _modify_originator(raw: RawStore, p: int) -> None:
    other = uuid4()
    raw.run("UPDATE {events} SET originator_id = ? WHERE {pos} = ?", (other if raw.url else other.hex, p))


def _modify_version(raw: RawStore, p: int) -> None:
    raw.run("UPDATE {events} SET originator_version = originator_version + 100 WHERE {pos} = ?", (p,))


def _delete_event(raw: RawStore, p: int) -> None:
    raw.run("DELETE FROM {events} WHERE {pos} = ?", (p,))


def _delete_event_and_link(raw: RawStore, p: int) -> None:
    raw.run("DELETE FROM {events} WHERE {pos} = ?", (p,))
    raw.run("DELETE FROM {chain} WHERE position = ?", (p,))


def _swap(raw: RawStore, p: int) -> None:
    raw.run("UPDATE {events} SET {pos} = -1 WHERE {pos} = ?", (p,))
    raw.run("UPDATE {events} SET {pos} = ? WHERE {pos} = ?", (p, p + 1))
    raw.run("UPDATE {events} SET {pos} = ? WHERE {pos} = -1", (p + 1,))


def _modify_link(raw: RawStore, p: int) -> None:
    raw.run("UPDATE {chain} SET digest = ? WHERE position = ?", (sha256(b"forged").digest(), p))


def _null_state(raw: RawStore, p: int) -> None:
    raw.run("UPDATE {events} SET state = NULL WHERE {pos} = ?", (p,))


def _wrong_types(raw: RawStore, p: int) -> None:
    if raw.url:  # PostgreSQL's columns keep their types: NULL is what can be forced in.
        raw.run("UPDATE {events} SET topic = NULL WHERE {pos} = ?", (p,))
    else:
        raw.run("UPDATE {events} SET originator_id = 'not an id', state = CAST(state AS TEXT) WHERE {pos} = ?", (p,))


TAMPERING: dict[str, tuple[Tamper, int]] = {
    "modified state": (_modify_state, 0),
    "modified topic": (_modify_topic, 0),
    "modified originator id": (_modify_originator, 0),
    "modified version": (_modify_version, 0),
    "deleted event": (_delete_event, 0),
    "deleted event and its link": (_delete_event_and_link, 1),  # the next event no longer chains
    "reordered events": (_swap, 0),
    "modified chain link": (_modify_link, 0),
    "state set to NULL": (_null_state, 0),
    "values of the wrong type": (_wrong_types, 0),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_tampering_is_found_at_its_first_bad_position(storage: Storage, raw: RawStore, kind: str) -> None:
    history(storage)
    p = head(storage) - 4
    assert verify(storage.app).ok
    tamper, offset = TAMPERING[kind]
    tamper(raw, p)
    result = verify(storage.app)
    assert not result.ok
    assert result.first_bad_position == p + offset, result.reason
    assert result.reason
    assert result.events == p - 1  # everything before it was checked and found intact


def test_an_event_inserted_behind_the_recorder_is_found(storage: Storage, raw: RawStore) -> None:
    history(storage)
    end = head(storage)
    other = uuid4()
    raw.run(
        "INSERT INTO {events} (originator_id, originator_version, topic, state) VALUES (?, 1, ?, ?)",
        (other if raw.url else other.hex, "domain.response:Response.Submitted", b"{}"),
    )
    result = verify(storage.app)
    assert not result.ok and result.first_bad_position == end + 1
    assert "挿入" in (result.reason or "")


def test_the_recorder_refuses_to_chain_onto_a_head_ahead_of_the_events(storage: Storage, raw: RawStore) -> None:
    history(storage)
    end = head(storage)
    raw.run("DELETE FROM {events} WHERE {pos} = ?", (end,))  # the link at `end` stays
    if raw.url is None:  # SQLite reuses the position: the next write must not chain onto the stale link.
        with pytest.raises(ChainBrokenError):
            storage.app.register_participant(Role.CITIZEN)
    assert verify(storage.app).first_bad_position == end


# --- checkpoints ---------------------------------------------------------------------------------


def test_a_cut_tail_is_caught_only_through_a_signed_checkpoint(storage: Storage, raw: RawStore) -> None:
    history(storage)
    end = head(storage)
    log = log_for(storage)
    chain_head = storage.app.recorder.chain_head()
    assert chain_head is not None
    checkpoint = log.sign(chain_head)
    assert checkpoint.position == end
    assert verify_against_log(storage.app, log)[0].ok

    keep = end - 3
    raw.run("DELETE FROM {events} WHERE {pos} > ?", (keep,))
    raw.run("DELETE FROM {chain} WHERE position > ?", (keep,))
    alone = verify(storage.app)
    assert alone.ok and alone.events == keep  # the chain by itself cannot tell
    result, latest = verify_against_log(storage.app, log)
    assert latest == checkpoint
    assert not result.ok and result.first_bad_position == keep + 1
    assert "切り取られ" in (result.reason or "")


def test_a_rewritten_chain_is_caught_by_the_checkpoint(storage: Storage, raw: RawStore) -> None:
    history(storage)
    log = log_for(storage)
    chain_head = storage.app.recorder.chain_head()
    assert chain_head is not None
    log.sign(chain_head)
    p = head(storage) - 4
    _modify_state(raw, p)
    # The intruder recomputes every link from there on, so the chain alone looks intact.
    from projections.event_chain import chain_links

    prev = storage.app.recorder.link_at(p - 1)
    for position, digest in chain_links(prev, storage.app.recorder.events_after(p - 1, 1000)):
        raw.run("UPDATE {chain} SET digest = ? WHERE position = ?", (digest, position))
    assert verify(storage.app).ok
    result, _ = verify_against_log(storage.app, log)
    assert not result.ok and result.first_bad_position == chain_head.position
    assert result.checkpoint == chain_head.position


def test_checkpoints_are_signed_outside_the_database_and_forgeries_refused(storage: Storage) -> None:
    history(storage, responses=2)
    log = log_for(storage)
    assert log.key_file.parent == storage.data_dir / "audit"
    chain_head = storage.app.recorder.chain_head()
    assert chain_head is not None
    checkpoint = log.sign(chain_head)
    assert log.key_file.stat().st_mode & 0o777 == 0o600
    assert log.latest() == checkpoint
    assert checkpoint.signed_at.endswith("+09:00")
    good = log.path.read_text()

    # An altered digest: its signature no longer matches.
    altered = json.loads(good.splitlines()[-1]) | {"digest": sha256(b"x").hexdigest()}
    log.path.write_text(good + json.dumps(altered) + "\n")
    result, latest = verify_against_log(storage.app, log)
    assert not result.ok and latest is None and "signature" in (result.reason or "")

    # A checkpoint properly signed, but by a key that is not ours.
    other = CheckpointLog(storage.data_dir / "elsewhere", storage.data_dir / "elsewhere" / "other.key")
    forged = other.sign(chain_head)
    log.path.write_text(good + forged.to_json() + "\n")
    result, _ = verify_against_log(storage.app, log)
    assert not result.ok and "another key" in (result.reason or "")

    log.path.write_text(good)
    assert verify_against_log(storage.app, log)[0].ok
    assert Checkpoint.from_json(good.splitlines()[-1]) == checkpoint


def test_the_server_signs_only_when_the_head_moved_and_a_full_check_finds_old_damage(
    storage: Storage, raw: RawStore
) -> None:
    history(storage, responses=2)
    checkpointer = storage.checkpointer
    first = checkpointer.tick(full=True)
    assert first is not None and first.position == head(storage)
    assert checkpointer.tick() is None  # nothing new: nothing signed
    storage.app.register_participant(Role.CITIZEN)
    second = checkpointer.tick()
    assert second is not None and second.position == head(storage)
    assert checkpointer.status.verification is not None and checkpointer.status.verification.events == head(storage)

    _modify_state(raw, 3)
    assert checkpointer.verify_now() is True
    status = checkpointer.status
    assert status.verification is not None and not status.verification.ok
    assert status.verification.first_bad_position == 3
    storage.app.register_participant(Role.CITIZEN)
    assert checkpointer.tick() is None  # a damaged history is never signed


def test_the_background_checkpointer_verifies_on_demand(storage: Storage, raw: RawStore) -> None:
    history(storage, responses=2)
    storage.start_checkpointing(interval=3600)
    try:
        assert storage.checkpointer.verify_now(wait=30) is True
        status = storage.checkpointer.status
        assert status.verification is not None and status.verification.ok
        assert status.checkpoint is not None and status.checkpoint.position == head(storage)
        _modify_link(raw, 2)
        assert storage.checkpointer.verify_now(wait=30) is True
        verification = storage.checkpointer.status.verification
        assert verification is not None and verification.first_bad_position == 2
    finally:
        storage.stop_checkpointing()


# --- the command and the page ----------------------------------------------------------------------


def test_kyoso_audit_verify_and_head(storage: Storage, raw: RawStore, monkeypatch: pytest.MonkeyPatch) -> None:
    history(storage, responses=2)
    if storage.database_url:
        monkeypatch.setenv("KYOSO_DATABASE_URL", storage.database_url)
    else:
        monkeypatch.delenv("KYOSO_DATABASE_URL", raising=False)
    runner = CliRunner()
    data = ["--data-dir", str(storage.data_dir)]

    ok = runner.invoke(cli, ["audit", "verify", *data])
    assert ok.exit_code == 0, ok.output
    line = json.loads(ok.stdout.strip().splitlines()[-1])
    assert line["events"] == head(storage) and line["position"] == head(storage)
    assert line["head"] == storage.app.recorder.chain_head().hex and line["checkpoint"] is None

    signed = runner.invoke(cli, ["audit", "head", *data])
    assert signed.exit_code == 0, signed.output
    checkpoint = json.loads(signed.stdout.strip().splitlines()[-1])
    assert checkpoint["position"] == head(storage) and checkpoint["public_key"] == log_for(storage).public_key()

    again = runner.invoke(cli, ["audit", "verify", *data])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout.strip().splitlines()[-1])["checkpoint"]["position"] == head(storage)

    _modify_version(raw, 4)
    bad = runner.invoke(cli, ["audit", "verify", *data])
    assert bad.exit_code == 1
    assert "first bad position: 4" in bad.stderr
    refused = runner.invoke(cli, ["audit", "head", *data])
    assert refused.exit_code == 1  # a damaged history is never signed


def test_auditors_see_the_integrity_status_head_and_checkpoint(client: Client, storage: Storage, raw: RawStore) -> None:
    history(storage, responses=2)
    storage.app.sign_up(email="auditor@example.jp", display_name="監査", password_hash=PASSWORD_HASH, role=Role.AUDITOR)
    client.login("auditor@example.jp")
    response = client.submit("/audit/verify")
    assert response.status_code == 303
    page = client.get("/audit").text
    chain_head = storage.app.recorder.chain_head()
    assert chain_head is not None
    assert chain_head.hex in page
    assert "改ざんは見つかりませんでした" in page
    latest = log_for(storage).latest()
    assert latest is not None and latest.digest in page  # signed by the server's checkpointer

    _modify_state(raw, 3)
    client.submit("/audit/verify")
    page = client.get("/audit").text
    assert "改ざんの疑いがあります" in page and "最初に不一致となった位置: 3" in page


def test_verify_now_needs_the_csrf_token_and_an_auditor(client: Client, world: World) -> None:
    assert client.post("/audit/verify", follow_redirects=False).status_code == 403  # no CSRF token
    assert client.submit("/audit/verify").status_code == 401
    client.login("citizen@example.jp")
    assert client.submit("/audit/verify").status_code == 403
