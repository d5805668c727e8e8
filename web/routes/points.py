"""SDGs points for citizens: my points, claiming a venue code, rewards, transfers; and their API.

Balances come from the person's PointsAccount aggregate (the authority: the read model may lag a
write), history and goals from the read model (projections/points_mine.py). Like the other pages,
a page that writes catches the projector up before redirecting; the API does not (as the ideas
API), so a claim through the API costs no projection work on its hot path.
"""

import math
import unicodedata
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from uuid import UUID

import msgspec
from litestar import Request, Router, get, post
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    TooManyRequestsException,
)
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_201_CREATED

from domain import clock
from domain.errors import InvalidCommand
from domain.messages import N_
from domain.points_commands import EARNER_ROLES
from domain.points_ledger import Award, PointsAccount, PointsRefused
from domain.points_rewards import MIN_TRANSFER, OutOfStock, Reward, check_wallet_number
from domain.values import SDG_GOALS, sdg_goal_of
from domain.venue_code import InvalidCode
from projections.points_mine import (
    MAX_HISTORY_PAGE,
    GoalTotal,
    HistoryEntry,
    HistoryPage,
    MenuView,
    MyPoints,
    voucher_number,
)
from projections.storage import Storage
from web.auth import User, current_user, signed_in
from web.forms import one
from web.i18n import Translated, gettext
from web.routes.api import Problem
from web.routes.common import FormData, go, page, translated
from web.throttle import throttle_of

EXPIRING_DAYS = 60
HISTORY_PAGE = 50
MAX_OFFSET = 1_000_000
# A code is 16 characters; with dashes and spaces a person may type a few more. Anything longer is
# not a code, and is refused before any work is done on it.
MAX_CODE_TEXT = 64
# Wrong codes a person may try before claims are refused for a while: with a 48-bit tag, guessing
# a valid code at this pace is out of reach, and a person mistyping twice or thrice is not bothered.
BAD_CLAIMS_LIMIT = 10
BAD_CLAIMS_WINDOW = 15 * 60.0
NOT_AN_EARNER = N_(
    "SDGsポイントを獲得・利用できるのは市民と事業者のアカウントです。職員・監査・管理者のアカウントでは利用できません。"
)
TOO_MANY_BAD_CODES = N_(
    "コードの誤りが続いたため、受付を一時停止しています。%(minutes)s分ほど待ってからもう一度お試しください。"
)


def _reader(storage: Storage) -> MyPoints:
    return MyPoints(storage.db)


def _user(request: Request[Any, Any, Any]) -> User:
    user = current_user(request)
    if user is None:
        raise NotAuthorizedException("ログインしてください。")
    return user


def _is_earner(user: User | None) -> bool:
    return user is not None and user.role in EARNER_ROLES


def _earner(request: Request[Any, Any, Any]) -> User:
    user = _user(request)
    if not _is_earner(user):
        raise PermissionDeniedException(NOT_AN_EARNER)
    return user


def _login_then(path: str) -> Response[Any]:
    return Redirect(f"/login?next={quote(path, safe='')}", status_code=303)


class Standing(msgspec.Struct):
    """A person's balance today and what of it expires soon, from their account aggregate."""

    balance: int
    as_of: date
    expiring: list[tuple[date, int]]

    @property
    def expiring_total(self) -> int:
        return sum(points for _, points in self.expiring)


def _standing(storage: Storage, participant_id: UUID) -> Standing:
    return _standing_of(storage.app.points_account(participant_id))


def _standing_of(account: PointsAccount | None) -> Standing:
    today = clock.city_today()
    if account is None:
        return Standing(0, today, [])
    return Standing(account.balance(today), today, _expiring(account, today, today + timedelta(days=EXPIRING_DAYS)))


def _history(storage: Storage, account: PointsAccount | None, participant_id: UUID, offset: int) -> HistoryPage:
    """A page of the person's history from the read model, with what is left of each award as the
    account says (the read model writes an award once and does not follow its spending)."""
    history = _reader(storage).history(str(participant_id), limit=HISTORY_PAGE, offset=offset)
    if account is not None:
        for entry in history.entries:
            if entry.kind == "award":
                entry.remaining = account.unspent(UUID(entry.id))
    return history


def _expiring(account: PointsAccount, today: date, until: date) -> list[tuple[date, int]]:
    """The points left that expire from today to `until`, by their last day (as account.expiring counts them)."""
    by_day: dict[date, int] = defaultdict(int)
    for left, expires_on in account.lots.values():
        if left > 0 and today <= expires_on <= until:
            by_day[expires_on] += left
    return sorted(by_day.items())


def _claim(request: Request[Any, Any, Any], storage: Storage, user: User, text: str) -> UUID:
    """Claims a venue code for the person. Wrong codes are counted per person: past the limit every
    claim is refused for a while, valid or not, so that the answers teach a guesser nothing."""
    counter = throttle_of(request).counter
    subject = str(user.id)
    hits, left = counter.hits("bad-claims", subject)
    if hits >= BAD_CLAIMS_LIMIT:
        raise TooManyRequestsException(
            gettext(TOO_MANY_BAD_CODES) % {"minutes": max(1, math.ceil(left / 60))},
            headers={"Retry-After": str(max(1, math.ceil(left)))},
        )
    try:
        if len(text) > MAX_CODE_TEXT:
            raise InvalidCode()
        return storage.app.claim_code(user.id, text)
    except InvalidCode:
        counter.hit("bad-claims", subject, BAD_CLAIMS_WINDOW)
        raise


# --- pages ----------------------------------------------------------------------------------------


def _mine_page(
    request: Request[Any, Any, Any],
    storage: Storage,
    user: User,
    *,
    offset: int = 0,
    status_code: int = 200,
    **context: Any,
) -> Template:
    account = storage.app.points_account(user.id)
    history = _history(storage, account, user.id, offset)
    if request.headers.get("hx-request"):  # the pager's htmx links swap the history alone
        return page(request, "points/_history.html", history=history, today=clock.city_today())
    goals = _reader(storage).goals(str(user.id))
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return page(
        request,
        "points/mine.html",
        status_code=status_code,
        standing=_standing_of(account),
        history=history,
        goals=goals,
        goal_labels=[f"{g.goal}. {gettext(g.name)}" for g in goals],
        today=clock.city_today(),
        expiring_days=EXPIRING_DAYS,
        min_transfer=MIN_TRANSFER,
        **context,
    )


@get("/me/points", guards=[signed_in], sync_to_thread=True)
def my_points(
    request: Request[Any, Any, Any],
    storage: Storage,
    offset: Annotated[int, Parameter(ge=0, le=MAX_OFFSET)] = 0,
    done: str = "",
) -> Template:
    return _mine_page(request, storage, _earner(request), offset=offset, done=done)


def _transfer_points(raw: str, errors: dict[str, str]) -> int:
    text = unicodedata.normalize("NFKC", raw).replace(",", "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        errors["points"] = gettext("移行するポイント数を%(minimum)s以上の整数で入力してください。") % {
            "minimum": MIN_TRANSFER
        }
        return 0
    return int(text)


@post("/me/points/transfer", guards=[signed_in], sync_to_thread=True)
def transfer(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    user = _earner(request)
    values = {"points": one(data, "points")[:20], "wallet_number": one(data, "wallet_number")[:40]}
    errors: dict[str, str] = {}
    points = _transfer_points(values["points"], errors)
    status_code = 422
    if errors:
        if message := check_wallet_number(values["wallet_number"]):
            errors["wallet_number"] = gettext(message)
    else:
        try:
            storage.app.transfer_to_wallet(user.id, points, values["wallet_number"])
        except InvalidCommand as e:
            errors = translated(e.field_errors) or {"points": gettext(e.message)}
        except PointsRefused as e:
            errors, status_code = {"points": gettext(e.message)}, 409
        else:
            storage.projector.catch_up()
            return go(request, "/me/points?done=transfer#transfer-heading")
    return _mine_page(request, storage, user, status_code=status_code, errors=errors, values=values)


def _claim_page(
    request: Request[Any, Any, Any], code: str, status_code: int = 200, error: str | None = None
) -> Template:
    return page(request, "points/claim.html", status_code=status_code, code=code[:MAX_CODE_TEXT], error=error)


@get("/claim", sync_to_thread=True)
def claim_form(request: Request[Any, Any, Any], code: str = "") -> Response[Any]:
    """What a venue's QR code opens (`/points/claim?code=...`): the form, filled in."""
    user = current_user(request)
    if user is None:
        target = "/points/claim" + (f"?{urlencode({'code': code[:MAX_CODE_TEXT]})}" if code else "")
        return _login_then(target)
    if not _is_earner(user):
        raise PermissionDeniedException(NOT_AN_EARNER)
    return _claim_page(request, code)


@post("/claim", sync_to_thread=True)
def claim(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    text = one(data, "code")
    user = current_user(request)
    if user is None:  # The session ended while the form was open: sign in, and come back to it.
        return _login_then(f"/points/claim?{urlencode({'code': text[:MAX_CODE_TEXT]})}")
    if not _is_earner(user):
        raise PermissionDeniedException(NOT_AN_EARNER)
    try:
        award_id = _claim(request, storage, user, text)
    except InvalidCode as e:
        return _claim_page(request, text, 422, gettext(e.message))
    except PointsRefused as e:
        return _claim_page(request, text, 409, gettext(e.message))
    except TooManyRequestsException as e:
        return _claim_page(request, text, 429, e.detail)
    storage.projector.catch_up()
    return go(request, f"/points/claims/{award_id}")


@get("/claims/{award_id:uuid}", guards=[signed_in], sync_to_thread=True)
def claimed(request: Request[Any, Any, Any], storage: Storage, award_id: UUID) -> Template:
    user = _earner(request)
    award = _reader(storage).award(str(user.id), str(award_id))
    if award is None:
        raise NotFoundException("ポイントの記録が見つかりません。")
    return page(request, "points/claimed.html", award=award, standing=_standing(storage, user.id))


def _rewards_page(
    request: Request[Any, Any, Any], storage: Storage, status_code: int = 200, error: str | None = None
) -> Template:
    user = current_user(request)
    earner = _is_earner(user)
    return page(
        request,
        "points/rewards.html",
        status_code=status_code,
        rewards=_reader(storage).rewards(),
        standing=_standing(storage, user.id) if earner and user else None,
        earner=earner,
        error=error,
    )


@get("/rewards", sync_to_thread=True)
def rewards(request: Request[Any, Any, Any], storage: Storage) -> Template:
    return _rewards_page(request, storage)


@post("/rewards/{reward_id:uuid}/redeem", guards=[signed_in], sync_to_thread=True)
def redeem(request: Request[Any, Any, Any], storage: Storage, reward_id: UUID) -> Response[Any]:
    user = _earner(request)
    try:
        spending_id = storage.app.redeem_reward(user.id, reward_id)
    except (PointsRefused, OutOfStock) as e:
        return _rewards_page(request, storage, 409, gettext(e.message))
    except InvalidCommand as e:
        return _rewards_page(request, storage, 422, gettext(e.message))
    storage.projector.catch_up()
    return go(request, f"/points/vouchers/{spending_id}")


@get("/vouchers/{spending_id:uuid}", guards=[signed_in], sync_to_thread=True)
def voucher(request: Request[Any, Any, Any], storage: Storage, spending_id: UUID) -> Template:
    user = _earner(request)
    found = _reader(storage).voucher(str(user.id), str(spending_id))
    if found is None:
        raise NotFoundException("引換券が見つかりません。")
    return page(request, "points/voucher.html", voucher=found, standing=_standing(storage, user.id))


@get("/menus", sync_to_thread=True)
def menus(request: Request[Any, Any, Any], storage: Storage, goal: str = "") -> Template:
    chosen = sdg_goal_of(goal) if goal else None
    today = clock.city_today()
    return page(
        request,
        "points/menus.html",
        menus=_reader(storage).menus(today, clock.fiscal_year(today), chosen),
        goal=chosen,
        goals=Translated(SDG_GOALS),
        today=today,
        goal_error=bool(goal) and chosen is None,
    )


# --- API ------------------------------------------------------------------------------------------


class ExpiringOut(msgspec.Struct):
    expires_on: date
    points: int


class HistoryItemOut(msgspec.Struct, kw_only=True):
    """An award (kind "award", points > 0) or a spending ("reward" or "transfer", points < 0)."""

    kind: str
    id: str
    at: str
    date: date
    points: int
    menu_id: str | None = None
    menu_name: str | None = None
    reason: str | None = None
    source: str | None = None
    sdg_goals: list[int] = []
    expires_on: date | None = None
    revoked: bool = False
    revoke_reason: str | None = None
    points_revoked: int = 0
    reward_name: str | None = None
    partner: str | None = None
    voucher: str | None = None
    paid_out: bool | None = None


class GoalOut(msgspec.Struct):
    goal: int
    name: str
    points: int
    awards: int


class MyPointsOut(msgspec.Struct, kw_only=True):
    balance: int
    as_of: date
    expiring_within_days: int
    expiring_total: int
    expiring: list[ExpiringOut]
    history: list[HistoryItemOut]
    history_offset: int
    history_has_more: bool
    goals: list[GoalOut]


class MenuOut(msgspec.Struct, kw_only=True):
    id: str
    name: str
    sdg_goals: list[int]
    points: int
    how_to_earn: str
    trigger: str
    department: str
    valid_from: date
    valid_until: date
    limit: str
    per_year: int
    limit_label: str
    expires_after_days: int | None
    expiry_label: str
    funder_name: str | None
    accepting: bool


class ClaimIn(msgspec.Struct, forbid_unknown_fields=True):
    code: str


class ClaimCreated(msgspec.Struct):
    award_id: str
    points: int
    menu_id: str
    menu_name: str
    balance: int


class RedemptionIn(msgspec.Struct, forbid_unknown_fields=True):
    reward_id: UUID


class RedemptionCreated(msgspec.Struct):
    spending_id: str
    voucher: str
    reward_id: str
    reward_name: str
    partner: str
    points: int
    balance: int


def _history_out(entry: HistoryEntry) -> HistoryItemOut:
    if entry.kind == "award":
        assert entry.earned_on is not None
        return HistoryItemOut(
            kind=entry.kind,
            id=entry.id,
            at=entry.at,
            date=entry.earned_on,
            points=entry.points,
            menu_id=entry.menu_id,
            menu_name=entry.menu_name,
            reason=entry.reason,
            source=str(entry.source_kind) if entry.source_kind else None,
            sdg_goals=entry.sdg_goals,
            expires_on=entry.expires_on,
            revoked=entry.revoked_at is not None,
            revoke_reason=entry.revoke_reason,
            points_revoked=entry.points_revoked,
        )
    day = clock.city_date(datetime.fromisoformat(entry.at))
    return HistoryItemOut(
        kind=entry.kind,
        id=entry.id,
        at=entry.at,
        date=day,
        points=entry.points,
        reward_name=entry.reward_name,
        partner=entry.partner,
        voucher=entry.voucher,
        paid_out=entry.paid_out if entry.kind == "transfer" else None,
    )


def _goal_out(goal: GoalTotal) -> GoalOut:
    return GoalOut(goal.goal, goal.name, goal.points, goal.awards)


def _menu_out(menu: MenuView, today: date) -> MenuOut:
    return MenuOut(
        id=menu.id,
        name=menu.name,
        sdg_goals=menu.sdg_goals,
        points=menu.points,
        how_to_earn=menu.how_to_earn,
        trigger=str(menu.trigger),
        department=menu.department,
        valid_from=menu.valid_from,
        valid_until=menu.valid_until,
        limit=str(menu.limit),
        per_year=menu.per_year,
        limit_label=menu.limit_label,
        expires_after_days=menu.expires_after_days,
        expiry_label=menu.expiry_label,
        funder_name=menu.funder_name,
        accepting=menu.started(today) and not menu.budget_reached,
    )


AUTH_PROBLEMS = {
    401: ResponseSpec(data_container=Problem, description="not signed in"),
    403: ResponseSpec(data_container=Problem, description="not a citizen or business account (staff cannot earn)"),
}


@get(
    "/me/points",
    sync_to_thread=True,
    summary="わたしのSDGsポイント（残高・失効予定・履歴・SDGs目標別）",
    description="The balance is today's (Asia/Tokyo), from the ledger itself; the history may lag a write by a"
    " moment. `goals` lists all 17 goals.",
    responses=AUTH_PROBLEMS,
)
def api_my_points(
    request: Request[Any, Any, Any],
    storage: Storage,
    limit: Annotated[int, Parameter(ge=1, le=MAX_HISTORY_PAGE)] = HISTORY_PAGE,
    offset: Annotated[int, Parameter(ge=0, le=MAX_OFFSET)] = 0,
) -> MyPointsOut:
    user = _earner(request)
    standing = _standing(storage, user.id)
    reader = _reader(storage)
    history: HistoryPage = reader.history(str(user.id), limit=limit, offset=offset)
    return MyPointsOut(
        balance=standing.balance,
        as_of=standing.as_of,
        expiring_within_days=EXPIRING_DAYS,
        expiring_total=standing.expiring_total,
        expiring=[ExpiringOut(day, points) for day, points in standing.expiring],
        history=[_history_out(e) for e in history.entries],
        history_offset=history.offset,
        history_has_more=history.has_more,
        goals=[_goal_out(g) for g in reader.goals(str(user.id))],
    )


@get(
    "/sdg-menus",
    sync_to_thread=True,
    summary="SDGsアクションメニューの一覧（実施中・開始予定）",
    responses={422: ResponseSpec(data_container=Problem, description="goal is not 1–17")},
)
def api_menus(storage: Storage, goal: str = "") -> list[MenuOut]:
    chosen = sdg_goal_of(goal) if goal else None
    if goal and chosen is None:
        raise InvalidCommand(field_errors={"goal": gettext("SDGsの目標は1〜17の番号で選んでください。")})
    today = clock.city_today()
    return [_menu_out(m, today) for m in _reader(storage).menus(today, clock.fiscal_year(today), chosen)]


@post(
    "/points/claims",
    status_code=HTTP_201_CREATED,
    sync_to_thread=True,
    summary="会場コードでポイントを受け取る（市民・事業者）",
    description="201: awarded. 409 with `error`: over_budget, over_limit, expired (or withdrawn code),"
    " already_claimed. 422 invalid_code (field_errors.code) for a malformed or forged code."
    " 429 after repeated invalid codes.",
    responses={
        **AUTH_PROBLEMS,
        409: ResponseSpec(data_container=Problem, description="over_budget, over_limit, expired, already_claimed"),
        422: ResponseSpec(data_container=Problem, description="invalid_code; field_errors.code"),
        429: ResponseSpec(data_container=Problem, description="too many invalid codes; wait (Retry-After)"),
    },
)
def api_claim(request: Request[Any, Any, Any], storage: Storage, data: ClaimIn) -> ClaimCreated:
    user = _earner(request)
    award_id = _claim(request, storage, user, data.code)
    award: Award = storage.app.repository.get(award_id)
    menu = storage.app.get_menu(award.menu_id)
    return ClaimCreated(
        award_id=str(award_id),
        points=award.points,
        menu_id=str(menu.id),
        menu_name=menu.name,
        balance=_standing(storage, user.id).balance,
    )


@post(
    "/me/points/redemptions",
    status_code=HTTP_201_CREATED,
    sync_to_thread=True,
    summary="ポイントを特典と交換する（市民・事業者）",
    description="201: the voucher (引換番号) to show at the shop. 409: insufficient_points or out_of_stock."
    " 404: no such reward. 422: the reward is no longer offered.",
    responses={
        **AUTH_PROBLEMS,
        404: ResponseSpec(data_container=Problem, description="no such reward"),
        409: ResponseSpec(data_container=Problem, description="insufficient_points, out_of_stock"),
        422: ResponseSpec(data_container=Problem, description="the reward is no longer offered"),
    },
)
def api_redeem(request: Request[Any, Any, Any], storage: Storage, data: RedemptionIn) -> RedemptionCreated:
    user = _earner(request)
    spending_id = storage.app.redeem_reward(user.id, data.reward_id)
    reward: Reward = storage.app.repository.get(data.reward_id)
    return RedemptionCreated(
        spending_id=str(spending_id),
        voucher=voucher_number(str(spending_id)),
        reward_id=str(reward.id),
        reward_name=reward.name,
        partner=reward.partner,
        points=reward.points,
        balance=_standing(storage, user.id).balance,
    )


api_router = Router(path="/api/v1", route_handlers=[api_my_points, api_menus, api_claim, api_redeem], tags=["v1"])

# Under a Router: two bare handlers on one path (GET and POST /points/claim) would each be registered
# again when the second arrives, and the GET, wrapped for a thread twice, would answer a coroutine.
page_router = Router(path="/points", route_handlers=[claim_form, claim, claimed, rewards, redeem, voucher, menus])

routes: list[Any] = [my_points, transfer, page_router, api_router]
