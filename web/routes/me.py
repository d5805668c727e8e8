"""A person's own data: the terms they agree to, what Kyoso holds about them, and leaving for good."""

from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.response import Response, Template

from projections.personal_data import personal_data
from projections.storage import Storage
from web.auth import User, current_user, signed_in
from web.forms import one
from web.legal import PRIVACY_VERSION, TERMS_VERSION
from web.passwords import verify_password
from web.routes.common import FormData, go, page
from web.throttle import throttle_of


@get("/terms", sync_to_thread=False)
def terms(request: Request[Any, Any, Any]) -> Template:
    return page(request, "terms.html", version=TERMS_VERSION)


@get("/privacy", sync_to_thread=False)
def privacy(request: Request[Any, Any, Any]) -> Template:
    return page(request, "privacy.html", version=PRIVACY_VERSION)


def _me(request: Request[Any, Any, Any]) -> User:
    user = current_user(request)
    assert user is not None  # The route's guard has checked.
    return user


@get("/me/data", guards=[signed_in], sync_to_thread=True)
def my_data(request: Request[Any, Any, Any], storage: Storage) -> Template:
    return page(request, "my_data.html", data=personal_data(storage, _me(request).id))


@get("/me/data.json", guards=[signed_in], sync_to_thread=True)
def my_data_download(request: Request[Any, Any, Any], storage: Storage) -> Response[bytes]:
    data = personal_data(storage, _me(request).id)
    return Response(
        msgspec.json.format(msgspec.json.encode(data), indent=2),
        media_type="application/json; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="kyoso-my-data.json"'},
    )


@post("/me/delete", guards=[signed_in], sync_to_thread=True)
def delete_account(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    """Leaving for good: the same erasure as `kyoso users erase`, after the password is confirmed."""
    user = _me(request)
    identity = storage.identities.get(user.id)
    throttle = throttle_of(request)
    errors: dict[str, str] = {}
    if one(data, "confirm") != "on":
        errors["confirm"] = "削除することを確認してください。"
    if identity is None:
        raise NotAuthorizedException()
    if throttle.account_locked(identity.email) is not None:
        errors["delete_password"] = "パスワードの誤りが続いたため、しばらく待ってからもう一度お試しください。"
    elif not verify_password(identity.password_hash, one(data, "password")):
        throttle.login_failed(identity.email)  # the same budget as signing in: no side door for guessing
        errors["delete_password"] = "パスワードが正しくありません。"
    if errors:
        participant = storage.app.get_participant(user.id)
        return page(
            request, "profile.html", status_code=422, attributes=participant.attributes, errors=errors, saved=False
        )
    storage.erase(user.id)
    _log_erasure(user)
    request.clear_session()
    return go(request, "/goodbye")


@get("/goodbye", sync_to_thread=False)
def goodbye(request: Request[Any, Any, Any]) -> Template:
    return page(request, "goodbye.html")


def _log_erasure(user: User) -> None:
    from web.security_log import security_event

    security_event("erase", user.id, by="self")


routes = [terms, privacy, my_data, my_data_download, delete_account, goodbye]
