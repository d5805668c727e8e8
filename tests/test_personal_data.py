"""A person's own data: consent to real terms, seeing and downloading what Kyoso holds, and
deleting their own account (the same erasure as `kyoso users erase`)."""

import json

from domain.participant import Participant
from projections.storage import Storage
from tests.conftest import PASSWORD, Client, World
from web.legal import PRIVACY_VERSION, TERMS_VERSION


def test_terms_and_privacy_are_real_pages_linked_from_sign_up(client: Client) -> None:
    signup = client.get("/signup").text
    assert 'href="/terms"' in signup and 'href="/privacy"' in signup
    for url, heading in (("/terms", "利用規約"), ("/privacy", "プライバシーポリシー")):
        page = client.get(url)
        assert page.status_code == 200 and f"<h1>{heading}</h1>" in page.text


def test_sign_up_records_the_versions_agreed_to(client: Client, storage: Storage) -> None:
    response = client.submit(
        "/signup", {"email": "new@example.jp", "display_name": "新人", "password": PASSWORD, "agree": "on"}
    )
    assert response.status_code == 303
    identity = storage.identities.find_by_email("new@example.jp")
    assert identity is not None
    events = storage.app.repository.event_store.get(identity.participant_id)
    consents = [e for e in events if isinstance(e, Participant.ConsentGiven)]
    assert [(c.terms_version, c.privacy_version) for c in consents] == [(TERMS_VERSION, PRIVACY_VERSION)]


def test_a_person_sees_and_downloads_their_own_data(client: Client, world: World, storage: Storage) -> None:
    storage.app.submit_response(world.survey, world.citizen, world.valid_answers(**{world.q_text: "公園の木陰"}))
    storage.projector.catch_up()
    assert client.get("/me/data", follow_redirects=False).status_code in (302, 303)
    client.login("citizen@example.jp")
    page = client.get("/me/data")
    assert page.status_code == 200
    assert "citizen@example.jp" in page.text and "子育てアンケート" in page.text and "公園の木陰" in page.text
    download = client.get("/me/data.json")
    assert download.headers["content-disposition"].startswith("attachment")
    data = json.loads(download.content)
    assert data["email"] == "citizen@example.jp" and data["attributes"]["ward"] == "sonoda"
    (answered,) = data["responses"]
    assert {"question": "ご意見", "answer": "公園の木陰"} in answered["answers"]
    assert {"question": "必要な支援", "answer": "保育、公園"} in answered["answers"]


def test_a_person_deletes_their_own_account(client: Client, world: World, storage: Storage) -> None:
    storage.app.submit_response(world.survey, world.citizen, world.valid_answers(**{world.q_text: "秘密の意見"}))
    storage.projector.catch_up()
    client.login("citizen@example.jp")
    refused = client.submit("/me/delete", {"password": "wrong-password", "confirm": "on"})
    assert refused.status_code == 422 and "パスワードが正しくありません" in refused.text
    assert storage.identities.get(world.citizen) is not None
    gone = client.submit("/me/delete", {"password": PASSWORD, "confirm": "on"})
    assert gone.status_code == 303 and gone.headers["location"] == "/goodbye"
    assert storage.identities.get(world.citizen) is None
    assert storage.app.get_participant(world.citizen).erased
    texts = [a.text for a in storage.results.free_texts(str(world.survey), world.q_text)]
    assert texts == ["（削除済み）"]
    assert client.get("/me", follow_redirects=False).status_code in (302, 303)  # signed out
    again = client.submit("/login", {"email": "citizen@example.jp", "password": PASSWORD})
    assert again.status_code == 401
