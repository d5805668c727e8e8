"""Targeted notices end to end on both engines: segments, sending as a job with progress, the inbox,
openings counted once, acting within 7 days, reach and its roll-ups, the pages, the API, refusals."""

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain import clock
from domain.errors import InvalidCommand, NotAllowed
from domain.notice import MAX_TITLE, LinkKind, Notice, NoticeAlreadySent, NoticeOpening, OpenedHow, Segment
from domain.values import AgeBand, Attributes, Role, Ward
from projections import notices_read as read
from projections.storage import Storage
from tests.conftest import PASSWORD_HASH, Client, World
from tests.support.threads import run_in_threads
from web.mailer import recipient_token
from web.notice_jobs import MAIL_KIND, NoticeJobs

CHILDCARE = "子育て支援課"
DISASTER = "危機管理課"


class Town:
    """The world, plus another department's staff, an admin, and citizens in two wards."""

    def __init__(self, storage: Storage, world: World) -> None:
        self.storage = storage
        self.world = world
        app = storage.app
        self.other_staff = app.sign_up(
            email="bousai@example.jp", display_name="防災", password_hash=PASSWORD_HASH, role=Role.STAFF,
            department=DISASTER,
        )  # fmt: skip
        self.admin = app.sign_up(
            email="admin@example.jp", display_name="管理", password_hash=PASSWORD_HASH, role=Role.ADMIN,
            department="情報政策課",
        )  # fmt: skip
        # world.citizen lives in Sonoda, in their 30s, with children.
        self.sonoda = world.citizens(6, ward=Ward.SONODA, age_band=AgeBand.AGE_30S, has_children=True)
        self.chuo = world.citizens(4, ward=Ward.CHUO, age_band=AgeBand.AGE_40S, has_children=False)
        self.business = app.register_participant(Role.BUSINESS)
        storage.projector.catch_up()

    def notice(self, title: str = "子育てひろばのお知らせ", staff: UUID | None = None, **kwargs: Any) -> UUID:
        notice_id = self.storage.app.draft_notice(
            staff_id=staff or self.world.staff, title=title, body="今月の予定です。\n詳しくはリンク先へ。", **kwargs
        )
        self.storage.projector.catch_up()
        return notice_id

    def send(self, notice_id: UUID, segment: Segment, staff: UUID | None = None, **kwargs: Any) -> str:
        job_id = NoticeJobs(self.storage, **kwargs).send_now(notice_id, staff or self.world.staff, segment)
        self.storage.projector.catch_up()
        return job_id

    def view(self, notice_id: UUID) -> read.NoticeView:
        found = read.notice(self.storage.db, str(notice_id))
        assert found is not None
        return found

    def recipients(self, notice_id: UUID) -> dict[str, tuple[Any, ...]]:
        rows = self.storage.db.query(
            "SELECT participant_id, delivered_at, opened_at, opened_how, acted_at, emailed FROM notice_recipients"
            " WHERE notice_id = ?",
            (str(notice_id),),
        )
        return {r[0]: tuple(r[1:]) for r in rows}


@pytest.fixture
def town(storage: Storage, world: World) -> Town:
    return Town(storage, world)


SONODA = Segment(wards=(Ward.SONODA,), roles=(Role.CITIZEN,))


def login(client: Client, email: str) -> Client:
    client.login(email)
    return client


# Segments


def test_segment_counts_by_ward_age_children_role_follows_and_not_answered(storage: Storage, town: Town) -> None:
    app, db, world = storage.app, storage.db, town.world
    app.set_follows(town.sonoda[0], goals=[3, 4], departments=[CHILDCARE])
    app.set_follows(town.sonoda[1], goals=[3], departments=[])
    app.set_follows(town.chuo[0], goals=[11, 13], departments=[DISASTER, CHILDCARE])
    app.set_follows(town.chuo[1], goals=[], departments=[f"{CHILDCARE}分室"])  # a name that contains another
    app.submit_response(world.survey, world.citizen, world.valid_answers())
    app.submit_response(world.survey, town.sonoda[2], world.valid_answers())
    storage.projector.catch_up()

    def count(**fields: Any) -> int:
        return read.count_segment(db, Segment(**fields))

    assert count(wards=(Ward.SONODA,)) == 7
    assert count(wards=(Ward.SONODA, Ward.CHUO)) == 11
    assert count(age_bands=(AgeBand.AGE_40S,)) == 4
    assert count(age_bands=(AgeBand.AGE_30S, AgeBand.AGE_40S), wards=(Ward.CHUO,)) == 4
    assert count(has_children=True) == 7
    assert count(has_children=False) == 4
    assert count(roles=(Role.CITIZEN,)) == 11
    assert count(roles=(Role.STAFF,)) == 2
    assert count(roles=(Role.BUSINESS, Role.ADMIN)) == 2
    assert count() == 15  # everyone: 11 citizens, 2 staff, an admin, a business
    assert count(follows_goals=(3,)) == 2
    assert count(follows_goals=(3, 13)) == 3
    assert count(follows_goals=(17,)) == 0
    assert count(follows_departments=(CHILDCARE,)) == 2  # the whole line only, never 子育て支援課分室
    assert count(follows_departments=(CHILDCARE, f"{CHILDCARE}分室")) == 3
    assert count(follows_departments=("100%_課",)) == 0  # LIKE's wildcards are only letters here
    assert count(roles=(Role.CITIZEN,), not_answered_survey_id=world.survey) == 9
    assert count(wards=(Ward.SONODA,), not_answered_survey_id=world.survey) == 5
    assert count(wards=(Ward.SONODA,), follows_goals=(3,), has_children=True) == 2
    storage.erase(town.sonoda[0])
    assert count(wards=(Ward.SONODA,)) == 6  # an erased person is nobody's recipient


def test_segment_problems_are_field_errors() -> None:
    assert Segment(follows_goals=(0,)).problems() == {"follows_goals": "SDGsの目標は1〜17の番号で選んでください。"}
    assert "follows_goals" in Segment(follows_goals=(3, 3)).problems()
    assert "wards" in Segment(wards=("nowhere",)).problems()  # type: ignore[arg-type]
    assert "follows_departments" in Segment(follows_departments=("課\n課",)).problems()
    assert "follows_departments" in Segment(follows_departments=("課\x00",)).problems()
    assert Segment(wards=(Ward.CHUO, Ward.SONODA), follows_goals=(17, 1)).problems() == {}
    assert Segment(follows_goals=(3, 1)).goal_mask == 0b1010


# Drafting and sending: the rules


def test_only_a_departments_staff_or_an_admin_draft_and_send(storage: Storage, town: Town) -> None:
    app, world = storage.app, town.world
    with pytest.raises(NotAllowed):
        app.draft_notice(staff_id=world.citizen, title="t", body="b", department=CHILDCARE)
    with pytest.raises(NotAllowed):
        app.draft_notice(staff_id=town.other_staff, title="t", body="b", department=CHILDCARE)
    notice = town.notice()
    assert app.get_notice(notice).department == CHILDCARE
    with pytest.raises(NotAllowed):
        app.check_notice_sendable(notice, staff_id=town.other_staff)
    with pytest.raises(NotAllowed):
        NoticeJobs(storage).send_now(notice, world.citizen, SONODA)
    by_admin = app.draft_notice(staff_id=town.admin, title="全庁のお知らせ", body="本文", department=CHILDCARE)
    town.send(by_admin, SONODA, staff=town.admin)
    assert town.view(by_admin).targeted == 7


@pytest.mark.parametrize(
    ("title", "body", "field"),
    [
        ("", "本文", "title"),
        ("   ", "本文", "title"),
        ("x" * (MAX_TITLE + 1), "本文", "title"),
        ("件名", "", "body"),
        ("件名", "本文\x00", "body"),
        ("件名\x1b[31m", "本文", "title"),
        ("件名", "x" * 4001, "body"),
    ],
)
def test_title_and_body_are_checked(storage: Storage, world: World, title: str, body: str, field: str) -> None:
    with pytest.raises(InvalidCommand) as refused:
        storage.app.draft_notice(staff_id=world.staff, title=title, body=body)
    assert field in refused.value.field_errors


def test_a_link_must_name_something_that_exists(storage: Storage, town: Town) -> None:
    app, world = storage.app, town.world
    for kind, link_id in [("survey", uuid4()), ("idea", world.survey), ("bogus", world.survey), ("survey", None)]:
        with pytest.raises(InvalidCommand) as refused:
            app.draft_notice(staff_id=world.staff, title="t", body="b", link_kind=kind, link_id=link_id)
        assert "link" in refused.value.field_errors
    notice = town.notice(link_kind=LinkKind.SURVEY, link_id=world.survey)
    assert app.get_notice(notice).link_id == world.survey


def test_sending_records_the_segment_and_count_and_writes_the_recipients(storage: Storage, town: Town) -> None:
    app, world = storage.app, town.world
    app.give_email_consent(town.sonoda[0])
    app.give_email_consent(town.sonoda[1])
    app.give_email_consent(town.chuo[0])  # opted in, but not in the segment
    storage.projector.catch_up()
    notice = town.notice()
    job_id = town.send(notice, SONODA)
    sent = [e for e in app.events.get(notice) if isinstance(e, Notice.Sent)]
    assert len(sent) == 1
    assert sent[0].segment == SONODA and sent[0].recipient_count == 7 and sent[0].job_id == job_id
    assert sent[0].sent_by == world.staff
    assert "participant" not in str(vars(sent[0]))  # who it reached is not in the event
    recipients = town.recipients(notice)
    assert set(recipients) == {str(p) for p in [world.citizen, *town.sonoda]}
    assert {pid for pid, row in recipients.items() if row[4]} == {str(town.sonoda[0]), str(town.sonoda[1])}
    outbox = storage.db.query(
        "SELECT participant_id FROM mail_outbox WHERE kind = ? AND reference = ?", (MAIL_KIND, str(notice))
    )
    assert {r[0] for r in outbox} == {str(town.sonoda[0]), str(town.sonoda[1])}
    message = storage.db.query_one(
        "SELECT subject, body, link FROM mail_messages WHERE kind = ? AND reference = ?", (MAIL_KIND, str(notice))
    )
    assert message == (
        "子育てひろばのお知らせ",
        "今月の予定です。\n詳しくはリンク先へ。",
        f"/me/notices/{notice}?r={{r}}",
    )
    job = read.job(storage.db, job_id)
    assert job is not None and (job.total, job.done, job.emailed, job.error) == (7, 7, 2, None)
    assert job.finished_at is not None
    view = town.view(notice)
    assert (view.targeted, view.delivered, view.opened) == (7, 7, 0)
    assert view.fiscal_year == clock.fiscal_year(clock.city_today())


def test_a_notice_is_sent_once(storage: Storage, town: Town) -> None:
    notice = town.notice()
    town.send(notice, SONODA)
    with pytest.raises(NoticeAlreadySent):
        NoticeJobs(storage).send_now(notice, town.world.staff, Segment())
    assert len(town.recipients(notice)) == 7


def test_two_jobs_racing_to_send_one_notice_send_it_once(storage: Storage, town: Town) -> None:
    notice = town.notice()
    jobs = NoticeJobs(storage, batch=2)
    first = jobs.prepare(notice, town.world.staff, SONODA)
    # A second worker's job for the same notice, started before the first recorded anything.
    second = uuid4().hex
    with storage.db.transaction() as cur:
        cur.execute(
            "INSERT INTO notice_jobs (job_id, notice_id, staff_id, segment, started_at) VALUES (?, ?, ?, '{}', ?)",
            (second, str(notice), str(town.world.staff), datetime.now(UTC).isoformat()),
        )
    errors = run_in_threads(
        [lambda j=j: jobs.run(j, notice, town.world.staff, SONODA) for j in (first, second)]  # type: ignore[misc]
    )
    assert errors == []
    storage.projector.catch_up()
    outcomes = sorted((read.job(storage.db, j).error or "") for j in (first, second))  # type: ignore[union-attr]
    assert outcomes == ["", NoticeAlreadySent.message]
    assert len([e for e in storage.app.events.get(notice) if isinstance(e, Notice.Sent)]) == 1
    assert len(town.recipients(notice)) == 7


def test_a_segment_that_reaches_nobody_is_not_sent(storage: Storage, town: Town) -> None:
    notice = town.notice()
    job_id = town.send(notice, Segment(follows_goals=(17,)))
    job = read.job(storage.db, job_id)
    assert job is not None and job.error and "送信できません" in job.error
    assert not storage.app.get_notice(notice).sent
    assert town.recipients(notice) == {}


def test_the_job_writes_recipients_and_progress_together_in_batches(storage: Storage, town: Town) -> None:
    storage.app.give_email_consent(town.world.citizen)
    storage.projector.catch_up()
    notice = town.notice()
    seen: list[tuple[int, int, int, int, bool]] = []

    def progress(done: int, total: int) -> None:
        # What another web worker would read now: the progress and the inbox rows agree.
        job = read.job(storage.db, job_id_of(storage, notice))
        assert job is not None
        rows = len(town.recipients(notice))
        seen.append((done, total, job.done, rows, job.finished_at is not None))

    NoticeJobs(storage, batch=3).send_now(notice, town.world.staff, SONODA, progress=progress)
    assert seen == [(3, 7, 3, 3, False), (6, 7, 6, 6, False), (7, 7, 7, 7, True)]


def job_id_of(storage: Storage, notice: UUID) -> str:
    row = storage.db.query_one("SELECT job_id FROM notice_jobs WHERE notice_id = ?", (str(notice),))
    assert row is not None
    return str(row[0])


def test_the_background_job_reports_progress_until_done(storage: Storage, town: Town) -> None:
    notice = town.notice()
    job_id = NoticeJobs(storage, batch=2).start(notice, town.world.staff, SONODA)
    deadline = time.monotonic() + 30
    job = read.job(storage.db, job_id)
    while job is not None and not job.finished and time.monotonic() < deadline:
        time.sleep(0.05)
        job = read.job(storage.db, job_id)
    assert job is not None and job.finished_at and job.error is None
    assert (job.done, job.total, job.percent) == (7, 7, 100)


# Openings and acting


def test_opening_twice_counts_once_and_records_how(storage: Storage, town: Town) -> None:
    app, world = storage.app, town.world
    notice = town.notice()
    town.send(notice, SONODA)
    assert app.open_notice(world.citizen, notice, OpenedHow.EMAIL_LINK) is True
    assert app.open_notice(world.citizen, notice, OpenedHow.INBOX) is False
    assert app.open_notice(town.sonoda[0], notice, "inbox") is True
    storage.projector.catch_up()
    view = town.view(notice)
    assert (view.opened, view.opened_by_email) == (2, 1)
    assert town.recipients(notice)[str(world.citizen)][2] == "email_link"
    with pytest.raises(InvalidCommand):
        app.open_notice(world.citizen, notice, "carrier_pigeon")
    draft = town.notice("下書き")
    with pytest.raises(Exception, match="まだ送信されていません"):
        app.open_notice(world.citizen, draft, OpenedHow.INBOX)


def test_concurrent_openings_are_counted_exactly(storage: Storage, town: Town) -> None:
    app, world = storage.app, town.world
    notice = town.notice()
    town.send(notice, SONODA)
    people = [world.citizen, *town.sonoda[:4]]
    outcomes: list[bool] = []
    errors = run_in_threads(
        [lambda p=p: outcomes.append(app.open_notice(p, notice, OpenedHow.INBOX)) for p in people for _ in range(3)]
    )
    assert errors == []
    assert outcomes.count(True) == len(people)
    storage.projector.catch_up()
    assert town.view(notice).opened == len(people)
    openings = [e for p in people for e in app.events.get(uuid_of_opening(notice, p))]
    assert len(openings) == len(people)


def uuid_of_opening(notice: UUID, person: UUID) -> UUID:
    from domain.notice import notice_opening_id

    return notice_opening_id(notice, person)


def test_acted_means_answering_the_linked_survey_within_7_days_of_delivery(storage: Storage, town: Town) -> None:
    app, world = storage.app, town.world
    early, within, at_the_limit, late = town.sonoda[:4]
    start = clock.now() + timedelta(days=1)
    with clock.frozen_at(start - timedelta(hours=1)):
        app.submit_response(world.survey, early, world.valid_answers())  # before delivery: not acting on it
    with clock.frozen_at(start):
        notice = town.notice(link_kind=LinkKind.SURVEY, link_id=world.survey)
        town.send(notice, SONODA)
    with clock.frozen_at(start + timedelta(days=3)):
        app.submit_response(world.survey, within, world.valid_answers())
        app.submit_response(world.survey, town.chuo[0], world.valid_answers())  # not a recipient
    with clock.frozen_at(start + timedelta(days=7)):
        app.submit_response(world.survey, at_the_limit, world.valid_answers())
    with clock.frozen_at(start + timedelta(days=7, seconds=1)):
        app.submit_response(world.survey, late, world.valid_answers())
    storage.projector.catch_up()
    recipients = town.recipients(notice)
    assert {pid for pid, row in recipients.items() if row[3]} == {str(within), str(at_the_limit)}
    assert recipients[str(within)][0] == start.isoformat()
    assert town.view(notice).acted == 2
    # A notice linking something else counts no acting.
    other = town.notice("防災訓練", link_kind=None)
    town.send(other, SONODA)
    assert town.view(other).acted == 0 and not town.view(other).acts_counted


def test_a_rebuild_gives_the_same_reach(storage: Storage, town: Town) -> None:
    app, world = storage.app, town.world
    start = clock.now() + timedelta(days=1)
    with clock.frozen_at(start):
        notice = town.notice(link_kind=LinkKind.SURVEY, link_id=world.survey)
        town.send(notice, SONODA)
    with clock.frozen_at(start + timedelta(days=1)):
        app.open_notice(world.citizen, notice, OpenedHow.INBOX)
        app.open_notice(town.sonoda[0], notice, OpenedHow.EMAIL_LINK)
        app.submit_response(world.survey, town.sonoda[0], world.valid_answers())
    storage.projector.catch_up()
    before = (town.view(notice), town.recipients(notice))
    assert (before[0].opened, before[0].opened_by_email, before[0].acted) == (2, 1, 1)
    storage.projector.rebuild()
    assert (town.view(notice), town.recipients(notice)) == before


# Reach


def test_reach_per_notice_per_fiscal_year_and_per_segment(storage: Storage, town: Town) -> None:
    app, world, db = storage.app, town.world, storage.db
    first, second = town.notice("一つ目"), town.notice("二つ目")
    town.send(first, SONODA)
    town.send(second, Segment(roles=(Role.CITIZEN,)))
    for person in [world.citizen, *town.sonoda[:2]]:
        app.open_notice(person, first, OpenedHow.INBOX)
    for person in [town.sonoda[0], *town.chuo]:
        app.open_notice(person, second, OpenedHow.EMAIL_LINK)
    storage.projector.catch_up()
    assert town.view(first).reach == pytest.approx(3 / 7)
    assert town.view(second).reach == pytest.approx(5 / 11)
    year = clock.fiscal_year(clock.city_today())
    assert read.reach_by_fiscal_year(db, year) == (18, 8)
    assert read.reach_by_fiscal_year(db, year - 1) == (0, 0)
    [(rolled_year, rollup)] = read.by_fiscal_year(db, CHILDCARE)
    assert rolled_year == year
    assert (rollup.notices, rollup.targeted, rollup.delivered, rollup.opened) == (2, 18, 18, 8)
    assert read.by_fiscal_year(db, DISASTER) == []
    segments = {r.label: r for r in read.by_segment(db, CHILDCARE)}
    assert set(segments) == {"地区: 園田／区分: 市民", "区分: 市民"}
    assert segments["区分: 市民"].reach == pytest.approx(5 / 11)


# Pages


def test_staff_compose_preview_send_and_see_reach_through_the_web(client: Client, storage: Storage, town: Town) -> None:
    login(client, "staff@example.jp")
    assert client.get("/staff/notices/new").status_code == 200
    preview = client.get("/staff/notices/count", params={"wards": "sonoda", "roles": "citizen"})
    assert preview.status_code == 200 and "この条件で届く人数: <strong>7人</strong>" in preview.text
    few = client.get("/staff/notices/count", params={"wards": "sonoda", "age_bands": "40-49"})
    assert "5人未満" in few.text and "0人" not in few.text
    three = client.get("/staff/notices/count", params={"roles": "staff"})
    assert "5人未満" in three.text and "2人" not in three.text
    sent = client.submit(
        "/staff/notices",
        {"title": "ひろばのお知らせ", "body": "本文", "link": f"survey:{town.world.survey}", "wards": "sonoda",
         "roles": "citizen", "action": "send"},
    )  # fmt: skip
    assert sent.status_code == 303
    job_url = sent.headers["location"]
    assert job_url.startswith("/staff/notices/jobs/")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        polled = client.get(job_url, headers={"hx-request": "true"})
        if "hx-redirect" in polled.headers:
            break
        time.sleep(0.05)
    notice_url = polled.headers["hx-redirect"]
    assert notice_url.startswith("/staff/notices/") and notice_url.endswith("?sent=1")
    storage.projector.catch_up()
    notice_id = notice_url.split("/")[-1].split("?")[0]
    storage.app.open_notice(town.world.citizen, UUID(notice_id), OpenedHow.INBOX)
    storage.projector.catch_up()
    page = client.get(notice_url)
    assert page.status_code == 200 and 'data-testid="reach">14.3%' in page.text
    listing = client.get("/staff/notices")
    assert listing.status_code == 200 and "ひろばのお知らせ" in listing.text and "14.3%" in listing.text
    assert "<svg" in listing.text and "年度別のリーチ率" in listing.text


def test_a_draft_is_saved_then_sent_from_its_page(client: Client, storage: Storage, town: Town) -> None:
    login(client, "staff@example.jp")
    saved = client.submit("/staff/notices", {"title": "下書き", "body": "本文", "action": "draft"})
    assert saved.status_code == 303
    url = saved.headers["location"]
    assert "届ける相手を選んで送信する" in client.get(url).text
    started = client.submit(f"{url}/send", {"wards": "chuo"})
    assert started.status_code == 303
    notice_id = UUID(url.rsplit("/", 1)[1])
    for _ in range(600):
        job = read.job(storage.db, job_id_of(storage, notice_id))
        if job and job.finished:
            break
        time.sleep(0.05)
    again = client.submit(f"{url}/send", {"wards": "chuo"})
    assert again.status_code == 409


def test_staff_pages_refuse_other_roles_and_departments(client: Client, storage: Storage, town: Town) -> None:
    notice = town.notice()
    job_id = town.send(notice, SONODA)
    login(client, "citizen@example.jp")
    for url in ("/staff/notices", "/staff/notices/new", f"/staff/notices/{notice}", "/staff/notices/count"):
        assert client.get(url).status_code == 403, url
    assert client.submit("/staff/notices", {"title": "t", "body": "b", "action": "draft"}).status_code == 403
    client.post("/logout", headers={"x-csrftoken": client.csrf()})
    login(client, "bousai@example.jp")
    assert client.get(f"/staff/notices/{notice}").status_code == 403
    assert client.get(f"/staff/notices/jobs/{job_id}").status_code == 403
    assert client.submit(f"/staff/notices/{notice}/send", {"wards": "chuo"}).status_code == 403
    assert "子育てひろばのお知らせ" not in client.get("/staff/notices").text
    client.post("/logout", headers={"x-csrftoken": client.csrf()})
    login(client, "admin@example.jp")
    assert client.get(f"/staff/notices/{notice}").status_code == 200


@pytest.mark.parametrize(
    "fields",
    [
        {"title": "", "body": "本文"},
        {"title": "x" * (MAX_TITLE + 1), "body": "本文"},
        {"title": "件名", "body": "本文", "wards": "nowhere"},
        {"title": "件名", "body": "本文", "age_bands": "200-299"},
        {"title": "件名", "body": "本文", "roles": "king"},
        {"title": "件名", "body": "本文", "has_children": "maybe"},
        {"title": "件名", "body": "本文", "follows_goals": "99"},
        {"title": "件名", "body": "本文", "follows_goals": "9" * 5000},
        {"title": "件名", "body": "本文", "follows_departments": "存在しない課"},
        {"title": "件名", "body": "本文", "not_answered_survey_id": "not-a-uuid"},
        {"title": "件名", "body": "本文", "not_answered_survey_id": "00000000-0000-0000-0000-000000000000"},
        {"title": "件名", "body": "本文", "link": "survey:not-a-uuid"},
        {"title": "件名", "body": "本文", "link": "bogus:00000000-0000-0000-0000-000000000000"},
        {"title": "件名", "body": "本文", "link": "survey:00000000-0000-0000-0000-000000000000"},
        {"title": "件名", "body": "本文\x00"},
        {"title": "件名", "body": "本文", "follows_goals": "17"},  # reaches nobody
    ],
)
def test_bad_input_is_422_and_nothing_is_written(
    client: Client, storage: Storage, town: Town, fields: dict[str, str]
) -> None:
    login(client, "staff@example.jp")
    response = client.submit("/staff/notices", {**fields, "action": "send"})
    assert response.status_code == 422, response.text
    assert storage.db.query("SELECT COUNT(*) FROM notices")[0][0] == 0
    storage.projector.catch_up()
    assert read.notices(storage.db) == []


def test_the_live_count_refuses_bad_conditions_with_422(client: Client, town: Town) -> None:
    login(client, "staff@example.jp")
    for params in ({"follows_goals": "0"}, {"wards": "nowhere"}, {"not_answered_survey_id": "x"}):
        assert client.get("/staff/notices/count", params=params).status_code == 422


def test_the_inbox_marks_unread_and_opening_marks_read(client: Client, storage: Storage, town: Town) -> None:
    world = town.world
    notice = town.notice(link_kind=LinkKind.SURVEY, link_id=world.survey)
    town.send(notice, SONODA)
    not_mine = town.notice("中央地区のお知らせ")
    town.send(not_mine, Segment(wards=(Ward.CHUO,)))
    login(client, "citizen@example.jp")
    inbox = client.get("/me/notices")
    assert inbox.status_code == 200 and "未読" in inbox.text and "中央地区のお知らせ" not in inbox.text
    page = client.get(f"/me/notices/{notice}")
    assert page.status_code == 200 and f'href="/surveys/{world.survey}"' in page.text
    assert "アンケートに回答する" in page.text
    assert "未読" not in client.get("/me/notices").text
    assert town.recipients(notice)[str(world.citizen)][2] == "inbox"
    assert client.get(f"/me/notices/{not_mine}").status_code == 404
    assert client.get(f"/me/notices/{uuid4()}").status_code == 404


def test_the_email_link_opens_for_its_recipient_without_signing_in(
    client: Client, storage: Storage, settings: Any, town: Town
) -> None:
    notice = town.notice()
    town.send(notice, SONODA)
    person = town.sonoda[0]
    token = recipient_token(settings.resolved_secret(), MAIL_KIND, str(notice), person)
    page = client.get(f"/me/notices/{notice}", params={"r": token})
    assert page.status_code == 200 and "子育てひろばのお知らせ" in page.text
    assert town.recipients(notice)[str(person)][2] == "email_link"
    assert town.view(notice).opened_by_email == 1
    forged = recipient_token("another-secret", MAIL_KIND, str(notice), town.sonoda[1])
    refused = client.get(f"/me/notices/{notice}", params={"r": forged}, follow_redirects=False)
    assert refused.status_code in (302, 303) and "/login" in refused.headers["location"]
    outsider = recipient_token(settings.resolved_secret(), MAIL_KIND, str(notice), town.chuo[0])
    assert client.get(f"/me/notices/{notice}", params={"r": outsider}, follow_redirects=False).status_code != 200
    assert town.view(notice).opened == 1


# API


def test_api_lists_my_notices_and_marks_one_read_idempotently(client: Client, storage: Storage, town: Town) -> None:
    world = town.world
    notice = town.notice(link_kind=LinkKind.SURVEY, link_id=world.survey)
    town.send(notice, SONODA)
    signed_out = client.get("/api/v1/me/notices")
    assert signed_out.status_code == 401
    assert client.api_post(f"/api/v1/me/notices/{notice}/read", json=None).status_code == 401
    login(client, "citizen@example.jp")
    listed = client.get("/api/v1/me/notices").json()
    assert listed["unread"] == 1
    [item] = listed["notices"]
    assert item["id"] == str(notice) and item["read"] is False and item["link_url"] == f"/surveys/{world.survey}"
    first = client.api_post(f"/api/v1/me/notices/{notice}/read", json=None)
    second = client.api_post(f"/api/v1/me/notices/{notice}/read", json=None)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["newly_read"] is True and second.json()["newly_read"] is False
    assert first.json()["read_at"] == second.json()["read_at"] is not None
    assert client.get("/api/v1/me/notices").json()["unread"] == 0
    missing = client.api_post(f"/api/v1/me/notices/{uuid4()}/read", json=None)
    assert missing.status_code == 404 and missing.json()["status_code"] == 404
    assert client.get("/api/v1/me/notices", params={"limit": "0"}).status_code == 400
    storage.projector.catch_up()
    assert town.view(notice).opened == 1
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert "get" in paths["/api/v1/me/notices"]
    assert "post" in paths["/api/v1/me/notices/{notice_id}/read"]


def test_a_notice_opening_is_one_aggregate_per_person(storage: Storage, town: Town) -> None:
    notice = town.notice()
    town.send(notice, SONODA)
    storage.app.open_notice(town.world.citizen, notice, OpenedHow.INBOX)
    opening = storage.app.repository.get(uuid_of_opening(notice, town.world.citizen))
    assert isinstance(opening, NoticeOpening) and opening.how is OpenedHow.INBOX


def test_attributes_of_recipients_are_only_those_chosen(storage: Storage, town: Town) -> None:
    # A person who changes ward after a send stays a recipient of what they were sent.
    notice = town.notice()
    town.send(notice, SONODA)
    storage.app.change_attributes(town.sonoda[0], Attributes(ward=Ward.CHUO))
    storage.projector.catch_up()
    assert str(town.sonoda[0]) in town.recipients(notice)
    assert read.count_segment(storage.db, SONODA) == 6


def test_the_demo_sends_notices_with_realistic_reach(storage: Storage) -> None:
    from web.demo import LOGINS, load_demo

    load_demo(storage, responses_per_survey=40)  # which sends the notices demo last
    storage.catch_up()
    ids = {}
    for key, email, *_ in LOGINS:
        identity = storage.identities.find_by_email(email)
        assert identity is not None
        ids[key] = identity.participant_id
    found = read.notices(storage.db)
    sent = [n for n in found if n.sent]
    assert len(sent) == 4 and len(found) == 5
    assert all(n.delivered == n.targeted > 0 and 0 < n.opened < n.targeted for n in sent)
    survey_notice = next(n for n in sent if n.acts_counted)
    assert 0 < survey_notice.acted <= survey_notice.opened
    assert sum(r.notices for _, r in read.by_fiscal_year(storage.db)) == 4
    inbox = read.inbox(storage.db, str(ids["citizen"]))
    assert any(i.unread for i in inbox) and any(not i.unread for i in inbox)


@pytest.mark.parametrize("role", [None, Role.CITIZEN, Role.BUSINESS, Role.STAFF, Role.AUDITOR, Role.ADMIN])
def test_no_notice_page_answers_a_server_error(client: Client, storage: Storage, town: Town, role: Role | None) -> None:
    notice = town.notice()
    job_id = town.send(notice, SONODA)
    if role is not None:
        email = f"{role.value}-notices@example.jp"
        department = CHILDCARE if role in (Role.STAFF, Role.ADMIN) else None
        storage.app.sign_up(
            email=email, display_name="x", password_hash=PASSWORD_HASH, role=role, department=department
        )
        login(client, email)
    paths = [
        "/staff/notices", "/staff/notices/new", "/staff/notices/count", f"/staff/notices/{notice}",
        f"/staff/notices/jobs/{job_id}", "/staff/notices/jobs/nope", "/me/notices", f"/me/notices/{notice}",
        f"/me/notices/{notice}?r=garbage", "/api/v1/me/notices",
    ]  # fmt: skip
    statuses = {path: client.get(path, follow_redirects=False).status_code for path in paths}
    assert all(status < 500 for status in statuses.values()), statuses
    if role in (Role.STAFF, Role.ADMIN):
        assert statuses["/staff/notices"] == statuses[f"/staff/notices/{notice}"] == 200
