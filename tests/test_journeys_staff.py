"""Issue 12, staff and auditors: the rules on the aggregates alone, the read models on both engines,
and the pages over HTTP. The browser journeys are in tests/test_journeys_staff_browser.py."""

import random
from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Any
from urllib.parse import unquote
from uuid import uuid4

import pytest

from domain.errors import InvalidAnswers, InvalidCommand, NotAllowed
from domain.identity_lookup import IdentityLookup
from domain.questions import MultipleChoice, Number, SingleChoice
from domain.response import response_id
from domain.survey import Survey, SurveyStatus
from domain.values import AgeBand, Audience, Role, Ward
from projections.results import Figures, _with_coarser, hidden_cells, number_labels
from projections.segments import COARSE_GROUPS, SEGMENT_VALUES
from projections.storage import Storage
from projections.survey_changes import SurveyChanges
from projections.surveys import number_bin
from tests.conftest import PASSWORD_HASH, Client, World
from tests.support.adversary import Adversary
from web.event_names import EVENT_NAMES, actor_of, english_name, japanese_name
from web.routes.staff import csv_disposition

STAFF = uuid4()
NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)  # 12:00 in Japan


def drafted(**details: Any) -> Survey:
    survey = Survey.draft(
        department="子育て支援課",
        title=details.get("title", "子育てアンケート"),
        description=details.get("description", "説明"),
        audience=Audience.CITIZENS,
        opens_on=None,
        closes_on=details.get("closes_on", date(2026, 6, 30)),
        drafted_by=STAFF,
    )
    for i in range(3):
        survey.add_question(SingleChoice(id=survey.next_question_id, text=f"質問{i + 1}", options=("はい", "いいえ")))
    return survey


def published(**details: Any) -> Survey:
    survey = drafted(**details)
    survey.publish(STAFF)
    return survey


def events_of(survey: Survey) -> list[Any]:
    return survey.collect_events()


# The survey aggregate alone


def test_reordering_questions_is_one_event_and_names_every_question_once() -> None:
    survey = drafted()
    survey.collect_events()
    survey.reorder_questions(["q3", "q1", "q2"])
    assert [q.id for q in survey.questions] == ["q3", "q1", "q2"]
    (reordered,) = events_of(survey)
    assert isinstance(reordered, Survey.QuestionsReordered) and reordered.order == ["q3", "q1", "q2"]
    for bad in (["q1", "q2"], ["q1", "q1", "q2", "q3"], ["q1", "q2", "q9"]):
        with pytest.raises(InvalidCommand):
            survey.reorder_questions(bad)
    survey.move_question("q2", -1)
    assert [q.id for q in survey.questions] == ["q3", "q2", "q1"]
    survey.move_question("q3", -1)  # already first: nothing happens, nothing is recorded
    assert [type(e) for e in events_of(survey)] == [Survey.QuestionsReordered]


def test_questions_are_frozen_from_publication_on() -> None:
    survey = published()
    question = SingleChoice(id="q1", text="変えた", options=("a", "b"))
    for change in (
        lambda: survey.reorder_questions(["q2", "q1", "q3"]),
        lambda: survey.move_question("q2", 1),
        lambda: survey.add_question(SingleChoice(id="q4", text="追加", options=("a", "b"))),
        lambda: survey.revise_question(question),
        lambda: survey.remove_question("q1"),
    ):
        with pytest.raises(InvalidCommand, match="質問は変更できません"):
            change()
    assert [q.text for q in survey.questions] == ["質問1", "質問2", "質問3"]


def test_a_typo_is_corrected_after_publication_as_its_own_event() -> None:
    survey = drafted()
    with pytest.raises(InvalidCommand):
        survey.correct_details("子育てアンケート（訂正）", "説明", STAFF)  # a draft is revised, not corrected
    survey.publish(STAFF)
    survey.collect_events()
    survey.correct_details("子育て支援アンケート", "説明です", STAFF)
    (corrected,) = events_of(survey)
    assert isinstance(corrected, Survey.DetailsCorrected)
    assert (corrected.title, corrected.description, corrected.corrected_by) == (
        "子育て支援アンケート",
        "説明です",
        STAFF,
    )
    assert survey.title == "子育て支援アンケート"
    with pytest.raises(InvalidCommand, match="変更がありません"):
        survey.correct_details("子育て支援アンケート", "説明です", STAFF)
    with pytest.raises(InvalidCommand) as refused:
        survey.correct_details("", "説明", STAFF)
    assert "title" in refused.value.field_errors


def test_the_closing_date_is_only_ever_extended_while_answers_are_taken() -> None:
    survey = published(closes_on=date(2026, 6, 30))
    survey.collect_events()
    with pytest.raises(InvalidCommand) as earlier:
        survey.extend_closing(date(2026, 6, 20), STAFF, NOW)
    assert "closes_on" in earlier.value.field_errors
    with pytest.raises(InvalidCommand):
        survey.extend_closing(date(2026, 6, 30), STAFF, NOW)
    survey.extend_closing(date(2026, 7, 15), STAFF, NOW)
    (extended,) = events_of(survey)
    assert isinstance(extended, Survey.ClosingExtended) and extended.closes_on == date(2026, 7, 15)
    assert survey.is_accepting(datetime(2026, 7, 15, 14, 59, tzinfo=UTC))  # 23:59 in Japan
    lapsed = published(closes_on=date(2026, 5, 1))
    with pytest.raises(InvalidCommand) as past:
        lapsed.extend_closing(date(2026, 5, 31), STAFF, NOW)  # the 31st of May is past on the 1st of June
    assert past.value.field_errors == {"closes_on": "過ぎた日には延長できません。"}
    survey.close(STAFF)
    with pytest.raises(InvalidCommand):
        survey.extend_closing(date(2026, 8, 1), STAFF, NOW)
    with pytest.raises(InvalidCommand, match="締切がありません"):
        published(closes_on=None).extend_closing(date(2026, 8, 1), STAFF, NOW)


def test_an_exclusive_option_cannot_be_ticked_with_others() -> None:
    survey = drafted()
    question = MultipleChoice(id="q4", text="困っていること", options=("保育", "医療", "特にない"), exclusive=(2,))
    survey.add_question(question)
    survey.publish(STAFF)
    answers = {"q1": 0, "q2": 0, "q3": 0}
    with pytest.raises(InvalidAnswers) as refused:
        survey.accept(Role.CITIZEN, {**answers, "q4": [0, 2]}, NOW)
    assert refused.value.field_errors == {"q4": "「特にない」は他の選択肢と一緒には選べません。"}
    assert survey.accept(Role.CITIZEN, {**answers, "q4": [2]}, NOW)["q4"] == [2]
    assert survey.accept(Role.CITIZEN, {**answers, "q4": [0, 1]}, NOW)["q4"] == [0, 1]


@pytest.mark.parametrize("exclusive", [(3,), (0, 0), (-1,), (0, 1, 2)])
def test_exclusive_options_must_name_some_but_not_all_options(exclusive: tuple[int, ...]) -> None:
    question = MultipleChoice(id="q4", text="困っていること", options=("保育", "医療", "特にない"), exclusive=exclusive)
    assert question.check_definition()
    with pytest.raises(InvalidCommand):
        drafted().add_question(question)


def test_only_auditors_and_admins_resolve_a_person_and_always_say_why() -> None:
    auditor, subject = uuid4(), uuid4()
    lookup = IdentityLookup.record(
        auditor_id=auditor, role=Role.AUDITOR, erased=False, subject_id=subject, position=7, reason="不正回答の調査"
    )
    (recorded,) = lookup.collect_events()
    assert (recorded.auditor_id, recorded.subject_id, recorded.position) == (auditor, subject, 7)
    for role in (Role.STAFF, Role.CITIZEN, Role.BUSINESS):
        with pytest.raises(NotAllowed):
            IdentityLookup.record(
                auditor_id=auditor, role=role, erased=False, subject_id=subject, position=7, reason="x"
            )
    with pytest.raises(NotAllowed):
        IdentityLookup.record(
            auditor_id=auditor, role=Role.AUDITOR, erased=True, subject_id=subject, position=7, reason="x"
        )
    for reason in ("", "  ", "x" * 201, "理由\x00"):
        with pytest.raises(InvalidCommand):
            IdentityLookup.record(
                auditor_id=auditor, role=Role.AUDITOR, erased=False, subject_id=subject, position=7, reason=reason
            )


# Names and labels


def test_events_have_japanese_names_with_the_english_one_beside() -> None:
    assert japanese_name("domain.survey:Survey.Drafted") == "アンケート下書き作成"
    assert english_name("domain.survey:Survey.Drafted") == "Survey.Drafted"
    assert japanese_name("domain.elsewhere:Thing.Happened") is None  # shown by its English name alone
    for cls in (Survey.QuestionsReordered, Survey.DetailsCorrected, Survey.ClosingExtended, IdentityLookup.Recorded):
        assert cls.__qualname__ in EVENT_NAMES
    survey = drafted()
    drafted_event = survey.collect_events()[0]
    assert actor_of(drafted_event) == STAFF


def test_number_bins_are_labelled_without_overlap() -> None:
    for minimum, maximum in ((0, 100), (0, 59), (1, 30), (-10, 10), (0, 1000)):
        question = Number(id="q1", text="n", minimum=minimum, maximum=maximum, unit="人")
        labels = number_labels(question)
        covered: dict[int, int] = {}
        for index, label in enumerate(labels):
            low, _, high = label.removesuffix("人").partition("〜")
            for value in range(int(low), int(high or low) + 1):
                assert value not in covered, (label, labels)
                covered[value] = index
        assert covered == {v: number_bin(question, v) for v in range(minimum, maximum + 1)}
    assert number_labels(Number(id="q1", text="n", minimum=0, maximum=59))[:2] == ["0〜5", "6〜11"]
    decimals = number_labels(Number(id="q1", text="n", minimum=0, maximum=1, integer=False))
    assert decimals[0] == "0以上0.1未満" and decimals[-1] == "0.9以上1以下"


def test_the_csv_file_is_named_after_the_survey_and_the_day() -> None:
    header = csv_disposition("子育て/アンケート: 2026?", "2026-06-01")
    ascii_part, _, utf8_part = header.partition("; filename*=UTF-8''")
    assert ascii_part == 'attachment; filename="kyoso-results-2026-06-01.csv"'
    assert unquote(utf8_part) == "子育て_アンケート_ 2026_2026-06-01.csv"
    assert all(ord(c) < 128 and c not in " \"';" for c in utf8_part)


# Coarser groupings: protection first


def _people(n: int, rng: random.Random, buckets: int = 3) -> list[tuple[str, str, str, int]]:
    wards = [*SEGMENT_VALUES["ward"]]
    ages = [*SEGMENT_VALUES["age_band"]]
    children = ["yes", "no", "unknown"]
    return [(rng.choice(wards), rng.choice(ages), rng.choice(children), rng.randrange(buckets)) for _ in range(n)]


def _figures(people: list[tuple[str, str, str, int]], buckets: int = 3) -> tuple[Figures, dict[str, list[Figures]]]:
    """Bucket b stands for the value b + 1 (a scale, when there are 5), so the sum is Σ (b + 1)."""

    def column(segment: str, value: str, who: list[tuple[str, str, str, int]]) -> Figures:
        counts = [sum(1 for p in who if p[3] == b) for b in range(buckets)]
        return Figures(segment, value, value, len(who), counts, float(sum(p[3] + 1 for p in who)))

    overall = column("all", "all", people)
    breakdowns: dict[str, list[Figures]] = {}
    for i, segment in enumerate(("ward", "age_band", "children")):
        breakdowns[segment] = [
            column(segment, value, [p for p in people if p[i] == value])
            for value in SEGMENT_VALUES[segment]
            if any(p[i] == value for p in people)
        ]
    return overall, breakdowns


def _adversary(
    overall: Figures, breakdowns: dict[str, list[Figures]], nesting: Any, hidden: set[Any], *, has_mean: bool = False
) -> Adversary:
    """Every equation a reader of the fine and the coarse tables together can write: totals,
    buckets adding up to their column, nesting, and with means the sums (mean × n, shown only
    beside shown respondents) adding up and equal to the weighted buckets."""
    reader = Adversary()
    columns = [overall, *(f for fs in breakdowns.values() for f in fs)]

    def cells(f: Figures) -> list[tuple[Any, ...]]:
        sums = [("s", f.segment, f.value)] if has_mean else []
        return [("n", f.segment, f.value), *(("c", f.segment, f.value, b) for b in range(len(f.counts))), *sums]

    for f in columns:
        n, *buckets = cells(f)[: 1 + len(f.counts)]
        for cell, value in zip(cells(f), [f.respondents, *f.counts, f.total], strict=False):
            if cell in hidden or (cell[0] == "s" and n in hidden):
                reader.hidden.add(cell)
            else:
                reader.known[cell] = Fraction(value)
        reader.equation({n: 1, **{c: -1 for c in buckets}})
        if has_mean:
            reader.equation({("s", f.segment, f.value): 1, **{c: -(c[3] + 1) for c in buckets}})
    for total, parts in [(overall, fs) for fs in breakdowns.values()] + list(nesting):
        for i, cell in enumerate(cells(total)):
            terms: dict[Any, int] = {cell: 1}
            for part in parts:
                terms[cells(part)[i]] = -1
            reader.equation(terms)
    return reader


@pytest.mark.parametrize("has_mean", [False, True], ids=["choice", "scale"])
def test_coarser_age_groups_show_more_and_give_no_finer_cell_away(has_mean: bool) -> None:
    rng = random.Random(12)
    buckets = 5 if has_mean else 3
    weights = [1, 2, 3, 4, 5] if has_mean else None
    shown_more = 0
    for _ in range(150):
        people = _people(rng.choice([8, 13, 13, 20, 40]), rng, buckets)
        overall, fine = _figures(people, buckets)
        breakdowns, nesting = _with_coarser(fine)
        assert {f.value for f in breakdowns["age3"]} <= {*COARSE_GROUPS["age3"]}
        hidden = hidden_cells(
            overall, breakdowns, partitioned=True, has_mean=has_mean, weights=weights, nesting=nesting
        )
        reader = _adversary(overall, breakdowns, nesting, hidden, has_mean=has_mean)
        assert reader.recovered_by_subtraction() == {}
        assert reader.determined() == set()
        fine_shown = sum(1 for f in breakdowns["age_band"] if ("n", f.segment, f.value) not in hidden)
        coarse_shown = sum(1 for f in breakdowns["age3"] if ("n", f.segment, f.value) not in hidden)
        shown_more += coarse_shown > fine_shown
    assert shown_more > 20  # the coarser table is worth offering


def test_without_the_nesting_equations_the_coarser_table_would_leak() -> None:
    """The checker above catches the leak the nesting rule prevents: 30代 alone hidden in its group."""
    ages = {
        AgeBand.UNDER_18.value: 0,
        AgeBand.AGE_18_29.value: 6,
        AgeBand.AGE_30S.value: 2,
        AgeBand.AGE_40S.value: 6,
        AgeBand.AGE_50S.value: 6,
        AgeBand.AGE_60S.value: 6,
        AgeBand.AGE_70_PLUS.value: 2,
    }
    people = [(Ward.SONODA.value, age, "yes", 0) for age, n in ages.items() for _ in range(n)]
    overall, fine = _figures(people)
    breakdowns, nesting = _with_coarser(fine)
    careless = hidden_cells(overall, breakdowns, partitioned=True, has_mean=False, weights=None)
    assert _adversary(overall, breakdowns, nesting, careless).determined()
    careful = hidden_cells(overall, breakdowns, partitioned=True, has_mean=False, weights=None, nesting=nesting)
    assert not _adversary(overall, breakdowns, nesting, careful).determined()


# Read models, on SQLite and PostgreSQL


def test_reordering_and_post_publication_changes_reach_the_read_models(storage: Storage, world: World) -> None:
    app = storage.app
    survey = app.draft_survey(staff_id=world.staff, title="公園アンケート", closes_on=date(2099, 6, 30))
    for text in ("一つ目", "二つ目", "三つ目"):
        app.add_question(survey, staff_id=world.staff, kind="single", text=text, options=["はい", "いいえ"])
    app.move_question(survey, "q3", -1, staff_id=world.staff)
    app.publish_survey(survey, staff_id=world.staff)
    app.correct_survey_details(survey, staff_id=world.staff, title="公園についてのアンケート", description="説明")
    app.extend_survey_closing(survey, staff_id=world.staff, closes_on=date(2099, 7, 31))
    storage.projector.catch_up()

    def check() -> None:
        detail = storage.catalogue.survey(str(survey))
        assert detail is not None
        assert [q.text for q in detail.questions] == ["一つ目", "三つ目", "二つ目"]
        assert (detail.title, detail.closes_on) == ("公園についてのアンケート", "2099-07-31")
        changes = SurveyChanges(storage.db).of(str(survey))
        assert [(c.field, c.old, c.new) for c in changes] == [
            ("closes_on", "2099-06-30", "2099-07-31"),
            ("description", "", "説明"),
            ("title", "公園アンケート", "公園についてのアンケート"),
        ]

    check()
    storage.projector.rebuild()
    check()


def test_a_draft_shows_zero_while_a_published_survey_still_hides_a_small_count(storage: Storage, world: World) -> None:
    app = storage.app
    draft = app.draft_survey(staff_id=world.staff, title="下書き")
    app.add_question(draft, staff_id=world.staff, kind="scale", text="満足度")
    storage.projector.catch_up()
    detail = storage.catalogue.survey(str(draft))
    assert detail is not None and detail.status is SurveyStatus.DRAFT
    results = storage.results.of(detail)
    assert results.respondents == 0
    assert results.questions[0].overall.respondents == 0 and results.questions[0].overall.counts == [0] * 5
    # Published, nobody has answered yet: 0 would tell the moment of the first answer apart.
    live = storage.catalogue.survey(str(world.survey))
    assert live is not None and storage.results.of(live).respondents == "x"
    assert live.public().response_count == "x"


# Pages over HTTP


def staff_client(client: Client) -> Client:
    client.login("staff@example.jp")
    return client


def test_each_irreversible_step_has_a_confirmation_page_that_does_it(client: Client, world: World) -> None:
    staff_client(client)
    url = f"/staff/surveys/{world.survey}"
    editor = client.get(url).text
    assert f'href="{url}/confirm/close"' in editor and f'action="{url}/close"' not in editor
    confirm = client.get(f"{url}/confirm/close")
    assert confirm.status_code == 200
    assert "回答の受付を終了しますか？" in confirm.text and f'action="{url}/close"' in confirm.text
    assert 'name="_csrf_token"' in confirm.text or "csrf" in confirm.text.lower()
    assert client.get(f"{url}/confirm/nothing").status_code == 404
    assert client.submit(f"{url}/close").status_code == 303
    assert 'href="' + url + '/confirm/publish-results"' in client.get(url).text


def test_a_question_is_deleted_only_from_its_confirmation_page(client: Client, world: World, storage: Storage) -> None:
    staff_client(client)
    draft = storage.app.draft_survey(staff_id=world.staff, title="削除テスト")
    storage.app.add_question(draft, staff_id=world.staff, kind="text", text="消す質問")
    storage.projector.catch_up()
    url = f"/staff/surveys/{draft}"
    assert f'href="{url}/questions/q1/delete"' in client.get(url).text
    page = client.get(f"{url}/questions/q1/delete")
    assert "質問「消す質問」を削除しますか？" in page.text
    assert client.get(f"{url}/questions/q9/delete").status_code == 404
    assert client.submit(f"{url}/questions/q1/delete").status_code == 303
    storage.projector.catch_up()
    detail = storage.catalogue.survey(str(draft))
    assert detail is not None and detail.questions == []


def test_corrections_after_publication_are_shown_to_respondents(client: Client, world: World, storage: Storage) -> None:
    staff_client(client)
    url = f"/staff/surveys/{world.survey}"
    bad = client.submit(f"{url}/correction", {"title": "", "description": "説明"})
    assert bad.status_code == 422 and "タイトルを入力してください" in bad.text
    assert (
        client.submit(f"{url}/correction", {"title": "子育て支援アンケート", "description": "説明"}).status_code == 303
    )
    no_deadline = client.submit(f"{url}/extend", {"closes_on": "2099-01-01"})
    assert no_deadline.status_code == 422 and "締切がありません" in no_deadline.text
    survey_page = client.get(f"/surveys/{world.survey}").text
    assert "更新履歴" in survey_page and "タイトルを訂正しました" in survey_page and "子育てアンケート" in survey_page


def test_an_answer_ticking_an_exclusive_option_with_another_is_refused_and_nothing_written(
    client: Client, world: World, storage: Storage
) -> None:
    app = storage.app
    survey = app.draft_survey(staff_id=world.staff, title="困りごと")
    storage.projector.catch_up()
    staff_client(client)
    form = {"kind": "multiple", "text": "困っていること", "required": "on", "options": "保育\n医療\n特にない"}
    unknown = client.submit(f"/staff/surveys/{survey}/questions", {**form, "exclusive": "ない"})
    assert unknown.status_code == 422 and "「ない」は選択肢にありません" in unknown.text
    assert client.submit(f"/staff/surveys/{survey}/questions", {**form, "exclusive": "特にない"}).status_code == 303
    app.publish_survey(survey, staff_id=world.staff)
    storage.projector.catch_up()
    client.cookies.clear()
    client.login("citizen@example.jp")
    refused = client.submit(f"/surveys/{survey}/answer", {"q1": ["0", "2"]})
    assert refused.status_code == 422
    assert "「特にない」は他の選択肢と一緒には選べません。" in refused.text
    assert not app.has_answered(survey, world.citizen)
    assert client.submit(f"/surveys/{survey}/answer", {"q1": ["2"]}).status_code == 303
    assert response_id(survey, world.citizen) in app.repository


def test_another_departments_survey_is_refused_with_the_reason_and_a_way_back(
    client: Client, world: World, storage: Storage
) -> None:
    storage.app.sign_up(
        email="other@example.jp", display_name="他課", password_hash=PASSWORD_HASH, role=Role.STAFF, department="環境課"
    )
    client.login("other@example.jp")
    listing = client.get("/staff").text
    assert f'href="/staff/surveys/{world.survey}"' not in listing
    for path in ("", "/confirm/close", "/preview"):
        refused = client.get(f"/staff/surveys/{world.survey}{path}")
        assert refused.status_code == 403
        assert "他の部署のアンケートは編集できません" in refused.text and 'href="/staff"' in refused.text


def test_the_results_csv_carries_the_title_and_day(client: Client, world: World) -> None:
    staff_client(client)
    response = client.get(f"/staff/surveys/{world.survey}/results.csv")
    disposition = response.headers["content-disposition"]
    assert str(world.survey) not in disposition
    assert unquote(disposition.split("UTF-8''")[1]).startswith("子育てアンケート_20")


def test_auditors_read_event_names_and_roles_and_each_lookup_is_an_event(
    client: Client, world: World, storage: Storage
) -> None:
    auditor = storage.app.sign_up(
        email="auditor@example.jp", display_name="監査", password_hash=PASSWORD_HASH, role=Role.AUDITOR
    )
    storage.projector.catch_up()
    client.login("auditor@example.jp")
    home = client.get("/audit").text
    assert "アンケート下書き作成" in home and "Survey.Drafted" in home
    assert "職員（子育て支援課）" in home
    assert str(world.staff) not in home
    drafted_at = next(
        n.id
        for n in storage.app.recorder.select_notifications(start=1, limit=500)
        if n.topic.endswith("Survey.Drafted")
    )
    form = client.get(f"/audit/events/{drafted_at}/actor")
    assert form.status_code == 200 and str(world.staff) not in form.text
    assert client.submit(f"/audit/events/{drafted_at}/actor", {"reason": ""}).status_code == 422
    lookups = [n for n in storage.app.recorder.select_notifications(start=1, limit=500) if "IdentityLookup" in n.topic]
    assert lookups == []
    resolved = client.submit(f"/audit/events/{drafted_at}/actor", {"reason": "公開手続きの確認"})
    assert resolved.status_code == 200 and str(world.staff) in resolved.text and "staff@example.jp" in resolved.text
    (recorded,) = [
        storage.app.mapper.to_domain_event(n)
        for n in storage.app.recorder.select_notifications(start=1, limit=500)
        if "IdentityLookup" in n.topic
    ]
    assert (recorded.auditor_id, recorded.subject_id, recorded.position) == (auditor, world.staff, drafted_at)
    assert recorded.reason == "公開手続きの確認"
    client.cookies.clear()
    client.login("staff@example.jp")
    assert client.get(f"/audit/events/{drafted_at}/actor").status_code == 403


def test_the_audit_replay_of_a_draft_shows_zero(client: Client, world: World, storage: Storage) -> None:
    draft = storage.app.draft_survey(staff_id=world.staff, title="下書きの監査")
    storage.app.add_question(draft, staff_id=world.staff, kind="single", text="質問", options=["a", "b"])
    storage.projector.catch_up()
    storage.app.sign_up(email="auditor@example.jp", display_name="監査", password_hash=PASSWORD_HASH, role=Role.AUDITOR)
    client.login("auditor@example.jp")
    page = client.get(f"/audit/surveys/{draft}", params={"at": "2099-01-01T00:00"}).text
    assert 'data-testid="respondents-at">0<' in page


def test_the_editor_lists_settings_and_lets_staff_move_questions(
    client: Client, world: World, storage: Storage
) -> None:
    app = storage.app
    survey = app.draft_survey(staff_id=world.staff, title="設定一覧")
    app.add_question(survey, staff_id=world.staff, kind="number", text="人数", minimum=0, maximum=10, unit="人")
    app.add_question(survey, staff_id=world.staff, kind="text", text="ご意見", max_length=300, required=False)
    storage.projector.catch_up()
    staff_client(client)
    url = f"/staff/surveys/{survey}"
    editor = client.get(url).text
    assert "0〜10人" in editor and "整数のみ" in editor and "300文字まで" in editor and "任意" in editor
    assert client.submit(f"{url}/questions/q2/move", {"direction": "up"}).status_code == 303
    assert client.submit(f"{url}/questions/q2/move", {"direction": "sideways"}).status_code == 422
    storage.projector.catch_up()
    detail = storage.catalogue.survey(str(survey))
    assert detail is not None and [q.id for q in detail.questions] == ["q2", "q1"]
    preview = client.get(f"{url}/preview")
    assert preview.status_code == 200 and "プレビュー" in preview.text and "/answer" not in preview.text
    app.publish_survey(survey, staff_id=world.staff)
    storage.projector.catch_up()
    assert client.submit(f"{url}/questions/q2/move", {"direction": "down"}).status_code == 422


@pytest.mark.parametrize("position", ["0", "-1", "9223372036854775808", "99999999999999999999"])
def test_an_event_position_outside_the_log_is_refused_not_a_server_error(
    client: Client, storage: Storage, world: World, position: str
) -> None:
    storage.app.sign_up(email="auditor@example.jp", display_name="監査", password_hash=PASSWORD_HASH, role=Role.AUDITOR)
    client.login("auditor@example.jp")
    assert client.get(f"/audit/events/{position}/actor").status_code in (400, 404)
    assert client.submit(f"/audit/events/{position}/actor", {"reason": "調査のため"}).status_code in (400, 404)
