"""Read models: the unified catalogue, segmented results with small cells hidden, rebuilds."""

import threading

from domain.survey import SurveyStatus
from domain.values import AgeBand, Audience, Role, Ward
from projections.runner import Projector
from projections.segments import SUPPRESSED
from projections.storage import Storage
from projections.surveys import SurveyProjection
from tests.conftest import World

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
    assert children["yes"].mean == 4.0 and children["unknown"].mean is None
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
    relevant = storage.app.recorder.select_notifications(start=1, limit=10_000, topics=SurveyProjection.topics)
    assert applied == len(relevant)  # participant events are not this projection's
    assert snapshot(storage) == before


def test_small_batches_give_the_same_result_as_one(world: World, storage: Storage) -> None:
    answer_many(world, 9)
    storage.projector.catch_up()
    whole = snapshot(storage)
    small = Projector(storage.app, storage.db, SurveyProjection(), batch_size=3)
    small.rebuild()
    assert snapshot(storage) == whole


def test_racing_projectors_apply_each_event_once(world: World, storage: Storage) -> None:
    answer_many(world, 20)
    projectors = [Projector(storage.app, storage.db, SurveyProjection(), batch_size=4) for _ in range(3)]
    threads = [threading.Thread(target=p.catch_up) for p in projectors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    survey = storage.catalogue.survey(str(world.survey))
    assert survey is not None and survey.response_count == 20
    assert storage.results.of(survey).questions[2].overall.counts[3] == 20
