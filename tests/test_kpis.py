"""The DX推進会議 dashboard, end to end on both engines: counts on either side of the fiscal year's
turn at midnight JST, pace to the year end, measurements that are corrected but never overwritten,
the dashboard as it stood at a past month's end, the JSON API and the CSV, roles, and bad input."""

import csv
import io
import sys
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain import clock
from domain.errors import InvalidCommand, NotAllowed
from domain.kpi import CATALOGUE, KPIS, RECORDED_KPIS, Computation, Direction, check_measurement
from domain.points_menu import Limit, MenuRule, Trigger
from domain.values import Audience, Role
from projections.kpis_read import Dashboard, Figure, KpiReader, elapsed_share
from projections.storage import Storage
from tests.conftest import PASSWORD_HASH, Client, World

JST = clock.CITY_TZ
TOYOTA = "1180301018771"  # a real 法人番号 (its check digit holds)
PLAN_KPIS = {
    "survey_participations": ("市政アンケート参加数", 20_000),
    "business_proposals": ("事業者提案（新規）", 10),
    "online_procedures": ("オンライン申請項目数", 120),
    "smart_procedure_satisfaction": ("スマート手続の満足度", 80),
    "reach_rate": ("ターゲット層へのリーチ率", None),
    "sdg_point_awards": ("SDGsポイント発行件数", 46_000),
    "call_centre_first_answer": ("総合CC一次回答率", 100),
    "smartphone_class_participants": ("スマホ教室参加者", 1_000),
    "teleworkers": ("在宅勤務利用者数", 1_600),
    "overtime_per_person": ("超過勤務時間（年間一人当たり）", 120),
    "improvement_hours": ("業務改善時間", 10_000),
    "printing_reduction": ("印刷削減（R4年比）", 50),
    "dx_specialists": ("DX専門人材育成数", 15),
    "workplace_promoters": ("職場推進者育成", 20),
    "security_audit_followup": ("セキュリティ監査指摘対応", 100),
    "engagement_index": ("職員エンゲージメント指数「ぱいたり値」", None),
}


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=JST)  # type: ignore[misc]


def figure(dash: Dashboard, key: str) -> Figure:
    (found,) = [f for f in dash.figures if f.kpi.key == key]
    return found


def person(storage: Storage, email: str, role: Role, department: str | None = None) -> UUID:
    return storage.app.sign_up(
        email=email, display_name=email.split("@")[0], password_hash=PASSWORD_HASH, role=role, department=department
    )


class Activity:
    """Surveys for citizens and for staff, a business with its organisation, and a points menu awarded
    by list, all open across the turn of FY2025 to FY2026."""

    def __init__(self, storage: Storage, world: World) -> None:
        self.storage, self.world, app = storage, world, storage.app
        staff = world.staff
        self.biz = person(storage, "biz@example.jp", Role.BUSINESS)
        with clock.frozen_at(at(2026, 3, 1, 9)):
            app.register_organisation(
                self.biz, kind="corporation", name="トヨタ自動車株式会社", corporate_number=TOYOTA
            )
            self.citizens_survey = self._survey(Audience.CITIZENS)
            self.staff_survey = self._survey(Audience.STAFF)
            rule = MenuRule(points=100, budget=10**6, valid_from=date(2026, 3, 1), valid_until=date(2026, 9, 30),
                            limit=Limit.PER_YEAR, per_year=50)  # fmt: skip
            self.menu = app.define_menu(staff, name="健診の受診", sdg_goals=[3], trigger=Trigger.BULK, rule=rule)

    def _survey(self, audience: Audience) -> tuple[UUID, str]:
        app, staff = self.storage.app, self.world.staff
        survey = app.draft_survey(staff_id=staff, title=f"{audience.label}の調査", audience=audience,
                                  opens_on=date(2026, 3, 1), closes_on=date(2026, 9, 30))  # fmt: skip
        question = app.add_question(survey, staff_id=staff, kind="single", text="満足?", options=["はい", "いいえ"])
        app.publish_survey(survey, staff_id=staff)
        return survey, question

    def everything_at(self, moment: datetime) -> None:
        """At that moment: a citizen answers the citizens' survey and a staff member the staff survey
        (which is not 市政アンケート), a business proposes, and a citizen is awarded points."""
        app = self.storage.app
        with clock.frozen_at(moment):
            survey, question = self.citizens_survey
            app.submit_response(survey, app.register_participant(Role.CITIZEN), {question: 0})
            survey, question = self.staff_survey
            app.submit_response(survey, app.register_participant(Role.STAFF, department="人事課"), {question: 1})
            app.submit_proposal(
                self.biz, challenge_id=None, submission_key=uuid4(), cost_yen=0,
                texts={"title": "食品ロス見える化", "summary": "要約", "plan": "計画", "effect": "効果"},
            )  # fmt: skip
            app.award_bulk(self.world.staff, self.menu, reference=f"健診 {moment:%m%d%H%M}",
                           participant_ids=[self.world.citizen])  # fmt: skip
        self.storage.projector.catch_up()


@pytest.fixture
def activity(storage: Storage, world: World) -> Activity:
    return Activity(storage, world)


def counted(dash: Dashboard) -> tuple[float | None, ...]:
    return tuple(figure(dash, key).value for key in ("survey_participations", "business_proposals", "sdg_point_awards"))


# The catalogue


def test_the_catalogue_names_every_kpi_of_the_plan_with_its_target_unit_direction_and_source() -> None:
    assert {k.key: (k.name, k.target) for k in CATALOGUE} == PLAN_KPIS
    for kpi in CATALOGUE:
        assert kpi.unit and kpi.source and kpi.how and kpi.plan_text and kpi.pillar
    overtime = KPIS["overtime_per_person"]
    assert overtime.direction is Direction.LOWER and "145H" in overtime.plan_text and overtime.target == 120
    assert {k.key for k in CATALOGUE if k.computation is Computation.EVENTS} == {
        "survey_participations", "business_proposals", "sdg_point_awards", "reach_rate", "engagement_index"
    }  # fmt: skip
    # A yearly target applies to each fiscal year of the plan; an end-state target is the plan's 2025年度末.
    assert KPIS["survey_participations"].targets == {2023: 20_000, 2024: 20_000, 2025: 20_000}
    assert KPIS["teleworkers"].targets == {2025: 1_600}
    assert KPIS["teleworkers"].target_for(2024) == (1_600, "1,600人（計画の2025年度末目標）")
    assert KPIS["reach_rate"].target_for(2025)[0] is None  # 向上: compared with the year before


def test_a_measurement_is_checked_field_by_field_in_japanese() -> None:
    today = date(2026, 5, 1)
    assert check_measurement("teleworkers", 1600, date(2026, 4, 30), "人事給与システム", today) == {}
    errors = check_measurement("teleworkers", 1.5, date(2026, 5, 2), " ", today)
    assert errors == {
        "value": "整数で入力してください。",
        "measured_on": "測定日に未来の日付は指定できません。",
        "source": "出典（どの資料・システムの数値か）を入力してください。",
    }
    assert "範囲" in check_measurement("call_centre_first_answer", 100.5, today, "月報", today)["value"]
    assert "数値" in check_measurement("call_centre_first_answer", float("nan"), today, "月報", today)["value"]
    assert "自動で集計" in check_measurement("survey_participations", 1, today, "x", today)["kpi"]
    assert check_measurement("no_such_kpi", 1, today, "x", today)["kpi"] == "指標を一覧から選んでください。"


# Counting from the events


def test_counts_fall_in_the_fiscal_year_of_their_city_day_either_side_of_midnight_on_april_1st(
    storage: Storage, activity: Activity
) -> None:
    activity.everything_at(at(2026, 3, 31, 23, 59, 59))
    activity.everything_at(at(2026, 4, 1, 0, 0, 0))
    read = KpiReader(storage.db)
    # One of each in each year: the staff survey's answers are not 市政アンケート.
    assert counted(read.dashboard(2025)) == (1, 1, 1)
    assert counted(read.dashboard(2026)) == (1, 1, 1)
    assert figure(read.dashboard(2025), "survey_participations").months[-1].value == 1  # March
    assert figure(read.dashboard(2026), "survey_participations").months[0].value == 1  # April
    # Rebuilt from the events, the read model agrees.
    storage.projector.rebuild()
    assert counted(read.dashboard(2025)) == (1, 1, 1) and counted(read.dashboard(2026)) == (1, 1, 1)


def test_awards_are_counted_as_issued_and_revocations_are_shown_beside_them(
    storage: Storage, activity: Activity, world: World
) -> None:
    activity.everything_at(at(2026, 5, 10, 12))
    (award_id,) = [UUID(r[0]) for r in storage.db.query("SELECT award_id FROM points_awards")]
    with clock.frozen_at(at(2026, 5, 11, 12)):
        storage.app.revoke_award(world.staff, award_id, "重複して付与したため")
    storage.projector.catch_up()
    awards = figure(KpiReader(storage.db).dashboard(2026), "sdg_point_awards")
    assert awards.value == 1 and "取り消し 1件" in awards.note


def test_pace_projects_to_the_year_end(storage: Storage, activity: Activity, world: World) -> None:
    for day in (10, 11, 12):
        activity.everything_at(at(2026, 5, day, 12))
    app = storage.app
    with clock.frozen_at(at(2026, 9, 30, 20)):
        # Running totals since April 1 (overtime), and a level (teleworkers), measured on September 30.
        app.record_measurement(world.staff, kpi="overtime_per_person", value=60, measured_on=date(2026, 9, 30),
                               source="人事給与システム")  # fmt: skip
        app.record_measurement(world.staff, kpi="teleworkers", value=1500, measured_on=date(2026, 9, 30),
                               source="在宅勤務申請の集計")  # fmt: skip
    storage.projector.catch_up()
    read = KpiReader(storage.db)
    half = elapsed_share(2026, at(2026, 10, 1))
    assert half == pytest.approx(183 / 365)
    dash = read.dashboard(2026, date(2026, 9, 30))
    assert dash.elapsed == pytest.approx(half)
    participations = figure(dash, "survey_participations")
    assert participations.value == 3 and participations.pace == round(3 / half)  # 6
    assert participations.target == 20_000 and participations.on_track is False
    overtime = figure(dash, "overtime_per_person")
    assert overtime.pace == pytest.approx(round(60 / half, 1)) and overtime.on_track is True  # 119.7 h <= 120 h
    teleworkers = figure(dash, "teleworkers")
    assert teleworkers.value == teleworkers.pace == 1500 and teleworkers.on_track is False
    # A year that is over: its pace is its value. A moment before the year: no pace.
    assert figure(read.dashboard(2025), "survey_participations").pace == 0
    assert figure(read.dashboard(2027, date(2026, 10, 31)), "survey_participations").pace is None


# Measurements: corrected, never overwritten


def test_a_correction_is_a_later_measurement_and_the_history_keeps_both(storage: Storage, world: World) -> None:
    app, staff = storage.app, world.staff
    with clock.frozen_at(at(2026, 5, 8, 10)):
        wrong = app.record_measurement(staff, kpi="teleworkers", value=1840, measured_on=date(2026, 4, 30),
                                       source="人事給与システム（4月分）")  # fmt: skip
    with clock.frozen_at(at(2026, 5, 11, 15)):
        right = app.record_measurement(staff, kpi="teleworkers", value=1480, measured_on=date(2026, 4, 30),
                                       source="人事給与システム（4月分・再集計）", corrects=wrong)  # fmt: skip
        # The corrected one cannot be corrected again: the correction is what stands now.
        with pytest.raises(InvalidCommand) as refused:
            app.record_measurement(staff, kpi="teleworkers", value=1, measured_on=date(2026, 4, 30), source="x",
                                   corrects=wrong)  # fmt: skip
        assert "corrects" in refused.value.field_errors
        other = app.record_measurement(staff, kpi="dx_specialists", value=9, measured_on=date(2026, 4, 30), source="y")
        with pytest.raises(InvalidCommand):  # a measurement of another KPI
            app.record_measurement(staff, kpi="teleworkers", value=1, measured_on=date(2026, 4, 30), source="x",
                                   corrects=other)  # fmt: skip
    storage.projector.catch_up()

    recorded = app.kpi_measurements("teleworkers")
    assert recorded is not None and set(recorded.measurements) == {wrong, right}
    assert recorded.measurements[wrong].value == 1840  # the original as it was recorded
    history = {r.id: r for r in KpiReader(storage.db).measurements("teleworkers")}
    assert set(history) == {str(wrong), str(right)}
    assert history[str(wrong)].value == 1840 and history[str(wrong)].corrected_by == str(right)
    assert history[str(right)].corrects == str(wrong) and history[str(right)].corrected_by is None

    read = KpiReader(storage.db)
    # As of May 9 the wrong figure was the one on record; from May 11 on, the correction.
    assert figure(read.dashboard(2026, date(2026, 5, 9)), "teleworkers").value == 1840
    assert figure(read.dashboard(2026, date(2026, 5, 11)), "teleworkers").value == 1480
    assert figure(read.dashboard(2026), "teleworkers").value == 1480
    storage.projector.rebuild()
    assert figure(read.dashboard(2026, date(2026, 5, 9)), "teleworkers").value == 1840
    assert figure(read.dashboard(2026), "teleworkers").value == 1480


def test_as_of_a_past_months_end_shows_the_dashboard_as_it_stood_then(
    storage: Storage, activity: Activity, world: World
) -> None:
    activity.everything_at(at(2026, 5, 20, 10))
    activity.everything_at(at(2026, 7, 2, 10))
    app = storage.app
    with clock.frozen_at(at(2026, 5, 31, 23, 59)):
        app.record_measurement(world.staff, kpi="online_procedures", value=101, measured_on=date(2026, 5, 31),
                               source="電子申請システム")  # fmt: skip
    with clock.frozen_at(at(2026, 6, 1, 0, 0)):  # recorded in June: not yet on record at the end of May
        app.record_measurement(world.staff, kpi="online_procedures", value=103, measured_on=date(2026, 5, 31),
                               source="電子申請システム（再計測）")  # fmt: skip
    storage.projector.catch_up()
    read = KpiReader(storage.db)
    may = read.dashboard(2026, date(2026, 5, 31))
    assert counted(may) == (1, 1, 1)
    assert figure(may, "online_procedures").value == 101
    assert [m.value for m in figure(may, "survey_participations").months[:4]] == [0, 1, None, None]
    assert counted(read.dashboard(2026, date(2026, 7, 31))) == (2, 2, 2)
    assert figure(read.dashboard(2026, date(2026, 6, 30)), "online_procedures").value == 103


# The web: public page, open data, staff page


def test_the_public_page_shows_every_kpi_with_its_target_value_source_and_a_chart(client: Client, world: World) -> None:
    page = client.get("/kpis?fiscal_year=2025")
    assert page.status_code == 200
    text = page.text
    for kpi in CATALOGUE:
        assert kpi.name in text and kpi.source in text and kpi.how in text
    assert "20,000件（計画の年間目標）" in text and "<svg" in text and 'data-testid="summary"' in text
    assert client.get("/kpis?fiscal_year=2025&as_of=2026-03").status_code == 200


def test_the_api_and_the_csv_give_every_kpi_with_target_value_source_and_method(
    client: Client, storage: Storage, activity: Activity
) -> None:
    activity.everything_at(at(2026, 3, 31, 23, 59, 59))
    body = client.get("/api/v1/kpis", params={"fiscal_year": "2025", "as_of": "2026-03"}).json()
    assert body["fiscal_year"] == 2025 and body["as_of"] == "2026-03-31" and body["elapsed_share"] == 1.0
    assert body["fiscal_year_starts"] == "2025-04-01" and body["fiscal_year_ends"] == "2026-03-31"
    kpis = {k["key"]: k for k in body["kpis"]}
    assert set(kpis) == set(PLAN_KPIS)
    survey = kpis["survey_participations"]
    assert survey["value"] == 1 and survey["target"] == 20_000 and survey["computation"] == "events"
    assert survey["source"] and survey["how_computed"] and len(survey["months"]) == 12
    assert kpis["overtime_per_person"]["direction"] == "lower" and kpis["teleworkers"]["computation"] == "recorded"
    assert kpis["teleworkers"]["value"] is None

    response = client.get("/kpis.csv", params={"fiscal_year": "2025"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert 'filename="kyoso-kpis-FY2025.csv"' in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf") and b"\r\n" in response.content
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["指標"] for r in rows] == [k.name for k in CATALOGUE]
    by_name = {r["指標"]: r for r in rows}
    assert by_name["市政アンケート参加数"]["実績"] == "1" and by_name["市政アンケート参加数"]["目標"] == "20000"
    assert all(r["出典"] and r["算出方法"] and r["集計の方法"] for r in rows)

    schema = client.get("/schema/openapi.json").json()
    operation = schema["paths"]["/api/v1/kpis"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"fiscal_year", "as_of"}
    assert "422" in operation["responses"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"fiscal_year": "abc"}, "fiscal_year"),
        ({"fiscal_year": "1999"}, "fiscal_year"),
        ({"as_of": "2026-13"}, "as_of"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"as_of": "2999-01-01"}, "as_of"),
    ],
)
def test_a_bad_fiscal_year_or_as_of_is_422_with_field_errors(
    client: Client, params: dict[str, str], field: str
) -> None:
    response = client.get("/api/v1/kpis", params=params)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid" and field in response.json()["field_errors"]
    assert client.get("/kpis", params=params).status_code == 422
    assert client.get("/kpis.csv", params=params).status_code == 422


def _form(**changes: str) -> dict[str, str]:
    form = {"kpi": "teleworkers", "value": "1,520", "measured_on": "2026-10-31", "source": "人事給与システム（10月分）"}
    form.update(changes)
    return form


def _rows(storage: Storage) -> int:
    row = storage.db.query_one("SELECT COUNT(*) FROM kpi_measurements")
    return int(row[0]) if row else 0


def test_staff_record_and_correct_a_measurement_and_see_both_in_the_history(
    client: Client, storage: Storage, world: World
) -> None:
    client.login("staff@example.jp")
    page = client.get("/staff/kpis/measurements")
    assert page.status_code == 200 and all(k.name in page.text for k in RECORDED_KPIS)
    response = client.submit("/staff/kpis/measurements", _form())
    assert response.status_code == 303
    (first,) = [r.id for r in KpiReader(storage.db).measurements("teleworkers")]
    assert first in response.headers["location"]
    prefilled = client.get(f"/staff/kpis/measurements?corrects={first}")
    assert 'data-testid="correcting"' in prefilled.text and 'value="1520"' in prefilled.text
    response = client.submit("/staff/kpis/measurements", _form(value="1502", corrects=first))
    assert response.status_code == 303
    history = client.get("/staff/kpis/measurements").text
    assert "訂正済み" in history and "1,520人" in history and "1,502人" in history
    assert figure(KpiReader(storage.db).dashboard(2026), "teleworkers").value == 1502


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"value": "たくさん"}, "value", "数値で入力"),
        ({"value": ""}, "value", "値を入力"),
        ({"value": "1.5"}, "value", "整数で入力"),
        ({"kpi": "call_centre_first_answer", "value": "120"}, "value", "範囲で入力"),
        ({"value": "1e999"}, "value", "数値"),
        ({"measured_on": "2999-01-01"}, "measured_on", "未来の日付"),
        ({"measured_on": "2026/10/31"}, "measured_on", "YYYY-MM-DD"),
        ({"measured_on": ""}, "measured_on", "測定日を入力"),
        ({"source": "  "}, "source", "出典"),
        ({"source": "あ" * 201}, "source", "200文字以内"),
        ({"kpi": "survey_participations"}, "kpi", "自動で集計"),
        ({"kpi": "nonsense"}, "kpi", "一覧から選んで"),
        ({"corrects": "not-a-uuid"}, "corrects", "訂正する測定値"),
        ({"corrects": str(uuid4())}, "corrects", "見つかりません"),
    ],
)
def test_bad_measurements_are_422_with_japanese_field_errors_and_nothing_is_recorded(
    client: Client, storage: Storage, world: World, changes: dict[str, str], field: str, message: str
) -> None:
    client.login("staff@example.jp")
    response = client.submit("/staff/kpis/measurements", _form(**changes))
    assert response.status_code == 422
    assert f'id="error-{field}"' in response.text and message in response.text
    assert _rows(storage) == 0 and storage.app.kpi_measurements(changes.get("kpi", "teleworkers")) is None


def test_only_staff_and_admins_record_measurements(client: Client, storage: Storage, world: World) -> None:
    assert client.get("/staff/kpis/measurements", follow_redirects=False).status_code in (302, 303)
    assert client.submit("/staff/kpis/measurements", _form()).status_code == 401
    for email, role in (
        ("c2@example.jp", Role.CITIZEN),
        ("a@example.jp", Role.AUDITOR),
        ("b@example.jp", Role.BUSINESS),
    ):
        person(storage, email, role)
        client.login(email)
        assert client.get("/staff/kpis/measurements").status_code == 403
        assert client.submit("/staff/kpis/measurements", _form()).status_code == 403
        assert client.get("/kpis").status_code == 200  # the dashboard itself is public
    assert _rows(storage) == 0
    with pytest.raises(NotAllowed):
        storage.app.record_measurement(world.citizen, kpi="teleworkers", value=1, measured_on=date(2026, 1, 1),
                                       source="x")  # fmt: skip
    admin = person(storage, "admin@example.jp", Role.ADMIN, "デジタル推進課")
    storage.app.record_measurement(admin, kpi="teleworkers", value=1, measured_on=date(2026, 1, 1), source="x")


def test_reach_and_engagement_show_a_dash_with_a_note_when_their_read_models_cannot_be_read(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if those parts of Kyoso were not installed: importing them fails.
    monkeypatch.setitem(sys.modules, "projections.notices_read", None)
    monkeypatch.setitem(sys.modules, "projections.engagement_read", None)
    body: dict[str, Any] = client.get("/api/v1/kpis").json()
    kpis = {k["key"]: k for k in body["kpis"]}
    for key in ("reach_rate", "engagement_index"):
        assert kpis[key]["value"] is None and "読めませんでした" in kpis[key]["note"]
    page = client.get("/kpis")
    assert page.status_code == 200 and "読めませんでした" in page.text
