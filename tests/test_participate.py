"""「参加する」: open surveys, ideas to support and open challenges in one place, filtered by
department and SDG goal; and staff's theme analysis over their department's ideas."""

from datetime import timedelta

from domain import clock
from domain.themes import AnalysisModel, ThemeNode, ThemeQuote, ideas_corpus
from domain.values import Role
from projections.storage import Storage
from tests.conftest import PASSWORD_HASH, Client, World


def idea(storage: Storage, author: object, title: str, department: str, goals: list[int]) -> object:
    return storage.app.submit_idea(
        author,  # type: ignore[arg-type]
        title=title,
        body=f"{title}についての提案です。",
        department=department,
        sdg_goals=goals,
    )


def test_one_page_lists_what_each_person_can_take_part_in(client: Client, world: World, storage: Storage) -> None:
    app = storage.app
    idea(storage, world.citizen, "公園に木陰を", "子育て支援課", [11])
    idea(storage, world.citizen, "避難所の地図", "危機管理課", [11, 13])
    challenge = app.draft_challenge(
        staff_id=world.staff,
        title="子育て情報の一元化",
        background="情報がばらばら",
        shareable_data="施設一覧",
        outcomes="一つのアプリ",
        sdg_goals=[3, 4],
        deadline=clock.city_today() + timedelta(days=30),
    )
    app.publish_challenge(challenge, staff_id=world.staff)
    storage.projector.catch_up()

    anonymous = client.get("/participate").text
    for title in ("子育てアンケート", "公園に木陰を", "避難所の地図", "子育て情報の一元化"):
        assert title in anonymous
    by_goal = client.get("/participate", params={"goal": "13"}).text
    assert "避難所の地図" in by_goal and "公園に木陰を" not in by_goal and "子育て情報の一元化" not in by_goal
    assert "子育てアンケート" not in by_goal and "目標で絞り込むと表示されません" in by_goal
    by_department = client.get("/participate", params={"department": "危機管理課"}).text
    assert "避難所の地図" in by_department and "子育てアンケート" not in by_department
    client.login("citizen@example.jp")
    citizen = client.get("/participate", headers={"hx-request": "true"})
    assert citizen.status_code == 200 and not citizen.text.lstrip().startswith("<!doctype")
    assert "子育て情報の一元化" not in citizen.text  # challenges are for businesses
    assert client.get("/participate", params={"goal": "99", "department": "x" * 500}).status_code == 200


def test_staff_analyse_their_own_department_s_ideas(client: Client, world: World, storage: Storage) -> None:
    app = storage.app
    ideas = [idea(storage, world.citizen, f"公園の提案{i}", "子育て支援課", [11]) for i in range(3)]
    storage.projector.catch_up()
    analysis = app.record_theme_analysis(
        corpus=ideas_corpus("子育て支援課"),
        staff_id=world.staff,
        input_ids=[str(i) for i in ideas],
        model=AnalysisModel(name="test", version="1", dim=2),
        params={"k_chosen": 1},
        seed=0,
        themes=[
            ThemeNode(
                id="t1",
                label="公園",
                keywords=["公園"],
                size=3,
                members=[str(i) for i in ideas],
                quotes=[ThemeQuote(id=str(ideas[0]))],
            )
        ],
    )
    storage.projector.catch_up()
    client.login("staff@example.jp")
    home = client.get("/staff/ideas/themes")
    assert home.status_code == 200 and "3 件" in home.text and f"/staff/themes/{analysis}" in home.text
    page = client.get(f"/staff/themes/{analysis}")
    assert page.status_code == 200 and "市民の提案のテーマ" in page.text and "公園の提案0" in page.text
    storage.app.sign_up(
        email="kiki@example.jp",
        display_name="危機",
        password_hash=PASSWORD_HASH,
        role=Role.STAFF,
        department="危機管理課",
    )
    client.login("kiki@example.jp")
    assert client.get(f"/staff/themes/{analysis}").status_code == 403
    assert client.get("/staff/ideas/themes", params={"department": "子育て支援課"}).status_code == 403
    assert client.get("/staff/ideas/themes").status_code == 200  # their own department's


def test_staff_analyse_the_proposal_summaries_their_department_handles(
    client: Client, world: World, storage: Storage
) -> None:
    client.login("staff@example.jp")
    home = client.get("/staff/proposals/themes")
    assert home.status_code == 200 and "事業者提案の概要のテーマ分析" in home.text and "（0 件）" in home.text
    refused = client.submit("/staff/proposals/themes", {"department": "危機管理課"})
    assert refused.status_code == 403
    bad_k = client.submit("/staff/proposals/themes", {"department": "子育て支援課", "k": "99"})
    assert bad_k.status_code == 422 and "1〜30" in bad_k.text
    assert client.get("/staff/proposals/themes", params={"department": "危機管理課"}).status_code == 403


def test_a_hostile_goal_number_is_refused_not_a_server_error(client: Client, world: World) -> None:
    huge = "9" * 5000  # int() of this raises in Python 3.11 before any range check
    assert client.get("/participate", params={"goal": huge}).status_code == 200
    assert client.get("/ideas", params={"goal": huge}).status_code < 500
    assert client.get("/api/v1/ideas", params={"goal": huge}).status_code == 422
    client.login("citizen@example.jp")
    created = client.submit("/ideas", {"title": "題", "body": "本文", "department": "子育て・教育", "sdg_goals": huge})
    assert created.status_code == 422
