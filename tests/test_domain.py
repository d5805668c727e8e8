"""The aggregates and the Application's commands, on SQLite and PostgreSQL."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.errors import AlreadyAnswered, InvalidAnswers, InvalidCommand, NotAllowed, SurveyNotOpen
from domain.response import response_id
from domain.survey import SurveyStatus
from domain.values import Attributes, Role, Ward
from projections.storage import Storage
from tests.conftest import World


def test_survey_lifecycle_is_recorded_as_events(world: World, storage: Storage) -> None:
    app = storage.app
    survey = app.get_survey(world.survey)
    assert survey.status is SurveyStatus.PUBLISHED
    assert [q.id for q in survey.questions] == ["q1", "q2", "q3", "q4", "q5"]
    with pytest.raises(InvalidCommand):
        app.add_question(world.survey, staff_id=world.staff, kind="text", text="遅すぎる質問")
    app.close_survey(world.survey, staff_id=world.staff)
    app.publish_results(world.survey, staff_id=world.staff)
    topics = [n.topic.split(":")[1] for n in app.recorder.select_notifications(start=1, limit=100)]
    assert "Survey.Drafted" in topics and topics[-2:] == ["Survey.Closed", "Survey.ResultsPublished"]
    assert topics.count("Survey.QuestionAdded") == 5


def test_events_hold_no_personal_data(world: World, storage: Storage) -> None:
    states = b"".join(n.state for n in storage.app.recorder.select_notifications(start=1, limit=1000))
    assert b"citizen@example.jp" not in states and "市民".encode() not in states
    assert storage.identities.get(world.citizen).email == "citizen@example.jp"  # type: ignore[union-attr]


def test_a_response_records_attributes_as_they_were(world: World, storage: Storage) -> None:
    app = storage.app
    rid = app.submit_response(world.survey, world.citizen, world.valid_answers(**{world.q_number: "２"}))
    app.change_attributes(world.citizen, Attributes(ward=Ward.CHUO))
    response = app.repository.get(rid)
    assert response.attributes.ward is Ward.SONODA
    assert response.answers[world.q_number] == 2  # full-width digits normalised
    assert response.answers[world.q_multi] == [0, 2]


def test_answers_are_validated_against_the_questions(world: World, storage: Storage) -> None:
    bad = world.valid_answers(
        **{
            world.q_single: 7,
            world.q_multi: [0, 1, 2],
            world.q_scale: 6,
            world.q_number: 11,
            world.q_text: "あ" * 201,
        }
    )
    bad["q99"] = 1
    with pytest.raises(InvalidAnswers) as raised:
        storage.app.submit_response(world.survey, world.citizen, bad)
    errors = raised.value.field_errors
    assert set(errors) == {world.q_single, world.q_multi, world.q_scale, world.q_number, world.q_text, "q99"}
    assert "2個まで" in errors[world.q_multi]
    assert "0〜10" in errors[world.q_number]
    assert not storage.app.has_answered(world.survey, world.citizen)


def test_required_questions_must_be_answered(world: World, storage: Storage) -> None:
    with pytest.raises(InvalidAnswers) as raised:
        storage.app.submit_response(world.survey, world.citizen, {world.q_text: "だけ"})
    assert set(raised.value.field_errors) == {world.q_single, world.q_multi, world.q_scale, world.q_number}


def test_one_response_per_participant(world: World, storage: Storage) -> None:
    storage.app.submit_response(world.survey, world.citizen, world.valid_answers())
    with pytest.raises(AlreadyAnswered):
        storage.app.submit_response(world.survey, world.citizen, world.valid_answers())
    assert storage.app.has_answered(world.survey, world.citizen)


def test_concurrent_submits_store_exactly_one_response(world: World, storage: Storage) -> None:
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def submit() -> None:
        barrier.wait()
        try:
            storage.app.submit_response(world.survey, world.citizen, world.valid_answers())
            outcomes.append("ok")
        except AlreadyAnswered:
            outcomes.append("409")

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["409"] * 19 + ["ok"]
    stored = storage.app.repository.get(response_id(world.survey, world.citizen))
    assert stored.version == 1


def test_batched_saves_keep_other_participants_responses(world: World, storage: Storage) -> None:
    """A duplicate inside a group commit must not cost anyone else their response."""
    people = world.citizens(10)
    barrier = threading.Barrier(len(people) + 1)
    outcomes: dict[str, str] = {}

    def submit(pid: object, key: str) -> None:
        barrier.wait()
        try:
            storage.app.submit_response(world.survey, pid, world.valid_answers())  # type: ignore[arg-type]
            outcomes[key] = "ok"
        except AlreadyAnswered:
            outcomes[key] = "409"

    storage.app.submit_response(world.survey, people[0], world.valid_answers())
    threads = [threading.Thread(target=submit, args=(p, str(i))) for i, p in enumerate(people)]
    threads.append(threading.Thread(target=submit, args=(people[1], "dup")))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes["0"] == "409"
    assert sorted([outcomes["1"], outcomes["dup"]]) == ["409", "ok"]
    assert all(outcomes[str(i)] == "ok" for i in range(2, 10))


def test_surveys_outside_their_dates_or_audience_refuse_answers(world: World, storage: Storage) -> None:
    app = storage.app
    later = app.draft_survey(
        staff_id=world.staff, title="来月から", opens_on=date.today() + timedelta(days=30), closes_on=None
    )
    app.add_question(later, staff_id=world.staff, kind="scale", text="?")
    app.publish_survey(later, staff_id=world.staff)
    with pytest.raises(SurveyNotOpen):
        app.submit_response(later, world.citizen, {"q1": 3})
    app.submit_response(later, world.citizen, {"q1": 3}, now=datetime.now(UTC) + timedelta(days=31))

    staff_survey = app.draft_survey(staff_id=world.staff, title="職員調査", audience="staff")  # type: ignore[arg-type]
    app.add_question(staff_survey, staff_id=world.staff, kind="scale", text="?")
    app.publish_survey(staff_survey, staff_id=world.staff)
    with pytest.raises(NotAllowed):
        app.submit_response(staff_survey, world.citizen, {"q1": 3})
    app.close_survey(world.survey, staff_id=world.staff)
    with pytest.raises(SurveyNotOpen):
        app.submit_response(world.survey, world.citizen, world.valid_answers())


def test_only_staff_of_the_department_edit_a_survey(world: World, storage: Storage) -> None:
    app = storage.app
    other = app.register_participant(Role.STAFF, department="危機管理課")
    with pytest.raises(NotAllowed):
        app.close_survey(world.survey, staff_id=other)
    with pytest.raises(NotAllowed):
        app.draft_survey(staff_id=world.citizen, title="市民は作れない")


def test_question_definitions_are_checked(world: World, storage: Storage) -> None:
    app = storage.app
    draft = app.draft_survey(staff_id=world.staff, title="下書き")
    for kind, fields in [
        ("single", {"text": "一つだけ", "options": ["A"]}),
        ("single", {"text": "重複", "options": ["A", "A"]}),
        ("number", {"text": "逆", "minimum": 10, "maximum": 1}),
        ("text", {"text": "長すぎ", "max_length": 0}),
        ("colour", {"text": "?"}),
        ("scale", {"text": ""}),
    ]:
        with pytest.raises(InvalidCommand):
            app.add_question(draft, staff_id=world.staff, kind=kind, **fields)
    with pytest.raises(InvalidCommand):
        app.publish_survey(draft, staff_id=world.staff)  # no questions
    with pytest.raises(InvalidCommand) as raised:
        app.draft_survey(staff_id=world.staff, title=" ", opens_on=date(2025, 5, 1), closes_on=date(2025, 4, 1))
    assert set(raised.value.field_errors) == {"title", "closes_on"}


def test_erasing_a_person_keeps_their_answers_pseudonymous(world: World, storage: Storage) -> None:
    rid = storage.app.submit_response(world.survey, world.citizen, world.valid_answers())
    storage.app.erase_participant(world.citizen)
    assert storage.identities.get(world.citizen) is None
    assert storage.identities.find_by_email("citizen@example.jp") is None
    assert storage.app.repository.get(rid).participant_id == world.citizen
    assert storage.app.get_participant(world.citizen).erased
