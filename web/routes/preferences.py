"""A person's preferences: the SDG goals and departments they follow, and their consent to e-mail;
the one-click unsubscribe link of every e-mail; and the staff page that says whether e-mail goes out."""

from typing import Any
from uuid import UUID

from litestar import Request, Router, get, post
from litestar.response import Response, Template

from domain.errors import InvalidCommand, NotFound
from domain.messages import N_
from domain.preference_commands import EMAIL_CONSENT_VERSION, EMAIL_CONSENT_WORDING
from domain.values import SDG_GOALS, sdg_goal_of
from projections.mail_outbox import STATUS_LABELS, totals
from projections.participants import departments_to_follow
from projections.storage import Storage
from web.auth import User, current_user, signed_in, staff_only
from web.forms import many, one
from web.i18n import Translated, gettext
from web.mailer import mail_status, unsubscribed_participant
from web.routes.common import FormData, go, page, translated
from web.settings import Settings

BAD_LINK = N_(
    "配信停止のリンクが正しくありません。メールに記載されたリンクをそのまま開くか、"
    "ログインして「お知らせの設定」から停止してください。"
)


def _me(request: Request[Any, Any, Any]) -> User:
    user = current_user(request)
    assert user is not None  # The route's guard has checked.
    return user


def _settings(request: Request[Any, Any, Any]) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _departments(storage: Storage) -> list[str]:
    return departments_to_follow(storage.db, storage.catalogue.departments())


def _form(
    request: Request[Any, Any, Any],
    storage: Storage,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    saved: bool = False,
    status_code: int = 200,
) -> Template:
    user = _me(request)
    departments = _departments(storage)
    # A department followed earlier that no longer runs surveys or has staff stays choosable, so saving keeps it.
    departments += [d for d in values["departments"] if d not in departments]
    return page(
        request,
        "preferences/edit.html",
        status_code=status_code,
        values=values,
        errors=errors,
        saved=saved,
        goals=Translated(SDG_GOALS),
        departments=departments,
        wording=EMAIL_CONSENT_WORDING,
        wording_version=EMAIL_CONSENT_VERSION,
        has_email=storage.identities.get(user.id) is not None,
    )


@get("/me/preferences", guards=[signed_in], sync_to_thread=True)
def preferences(request: Request[Any, Any, Any], storage: Storage, saved: str = "") -> Template:
    participant = storage.app.get_participant(_me(request).id)
    values = {
        "goals": [str(g) for g in participant.follows_goals],
        "departments": list(participant.follows_departments),
        "email": participant.email_opt_in,
    }
    return _form(request, storage, values=values, errors={}, saved=saved == "1")


@post("/me/preferences", guards=[signed_in], sync_to_thread=True)
def save_preferences(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    user = _me(request)
    chosen_goals = many(data, "goals")
    chosen_departments = [d.strip() for d in many(data, "departments") if d.strip()]
    wants_email = one(data, "email") == "on"
    values = {"goals": chosen_goals, "departments": chosen_departments, "email": wants_email}
    errors: dict[str, str] = {}
    goals = [sdg_goal_of(g) for g in chosen_goals]
    if any(g is None for g in goals):
        errors["goals"] = gettext("SDGsの目標は一覧から選んでください。")
    participant = storage.app.get_participant(user.id)
    known = _departments(storage) + participant.follows_departments
    if not errors:
        try:
            storage.app.set_follows(
                user.id,
                goals=[g for g in goals if g is not None],
                departments=chosen_departments,
                known_departments=known,
            )
        except InvalidCommand as e:
            errors.update(translated(e.field_errors) or {"goals": gettext(e.message)})
    if errors:
        return _form(request, storage, values=values, errors=errors, status_code=422)
    if wants_email and not participant.email_opt_in:
        storage.app.give_email_consent(user.id, wording_version=EMAIL_CONSENT_VERSION)
    elif not wants_email and participant.email_opt_in:
        storage.app.withdraw_email_consent(user.id, how="settings")
    return go(request, "/me/preferences?saved=1")


# One-click unsubscribe (RFC 8058). The link in each e-mail names the participant and is signed
# with the deployment's secret; that signature is the whole protection, and all it can do is
# withdraw consent to e-mail.


def _bad_link(request: Request[Any, Any, Any]) -> Template:
    return page(request, "error.html", status_code=400, status=400, message=gettext(BAD_LINK))


@get("/unsubscribe", sync_to_thread=True)
def unsubscribe_confirm(request: Request[Any, Any, Any], storage: Storage, token: str = "") -> Template:
    """Opening the link only asks: mail scanners and link previews follow links, and must not unsubscribe anyone."""
    participant_id = unsubscribed_participant(_settings(request).resolved_secret(), token)
    if participant_id is None:
        return _bad_link(request)
    return page(request, "preferences/unsubscribe.html", token=token, done=not _opted_in(storage, participant_id))


# Exempt from CSRF, and only this route: a mail client sends the one-click POST itself (RFC 8058),
# with no cookie and no page to have taken a token from. The signed token in the URL stands in
# for it: nobody without the secret can make one, and it can do nothing but unsubscribe its owner.
# The body (List-Unsubscribe=One-Click, form-encoded or multipart) is not read at all.
@post("/unsubscribe", sync_to_thread=True, exclude_from_csrf=True, status_code=200)
def unsubscribe(request: Request[Any, Any, Any], storage: Storage, token: str = "") -> Template:
    participant_id = unsubscribed_participant(_settings(request).resolved_secret(), token)
    if participant_id is None:
        return _bad_link(request)
    try:
        storage.app.withdraw_email_consent(participant_id, how="unsubscribe_link")
    except NotFound:
        return _bad_link(request)
    return page(request, "preferences/unsubscribe.html", token=token, done=True)


def _opted_in(storage: Storage, participant_id: UUID) -> bool:
    try:
        participant = storage.app.get_participant(participant_id)
    except NotFound:
        return False
    return participant.email_opt_in and not participant.erased


@get("/staff/mail", guards=[staff_only], sync_to_thread=True)
def mail_page(request: Request[Any, Any, Any], storage: Storage) -> Template:
    return page(
        request,
        "preferences/staff_mail.html",
        status=mail_status(_settings(request)),
        totals=totals(storage.db),
        labels=Translated(STATUS_LABELS),
        opted_in=storage.db.query_one("SELECT COUNT(*) FROM participants WHERE email_opt_in = 1 AND erased = 0")[0],  # type: ignore[index]
    )


# In one Router: Litestar registers the handlers of a path once only when they arrive together
# (a GET and a POST on the same path added one by one to the app get wrapped twice).
routes: list[Any] = [
    Router(path="/", route_handlers=[preferences, save_preferences, unsubscribe_confirm, unsubscribe, mail_page])
]
