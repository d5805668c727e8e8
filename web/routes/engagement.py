"""The staff engagement index (ぱいたり値) at /staff/engagement: the organisation's index and
sub-scales per wave with the trend, per department with small ones folded into その他, as of any
past date; and drafting the next wave. Staff and admins only; no page shows any one person.
"""

from datetime import datetime
from typing import Any

from litestar import Request, Router, get, post
from litestar.response import Response, Template

from domain import clock
from domain.engagement import UWES_9, Subscale
from domain.errors import InvalidCommand, NotAllowed
from domain.values import Role
from projections.engagement_read import MIN_GROUP, OTHERS, EngagementReader, end_of_day
from projections.storage import Storage
from web.auth import User, current_user, staff_only
from web.forms import one, parse_date
from web.i18n import gettext
from web.routes.common import FormData, go, page, translated


def _user(request: Request[Any, Any, Any]) -> User:
    user = current_user(request)
    assert user is not None  # The router's guard has checked.
    return user


def _page(
    request: Request[Any, Any, Any],
    storage: Storage,
    *,
    as_of_text: str = "",
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> Template:
    errors = dict(errors or {})
    as_of: datetime | None = None
    if as_of_text:
        day = parse_date(as_of_text, "as_of", errors)
        if day is not None:
            as_of = end_of_day(day)
        else:
            status_code = 422
    waves = EngagementReader(storage.db).waves(as_of)
    finished = [w for w in waves if w.status == "finished"]
    today = clock.city_today()
    user = _user(request)
    return page(
        request,
        "engagement/index.html",
        status_code=status_code,
        waves=waves,
        finished=finished,
        latest=next((w for w in reversed(finished) if w.organisation), None),
        as_of=as_of,
        as_of_text=as_of_text if as_of else "",
        today=today,
        instrument=UWES_9,
        subscales=list(Subscale),
        others=OTHERS,
        min_group=MIN_GROUP,
        my_department=user.department,
        is_admin=user.role is Role.ADMIN,
        errors=errors,
        values=values or {"label": f"{clock.fiscal_year(today)}年度"},
    )


@get("/engagement", sync_to_thread=True)
def engagement_page(request: Request[Any, Any, Any], storage: Storage, as_of: str = "") -> Template:
    return _page(request, storage, as_of_text=as_of.strip())


@post("/engagement/waves", sync_to_thread=True)
def draft_wave(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    errors: dict[str, str] = {}
    opens_on = parse_date(one(data, "opens_on"), "opens_on", errors)
    closes_on = parse_date(one(data, "closes_on"), "closes_on", errors)
    if not errors:
        try:
            survey_id = storage.app.draft_engagement_wave(
                _user(request).id,
                label=one(data, "label"),
                opens_on=opens_on,
                closes_on=closes_on,
                department=one(data, "department") or None,
            )
        except InvalidCommand as e:
            errors = translated(e.field_errors) or {"label": gettext(e.message)}
        except NotAllowed as e:
            errors = {"label": gettext(e.message)}
        else:
            storage.projector.catch_up()
            return go(request, f"/staff/surveys/{survey_id}")
    values = {key: one(data, key) for key in ("label", "opens_on", "closes_on", "department")}
    return _page(request, storage, status_code=422, errors=errors, values=values)


routes: list[Any] = [
    # A Router of its own: the staff pages' Router already owns /staff (see web/routes/points_staff.py).
    Router(path="/staff", guards=[staff_only], route_handlers=[engagement_page, draft_wave]),
]
