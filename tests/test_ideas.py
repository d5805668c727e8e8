"""Citizens' ideas end to end on both engines: projection, Japanese search, erasure, pages, API and
concurrent supports."""

from typing import Any
from uuid import UUID

from domain.idea import Idea
from domain.personal_data import unseal
from domain.values import Role
from projections.idea_list import Filters, IdeaList
from projections.storage import Storage
from tests.conftest import PASSWORD_HASH, Client, World
from tests.support.threads import run_in_threads

PARK = "子育て支援課"
PEOPLE = int(__import__("os").environ.get("IDEA_PEOPLE", "50"))


def submit(storage: Storage, author: UUID, title: str, body: str = "本文です。", **kwargs: Any) -> UUID:
    kwargs.setdefault("department", PARK)
    return storage.app.submit_idea(author, title=title, body=body, **kwargs)


def titles(storage: Storage, **filters: Any) -> list[str]:
    return [i.title for i in IdeaList(storage.db).page(Filters(**filters), limit=100).items]


def test_texts_are_sealed_in_events_and_opened_by_the_projection(storage: Storage, world: World) -> None:
    idea_id = submit(storage, world.citizen, "田中さんの家の前の公園", "個人名を含む本文")
    idea: Idea = storage.app.get_idea(idea_id)
    assert b"\xe5\x85\xac\xe5\x9c\x92" not in idea.title  # 公園 in UTF-8: not in plain view
    assert storage.app.read_idea_texts(idea) == ("田中さんの家の前の公園", "個人名を含む本文")
    key = storage.app.keys.existing_key(world.citizen)
    assert unseal(key, idea.body, f"idea/{idea_id}/title") is None  # bound to its place
    storage.projector.catch_up()
    detail = IdeaList(storage.db).idea(str(idea_id))
    assert detail is not None and detail.title == "田中さんの家の前の公園"


def test_japanese_search_two_characters_one_character_and_width(storage: Storage, world: World) -> None:
    submit(storage, world.citizen, "近所の公園にベンチを", "木陰もほしい", sdg_goals=[11], ward="chuo")
    submit(storage, world.citizen, "防災アプリを作ってほしい", "ハザードマップをスマホで", sdg_goals=[13])
    submit(storage, world.citizen, "商店街の活性化", "空き店舗を公園のような広場に")
    submit(storage, world.citizen, "公共交通", "バスの本数")
    storage.projector.catch_up()
    assert sorted(titles(storage, q="公園")) == ["商店街の活性化", "近所の公園にベンチを"]
    assert titles(storage, q="公園 ベンチ") == ["近所の公園にベンチを"]
    assert titles(storage, q="園に") == ["近所の公園にベンチを"]
    assert sorted(titles(storage, q="公")) == ["公共交通", "商店街の活性化", "近所の公園にベンチを"]
    assert titles(storage, q="ｱﾌﾟﾘ") == ["防災アプリを作ってほしい"]  # half-width katakana
    assert titles(storage, q="公バ") == []  # both bigram-less neighbours: no false positive
    assert titles(storage, q="100%_") == []
    assert titles(storage, q="公園", goal=11, ward="chuo") == ["近所の公園にベンチを"]


def test_filters_sorts_paging_and_withdrawn_ideas(storage: Storage, world: World) -> None:
    app = storage.app
    first = submit(storage, world.citizen, "一つ目")
    second = submit(storage, world.citizen, "二つ目", department="防災・安全")
    third = submit(storage, world.citizen, "三つ目")
    for person in world.citizens(3):
        app.support_idea(first, person)
    app.change_idea_status(third, staff_id=world.staff, status="considering")
    app.draft_idea_answer(third, staff_id=world.staff, answer="検討します")
    app.publish_idea_answer(third, staff_id=world.staff)
    app.withdraw_idea(second, world.citizen)
    storage.projector.catch_up()
    assert titles(storage) == ["三つ目", "一つ目"]
    assert titles(storage, sort="supported")[0] == "一つ目"
    assert titles(storage, sort="answered") == ["三つ目"]
    assert titles(storage, status="considering") == ["三つ目"]
    assert titles(storage, department="防災・安全") == []
    page = IdeaList(storage.db).page(Filters(), limit=1)
    assert page.has_more and len(page.items) == 1
    assert not IdeaList(storage.db).page(Filters(), limit=1, offset=1).has_more


def test_supports_are_idempotent_and_counted(storage: Storage, world: World) -> None:
    app = storage.app
    idea_id = submit(storage, world.citizen, "公園")
    fan = world.citizens(1)[0]
    assert app.support_idea(idea_id, fan) is True
    assert app.support_idea(idea_id, fan) is False
    assert app.withdraw_support(idea_id, world.staff) is False  # never given: nothing
    assert app.support_idea(idea_id, world.staff) is True
    assert app.withdraw_support(idea_id, fan) is True
    assert app.withdraw_support(idea_id, fan) is False
    storage.projector.catch_up()
    assert IdeaList(storage.db).idea(str(idea_id)).support_count == 1  # type: ignore[union-attr]
    assert storage.projector.rebuild() > 0
    assert IdeaList(storage.db).idea(str(idea_id)).support_count == 1  # type: ignore[union-attr]


def test_fifty_people_supporting_at_once_count_fifty_and_one_person_twice_counts_one(
    storage: Storage, world: World
) -> None:
    app = storage.app
    idea_id = submit(storage, world.citizen, "同時に賛同される提案")
    people = world.citizens(50)
    assert run_in_threads([lambda p=p: app.support_idea(idea_id, p) for p in people]) == []
    twice = world.citizens(1)[0]
    results: list[bool] = []
    assert run_in_threads([lambda: results.append(app.support_idea(idea_id, twice)) for _ in range(2)]) == []
    assert sorted(results) == [False, True]
    storage.projector.catch_up()
    assert IdeaList(storage.db).idea(str(idea_id)).support_count == 51  # type: ignore[union-attr]


def test_comments_replies_and_hiding_keep_the_history(storage: Storage, world: World) -> None:
    app = storage.app
    idea_id = submit(storage, world.citizen, "公園")
    reader = world.citizens(1)[0]
    top = app.post_comment(idea_id, reader, "賛成です")
    app.post_comment(idea_id, world.citizen, "ありがとうございます", parent_id=top)
    app.report_comment(top, world.citizen)
    app.hide_comment(top, moderator_id=world.staff, reason="個人名が含まれていたため")
    storage.projector.catch_up()
    comments = IdeaList(storage.db).comments(str(idea_id))
    assert len(comments) == 1 and comments[0].hidden and comments[0].text is None
    assert comments[0].hidden_reason == "個人名が含まれていたため" and comments[0].report_count == 1
    assert [r.text for r in comments[0].replies] == ["ありがとうございます"]
    assert IdeaList(storage.db).idea(str(idea_id)).comment_count == 1  # type: ignore[union-attr]
    row = storage.db.query_one("SELECT text, hidden_at, hidden_by FROM idea_comments WHERE comment_id = ?", (str(top),))
    assert row is not None and row[0] == "賛成です" and row[1] and row[2] == str(world.staff)


def test_erasure_removes_the_words_and_the_search_entries(storage: Storage, world: World) -> None:
    app = storage.app
    idea_id = submit(storage, world.citizen, "公園の提案", "近所の公園")
    other = world.citizens(1)[0]
    app.post_comment(idea_id, world.citizen, "自分でコメント")
    app.support_idea(idea_id, other)
    storage.projector.catch_up()
    storage.erase(world.citizen)
    detail = IdeaList(storage.db).idea(str(idea_id))
    assert detail is not None and detail.title == "（削除済み）" and detail.body == "（削除済み）"
    assert detail.support_count == 1
    assert titles(storage, q="公園") == [] and titles(storage, q="公") == []
    assert storage.db.query("SELECT 1 FROM idea_grams WHERE idea_id = ?", (str(idea_id),)) == []
    assert [c.erased for c in IdeaList(storage.db).comments(str(idea_id))] == [True]
    storage.projector.rebuild()
    assert IdeaList(storage.db).idea(str(idea_id)).title == "（削除済み）"  # type: ignore[union-attr]


# --- pages --------------------------------------------------------------------------------------


def form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "公園にベンチを",
        "body": "近所の公園に木陰とベンチがほしい",
        "department": PARK,
        "sdg_goals": ["3", "11"],
        "ward": "chuo",
    }
    data.update(overrides)
    return data


def test_pages_submit_edit_support_comment_and_staff_answer(client: Client, storage: Storage, world: World) -> None:
    assert client.get("/ideas").status_code == 200
    assert client.get("/ideas/new", follow_redirects=False).status_code in (302, 303, 307)
    client.login("citizen@example.jp")
    bad = client.submit("/ideas", form(title="", department="架空の課"))
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    created = client.submit("/ideas", form())
    assert created.status_code == 303
    url = created.headers["location"]
    idea_id = url.rsplit("/", 1)[1]
    page = client.get(url)
    assert page.status_code == 200 and "公園にベンチを" in page.text and "編集する" in page.text
    assert "公園にベンチを" in client.get("/ideas?q=公園").text
    partial = client.get("/ideas?q=公園", headers={"hx-request": "true"})
    assert "<html" not in partial.text and "公園にベンチを" in partial.text
    assert client.submit(f"{url}/edit", form(title="公園にベンチと木陰を")).status_code == 303
    assert client.submit(f"{url}/comments", {"text": "補足です"}).status_code == 303
    client.submit("/logout")

    client.login("staff@example.jp")
    assert client.get("/ideas/new").status_code == 403  # staff may not submit as citizens
    assert "公園にベンチと木陰を" in client.get("/staff/ideas").text
    assert client.submit(f"/staff/ideas/{idea_id}/answer", {"answer": "来年度に検討します"}).status_code == 303
    assert "来年度に検討します" not in client.get(url).text  # the draft stays private
    declined = client.submit(f"/staff/ideas/{idea_id}/status", {"status": "declined", "reason": ""})
    assert declined.status_code == 422 and "理由" in declined.text
    assert client.submit(f"/staff/ideas/{idea_id}/publish").status_code == 303
    assert client.submit(f"/staff/ideas/{idea_id}/status", {"status": "considering"}).status_code == 303
    assert client.submit(f"{url}/support", {"action": "give"}).status_code == 303
    supported = client.submit(f"{url}/support", {"action": "give"}, headers={"hx-request": "true"})
    assert supported.status_code == 200 and "賛同済み" in supported.text and ">1<" in supported.text
    comment_id = IdeaList(storage.db).comments(idea_id)[0].id
    assert client.submit(f"{url}/comments/{comment_id}/hide", {"reason": ""}).status_code == 422
    assert client.submit(f"{url}/comments/{comment_id}/hide", {"reason": "連絡先が書かれていたため"}).status_code == 303
    shown = client.get(url).text
    assert "来年度に検討します" in shown and "検討中" in shown
    assert "モデレーターにより非表示（連絡先が書かれていたため）" in shown and "補足です" not in shown
    client.submit("/logout")

    client.login("citizen@example.jp")
    locked = client.submit(f"{url}/edit", form(title="もう一度"))
    assert locked.status_code == 409
    assert "編集する" not in client.get(url).text


def test_other_departments_cannot_answer(client: Client, storage: Storage, world: World) -> None:
    idea_id = submit(storage, world.citizen, "防災の提案", department="防災・安全")
    storage.projector.catch_up()
    client.login("staff@example.jp")
    assert client.get(f"/staff/ideas/{idea_id}").status_code == 403
    assert client.submit(f"/staff/ideas/{idea_id}/answer", {"answer": "x"}).status_code == 403


# --- API ------------------------------------------------------------------------------------------


def body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"title": "公園に日陰を", "body": "夏の公園は暑い", "department": PARK, "sdg_goals": [3]}
    data.update(overrides)
    return data


def test_api_ideas(client: Client, storage: Storage, world: World) -> None:
    assert client.api_post("/api/v1/ideas", body()).status_code == 401
    client.login("citizen@example.jp")
    invalid = client.api_post("/api/v1/ideas", body(title="", sdg_goals=[18]))
    assert invalid.status_code == 422
    assert set(invalid.json()["field_errors"]) == {"title", "sdg_goals"}
    created = client.api_post("/api/v1/ideas", body())
    assert created.status_code == 201
    idea_id = created.json()["idea_id"]
    storage.projector.catch_up()
    listed = client.get("/api/v1/ideas", params={"q": "公園", "sort": "newest", "limit": 5}).json()
    assert [i["id"] for i in listed["items"]] == [idea_id] and listed["has_more"] is False
    assert client.get("/api/v1/ideas", params={"limit": 0}).status_code == 400
    assert client.get("/api/v1/ideas", params={"status": "nope"}).status_code == 422
    one = client.get(f"/api/v1/ideas/{idea_id}").json()
    assert one["title"] == "公園に日陰を" and "author_id" not in one and one["answer"] is None
    token = {"x-csrftoken": client.csrf()}
    own = client.put(f"/api/v1/ideas/{idea_id}/support", headers=token)
    assert own.status_code == 403
    comment = client.api_post(f"/api/v1/ideas/{idea_id}/comments", {"text": "よろしくお願いします"})
    assert comment.status_code == 201
    reply = client.api_post(
        f"/api/v1/ideas/{idea_id}/comments", {"text": "返信", "parent_id": comment.json()["comment_id"]}
    )
    assert reply.status_code == 201
    deeper = client.api_post(
        f"/api/v1/ideas/{idea_id}/comments", {"text": "x", "parent_id": reply.json()["comment_id"]}
    )
    assert deeper.status_code == 422 and "parent_id" in deeper.json()["field_errors"]
    storage.projector.catch_up()
    comments = client.get(f"/api/v1/ideas/{idea_id}/comments").json()
    assert comments[0]["by_idea_author"] and comments[0]["replies"][0]["text"] == "返信"
    client.submit("/logout")

    client.login("staff@example.jp")
    token = {"x-csrftoken": client.csrf()}
    assert client.api_post("/api/v1/ideas", body()).status_code == 403
    first = client.put(f"/api/v1/ideas/{idea_id}/support", headers=token)
    second = client.put(f"/api/v1/ideas/{idea_id}/support", headers=token)
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.json()["changed"], second.json()["changed"]) == (True, False)
    assert client.delete(f"/api/v1/ideas/{idea_id}/support", headers=token).status_code == 204
    assert client.delete(f"/api/v1/ideas/{idea_id}/support", headers=token).status_code == 204
    storage.app.change_idea_status(UUID(idea_id), staff_id=world.staff, status="considering")
    client.submit("/logout")

    client.login("citizen@example.jp")
    locked = client.put(f"/api/v1/ideas/{idea_id}", json=body(), headers={"x-csrftoken": client.csrf()})
    assert locked.status_code == 409 and locked.json()["error"] == "idea_locked"
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert {"/api/v1/ideas", "/api/v1/ideas/{idea_id}", "/api/v1/ideas/{idea_id}/support"} <= set(paths)
    assert {"put", "delete"} <= set(paths["/api/v1/ideas/{idea_id}/support"])


def test_fifty_concurrent_supports_through_the_api(client: Client, storage: Storage, world: World) -> None:
    idea_id = submit(storage, world.citizen, "APIで同時に賛同")
    storage.projector.catch_up()
    people = []
    for n in range(PEOPLE):
        storage.app.sign_up(
            email=f"fan{n}@example.jp", display_name=f"賛同者{n}", password_hash=PASSWORD_HASH, role=Role.CITIZEN
        )
        people.append(f"fan{n}@example.jp")
    # One client (cookie jar) per person, on the same app; only the fixture's runs the lifespan.
    clients = []
    for email in people:
        c = Client(app=client.app, base_url="http://testserver.local")
        c.login(email)
        clients.append(c)
    codes: list[int] = []

    def support(c: Client) -> None:
        codes.append(c.put(f"/api/v1/ideas/{idea_id}/support", headers={"x-csrftoken": c.csrf()}).status_code)

    assert run_in_threads([lambda c=c: support(c) for c in clients]) == []
    assert codes == [200] * PEOPLE
    codes.clear()
    assert run_in_threads([lambda: support(clients[0]) for _ in range(2)]) == []  # one person, twice at once
    assert codes == [200, 200]
    storage.projector.catch_up()
    assert client.get(f"/api/v1/ideas/{idea_id}").json()["support_count"] == PEOPLE
