"""Small helpers the page handlers share."""

from typing import Annotated, Any
from urllib.parse import urlparse
from uuid import UUID

import anyio.to_thread
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Response, Template

from projections.catalogue import SurveyDetail
from projections.storage import Storage
from web import access
from web.auth import User, current_user
from web.i18n import gettext
from web.page_cache import Version, page_cache, signed_in, survey_at

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def page(request: Request[Any, Any, Any], name: str, status_code: int = 200, **context: Any) -> Template:
    context.setdefault("user", current_user(request))
    return Template(name, context=context, status_code=status_code)


def translated(errors: dict[str, str]) -> dict[str, str]:
    """A rule's messages (written in Japanese where the rule is) in the request's language."""
    return {field: gettext(message) for field, message in errors.items()}


def go(request: Request[Any, Any, Any], url: str) -> Response[Any]:
    """A redirect after a successful POST; htmx gets an HX-Redirect so the whole page changes."""
    if request.headers.get("hx-request"):
        return Response(content=None, status_code=200, headers={"HX-Redirect": url})
    return Redirect(url, status_code=303)


def safe_next(url: str | None, default: str = "/") -> str:
    """Only same-site paths, so a login link cannot send anyone elsewhere."""
    if not url:
        return default
    # Browsers read a backslash as "/" and drop tabs and newlines, so "/" + backslash + "evil.example"
    # or "/<tab>/evil.example" would leave the site; no control character belongs in a path anyway.
    if "\\" in url or any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in url):
        return default
    parsed = urlparse(url)
    if parsed.scheme or parsed.netloc or not url.startswith("/") or url.startswith("//"):
        return default
    return url


def survey_or_404(storage: Storage, survey_id: UUID) -> SurveyDetail:
    survey = storage.catalogue.survey(str(survey_id))
    if survey is None:
        raise NotFoundException(gettext("アンケートが見つかりません。"))
    return survey


async def visible_survey_at(
    request: Request[Any, Any, Any], storage: Storage, survey_id: UUID
) -> tuple[Version, SurveyDetail, User | None]:
    """For a cached public page: the read models' position, the survey as it stands there, and who
    asks (None for an anonymous visitor, found without a worker thread); a 404 where they may not see it."""
    cache = page_cache(request)
    position = await cache.position()
    survey = await survey_at(cache, storage, position, survey_id)
    user = await anyio.to_thread.run_sync(current_user, request) if signed_in(request.scope) else None
    if survey is None or not access.may_view_survey(user, survey):
        raise NotFoundException("アンケートが見つかりません。")
    return position, survey, user
