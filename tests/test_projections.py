"""Read models: the unified catalogue, segmented results with small cells hidden, rebuilds."""

import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from eventsourcing.persistence import Notification

from domain.survey import SurveyStatus
from domain.themes import AnalysisModel
from domain.values import AgeBand, Audience, Role, Ward
from projections.composite import Projections
from projections.runner import Projector
from projections.segments import SUPPRESSED
from projections.storage import Storage
from projections.surveys import SurveyProjection
from tests.conftest import World
from tests.support.threads import run_in_threads

TABLES = ("surveys", "result_cells", "free_text_answers")


def snapshot(storage: Storage) -> dict[str, list[tuple[object, ...]]]:
    return {t: sorted(storage.db.query(f"SELECT * FROM {t}"), key=repr) for t in TABLES}


def answer_many(world: World, n: int, **attrs: object) -> None:
    for i, person in enumerate(world.citizens(n, **attrs)):
        world.storage.app.submit_response(
            world.survey, person, world.valid_answers(**{world.q_single: i % 2, world.q_text: f"意見{i}"})
        )


def test_catalogue_lists_every_department_in_one_place(world: World, storage: Storage) -> None:
    app = storage.app
    other = app.register_participant(Role.STAFF, department="危機管理課")
    drill = app.draft_survey(staff_id=other, title="防災訓練", audience=Audience.CITIZENS)
    app.add_question(drill, staff_id=other, kind="scale", text="?")
    app.publish_survey(drill, staff_id=other)
    app.draft_survey(staff_id=other, title="下書き")
    storage.projector.catch_up()
    open_surveys = storage.catalogue.surveys(statuses=(SurveyStatus.PUBLISHED,))
    assert {s.department for s in open_surveys} == {"子育て支援課", "危機管理課"}
    assert {s.title for s in storage.catalogue.surveys(department="危機管理課")} == {"下書き", "防災訓練"}
    assert storage.catalogue.surveys(audience=Audience.STAFF) == []
    detail = storage.catalogue.survey(str(world.survey))
    assert detail is not None and detail.question_count == 5 and detail.questions[1].options == ("保育", "医療", "公園")


def test_results_count_by_segment_and_hide_small_cells(world: World, storage: Storage) -> None:
    answer_many(world, 7, ward=Ward.ODA, age_band=AgeBand.AGE_30S, has_children=True)
    answer_many(world, 2, ward=Ward.MUKO)
    storage.projector.catch_up()
    survey = storage.catalogue.survey(str(world.survey))
    assert survey is not None and survey.response_count == 9
    results = storage.results.of(survey)
    assert results.respondents == 9
    single = results.questions[0]
    assert single.overall.counts == [5, SUPPRESSED, SUPPRESSED]  # 5 chose はい, 4 いいえ, 0 わからない
    wards = {c.value: c for c in single.breakdowns["ward"]}
    assert wards["oda"].counts == [SUPPRESSED] * 3
    assert wards["muko"].respondents == SUPPRESSED and wards["muko"].percents == [None] * 3
    # 小田's 7 is hidden too: with 9 in all, it would give away 武庫's 2 by subtraction.
    assert wards["oda"].respondents == SUPPRESSED
    scale = results.questions[2]
    assert scale.overall.mean == 4.0 and scale.overall.counts[3] == 9
    children = {c.value: c for c in scale.breakdowns["children"]}
    # 子育て世帯's mean is hidden with 未回答's: the overall sum minus 子育て世帯's would give 未回答's away.
    assert children["yes"].mean is None and children["unknown"].mean is None
    assert children["yes"].respondents == SUPPRESSED and children["yes"].percents == [None] * 5
    number = results.questions[3]
    assert number.overall.mean == 2.0 and number.buckets[2] == "2"
    assert [a.text for a in storage.results.free_texts(str(world.survey), world.q_text, limit=3)] == [
        "意見1",
        "意見0",
        "意見6",
    ]


def test_no_hidden_cell_can_be_recovered_by_subtraction(world: World, storage: Storage) -> None:
    wards = [Ward.ODA] * 9 + [Ward.MUKO] * 6 + [Ward.SONODA] * 2
    for i, ward in enumerate(wards):
        (person,) = world.citizens(1, ward=ward)
        storage.app.submit_response(world.survey, person, world.valid_answers(**{world.q_single: 0 if i < 12 else 1}))
    storage.projector.catch_up()
    survey = storage.catalogue.survey(str(world.survey))
    assert survey is not None
    for question in storage.results.of(survey).questions:
        columns = question.breakdowns["ward"]
        lines = [[c.respondents for c in columns]] + [
            [c.counts[i] for c in columns] for i in range(len(question.buckets))
        ]
        totals = [question.overall.respondents, *question.overall.counts]
        for line, total in zip(lines, totals, strict=True):
            if isinstance(total, int):
                assert line.count(SUPPRESSED) != 1, (question.id, line, total)


def test_results_read_the_same_rows_whatever_the_number_of_responses(world: World, storage: Storage) -> None:
    answer_many(world, 10)
    storage.projector.catch_up()
    rows_at_10 = len(storage.db.query("SELECT * FROM result_cells"))
    answer_many(world, 30)
    storage.projector.catch_up()
    assert len(storage.db.query("SELECT * FROM result_cells")) == rows_at_10


def test_rebuilding_from_zero_gives_the_same_read_models(world: World, storage: Storage) -> None:
    answer_many(world, 12, ward=Ward.TACHIBANA)
    storage.app.close_survey(world.survey, staff_id=world.staff)
    storage.app.publish_results(world.survey, staff_id=world.staff)
    storage.projector.catch_up()
    before = snapshot(storage)
    applied = storage.projector.rebuild()
    topics = storage.projector.projection.topics
    relevant = storage.app.recorder.select_notifications(start=1, limit=10_000, topics=topics)
    assert applied == len(relevant)  # only the events some read model reads
    assert snapshot(storage) == before


def test_small_batches_give_the_same_result_as_one(world: World, storage: Storage) -> None:
    answer_many(world, 9)
    storage.projector.catch_up()
    whole = snapshot(storage)
    small = Projector(storage.app, storage.db, Projections([SurveyProjection()]), batch_size=3)
    small.rebuild()
    assert snapshot(storage) == whole


class Rendezvous(Projector):
    """A projector whose first batch waits until every racer has read the same position and
    events: the race is then certain, not left to the scheduler."""

    def __init__(self, storage: Storage, barrier: threading.Barrier) -> None:
        super().__init__(storage.app, storage.db, Projections([SurveyProjection()]), batch_size=4)
        self.barrier: threading.Barrier | None = barrier

    def _apply(self, start: int, notifications: Sequence[Notification]) -> None:
        if self.barrier is not None:
            barrier, self.barrier = self.barrier, None
            barrier.wait(timeout=30)
        super()._apply(start, notifications)


def test_racing_projectors_apply_each_event_once(world: World, storage: Storage) -> None:
    answer_many(world, 20)
    barrier = threading.Barrier(3)
    projectors = [Rendezvous(storage, barrier) for _ in range(3)]
    assert run_in_threads([p.catch_up for p in projectors], together=False) == []
    survey = storage.catalogue.survey(str(world.survey))
    assert survey is not None and survey.response_count == 20
    assert storage.results.of(survey).questions[2].overall.counts[3] == 20
    assert len(storage.db.query("SELECT * FROM free_text_answers")) == 20
    assert storage.projector.failures() == []


def test_racing_projectors_apply_each_event_once_without_a_constraint_to_stop_them(
    world: World, storage: Storage
) -> None:
    # Answers without free text, and views of a theme analysis (a counter, no key at all): where
    # no primary key refuses a second copy, only the position update keeps each event to one
    # application. An unconditional update, or one outside the batch's transaction, fails here.
    for i, person in enumerate(world.citizens(20)):
        answers = world.valid_answers(**{world.q_single: i % 3, world.q_text: None})
        storage.app.submit_response(world.survey, person, answers)
    analysis = storage.app.record_theme_analysis(
        survey_id=world.survey,
        question_id=world.q_text,
        staff_id=world.staff,
        input_ids=[],
        model=AnalysisModel(name="test", version="1", dim=2),
        params={},
        seed=0,
        themes=[],
    )
    for _ in range(20):
        storage.app.record_theme_view(analysis, staff_id=world.staff)
    barrier = threading.Barrier(3)
    projectors = [Rendezvous(storage, barrier) for _ in range(3)]
    assert run_in_threads([p.catch_up for p in projectors], together=False) == []
    assert storage.db.query("SELECT views FROM theme_analyses WHERE analysis_id = ?", (str(analysis),)) == [(20,)]
    survey = storage.catalogue.survey(str(world.survey))
    assert survey is not None and survey.response_count == 20
    results = storage.results.of(survey)
    assert results.respondents == 20 and results.questions[0].overall.counts == [7, 7, 6]
    assert storage.db.query("SELECT * FROM free_text_answers") == []
    assert storage.projector.position() == storage.app.recorder.max_notification_id()
    assert storage.projector.failures() == []


# A projector in its own process that dies in its second batch, as a killed worker would, with
# no chance to clean up: just before the batch's transaction commits (the batch's writes and the
# position must vanish together), or just after (they must stand together). Either way a
# projector that moved the position in a transaction of its own would lose or double events.
CRASHING_WORKER = """
import os, sys
from contextlib import contextmanager
from projections.composite import Projections
from projections.runner import Projector
from projections.storage import Storage
from projections.surveys import SurveyProjection

data_dir, database_url, when = sys.argv[1:]

class DiesInSecondBatch(SurveyProjection):
    batches = 0

    def project(self, cur, events):
        super().project(cur, events)
        self.batches += 1
        if self.batches == 2 and when == "before-commit":
            os._exit(17)

storage = Storage.open(data_dir, database_url or None)
projection = DiesInSecondBatch()
transaction = storage.db.transaction

@contextmanager
def dying_after_commit():
    with transaction() as cur:
        yield cur
    if projection.batches == 2:
        os._exit(17)

if when == "after-commit":
    storage.db.transaction = dying_after_commit
Projector(storage.app, storage.db, Projections([projection]), batch_size=5).catch_up()
"""


@pytest.mark.parametrize(("when", "batches_kept"), [("before-commit", 1), ("after-commit", 2)])
def test_a_crash_in_a_batch_loses_and_doubles_nothing(
    world: World, storage: Storage, database_url: str | None, tmp_path: Path, when: str, batches_kept: int
) -> None:
    answer_many(world, 12, ward=Ward.ODA)
    before = storage.projector.position()
    root = Path(__file__).resolve().parent.parent
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_WORKER, str(tmp_path / "data"), database_url or "", when],
        env={**os.environ, "PYTHONPATH": str(root)},
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert crashed.returncode == 17, crashed.stderr
    kept = storage.app.recorder.select_notifications(
        start=before, limit=5 * batches_kept, topics=SurveyProjection.topics, inclusive_of_start=False
    )
    assert storage.projector.position() == kept[-1].id
    survey = storage.catalogue.survey(str(world.survey))
    assert survey is not None and survey.response_count == 5 * batches_kept

    # A restart picks up where the position says, and ends where a rebuild from zero does.
    restarted = Storage.open(tmp_path / "data", database_url)
    try:
        restarted.projector.catch_up()
        recovered = snapshot(restarted)
        restarted.projector.rebuild()
        assert snapshot(restarted) == recovered
        survey = restarted.catalogue.survey(str(world.survey))
        assert survey is not None and survey.response_count == 12
    finally:
        restarted.close()
