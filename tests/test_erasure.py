"""Erasure by crypto-shredding: after `erase`, a person's free text is unreadable everywhere,
and its plaintext is in no file of the data directory; counts stay as they were."""

from pathlib import Path

import psycopg

from domain.themes import AnalysisModel, ThemeNode, ThemeQuote
from projections.storage import Storage
from tests.conftest import World

SECRET = "私の名前は山田太郎で、電話番号は090-1234-5678です"


def files_holding(root: Path, needle: bytes) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def everything_in_postgres(url: str) -> bytes:
    """Every row of every table, as text: where plaintext could hide on PostgreSQL."""
    chunks: list[bytes] = []
    with psycopg.connect(url) as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
        for (table,) in tables:
            for (row,) in conn.execute(f"SELECT t::text FROM {table} t"):
                chunks.append(row.encode())
    return b"\n".join(chunks)


def test_events_carry_free_text_sealed_never_in_plain_view(world: World, storage: Storage) -> None:
    storage.app.submit_response(world.survey, world.citizen, world.valid_answers(**{world.q_text: SECRET}))
    states = b"".join(n.state for n in storage.app.recorder.select_notifications(start=1, limit=1000))
    assert SECRET.encode() not in states and "山田".encode() not in states
    storage.projector.catch_up()
    assert [a.text for a in storage.results.free_texts(str(world.survey), world.q_text)] == [SECRET]


def test_erasure_destroys_the_text_everywhere_and_keeps_every_count(
    world: World, storage: Storage, tmp_path: Path
) -> None:
    app = storage.app
    rid = app.submit_response(world.survey, world.citizen, world.valid_answers(**{world.q_text: SECRET}))
    others = world.citizens(12)
    for i, person in enumerate(others):
        app.submit_response(world.survey, person, world.valid_answers(**{world.q_text: f"ほかの意見{i}"}))
    storage.projector.catch_up()
    analysis = app.record_theme_analysis(
        survey_id=world.survey,
        question_id=world.q_text,
        staff_id=world.staff,
        input_ids=[str(rid)],
        model=AnalysisModel(name="test", version="1", dim=3),
        params={},
        seed=0,
        themes=[
            ThemeNode(id="t1", label="意見", keywords=[], size=1, members=[str(rid)], quotes=[ThemeQuote(id=str(rid))])
        ],
    )
    storage.projector.catch_up()
    before = sorted(storage.db.query("SELECT * FROM result_cells"))
    count_before = storage.catalogue.survey(str(world.survey)).response_count  # type: ignore[union-attr]
    with storage.db.transaction() as cur:
        cur.execute(
            "INSERT INTO web_sessions (session_id, data, expires_at, participant_id) VALUES (?, ?, NULL, ?)",
            ("s-1", b"{}", str(world.citizen)),
        )

    storage.erase(world.citizen)

    assert storage.identities.get(world.citizen) is None
    assert storage.db.query("SELECT * FROM web_sessions WHERE participant_id = ?", (str(world.citizen),)) == []
    assert app.keys.existing_key(world.citizen) is None  # type: ignore[union-attr]
    assert app.read_texts(app.repository.get(rid)) == {world.q_text: None}
    texts = [a.text for a in storage.results.free_texts(str(world.survey), world.q_text, limit=100)]
    assert "（削除済み）" in texts and SECRET not in texts and len(texts) == 13
    assert str(rid) not in dict(storage.results.free_text_rows(str(world.survey), world.q_text))
    view = storage.themes.analysis(str(analysis))
    assert view is not None and storage.themes.opinions(str(world.survey), world.q_text, [str(rid)]) == {}
    assert sorted(storage.db.query("SELECT * FROM result_cells")) == before

    assert storage.projector.rebuild() > 0  # the rebuild still works, and counts the same
    assert sorted(storage.db.query("SELECT * FROM result_cells")) == before
    assert storage.catalogue.survey(str(world.survey)).response_count == count_before  # type: ignore[union-attr]
    assert "（削除済み）" in [a.text for a in storage.results.free_texts(str(world.survey), world.q_text, limit=100)]

    needle = SECRET.encode()
    if storage.database_url is None:
        assert files_holding(storage.data_dir, needle) == []
        assert files_holding(storage.data_dir, "山田太郎".encode()) == []
    else:
        assert needle not in everything_in_postgres(storage.database_url)
        assert files_holding(storage.data_dir, needle) == []


def test_no_new_key_is_ever_made_for_an_erased_person(world: World, storage: Storage) -> None:
    storage.erase(world.citizen)
    assert storage.app.keys.key_for(world.citizen) is None  # type: ignore[union-attr]
