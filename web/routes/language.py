"""The visible language switch: a link for visitors, a form for signed-in people (whose choice is saved)."""

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Response

from projections.storage import Storage
from web.auth import current_user, signed_in, standings
from web.i18n import COOKIE, LANGUAGES, ONE_YEAR
from web.routes.common import FormData, go, safe_next


def _switched(request: Request[Any, Any, Any], language: str, target: str) -> Redirect:
    response = Redirect(target, status_code=303, headers={"cache-control": "no-store"})
    if language in LANGUAGES:
        secure = request.app.state.settings.secure_cookies
        response.set_cookie(COOKIE, language, max_age=ONE_YEAR, path="/", samesite="lax", httponly=True, secure=secure)
    return response


@get("/language/{language:str}", name="language", sync_to_thread=False)
def choose_language(request: Request[Any, Any, Any], language: str, next: str | None = None) -> Redirect:
    # Only this browser's cookie changes and nothing is stored, so a link (a GET) is the right verb.
    return _switched(request, language, safe_next(next))


@post("/language", guards=[signed_in], sync_to_thread=True)
def save_language(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    """A signed-in person's choice is an event, so that it follows them to every device."""
    language = str(data.get("language", ""))
    user = current_user(request)
    assert user is not None  # the guard let only signed-in people through
    storage.app.choose_language(user.id, language)  # refuses a language the city does not offer
    standings.forget(user.participant_id)
    target = safe_next(str(data.get("next") or "/"))
    if request.headers.get("hx-request"):
        return go(request, target)
    return _switched(request, language, target)


routes = [choose_language, save_language]
