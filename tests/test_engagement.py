"""The staff engagement index (ぱいたり値): the UWES-9 instrument and its scoring, waves as staff
surveys, the projection per wave and department (small ones folded into その他, never one person),
the trend, "as of" a past date (and its replay from the events), and who may see the page."""

from datetime import date, datetime, timedelta
from uuid import UUID

import pytest

from domain import clock
from domain.engagement import UWES_9, Subscale, item_map_problems, score
from domain.errors import InvalidCommand, NotAllowed
from domain.values import Role
from projections.engagement_read import (
    MIN_GROUP,
    OTHERS,
    EngagementReader,
    end_of_day,
    fold_departments,
    organisation_index,
    replay_at,
)
from projections.storage import Storage
from tests.conftest import PASSWORD_HASH, Client

JST = clock.CITY_TZ
WAVE_1 = (date(2024, 6, 3), date(2024, 6, 14))
WAVE_2 = (date(2025, 6, 2), date(2025, 6, 13))


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=JST)


class Office:
    """Staff in departments, a 人事課 organiser, and waves answered with one score per person."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.app = storage.app
        with clock.frozen_at(at(date(2024, 4, 1))):
            self.organiser = self.app.register_participant(Role.STAFF, department="人事課")
        self.people: dict[str, list[UUID]] = {}

    def staff(self, department: str, n: int) -> list[UUID]:
        with clock.frozen_at(at(date(2024, 4, 1))):
            more = [self.app.register_participant(Role.STAFF, department=department) for _ in range(n)]
        self.people.setdefault(department, []).extend(more)
        return more

    def wave(self, label: str, window: tuple[date, date], scores: dict[UUID, int | list[int]]) -> UUID:
        opens_on, closes_on = window
        with clock.frozen_at(at(opens_on - timedelta(days=7))):
            wave = self.app.draft_engagement_wave(self.organiser, label=label, opens_on=opens_on, closes_on=closes_on)
        with clock.frozen_at(at(opens_on, 9)):
            self.app.publish_survey(wave, staff_id=self.organiser)
        self.answer(wave, opens_on, scores)
        with clock.frozen_at(at(closes_on + timedelta(days=1), 9)):
            self.app.close_survey(wave, staff_id=self.organiser)
        self.storage.projector.catch_up()
        return wave

    def answer(self, wave: UUID, day: date, scores: dict[UUID, int | list[int]]) -> None:
        questions = [q.id for q in self.app.get_survey(wave).questions]
        with clock.frozen_at(at(day, 12)):
            for person, value in scores.items():
                values = value if isinstance(value, list) else [value] * len(questions)
                self.app.submit_response(wave, person, dict(zip(questions, values, strict=True)))


def each(people: list[UUID], value: int | list[int]) -> dict[UUID, int | list[int]]:
    return dict.fromkeys(people, value)


@pytest.fixture
def office(storage: Storage) -> Office:
    return Office(storage)


# The instrument and its scoring (no storage needed)


def test_uwes9_has_nine_items_answered_0_to_6_in_three_subscales() -> None:
    assert [i.number for i in UWES_9.items] == list(range(1, 10))
    assert UWES_9.subscale_items(Subscale.VIGOUR) == [1, 2, 5]
    assert UWES_9.subscale_items(Subscale.DEDICATION) == [3, 4, 7]
    assert UWES_9.subscale_items(Subscale.ABSORPTION) == [6, 8, 9]
    assert UWES_9.top == 6 and UWES_9.anchors[0].startswith("0 全くない") and "いつも感じる" in UWES_9.anchors[6]
    assert "Schaufeli" in UWES_9.citation and "Shimazu" in UWES_9.citation


def test_scores_are_means_of_items_per_subscale_and_overall() -> None:
    # Two respondents: item n answered n-1 and n+? — sums chosen so each mean is easy to check.
    sums = {n: (2, 2 * s) for n, s in zip(range(1, 10), [1, 2, 3, 4, 5, 6, 0, 6, 3], strict=True)}
    scores = score(UWES_9, 2, sums)
    assert scores.subscales[Subscale.VIGOUR] == pytest.approx((1 + 2 + 5) / 3)
    assert scores.subscales[Subscale.DEDICATION] == pytest.approx((3 + 4 + 0) / 3)
    assert scores.subscales[Subscale.ABSORPTION] == pytest.approx((6 + 6 + 3) / 3)
    assert scores.index == pytest.approx(30 / 9)
    assert scores.index_100 == round(100 * (30 / 9) / 6, 1)
    assert score(UWES_9, 0, {}).index is None


def _dept(n: int, each_item: int) -> tuple[int, dict[int, tuple[int, int]]]:
    return n, {item: (n, n * each_item) for item in range(1, 10)}


def test_departments_under_5_are_folded_into_others_and_others_is_never_under_5() -> None:
    groups = fold_departments({"A": _dept(5, 2), "B": _dept(4, 4), "C": _dept(1, 6)})
    assert [(g.label, g.scores.respondents, g.folded) for g in groups] == [("A", 5, 0), (OTHERS, 5, 2)]
    assert groups[1].scores.index == pytest.approx((4 * 4 + 6) / 5)
    # その他 of 1 would be the organisation minus A: A joins it, and no department is named.
    groups = fold_departments({"A": _dept(5, 2), "B": _dept(1, 6)})
    assert [(g.label, g.scores.respondents) for g in groups] == [(OTHERS, 6)]
    # The smallest department of 5 or more joins first; the larger ones stay named.
    groups = fold_departments({"A": _dept(9, 2), "B": _dept(6, 3), "C": _dept(2, 5)})
    assert [(g.label, g.scores.respondents) for g in groups] == [("A", 9), (OTHERS, 8)]


# Waves: the rules live in the Survey


def test_a_wave_is_a_staff_survey_of_the_nine_items_which_cannot_be_changed(storage: Storage, office: Office) -> None:
    app = storage.app
    wave = app.draft_engagement_wave(office.organiser, label="2025年度", opens_on=None, closes_on=None)
    survey = app.get_survey(wave)
    assert survey.audience.value == "staff" and survey.department == "人事課" and survey.instrument == "uwes-9"
    assert [q.text for q in survey.questions] == [i.text for i in UWES_9.items]
    assert all(q.required and list(q.options) == list(UWES_9.anchors) for q in survey.questions)  # type: ignore[union-attr]
    assert survey.item_map == {f"q{n}": n for n in range(1, 10)}
    with pytest.raises(InvalidCommand, match="尺度の設問"):
        app.remove_question(wave, "q3", staff_id=office.organiser)
    with pytest.raises(InvalidCommand, match="尺度の設問"):
        app.revise_question(wave, "q3", staff_id=office.organiser, kind="scale", text="別の質問")
    with pytest.raises(InvalidCommand, match="職員向け"):
        app.revise_survey_details(
            wave, staff_id=office.organiser, title="x", description="", audience="citizens",  # type: ignore[arg-type]
            opens_on=None, closes_on=None,
        )  # fmt: skip
    with pytest.raises(InvalidCommand, match="すでに尺度"):
        app.attach_instrument(
            wave, staff_id=office.organiser, instrument="uwes-9", item_map=survey.item_map, label="再度"
        )
    # Another question may still be added: only the items are fixed.
    assert app.add_question(wave, staff_id=office.organiser, kind="text", text="ご意見", required=False) == "q10"


def test_a_wave_refuses_bad_labels_citizen_surveys_and_non_staff(storage: Storage, office: Office) -> None:
    app = storage.app
    with pytest.raises(InvalidCommand) as refused:
        app.draft_engagement_wave(office.organiser, label=" ", opens_on=None, closes_on=None)
    assert "label" in refused.value.field_errors
    with pytest.raises(InvalidCommand) as refused:
        app.draft_engagement_wave(
            office.organiser, label="2025年度", opens_on=date(2025, 6, 2), closes_on=date(2025, 6, 1)
        )
    assert "closes_on" in refused.value.field_errors
    citizen = app.register_participant(Role.CITIZEN)
    with pytest.raises(NotAllowed):
        app.draft_engagement_wave(citizen, label="2025年度", opens_on=None, closes_on=None)
    # A citizens' survey asking the same items still cannot be a wave.
    survey = app.draft_survey(staff_id=office.organiser, title="市民向け")
    for item in UWES_9.items:
        app.add_question(survey, staff_id=office.organiser, kind="single", text=item.text, options=UWES_9.anchors)
    item_map = {f"q{n}": n for n in range(1, 10)}
    with pytest.raises(InvalidCommand, match="職員向け"):
        app.attach_instrument(survey, staff_id=office.organiser, instrument="uwes-9", item_map=item_map, label="x")
    questions = app.get_survey(survey).questions
    assert item_map_problems("uwes-9", questions, item_map) == []
    assert item_map_problems("uwes-9", questions, {**item_map, "q9": 8})  # item 8 twice, 9 missing
    assert item_map_problems("uwes-17", questions, item_map)
    storage.projector.catch_up()
    assert EngagementReader(storage.db).waves() == []  # nothing half-written by the refusals


# The index per wave and department


def test_index_per_wave_and_department_folds_small_departments_and_shows_no_one(
    storage: Storage, office: Office, client: Client
) -> None:
    a, b, c = office.staff("人事課", 5), office.staff("危機管理課", 4), office.staff("市民協働課", 1)
    answers = {**each(a, 2), **each(b, 4), **each(c, [6, 5, 6, 6, 6, 6, 6, 6, 6])}
    office.wave("2024年度", WAVE_1, answers)
    (wave,) = EngagementReader(storage.db).waves()
    assert wave.status == "finished" and wave.organisation is not None
    assert wave.organisation.respondents == 10
    assert wave.organisation.index == pytest.approx((5 * 2 * 9 + 4 * 4 * 9 + 53) / 90)
    assert wave.organisation.subscales[Subscale.VIGOUR] == pytest.approx((5 * 2 * 3 + 4 * 4 * 3 + 17) / 30)
    shown = [(g.label, g.scores.respondents) for g in wave.departments]
    assert shown == [("人事課", 5), (OTHERS, 5)]
    # No individual: every group shown has 5 or more, and together they are exactly the whole,
    # so no subtraction of shown figures isolates fewer than 5 people.
    assert all(g.scores.respondents >= MIN_GROUP for g in wave.departments)
    assert sum(g.scores.respondents for g in wave.departments) == wave.organisation.respondents
    assert organisation_index(storage.db) == (pytest.approx(wave.organisation.index), "2024年度")

    storage.app.sign_up(email="head@example.jp", display_name="課長", password_hash=PASSWORD_HASH,
                        role=Role.STAFF, department="市民協働課")  # fmt: skip
    client.login("head@example.jp")
    html = client.get("/staff/engagement").text
    assert "人事課" in html and OTHERS in html and "市民協働課" not in html
    assert "危機管理課" not in html


def test_others_of_1_to_4_takes_in_the_smallest_department_and_tiny_waves_show_nothing(
    storage: Storage, office: Office
) -> None:
    a, b = office.staff("人事課", 5), office.staff("危機管理課", 1)
    office.wave("2024年度", WAVE_1, {**each(a, 2), **each(b, 6)})
    (wave,) = EngagementReader(storage.db).waves()
    # 人事課 alone next to the organisation would give away the one 危機管理課 answer.
    assert [(g.label, g.scores.respondents) for g in wave.departments] == [(OTHERS, 6)]
    office.wave("2025年度", WAVE_2, each(a[:4], 3))
    second = EngagementReader(storage.db).waves()[-1]
    assert second.status == "finished" and second.too_few and second.departments == []
    assert organisation_index(storage.db) == (None, "2025年度")


def test_figures_appear_only_once_a_wave_has_finished(storage: Storage, office: Office) -> None:
    people = office.staff("人事課", 6)
    opens_on, closes_on = WAVE_2
    with clock.frozen_at(at(opens_on - timedelta(days=7))):
        wave = storage.app.draft_engagement_wave(
            office.organiser, label="2025年度", opens_on=opens_on, closes_on=closes_on
        )
    storage.projector.catch_up()
    read = EngagementReader(storage.db)
    assert [w.status for w in read.waves()] == ["draft"]
    with clock.frozen_at(at(opens_on, 9)):
        storage.app.publish_survey(wave, staff_id=office.organiser)
    office.answer(wave, opens_on, each(people, 4))
    storage.projector.catch_up()
    (during,) = read.waves(at(closes_on, 20))
    assert during.status == "open" and during.organisation is None and during.departments == []
    # Not closed by anyone: the end of its closing day (Asia/Tokyo) finishes it all the same.
    (after,) = read.waves(at(closes_on + timedelta(days=1), 0))
    assert after.status == "finished" and after.organisation and after.organisation.index == 4


# Trend, as of a date, replay


def two_waves(office: Office) -> None:
    a, b = office.staff("人事課", 6), office.staff("子育て支援課", 5)
    c, d = office.staff("公園計画課", 3), office.staff("市民協働課", 2)
    office.wave("2024年度", WAVE_1, {**each(a, 2), **each(b, 3), **each(c + d, 4)})
    office.wave("2025年度", WAVE_2, {**each(a, 3), **each(b, 3), **each(c + d, 6)})


def test_the_trend_between_waves_for_the_organisation_and_each_named_department(
    storage: Storage, office: Office
) -> None:
    two_waves(office)
    first, second = EngagementReader(storage.db).waves()
    assert first.change is None and second.change is not None
    assert first.organisation and second.organisation
    assert second.change.index == pytest.approx(second.organisation.index - first.organisation.index)
    assert second.change.subscales[Subscale.ABSORPTION] == pytest.approx(
        second.organisation.subscales[Subscale.ABSORPTION] - first.organisation.subscales[Subscale.ABSORPTION]  # type: ignore[operator]
    )
    assert second.department_changes["人事課"] == pytest.approx(1.0)
    assert second.department_changes["子育て支援課"] == pytest.approx(0.0)
    assert OTHERS not in second.department_changes  # its make-up differs between waves


def test_as_of_a_date_before_wave_2_shows_only_wave_1_and_replay_agrees(storage: Storage, office: Office) -> None:
    two_waves(office)
    before = end_of_day(WAVE_2[1])  # wave 2 open (closed the next morning) but not yet finished
    read = EngagementReader(storage.db)
    finished = read.finished(before)
    assert [w.label for w in finished] == ["2024年度"]
    assert [w.status for w in read.waves(before)] == ["finished", "open"]
    index, label = organisation_index(storage.db, before)
    assert label == "2024年度" and index == pytest.approx(finished[0].organisation.index)  # type: ignore[union-attr]
    assert read.waves(end_of_day(WAVE_1[0] - timedelta(days=30))) == []
    assert organisation_index(storage.db, end_of_day(date(2024, 1, 1))) == (None, "")
    # The same figures rebuilt from the events recorded up to then, and from all of them.
    for moment in (before, end_of_day(date(2025, 7, 1))):
        replayed = replay_at(storage.app, moment)
        try:
            assert _figures(replayed.waves(moment)) == _figures(read.waves(moment))
        finally:
            replayed.db.close()
    assert len(_figures(read.waves())) == 2


def _figures(waves: list) -> list:  # type: ignore[type-arg]
    return [(w.label, w.status, w.organisation, [(g.label, g.scores) for g in w.departments], w.change) for w in waves]


def test_a_response_counts_under_the_department_at_the_time_even_within_one_batch(
    storage: Storage, office: Office
) -> None:
    a, b = office.staff("人事課", 5), office.staff("危機管理課", 6)
    mover, joiner = a[0], b[0]
    opens_on, closes_on = WAVE_1
    with clock.frozen_at(at(opens_on - timedelta(days=7))):
        wave = storage.app.draft_engagement_wave(
            office.organiser, label="2024年度", opens_on=opens_on, closes_on=closes_on
        )
    storage.projector.catch_up()
    with clock.frozen_at(at(opens_on, 9)):
        storage.app.publish_survey(wave, staff_id=office.organiser)
        # No projection in between: all of this arrives in one batch, in this order.
        office.answer(wave, opens_on, {mover: 1})
        storage.app.change_role(mover, Role.STAFF, "危機管理課")
        storage.app.change_role(joiner, Role.STAFF, "人事課")
        office.answer(wave, opens_on, {joiner: 5})
        office.answer(wave, opens_on, {**each(a[1:], 1), **each(b[1:], 5)})
        storage.app.close_survey(wave, staff_id=office.organiser)
    storage.projector.catch_up()

    def departments() -> dict[str, tuple[int, float | None]]:
        (w,) = EngagementReader(storage.db).waves()
        return {g.label: (g.scores.respondents, g.scores.index) for g in w.departments}

    # The mover's answer stays with 人事課, the joiner's goes to it; the end-of-batch state (or the
    # state before the batch) would give 5 and 6 instead.
    assert departments() == {"人事課": (6, pytest.approx(10 / 6)), "危機管理課": (5, pytest.approx(5.0))}
    figures = departments()
    storage.projector.rebuild()
    assert departments() == figures  # rebuilt from zero: the same


# The page


def test_the_page_is_for_staff_and_admins_only(storage: Storage, client: Client) -> None:
    assert client.get("/staff/engagement", follow_redirects=False).status_code in (302, 303, 401)
    for role in (Role.CITIZEN, Role.BUSINESS, Role.AUDITOR):
        email = f"{role.value}@example.jp"
        storage.app.sign_up(email=email, display_name=role.label, password_hash=PASSWORD_HASH, role=role)
        client.cookies.clear()
        client.login(email)
        assert client.get("/staff/engagement", follow_redirects=False).status_code == 403, role
        assert client.submit("/staff/engagement/waves", {"label": "x"}).status_code == 403, role


def test_staff_see_the_trend_and_departments_as_of_a_date_and_draft_a_wave(
    storage: Storage, office: Office, client: Client
) -> None:
    two_waves(office)
    storage.app.sign_up(email="hr@example.jp", display_name="人事", password_hash=PASSWORD_HASH,
                        role=Role.STAFF, department="人事課")  # fmt: skip
    client.login("hr@example.jp")
    page = client.get("/staff/engagement")
    assert page.status_code == 200
    assert page.text.count("<svg") >= 3 and 'data-testid="trend"' in page.text
    assert "2024年度" in page.text and "2025年度" in page.text and "（あなたの部署）" in page.text
    past = client.get("/staff/engagement", params={"as_of": WAVE_2[1].isoformat()})
    assert past.status_code == 200 and 'data-testid="as-of"' in past.text
    assert "2025年度の部署別" not in past.text and "2024年度の部署別" in past.text
    assert client.get("/staff/engagement", params={"as_of": "2025-13-40"}).status_code == 422

    refused = client.submit("/staff/engagement/waves", {"label": "", "opens_on": "", "closes_on": ""})
    assert refused.status_code == 422 and "調査回の名前" in refused.text
    made = client.submit("/staff/engagement/waves", {"label": "2026年度", "opens_on": "2026-06-01", "closes_on": ""})
    assert made.status_code == 303 and made.headers["location"].startswith("/staff/surveys/")
    survey_id = UUID(made.headers["location"].rsplit("/", 1)[1])
    assert storage.app.get_survey(survey_id).instrument == "uwes-9"
    assert "2026年度" in client.get("/staff/engagement").text
