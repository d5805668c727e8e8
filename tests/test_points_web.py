"""The citizen side of SDGs points over HTTP: my points, claiming venue codes, rewards, transfers, the API."""

import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain import clock
from domain.points_menu import Limit, MenuRule, Trigger
from domain.values import Role
from projections.storage import Storage
from tests.conftest import PASSWORD, PASSWORD_HASH, Client, World
from web.routes.points import BAD_CLAIMS_LIMIT

STAFF_EMAIL = "staff@example.jp"
CITIZEN_EMAIL = "citizen@example.jp"
# The citizen side's paths (the staff and audit pages of points are tested with them).
MY_PREFIXES = ("/points", "/me/points", "/api/v1/me/points", "/api/v1/points", "/api/v1/sdg-menus")


def define_menu(
    storage: Storage,
    world: World,
    *,
    name: str = "地域清掃",
    points: int = 100,
    budget: int = 100_000,
    goals: tuple[int, ...] = (11, 14),
    limit: Limit = Limit.ONCE,
    per_year: int = 1,
    expires_after_days: int | None = None,
    trigger: Trigger = Trigger.VENUE_CODE,
) -> UUID:
    today = clock.city_today()
    rule = MenuRule(
        points=points,
        budget=budget,
        valid_from=today - timedelta(days=30),
        valid_until=today + timedelta(days=300),
        limit=limit,
        per_year=per_year,
        expires_after_days=expires_after_days,
    )
    return storage.app.define_menu(world.staff, name=name, sdg_goals=list(goals), trigger=trigger, rule=rule)


def issue_code(
    storage: Storage, world: World, menu_id: UUID, *, label: str = "市民清掃デー", past: bool = False
) -> str:
    now = clock.now()
    start, end = (
        (now - timedelta(hours=3), now - timedelta(hours=1))
        if past
        else (now - timedelta(hours=1), now + timedelta(hours=2))
    )
    code_id = storage.app.issue_code(world.staff, menu_id, label=label, valid_from=start, valid_until=end)
    return storage.app.code_text(code_id)


def balance(storage: Storage, participant: UUID) -> int:
    account = storage.app.points_account(participant)
    return account.balance(clock.city_today()) if account else 0


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)))


def sign_up(storage: Storage, role: Role, email: str) -> UUID:
    return storage.app.sign_up(
        email=email,
        display_name=role.label,
        password_hash=PASSWORD_HASH,
        role=role,
        department="子育て支援課" if role in (Role.STAFF, Role.ADMIN) else None,
    )


# --- claiming a venue code ------------------------------------------------------------------------


def test_a_code_claimed_through_the_form_awards_once_and_shows_the_points(
    client: Client, storage: Storage, world: World
) -> None:
    code = issue_code(storage, world, define_menu(storage, world, points=120), label="市民清掃デー（園田）")
    client.login(CITIZEN_EMAIL)

    form = client.get(f"/points/claim?code={code}")
    assert form.status_code == 200
    assert f'value="{code}"' in form.text  # what the QR code opens comes filled in

    done = client.submit("/points/claim", {"code": code.lower().replace("-", " ")})
    assert done.status_code == 303 and done.headers["location"].startswith("/points/claims/")
    shown = client.get(done.headers["location"])
    assert shown.status_code == 200
    assert "120ポイントを受け取りました" in text_of(shown.text)
    assert "市民清掃デー（園田）" in shown.text and "地域清掃" in shown.text
    assert balance(storage, world.citizen) == 120

    again = client.submit("/points/claim", {"code": code})
    assert again.status_code == 409
    assert "すでに付与されています" in again.text
    assert balance(storage, world.citizen) == 120


def test_the_claim_api_answers_201_then_409_already_claimed_and_422_for_a_forged_code(
    client: Client, storage: Storage, world: World
) -> None:
    menu = define_menu(storage, world, points=80)
    code = issue_code(storage, world, menu)
    client.login(CITIZEN_EMAIL)

    created = client.api_post("/api/v1/points/claims", {"code": code})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["points"] == 80 and body["menu_id"] == str(menu) and body["menu_name"] == "地域清掃"
    assert body["balance"] == 80 == balance(storage, world.citizen)
    UUID(body["award_id"])

    again = client.api_post("/api/v1/points/claims", {"code": code})
    assert again.status_code == 409
    assert again.json()["error"] == "already_claimed"

    forged = code[:-1] + ("0" if code[-1] != "0" else "1")
    refused = client.api_post("/api/v1/points/claims", {"code": forged})
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["error"] == "invalid_code" and "code" in problem["field_errors"]
    assert balance(storage, world.citizen) == 80


def test_claim_refusals_name_their_reason(client: Client, storage: Storage, world: World) -> None:
    client.login(CITIZEN_EMAIL)
    expired = issue_code(storage, world, define_menu(storage, world, name="講座"), past=True)
    response = client.api_post("/api/v1/points/claims", {"code": expired})
    assert (response.status_code, response.json()["error"]) == (409, "expired")

    small = define_menu(storage, world, name="清掃（予算1回分）", points=100, budget=100)
    (other,) = world.citizens(1)
    storage.app.claim_code(other, issue_code(storage, world, small))
    response = client.api_post("/api/v1/points/claims", {"code": issue_code(storage, world, small)})
    assert (response.status_code, response.json()["error"]) == (409, "over_budget")

    once = define_menu(storage, world, name="スマホ教室", limit=Limit.ONCE)
    first, second = issue_code(storage, world, once), issue_code(storage, world, once)
    assert client.api_post("/api/v1/points/claims", {"code": first}).status_code == 201
    response = client.api_post("/api/v1/points/claims", {"code": second})
    assert (response.status_code, response.json()["error"]) == (409, "over_limit")

    page = client.submit("/points/claim", {"code": expired})
    assert page.status_code == 409 and "有効期間外" in page.text
    page = client.submit("/points/claim", {"code": "ABCD-EFGH-JKMN-PQRS"})
    assert page.status_code == 422 and "コードが正しくありません" in page.text
    assert 'aria-invalid="true"' in page.text


def test_an_anonymous_visitor_signs_in_and_comes_back_to_the_code(
    client: Client, storage: Storage, world: World
) -> None:
    code = issue_code(storage, world, define_menu(storage, world))
    sent = client.get(f"/points/claim?code={code}", follow_redirects=False)
    assert sent.status_code in (302, 303)
    location = sent.headers["location"]
    assert location.startswith("/login?next=")
    login_page = client.get(location)
    assert f"/points/claim?code={code}" in unescape(login_page.text)

    signed = client.submit(
        "/login", {"email": CITIZEN_EMAIL, "password": PASSWORD, "next": f"/points/claim?code={code}"}
    )
    assert signed.status_code == 303 and signed.headers["location"] == f"/points/claim?code={code}"
    assert f'value="{code}"' in client.get(signed.headers["location"]).text


def test_repeated_wrong_codes_pause_claims_even_for_a_valid_code(
    client: Client, storage: Storage, world: World
) -> None:
    code = issue_code(storage, world, define_menu(storage, world))
    client.login(CITIZEN_EMAIL)
    for n in range(BAD_CLAIMS_LIMIT):
        assert client.api_post("/api/v1/points/claims", {"code": f"0000-0000-0000-{n:04d}"}).status_code == 422
    paused = client.api_post("/api/v1/points/claims", {"code": code})
    assert paused.status_code == 429 and "Retry-After" in paused.headers
    assert client.submit("/points/claim", {"code": code}).status_code == 429
    assert balance(storage, world.citizen) == 0


# --- my points ------------------------------------------------------------------------------------


def test_my_points_shows_balance_expiry_history_and_all_17_goals(
    client: Client, storage: Storage, world: World
) -> None:
    cleanup = define_menu(storage, world, name="地域清掃", points=100, goals=(11, 14))
    checkup = define_menu(storage, world, name="健診受診", points=300, goals=(3,), expires_after_days=30)
    storage.app.claim_code(world.citizen, issue_code(storage, world, cleanup, label="河川敷の清掃"))
    checkup_award = storage.app.claim_code(world.citizen, issue_code(storage, world, checkup, label="特定健診"))
    duplicate = define_menu(storage, world, name="重複メニュー", goals=(4,))
    mistaken = storage.app.claim_code(world.citizen, issue_code(storage, world, duplicate))
    storage.app.revoke_award(world.staff, mistaken, "重複登録のため")
    storage.projector.catch_up()
    client.login(CITIZEN_EMAIL)

    page = client.get("/me/points")
    assert page.status_code == 200
    text = text_of(page.text)
    assert re.search(r"\b400 ポイント", text), text[:500]
    assert balance(storage, world.citizen) == 400
    expiry = (clock.city_today() + timedelta(days=30)).strftime("%Y/%m/%d")
    assert f"{expiry} まで: 300 ポイント" in text
    assert "健診受診" in text and "特定健診" in text and "河川敷の清掃" in text
    assert "取り消し" in text and "重複登録のため" in text
    table = page.text.split('data-testid="goals"')[1].split("</table>")[0]
    assert len(re.findall(r'<th scope="row">', table)) == 17
    assert re.search(r"3\. すべての人に健康と福祉を</th><td>300</td><td>1</td>", table)
    assert re.search(r"4\. 質の高い教育をみんなに</th><td>0</td><td>0</td>", table)  # revoked: not counted
    assert "3. すべての人に健康と福祉を: 300" in unescape(page.text)  # the chart's numbers, for screen readers

    api = client.get("/api/v1/me/points").json()
    assert api["balance"] == 400 and api["as_of"] == clock.city_today().isoformat()
    assert api["expiring"] == [{"expires_on": (clock.city_today() + timedelta(days=30)).isoformat(), "points": 300}]
    assert api["expiring_total"] == 300
    assert [g["goal"] for g in api["goals"]] == list(range(1, 18))
    assert {g["goal"]: (g["points"], g["awards"]) for g in api["goals"]}[11] == (100, 1)
    by_id = {h["id"]: h for h in api["history"]}
    assert by_id[str(checkup_award)]["menu_name"] == "健診受診" and by_id[str(checkup_award)]["reason"] == "特定健診"
    assert by_id[str(checkup_award)]["sdg_goals"] == [3] and by_id[str(checkup_award)]["source"] == "code"
    revoked = [h for h in api["history"] if h["revoked"]]
    assert len(revoked) == 1 and revoked[0]["revoke_reason"] == "重複登録のため" and revoked[0]["points_revoked"] == 100


def test_history_pages_through_older_entries(client: Client, storage: Storage, world: World) -> None:
    menu = define_menu(storage, world, limit=Limit.PER_YEAR, per_year=60, points=1)
    for _ in range(55):
        storage.app.claim_code(world.citizen, issue_code(storage, world, menu))
    storage.projector.catch_up()
    client.login(CITIZEN_EMAIL)
    first = client.get("/me/points")
    assert "/me/points?offset=50" in first.text
    older = client.get("/me/points?offset=50")
    assert older.status_code == 200 and "51件目から" in older.text
    partial = client.get("/me/points?offset=50", headers={"hx-request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.text and "51件目から" in partial.text
    api = client.get("/api/v1/me/points?limit=20&offset=40").json()
    assert len(api["history"]) == 15 and api["history_has_more"] is False


# --- rewards and transfers ------------------------------------------------------------------------


def test_redeeming_a_reward_gives_a_voucher_and_refuses_what_the_balance_cannot_pay(
    client: Client, storage: Storage, world: World
) -> None:
    storage.app.claim_code(world.citizen, issue_code(storage, world, define_menu(storage, world, points=300)))
    cheap = storage.app.offer_reward(world.staff, name="コーヒー1杯", partner="喫茶そのだ", points=200, stock=5)
    dear = storage.app.offer_reward(world.staff, name="市民プール回数券", partner="市民プール", points=1000)
    storage.projector.catch_up()
    client.login(CITIZEN_EMAIL)

    listing = client.get("/points/rewards")
    assert listing.status_code == 200
    assert "コーヒー1杯" in listing.text and "喫茶そのだ" in listing.text and "5点" in listing.text
    assert f"/points/rewards/{cheap}/redeem" in listing.text
    assert f"/points/rewards/{dear}/redeem" not in listing.text  # not enough points: no button, a note
    assert "あと700ポイント" in listing.text

    refused = client.submit(f"/points/rewards/{dear}/redeem")
    assert refused.status_code == 409 and "ポイント残高が足りません" in refused.text

    done = client.submit(f"/points/rewards/{cheap}/redeem")
    assert done.status_code == 303 and done.headers["location"].startswith("/points/vouchers/")
    spending = done.headers["location"].rsplit("/", 1)[1]
    voucher = client.get(done.headers["location"])
    assert voucher.status_code == 200
    assert spending.replace("-", "")[:8].upper() in voucher.text and "コーヒー1杯" in voucher.text
    assert balance(storage, world.citizen) == 100

    api = client.api_post("/api/v1/me/points/redemptions", {"reward_id": str(cheap)})
    assert api.status_code == 409 and api.json()["error"] == "insufficient_points"
    history = client.get("/api/v1/me/points").json()["history"]
    assert history[0]["kind"] == "reward" and history[0]["points"] == -200
    assert history[0]["voucher"] == spending.replace("-", "")[:8].upper()
    # Someone else's voucher is nobody's business.
    assert client.get(f"/points/vouchers/{uuid4()}").status_code == 404


def test_the_history_says_what_is_left_of_each_award_as_the_ledger_does(
    client: Client, storage: Storage, world: World
) -> None:
    """What is left of an award is the account's figure: the read model writes an award once."""
    first = storage.app.claim_code(world.citizen, issue_code(storage, world, define_menu(storage, world, points=300)))
    second = storage.app.claim_code(
        world.citizen, issue_code(storage, world, define_menu(storage, world, name="防災訓練", points=100))
    )
    storage.app.redeem_reward(
        world.citizen, storage.app.offer_reward(world.staff, name="コーヒー1杯", partner="喫茶そのだ", points=350)
    )
    storage.projector.catch_up()
    client.login(CITIZEN_EMAIL)

    rows = [text_of(row) for row in re.findall(r"<tr>.*?</tr>", client.get("/me/points").text, flags=re.S)]
    (cleaning,) = [text for text in rows if "地域清掃" in text]
    (drill,) = [text for text in rows if "防災訓練" in text]
    # Both expire on the same day: the older award is spent first.
    assert "使用済み" in cleaning and "残り50ポイント" in drill
    account = storage.app.points_account(world.citizen)
    assert account is not None and account.unspent(first) == 0 and account.unspent(second) == 50

    client.login(STAFF_EMAIL)
    staff = text_of(client.get(f"/staff/points/awards?q={second}").text)
    assert re.search(r"未使用\s*50ポイント", staff)


def test_the_redemption_api_answers_201_and_409_out_of_stock(client: Client, storage: Storage, world: World) -> None:
    menu = define_menu(storage, world, points=500)
    storage.app.claim_code(world.citizen, issue_code(storage, world, menu))
    (other,) = world.citizens(1)
    storage.app.claim_code(other, issue_code(storage, world, menu))
    last = storage.app.offer_reward(world.staff, name="エコバッグ", partner="商店街", points=100, stock=2)
    storage.app.redeem_reward(other, last)
    client.login(CITIZEN_EMAIL)

    created = client.api_post("/api/v1/me/points/redemptions", {"reward_id": str(last)})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["reward_name"] == "エコバッグ" and body["points"] == 100 and body["balance"] == 400
    assert body["voucher"] == body["spending_id"].replace("-", "")[:8].upper()

    gone = client.api_post("/api/v1/me/points/redemptions", {"reward_id": str(last)})
    assert gone.status_code == 409 and gone.json()["error"] == "out_of_stock"
    assert client.api_post("/api/v1/me/points/redemptions", {"reward_id": str(uuid4())}).status_code == 404
    assert balance(storage, world.citizen) == 400


def test_a_transfer_to_the_wallet_is_checked_then_shown_in_the_history(
    client: Client, storage: Storage, world: World
) -> None:
    storage.app.claim_code(world.citizen, issue_code(storage, world, define_menu(storage, world, points=300)))
    client.login(CITIZEN_EMAIL)

    bad = client.submit("/me/points/transfer", {"points": "abc", "wallet_number": "12"})
    assert bad.status_code == 422
    assert "100以上の整数" in bad.text and "8〜16桁" in bad.text
    too_much = client.submit("/me/points/transfer", {"points": "１，０００", "wallet_number": "1234-5678-9012"})
    assert too_much.status_code == 409 and "ポイント残高が足りません" in too_much.text

    done = client.submit("/me/points/transfer", {"points": "２００", "wallet_number": "1234-5678-9012"})
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert (
        "移行を受け付けました" in page.text and "地域通貨ウォレットへ移行" in page.text and "支払処理待ち" in page.text
    )
    assert balance(storage, world.citizen) == 100


# --- public lists, roles, bad input ---------------------------------------------------------------


def test_the_menus_are_public_with_how_to_earn_validity_and_limit(
    client: Client, storage: Storage, world: World
) -> None:
    define_menu(storage, world, name="公共駐輪場利用", points=10, goals=(11, 13), limit=Limit.DAILY)
    define_menu(
        storage,
        world,
        name="市政アンケート回答",
        points=50,
        goals=(16,),
        trigger=Trigger.SURVEY_ANSWERED,
        limit=Limit.PER_YEAR,
        per_year=12,
    )
    shop = sign_up(storage, Role.BUSINESS, "shop@example.jp")
    funder = storage.app.register_organisation(
        shop, kind="corporation", name="株式会社そのだ商店", corporate_number="1180301018771"
    )
    today = clock.city_today()
    funded = MenuRule(points=20, budget=20, valid_from=today, valid_until=today + timedelta(days=10))
    storage.app.define_menu(
        world.staff, name="マイバッグ持参", sdg_goals=[12], trigger=Trigger.VENUE_CODE, rule=funded, funder_id=funder
    )
    storage.projector.catch_up()

    page = client.get("/points/menus")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "公共駐輪場利用" in text and "1日1回" in text and "年度内12回まで" in text
    assert "QRコードを読み取る" in text and "アンケートに回答すると自動で付与" in text
    assert "獲得した年度の末日（3月31日）まで" in text
    assert "協賛: 株式会社そのだ商店" in text
    filtered = text_of(client.get("/points/menus?goal=16").text)
    assert "市政アンケート回答" in filtered and "公共駐輪場利用" not in filtered
    assert client.get("/points/menus?goal=99").status_code == 200

    menus = client.get("/api/v1/sdg-menus").json()
    parking = next(m for m in menus if m["name"] == "公共駐輪場利用")
    assert parking["points"] == 10 and parking["sdg_goals"] == [11, 13] and parking["limit"] == "daily"
    assert parking["accepting"] is True and parking["trigger"] == "venue_code"
    assert [m["name"] for m in client.get("/api/v1/sdg-menus?goal=16").json()] == ["市政アンケート回答"]
    bad = client.get("/api/v1/sdg-menus?goal=1" + "0" * 5000)
    assert bad.status_code == 422 and "goal" in bad.json()["field_errors"]


def test_a_business_account_earns_too(client: Client, storage: Storage, world: World) -> None:
    sign_up(storage, Role.BUSINESS, "shop@example.jp")
    code = issue_code(storage, world, define_menu(storage, world))
    client.login("shop@example.jp")
    assert client.api_post("/api/v1/points/claims", {"code": code}).status_code == 201
    assert client.get("/me/points").status_code == 200
    assert 'href="/me/points">ポイント<' in client.get("/points/menus").text


def test_staff_cannot_claim_and_anonymous_api_calls_are_401(client: Client, storage: Storage, world: World) -> None:
    code = issue_code(storage, world, define_menu(storage, world))
    reward = storage.app.offer_reward(world.staff, name="特典", partner="店", points=1)
    for path in ("/api/v1/me/points",):
        assert client.get(path).status_code == 401
    assert client.api_post("/api/v1/points/claims", {"code": code}).status_code == 401
    assert client.api_post("/api/v1/me/points/redemptions", {"reward_id": str(reward)}).status_code == 401
    assert client.get("/me/points", follow_redirects=False).headers["location"].startswith("/login")

    client.login(STAFF_EMAIL)
    refused = client.api_post("/api/v1/points/claims", {"code": code})
    assert refused.status_code == 403
    assert client.submit("/points/claim", {"code": code}).status_code == 403
    assert client.get("/points/claim").status_code == 403
    assert client.get("/me/points").status_code == 403
    assert client.get("/api/v1/me/points").status_code == 403
    assert client.api_post("/api/v1/me/points/redemptions", {"reward_id": str(reward)}).status_code == 403
    assert 'href="/me/points"' not in client.get("/points/menus").text
    assert storage.app.points_account(world.staff) is None


def test_the_api_checks_csrf_like_every_other_state_change(client: Client, storage: Storage, world: World) -> None:
    code = issue_code(storage, world, define_menu(storage, world))
    client.login(CITIZEN_EMAIL)
    assert client.post("/api/v1/points/claims", json={"code": code}).status_code == 403
    assert balance(storage, world.citizen) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"code": "X" * 100_000},
        {"code": "ポイントください"},
        {"code": ""},
        {"code": "0000-0000-0000-0000-0000"},
        {"code": 123},
        {"code": None},
        {},
        {"code": "ABCD", "extra": 1},
        [],
        "code",
    ],
    ids=range(10),
)
def test_garbage_codes_are_4xx_never_5xx(client: Client, storage: Storage, world: World, body: Any) -> None:
    client.login(CITIZEN_EMAIL)
    response = client.api_post("/api/v1/points/claims", body)
    assert 400 <= response.status_code < 500, response.text
    if isinstance(body, dict) and isinstance(body.get("code"), str) and len(body) == 1:
        assert response.status_code == 422 and response.json()["field_errors"]["code"]


def test_bad_ids_and_parameters_are_4xx_never_5xx(client: Client, storage: Storage, world: World) -> None:
    client.login(CITIZEN_EMAIL)
    answers = {
        "API reward id not a UUID": (client.api_post("/api/v1/me/points/redemptions", {"reward_id": "x"}), 400),
        "API reward id of a survey": (
            client.api_post("/api/v1/me/points/redemptions", {"reward_id": str(world.survey)}),
            404,
        ),
        "page reward id not a UUID": (client.submit("/points/rewards/not-a-uuid/redeem"), 404),
        "page reward unknown": (client.submit(f"/points/rewards/{uuid4()}/redeem"), 404),
        "page huge code": (client.submit("/points/claim", {"code": "Z" * 50_000}), 422),
        "QR link with a huge code": (client.get("/points/claim?code=" + "A" * 5000), 200),
        "award id not a UUID": (client.get("/points/claims/not-a-uuid"), 404),
        "award of nobody": (client.get(f"/points/claims/{uuid4()}"), 404),
        "negative offset": (client.get("/me/points?offset=-1"), 400),
        "huge offset": (client.get("/me/points?offset=" + "9" * 400), 400),
        "API limit 0": (client.get("/api/v1/me/points?limit=0"), 400),
        "API huge limit": (client.get("/api/v1/me/points?limit=" + "9" * 400), 400),
        "huge transfer": (
            client.submit("/me/points/transfer", {"points": "9" * 5000, "wallet_number": "1" * 5000}),
            422,
        ),
    }
    assert {k: r.status_code for k, (r, _) in answers.items()} == {k: s for k, (_, s) in answers.items()}


@pytest.mark.parametrize(
    "role",
    [None, Role.CITIZEN, Role.BUSINESS, Role.STAFF, Role.AUDITOR, Role.ADMIN],
    ids=lambda r: r.value if r else "anonymous",
)
def test_every_points_page_answers_without_a_server_error(
    client: Client, storage: Storage, world: World, role: Role | None
) -> None:
    define_menu(storage, world)
    storage.app.offer_reward(world.staff, name="特典", partner="店", points=10, stock=0)
    storage.projector.catch_up()
    if role is not None:
        sign_up(storage, role, f"{role.value}-points@example.jp")
        client.login(f"{role.value}-points@example.jp")
    paths = [
        route.path
        for route in client.app.routes
        if "{" not in route.path and route.path.startswith(MY_PREFIXES) and "GET" in getattr(route, "methods", ())
    ]
    assert {"/me/points", "/points/claim", "/points/rewards", "/points/menus", "/api/v1/sdg-menus"} <= set(paths)
    failures = {p: r.status_code for p in paths if (r := client.get(p, follow_redirects=False)).status_code >= 500}
    assert failures == {}


def test_the_openapi_document_describes_the_points_api(client: Client) -> None:
    schema = client.get("/schema/openapi.json").json()
    paths = schema["paths"]
    assert "get" in paths["/api/v1/me/points"] and "get" in paths["/api/v1/sdg-menus"]
    claim = paths["/api/v1/points/claims"]["post"]
    assert {"201", "401", "403", "409", "422"} <= set(claim["responses"]) and claim["tags"] == ["v1"]
    assert {"201", "409"} <= set(paths["/api/v1/me/points/redemptions"]["post"]["responses"])


# --- accessibility --------------------------------------------------------------------------------


@pytest.fixture
def browser() -> Iterator[Any]:
    from tests.support.browser import chromium, chromium_missing_reason

    if reason := chromium_missing_reason():
        pytest.skip(reason)
    with chromium() as b:
        yield b


@pytest.mark.browser
# What the browser is given does not depend on the storage engine: SQLite only.
@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("width", [390, 1280])
def test_points_pages_meet_wcag_21_aa(
    browser: Any, settings: Any, storage: Storage, world: World, backend: str, width: int
) -> None:
    from tests.support.browser import serve_in_thread
    from web.app import create_app

    axe = (Path(__file__).parent / "support" / "vendor" / "axe.min.js").read_text()
    menu = define_menu(storage, world, points=300, expires_after_days=20)
    award = storage.app.claim_code(world.citizen, issue_code(storage, world, menu))
    reward = storage.app.offer_reward(world.staff, name="コーヒー1杯", partner="喫茶そのだ", points=100, stock=3)
    storage.app.offer_reward(world.staff, name="回数券", partner="市民プール", points=1000)
    spending = storage.app.redeem_reward(world.citizen, reward)
    code = issue_code(storage, world, define_menu(storage, world, name="スマホ教室", points=50))
    storage.projector.catch_up()
    with serve_in_thread(create_app(settings, storage)) as base:
        context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        page = context.new_page()
        found: dict[str, list[str]] = {}

        def check(label: str) -> None:
            page.add_script_tag(content=axe)
            result = page.evaluate(
                "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})",
                ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"],
            )
            if result["violations"]:
                found[label] = [f"{v['id']}: {v['nodes'][0]['html'][:120]}" for v in result["violations"]]

        for url in ("/points/menus", "/points/rewards"):
            page.goto(base + url)
            check(url)
        page.goto(base + "/login")
        page.get_by_label("メールアドレス").fill(CITIZEN_EMAIL)
        page.get_by_label("パスワード").fill(PASSWORD)
        page.get_by_role("button", name="ログイン").click()
        for url in (
            "/me/points",
            f"/points/claims/{award}",
            f"/points/vouchers/{spending}",
            "/points/rewards",
            "/points/claim",
        ):
            page.goto(base + url)
            check(url)
        page.get_by_label("会場コード（16文字）").fill("ABCD-EFGH-JKMN-PQRS")
        page.get_by_role("button", name="ポイントを受け取る").click()
        page.wait_for_selector("#form-message")
        check("claim refused")
        page.goto(base + "/me/points")
        page.get_by_role("button", name="ウォレットへの移行を申し込む").click()
        page.wait_for_selector("#form-message")
        check("transfer refused")
        page.goto(base + f"/points/claim?code={code}")
        page.get_by_role("button", name="ポイントを受け取る").click()
        page.wait_for_url("**/points/claims/*")
        assert "50ポイントを受け取りました" in page.inner_text("h1")
        context.close()
    assert not found, found
