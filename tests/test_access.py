"""Need to know across departments, and privileges that follow the account, not the session.

Staff read their own department's drafts, live results, raw free text and theme analyses; another
department's survey only once its results are published, and then only in aggregate. Auditors read
everything, and each read of raw text is on record. A demoted, moved or erased account loses
access at its next request. On both engines.
"""

import logging
import uuid
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from click.testing import CliRunner

from domain.disclosure import Purpose, TextDisclosure
from domain.errors import NotAllowed
from domain.themes import AnalysisModel, ThemeNode, ThemeQuote
from domain.values import Role
from projections.storage import Storage
from tests.conftest import PASSWORD_HASH, Client, World
from web import auth
from web.cli import cli

OPINIONS = ["公園の遊具を新しくしてほしい", "保育園の送迎用の駐車場がほしい", "夜の公園が暗くて怖い"]
ENGAGEMENT_OPINIONS = [f"上司に相談しにくい雰囲気がある（その{i}）" for i in range(17)]


class City:
    """The World plus a second department, the 人事課 engagement survey, an auditor and an admin."""

    def __init__(self, world: World, storage: Storage) -> None:
        self.world = world
        self.storage = storage
        app = storage.app
        self.crisis = self.person("crisis@example.jp", Role.STAFF, "危機管理課")
        self.hr = self.person("hr@example.jp", Role.STAFF, "人事課")
        self.auditor = self.person("audit@example.jp", Role.AUDITOR)
        self.admin = self.person("admin@example.jp", Role.ADMIN, "情報政策課")
        for person, text in zip(world.citizens(len(OPINIONS)), OPINIONS, strict=True):
            app.submit_response(world.survey, person, world.valid_answers(**{world.q_text: text}))
        # The staff engagement survey promises 無記名で集計; its free text is 人事課's alone.
        self.engagement = app.draft_survey(staff_id=self.hr, title="職員エンゲージメント調査", audience="staff")  # type: ignore[arg-type]
        self.e_scale = app.add_question(self.engagement, staff_id=self.hr, kind="scale", text="やりがい")
        self.e_text = app.add_question(
            self.engagement, staff_id=self.hr, kind="text", text="職場について自由にどうぞ", required=False
        )
        app.publish_survey(self.engagement, staff_id=self.hr)
        for text in ENGAGEMENT_OPINIONS:
            colleague = app.register_participant(Role.STAFF, department="人事課")
            app.submit_response(self.engagement, colleague, {self.e_scale: 3, self.e_text: text})
        self.draft = app.draft_survey(staff_id=world.staff, title="下書きの防犯アンケート")
        app.add_question(self.draft, staff_id=world.staff, kind="scale", text="安心度")
        storage.projector.catch_up()

    def person(self, email: str, role: Role, department: str | None = None) -> UUID:
        return self.storage.app.sign_up(
            email=email, display_name=email.split("@")[0], password_hash=PASSWORD_HASH, role=role, department=department
        )

    def publish_results(self, survey_id: UUID, staff_id: UUID) -> None:
        self.storage.app.close_survey(survey_id, staff_id=staff_id)
        self.storage.app.publish_results(survey_id, staff_id=staff_id)
        self.storage.projector.catch_up()

    def record_analysis(self) -> UUID:
        """A finished theme analysis of the 子育て支援課 survey, recorded as the job would."""
        rows = self.storage.results.free_text_rows(str(self.world.survey), self.world.q_text)
        ids = [str(rid) for rid, _ in rows]
        theme = ThemeNode(
            id="t1", label="公園と保育", keywords=["公園"], size=len(ids), members=ids, quotes=[ThemeQuote(id=ids[0])]
        )
        analysis_id = self.storage.app.record_theme_analysis(
            survey_id=self.world.survey,
            question_id=self.world.q_text,
            staff_id=self.world.staff,
            input_ids=ids,
            model=AnalysisModel(name="test", version="1", dim=3),
            params={"k_chosen": 1},
            seed=0,
            themes=[theme],
        )
        self.storage.projector.catch_up()
        return analysis_id


@pytest.fixture
def city(world: World, storage: Storage) -> City:
    return City(world, storage)


@pytest.fixture
def fresh_each_request(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No cached standing: role, department and erasure are read on every request."""
    monkeypatch.setattr(auth, "FRESH_SECONDS", 0.0)
    yield


def disclosures(storage: Storage) -> list[Any]:
    topic = f"{TextDisclosure.Disclosed.__module__}:{TextDisclosure.Disclosed.__qualname__}"
    notifications = storage.app.recorder.select_notifications(start=1, limit=10_000)
    return [storage.app.mapper.to_domain_event(n) for n in notifications if n.topic == topic]


def assert_refused_with_a_way_back(response: Any, reason: str) -> None:
    assert response.status_code == 403, response.text
    assert reason in response.text
    assert 'href="/staff"' in response.text and "職員メニューへ戻る" in response.text


def test_drafts_are_read_only_within_their_department(client: Client, city: City) -> None:
    draft = city.draft
    client.login("crisis@example.jp")
    assert client.get(f"/surveys/{draft}").status_code == 404
    assert client.get(f"/api/v1/surveys/{draft}").status_code == 404
    assert_refused_with_a_way_back(client.get(f"/staff/surveys/{draft}"), "他の部署のアンケートは編集できません")
    assert "下書きの防犯アンケート" not in client.get("/staff").text
    client.login("staff@example.jp")
    assert client.get(f"/surveys/{draft}").status_code == 200
    assert "下書きの防犯アンケート" in client.get("/staff").text
    client.login("admin@example.jp")
    assert client.get(f"/staff/surveys/{draft}").status_code == 200
    assert client.get(f"/api/v1/surveys/{draft}").status_code == 200


def test_another_departments_unpublished_results_and_text_are_refused(client: Client, city: City) -> None:
    survey = city.world.survey
    client.login("crisis@example.jp")
    assert_refused_with_a_way_back(client.get(f"/staff/surveys/{survey}/results"), "結果が公開されるまで")
    assert client.get(f"/surveys/{survey}/results").status_code == 403
    assert client.get(f"/staff/surveys/{survey}/results.csv").status_code == 403
    api = client.get(f"/api/v1/surveys/{survey}/results")
    assert api.status_code == 403 and api.json()["status_code"] == 403
    client.login("staff@example.jp")
    own = client.get(f"/staff/surveys/{survey}/results")
    assert own.status_code == 200 and all(text in own.text for text in OPINIONS)


def test_published_results_of_another_department_are_aggregate_only(client: Client, city: City) -> None:
    survey = city.world.survey
    city.publish_results(survey, city.world.staff)
    client.login("crisis@example.jp")
    staff_view = client.get(f"/staff/surveys/{survey}/results", follow_redirects=False)
    assert staff_view.status_code == 303 and staff_view.headers["location"].startswith(f"/surveys/{survey}/results")
    public = client.get(f"/surveys/{survey}/results")
    assert public.status_code == 200 and "住み続けたい?" in public.text
    assert not any(text in public.text for text in OPINIONS)
    assert "自由記述の回答は" in public.text
    csv = client.get(f"/staff/surveys/{survey}/results.csv")
    assert csv.status_code == 200 and "住み続けたい?" in csv.content.decode("utf-8-sig")
    assert not any(text in csv.content.decode("utf-8-sig") for text in OPINIONS)
    assert client.get(f"/api/v1/surveys/{survey}/results").status_code == 200
    assert client.get(f"/staff/surveys/{survey}/themes").status_code == 403


def test_the_staff_engagement_survey_text_stays_with_its_department(client: Client, city: City) -> None:
    survey = city.engagement
    client.login("crisis@example.jp")
    for url in (
        f"/staff/surveys/{survey}/results",
        f"/surveys/{survey}/results",
        f"/staff/surveys/{survey}/results.csv",
        f"/api/v1/surveys/{survey}/results",
        f"/staff/surveys/{survey}/themes",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert not any(text in response.text for text in ENGAGEMENT_OPINIONS), url
    city.publish_results(survey, city.hr)
    public = client.get(f"/staff/surveys/{survey}/results")  # redirected to the aggregate view
    assert public.status_code == 200 and 'data-testid="respondents">17<' in public.text
    assert not any(text in public.text for text in ENGAGEMENT_OPINIONS)
    assert client.get(f"/staff/surveys/{survey}/themes").status_code == 403
    client.login("hr@example.jp")
    own = client.get(f"/staff/surveys/{survey}/results")
    assert own.status_code == 200 and ENGAGEMENT_OPINIONS[-1] in own.text


def test_theme_analysis_of_another_department_is_refused_even_once_published(
    client: Client, city: City, storage: Storage
) -> None:
    survey, q_text = city.world.survey, city.world.q_text
    analysis = city.record_analysis()
    job = uuid.uuid4().hex
    with storage.db.transaction() as cur:
        cur.execute(
            "INSERT INTO theme_jobs (job_id, survey_id, question_id, started_at) VALUES (?, ?, ?, ?)",
            (job, str(survey), q_text, "2025-01-01T00:00:00+00:00"),
        )
    city.publish_results(survey, city.world.staff)
    client.login("crisis@example.jp")
    started = client.submit(f"/staff/surveys/{survey}/themes", {"question_id": q_text, "k": "2"})
    assert_refused_with_a_way_back(started, "自由記述とテーマ分析は閲覧できません")
    assert storage.db.query_one("SELECT COUNT(*) FROM theme_jobs")[0] == 1  # nothing started
    assert client.get(f"/staff/surveys/{survey}/themes").status_code == 403
    assert client.get(f"/staff/themes/jobs/{job}").status_code == 403
    page = client.get(f"/staff/themes/{analysis}")
    assert page.status_code == 403 and not any(text in page.text for text in OPINIONS)
    assert storage.app.get_theme_analysis(analysis).viewers == []


def test_auditor_reads_of_raw_text_are_recorded_and_the_owners_are_not(
    client: Client, city: City, storage: Storage
) -> None:
    survey, q_text = city.world.survey, city.world.q_text
    analysis = city.record_analysis()
    client.login("staff@example.jp")
    assert OPINIONS[0] in client.get(f"/staff/themes/{analysis}").text
    assert OPINIONS[0] in client.get(f"/staff/surveys/{survey}/results").text
    assert disclosures(storage) == []
    assert storage.app.get_theme_analysis(analysis).viewers == [city.world.staff]

    client.login("audit@example.jp")
    page = client.get(f"/audit/themes/{analysis}")
    assert page.status_code == 200 and OPINIONS[0] in page.text
    (read,) = disclosures(storage)
    assert (read.reader_id, read.role, read.survey_id, read.question_id, read.purpose) == (
        city.auditor,
        Role.AUDITOR,
        survey,
        q_text,
        Purpose.THEMES,
    )

    client.login("admin@example.jp")  # an admin outside 子育て支援課 acts as an auditor
    assert OPINIONS[0] in client.get(f"/staff/surveys/{survey}/results").text
    assert OPINIONS[0] in client.get(f"/staff/themes/{analysis}").text
    admin_reads = [(d.role, d.purpose) for d in disclosures(storage) if d.reader_id == city.admin]
    assert admin_reads == [(Role.ADMIN, Purpose.RESULTS), (Role.ADMIN, Purpose.THEMES)]


def test_only_auditors_and_admins_can_be_recorded_as_reading_text(city: City, storage: Storage) -> None:
    with pytest.raises(NotAllowed):
        storage.app.record_text_disclosure(
            reader_id=city.crisis,
            survey_id=city.world.survey,
            question_ids=[city.world.q_text],
            purpose=Purpose.RESULTS,
        )
    assert disclosures(storage) == []


def test_another_departments_staff_are_offered_no_edit_publish_or_close(
    client: Client, city: City, storage: Storage
) -> None:
    survey = city.world.survey
    client.login("crisis@example.jp")
    dashboard = client.get("/staff")
    assert dashboard.status_code == 200 and "子育てアンケート" in dashboard.text
    assert f'href="/staff/surveys/{survey}"' not in dashboard.text
    assert f'href="/staff/surveys/{survey}/results"' not in dashboard.text
    assert "担当部署のみ閲覧できます" in dashboard.text
    editor = client.get(f"/staff/surveys/{survey}")
    assert editor.status_code == 403
    assert "公開する" not in editor.text and "受付を終了" not in editor.text and "/publish" not in editor.text
    for action, data in (
        ("close", {}),
        ("publish", {}),
        ("publish-results", {}),
        ("details", {"title": "乗っ取り", "audience": "citizens"}),
        ("questions", {"kind": "scale", "text": "追加"}),
        ("questions/q1/delete", {}),
    ):
        assert client.submit(f"/staff/surveys/{survey}/{action}", data).status_code == 403, action
    after = storage.catalogue.survey(str(survey))
    assert after is not None and after.status.value == "published" and after.title == "子育てアンケート"

    city.publish_results(survey, city.world.staff)
    published = client.get("/staff").text
    assert (
        f'href="/surveys/{survey}/results"' in published and f'href="/staff/surveys/{survey}/results.csv"' in published
    )
    assert f'href="/staff/surveys/{survey}"' not in published

    client.login("staff@example.jp")
    own = client.get("/staff").text
    assert f'href="/staff/surveys/{survey}"' in own and f'href="/staff/surveys/{survey}/results"' in own


def test_a_demotion_takes_effect_at_the_next_request(
    client: Client, world: World, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.login("staff@example.jp")
    assert client.get("/staff").status_code == 200
    monkeypatch.setattr(auth, "FRESH_SECONDS", 60.0)
    assert client.get("/staff").status_code == 200  # now cached for this process
    storage.app.change_role(world.staff, Role.CITIZEN, changed_by=None)
    assert client.get("/staff").status_code == 200  # within the cache lifetime, as documented
    monkeypatch.setattr(auth, "FRESH_SECONDS", 0.0)  # the lifetime has passed
    refused = client.get("/staff")
    assert refused.status_code == 403 and "職員のみ" in refused.text
    assert 'href="/staff"' not in refused.text  # no way back to a menu they no longer have
    assert client.submit(f"/staff/surveys/{world.survey}/close").status_code == 403
    assert client.get(f"/surveys/{world.survey}/results").status_code == 403
    assert "職員メニュー" not in client.get("/").text


def test_a_department_move_takes_effect_at_the_next_request(
    client: Client, world: World, storage: Storage, fresh_each_request: None
) -> None:
    client.login("staff@example.jp")
    assert client.get(f"/staff/surveys/{world.survey}/results").status_code == 200
    storage.app.change_role(world.staff, Role.STAFF, "危機管理課", changed_by=None)
    assert client.get(f"/staff/surveys/{world.survey}/results").status_code == 403
    assert client.submit(f"/staff/surveys/{world.survey}/close").status_code == 403
    assert client.get("/staff").status_code == 200


def test_an_erased_account_is_signed_out_at_its_next_request(
    client: Client, world: World, storage: Storage, fresh_each_request: None
) -> None:
    client.login("staff@example.jp")
    assert client.get("/staff").status_code == 200
    # Erased by another process: this one still holds the session, and re-checks the person.
    storage.app.erase_participant(world.staff)
    gone = client.get("/staff", follow_redirects=False)
    assert gone.status_code in (302, 303) and gone.headers["location"].startswith("/login")
    header = client.get("/").text.split("<main", 1)[0]
    assert "職員メニュー" not in header and 'href="/login"' in header  # the session was cleared

    client.login("citizen@example.jp")
    storage.erase(world.citizen)
    api = client.api_post(f"/api/v1/surveys/{world.survey}/responses", {"answers": world.valid_answers()})
    assert api.status_code == 401
    assert client.get("/me", follow_redirects=False).status_code in (302, 303)


def test_cli_changes_a_role_and_logs_it(
    storage: Storage, world: World, client: Client, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    if storage.database_url:
        monkeypatch.setenv("KYOSO_DATABASE_URL", storage.database_url)
    else:
        monkeypatch.delenv("KYOSO_DATABASE_URL", raising=False)
    monkeypatch.setattr(auth, "FRESH_SECONDS", 0.0)
    data = ["--data-dir", str(storage.data_dir)]
    client.login("staff@example.jp")
    runner = CliRunner()
    with caplog.at_level(logging.INFO, logger="kyoso.security"):
        moved = runner.invoke(cli, ["users", "role", *data, "--email", "staff@example.jp", "--role", "citizen"])
    assert moved.exit_code == 0, moved.output
    assert storage.app.get_participant(world.staff).role is Role.CITIZEN
    logged = [r.getMessage() for r in caplog.records if '"event":"role_change"' in r.getMessage()]
    assert len(logged) == 1 and '"role":"citizen"' in logged[0] and str(world.staff) in logged[0]
    assert "staff@example.jp" not in caplog.text  # the log names people by pseudonymous id only
    assert client.get("/staff").status_code == 403

    no_department = runner.invoke(cli, ["users", "role", *data, "--email", "staff@example.jp", "--role", "staff"])
    assert no_department.exit_code != 0 and "部署が必要" in no_department.output
    nobody = runner.invoke(cli, ["users", "role", *data, "--email", "nobody@example.jp", "--role", "auditor"])
    assert nobody.exit_code != 0 and "いません" in nobody.output
    back = runner.invoke(
        cli, ["users", "role", *data, "--email", "staff@example.jp", "--role", "staff", "--department", "子育て支援課"]
    )
    assert back.exit_code == 0, back.output
    assert client.get("/staff").status_code == 200
