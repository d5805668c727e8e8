"""A person's own data: the terms they agree to, what Kyoso holds about them, and leaving for good."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.response import Response, Template

from domain.errors import EmailAlreadyRegistered
from domain.identities import normalise_email
from domain.values import Role
from projections.credentials import change_email, end_sessions
from projections.my_answers import MyAnswer, my_answers
from projections.personal_data import personal_data
from projections.storage import Storage
from web import direct_mail
from web.auth import User, current_user, session_data, signed_in
from web.forms import one
from web.i18n import DEFAULT, current_language, gettext
from web.legal import PRIVACY_VERSION, TERMS_VERSION
from web.localize import localized
from web.passwords import hash_password, password_problem, verify_password
from web.routes.common import FormData, go, page
from web.security_log import security_event
from web.security_mail import render_email_changed
from web.sessions import rotate_session
from web.throttle import throttle_of

# What /me?saved=... confirms, once a change has gone through.
SAVED = frozenset({"1", "password", "email"})


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
        errors["confirm"] = gettext("削除することを確認してください。")
    if identity is None:
        raise NotAuthorizedException()
    if throttle.account_locked(identity.email) is not None:
        errors["delete_password"] = gettext("パスワードの誤りが続いたため、しばらく待ってからもう一度お試しください。")
    elif not verify_password(identity.password_hash, one(data, "password")):
        throttle.login_failed(identity.email)  # the same budget as signing in: no side door for guessing
        errors["delete_password"] = gettext("パスワードが正しくありません。")
    if errors:
        return profile_page(request, storage, status_code=422, errors=errors)
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


def profile_page(
    request: Request[Any, Any, Any],
    storage: Storage,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    saved: str = "",
    attributes: Any = None,
    values: dict[str, Any] | None = None,
) -> Template:
    """/me: the person's attributes (citizens only), their answers, and their sign-in details."""
    user = _me(request)
    identity = storage.identities.get(user.id)
    if attributes is None:
        attributes = storage.app.get_participant(user.id).attributes
    answers = my_answers(storage.db, user.id)
    return page(
        request,
        "profile.html",
        status_code=status_code,
        attributes=attributes,
        # A company is not asked where it lives, how old it is or whether it has children.
        asks_attributes=user.role is not Role.BUSINESS,
        answers=answers,
        answer_titles=_answer_titles(storage, answers),
        email=identity.email if identity else "",
        errors=errors or {},
        values=values or {},
        saved=saved if saved in SAVED else "",
    )


def _answer_titles(storage: Storage, answers: list[MyAnswer]) -> dict[str, str]:
    """The answered surveys' titles in the reader's language, where staff gave one (web/localize.py).
    Japanese readers see the titles the read model already holds, at no extra query."""
    if current_language() == DEFAULT:
        return {}
    titles: dict[str, str] = {}
    for answer in answers:
        survey = storage.catalogue.survey(answer.survey_id)
        if survey is not None:
            titles[answer.survey_id] = localized(survey, "title")
    return titles


def sign_in_again(request: Request[Any, Any, Any], user: User) -> None:
    """A fresh session id for the person in front of us, after their sign-in details changed."""
    rotate_session(request)
    request.set_session(session_data(user))


def end_other_sessions(storage: Storage, participant_id: UUID) -> None:
    """Every other browser signed in as this person is signed out (the current one is rotated)."""
    end_sessions(storage.db, participant_id)


def _check_current_password(request: Request[Any, Any, Any], storage: Storage, password: str) -> str | None:
    """The same budget as signing in: a stolen session cannot guess the password here either."""
    identity = storage.identities.get(_me(request).id)
    if identity is None:
        raise NotAuthorizedException()
    throttle = throttle_of(request)
    if throttle.account_locked(identity.email) is not None:
        return gettext("パスワードの誤りが続いたため、しばらく待ってからもう一度お試しください。")
    if not verify_password(identity.password_hash, password):
        throttle.login_failed(identity.email)
        return gettext("現在のパスワードが正しくありません。")
    return None


@post("/me/password", guards=[signed_in], sync_to_thread=True)
def change_password(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    user = _me(request)
    password = one(data, "new_password")
    errors: dict[str, str] = {}
    if problem := _check_current_password(request, storage, one(data, "current_password")):
        errors["current_password"] = problem
    if problem := password_problem(password):
        errors["new_password"] = gettext(problem)
    elif one(data, "new_password_confirm") != password:
        errors["new_password_confirm"] = gettext("確認用のパスワードが一致しません。")
    if errors:
        return profile_page(request, storage, status_code=422, errors=errors)
    storage.identities.update_password_hash(user.id, hash_password(password))
    end_other_sessions(storage, user.id)
    sign_in_again(request, user)
    security_event("password_changed", user.id, client=throttle_of(request).address(request))
    return go(request, "/me?saved=password#credentials")


@post("/me/email", guards=[signed_in], sync_to_thread=True)
def change_email_address(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    from web.routes.auth_pages import email_problem  # auth_pages renders /me through this module

    user = _me(request)
    email = one(data, "new_email").strip()
    errors: dict[str, str] = {}
    if problem := _check_current_password(request, storage, one(data, "email_password")):
        errors["email_password"] = problem
    if problem := email_problem(email):
        errors["new_email"] = problem
    before = storage.identities.get(user.id)
    if not errors and not change_email(storage.db, user.id, email):
        errors["new_email"] = gettext(EmailAlreadyRegistered.message)
    if errors:
        return profile_page(request, storage, status_code=422, errors=errors, values={"new_email": email})
    end_other_sessions(storage, user.id)
    sign_in_again(request, user)
    security_event("email_changed", user.id, client=throttle_of(request).address(request))
    if before is not None and normalise_email(email) != before.email:
        _tell_the_old_address(request, storage, before.email, before.display_name, email)
    return go(request, "/me?saved=email#credentials")


def _tell_the_old_address(
    request: Request[Any, Any, Any], storage: Storage, old_email: str, display_name: str, new_email: str
) -> None:
    settings = request.app.state.settings
    subject, body = render_email_changed(
        request.app.template_engine.engine,  # type: ignore[union-attr]
        language=current_language(),
        display_name=display_name,
        new_email=normalise_email(new_email),
        when=datetime.now(UTC),
    )
    direct_mail.send_in_background(storage, settings, direct_mail.compose(settings, old_email, subject, body))


routes = [terms, privacy, my_data, my_data_download, delete_account, goodbye, change_password, change_email_address]
