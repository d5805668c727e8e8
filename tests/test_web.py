"""The web app through Litestar's test client: pages, security, the JSON API, on both engines."""

import re

import pytest

from projections.storage import Storage
from tests.conftest import PASSWORD, Client, World


def test_home_lists_open_surveys_in_japanese(client: Client, world: World) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="ja">' in page.text
    assert "子育てアンケート" in page.text and "子育て支援課" in page.text


def test_security_headers_on_every_response(client: Client, world: World) -> None:
    for url in ("/", "/static/css/kyoso.css", "/nowhere", "/api/v1/surveys"):
        headers = client.get(url).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"


def test_pages_have_no_inline_script(client: Client, world: World) -> None:
    for url in ("/", f"/surveys/{world.survey}", "/login", "/signup"):
        html = client.get(url).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert " onclick=" not in html and " style=" not in html


def test_signup_rotates_the_session_and_logs_in(client: Client, world: World, storage: Storage) -> None:
    client.get("/")
    before = client.cookies.get("kyoso_session")
    response = client.submit(
        "/signup",
        {
            "email": "new@example.jp",
            "display_name": "新しい人",
            "password": PASSWORD,
            "ward": "muko",
            "age_band": "40-49",
            "has_children": "yes",
            "agree": "on",
        },
    )
    assert response.status_code == 303
    after = client.cookies.get("kyoso_session")
    assert after and after != before
    identity = storage.identities.find_by_email("new@example.jp")
    assert identity is not None
    participant = storage.app.get_participant(identity.participant_id)
    assert participant.attributes.ward.value == "muko" and participant.attributes.has_children
    assert "新しい人さん" in client.get("/").text


def test_signup_errors_are_shown_inline(client: Client, world: World) -> None:
    response = client.submit("/signup", {"email": "not-an-email", "display_name": "", "password": "short"})
    assert response.status_code == 422
    for message in ("メールアドレスの形式", "ニックネームを入力", "10文字以上", "同意が必要"):
        assert message in response.text
    taken = client.submit(
        "/signup",
        {
            "email": "citizen@example.jp",
            "display_name": "x",
            "password": PASSWORD,
            "agree": "on",
        },
    )
    assert taken.status_code == 422 and "すでに登録されています" in taken.text


def test_login_rotates_session_id_and_rejects_bad_passwords(client: Client, world: World) -> None:
    client.get("/login")
    wrong = client.submit("/login", {"email": "citizen@example.jp", "password": "wrong-password"})
    assert wrong.status_code == 401 and "正しくありません" in wrong.text
    client.cookies.set("kyoso_session", "attacker-chosen-session-id", domain="testserver.local")
    client.login("citizen@example.jp")
    assert client.cookies.get("kyoso_session") not in (None, "attacker-chosen-session-id")


def test_state_changes_need_the_csrf_token(client: Client, world: World) -> None:
    client.get("/login")
    response = client.post("/login", data={"email": "citizen@example.jp", "password": PASSWORD})
    assert response.status_code == 403
    assert client.post(f"/api/v1/surveys/{world.survey}/responses", json={"answers": {}}).status_code == 403


def test_answering_a_survey_end_to_end(client: Client, world: World, storage: Storage) -> None:
    client.login("citizen@example.jp")
    form = client.get(f"/surveys/{world.survey}")
    assert "回答を送信する" in form.text
    bad = client.submit(f"/surveys/{world.survey}/answer", {"q1": "0", "q2": ["0", "1", "2"], "q3": "4", "q4": "abc"})
    assert bad.status_code == 422
    assert "2個まで" in bad.text and "半角数字" in bad.text
    assert 'aria-invalid="true"' in bad.text
    good = client.submit(
        f"/surveys/{world.survey}/answer",
        {"q1": "1", "q2": ["0", "2"], "q3": "5", "q4": "３", "q5": "<script>alert(1)</script>"},
    )
    assert good.status_code == 303 and good.headers["location"].endswith("/thanks")
    assert "ご回答ありがとうございました" in client.get(good.headers["location"]).text
    again = client.submit(f"/surveys/{world.survey}/answer", {"q1": "1", "q2": ["0"], "q3": "5", "q4": "3"})
    assert again.status_code == 409 and "回答済み" in again.text
    storage.projector.catch_up()
    client.login("staff@example.jp")
    results = client.get(f"/staff/surveys/{world.survey}/results")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in results.text and "<script>alert(1)" not in results.text


def test_htmx_answer_errors_swap_the_form_and_success_redirects(client: Client, world: World) -> None:
    client.login("citizen@example.jp")
    hx = {"hx-request": "true"}
    bad = client.submit(f"/surveys/{world.survey}/answer", {"q1": "9"}, headers=hx)
    assert bad.status_code == 422 and bad.text.lstrip().startswith('<div id="answer-area">')
    good = client.submit(f"/surveys/{world.survey}/answer", {"q1": "0", "q2": "1", "q3": "2", "q4": "1"}, headers=hx)
    assert good.status_code == 200 and good.headers["hx-redirect"] == f"/surveys/{world.survey}/thanks"


def test_staff_pages_are_guarded(client: Client, world: World) -> None:
    anonymous = client.get("/staff", follow_redirects=False)
    assert anonymous.status_code in (302, 303) and anonymous.headers["location"].startswith("/login")
    client.login("citizen@example.jp")
    assert client.get("/staff").status_code == 403
    assert client.submit(f"/staff/surveys/{world.survey}/close").status_code == 403
    assert client.get(f"/staff/surveys/{world.survey}/results.csv").status_code == 403


def test_staff_build_publish_and_read_a_survey(client: Client, world: World, storage: Storage) -> None:
    client.login("staff@example.jp")
    created = client.submit("/staff/surveys", {"title": "公園の利用", "description": "", "audience": "citizens"})
    assert created.status_code == 303
    url = created.headers["location"]
    survey_id = url.rsplit("/", 1)[1]
    bad_question = client.submit(f"{url}/questions", {"kind": "single", "text": "選択肢が一つ", "options": "A"})
    assert bad_question.status_code == 422 and "2つ以上" in bad_question.text
    ok = client.submit(
        f"{url}/questions", {"kind": "single", "text": "よく行く?", "options": "はい\nいいえ", "required": "on"}
    )
    assert ok.status_code == 303
    assert client.submit(f"{url}/publish").status_code == 303
    assert "回答受付中" in client.get(url).text
    assert client.submit(f"{url}/close").status_code == 303
    assert client.submit(f"{url}/publish-results").status_code == 303
    survey = storage.catalogue.survey(survey_id)
    assert survey is not None and survey.results_published and survey.status.value == "closed"
    bad_dates = client.submit("/staff/surveys", {"title": "x", "opens_on": "2026-13-40"})
    assert bad_dates.status_code == 422 and "YYYY-MM-DD" in bad_dates.text


def test_results_dashboard_and_csv_for_excel(client: Client, world: World, storage: Storage) -> None:
    for person in world.citizens(6):
        storage.app.submit_response(world.survey, person, world.valid_answers())
    storage.projector.catch_up()
    client.login("staff@example.jp")
    page = client.get(f"/staff/surveys/{world.survey}/results?segment=children")
    assert page.status_code == 200
    assert "<svg" in page.text and 'role="img"' in page.text and "<table" in page.text
    assert "18歳未満の子どもと同居別の内訳" in page.text
    csv = client.get(f"/staff/surveys/{world.survey}/results.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.content.startswith(b"\xef\xbb\xbf")
    text = csv.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("質問ID,質問,区分")
    assert "住み続けたい?,全体,全体,6,はい,6,100.0" in text


def test_unpublished_results_are_not_public(client: Client, world: World, storage: Storage) -> None:
    assert client.get(f"/surveys/{world.survey}/results").status_code == 403
    storage.app.close_survey(world.survey, staff_id=world.staff)
    storage.app.publish_results(world.survey, staff_id=world.staff)
    storage.projector.catch_up()
    assert client.get(f"/surveys/{world.survey}/results").status_code == 200


def test_api_lists_and_describes_surveys(client: Client, world: World) -> None:
    listed = client.get("/api/v1/surveys").json()
    assert [s["id"] for s in listed] == [str(world.survey)]
    detail = client.get(f"/api/v1/surveys/{world.survey}").json()
    assert [q["kind"] for q in detail["questions"]] == ["single", "multiple", "scale", "number", "text"]
    assert client.get("/api/v1/surveys/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get("/api/v1/surveys/not-a-uuid").status_code in (400, 404)


def test_api_submit_response(client: Client, world: World) -> None:
    url = f"/api/v1/surveys/{world.survey}/responses"
    assert client.api_post(url, {"answers": world.valid_answers()}).status_code == 401
    client.login("citizen@example.jp")
    invalid = client.api_post(url, {"answers": world.valid_answers(**{world.q_scale: 9})})
    assert invalid.status_code == 422
    assert invalid.json()["field_errors"] == {world.q_scale: "1〜5の中から選んでください。"}
    malformed = client.api_post(url, {"answers": "nope"})
    assert malformed.status_code == 400 and malformed.headers["content-type"].startswith("application/json")
    created = client.api_post(url, {"answers": world.valid_answers()})
    assert created.status_code == 201 and created.json()["survey_id"] == str(world.survey)
    again = client.api_post(url, {"answers": world.valid_answers()})
    assert again.status_code == 409 and again.json()["error"] == "already_answered"


def test_api_results_only_when_published_or_staff(client: Client, world: World, storage: Storage) -> None:
    url = f"/api/v1/surveys/{world.survey}/results"
    assert client.get(url).status_code == 403
    client.login("staff@example.jp")
    body = client.get(url).json()
    assert body["min_cell"] == 5 and body["questions"][0]["buckets"] == ["はい", "いいえ", "わからない"]


def test_openapi_documents_the_api(client: Client, world: World) -> None:
    schema = client.get("/schema/openapi.json").json()
    paths = schema["paths"]
    assert "/api/v1/surveys" in paths and "/api/v1/surveys/{survey_id}/results" in paths
    responses = paths["/api/v1/surveys/{survey_id}/responses"]["post"]["responses"]
    assert {"201", "409", "422"} <= set(responses)


def test_healthz(client: Client, storage: Storage) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["storage"] == storage.db.dialect


def test_bad_input_gets_4xx_never_500(client: Client, world: World) -> None:
    client.login("citizen@example.jp")
    huge = client.submit(f"/surveys/{world.survey}/answer", {"q5": "あ" * 400_000})
    assert huge.status_code == 413
    assert client.get("/surveys/not-a-uuid").status_code in (400, 404)
    assert client.submit("/staff/surveys/not-a-uuid/publish").status_code in (400, 403, 404)
    garbage = client.post(
        f"/surveys/{world.survey}/answer",
        content=b"\xff\xfe\x00garbage",
        headers={"x-csrftoken": client.csrf(), "content-type": "application/x-www-form-urlencoded"},
    )
    assert 400 <= garbage.status_code < 500


@pytest.mark.parametrize("path", ["/login", "/signup"])
def test_login_and_signup_are_rate_limited(client: Client, settings: object, path: str) -> None:
    from web.app import create_app

    settings.auth_rate_limit_per_minute = 3  # type: ignore[attr-defined]
    app = create_app(settings, client.app.state.storage)  # type: ignore[arg-type]
    with Client(app=app, base_url="http://testserver.local") as limited:
        codes = [limited.submit(path, {"email": "x@example.jp", "password": "x"}).status_code for _ in range(5)]
        assert limited.get(path).status_code == 200  # only attempts count, not viewing the form
    assert codes[:3] == [422 if path == "/signup" else 401] * 3
    assert codes[3:] == [429, 429]


def test_home_shows_each_person_the_surveys_meant_for_them(client: Client, world: World, storage: Storage) -> None:
    app = storage.app
    engagement = app.draft_survey(staff_id=world.staff, title="職員エンゲージメント調査", audience="staff")  # type: ignore[arg-type]
    app.add_question(engagement, staff_id=world.staff, kind="scale", text="やりがい")
    app.publish_survey(engagement, staff_id=world.staff)
    storage.projector.catch_up()
    assert "職員エンゲージメント調査" not in client.get("/").text
    assert "職員エンゲージメント調査" in client.get("/?audience=all").text
    client.login("staff@example.jp")
    assert "職員エンゲージメント調査" in client.get("/").text


def test_staff_edit_a_draft_question_in_place(client: Client, world: World, storage: Storage) -> None:
    client.login("staff@example.jp")
    created = client.submit("/staff/surveys", {"title": "下書き", "audience": "citizens"})
    url = created.headers["location"]
    client.submit(f"{url}/questions", {"kind": "single", "text": "公園に行きますか", "options": "はい\nいいえ"})
    editor = client.get(url)
    assert 'id="e-q1-text"' in editor.text and "公園に行きますか" in editor.text
    fixed = client.submit(
        f"{url}/questions/q1",
        {"kind": "single", "text": "公園によく行きますか", "options": "はい\nいいえ\n時々", "required": "on"},
    )
    assert fixed.status_code == 303
    survey = storage.catalogue.survey(url.rsplit("/", 1)[1])
    assert survey is not None and survey.questions[0].text == "公園によく行きますか"
    assert survey.questions[0].options == ("はい", "いいえ", "時々")
    broken = client.submit(f"{url}/questions/q1", {"kind": "single", "text": "x", "options": "ひとつ"})
    assert broken.status_code == 422 and "2つ以上" in broken.text
