"""Japan's calendar: surveys open and close on Asia/Tokyo days, and every time shown is Japan time,
so that a time copied from an audit list into the replay form finds what the list showed."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from domain import clock
from domain.errors import SurveyNotOpen
from domain.values import Role
from projections.storage import Storage
from tests.conftest import PASSWORD_HASH, Client, World


def test_a_survey_closing_on_a_day_takes_answers_until_midnight_japan_time(world: World, storage: Storage) -> None:
    app = storage.app
    survey = app.draft_survey(
        staff_id=world.staff,
        title="締切日のあるアンケート",
        opens_on=datetime(2026, 4, 1).date(),
        closes_on=datetime(2026, 4, 30).date(),
    )
    app.add_question(survey, staff_id=world.staff, kind="scale", text="満足度")
    app.publish_survey(survey, staff_id=world.staff)
    early, late, too_late = world.citizens(3)
    with pytest.raises(SurveyNotOpen):  # 3/31 23:59 in Japan, though 4/1 would be near in UTC+0 terms
        app.submit_response(survey, early, {"q1": 3}, now=datetime(2026, 3, 31, 14, 59, tzinfo=UTC))
    app.submit_response(survey, early, {"q1": 3}, now=datetime(2026, 3, 31, 15, 0, tzinfo=UTC))  # 4/1 00:00 JST
    app.submit_response(survey, late, {"q1": 3}, now=datetime(2026, 4, 30, 14, 59, tzinfo=UTC))  # 4/30 23:59 JST
    with pytest.raises(SurveyNotOpen):  # 5/1 00:00 JST: still 4/30 in UTC, yet closed
        app.submit_response(survey, too_late, {"q1": 3}, now=datetime(2026, 4, 30, 15, 0, tzinfo=UTC))


def test_audit_times_are_japan_time_and_replay_finds_them(client: Client, world: World, storage: Storage) -> None:
    storage.app.sign_up(email="audit@example.jp", display_name="監査", password_hash=PASSWORD_HASH, role=Role.AUDITOR)
    # A minute in the future, so that the answer comes after the survey, whose events are stamped now.
    moment = (clock.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    with clock.frozen_at(moment):
        (person,) = world.citizens(1)
        storage.app.submit_response(world.survey, person, world.valid_answers())
    storage.projector.catch_up()
    client.login("audit@example.jp")
    listed = client.get("/audit").text
    in_japan = moment.astimezone(clock.CITY_TZ).strftime("%Y/%m/%d %H:%M")
    assert in_japan in listed and moment.strftime("%Y/%m/%d %H:%M") not in listed
    replayed = client.get(f"/audit/surveys/{world.survey}", params={"at": in_japan})
    assert replayed.status_code == 200
    minute_before = (moment - timedelta(minutes=1)).astimezone(clock.CITY_TZ).strftime("%Y-%m-%dT%H:%M")
    before = client.get(f"/audit/surveys/{world.survey}", params={"at": minute_before})
    assert "までの" in before.text
    events_then = int(re.search(r"までの (\d+) 件", replayed.text).group(1))  # type: ignore[union-attr]
    events_before = int(re.search(r"までの (\d+) 件", before.text).group(1))  # type: ignore[union-attr]
    assert events_then == events_before + 1  # the answer listed at 10:30 is found at 10:30, not 9 hours later
