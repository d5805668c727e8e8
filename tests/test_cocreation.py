"""Organisations, challenges and proposals end to end: projection, pages, API, files (both engines)."""

import io
import zipfile
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain import clock
from domain.corporate_number import BAD_CHECK_DIGIT, with_check_digit
from domain.proposal import COCREATION_WINDOW, ERASED_TEXT, Stage
from domain.values import Role
from projections.cocreation_read import CoCreationReader
from projections.storage import Storage
from tests.conftest import PASSWORD, PASSWORD_HASH, Client, World

JST = clock.CITY_TZ
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF_BYTES = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
TOYOTA = "1180301018771"
SONY = "5010401067252"


def texts(title: str = "食品ロス見える化アプリ") -> dict[str, str]:
    return {"title": title, "summary": "売れ残りを見える化する", "plan": "アプリで通知する", "effect": "ロス半減"}


class City:
    """The world, plus the co-creation window, an environment department with an open challenge,
    and two businesses with their organisations."""

    def __init__(self, storage: Storage, world: World) -> None:
        self.storage = storage
        self.world = world
        app = storage.app
        self.window = self.person("window@example.jp", Role.STAFF, COCREATION_WINDOW)
        self.env = self.person("env@example.jp", Role.STAFF, "環境保全課")
        self.auditor = self.person("auditor@example.jp", Role.AUDITOR)
        self.biz = self.person("biz@example.jp", Role.BUSINESS)
        self.other_biz = self.person("other@example.jp", Role.BUSINESS)
        self.org = app.register_organisation(
            self.biz, kind="corporation", name="トヨタ自動車株式会社", corporate_number=TOYOTA
        )
        self.other_org = app.register_organisation(
            self.other_biz, kind="corporation", name="ソニーグループ株式会社", corporate_number=SONY
        )
        self.challenge = app.draft_challenge(
            staff_id=self.env, title="食品ロス削減", background="家庭ごみの3割が食品", shareable_data="ごみ組成調査",
            outcomes="食品ロスの半減", sdg_goals=[12, 2], deadline=clock.city_today() + timedelta(days=30),
        )  # fmt: skip
        app.publish_challenge(self.challenge, staff_id=self.env)
        storage.projector.catch_up()

    def person(self, email: str, role: Role, department: str | None = None) -> UUID:
        name = email.split("@")[0]
        return self.storage.app.sign_up(
            email=email, display_name=name, password_hash=PASSWORD_HASH, role=role, department=department
        )

    def propose(self, challenge: bool = True, **overrides: Any) -> UUID:
        arguments: dict[str, Any] = {
            "challenge_id": self.challenge if challenge else None,
            "submission_key": uuid4(),
            "texts": texts(),
            "cost_yen": 0,
        }
        arguments.update(overrides)
        proposal = self.storage.app.submit_proposal(arguments.pop("by", self.biz), **arguments)
        self.storage.projector.catch_up()
        return proposal

    @property
    def read(self) -> CoCreationReader:
        return CoCreationReader(self.storage.db)


@pytest.fixture
def city(storage: Storage, world: World) -> City:
    return City(storage, world)


# Sign-up, organisations, check digits and duplicates


def test_a_business_signs_up_with_its_organisation_and_lands_on_its_home(client: Client, storage: Storage) -> None:
    response = client.submit(
        "/signup/business",
        {
            "organisation_name": "国税庁", "kind": "corporation", "corporate_number": "７０００－０１２０５０００２",
            "display_name": "山田", "email": "yamada@example.jp", "password": PASSWORD, "agree": "on",
        },
    )  # fmt: skip
    assert response.status_code == 303 and response.headers["location"] == "/business"
    identity = storage.identities.find_by_email("yamada@example.jp")
    assert identity is not None
    assert storage.app.get_participant(identity.participant_id).role is Role.BUSINESS
    organisation = CoCreationReader(storage.db).organisation_of(str(identity.participant_id))
    assert organisation is not None
    assert (organisation.name, organisation.corporate_number, organisation.member_count) == (
        "国税庁",
        "7000012050002",
        1,
    )
    home = client.get("/business")
    assert home.status_code == 200 and "国税庁" in home.text
    client.post("/logout", headers={"x-csrftoken": client.csrf()})
    landed = client.submit("/login", {"email": "yamada@example.jp", "password": PASSWORD})
    assert landed.headers["location"] == "/business"


def test_sign_up_refuses_a_wrong_check_digit_and_a_registered_number(client: Client, city: City) -> None:
    form = {
        "organisation_name": "偽物", "kind": "corporation", "corporate_number": "2180301018771",
        "display_name": "偽", "email": "fake@example.jp", "password": PASSWORD, "agree": "on",
    }  # fmt: skip
    wrong = client.submit("/signup/business", form)
    assert wrong.status_code == 422 and BAD_CHECK_DIGIT in wrong.text
    taken = client.submit("/signup/business", {**form, "corporate_number": TOYOTA})
    assert taken.status_code == 422 and "すでに登録されています" in taken.text
    assert city.storage.identities.find_by_email("fake@example.jp") is None  # nothing half-written


def test_api_organisations_422_check_digit_409_duplicate_403_role(client: Client, city: City) -> None:
    newcomer = city.person("new@example.jp", Role.BUSINESS)
    client.login("new@example.jp")
    bad = client.api_post("/api/v1/organisations", {"name": "偽", "corporate_number": "8000012050002"})
    assert bad.status_code == 422
    assert bad.json()["field_errors"]["corporate_number"] == BAD_CHECK_DIGIT
    duplicate = client.api_post("/api/v1/organisations", {"name": "トヨタ", "corporate_number": TOYOTA})
    assert duplicate.status_code == 409 and duplicate.json()["error"] == "organisation_exists"
    number = with_check_digit("901234567890")
    created = client.api_post("/api/v1/organisations", {"name": "尼崎データ株式会社", "corporate_number": number})
    assert created.status_code == 201, created.text
    assert city.storage.app.organisation_of(newcomer) == UUID(created.json()["organisation_id"])
    again = client.api_post("/api/v1/organisations", {"name": "二つ目", "kind": "sole_proprietor"})
    assert again.status_code == 409 and again.json()["error"] == "already_member"
    client.login("citizen@example.jp")
    citizen = client.api_post("/api/v1/organisations", {"name": "x", "corporate_number": number})
    assert citizen.status_code == 403


def test_a_sole_proprietors_name_is_sealed_and_erased_with_its_owner(storage: Storage, city: City) -> None:
    owner = city.person("sole@example.jp", Role.BUSINESS)
    organisation = storage.app.register_organisation(
        owner, kind="sole_proprietor", name="山田太郎商店", corporate_number=None
    )
    event = storage.app.get_organisation(organisation)
    assert event.name == "" and event.sealed_name and b"\xe5\xb1\xb1" not in event.sealed_name
    storage.projector.catch_up()
    assert city.read.organisation(str(organisation)).name == "山田太郎商店"  # type: ignore[union-attr]
    storage.erase(owner)
    assert city.read.organisation(str(organisation)).name == ERASED_TEXT  # type: ignore[union-attr]


# Proposals: roles, closed challenges, confidentiality


def test_api_proposals_are_for_business_accounts_only(client: Client, city: City) -> None:
    body = {**texts(), "cost_yen": 0, "challenge_id": str(city.challenge)}
    for email in ("citizen@example.jp", "env@example.jp"):
        client.login(email)
        assert client.api_post("/api/v1/proposals", body).status_code == 403
    client.login("biz@example.jp")
    created = client.api_post("/api/v1/proposals", body)
    assert created.status_code == 201, created.text
    assert created.json()["department"] == "環境保全課"
    invalid = client.api_post("/api/v1/proposals", {**body, "title": "", "cost_yen": -5})
    assert invalid.status_code == 422 and set(invalid.json()["field_errors"]) >= {"title", "cost_yen"}


def test_a_proposal_to_a_closed_challenge_is_409(client: Client, city: City, storage: Storage) -> None:
    past = datetime.now(JST) - timedelta(days=20)
    with clock.frozen_at(past):
        expired = storage.app.draft_challenge(
            staff_id=city.env, title="締切済みの課題", background="b", shareable_data="", outcomes="o", sdg_goals=[],
            deadline=clock.city_date(past) + timedelta(days=1),
        )  # fmt: skip
        storage.app.publish_challenge(expired, staff_id=city.env)
    storage.app.close_challenge(city.challenge, staff_id=city.env)
    storage.projector.catch_up()
    client.login("biz@example.jp")
    for challenge in (expired, city.challenge):
        response = client.api_post("/api/v1/proposals", {**texts(), "cost_yen": 0, "challenge_id": str(challenge)})
        assert response.status_code == 409 and response.json()["error"] == "challenge_closed"
    page = client.get(f"/challenges/{expired}")
    assert "募集は終了" in page.text
    assert client.get("/api/v1/challenges").json() == []


def test_only_the_proposers_members_and_responsible_staff_can_read(client: Client, city: City) -> None:
    proposal = city.propose()
    readers = ["biz@example.jp", "env@example.jp", "window@example.jp", "auditor@example.jp"]
    outsiders = ["other@example.jp", "staff@example.jp", "citizen@example.jp"]
    for email in readers:
        client.login(email)
        assert client.get(f"/proposals/{proposal}").status_code == 200, email
        api = client.get(f"/api/v1/proposals/{proposal}")
        assert api.status_code == 200 and api.json()["plan"] == "アプリで通知する"
    for email in outsiders:
        client.login(email)
        assert client.get(f"/proposals/{proposal}").status_code == 404, email
        assert client.get(f"/api/v1/proposals/{proposal}").status_code == 404, email
        # An unknown id looks exactly the same.
        assert client.get(f"/api/v1/proposals/{uuid4()}").status_code == 404
        assert "アプリで通知する" not in client.get("/staff/proposals").text
    client.post("/logout", headers={"x-csrftoken": client.csrf()})
    assert client.get(f"/api/v1/proposals/{proposal}").status_code == 401


def test_staff_move_a_proposal_reply_and_publish_with_consent(client: Client, city: City, storage: Storage) -> None:
    proposal = city.propose()
    client.login("staff@example.jp")  # another department: not theirs to decide
    refused = client.submit(f"/staff/proposals/{proposal}/stage", {"stage": "in_dialogue"})
    assert refused.status_code == 404
    client.login("env@example.jp")
    assert client.submit(f"/staff/proposals/{proposal}/stage", {"stage": "agreement"}).status_code == 422
    assert client.submit(f"/staff/proposals/{proposal}/stage", {"stage": "in_dialogue"}).status_code == 303
    assert client.submit(f"/proposals/{proposal}/messages", {"text": "詳しくお聞かせください"}).status_code == 303
    no_consent = client.submit(f"/staff/proposals/{proposal}/summary", {"summary_text": "概要"})
    assert no_consent.status_code == 422
    client.login("biz@example.jp")
    assert client.submit(f"/proposals/{proposal}/messages", {"text": "資料をお送りします"}).status_code == 303
    assert client.submit(f"/proposals/{proposal}/consent").status_code == 303
    client.login("env@example.jp")
    assert (
        client.submit(
            f"/staff/proposals/{proposal}/summary", {"summary_text": "食品ロスを見える化する提案"}
        ).status_code
        == 303
    )
    ended = client.submit(f"/staff/proposals/{proposal}/stage", {"stage": "ended", "reason": ""})
    assert ended.status_code == 422
    row = city.read.proposal(str(proposal))
    assert row is not None and row.stage is Stage.IN_DIALOGUE and row.waiting_on == "city"
    assert [m.text for m in city.read.messages(str(proposal))] == ["詳しくお聞かせください", "資料をお送りします"]
    history = city.read.history(str(proposal))
    assert [h.kind for h in history] == ["submitted", "stage", "consent", "summary"]
    assert history[1].actor_id == str(city.env)
    assert "食品ロスを見える化する提案" in client.get("/cocreation").text


def test_the_window_routes_free_proposals(client: Client, city: City) -> None:
    proposal = city.propose(challenge=False, sdg_goals=[11])
    row = city.read.proposal(str(proposal))
    assert row is not None and row.department == COCREATION_WINDOW and row.sdg_goals == [11]
    client.login("env@example.jp")
    assert client.get(f"/proposals/{proposal}").status_code == 404  # not routed to them yet
    client.login("window@example.jp")
    assert client.submit(f"/staff/proposals/{proposal}/route", {"department": "環境保全課"}).status_code == 303
    client.login("env@example.jp")
    assert client.get(f"/proposals/{proposal}").status_code == 200
    assert [h.kind for h in city.read.history(str(proposal))] == ["submitted", "routed"]


# Attachments


def _upload(client: Client, url: str, data: dict[str, str], name: str, content: bytes) -> Any:
    return client.post(
        url, data=data, files={"file": (name, content, "application/octet-stream")},
        headers={"x-csrftoken": client.csrf()}, follow_redirects=False,
    )  # fmt: skip


def _form(city: City) -> dict[str, str]:
    return {**texts(), "cost_yen": "０", "challenge": str(city.challenge), "submission_key": str(uuid4())}


def test_a_proposal_with_an_attachment_is_confidential_too(client: Client, city: City) -> None:
    client.login("biz@example.jp")
    sent = _upload(client, "/proposals", _form(city), "計画書.pdf", PDF_BYTES)
    assert sent.status_code == 303, sent.text
    proposal = sent.headers["location"].split("/")[2].split("?")[0]
    [attachment] = city.read.attachments(proposal)
    assert (attachment.name, attachment.media_type, attachment.size) == (
        "計画書.pdf",
        "application/pdf",
        len(PDF_BYTES),
    )
    url = f"/proposals/{proposal}/attachments/{attachment.sha256}"
    for email in ("biz@example.jp", "env@example.jp"):
        client.login(email)
        download = client.get(url)
        assert download.status_code == 200 and download.content == PDF_BYTES
        assert download.headers["content-type"].startswith("application/pdf")
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["x-content-type-options"] == "nosniff"
    for email in ("other@example.jp", "staff@example.jp", "citizen@example.jp"):
        client.login(email)
        assert client.get(url).status_code == 404


def test_attachments_are_typed_by_content(client: Client, city: City) -> None:
    client.login("biz@example.jp")
    disguised = _upload(client, "/proposals", _form(city), "report.pdf", PNG_BYTES)
    assert disguised.status_code == 422 and "拡張子と一致しません" in disguised.text
    exe = _upload(client, "/proposals", _form(city), "setup.exe", b"MZ\x90\x00" + b"\x00" * 100)
    assert exe.status_code == 422 and "対応していない形式" in exe.text
    assert city.read.proposals(organisation_id=str(city.org)) == []  # nothing half-written
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    ok = _upload(client, "/proposals", _form(city), "費用.xlsx", buffer.getvalue())
    assert ok.status_code == 303
    [attachment] = city.read.attachments(ok.headers["location"].split("/")[2].split("?")[0])
    assert attachment.media_type.endswith("spreadsheetml.sheet")


def test_files_over_10_mb_are_refused(client: Client, city: City) -> None:
    client.login("biz@example.jp")
    proposal = city.propose()
    too_big = _upload(
        client, f"/proposals/{proposal}/attachments", {}, "big.png", PNG_BYTES + b"\x00" * (10 * 1024 * 1024)
    )
    assert too_big.status_code in (413, 422)
    way_too_big = _upload(client, f"/proposals/{proposal}/attachments", {}, "big.png", b"\x00" * (11 * 1024 * 1024))
    assert way_too_big.status_code == 413
    just_right = _upload(client, f"/proposals/{proposal}/attachments", {}, "map.png", PNG_BYTES)
    assert just_right.status_code == 303
    assert len(city.read.attachments(str(proposal))) == 1


def test_the_boundary_checks_upload_forms_and_keeps_refusing_multipart_elsewhere(client: Client, city: City) -> None:
    client.login("biz@example.jp")
    control = _upload(client, "/proposals", {**_form(city), "title": "悪い\x00題"}, "a.png", PNG_BYTES)
    assert control.status_code == 422 and "制御文字" in control.text
    # httpx escapes control characters in file names, as browsers do; a raw client need not.
    raw = (
        b'--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a\x07.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + PNG_BYTES + b"\r\n--b--\r\n"
    )
    bad_name = client.post(
        "/proposals", content=raw, follow_redirects=False,
        headers={"x-csrftoken": client.csrf(), "content-type": "multipart/form-data; boundary=b"},
    )  # fmt: skip
    assert bad_name.status_code == 422 and "制御文字" in bad_name.text
    proposal = city.propose()
    elsewhere = _upload(client, f"/proposals/{proposal}/messages", {"text": "hi"}, "a.png", PNG_BYTES)
    assert elsewhere.status_code == 415
    urlencoded = client.submit(f"/proposals/{proposal}/attachments", {"file": "x"})
    assert urlencoded.status_code == 415
    assert city.read.proposals(organisation_id=str(city.org))[0].title == "食品ロス見える化アプリ"
    assert len(city.read.proposals(organisation_id=str(city.org))) == 1


# The pipeline and the tally


def test_fiscal_years_turn_at_midnight_on_april_1st_jst(storage: Storage, city: City) -> None:
    with clock.frozen_at(datetime(2026, 3, 31, 23, 59, 59, tzinfo=JST)):
        march = city.propose(challenge=False)
    with clock.frozen_at(datetime(2026, 4, 1, 0, 0, 0, tzinfo=JST)):
        april = city.propose(challenge=False)
    assert city.read.proposal(str(march)).fiscal_year == 2025  # type: ignore[union-attr]
    assert city.read.proposal(str(april)).fiscal_year == 2026  # type: ignore[union-attr]
    assert city.read.new_in_fiscal_year(2025) == 1 and city.read.new_in_fiscal_year(2026) == 1


def test_the_pipeline_flags_proposals_waiting_on_the_city_over_30_days(
    client: Client, city: City, storage: Storage
) -> None:
    now = datetime.now(JST)
    with clock.frozen_at(now - timedelta(days=40)):
        stale = city.propose()
        answered = city.propose()
    with clock.frozen_at(now - timedelta(days=35)):
        storage.app.post_proposal_message(answered, author_id=city.env, text="確認しています")
    with clock.frozen_at(now - timedelta(days=29)):
        recent = city.propose()
    storage.projector.catch_up()
    rows = {UUID(r.id): r for r in city.read.proposals()}
    moment = clock.now()
    assert rows[stale].overdue(moment) and rows[stale].days_waiting(moment) == 40
    assert rows[answered].waiting_on == "proposer" and not rows[answered].overdue(moment)
    assert not rows[recent].overdue(moment)
    assert rows[stale].days_in_stage(moment) == 40
    client.login("env@example.jp")
    page = client.get("/staff/proposals")
    assert page.status_code == 200
    assert '<span data-testid="overdue">1</span>' in page.text
    year = clock.fiscal_year(clock.city_today())
    assert f"{year}年度の新規提案" in page.text and "計画の目標 10件" in page.text
    filtered = client.get(f"/staff/proposals?stage=ended&goal=12&fiscal_year={year}")
    assert "該当する提案はありません" in filtered.text
    client.login("citizen@example.jp")
    assert client.get("/staff/proposals").status_code == 403


def test_the_public_tally_counts_each_fiscal_year_by_where_proposals_stand(
    client: Client, city: City, storage: Storage
) -> None:
    staff_of = {"window": city.window}
    with clock.frozen_at(datetime(2025, 3, 20, 10, tzinfo=JST)):
        old = city.propose(challenge=False)
    ids = [city.propose(challenge=False) for _ in range(5)]
    steps = [
        [],
        [Stage.IN_DIALOGUE],
        [Stage.IN_DIALOGUE, Stage.AGREEMENT],
        [Stage.IN_DIALOGUE, Stage.PILOT],
        [Stage.ENDED],
    ]
    for proposal, path in zip(ids, steps, strict=True):
        for stage in path:
            storage.app.change_proposal_stage(proposal, staff_id=staff_of["window"], stage=stage, reason="理由")
    storage.app.change_proposal_stage(old, staff_id=city.window, stage=Stage.ENDED, reason="予算がないため")
    storage.projector.catch_up()
    this_year = clock.fiscal_year(clock.city_today())
    tally = {row.fiscal_year: row for row in city.read.tally()}
    assert (tally[this_year].received, tally[this_year].waiting, tally[this_year].in_talks) == (5, 1, 1)
    assert (tally[this_year].agreed, tally[this_year].ended) == (2, 1)
    assert (tally[2024].received, tally[2024].ended) == (1, 1)
    page = client.get("/cocreation")
    assert page.status_code == 200 and f"{this_year}年度" in page.text and "2024年度" in page.text
    assert "理由" not in page.text and "食品ロス見える化アプリ" not in page.text  # nothing confidential


# Erasure and rebuild


def test_an_erased_proposers_texts_show_as_deleted_and_a_rebuild_agrees(storage: Storage, city: City) -> None:
    proposal = city.propose()
    storage.app.post_proposal_message(proposal, author_id=city.biz, text="よろしくお願いします")
    storage.app.post_proposal_message(proposal, author_id=city.env, text="承知しました")
    storage.projector.catch_up()
    before = city.read.proposal(str(proposal))
    storage.erase(city.biz)
    after = city.read.proposal(str(proposal))
    assert before is not None and after is not None
    assert (after.title, after.plan) == (ERASED_TEXT, ERASED_TEXT) and after.stage is before.stage
    assert [m.text for m in city.read.messages(str(proposal))] == [ERASED_TEXT, "承知しました"]
    storage.projector.rebuild()
    rebuilt = city.read.proposal(str(proposal))
    assert rebuilt == after
    assert [m.text for m in city.read.messages(str(proposal))] == [ERASED_TEXT, "承知しました"]


def test_staff_draft_publish_and_close_challenges_of_their_department_only(client: Client, city: City) -> None:
    form = {
        "title": "避難所の混雑見える化", "background": "災害時に避難所が偏る", "outcomes": "混雑の可視化",
        "shareable_data": "避難所一覧", "deadline": (clock.city_today() + timedelta(days=10)).isoformat(),
        "sdg_goals": ["11", "3"],
    }  # fmt: skip
    client.login("staff@example.jp")
    created = client.submit("/staff/challenges", form)
    assert created.status_code == 303
    challenge = created.headers["location"].rsplit("/", 1)[1]
    assert client.get(f"/challenges/{challenge}").status_code == 200  # their own draft
    client.login("citizen@example.jp")
    assert client.get(f"/challenges/{challenge}").status_code == 404  # a draft is not public
    client.login("env@example.jp")
    assert client.submit(f"/staff/challenges/{challenge}/publish").status_code == 403
    client.login("staff@example.jp")
    assert client.submit(f"/staff/challenges/{challenge}/publish").status_code == 303
    listed = client.get("/api/v1/challenges").json()
    mine = next(c for c in listed if c["id"] == challenge)
    assert mine["sdg_goals"] == [3, 11] and mine["accepting"] is True
    assert "避難所の混雑見える化" in client.get("/challenges").text
    assert client.submit(f"/staff/challenges/{challenge}/close").status_code == 303
    assert client.get(f"/api/v1/challenges/{challenge}").json()["status"] == "closed"


def test_the_deadline_day_is_open_until_2359_jst(storage: Storage, city: City) -> None:
    deadline = date(2030, 3, 31)
    storage.app.revise_challenge(
        city.challenge, staff_id=city.env, title="食品ロス削減", background="b", shareable_data="", outcomes="o",
        sdg_goals=[12], deadline=deadline,
    )  # fmt: skip
    last = datetime(2030, 3, 31, 23, 59, 59, tzinfo=JST)
    assert city.propose(now=last)
    from domain.challenge import ChallengeClosed

    with pytest.raises(ChallengeClosed):
        city.propose(now=last + timedelta(seconds=1))


def test_an_organisation_has_several_member_accounts(client: Client, city: City) -> None:
    colleague = city.person("colleague@example.jp", Role.BUSINESS)
    city.person("citizen2@example.jp", Role.CITIZEN)
    proposal = city.propose()
    client.login("biz@example.jp")
    unknown = client.submit("/organisations/members", {"email": "nobody@example.jp"})
    assert unknown.status_code == 422 and "事業者アカウントはありません" in unknown.text
    not_business = client.submit("/organisations/members", {"email": "citizen2@example.jp"})
    assert not_business.status_code == 422
    added = client.submit("/organisations/members", {"email": "colleague@example.jp"})
    assert added.status_code == 303 and added.headers["location"] == "/business?added=1"
    assert city.storage.app.organisation_of(colleague) == city.org
    again = client.submit("/organisations/members", {"email": "colleague@example.jp"})
    assert again.status_code == 409  # one organisation per account: a duplicate
    client.login("colleague@example.jp")
    assert client.get(f"/proposals/{proposal}").status_code == 200  # a member reads the organisation's proposals
    client.login("other@example.jp")
    assert client.get(f"/proposals/{proposal}").status_code == 404
