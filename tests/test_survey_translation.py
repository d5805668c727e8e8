"""A survey's English (Survey.TranslationProvided): the aggregate's rules, the catalogue on both
engines, the staff's form, and citizens reading in English with the Japanese wherever English is missing."""

from typing import Any
from uuid import uuid4

import pytest

from domain.errors import InvalidCommand, NotAllowed
from domain.questions import MAX_OPTION_TEXT, MAX_QUESTION_TEXT, Number, QuestionTranslation, Scale, SingleChoice
from domain.survey import MAX_DESCRIPTION, MAX_TITLE, Survey, SurveyTranslation
from domain.values import Audience, Role
from projections.storage import Storage
from tests.conftest import PASSWORD_HASH, Client, World

EN = {"accept-language": "en"}
STAFF = uuid4()


def _draft() -> Survey:
    survey = Survey.draft(
        department="子育て支援課",
        title="子育てアンケート",
        description="説明",
        audience=Audience.CITIZENS,
        opens_on=None,
        closes_on=None,
        drafted_by=STAFF,
    )
    survey.add_question(SingleChoice(id="q1", text="住み続けたい?", options=("はい", "いいえ", "わからない")))
    survey.add_question(Scale(id="q2", text="満足度"))
    survey.add_question(Number(id="q3", text="子どもの人数", minimum=0, maximum=10, unit="人"))
    return survey


def _provide(survey: Survey, title: str = "", description: str = "", **questions: QuestionTranslation) -> None:
    survey.provide_translation("en", title, description, dict(questions), STAFF)


# The aggregate's rules


def test_a_translation_is_recorded_as_one_event_with_its_texts_stripped() -> None:
    survey = _draft()
    _provide(survey, " Childcare survey ", "About it", q1=QuestionTranslation(text=" Stay? ", options=("Yes", "", "")))
    event = survey.collect_events()[-1]
    assert isinstance(event, Survey.TranslationProvided)
    assert (event.language, event.title, event.description) == ("en", "Childcare survey", "About it")
    assert event.questions == {"q1": QuestionTranslation(text="Stay?", options=("Yes", "", ""))}
    assert survey.translation("en") == SurveyTranslation(
        title="Childcare survey", description="About it", questions=event.questions
    )


def test_a_translation_may_be_given_in_draft_after_publishing_and_after_closing() -> None:
    survey = _draft()
    _provide(survey, "Draft title")
    survey.publish(STAFF)
    _provide(survey, "Published title")
    survey.close(STAFF)
    _provide(survey, "Closed title")
    titles = [e.title for e in survey.collect_events() if isinstance(e, Survey.TranslationProvided)]
    assert titles == ["Draft title", "Published title", "Closed title"]
    # The Japanese, what the answers mean, is untouched.
    assert survey.title == "子育てアンケート" and survey.questions[0].options == ("はい", "いいえ", "わからない")


def test_saving_the_same_translation_again_records_nothing() -> None:
    survey = _draft()
    _provide(survey)  # nothing at all: no translation to record
    _provide(survey, "Title", q2=QuestionTranslation(low_label="Disagree"))
    survey.collect_events()
    _provide(survey, "Title ", q2=QuestionTranslation(low_label=" Disagree"), q3=QuestionTranslation())
    assert survey.collect_events() == []


def test_only_english_is_a_translation() -> None:
    for language in ("ja", "fr", ""):
        with pytest.raises(InvalidCommand):
            _draft().provide_translation(language, "Title", "", {}, STAFF)


@pytest.mark.parametrize(
    ("title", "description", "field"),
    [
        ("x" * (MAX_TITLE + 1), "", "title"),
        ("bad\x00title", "", "title"),
        ("", "d" * (MAX_DESCRIPTION + 1), "description"),
        ("", "bell\x07", "description"),
    ],
)
def test_title_and_description_keep_the_japanese_limits(title: str, description: str, field: str) -> None:
    survey = _draft()
    with pytest.raises(InvalidCommand) as refused:
        _provide(survey, title, description)
    assert field in refused.value.field_errors
    assert survey.collect_events()[-1].__class__ is not Survey.TranslationProvided


@pytest.mark.parametrize(
    ("question_id", "translation"),
    [
        ("q1", QuestionTranslation(text="x" * (MAX_QUESTION_TEXT + 1))),
        ("q1", QuestionTranslation(options=("Yes", "No"))),  # the Japanese has three
        ("q1", QuestionTranslation(options=("Yes", "Yes", "Don't know"))),
        ("q1", QuestionTranslation(options=("y" * (MAX_OPTION_TEXT + 1), "No", "?"))),
        ("q1", QuestionTranslation(help="\x1b[31m")),
        ("q1", QuestionTranslation(low_label="Disagree")),  # not a scale
        ("q2", QuestionTranslation(options=("a", "b"))),  # a scale has no options
        ("q2", QuestionTranslation(unit="people")),  # nor a unit
    ],
)
def test_a_question_translation_is_checked_against_its_question(question_id: str, translation: Any) -> None:
    with pytest.raises(InvalidCommand) as refused:
        _provide(_draft(), **{question_id: translation})
    assert f"questions.{question_id}" in refused.value.field_errors


def test_a_question_the_survey_does_not_have_is_refused() -> None:
    with pytest.raises(InvalidCommand):
        _provide(_draft(), q9=QuestionTranslation(text="Nine"))


def test_a_translation_replaces_the_texts_shown_and_leaves_the_rest_japanese() -> None:
    question = SingleChoice(id="q1", text="住み続けたい?", help="補足", options=("はい", "いいえ", "わからない"))
    shown = QuestionTranslation(text="Stay?", options=("Yes", "", "Not sure")).applied_to(question)
    assert (shown.text, shown.help, shown.options) == ("Stay?", "補足", ("Yes", "いいえ", "Not sure"))
    scale = QuestionTranslation(high_label="Agree").applied_to(Scale(id="q2", text="満足度"))
    assert (scale.text, scale.low_label, scale.high_label) == ("満足度", "そう思わない", "Agree")


# The application and the catalogue, on SQLite and PostgreSQL


def test_the_catalogue_keeps_each_survey_translation(world: World, storage: Storage) -> None:
    app = storage.app
    app.provide_survey_translation(
        world.survey,
        staff_id=world.staff,
        language="en",
        title="Childcare survey",
        description="",
        questions={world.q_single: QuestionTranslation(text="Stay?", options=("Yes", "No", ""))},
    )
    storage.projector.catch_up()
    detail = storage.catalogue.survey(str(world.survey))
    assert detail is not None
    english = detail.translations["en"]
    assert english.title == "Childcare survey" and english.description == ""
    assert english.questions == {world.q_single: QuestionTranslation(text="Stay?", options=("Yes", "No", ""))}
    assert detail.title == "子育てアンケート"  # the Japanese stays the original
    # The last translation given is the one that stands, and the read model rebuilds to it.
    app.provide_survey_translation(
        world.survey, staff_id=world.staff, language="en", title="Childcare", description="", questions={}
    )
    storage.projector.rebuild()
    (summary,) = [s for s in storage.catalogue.surveys() if s.id == str(world.survey)]
    assert summary.translations["en"] == SurveyTranslation(title="Childcare")


def test_another_departments_staff_cannot_translate(world: World, storage: Storage) -> None:
    other = storage.app.sign_up(
        email="other@example.jp",
        display_name="他",
        password_hash=PASSWORD_HASH,
        role=Role.STAFF,
        department="危機管理課",
    )
    with pytest.raises(NotAllowed):
        storage.app.provide_survey_translation(
            world.survey, staff_id=other, language="en", title="Hijack", description="", questions={}
        )


# The web: the staff's form, and citizens reading in English


def _translate(world: World, storage: Storage, **fields: Any) -> None:
    storage.app.provide_survey_translation(world.survey, staff_id=world.staff, language="en", description="", **fields)
    storage.projector.catch_up()


def test_staff_save_the_english_from_the_editor(client: Client, world: World, storage: Storage) -> None:
    client.login("staff@example.jp")
    editor = client.get(f"/staff/surveys/{world.survey}")
    assert 'id="english"' in editor.text and "英語版（任意）" in editor.text
    saved = client.submit(
        f"/staff/surveys/{world.survey}/translation/en",
        {
            "title": "Childcare survey",
            "description": "",
            f"{world.q_single}.text": "Do you want to stay?",
            f"{world.q_single}.options": "Yes\r\n\r\n",  # the rest stay Japanese
            f"{world.q_scale}.high_label": "Agree",
            f"{world.q_number}.unit": "children",
        },
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith("#english")
    english = storage.catalogue.survey(str(world.survey)).translations["en"]  # type: ignore[union-attr]
    assert english.questions[world.q_single] == QuestionTranslation(
        text="Do you want to stay?", options=("Yes", "", "")
    )
    assert english.questions[world.q_scale].high_label == "Agree"
    again = client.get(f"/staff/surveys/{world.survey}")
    assert 'value="Childcare survey"' in again.text and 'value="Do you want to stay?"' in again.text


def test_the_form_refuses_a_bad_translation_with_a_422_and_saves_nothing(
    client: Client, world: World, storage: Storage
) -> None:
    client.login("staff@example.jp")
    refused = client.submit(
        f"/staff/surveys/{world.survey}/translation/en",
        {"title": "Fine", f"{world.q_single}.options": "Yes\nNo\nMaybe\nExtra"},
    )
    assert refused.status_code == 422
    assert f'id="error-en-{world.q_single}"' in refused.text and 'value="Fine"' in refused.text
    assert storage.catalogue.survey(str(world.survey)).translations == {}  # type: ignore[union-attr]
    assert client.submit(f"/staff/surveys/{world.survey}/translation/fr", {"title": "Non"}).status_code == 422


def test_an_english_reader_sees_english_and_japanese_where_english_is_missing(
    client: Client, world: World, storage: Storage
) -> None:
    _translate(
        world,
        storage,
        title="Childcare survey",
        questions={
            world.q_single: QuestionTranslation(text="Do you want to stay?", options=("Yes", "", "Not sure")),
            world.q_scale: QuestionTranslation(low_label="Disagree"),
        },
    )
    page = client.get(f"/surveys/{world.survey}", headers=EN).text
    assert '<html lang="en">' in page
    assert "<h1>Childcare survey</h1>" in page and "<title>Childcare survey" in page
    assert '<div class="description">説明</div>' in page  # no English description: the Japanese
    assert "Do you want to stay?" in page and "住み続けたい?" not in page
    assert "Yes" in page and "いいえ" in page and "Not sure" in page  # option by option
    assert "必要な支援" in page  # an untranslated question
    assert "Disagree" in page and "そう思う" in page
    japanese = client.get(f"/surveys/{world.survey}", headers={"accept-language": "ja"}).text
    assert "<h1>子育てアンケート</h1>" in japanese and "住み続けたい?" in japanese and "Do you want" not in japanese
    listed = client.get("/", headers=EN).text
    assert "Childcare survey" in listed


def test_a_signed_in_english_reader_answers_the_english_form(client: Client, world: World, storage: Storage) -> None:
    _translate(world, storage, title="Childcare survey", questions={world.q_multi: QuestionTranslation(text="Support")})
    client.login("citizen@example.jp")
    form = client.get(f"/surveys/{world.survey}", headers=EN).text
    assert "1. 住み続けたい?" in form and "2. Support" in form
    # htmx re-renders the form alone after a refused answer: still in English.
    refused = client.submit(f"/surveys/{world.survey}/answer", {}, headers={**EN, "hx-request": "true"})
    assert "2. Support" in refused.text


def test_published_results_follow_the_english_as_soon_as_it_changes(
    client: Client, world: World, storage: Storage
) -> None:
    app = storage.app
    app.close_survey(world.survey, staff_id=world.staff)
    app.publish_results(world.survey, staff_id=world.staff)
    storage.projector.catch_up()
    url = f"/surveys/{world.survey}/results"
    before = client.get(url, headers=EN).text
    assert "住み続けたい?" in before and "Do you want to stay?" not in before
    # The anonymous page is cached per position and language: an English change must show at once.
    _translate(
        world,
        storage,
        title="Childcare survey",
        questions={world.q_single: QuestionTranslation(text="Do you want to stay?", options=("Yes", "No", ""))},
    )
    after = client.get(url, headers=EN).text
    assert "Results: Childcare survey" in after and "Do you want to stay?" in after
    assert ">Yes<" in after and ">わからない<" in after
    assert "子どもの人数" in after  # not translated: Japanese
    assert client.get(url, headers={"accept-language": "ja"}).text.count("Do you want to stay?") == 0
    # The segment tabs are interface labels: English.
    assert ">Age group<" in after
