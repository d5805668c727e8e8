"""The English UI: how a request's language is chosen, switched and kept apart in caches."""

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from domain.errors import InvalidCommand
from domain.participant import Participant
from domain.values import Attributes, Role
from projections.storage import Storage
from tests.conftest import BACKENDS, Client, World
from web import i18n
from web.app import create_app

ROOT = Path(__file__).parent.parent
CATALOGUE = ROOT / "web" / "locale" / "en" / "LC_MESSAGES" / "messages.po"


@pytest.fixture
def backend() -> str:
    return "sqlite"  # The language of a page does not depend on the storage engine.


def test_japanese_is_the_default(client: Client) -> None:
    page = client.get("/")
    assert '<html lang="ja">' in page.text
    assert "ログイン" in page.text
    assert page.headers["content-language"] == "ja"


def test_accept_language_chooses_english(client: Client) -> None:
    page = client.get("/", headers={"accept-language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in page.text
    assert ">Sign in<" in page.text
    assert page.headers["content-language"] == "en"
    assert "Accept-Language" in page.headers["vary"] and "Cookie" in page.headers["vary"]


def test_a_language_the_city_does_not_offer_falls_back_to_japanese(client: Client) -> None:
    page = client.get("/", headers={"accept-language": "fr-FR,de;q=0.5"})
    assert '<html lang="ja">' in page.text


def test_the_visible_switch_sets_a_cookie_that_wins_over_the_browser(client: Client) -> None:
    switched = client.get("/language/en?next=/results", follow_redirects=False)
    assert switched.status_code == 303
    assert switched.headers["location"] == "/results"
    assert "kyoso_lang=en" in switched.headers["set-cookie"]
    page = client.get("/results", headers={"accept-language": "ja"})
    assert '<html lang="en">' in page.text
    client.get("/language/ja", follow_redirects=False)
    assert '<html lang="ja">' in client.get("/", headers={"accept-language": "en"}).text


def test_every_page_offers_the_other_language_and_comes_back_to_it(client: Client) -> None:
    page = client.get("/results?page=2")
    assert 'href="/language/en?next=/results%3Fpage%3D2"' in page.text
    assert 'lang="en" hreflang="en">English<' in page.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"])
def test_the_switch_never_sends_anyone_off_the_site(client: Client, target: str) -> None:
    response = client.get("/language/en", params={"next": target}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_an_unknown_language_changes_nothing(client: Client) -> None:
    response = client.get("/language/xx", follow_redirects=False)
    assert response.status_code == 303
    assert "kyoso_lang" not in response.headers.get("set-cookie", "")


def test_a_message_without_a_translation_stays_japanese() -> None:
    token = i18n.use_language("en")
    try:
        assert i18n.gettext("ログアウト") == "Sign out"
        assert i18n.gettext("まだ訳されていない文") == "まだ訳されていない文"
    finally:
        i18n._language.reset(token)
    assert i18n.gettext("ログアウト") == "ログアウト"


def test_every_marked_message_has_its_english(tmp_path: Path) -> None:
    """The catalogue is complete: each message the templates and code mark has an English text."""
    template = tmp_path / "messages.pot"
    extract = [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg", "-k", "N_"]
    subprocess.run(
        [*extract, "--no-location", "-o", str(template), "."],
        cwd=ROOT,
        check=True,
    )
    with template.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with CATALOGUE.open("rb") as f:
        translated = {m.id for m in read_po(f) if m.id and m.string and not m.fuzzy}
    missing = sorted(str(m) for m in wanted - translated)
    assert not missing, f"{len(missing)} messages without English, e.g. {missing[:10]} (run `make messages`)"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_signed_in_persons_choice_is_saved_and_follows_them_to_a_new_device(
    client: Client, settings: Any, storage: Storage, world: World
) -> None:
    client.login("citizen@example.jp")
    page = client.get("/")
    assert 'action="/language"' in page.text  # a form, with CSRF: the choice is stored
    chosen = client.submit("/language", {"language": "en", "next": "/results"})
    assert chosen.status_code in (200, 303)
    storage.projector.catch_up()
    # Another device: no language cookie, a browser that prefers Japanese.
    app = create_app(settings, storage)
    with Client(app=app, base_url="http://testserver.local") as other:
        other.login("citizen@example.jp")
        page = other.get("/me", headers={"accept-language": "ja"})
        assert '<html lang="en">' in page.text
        assert "kyoso_lang=en" in page.headers.get("set-cookie", "")


def test_a_language_the_city_does_not_offer_is_refused_and_nothing_is_saved(
    client: Client, storage: Storage, world: World
) -> None:
    client.login("citizen@example.jp")
    before = storage.app.get_participant(world.citizen).version
    refused = client.submit("/language", {"language": "fr"})
    assert refused.status_code == 422
    assert storage.app.get_participant(world.citizen).version == before


def test_the_language_choice_is_a_rule_of_the_participant() -> None:
    person = Participant.register(Role.CITIZEN, None, Attributes())
    person.choose_language("en")
    person.choose_language("en")  # choosing again what is chosen changes nothing
    assert [type(e).__name__ for e in person.collect_events()][-1] == "LanguageChosen"
    with pytest.raises(InvalidCommand):
        person.choose_language("xx")
