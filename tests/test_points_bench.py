"""The points benchmarks at toy sizes (so that they cannot rot), and the demo's points: a citizen of
the demo has points, and a new citizen answering an open survey is awarded through 市政アンケート回答."""

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain import clock
from domain.questions import FreeText, MultipleChoice, Number, Scale, SingleChoice
from domain.values import Role
from projections.composite import Projections
from projections.points import TABLES, PointsProjection
from projections.runner import Projector
from projections.storage import Storage
from web import bench_points
from web.demo import load_demo
from web.demo_points import SURVEY_MENU


def _lines(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {line["name"]: line for line in lines}


def test_the_points_benchmarks_run_at_toy_sizes_and_emit_their_figures(capsys: pytest.CaptureFixture[str]) -> None:
    bench_points.bench_award_lag("sqlite", people=8, surveys=2, connections=4, every=2)
    bench_points.bench_claim("sqlite", people=6, menus=2, codes_per_menu=2, connections=4)
    bench_points.bench_rebuild("sqlite", events=3000, rounds=1)
    lines = _lines(capsys)

    lag = lines["points.award_lag.sqlite"]
    assert lag["samples"] == 8  # every sampled response's award was seen in the read model
    assert lag["value"] > 0 and lag["baseline"] > 0 and lag["p95"] >= lag["value"]
    claim = lines["points.claim.sqlite"]
    assert claim["awarded"] == claim["requests"] == 24
    assert claim["value"] > 0 and claim["baseline"] > 0
    rebuild = lines["points.rebuild.sqlite"]
    assert rebuild["events"] >= 3000 and rebuild["awards"] > 2000
    assert rebuild["ratio"] == pytest.approx(rebuild["value"] / rebuild["baseline"], rel=0.01)


def _points_tables(storage: Storage) -> dict[str, list[tuple[str, ...]]]:
    return {
        table: sorted(tuple(str(value) for value in row) for row in storage.db.query(f"SELECT * FROM {table}"))
        for table in TABLES
    }


def test_the_ledger_read_model_is_the_same_whatever_the_batches(storage: Storage) -> None:
    """A payout of transfers requested in the same batch is folded in memory, one of an earlier
    batch is an update; award rows are written once: every batch size must give the same tables."""
    bench_points.load_ledger(storage, 4000)
    tables = {}
    for batch in (3, 1000, 10_000):
        alone = Projections([PointsProjection()])
        alone.name = f"points_batches_{batch}"
        assert Projector(storage.app, storage.db, alone, batch_size=batch).rebuild() >= 4000
        tables[batch] = _points_tables(storage)
    assert tables[3] == tables[1000] == tables[10_000]
    awards = tables[3]["points_awards"]
    assert len(awards) > 3000
    assert tables[3]["points_spendings"] and tables[3]["points_revocations"]
    assert any(row[4] != "None" for row in tables[3]["points_transfers"])  # some paid out


def _answers(survey: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for q in survey.questions:
        if isinstance(q, SingleChoice):
            answers[q.id] = 0
        elif isinstance(q, MultipleChoice):
            answers[q.id] = [0]
        elif isinstance(q, Scale):
            answers[q.id] = 3
        elif isinstance(q, Number):
            answers[q.id] = q.minimum
        elif isinstance(q, FreeText):
            answers[q.id] = "近所の公園をよく使います。"
    return answers


def test_the_demo_awards_points_and_a_new_citizen_answering_an_open_survey_is_awarded(tmp_path: Path) -> None:
    storage = Storage.open(tmp_path / "data")
    try:
        logins = load_demo(storage, responses_per_survey=20)
        app, today = storage.app, clock.city_today()
        hanako = storage.identities.find_by_email("citizen@demo.kyoso.jp")
        assert hanako is not None
        account = app.points_account(hanako.participant_id)
        assert account is not None and account.balance(today) > 0

        menus = storage.db.query(
            "SELECT menu_id, survey_ids FROM points_menus WHERE name = ? AND trigger = 'survey_answered'",
            (SURVEY_MENU,),
        )
        assert len(menus) == 1 and menus[0][1] == ""  # every citizens' survey
        (menu_count,) = storage.db.query_one("SELECT COUNT(*) FROM points_menus") or (0,)
        assert menu_count >= 18
        funded = storage.db.query_one("SELECT COUNT(*) FROM points_menus WHERE funder_id IS NOT NULL")
        assert funded == (1,)
        # Every citizen's answer in the demo was awarded (staff answering theirs earn nothing).
        answered = storage.db.query_one(
            "SELECT COUNT(*) FROM participant_responses JOIN surveys USING (survey_id) WHERE audience = 'citizens'"
        )
        awarded = storage.db.query_one(
            "SELECT COUNT(*) FROM points_awards WHERE menu_id = ? AND source LIKE 'response:%'", (menus[0][0],)
        )
        assert answered and awarded == answered and answered[0] > 0

        newcomer = app.register_participant(Role.CITIZEN)
        open_survey = storage.db.query_one(
            "SELECT survey_id FROM surveys WHERE status = 'published' AND audience = 'citizens' AND opens_on <= ?"
            " LIMIT 1",
            (today.isoformat(),),
        )
        assert open_survey is not None
        survey = app.get_survey(UUID(open_survey[0]))
        response = app.submit_response(survey.id, newcomer, _answers(survey))
        storage.catch_up()
        row = storage.db.query_one(
            "SELECT points, reason FROM points_awards WHERE participant_id = ? AND source = ?",
            (str(newcomer), f"response:{response}"),
        )
        assert row is not None and row[0] == 50

        # The venue code printed with the logins is valid today.
        (code_line,) = [text for role, text in logins if role == "会場コード"]
        app.claim_code(newcomer, code_line.split("（")[0])
    finally:
        storage.close()
