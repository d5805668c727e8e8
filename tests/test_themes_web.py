"""Theme analysis in the product: staff run it, it is recorded as an event, auditors can see it."""

import time

from domain.values import AgeBand, Role, Ward
from projections.storage import Storage
from tests.conftest import PASSWORD_HASH, Client, World
from web.themes import ThemeJobs

OPINIONS = [
    "保育園の空きが少なく復職が不安です。",
    "保育所の定員を増やしてほしい。",
    "待機児童をなくしてほしい。",
    "保育園に入れず仕事に戻れません。",
    "病児保育を増やしてほしい。",
    "公園の遊具が古くて危ない。",
    "公園にもっと木陰がほしい。",
    "ボール遊びができる公園がほしい。",
    "公園のトイレをきれいにしてほしい。",
    "夜の公園が暗くて怖いです。",
    "避難所の場所がわからない。",
    "防災訓練を休日にも開いてほしい。",
]


def answered(world: World, storage: Storage) -> None:
    wards = list(Ward)
    for i, text in enumerate(OPINIONS):
        (person,) = world.citizens(1, ward=wards[i % 6], age_band=AgeBand.AGE_30S)
        storage.app.submit_response(world.survey, person, world.valid_answers(**{world.q_text: text}))
    storage.projector.catch_up()


def wait_for(client: Client, job_url: str) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        r = client.get(job_url, headers={"hx-request": "true"})
        if "hx-redirect" in r.headers:
            return r.headers["hx-redirect"]
        assert "alert-error" not in r.text, r.text
        time.sleep(0.3)
    raise AssertionError("analysis did not finish")


def test_staff_analyse_free_text_into_recorded_themes(client: Client, world: World, storage: Storage) -> None:
    answered(world, storage)
    client.login("staff@example.jp")
    assert "新しく分析する" in client.get(f"/staff/surveys/{world.survey}/themes").text
    bad = client.submit(f"/staff/surveys/{world.survey}/themes", {"question_id": world.q_text, "k": "zero"})
    assert bad.status_code == 422 and "1〜30" in bad.text
    started = client.submit(f"/staff/surveys/{world.survey}/themes", {"question_id": world.q_text, "k": "3"})
    assert started.status_code == 303
    job_id = started.headers["location"].rsplit("/", 1)[1]
    assert ThemeJobs(storage).get(job_id) is not None  # any other web worker can report on it
    analysis_url = wait_for(client, started.headers["location"])
    page = client.get(analysis_url)
    assert page.status_code == 200 and "意見のテーマ" in page.text and "<svg" in page.text
    assert "保育" in page.text and "誰が挙げたか" in page.text

    analysis_id = analysis_url.rsplit("/", 1)[1]
    recorded = storage.app.get_theme_analysis(__import__("uuid").UUID(analysis_id))
    assert len(recorded.themes) == 3 and sorted(recorded.input_ids) == sorted(
        rid for rid, _ in storage.results.free_text_rows(str(world.survey), world.q_text)
    )
    assert recorded.params["seed"] == recorded.seed == 0 and recorded.model.name
    assert sum(t.size for t in recorded.themes) == len(OPINIONS)
    assert recorded.viewers == [world.staff]  # the page view itself is on record

    storage.app.sign_up(email="audit@example.jp", display_name="監査", password_hash=PASSWORD_HASH, role=Role.AUDITOR)
    client.login("audit@example.jp")
    audit = client.get("/audit")
    assert audit.status_code == 200 and analysis_id in audit.text and "ThemeAnalysis.Completed" in audit.text
    assert client.get(f"/audit/themes/{analysis_id}").status_code == 200
    assert client.get(f"/staff/surveys/{world.survey}/themes").status_code == 403


def test_too_few_opinions_give_a_clear_message(client: Client, world: World, storage: Storage) -> None:
    client.login("staff@example.jp")
    started = client.submit(f"/staff/surveys/{world.survey}/themes", {"question_id": world.q_text})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = client.get(started.headers["location"], headers={"hx-request": "true"})
        if "alert-error" in status.text:
            assert "10件以上" in status.text
            return
        time.sleep(0.2)
    raise AssertionError("no error shown")


def test_auditors_rebuild_results_at_a_past_moment(client: Client, world: World, storage: Storage) -> None:
    from datetime import UTC, datetime, timedelta

    from projections.replay import state_at

    early = world.citizens(5)
    for person in early:
        storage.app.submit_response(world.survey, person, world.valid_answers())
    moment = datetime.now(UTC)
    time.sleep(0.01)
    for person in world.citizens(3):
        storage.app.submit_response(world.survey, person, world.valid_answers())
    storage.projector.catch_up()
    past = state_at(storage.app, moment)
    survey = past.catalogue.survey(str(world.survey))
    assert survey is not None and survey.response_count == 5
    assert past.results.of(survey).respondents == 5
    past.close()
    before_drafting = state_at(storage.app, moment - timedelta(days=1))
    assert before_drafting.catalogue.survey(str(world.survey)) is None
    before_drafting.close()

    storage.app.sign_up(email="audit@example.jp", display_name="監査", password_hash=PASSWORD_HASH, role=Role.AUDITOR)
    client.login("audit@example.jp")
    at = moment.astimezone().isoformat()
    page = client.get(f"/audit/surveys/{world.survey}", params={"at": at})
    assert page.status_code == 200 and 'data-testid="respondents-at">5<' in page.text
    assert client.get(f"/audit/surveys/{world.survey}", params={"at": "yesterday"}).status_code == 422
    client.login("citizen@example.jp")
    assert client.get(f"/audit/surveys/{world.survey}").status_code == 403
