"""SDGs points for staff and auditors: menus, venue codes, bulk awards, rewards, payouts, the dashboard.

Staff and admins manage; a menu's rule, codes and bulk awards belong to its department (admins: all),
as the commands check again (domain/points_commands.py). Auditors (and admins) read, at
/audit/points/{participant_id}, the chain of events behind any balance. Every change is a Kyoso
command; the pages read projections/points_dashboard.py.
"""

import csv
import io
import unicodedata
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from uuid import UUID

import segno
from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, Parameter
from litestar.response import Redirect, Response, Template
from markupsafe import Markup

from domain import clock
from domain.errors import InvalidCommand, NotFound
from domain.points_menu import LIMIT_LABELS, TRIGGER_LABELS, Limit, MenuRule, Trigger, check_menu_fields
from domain.text import has_forbidden_characters
from domain.values import Role
from projections.cocreation_read import CoCreationReader
from projections.points_dashboard import AwardRow, MenuRow, PointsReader, points_chain
from projections.storage import Storage
from web import access
from web.auth import User, auditors_only, current_user, staff_only
from web.forms import many, one, parse_date
from web.i18n import Translated, gettext
from web.routes.common import FormData, go, page, translated

MAX_CSV_BYTES = 2 * 1024 * 1024
MAX_CSV_ROWS = 10_000
# The file, plus room for the form's other fields and the multipart framing.
BULK_BODY_LIMIT = MAX_CSV_BYTES + 256 * 1024
UploadData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
ID_COLUMNS = ("participant_id", "参加者id")
EMAIL_COLUMNS = ("email", "メールアドレス", "e-mail")
REFUSALS = {
    "over_budget": "メニューの今年度の予算の上限に達したため付与できませんでした。",
    "over_limit": "1人あたりの獲得回数の上限に達しています。",
    "expired": "メニューの有効期間外です。",
    "not_allowed": "ポイントを獲得できないアカウント（職員・監査・管理者、または削除済み）です。",
    "not_found": "この参加者IDの利用者はいません。",
    "already_claimed": "すでに付与済みです。",
}


def _user(request: Request[Any, Any, Any]) -> User:
    user = current_user(request)
    assert user is not None  # The router's guard has checked.
    return user


def reader(storage: Storage) -> PointsReader:
    return PointsReader(storage.db)


def may_manage(user: User, menu: MenuRow) -> bool:
    """Change the rule, issue codes and bulk-award: the menu's department, or an admin."""
    return user.role is Role.ADMIN or (
        user.role is Role.STAFF and bool(user.department) and user.department == menu.department
    )


def _menu_or_404(storage: Storage, menu_id: UUID) -> MenuRow:
    menu = reader(storage).menu(str(menu_id))
    if menu is None:
        raise NotFoundException("メニューが見つかりません。")
    return menu


# Reading forms


def _integer(raw: str, field: str, errors: dict[str, str], message: str, *, optional: bool = False) -> int | None:
    text = unicodedata.normalize("NFKC", raw).replace(",", "").strip()
    if not text and optional:
        return None
    try:
        # Twenty digits is past every limit the rules allow: anything longer is a typing error.
        if len(text) > 20:
            raise ValueError(text)
        return int(text)
    except ValueError:
        errors[field] = message
        return None


def _goals(values: list[str], errors: dict[str, str]) -> list[int]:
    goals = []
    for value in values:
        number = _integer(value, "sdg_goals", errors, "SDGsの目標は一覧から選んでください。")
        if number is not None:
            goals.append(number)
    return goals


def _uuid(raw: str, field: str, errors: dict[str, str], message: str) -> UUID | None:
    try:
        return UUID(raw.strip())
    except ValueError:
        errors[field] = message
        return None


def rule_from(data: FormData, errors: dict[str, str]) -> MenuRule | None:
    """A menu rule from the form: points, budget, validity, per-person limit, expiry."""
    points = _integer(one(data, "points"), "points", errors, "付与ポイントは整数で入力してください。")
    budget = _integer(one(data, "budget"), "budget", errors, "年度予算（ポイント）は整数で入力してください。")
    valid_from = parse_date(one(data, "valid_from"), "valid_from", errors)
    valid_until = parse_date(one(data, "valid_until"), "valid_until", errors)
    for name, day in (("valid_from", valid_from), ("valid_until", valid_until)):
        if day is None:
            errors.setdefault(name, "日付を入力してください。")
    try:
        limit = Limit(one(data, "limit"))
    except ValueError:
        errors["limit"] = gettext("1人あたりの上限を選んでください。")
        limit = Limit.ONCE
    per_year = 1
    if limit is Limit.PER_YEAR:
        per_year = _integer(one(data, "per_year"), "per_year", errors, "年度内の回数を整数で入力してください。") or 0
    expires = _integer(
        one(data, "expires_after_days"),
        "expires_after_days",
        errors,
        "有効日数は整数で入力してください（空欄は年度末まで）。",
        optional=True,
    )
    if errors or points is None or budget is None or valid_from is None or valid_until is None:
        return None
    return MenuRule(
        points=points, budget=budget, valid_from=valid_from, valid_until=valid_until, limit=limit, per_year=per_year,
        expires_after_days=expires,
    )  # fmt: skip


def rule_values(menu: MenuRow) -> dict[str, str]:
    return {
        "points": str(menu.points),
        "budget": str(menu.budget),
        "valid_from": menu.valid_from.isoformat(),
        "valid_until": menu.valid_until.isoformat(),
        "limit": menu.limit.value,
        "per_year": str(menu.per_year),
        "expires_after_days": "" if menu.expires_after_days is None else str(menu.expires_after_days),
    }


def city_moment(raw: str, field: str, errors: dict[str, str]) -> datetime | None:
    """A datetime-local input (Japan time, YYYY-MM-DDTHH:MM) as an aware moment."""
    try:
        moment = datetime.fromisoformat(raw.strip())
        if not 2000 <= moment.year <= 9000:
            raise ValueError(raw)
    except ValueError:
        errors[field] = gettext("日時をYYYY-MM-DDTHH:MMの形式で入力してください。")
        return None
    return moment.replace(tzinfo=clock.CITY_TZ) if moment.tzinfo is None else moment


def _local(moment: datetime) -> str:
    return moment.astimezone(clock.CITY_TZ).strftime("%Y-%m-%dT%H:%M")


# The dashboard


@get("/points", sync_to_thread=True)
def dashboard(
    request: Request[Any, Any, Any],
    storage: Storage,
    fiscal_year: Annotated[int, Parameter(ge=0, le=9000)] = 0,
) -> Template:
    today = clock.city_today()
    this_year = clock.fiscal_year(today)
    year = fiscal_year or this_year
    read = reader(storage)
    return page(
        request,
        "points_staff/dashboard.html",
        dash=read.dashboard(year, today),
        years=sorted({*read.fiscal_years(), this_year}),
        this_year=this_year,
    )


# Menus


def _menus_page(request: Request[Any, Any, Any], storage: Storage, status_code: int = 200, **context: Any) -> Template:
    user = _user(request)
    today = clock.city_today()
    context.setdefault("errors", {})
    context.setdefault(
        "values",
        {
            "trigger": Trigger.BULK.value,
            "limit": Limit.ONCE.value,
            "valid_from": today.isoformat(),
            "valid_until": date(clock.fiscal_year(today) + 1, 3, 31).isoformat(),
            "sdg_goals": [],
            "survey_ids": [],
            "per_year": "1",
        },
    )
    return page(
        request, "points_staff/menus.html", status_code=status_code, menus=reader(storage).menus(),
        may_manage=lambda m: may_manage(user, m), surveys=storage.catalogue.surveys(limit=500),
        organisations=CoCreationReader(storage.db).organisations(), TRIGGER_LABELS=Translated(TRIGGER_LABELS),
        LIMIT_LABELS=Translated(LIMIT_LABELS), is_admin=user.role is Role.ADMIN, **context,
    )  # fmt: skip


@get("/points/menus", sync_to_thread=True)
def menus(request: Request[Any, Any, Any], storage: Storage) -> Template:
    return _menus_page(request, storage)


@post("/points/menus", sync_to_thread=True)
def define_menu(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    user = _user(request)
    errors: dict[str, str] = {}
    name = one(data, "name")
    goals = _goals(many(data, "sdg_goals"), errors)
    try:
        trigger = Trigger(one(data, "trigger"))
    except ValueError:
        errors["trigger"] = gettext("付与の方法を選んでください。")
        trigger = Trigger.BULK
    rule = rule_from(data, errors)
    message = "対象アンケートは一覧から選んでください。"
    survey_ids = [s for s in (_uuid(v, "survey_ids", errors, message) for v in many(data, "survey_ids")) if s]
    raw_funder = one(data, "funder_id").strip()
    funder = _uuid(raw_funder, "funder_id", errors, "協賛する組織は一覧から選んでください。") if raw_funder else None
    department = one(data, "department").strip() if user.role is Role.ADMIN else None
    if errors or rule is None:
        # Show every problem at once: the name, goals and department too.
        errors = check_menu_fields(name, goals, department or user.department or "") | errors
    else:
        try:
            menu_id = storage.app.define_menu(
                user.id, name=name, sdg_goals=goals, trigger=trigger, rule=rule, department=department,
                survey_ids=survey_ids, funder_id=funder,
            )  # fmt: skip
        except InvalidCommand as e:
            errors = translated(e.field_errors) or {"form": gettext(e.message)}
        except NotFound as e:
            errors = {"funder_id": gettext(e.message)}
        else:
            storage.projector.catch_up()
            return go(request, f"/staff/points/menus/{menu_id}?defined=1")
    values = {**data, "sdg_goals": many(data, "sdg_goals"), "survey_ids": many(data, "survey_ids")}
    return _menus_page(request, storage, status_code=422, errors=errors, values=values)


def _menu_page(
    request: Request[Any, Any, Any], storage: Storage, menu_id: UUID, status_code: int = 200, **context: Any
) -> Template:
    user = _user(request)
    menu = _menu_or_404(storage, menu_id)
    now = clock.now()
    context.setdefault("rule_errors", {})
    context.setdefault("rule_values", rule_values(menu))
    context.setdefault("code_errors", {})
    context.setdefault("code_values", {"valid_from": _local(now), "valid_until": _local(now + timedelta(hours=8))})
    history = [(since, number, rule) for since, number, rule in storage.app.get_menu(menu_id).rules]
    return page(
        request, "points_staff/menu.html", status_code=status_code, menu=menu, history=list(reversed(history)),
        codes=reader(storage).codes(menu.id) if menu.trigger is Trigger.VENUE_CODE else [],
        may_manage=may_manage(user, menu), now=now,
        LIMIT_LABELS=Translated(LIMIT_LABELS), TRIGGER_LABELS=Translated(TRIGGER_LABELS),
        surveys={s.id: s.title for s in storage.catalogue.surveys(limit=500)}, **context,
    )  # fmt: skip


@get("/points/menus/{menu_id:uuid}", sync_to_thread=True)
def menu_page(
    request: Request[Any, Any, Any], storage: Storage, menu_id: UUID, defined: str = "", changed: str = ""
) -> Template:
    return _menu_page(request, storage, menu_id, defined=bool(defined), changed=changed)


@post("/points/menus/{menu_id:uuid}/rule", sync_to_thread=True)
def change_rule(request: Request[Any, Any, Any], storage: Storage, menu_id: UUID, data: FormData) -> Response[Any]:
    _menu_or_404(storage, menu_id)
    errors: dict[str, str] = {}
    rule = rule_from(data, errors)
    if rule is not None:
        try:
            storage.app.change_menu_rule(_user(request).id, menu_id, rule)
        except InvalidCommand as e:
            errors = translated(e.field_errors) or {"form": gettext(e.message)}
    if errors:
        return _menu_page(request, storage, menu_id, status_code=422, rule_errors=errors, rule_values=dict(data))
    storage.projector.catch_up()
    return go(request, f"/staff/points/menus/{menu_id}?changed={quote(_local(clock.now()))}")


# Venue codes


@post("/points/menus/{menu_id:uuid}/codes", sync_to_thread=True)
def issue_code(request: Request[Any, Any, Any], storage: Storage, menu_id: UUID, data: FormData) -> Response[Any]:
    _menu_or_404(storage, menu_id)
    errors: dict[str, str] = {}
    valid_from = city_moment(one(data, "valid_from"), "valid_from", errors)
    valid_until = city_moment(one(data, "valid_until"), "valid_until", errors)
    if valid_from is not None and valid_until is not None:
        try:
            code_id = storage.app.issue_code(
                _user(request).id, menu_id, label=one(data, "label"), valid_from=valid_from, valid_until=valid_until
            )
        except InvalidCommand as e:
            errors = translated(e.field_errors) or {"form": gettext(e.message)}
        else:
            storage.projector.catch_up()
            return go(request, f"/staff/points/codes/{code_id}")
    return _menu_page(request, storage, menu_id, status_code=422, code_errors=errors, code_values=dict(data))


def qr_svg(text: str) -> Markup:
    """The QR code as inline SVG, drawn here (segno): no image is fetched from anywhere."""
    svg = segno.make(text, error="m").svg_inline(
        scale=1, border=4, omitsize=True, svgclass="chart qr-code", lineclass=None, title="会場コードのQRコード"
    )
    return Markup(svg)


@get("/points/codes/{code_id:uuid}", sync_to_thread=True)
def code_page(request: Request[Any, Any, Any], storage: Storage, code_id: UUID) -> Template:
    code = reader(storage).code(str(code_id))
    if code is None:
        raise NotFoundException("コードが見つかりません。")
    menu = reader(storage).menu(code.menu_id)
    # The code grants points to whoever types it: only those who may issue it see it.
    access.require(
        menu is not None and may_manage(_user(request), menu), "他の部署のメニューのコードは表示できません。"
    )
    text = storage.app.code_text(code_id)
    claim_url = f"{str(request.base_url).rstrip('/')}/points/claim"
    url = f"{claim_url}?{urlencode({'code': text})}"
    return page(
        request, "points_staff/code.html", code=code, menu=menu, text=text, url=url, claim_url=claim_url,
        svg=qr_svg(url), now=clock.now(),
    )  # fmt: skip


@post("/points/codes/{code_id:uuid}/withdraw", sync_to_thread=True)
def withdraw_code(request: Request[Any, Any, Any], storage: Storage, code_id: UUID) -> Response[Any]:
    code = reader(storage).code(str(code_id))
    if code is None:
        raise NotFoundException("コードが見つかりません。")
    storage.app.withdraw_code(_user(request).id, code_id)
    storage.projector.catch_up()
    return go(request, f"/staff/points/menus/{code.menu_id}#codes")


# Bulk awards


class BadFile(Exception):
    """A file refused whole: nothing in it is awarded."""


def read_bulk_csv(raw: bytes) -> list[tuple[int, str, str]]:
    """(row number, participant id, e-mail) for each data row; the header is row 1, as in Excel."""
    if len(raw) > MAX_CSV_BYTES:
        raise BadFile(
            f"ファイルが大きすぎます（{MAX_CSV_BYTES // (1024 * 1024)}MBまで）。分けてアップロードしてください。"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadFile(
            "ファイルをUTF-8で読めませんでした。Excelでは「CSV UTF-8（コンマ区切り）」で保存してください。"
        ) from None
    if "\x00" in text:
        raise BadFile("CSVファイルではないようです。")
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        raise BadFile("CSVの形式が正しくありません。") from None
    if not rows:
        raise BadFile("ファイルが空です。")
    header = [unicodedata.normalize("NFKC", cell).strip().lower() for cell in rows[0]]
    id_column = next((header.index(c) for c in ID_COLUMNS if c in header), None)
    email_column = next((header.index(c) for c in EMAIL_COLUMNS if c in header), None)
    if id_column is None and email_column is None:
        raise BadFile("1行目に participant_id または email の列名が必要です。")
    data = [(number, row) for number, row in enumerate(rows[1:], 2) if any(cell.strip() for cell in row)]
    if not data:
        raise BadFile("参加者の行がありません。")
    if len(data) > MAX_CSV_ROWS:
        raise BadFile(f"行数が多すぎます（{MAX_CSV_ROWS:,}行まで）。分けてアップロードしてください。")

    def cell(row: list[str], column: int | None) -> str:
        return row[column].strip() if column is not None and column < len(row) else ""

    return [(number, cell(row, id_column), cell(row, email_column)) for number, row in data]


def _bulk_menus(user: User, storage: Storage) -> list[MenuRow]:
    return [m for m in reader(storage).menus() if m.trigger is Trigger.BULK and may_manage(user, m)]


def _bulk_form(request: Request[Any, Any, Any], storage: Storage, status_code: int = 200, **context: Any) -> Template:
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return page(
        request, "points_staff/bulk.html", status_code=status_code, menus=_bulk_menus(_user(request), storage),
        max_rows=MAX_CSV_ROWS, max_mb=MAX_CSV_BYTES // (1024 * 1024), **context,
    )  # fmt: skip


@get("/points/bulk", sync_to_thread=True)
def bulk_form(request: Request[Any, Any, Any], storage: Storage, menu: str = "") -> Template:
    return _bulk_form(request, storage, values={"menu": menu})


@post("/points/bulk", sync_to_thread=True, request_max_body_size=BULK_BODY_LIMIT)
def bulk_award(request: Request[Any, Any, Any], storage: Storage, data: UploadData) -> Response[Any]:
    user = _user(request)
    errors: dict[str, str] = {}
    values = {"menu": one(data, "menu"), "reference": one(data, "reference")}
    menu_id = _uuid(values["menu"], "menu", errors, "メニューを選んでください。")
    upload = data.get("file")
    rows: list[tuple[int, str, str]] = []
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = gettext("CSVファイルを選んでください。")
    else:
        try:
            rows = read_bulk_csv(upload.file.read(MAX_CSV_BYTES + 1))
        except BadFile as e:
            errors["file"] = str(e)
    if errors or menu_id is None:
        return _bulk_form(request, storage, status_code=422, errors=errors, values=values)
    refused: list[tuple[int, str]] = []
    listed: list[tuple[int, UUID]] = []
    first_row: dict[UUID, int] = {}
    for number, raw_id, email in rows:
        participant: UUID | None = None
        if raw_id:
            try:
                participant = UUID(raw_id)
            except ValueError:
                refused.append((number, "参加者IDの形式が正しくありません。"))
                continue
        elif email:
            identity = None if has_forbidden_characters(email) else storage.identities.find_by_email(email)
            if identity is None:
                refused.append((number, "このメールアドレスの利用者はいません。"))
                continue
            participant = identity.participant_id
        else:
            refused.append((number, "参加者IDもメールアドレスも空欄です。"))
            continue
        if participant in first_row:
            # One award per person and reference: the same person twice in one list earns once.
            refused.append((number, f"{first_row[participant]}行目と同じ人です（付与は1回です）。"))
            continue
        first_row[participant] = number
        listed.append((number, participant))
    reference = values["reference"].strip()
    storage.projector.catch_up()
    # Who already holds this award needs no second decision (its id exists: the ledger would refuse
    # it), so a list uploaded again costs a query, not a decision per row.
    held = reader(storage).bulk_awarded(str(menu_id), reference, [str(p) for _, p in listed])
    already_rows = [number for number, p in listed if str(p) in held]
    to_award = [(number, p) for number, p in listed if str(p) not in held]
    try:
        outcome = storage.app.award_bulk(
            user.id, menu_id, reference=values["reference"], participant_ids=[p for _, p in to_award]
        )
    except InvalidCommand as e:
        errors = translated(e.field_errors) or {"menu": gettext(e.message)}
        return _bulk_form(request, storage, status_code=422, errors=errors, values=values)
    except NotFound as e:
        return _bulk_form(request, storage, status_code=422, errors={"menu": gettext(e.message)}, values=values)
    storage.projector.catch_up()
    codes = dict(outcome.refused)
    awarded_rows: list[int] = []
    for index, (number, _) in enumerate(to_award, 1):
        if index in codes:
            refused.append((number, REFUSALS.get(codes[index], f"付与できませんでした（{codes[index]}）。")))
        else:
            awarded_rows.append(number)
    return page(
        request, "points_staff/bulk_report.html", menu=reader(storage).menu(str(menu_id)), reference=reference,
        awarded=outcome.awarded, already=len(already_rows) + outcome.already, refused=sorted(refused),
        awarded_rows=spans(awarded_rows), already_rows=spans(already_rows), rows=len(rows),
    )  # fmt: skip


def spans(numbers: list[int]) -> str:
    """Row numbers as short ranges: 2–51、60."""
    runs: list[list[int]] = []
    for number in sorted(numbers):
        if runs and runs[-1][1] == number - 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return "、".join(str(a) if a == b else f"{a}–{b}" for a, b in runs)


# Rewards


def _rewards_page(
    request: Request[Any, Any, Any], storage: Storage, status_code: int = 200, **context: Any
) -> Template:
    context.setdefault("errors", {})
    context.setdefault("values", {})
    return page(
        request, "points_staff/rewards.html", status_code=status_code, rewards=reader(storage).rewards(), **context
    )


@get("/points/rewards", sync_to_thread=True)
def rewards(request: Request[Any, Any, Any], storage: Storage) -> Template:
    return _rewards_page(request, storage)


@post("/points/rewards", sync_to_thread=True)
def offer_reward(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    errors: dict[str, str] = {}
    points = _integer(one(data, "points"), "points", errors, "必要ポイントは整数で入力してください。")
    stock = _integer(
        one(data, "stock"), "stock", errors, "在庫数は整数で入力してください（空欄は無制限）。", optional=True
    )
    if not errors and points is not None:
        try:
            storage.app.offer_reward(
                _user(request).id, name=one(data, "name"), partner=one(data, "partner"), points=points, stock=stock
            )
        except InvalidCommand as e:
            errors = translated(e.field_errors) or {"form": gettext(e.message)}
        else:
            storage.projector.catch_up()
            return go(request, "/staff/points/rewards")
    return _rewards_page(request, storage, status_code=422, errors=errors, values=dict(data))


@post("/points/rewards/{reward_id:uuid}/withdraw", sync_to_thread=True)
def withdraw_reward(request: Request[Any, Any, Any], storage: Storage, reward_id: UUID) -> Response[Any]:
    storage.app.withdraw_reward(_user(request).id, reward_id)
    storage.projector.catch_up()
    return go(request, "/staff/points/rewards")


# Payouts


def _payouts_page(
    request: Request[Any, Any, Any], storage: Storage, status_code: int = 200, **context: Any
) -> Template:
    read = reader(storage)
    waiting = read.waiting_transfers()
    return page(
        request, "points_staff/payouts.html", status_code=status_code, waiting=waiting,
        waiting_points=sum(t.points for t in waiting), batches=read.batches(), **context,
    )  # fmt: skip


@get("/points/payouts", sync_to_thread=True)
def payouts(request: Request[Any, Any, Any], storage: Storage, made: str = "") -> Template:
    return _payouts_page(request, storage, made=made)


@post("/points/payouts", sync_to_thread=True)
def make_batch(request: Request[Any, Any, Any], storage: Storage) -> Response[Any]:
    storage.projector.catch_up()
    waiting = [UUID(t.id) for t in reader(storage).waiting_transfers()]
    try:
        batch_id = storage.app.make_payout_batch(_user(request).id, waiting)
    except InvalidCommand as e:
        storage.projector.catch_up()
        return _payouts_page(request, storage, status_code=422, error=gettext(e.message), made="")
    storage.projector.catch_up()
    return go(request, f"/staff/points/payouts?made={batch_id}")


def _cell(value: Any) -> Any:
    # Excel runs a cell starting = + - @ (or tab, CR) as a formula: such text is kept text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


@get("/points/payouts/{batch_id:uuid}/lines.csv", sync_to_thread=True)
def payout_csv(storage: Storage, batch_id: UUID) -> Response[bytes]:
    lines = storage.app.payout_lines(batch_id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = list(lines[0]) if lines else []
    writer.writerow(columns)
    for line in lines:
        writer.writerow([_cell(line[c]) for c in columns])
    # Excel detects UTF-8 only with a byte-order mark.
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="kyoso-payout-{batch_id}.csv"'},
    )


# Awards and revocation


def _awards_page(
    request: Request[Any, Any, Any], storage: Storage, q: str, status_code: int = 200, **context: Any
) -> Template:
    found = []
    error = context.pop("error", None)
    if q.strip():
        try:
            key = str(UUID(q.strip()))
        except ValueError:
            error, status_code = (
                "付与IDまたは参加者IDを入力してください（例: 0f8fad5b-d9cb-469f-a165-70867728950e）。",
                422,
            )
        else:
            award = reader(storage).award(key)
            found = _with_unspent(storage, [award] if award else reader(storage).awards_of(key))
    return page(
        request, "points_staff/awards.html", status_code=status_code, q=q, awards=found, error=error,
        errors=context.pop("errors", {}), **context,
    )  # fmt: skip


def _with_unspent(storage: Storage, awards: list[AwardRow]) -> list[AwardRow]:
    """The awards (one person's) with what is left of each, as the person's account says."""
    if not awards:
        return awards
    account = storage.app.points_account(UUID(awards[0].participant_id))
    if account is None:
        return awards
    return [replace(award, remaining=account.unspent(UUID(award.id))) for award in awards]


@get("/points/awards", sync_to_thread=True)
def awards(request: Request[Any, Any, Any], storage: Storage, q: str = "", revoked: str = "") -> Template:
    return _awards_page(request, storage, q, revoked=revoked)


@post("/points/awards/{award_id:uuid}/revoke", sync_to_thread=True)
def revoke(request: Request[Any, Any, Any], storage: Storage, award_id: UUID, data: FormData) -> Response[Any]:
    try:
        removed = storage.app.revoke_award(_user(request).id, award_id, one(data, "reason"))
    except InvalidCommand as e:
        errors = {str(award_id): translated(e.field_errors).get("reason") or gettext(e.message)}
        return _awards_page(request, storage, str(award_id), status_code=422, errors=errors, revoked="")
    storage.projector.catch_up()
    return go(request, f"/staff/points/awards?{urlencode({'q': str(award_id), 'revoked': removed})}")


# Auditors


@get("/points", sync_to_thread=True)
def audit_lookup(request: Request[Any, Any, Any], participant_id: str = "") -> Response[Any]:
    if participant_id.strip():
        try:
            return Redirect(f"/audit/points/{UUID(participant_id.strip())}", status_code=303)
        except ValueError:
            error = "参加者ID（例: 0f8fad5b-d9cb-469f-a165-70867728950e）を入力してください。"
            return page(request, "points_staff/audit_lookup.html", status_code=422, error=error, value=participant_id)
    return page(request, "points_staff/audit_lookup.html", error=None, value="")


@get("/points/{participant_id:uuid}", sync_to_thread=True)
def audit_chain(request: Request[Any, Any, Any], storage: Storage, participant_id: UUID) -> Template:
    today = clock.city_today()
    chain = points_chain(storage.app, storage.db, participant_id, today)
    account = storage.app.points_account(participant_id)
    return page(
        request, "points_staff/audit_chain.html", participant_id=participant_id, chain=chain, today=today,
        aggregate_balance=account.balance(today) if account else 0, may_revoke=_user(request).is_staff,
    )  # fmt: skip


routes: list[Any] = [
    # Routers of their own: the staff and audit pages' Routers already own /staff and /audit, and a
    # bare handler on a path below them would be registered twice by Litestar.
    Router(
        path="/staff",
        guards=[staff_only],
        route_handlers=[
            dashboard,
            menus,
            define_menu,
            menu_page,
            change_rule,
            issue_code,
            code_page,
            withdraw_code,
            bulk_form,
            bulk_award,
            rewards,
            offer_reward,
            withdraw_reward,
            payouts,
            make_batch,
            payout_csv,
            awards,
            revoke,
        ],
    ),
    Router(path="/audit", guards=[auditors_only], route_handlers=[audit_lookup, audit_chain]),
]
