"""The aggregates' own rules, without a database: each public method checks, then records."""

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from domain import clock
from domain.errors import InvalidAnswers, InvalidCommand, NotAllowed, SurveyNotOpen
from domain.participant import Participant
from domain.personal_data import new_key, seal, text_context, unseal
from domain.questions import FreeText, Scale, SingleChoice
from domain.response import Response
from domain.survey import Survey, SurveyStatus
from domain.values import AgeBand, Attributes, Audience, Role, Ward

STAFF = uuid4()


def draft(**overrides: object) -> Survey:
    details: dict[str, object] = dict(
        department="子育て支援課",
        title="子育てアンケート",
        description="",
        audience=Audience.CITIZENS,
        opens_on=None,
        closes_on=None,
        drafted_by=STAFF,
    )
    details.update(overrides)
    return Survey.draft(**details)  # type: ignore[arg-type]


def published(**overrides: object) -> Survey:
    survey = draft(**overrides)
    survey.add_question(Scale(id="q1", text="満足度"))
    survey.add_question(FreeText(id="q2", text="ご意見", required=False))
    survey.publish(STAFF)
    return survey


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=clock.CITY_TZ)  # type: ignore[misc]


def test_a_survey_moves_draft_published_closed_and_no_other_way() -> None:
    survey = draft()
    with pytest.raises(InvalidCommand, match="質問が1つもない"):
        survey.publish(STAFF)
    with pytest.raises(InvalidCommand):
        survey.close(STAFF)
    survey.add_question(Scale(id="q1", text="満足度"))
    survey.publish(STAFF)
    with pytest.raises(InvalidCommand):
        survey.publish(STAFF)
    with pytest.raises(InvalidCommand):
        survey.add_question(Scale(id="q2", text="遅すぎる質問"))
    survey.close(STAFF)
    assert survey.status is SurveyStatus.CLOSED
    with pytest.raises(InvalidCommand):
        survey.publish(STAFF)  # a closed survey never opens again
    with pytest.raises(InvalidCommand):
        survey.close(STAFF)
    names = [type(e).__name__ for e in survey.collect_events()]
    assert names == ["Drafted", "QuestionAdded", "Published", "Closed"]


def test_results_are_published_only_after_the_survey_closes_and_only_once() -> None:
    survey = published()
    with pytest.raises(InvalidCommand, match="終了してから"):
        survey.publish_results(STAFF)
    survey.close(STAFF)
    survey.publish_results(STAFF)
    with pytest.raises(InvalidCommand, match="すでに公開"):
        survey.publish_results(STAFF)
    assert survey.results_published


def test_questions_are_checked_by_the_survey_and_frozen_once_published() -> None:
    survey = draft()
    with pytest.raises(InvalidCommand, match="2つ以上"):
        survey.add_question(SingleChoice(id="q1", text="一つだけ", options=("A",)))
    with pytest.raises(InvalidCommand, match="番号"):
        survey.add_question(Scale(id="q7", text="番号違い"))
    with pytest.raises(InvalidCommand, match="制御文字"):
        survey.add_question(SingleChoice(id="q1", text="選んで", options=("A", "B\x00")))
    survey.add_question(Scale(id="q1", text="満足度"))
    survey.revise_question(Scale(id="q1", text="満足度（改）"))
    with pytest.raises(InvalidCommand):
        survey.remove_question("q9")
    survey.publish(STAFF)
    for change in (
        lambda: survey.revise_question(Scale(id="q1", text="公開後")),
        lambda: survey.remove_question("q1"),
        lambda: survey.revise_details("新しい題", "", Audience.CITIZENS, None, None),
    ):
        with pytest.raises(InvalidCommand):
            change()


def test_survey_details_refuse_control_characters_and_backward_dates() -> None:
    with pytest.raises(InvalidCommand) as raised:
        draft(title="題\x00名", opens_on=date(2026, 5, 1), closes_on=date(2026, 4, 1))
    assert set(raised.value.field_errors) == {"title", "closes_on"}
    assert draft(description="一行目\n二行目\tタブ").description == "一行目\n二行目\tタブ"


def test_the_closing_day_takes_answers_until_midnight_in_japan() -> None:
    survey = published(opens_on=date(2026, 4, 1), closes_on=date(2026, 4, 30))
    assert not survey.is_accepting(jst(2026, 3, 31, 23, 59))
    assert survey.is_accepting(jst(2026, 4, 1, 0, 0))  # 2026-03-31 15:00 UTC
    assert survey.is_accepting(datetime(2026, 3, 31, 15, 0, tzinfo=UTC))
    assert survey.is_accepting(jst(2026, 4, 30, 23, 59))  # the closing day itself
    assert not survey.is_accepting(jst(2026, 5, 1, 0, 0))  # still 4/30 in UTC
    assert not survey.is_accepting(datetime(2026, 4, 30, 15, 0, tzinfo=UTC))
    assert not survey.is_accepting(jst(2026, 7, 1, 12, 0))  # long past the closing date


def test_a_survey_accepts_answers_only_by_its_rules() -> None:
    survey = published(closes_on=date(2026, 4, 30))
    today = jst(2026, 4, 10, 12, 0)
    assert survey.accept(Role.CITIZEN, {"q1": 4}, today) == {"q1": 4}
    with pytest.raises(NotAllowed):
        survey.accept(Role.STAFF, {"q1": 4}, today)
    with pytest.raises(InvalidAnswers) as raised:
        survey.accept(Role.CITIZEN, {"q1": 9, "q2": "NUL\x00"}, today)
    assert set(raised.value.field_errors) == {"q1", "q2"}
    with pytest.raises(SurveyNotOpen):
        survey.accept(Role.CITIZEN, {"q1": 4}, jst(2026, 5, 1, 0, 0))


def test_the_hot_path_builds_the_same_event_the_aggregate_records() -> None:
    fields = dict(
        survey_id=uuid4(),
        participant_id=uuid4(),
        role=Role.CITIZEN,
        attributes=Attributes(ward=Ward.ODA, age_band=AgeBand.AGE_30S, has_children=True),
        answers={"q1": 4},
        texts={"q2": b"sealed"},
    )
    with clock.frozen_at(datetime(2026, 4, 10, 3, 0, tzinfo=UTC)):
        by_hand = Response.submitted(**fields)  # type: ignore[arg-type]
        (recorded,) = Response(**fields).collect_events()  # type: ignore[arg-type]
    assert by_hand == recorded
    assert type(by_hand) is type(recorded)


def test_a_participant_s_role_department_and_erasure() -> None:
    with pytest.raises(InvalidCommand, match="部署"):
        Participant.register(Role.STAFF, None, Attributes())
    citizen = Participant.register(Role.CITIZEN, "どこか", Attributes())
    assert citizen.department is None
    citizen.change_role(Role.STAFF, "危機管理課", changed_by=STAFF)
    assert (citizen.role, citizen.department, citizen.is_staff) == (Role.STAFF, "危機管理課", True)
    citizen.give_consent("2025-04", "2025-04")
    citizen.erase()
    citizen.erase()  # erasing twice records nothing more
    assert not citizen.is_staff
    for change in (
        lambda: citizen.change_role(Role.ADMIN, "x", changed_by=None),
        lambda: citizen.change_attributes(Attributes(ward=Ward.ODA)),
        lambda: citizen.give_consent("2026-04", "2026-04"),
    ):
        with pytest.raises(NotAllowed):
            change()
    names = [type(e).__name__ for e in citizen.collect_events()]
    assert names == ["Registered", "RoleChanged", "ConsentGiven", "Erased"]


def test_sealed_text_opens_only_with_its_key_in_its_place() -> None:
    key, response = new_key(), uuid4()
    sealed = seal(key, "公園を増やして", text_context(response, "q2"))
    assert "公園".encode() not in sealed
    assert unseal(key, sealed, text_context(response, "q2")) == "公園を増やして"
    assert unseal(key, sealed, text_context(response, "q3")) is None
    assert unseal(new_key(), sealed, text_context(response, "q2")) is None


def test_the_fiscal_year_runs_april_to_march() -> None:
    assert clock.fiscal_year(date(2026, 3, 31)) == 2025
    assert clock.fiscal_year(date(2026, 4, 1)) == 2026
    assert clock.city_date(datetime(2026, 3, 31, 15, 0, tzinfo=UTC)) == date(2026, 4, 1)
