"""Events are stored as msgspec JSON and come back as the same typed objects."""

import dataclasses
from datetime import date
from uuid import uuid4

from domain.questions import MultipleChoice, Number
from domain.response import Response
from domain.serialization import MsgspecMapper
from domain.survey import Survey
from domain.values import AgeBand, Attributes, Audience, Role, Ward


def roundtrip(event: object) -> object:
    mapper = MsgspecMapper()
    return mapper.to_domain_event(mapper.to_stored_event(event))  # type: ignore[arg-type]


def test_survey_events_round_trip_with_their_types() -> None:
    survey = Survey.draft(
        department="危機管理課",
        title="防災",
        description="",
        audience=Audience.CITIZENS,
        opens_on=date(2026, 4, 1),
        closes_on=None,
        drafted_by=uuid4(),
    )
    survey.add_question(MultipleChoice(id="q1", text="備え", options=("水", "食料"), max_choices=1))
    survey.add_question(Number(id="q2", text="日数", minimum=0, maximum=30, unit="日"))
    events = survey.collect_events()
    decoded = [roundtrip(e) for e in events]
    assert decoded == events
    assert isinstance(decoded[0].opens_on, date)  # type: ignore[attr-defined]
    assert isinstance(decoded[1].question, MultipleChoice)  # type: ignore[attr-defined]
    assert decoded[0].audience is Audience.CITIZENS  # type: ignore[attr-defined]


def test_response_events_round_trip_and_are_readable_json() -> None:
    response = Response(
        survey_id=uuid4(),
        participant_id=uuid4(),
        role=Role.CITIZEN,
        attributes=Attributes(ward=Ward.MUKO, age_band=AgeBand.AGE_40S, has_children=False),
        answers={"q1": 2, "q2": [0, 1], "q3": 2.5, "q5": None},
        texts={"q4": b"\x00sealed\xff"},
    )
    (event,) = response.collect_events()
    stored = MsgspecMapper().to_stored_event(event)
    assert b'"ward":"muko"' in stored.state  # UTF-8 JSON, legible to an auditor
    decoded = roundtrip(event)
    assert decoded == event and decoded.texts == {"q4": b"\x00sealed\xff"}  # type: ignore[attr-defined]


def test_version_1_responses_kept_free_text_among_the_answers() -> None:
    response = Response(
        survey_id=uuid4(), participant_id=uuid4(), role=Role.CITIZEN, attributes=Attributes(), answers={}, texts={}
    )
    (event,) = response.collect_events()
    stored = MsgspecMapper().to_stored_event(event)
    legacy = stored.state.replace(b',"texts":{}', b"").replace(b',"class_version":2', b"")
    legacy = legacy.replace(b'"answers":{}', '"answers":{"q4":"駅前に緑を"}'.encode())
    decoded = MsgspecMapper().to_domain_event(dataclasses.replace(stored, state=legacy))
    assert decoded.answers == {"q4": "駅前に緑を"} and decoded.texts == {}  # type: ignore[attr-defined]


def test_version_1_theme_analyses_analysed_a_survey_question() -> None:
    from domain.themes import AnalysisModel, ThemeAnalysis, survey_corpus

    survey_id = uuid4()
    analysis = ThemeAnalysis(
        corpus=survey_corpus(survey_id, "q4"),
        survey_id=survey_id,
        question_id="q4",
        requested_by=uuid4(),
        input_ids=["a"],
        model=AnalysisModel(name="m", version="1", dim=2),
        params={},
        seed=0,
        themes=[],
    )
    (event,) = analysis.collect_events()
    stored = MsgspecMapper().to_stored_event(event)
    corpus = f'"corpus":"{survey_corpus(survey_id, "q4")}",'.encode()
    legacy = stored.state.replace(corpus, b"").replace(b',"class_version":2', b"")
    assert b"corpus" not in legacy
    decoded = MsgspecMapper().to_domain_event(dataclasses.replace(stored, state=legacy))
    assert decoded == event and decoded.corpus == f"survey:{survey_id}:q4"  # type: ignore[attr-defined]
