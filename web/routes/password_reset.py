"""「パスワードを忘れた方」: asking for a reset link by e-mail, and setting a new password with it.

Both POSTs count against the same per-address budget as signing in (web/throttle.py), and each
address gets at most MAILS_PER_HOUR reset mails, so the form can be used neither to guess nor to
flood someone's inbox. The page says the same thing whether or not the address has an account.
"""

import math
from typing import Any

from litestar import Request, Router, get, post
from litestar.response import Response, Template

from domain.errors import NotFound
from domain.identities import normalise_email
from projections.storage import Storage
from web import direct_mail
from web.auth import User
from web.forms import one
from web.i18n import current_language, gettext
from web.mailer import mail_status
from web.password_reset import (
    make_token,
    render_mail,
    reset_key,
    token_expiry,
    verify_token,
)
from web.passwords import hash_password, password_problem
from web.routes.auth_pages import email_problem
from web.routes.common import FormData, go, page
from web.routes.me import end_other_sessions, sign_in_again
from web.security_log import security_event
from web.settings import Settings
from web.throttle import throttle_of

MAILS_PER_HOUR = 3
# The token is in the address bar: the page is kept in no cache. (The site-wide Referrer-Policy,
# same-origin, already keeps it from other sites, and the page links nowhere else.)
NO_STORE = {"Cache-Control": "no-store"}


def _too_many(request: Request[Any, Any, Any], template: str, **context: Any) -> Template | None:
    throttle = throttle_of(request)
    address = throttle.address(request)
    wait = throttle.attempt(address)
    if wait is None:
        return None
    security_event("rate_limited", None, client=address, path=request.url.path)
    response = page(request, template, status_code=429, rate_limited=True, **context)
    response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


@get("/password/forgot", sync_to_thread=False)
def forgot_form(request: Request[Any, Any, Any]) -> Template:
    settings: Settings = request.app.state.settings
    return page(request, "password/forgot.html", errors={}, email="", sent=False, mail=mail_status(settings))


@post("/password/forgot", sync_to_thread=True)
def forgot(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    settings: Settings = request.app.state.settings
    mail = mail_status(settings)
    email = one(data, "email").strip()
    context: dict[str, Any] = {"email": email, "mail": mail, "sent": False}
    if limited := _too_many(request, "password/forgot.html", errors={}, **context):
        return limited
    if problem := email_problem(email):
        return page(request, "password/forgot.html", status_code=422, errors={"email": problem}, **context)
    if not mail["enabled"]:
        return page(request, "password/forgot.html", status_code=503, errors={}, **context)
    identity = storage.identities.find_by_email(email)
    throttle = throttle_of(request)
    # Counted for every address asked about, so the budget itself reveals nothing.
    mails, _ = throttle.counter.hit("reset-mail", normalise_email(email), 3600.0)
    if identity is not None and mails <= MAILS_PER_HOUR:
        token = make_token(reset_key(storage), identity.participant_id, identity.password_hash, identity.email)
        link = settings.base_url.rstrip("/") + f"/password/reset?token={token}"
        subject, body = render_mail(
            request.app.template_engine.engine,  # type: ignore[union-attr]
            language=current_language(),
            display_name=identity.display_name,
            link=link,
            expires=token_expiry(token),
        )
        direct_mail.send_in_background(storage, settings, direct_mail.compose(settings, identity.email, subject, body))
        security_event("password_reset_requested", identity.participant_id, client=throttle.address(request))
    return page(request, "password/forgot.html", errors={}, **{**context, "sent": True})


@get("/password/reset", sync_to_thread=True)
def reset_form(request: Request[Any, Any, Any], storage: Storage, token: str = "") -> Template:
    valid = verify_token(storage, reset_key(storage), token) is not None
    response = page(
        request, "password/reset.html", status_code=200 if valid else 400, token=token, valid=valid, errors={}
    )
    response.headers.update(NO_STORE)
    return response


@post("/password/reset", sync_to_thread=True)
def reset(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    token = one(data, "token")
    context: dict[str, Any] = {"token": token, "valid": True}
    if limited := _too_many(request, "password/reset.html", errors={}, **context):
        return limited
    participant_id = verify_token(storage, reset_key(storage), token)
    if participant_id is None:
        return page(request, "password/reset.html", status_code=400, errors={}, **{**context, "valid": False})
    password = one(data, "password")
    errors: dict[str, str] = {}
    if problem := password_problem(password):
        errors["password"] = gettext(problem)
    elif one(data, "password_confirm") != password:
        errors["password_confirm"] = gettext("確認用のパスワードが一致しません。")
    if errors:
        return page(request, "password/reset.html", status_code=422, errors=errors, **context)
    identity = storage.identities.get(participant_id)
    try:
        participant = storage.app.get_participant(participant_id)
    except NotFound:
        participant = None
    if identity is None or participant is None or participant.erased:
        return page(request, "password/reset.html", status_code=400, errors={}, **{**context, "valid": False})
    # Writing the new hash is what uses the link up: the token's MAC covered the old one.
    storage.identities.update_password_hash(participant_id, hash_password(password))
    end_other_sessions(storage, participant_id)
    user = User(str(participant_id), participant.role, identity.display_name, participant.department)
    sign_in_again(request, user)
    throttle = throttle_of(request)
    throttle.login_succeeded(identity.email)  # a lock from someone's guessing ends with the owner's reset
    security_event("password_reset", participant_id, client=throttle.address(request))
    return go(request, "/me?saved=password")


# One Router: Litestar, given a GET and a POST on one path one at a time, prepares the GET twice
# and its sync_to_thread wrapper then returns a coroutine instead of a page.
routes = [Router(path="/", route_handlers=[forgot_form, forgot, reset_form, reset])]
