"""What a person follows and their consent to e-mail: the rules, the `participants` read model on
both engines, the outbox's enqueue, the settings page and the one-click unsubscribe page."""

from uuid import UUID, uuid4

import pytest

from domain.errors import InvalidCommand, NotAllowed
from domain.participant import Participant
from domain.preference_commands import EMAIL_CONSENT_VERSION
from domain.values import AgeBand, Attributes, Role, Ward
from projections.mail_outbox import enqueue
from projections.participants import goal_bits, goals_of
from projections.personal_data import personal_data
from projections.storage import Storage
from tests.conftest import PASSWORD, PASSWORD_HASH, Client, World
from web.mailer import unsubscribe_token

ROW = (
    "SELECT role, department, ward, age_band, has_children, erased, follows_goals, follows_departments,"
    " email_opt_in, registered_at FROM participants WHERE participant_id = ?"
)


def events_of(storage: Storage, participant_id: UUID) -> list[object]:
    return list(storage.app.events.get(participant_id))


# The rules, in the aggregate


def test_follows_are_sorted_deduplicated_and_recorded_only_when_changed() -> None:
    p = Participant.register(Role.CITIZEN, None, Attributes())
    p.change_follows([13, 3, 11], ["防災課", "防災課 ", "子育て支援課"])
    assert p.follows_goals == [3, 11, 13]
    assert p.follows_departments == ["防災課", "子育て支援課"]
    pending = len(p.collect_events())
    p.change_follows([11, 3, 13], ["防災課", "子育て支援課"])
    assert pending == 2 and p.collect_events() == []


@pytest.mark.parametrize(
    ("goals", "departments", "field"),
    [
        ([0], [], "goals"),
        ([18], [], "goals"),
        ([3, 3], [], "goals"),
        ([True], [], "goals"),
        ([], ["存在しない課"], "departments"),
        ([], [""], "departments"),
        ([], ["防災課\x00"], "departments"),
        ([], ["防災課\n子育て支援課"], "departments"),
        ([], [f"課{n}" for n in range(31)], "departments"),
    ],
)
def test_follows_out_of_bounds_are_refused_with_the_field(goals: list, departments: list, field: str) -> None:
    p = Participant.register(Role.CITIZEN, None, Attributes())
    known = ["防災課", "子育て支援課", "防災課\n子育て支援課", *(f"課{n}" for n in range(31))]
    with pytest.raises(InvalidCommand) as refused:
        p.change_follows(goals, departments, known if field == "departments" and departments != [""] else None)
    assert field in refused.value.field_errors
    assert p.follows_goals == [] and p.follows_departments == []


def test_email_consent_is_given_once_withdrawn_once_and_names_how() -> None:
    p = Participant.register(Role.CITIZEN, None, Attributes())
    p.collect_events()
    p.withdraw_email_consent("unsubscribe_link")  # nothing to withdraw: no event
    p.give_email_consent(EMAIL_CONSENT_VERSION)
    p.give_email_consent(EMAIL_CONSENT_VERSION)
    p.withdraw_email_consent("unsubscribe_link")
    p.withdraw_email_consent("unsubscribe_link")
    events = p.collect_events()
    assert [type(e).__name__ for e in events] == ["EmailConsentGiven", "EmailConsentWithdrawn"]
    assert events[0].how == "settings" and events[0].wording_version == EMAIL_CONSENT_VERSION
    assert events[1].how == "unsubscribe_link"
    with pytest.raises(InvalidCommand):
        p.withdraw_email_consent("by_phone")
    with pytest.raises(InvalidCommand):
        p.give_email_consent(EMAIL_CONSENT_VERSION, "unsubscribe_link")


def test_an_erased_participant_cannot_follow_or_consent_and_loses_both() -> None:
    p = Participant.register(Role.CITIZEN, None, Attributes())
    p.change_follows([3], [])
    p.give_email_consent(EMAIL_CONSENT_VERSION)
    p.erase()
    assert p.follows_goals == [] and not p.email_opt_in
    with pytest.raises(NotAllowed):
        p.change_follows([4], [])
    with pytest.raises(NotAllowed):
        p.give_email_consent(EMAIL_CONSENT_VERSION)
    p.withdraw_email_consent("unsubscribe_link")  # an old link clicked after erasure: harmless


def test_goal_bits_round_trip() -> None:
    assert goal_bits([1, 17]) == (1 << 1) | (1 << 17)
    assert goals_of(goal_bits([1, 5, 17])) == [1, 5, 17]


# The read model, on both engines


def test_participants_read_model_follows_every_participant_event(storage: Storage) -> None:
    app = storage.app
    citizen = app.register_participant(
        Role.CITIZEN, attributes=Attributes(ward=Ward.SONODA, age_band=AgeBand.AGE_30S, has_children=True)
    )
    staff = app.register_participant(Role.STAFF, "防災課")
    storage.projector.catch_up()
    row = storage.db.query_one(ROW, (str(citizen),))
    assert row is not None and row[:9] == ("citizen", None, "sonoda", "30-39", 1, 0, 0, "", 0)
    assert row[9].startswith("20")
    assert storage.db.query_one(ROW, (str(staff),))[:3] == ("staff", "防災課", None)  # type: ignore[index]

    app.set_follows(citizen, goals=[4, 1], departments=["防災課", "子育て支援課"])
    app.give_email_consent(citizen)
    app.change_attributes(citizen, Attributes(ward=Ward.ODA, has_children=False))
    app.change_role(staff, Role.ADMIN, "情報政策課")
    storage.projector.catch_up()
    assert storage.db.query_one(ROW, (str(citizen),))[:9] == (  # type: ignore[index]
        "citizen",
        None,
        "oda",
        None,
        0,
        0,
        (1 << 1) | (1 << 4),
        "防災課\n子育て支援課",
        1,
    )
    assert storage.db.query_one(ROW, (str(staff),))[:2] == ("admin", "情報政策課")  # type: ignore[index]

    app.withdraw_email_consent(citizen, how="unsubscribe_link")
    storage.projector.catch_up()
    assert storage.db.query_one(ROW, (str(citizen),))[8] == 0  # type: ignore[index]

    app.give_email_consent(citizen)
    storage.erase(citizen)
    row = storage.db.query_one(ROW, (str(citizen),))
    assert row is not None and row[:9] == ("citizen", None, None, None, None, 1, 0, "", 0)

    before = storage.db.query("SELECT * FROM participants ORDER BY participant_id")
    storage.projector.rebuild()
    assert storage.db.query("SELECT * FROM participants ORDER BY participant_id") == before


def test_participants_read_model_folds_a_batch_of_many_people_with_one_write(storage: Storage) -> None:
    ids = [storage.app.register_participant(Role.CITIZEN, attributes=Attributes(ward=Ward.MUKO)) for _ in range(30)]
    for pid in ids[:10]:
        storage.app.give_email_consent(pid)
    storage.projector.catch_up()
    for pid in ids[10:20]:
        storage.app.give_email_consent(pid)
    for pid in ids[:5]:
        storage.app.withdraw_email_consent(pid)
    storage.projector.catch_up()
    assert storage.db.query_one("SELECT COUNT(*) FROM participants WHERE ward = 'muko'") == (30,)
    assert storage.db.query_one("SELECT COUNT(*) FROM participants WHERE email_opt_in = 1") == (15,)


def test_enqueue_queues_only_people_who_opted_in_and_never_twice(storage: Storage) -> None:
    yes, no, gone = (storage.app.register_participant(Role.CITIZEN) for _ in range(3))
    storage.app.give_email_consent(yes)
    storage.app.give_email_consent(gone)
    storage.app.erase_participant(gone)
    storage.projector.catch_up()
    recipients = [str(yes), str(no), str(gone), str(uuid4())]
    fields = {"kind": "notice", "reference": "n-1", "subject": "件名", "body": "本文", "link": "/notices/n-1"}
    with storage.db.transaction() as cur:
        assert enqueue(cur, recipients=recipients, **fields) == 1
    with storage.db.transaction() as cur:
        assert enqueue(cur, recipients=recipients, **fields) == 0
    rows = storage.db.query("SELECT kind, reference, participant_id, status, attempts FROM mail_outbox")
    assert rows == [("notice", "n-1", str(yes), "queued", 0)]
    assert storage.db.query("SELECT subject, body, link FROM mail_messages") == [("件名", "本文", "/notices/n-1")]
    # A rebuild of the read models leaves the outbox alone: nothing is queued (or sent) again.
    storage.projector.rebuild()
    assert len(storage.db.query("SELECT * FROM mail_outbox")) == 1


def test_enqueue_rolls_back_with_the_callers_transaction(storage: Storage) -> None:
    pid = storage.app.register_participant(Role.CITIZEN)
    storage.app.give_email_consent(pid)
    storage.projector.catch_up()
    with pytest.raises(RuntimeError), storage.db.transaction() as cur:
        enqueue(cur, kind="notice", reference="n-2", recipients=[str(pid)], subject="s", body="b", link="")
        raise RuntimeError("the caller failed")
    assert storage.db.query("SELECT * FROM mail_outbox") == []
    assert storage.db.query("SELECT * FROM mail_messages") == []


# The pages


def _post_preferences(client: Client, **form: object) -> object:
    return client.submit("/me/preferences", form)  # type: ignore[arg-type]


def test_preferences_page_saves_follows_and_consent_as_events(client: Client, world: World, storage: Storage) -> None:
    client.login("citizen@example.jp", PASSWORD)
    page = client.get("/me/preferences")
    assert page.status_code == 200
    assert "フォローするSDGsの目標" in page.text and "子育て支援課" in page.text
    assert EMAIL_CONSENT_VERSION in page.text and 'name="email"' in page.text

    response = client.submit("/me/preferences", {"goals": ["3", "11"], "departments": ["子育て支援課"], "email": "on"})
    assert response.status_code == 303 and response.headers["location"] == "/me/preferences?saved=1"
    participant = storage.app.get_participant(world.citizen)
    assert participant.follows_goals == [3, 11] and participant.follows_departments == ["子育て支援課"]
    assert participant.email_opt_in
    given = [e for e in events_of(storage, world.citizen) if isinstance(e, Participant.EmailConsentGiven)]
    assert len(given) == 1 and given[0].how == "settings"
    page = client.get("/me/preferences?saved=1")
    assert "保存しました" in page.text and 'value="11" checked' in page.text

    response = client.submit("/me/preferences", {"goals": ["3", "11"], "departments": ["子育て支援課"]})
    assert response.status_code == 303
    withdrawn = [e for e in events_of(storage, world.citizen) if isinstance(e, Participant.EmailConsentWithdrawn)]
    assert len(withdrawn) == 1 and withdrawn[0].how == "settings"
    assert not storage.app.get_participant(world.citizen).email_opt_in


@pytest.mark.parametrize(
    ("form", "field"),
    [({"goals": ["18"]}, "SDGsの目標"), ({"goals": ["x"]}, "SDGsの目標"), ({"departments": ["架空課"]}, "部署")],
)
def test_preferences_page_refuses_what_is_not_on_the_lists(
    client: Client, world: World, storage: Storage, form: dict, field: str
) -> None:
    client.login("citizen@example.jp", PASSWORD)
    response = client.submit("/me/preferences", {**form, "email": "on"})
    assert response.status_code == 422 and field in response.text and "error-" in response.text
    participant = storage.app.get_participant(world.citizen)
    assert participant.follows_goals == [] and participant.follows_departments == [] and not participant.email_opt_in


def test_preferences_need_sign_in_and_csrf(client: Client, world: World, storage: Storage) -> None:
    assert client.get("/me/preferences", follow_redirects=False).status_code in (302, 303, 307)
    client.login("citizen@example.jp", PASSWORD)
    response = client.post("/me/preferences", data={"goals": "3"}, follow_redirects=False)
    assert response.status_code == 403
    assert storage.app.get_participant(world.citizen).follows_goals == []


def test_unsubscribe_link_asks_on_get_and_withdraws_on_post_without_csrf(
    client: Client, world: World, storage: Storage, settings: object
) -> None:
    storage.app.give_email_consent(world.citizen)
    token = unsubscribe_token("test-secret", world.citizen)
    page = client.get(f"/unsubscribe?token={token}")
    assert page.status_code == 200 and "メール配信を停止する" in page.text
    assert storage.app.get_participant(world.citizen).email_opt_in  # a link preview must not unsubscribe

    # As a mail client sends it (RFC 8058): no cookie, no CSRF token, the one-click body.
    client.cookies.clear()
    done = client.post(f"/unsubscribe?token={token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "停止しました" in done.text
    assert not storage.app.get_participant(world.citizen).email_opt_in
    withdrawn = [e for e in events_of(storage, world.citizen) if isinstance(e, Participant.EmailConsentWithdrawn)]
    assert [e.how for e in withdrawn] == ["unsubscribe_link"]
    assert client.post(f"/unsubscribe?token={token}").status_code == 200  # a second click is harmless
    assert "停止しました" in client.get(f"/unsubscribe?token={token}").text


@pytest.mark.parametrize(
    "token",
    [
        "",
        "nonsense",
        "0" * 32 + "." + "A" * 24,
        "%E3%81%82" * 5,
        "ZZZZ" * 8 + "." + "A" * 24,
    ],
)
def test_bad_or_forged_unsubscribe_tokens_are_a_400_page(
    client: Client, world: World, storage: Storage, token: str
) -> None:
    storage.app.give_email_consent(world.citizen)
    for response in (client.get(f"/unsubscribe?token={token}"), client.post(f"/unsubscribe?token={token}")):
        assert response.status_code == 400 and "配信停止のリンクが正しくありません" in response.text
    assert storage.app.get_participant(world.citizen).email_opt_in


def test_a_token_signed_with_another_secret_or_for_another_person_is_refused(
    client: Client, world: World, storage: Storage
) -> None:
    storage.app.give_email_consent(world.citizen)
    forged = unsubscribe_token("another-secret", world.citizen)
    mac = unsubscribe_token("test-secret", world.staff).split(".")[1]
    swapped = f"{world.citizen.hex}.{mac}"
    for token in (forged, swapped):
        assert client.post(f"/unsubscribe?token={token}").status_code == 400
    assert storage.app.get_participant(world.citizen).email_opt_in


def test_a_valid_token_for_nobody_known_is_a_400_not_a_500(client: Client, world: World) -> None:
    token = unsubscribe_token("test-secret", uuid4())
    assert client.post(f"/unsubscribe?token={token}").status_code == 400


def test_staff_mail_page_says_that_email_is_not_configured(client: Client, world: World, storage: Storage) -> None:
    client.login("citizen@example.jp", PASSWORD)
    assert client.get("/staff/mail").status_code == 403
    client.login("staff@example.jp", PASSWORD)
    page = client.get("/staff/mail")
    assert page.status_code == 200 and "KYOSO_SMTP_URL が設定されていない" in page.text


def test_personal_data_lists_follows_and_email_consent(storage: Storage) -> None:
    pid = storage.app.sign_up(email="p@example.jp", display_name="P", password_hash=PASSWORD_HASH)
    storage.app.set_follows(pid, goals=[7], departments=["環境政策課"])
    storage.app.give_email_consent(pid)
    data = personal_data(storage, pid)
    assert data.follows_goals == [7] and data.follows_departments == ["環境政策課"] and data.email_opt_in


@pytest.mark.parametrize("role", [Role.CITIZEN, Role.BUSINESS, Role.STAFF, Role.AUDITOR, Role.ADMIN])
def test_every_role_can_open_and_save_preferences(client: Client, world: World, storage: Storage, role: Role) -> None:
    department = "防災課" if role in (Role.STAFF, Role.ADMIN) else None
    pid = storage.app.sign_up(
        email="someone@example.jp", display_name="誰か", password_hash=PASSWORD_HASH, role=role, department=department
    )
    storage.projector.catch_up()
    client.login("someone@example.jp", PASSWORD)
    assert client.get("/me/preferences").status_code == 200
    assert client.submit("/me/preferences", {"goals": "13", "departments": "子育て支援課"}).status_code == 303
    assert storage.app.get_participant(pid).follows_departments == ["子育て支援課"]
