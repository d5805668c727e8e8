"""SDGs points for staff and auditors, end to end on both engines: menus, venue codes, bulk awards,
payouts, the dashboard's small-cell rule against an adversary, roles, and the auditor's chain."""

import csv
import io
import re
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any
from uuid import UUID

import pytest

from domain import clock
from domain.points_menu import Limit, MenuRule, Trigger
from domain.values import Attributes, Role, Ward
from projections.points_dashboard import NOT_APPLICABLE, Dashboard, PointsReader, points_chain
from projections.segments import MIN_CELL, SUPPRESSED, SUPPRESSED_LEGEND
from projections.storage import Storage
from tests.conftest import PASSWORD_HASH, Client, World
from tests.support.adversary import Adversary as SolvingAdversary
from web.routes.points_staff import MAX_CSV_BYTES, MAX_CSV_ROWS, qr_svg

JST = clock.CITY_TZ
STAFF_EMAIL = "staff@example.jp"  # the World's staff member, 子育て支援課


def a_rule(**changes: Any) -> MenuRule:
    fields: dict[str, Any] = {
        "points": 100,
        "budget": 1_000_000,
        "valid_from": date(2020, 4, 1),
        "valid_until": date(2099, 3, 31),
        "limit": Limit.PER_YEAR,
        "per_year": 50,
    }
    fields.update(changes)
    return MenuRule(**fields)


class Points:
    """The world, plus an auditor, an admin, staff of another department and citizens with e-mails."""

    def __init__(self, storage: Storage, world: World) -> None:
        self.storage = storage
        self.world = world
        self.staff = world.staff
        self.auditor = self.person("auditor@example.jp", Role.AUDITOR)
        self.admin = self.person("admin@example.jp", Role.ADMIN, "総務課")
        self.other_staff = self.person("kankyo@example.jp", Role.STAFF, "環境保全課")
        self.citizens = [self.person(f"c{i}@example.jp", Role.CITIZEN) for i in range(3)]

    def person(self, email: str, role: Role, department: str | None = None, ward: Ward | None = None) -> UUID:
        return self.storage.app.sign_up(
            email=email, display_name=email.split("@")[0], password_hash=PASSWORD_HASH, role=role,
            department=department, attributes=Attributes(ward=ward),
        )  # fmt: skip

    def menu(self, trigger: Trigger = Trigger.BULK, goals: list[int] | None = None, **rule: Any) -> UUID:
        menu = self.storage.app.define_menu(
            self.staff, name=f"{trigger.label}のメニュー", sdg_goals=goals or [3], trigger=trigger, rule=a_rule(**rule)
        )
        self.storage.projector.catch_up()
        return menu

    @property
    def read(self) -> PointsReader:
        return PointsReader(self.storage.db)


@pytest.fixture
def points(storage: Storage, world: World) -> Points:
    return Points(storage, world)


def upload(client: Client, menu: UUID, body: bytes, reference: str = "2026年11月 特定健診") -> Any:
    return client.submit(
        "/staff/points/bulk",
        data={"menu": str(menu), "reference": reference},
        files={"file": ("list.csv", body, "text/csv")},
    )


def award_count(storage: Storage) -> int:
    storage.projector.catch_up()
    row = storage.db.query_one("SELECT COUNT(*) FROM points_awards")
    return int(row[0]) if row else 0


def menu_form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "name": "地域清掃に参加",
        "sdg_goals": ["11", "14"],
        "trigger": "venue_code",
        "points": "50",
        "budget": "10,000",
        "valid_from": "2026-04-01",
        "valid_until": "2027-03-31",
        "limit": "daily",
        "per_year": "1",
        "expires_after_days": "",
    }
    form.update(changes)
    return form


# Menus


def test_staff_define_a_menu_through_the_form_and_bad_input_is_a_422(
    client: Client, points: Points, storage: Storage
) -> None:
    client.login(STAFF_EMAIL)
    assert client.get("/staff/points/menus").status_code == 200
    response = client.submit("/staff/points/menus", menu_form())
    assert response.status_code == 303, response.text
    menu_id = response.headers["location"].split("/")[-1].split("?")[0]
    menu = points.read.menu(menu_id)
    assert menu is not None
    assert (menu.name, menu.sdg_goals, menu.trigger, menu.department) == (
        "地域清掃に参加", [11, 14], Trigger.VENUE_CODE, "子育て支援課"
    )  # fmt: skip
    assert (menu.points, menu.budget, menu.limit, menu.expires_after_days) == (50, 10_000, Limit.DAILY, None)
    assert "地域清掃に参加" in client.get(f"/staff/points/menus/{menu_id}").text

    bad_forms = {
        "points": menu_form(points="たくさん"),
        "budget": menu_form(budget="9" * 5000),
        "sdg_goals": menu_form(sdg_goals=[]),
        "name": menu_form(name=" "),
        "valid_until": menu_form(valid_from="2027-04-01", valid_until="2026-04-01"),
        "trigger": menu_form(trigger="magic"),
        "limit": menu_form(limit="weekly"),
        "per_year": menu_form(limit="per_year", per_year="0"),
        "expires_after_days": menu_form(expires_after_days="-3"),
        "funder_id": menu_form(funder_id="not-an-id"),
        "survey_ids": menu_form(survey_ids=[str(points.world.survey)]),  # only for survey_answered menus
    }
    for field, form in bad_forms.items():
        response = client.submit("/staff/points/menus", form)
        assert response.status_code == 422, (field, response.status_code)
        assert f'id="error-{field}"' in response.text, field
    # An organisation that does not exist is a field error too, not a 404 or a 500.
    response = client.submit("/staff/points/menus", menu_form(funder_id="0f8fad5b-d9cb-469f-a165-70867728950e"))
    assert response.status_code == 422 and 'id="error-funder_id"' in response.text
    assert [m.id for m in points.read.menus()] == [menu_id]

    client.login("admin@example.jp")  # an admin defines for any department, named in the form
    response = client.submit("/staff/points/menus", menu_form(name="健診受診", department="健康増進課", trigger="bulk"))
    assert response.status_code == 303
    assert {m.name: m.department for m in points.read.menus()}["健診受診"] == "健康増進課"


def test_a_rule_change_applies_from_now_on_and_only_within_the_department(
    client: Client, points: Points, storage: Storage
) -> None:
    menu = points.menu(points=100)
    client.login(STAFF_EMAIL)
    form = {
        "points": "120", "budget": "1000000", "valid_from": "2020-04-01", "valid_until": "2099-03-31",
        "limit": "per_year", "per_year": "50", "expires_after_days": "",
    }  # fmt: skip
    response = client.submit(f"/staff/points/menus/{menu}/rule", form)
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"]).text
    assert "以降の活動に適用されます" in page and "第2版" in page
    assert storage.app.get_menu(menu).rule.points == 120
    assert client.submit(f"/staff/points/menus/{menu}/rule", form).status_code == 422  # no change
    assert client.submit(f"/staff/points/menus/{menu}/rule", {**form, "points": "0"}).status_code == 422

    client.login("kankyo@example.jp")  # another department
    assert "今からこのルールにする" not in client.get(f"/staff/points/menus/{menu}").text
    assert "あなたの部署の「名簿による一括付与」のメニューはまだありません" in client.get("/staff/points/bulk").text
    assert client.submit(f"/staff/points/menus/{menu}/rule", {**form, "points": "130"}).status_code == 403
    assert storage.app.get_menu(menu).rule.points == 120


# Venue codes


def test_a_code_is_issued_in_japan_time_and_printed_as_an_inline_qr_code(
    client: Client, points: Points, storage: Storage
) -> None:
    menu = points.menu(Trigger.VENUE_CODE)
    client.login(STAFF_EMAIL)
    start = (clock.now() - timedelta(hours=1)).astimezone(JST).replace(second=0, microsecond=0)
    end = start + timedelta(hours=3)
    form = {
        "label": "園田地区 清掃活動",
        "valid_from": start.strftime("%Y-%m-%dT%H:%M"),
        "valid_until": end.strftime("%Y-%m-%dT%H:%M"),
    }
    response = client.submit(f"/staff/points/menus/{menu}/codes", form)
    assert response.status_code == 303, response.text
    code_id = response.headers["location"].split("/")[-1]
    code = points.read.code(code_id)
    assert code is not None and (code.valid_from, code.valid_until) == (start, end)

    page = client.get(f"/staff/points/codes/{code_id}")
    assert page.status_code == 200
    text = storage.app.code_text(UUID(code_id))
    assert text in page.text
    url = f"http://testserver.local/points/claim?code={text}"
    svg = re.search(r"<svg.*?</svg>", page.text, re.S)
    assert svg is not None
    # The QR code is drawn here, encodes the claim URL, and points at nothing outside the page.
    assert svg.group(0) == str(qr_svg(url))
    assert not re.search(r"https?:|href|<image|url\(", svg.group(0))
    assert not re.search(r"<img|<script[^>]+src=\"https?:", page.text)
    # The printed code works: a citizen who types it earns the points.
    storage.app.claim_code(points.citizens[0], text.lower().replace("-", " "))

    assert client.submit(f"/staff/points/menus/{menu}/codes", {**form, "valid_from": "昨日"}).status_code == 422
    reversed_times = {**form, "valid_until": form["valid_from"]}
    assert client.submit(f"/staff/points/menus/{menu}/codes", reversed_times).status_code == 422
    assert client.submit(f"/staff/points/codes/{code_id}/withdraw").status_code == 303
    assert "取り消し済み" in client.get(f"/staff/points/menus/{menu}").text

    client.login("kankyo@example.jp")  # staff of another department: not theirs to print
    assert client.get(f"/staff/points/codes/{code_id}").status_code == 403


# Bulk awards


def test_a_bulk_csv_awards_once_per_row_and_reports_every_row(client: Client, points: Points, storage: Storage) -> None:
    menu = points.menu(points=300)
    c0, c1, c2 = points.citizens
    rows = [
        ["participant_id", "email"],
        [str(c0), ""],  # 2: by id
        ["", "C1@example.jp"],  # 3: by e-mail (case does not matter)
        ["", "nobody@example.jp"],  # 4: no such person
        ["not-a-uuid", ""],  # 5
        [str(points.staff), ""],  # 6: staff cannot earn
        ["", "c0@example.jp"],  # 7: the same person as row 2
        ["", ""],  # blank line: skipped
        [str(c2), "c2@example.jp"],  # 9
    ]
    body = "\ufeff" + "".join(",".join(r) + "\r\n" for r in rows)
    client.login(STAFF_EMAIL)
    response = upload(client, menu, body.encode())
    assert response.status_code == 200, response.text
    assert re.search(r'data-testid="awarded">3<', response.text)
    assert re.search(r'data-testid="already">0<', response.text)
    assert re.search(r'data-testid="refused">4<', response.text)
    for row, reason in [
        (4, "このメールアドレスの利用者はいません"),
        (5, "参加者IDの形式"),
        (6, "ポイントを獲得できない"),
        (7, "2行目と同じ人"),
    ]:
        assert re.search(rf">{row}</th><td>{reason}", response.text), (row, reason)
    assert award_count(storage) == 3
    assert {a.participant_id for a in points.read.awards_of(str(c1))} == {str(c1)}

    again = upload(client, menu, body.encode())
    assert again.status_code == 200
    assert re.search(r'data-testid="awarded">0<', again.text) and re.search(r'data-testid="already">3<', again.text)
    assert "付与済みだった行: 2–3、9" in again.text
    assert award_count(storage) == 3
    assert storage.app.points_account(c0).balance(clock.city_today()) == 300


def test_a_bad_bulk_file_is_a_422_and_awards_nothing(client: Client, points: Points, storage: Storage) -> None:
    menu = points.menu()
    client.login(STAFF_EMAIL)
    ids = [str(c) for c in points.citizens]
    bad_files = {
        "not UTF-8": ("email\r\n" + "市民@example.jp\r\n").encode("shift_jis"),
        "no known column": ("名前,住所\r\n" + "\r\n".join(f"{i},尼崎市" for i in ids)).encode(),
        "too many rows": ("participant_id\n" + f"{ids[0]}\n" * (MAX_CSV_ROWS + 1)).encode(),
        "too large": b"participant_id\n" + (ids[0].encode() + b"\n") * (MAX_CSV_BYTES // 37 + 1),
        "header only": b"participant_id\n",
        "binary": b"\x00\x01\x02participant_id",
    }
    for name, body in bad_files.items():
        response = upload(client, menu, body)
        assert response.status_code == 422, (name, response.status_code)
        assert "何も付与していません" in response.text, name
    assert len(bad_files["too large"]) > MAX_CSV_BYTES
    # A list for a menu that is not a bulk menu, or without a reference, awards nothing either.
    good = ("participant_id\n" + "\n".join(ids)).encode()
    assert upload(client, points.menu(Trigger.VENUE_CODE), good).status_code == 422
    assert upload(client, menu, good, reference=" ").status_code == 422
    assert award_count(storage) == 0
    assert upload(client, menu, good).status_code == 200
    assert award_count(storage) == 3


# Payouts


def test_a_payout_batch_downloads_as_a_csv_matching_its_lines(client: Client, points: Points, storage: Storage) -> None:
    menu = points.menu(points=500)
    c0, c1, _ = points.citizens
    storage.app.award_bulk(points.staff, menu, reference="健診", participant_ids=[c0, c1])
    storage.app.transfer_to_wallet(c0, 200, "1234-5678")
    storage.app.transfer_to_wallet(c1, 300, "0012345678")
    storage.projector.catch_up()
    client.login(STAFF_EMAIL)
    page = client.get("/staff/points/payouts")
    assert re.search(r'data-testid="waiting">2<', page.text)
    response = client.submit("/staff/points/payouts")
    assert response.status_code == 303
    batch_id = response.headers["location"].split("made=")[1]
    assert [b.id for b in points.read.batches()] == [batch_id]
    assert points.read.waiting_transfers() == []
    assert client.submit("/staff/points/payouts").status_code == 422  # nothing waiting

    download = client.get(f"/staff/points/payouts/{batch_id}/lines.csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert download.headers["content-disposition"].startswith("attachment;")
    assert download.content.startswith("\ufeff".encode())
    parsed = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    lines = storage.app.payout_lines(UUID(batch_id))
    assert parsed == [{k: "" if v is None else str(v) for k, v in line.items()} for line in lines]
    assert sorted(r["wallet_number"] for r in parsed) == ["0012345678", "12345678"]
    assert sum(int(r["points"]) for r in parsed) == 500


# Roles


def test_citizens_and_auditors_cannot_manage_points_and_auditors_only_read(
    client: Client, points: Points, storage: Storage
) -> None:
    menu = points.menu()
    storage.app.award_bulk(points.staff, menu, reference="健診", participant_ids=[points.citizens[0]])
    storage.projector.catch_up()
    (award,) = points.read.awards_of(str(points.citizens[0]))
    staff_pages = ["/staff/points", "/staff/points/menus", "/staff/points/bulk", "/staff/points/payouts"]
    posts = {
        f"/staff/points/awards/{award.id}/revoke": {"reason": "不正"},
        "/staff/points/menus": menu_form(),
        "/staff/points/rewards": {"name": "コーヒー", "partner": "喫茶", "points": "300"},
        "/staff/points/payouts": {},
    }
    assert client.get("/staff/points", follow_redirects=False).status_code in (302, 303)  # signed out: to login

    client.login("c0@example.jp")
    for path in [*staff_pages, "/audit/points", f"/audit/points/{points.citizens[0]}"]:
        assert client.get(path, follow_redirects=False).status_code == 403, path

    client.login("auditor@example.jp")
    assert client.get("/audit/points").status_code == 200
    assert client.get(f"/audit/points/{points.citizens[0]}").status_code == 200
    for path in staff_pages:
        assert client.get(path).status_code == 403, path
    for path, form in posts.items():
        assert client.submit(path, form).status_code == 403, path
    assert points.read.award(award.id).revoked_at is None  # type: ignore[union-attr]
    assert len(points.read.menus()) == 1 and points.read.rewards() == []

    client.login(STAFF_EMAIL)
    for path in [
        *staff_pages,
        "/staff/points/rewards",
        f"/staff/points/awards?q={award.id}",
        f"/staff/points/menus/{menu}",
    ]:
        assert client.get(path).status_code == 200, path
    assert client.get("/audit/points").status_code == 403  # staff are not auditors
    # Every change needs the CSRF token.
    no_token = client.post(f"/staff/points/awards/{award.id}/revoke", data={"reason": "不正"}, follow_redirects=False)
    assert no_token.status_code == 403
    assert client.submit(f"/staff/points/awards/{award.id}/revoke", {"reason": " "}).status_code == 422
    assert client.submit(f"/staff/points/awards/{award.id}/revoke", {"reason": "重複した名簿"}).status_code == 303
    assert points.read.award(award.id).revoke_reason == "重複した名簿"  # type: ignore[union-attr]

    client.login("admin@example.jp")  # admins do both
    assert client.get("/staff/points").status_code == 200
    assert client.get(f"/audit/points/{points.citizens[0]}").status_code == 200


# The dashboard


class Adversary(SolvingAdversary):
    """What a reader of the dashboard knows: equations anyone can write down, the values shown and the
    cells hidden. It subtracts along every line until nothing new comes out, then solves exactly."""

    def cell(self, key: Any, value: Any) -> None:
        if value == NOT_APPLICABLE:
            self.known[key] = Fraction(0)
        elif isinstance(value, int):
            self.known[key] = Fraction(value)
        else:
            assert value == SUPPRESSED, (key, value)
            self.hidden.add(key)

    def total(self, whole: Any, parts: list[Any], weight: int = 1) -> None:
        equation = {whole: Fraction(1)}
        for part in parts:
            equation[part] = equation.get(part, Fraction(0)) - weight
        self.equations.append(equation)


def adversary_of(dash: Dashboard) -> Adversary:
    reader = Adversary()
    reader.cell("total", dash.total)
    for f in dash.menus:
        reader.cell(("menu", f.menu.id), f.awards)
        reader.cell(("points", f.menu.id), f.points)
        # Each menu's points per award are on the menus page; its rule did not change this year.
        reader.total(("points", f.menu.id), [("menu", f.menu.id)], weight=f.menu.points)
    reader.total("total", [("menu", f.menu.id) for f in dash.menus])
    for number, _, count in dash.goals:
        reader.cell(("goal", number), count)
        reader.total(("goal", number), [("menu", f.menu.id) for f in dash.menus if number in f.menu.sdg_goals])
    for label, count in dash.months:
        reader.cell(("month", label), count)
    reader.total("total", [("month", label) for label, _ in dash.months])
    for label, count in dash.wards:
        reader.cell(("ward", label), count)
    reader.total("total", [("ward", label) for label, _ in dash.wards])
    return reader


def test_the_dashboard_hides_small_cells_and_nothing_hidden_can_be_worked_out(
    client: Client, points: Points, storage: Storage
) -> None:
    app = storage.app
    today = clock.city_today()
    year = clock.fiscal_year(today)
    start = datetime(year, 4, 1, tzinfo=JST)
    early = min(datetime(year, 4, 10, 12, tzinfo=JST), clock.now() - timedelta(minutes=5))
    with clock.frozen_at(start):
        a = app.define_menu(points.staff, name="健診受診", sdg_goals=[3], trigger=Trigger.BULK, rule=a_rule(points=100))
        b = app.define_menu(
            points.staff, name="スマホ教室", sdg_goals=[3, 11], trigger=Trigger.BULK, rule=a_rule(points=50)
        )
        c = app.define_menu(
            points.staff, name="地域清掃", sdg_goals=[11, 13], trigger=Trigger.BULK, rule=a_rule(points=30)
        )
        app.define_menu(points.staff, name="子ども食堂", sdg_goals=[2], trigger=Trigger.BULK, rule=a_rule())
    wards = [Ward.CHUO] * 6 + [Ward.ODA] * 5 + [Ward.DAISHO] + [None] * 3
    people = [points.person(f"w{i}@example.jp", Role.CITIZEN, ward=w) for i, w in enumerate(wards)]
    with clock.frozen_at(early):
        app.award_bulk(points.staff, a, reference="4月健診", participant_ids=people[:7])
    app.award_bulk(points.staff, b, reference="教室", participant_ids=people[7:9])
    app.award_bulk(points.staff, c, reference="清掃", participant_ids=people[9:])
    storage.projector.catch_up()

    dash = points.read.dashboard(year, today)
    assert dash.total == 15 and dash.target == 46_000
    figures = {f.menu.name: f for f in dash.menus}
    assert figures["スマホ教室"].awards == SUPPRESSED and figures["スマホ教室"].points == SUPPRESSED
    assert figures["子ども食堂"].awards == SUPPRESSED
    assert dict(dash.wards)["大庄"] == SUPPRESSED
    # Nothing under five is shown, and no month to come or goal without a menu pretends to be a count.
    shown = [dash.total, *(f.awards for f in dash.menus), *(n for *_, n in dash.goals)]
    shown += [n for _, n in dash.months] + [n for _, n in dash.wards]
    assert all(n in (SUPPRESSED, NOT_APPLICABLE) or n >= MIN_CELL for n in shown)
    assert dict((g, n) for g, _, n in dash.goals)[17] == NOT_APPLICABLE
    adversary = adversary_of(dash)
    assert adversary.hidden
    assert adversary.recovered_by_subtraction() == {}
    assert adversary.determined() == set()
    # What is shown is still exact: the menus shown add up with the hidden ones to the total.
    assert figures["健診受診"].awards == 7 and figures["健診受診"].points == 700
    assert figures["健診受診"].used_percent == 0.1

    client.login(STAFF_EMAIL)
    page = client.get("/staff/points")
    assert page.status_code == 200
    assert SUPPRESSED_LEGEND in page.text
    assert re.search(r'data-testid="total">15<', page.text)
    wards_table = re.search(r'data-testid="wards">.*?</table>', page.text, re.S)
    assert wards_table is not None
    assert re.findall(r"<th scope=\"row\">([^<]+)</th><td>([^<]+)</td>", wards_table.group(0)) == [
        (label, str(n)) for label, n in dash.wards
    ]
    assert "<svg" in page.text and "46,000" in page.text
    assert client.get(f"/staff/points?fiscal_year={year - 1}").status_code == 200
    assert client.get("/staff/points?fiscal_year=99999").status_code == 400


# The auditor's chain


def test_the_auditor_chain_gives_the_balance_the_account_holds(
    client: Client, points: Points, storage: Storage, world: World
) -> None:
    app = storage.app
    citizen = points.citizens[0]
    past = clock.now() - timedelta(days=10)
    with clock.frozen_at(past - timedelta(days=1)):
        short = points.menu(points=40, expires_after_days=1)  # earned 10 days ago: expired
    with clock.frozen_at(past):
        app.award_bulk(points.staff, short, reference="先月の講座", participant_ids=[citizen])
    bulk = points.menu(points=500)
    app.award_bulk(points.staff, bulk, reference="健診", participant_ids=[citizen])
    venue = points.menu(Trigger.VENUE_CODE, points=100)
    code = app.issue_code(
        points.staff, venue, label="清掃", valid_from=clock.now() - timedelta(hours=1),
        valid_until=clock.now() + timedelta(hours=1),
    )  # fmt: skip
    claimed = app.claim_code(citizen, app.code_text(code))
    survey_menu = points.menu(Trigger.SURVEY_ANSWERED, points=30)
    app.submit_response(world.survey, citizen, world.valid_answers())
    storage.catch_up()  # the awarding process awards the answer, then the read model follows
    assert any(a.menu_id == str(survey_menu) for a in points.read.awards_of(str(citizen)))
    reward = app.offer_reward(points.staff, name="コーヒー券", partner="喫茶そのだ", points=200)
    app.redeem_reward(citizen, reward)
    app.transfer_to_wallet(citizen, 100, "12345678")
    storage.projector.catch_up()

    client.login(STAFF_EMAIL)  # the code's points are taken back through the staff page
    assert client.submit(f"/staff/points/awards/{claimed}/revoke", {"reason": "会場にいなかった"}).status_code == 303

    today = clock.city_today()
    account = app.points_account(citizen)
    assert account is not None
    expected = account.balance(today)
    assert expected == 500 + 30 - 200 - 100  # the 40 expired, the 100 of the code revoked
    chain = points_chain(app, storage.db, citizen, today)
    assert chain is not None
    assert chain.balance == expected and chain.expired == 40
    assert chain.account_events == account.version
    positions = [link.position for link in chain.links]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    kinds = [link.kind for link in chain.links]
    assert kinds.count("Award.Granted") == 4 and kinds.count("Award.Revoked") == 1
    assert kinds.count("PointsAccount.Spent") == 2
    running = [link.running for link in chain.links if link.running is not None]
    assert running[-1] == chain.running == expected + 40

    client.login("auditor@example.jp")
    page = client.get(f"/audit/points/{citizen}")
    assert page.status_code == 200
    assert re.search(rf'data-testid="chain-balance">{expected}<', page.text)
    assert re.search(rf'data-testid="aggregate-balance">{expected}<', page.text)
    assert "一致" in page.text and "会場にいなかった" in page.text
    assert client.get(f"/audit/points?participant_id={citizen}", follow_redirects=False).headers["location"] == (
        f"/audit/points/{citizen}"
    )
    assert client.get("/audit/points?participant_id=nobody").status_code == 422
    assert "記録はありません" in client.get(f"/audit/points/{points.citizens[1]}").text
