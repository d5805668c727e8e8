"""Sign-up, login (with session rotation), logout, and the participant's own profile."""

import math
import re
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.response import Response, Template

from domain.errors import EmailAlreadyRegistered
from domain.identities import Consent
from domain.messages import N_
from domain.values import Role
from projections.storage import Storage
from web.auth import User, current_user, session_data, signed_in
from web.forms import attributes_from_form, one
from web.i18n import gettext
from web.legal import PRIVACY_VERSION, TERMS_VERSION
from web.passwords import hash_password, needs_rehash, password_problem, verify_password
from web.routes.common import FormData, go, page, safe_next
from web.routes.me import profile_page
from web.security_log import security_event
from web.sessions import rotate_session
from web.throttle import throttle_of

MAX_EMAIL = 254
# Dots separate the domain's labels and no label contains one, so there is only one way to match:
# the time is linear in the length (the old pattern backtracked quadratically).
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+")
LOCKED = N_(
    "ログインの失敗が続いたため、このメールアドレスでのログインを一時的に停止しています。"
    "%(minutes)s分ほど待ってからもう一度お試しください。"
)


def email_problem(email: str) -> str | None:
    # The length first: whatever the pattern, a huge address costs nothing more than this.
    if len(email) > MAX_EMAIL or not EMAIL.fullmatch(email):
        return gettext("メールアドレスの形式が正しくありません。")
    return None


@get("/signup", sync_to_thread=False)
def signup_form(request: Request[Any, Any, Any], next: str = "") -> Template:
    return page(request, "signup.html", errors={}, values={}, next=safe_next(next))


@post("/signup", sync_to_thread=True)
def signup(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    errors: dict[str, str] = {}
    email = one(data, "email").strip()
    name = one(data, "display_name").strip()
    password = one(data, "password")
    if problem := email_problem(email):
        errors["email"] = problem
    if not name:
        errors["display_name"] = gettext("ニックネームを入力してください。")
    elif len(name) > 40:
        errors["display_name"] = gettext("ニックネームは40文字以内にしてください。")
    if problem := password_problem(password):
        errors["password"] = gettext(problem)
    attributes = attributes_from_form(data, errors)
    if one(data, "agree") != "on":
        errors["agree"] = gettext("利用規約とプライバシーポリシーへの同意が必要です。")
    next_url = safe_next(one(data, "next"))
    if not errors and storage.identities.find_by_email(email):
        errors["email"] = gettext(EmailAlreadyRegistered().message)  # Said before hashing: argon2 is the dear part.
    if not errors:
        try:
            participant_id = storage.app.sign_up(
                email=email,
                display_name=name,
                password_hash=hash_password(password),
                role=Role.CITIZEN,
                attributes=attributes,
                consent=Consent(TERMS_VERSION, PRIVACY_VERSION),
            )
        except EmailAlreadyRegistered as e:
            errors["email"] = gettext(e.message)
        else:
            _sign_in(request, User(str(participant_id), Role.CITIZEN, name))
            security_event("sign_up", participant_id, client=throttle_of(request).address(request))
            return go(request, next_url)
    values = {k: v for k, v in data.items() if k != "password"}
    return page(request, "signup.html", status_code=422, errors=errors, values=values, next=next_url)


def _sign_in(request: Request[Any, Any, Any], user: User) -> None:
    rotate_session(request)
    request.set_session(session_data(user))
    # Signing in is rare enough to sweep out expired sessions on the way.
    request.app.stores.get("sessions").purge_expired()  # type: ignore[attr-defined]


sign_in = _sign_in  # For the other sign-up pages (web/routes/cocreation.py).


@get("/login", sync_to_thread=False)
def login_form(request: Request[Any, Any, Any], next: str = "") -> Template:
    return page(request, "login.html", error=None, email="", next=safe_next(next))


@post("/login", sync_to_thread=True)
def login(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    email = one(data, "email").strip()
    password = one(data, "password")
    next_url = safe_next(one(data, "next"))
    throttle = throttle_of(request)
    client = throttle.address(request)
    # Any e-mail, registered or not, locks the same way, so the lock tells nothing about accounts.
    if email and (wait := throttle.account_locked(email)) is not None:
        security_event("sign_in_locked", None, client=client)
        message = gettext(LOCKED) % {"minutes": max(1, math.ceil(wait / 60))}
        return page(request, "login.html", status_code=429, error=message, email=email, next=next_url)
    identity = storage.identities.find_by_email(email) if email else None
    if verify_password(identity.password_hash if identity else None, password) and identity:
        participant = storage.app.get_participant(identity.participant_id)
        if not participant.erased:
            if needs_rehash(identity.password_hash):
                storage.identities.update_password_hash(identity.participant_id, hash_password(password))
            user = User(str(identity.participant_id), participant.role, identity.display_name, participant.department)
            _sign_in(request, user)
            throttle.login_succeeded(email)
            security_event("sign_in", identity.participant_id, client=client)
            if next_url == "/" and user.is_staff:
                next_url = "/staff"
            elif next_url == "/" and user.role is Role.BUSINESS:
                next_url = "/business"
            return go(request, next_url)
    if email:
        throttle.login_failed(email)
    security_event("sign_in_failed", identity.participant_id if identity else None, client=client)
    return page(
        request,
        "login.html",
        status_code=401,
        error=gettext("メールアドレスまたはパスワードが正しくありません。"),
        email=email,
        next=next_url,
    )


@post("/logout")
async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
    if user := current_user(request):
        security_event("sign_out", user.id, client=throttle_of(request).address(request))
    request.clear_session()
    return go(request, "/")


@get("/me", guards=[signed_in], sync_to_thread=True)
def profile(request: Request[Any, Any, Any], storage: Storage, saved: str = "") -> Template:
    return profile_page(request, storage, saved=saved)


@post("/me", guards=[signed_in], sync_to_thread=True)
def update_profile(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    user = current_user(request)
    if user is not None and user.role is Role.BUSINESS:
        # Ward, age band and children describe a person; a company's account has none to give.
        raise PermissionDeniedException(gettext("事業者アカウントには地区・年代・子育ての項目はありません。"))
    errors: dict[str, str] = {}
    attributes = attributes_from_form(data, errors)
    if errors:
        return profile_page(request, storage, status_code=422, errors=errors, attributes=attributes)
    storage.app.change_attributes(user.id, attributes)  # type: ignore[union-attr]
    return go(request, "/me?saved=1")


routes = [signup_form, signup, login_form, login, logout, profile, update_profile]
