"""Builds the Litestar application: storage, sessions, CSRF, guards, headers, templates, API."""

import logging
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.openapi.config import OpenAPIConfig
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.template.config import TemplateConfig
from litestar.types import Message, Scope

from domain.errors import AlreadyAnswered, DomainError, EmailAlreadyRegistered, InvalidCommand, NotAllowed, NotFound
from domain.messages import N_
from projections.storage import Storage
from web import templating
from web.auth import SESSION_KEY, current_user
from web.boundary import BoundaryMiddleware, RefusedInput
from web.i18n import LocaleMiddleware, gettext
from web.mailer import Mailer
from web.page_cache import PublicPages
from web.routes import (
    api,
    audit,
    auth_pages,
    cocreation,
    engagement,
    ideas,
    kpis,
    language,
    me,
    notices,
    pages,
    participate,
    password_reset,
    points,
    points_staff,
    preferences,
    staff,
    themes,
)
from web.sessions import DatabaseSessionStore, RotatingSessionConfig
from web.settings import Settings
from web.themes import ThemeJobs
from web.throttle import AuthThrottle, limit_auth_attempts

log = logging.getLogger(__name__)
HERE = Path(__file__).parent

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def security_headers(secure: bool) -> Any:
    """A before-send hook: unlike middleware it also sees responses for unrouted paths."""
    headers = list(SECURITY_HEADERS)
    if secure:
        headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            sent = message.get("headers", [])
            if _signed_in(scope) and not scope["path"].startswith("/static/"):
                # What a signed-in person sees (their pages, staff CSVs) must not stay in any cache.
                sent = [(k, v) for k, v in sent if k.lower() != b"cache-control"]
                sent.append((b"cache-control", b"no-store"))
            # Pages differ by who is signed in: a shared cache must never hand one person's page to another.
            varies = [v for k, v in sent if k.lower() == b"vary"]
            sent = [(k, v) for k, v in sent if k.lower() != b"vary"]
            sent.append((b"vary", b", ".join([*varies, b"Cookie"])))
            message["headers"] = [*sent, *headers]  # type: ignore[typeddict-unknown-key]

    return add_headers


def _signed_in(scope: Scope) -> bool:
    session = scope.get("session")
    return isinstance(session, dict) and bool(session.get(SESSION_KEY))


STATUS = {
    NotFound: 404,
    NotAllowed: 403,
    AlreadyAnswered: 409,
    EmailAlreadyRegistered: 409,
    InvalidCommand: 422,
}


def domain_status(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 409


def wants_json(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/") or request.url.path.startswith("/schema")


def on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    status = domain_status(exc)
    if wants_json(request):
        # The API's detail stays Japanese in every language: clients read the stable `error` code.
        body: dict[str, Any] = {"status_code": status, "error": exc.code, "detail": str(exc.message)}
        if isinstance(exc, InvalidCommand) and exc.field_errors:
            body["field_errors"] = {field: str(message) for field, message in exc.field_errors.items()}
        return Response(body, status_code=status)
    return error_page(request, status, exc.message)


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if wants_json(request):
        body: dict[str, Any] = {"status_code": exc.status_code, "detail": exc.detail}
        if getattr(exc, "extra", None):
            body["extra"] = exc.extra
        return Response(body, status_code=exc.status_code, headers=exc.headers or None)
    if isinstance(exc, NotAuthorizedException) and request.method == "GET":
        return Redirect(f"/login?next={request.url.path}")
    messages = {
        400: N_("リクエストの内容が正しくありません。"),
        401: N_("ログインしてください。"),
        403: N_("この操作を行う権限がありません。（画面を再読み込みしてからもう一度お試しください）"),
        404: N_("ページが見つかりません。"),
        405: N_("この操作はできません。"),
        413: N_("送信された内容が大きすぎます。"),
        429: N_("短時間に操作が集中しました。しばらく待ってからもう一度お試しください。"),
    }
    message = messages.get(exc.status_code, N_("エラーが発生しました。"))
    if isinstance(exc, PermissionDeniedException) and exc.detail and "CSRF" not in exc.detail:
        message = exc.detail
    return error_page(request, exc.status_code, message, headers=exc.headers)


def on_refused_input(request: Request[Any, Any, Any], exc: RefusedInput) -> Response[Any]:
    if wants_json(request):
        body: dict[str, Any] = {"status_code": exc.status_code, "error": exc.error, "detail": exc.detail}
        if exc.field_errors:
            body["field_errors"] = exc.field_errors
        return Response(body, status_code=exc.status_code)
    # htmx would swap the error page into the form it came from: show it as the whole page.
    headers = {"HX-Retarget": "body", "HX-Reswap": "innerHTML"} if request.headers.get("hx-request") else None
    return error_page(request, exc.status_code, exc.detail, headers=headers)


def on_server_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if wants_json(request):
        return Response({"status_code": 500, "detail": "internal error"}, status_code=500)
    return error_page(request, HTTP_500_INTERNAL_SERVER_ERROR, N_("申し訳ありません。システムエラーが発生しました。"))


def error_page(
    request: Request[Any, Any, Any], status: int, message: str, headers: dict[str, str] | None = None
) -> Response[Any]:
    return Template(
        "error.html",
        # Messages are written in Japanese; the page shows them in the request's language where known.
        context={"status": status, "message": gettext(message), "user": current_user(request)},
        status_code=status,
        headers=headers,
    )


def create_app(settings: Settings | None = None, storage: Storage | None = None) -> Litestar:
    settings = settings or Settings()
    owns_storage = storage is None
    storage = storage or Storage.open(settings.data_dir, settings.database_url)

    mailer = Mailer(storage, settings)

    def on_startup() -> None:
        if settings.project_in_process:
            storage.start_projecting()
        storage.start_checkpointing()
        mailer.start()  # sends the e-mail outbox; does nothing without KYOSO_SMTP_URL

    def on_shutdown() -> None:
        mailer.stop()
        storage.stop_checkpointing()
        if owns_storage:
            storage.close()

    def provide_storage(state: State) -> Storage:
        return state.storage

    session_config = RotatingSessionConfig(
        store="sessions",
        key=settings.session_cookie,
        max_age=settings.session_max_age,
        secure=settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    csrf = CSRFConfig(
        secret=settings.resolved_secret(),
        cookie_secure=settings.secure_cookies,
        cookie_samesite="lax",
        cookie_name=settings.csrf_cookie,
        header_name="x-csrftoken",
    )
    return Litestar(
        route_handlers=[
            *pages.routes,
            *me.routes,
            *ideas.routes,
            *cocreation.routes,
            *participate.routes,
            *points.routes,
            *points_staff.routes,
            *notices.routes,
            *preferences.routes,
            *engagement.routes,
            *kpis.routes,
            *language.routes,
            # Sign-in and sign-up attempts are limited per client address (counted in the database).
            Router(path="/", route_handlers=auth_pages.routes, guards=[limit_auth_attempts]),
            *password_reset.routes,  # its POSTs count against the same per-address budget themselves
            *staff.routes,
            *themes.routes,
            *audit.routes,
            api.router,
            create_static_files_router(path="/static", directories=[HERE / "static"], name="static"),
        ],
        dependencies={"storage": Provide(provide_storage, sync_to_thread=False)},
        state=State(
            {
                "storage": storage,
                "settings": settings,
                "theme_jobs": ThemeJobs(storage),
                "auth_throttle": AuthThrottle(storage.db, settings),
            }
        ),
        stores={"sessions": DatabaseSessionStore(storage.db)},
        middleware=[
            session_config.middleware,
            # Before any handler, so that every page, error pages included, speaks the request's language;
            # after the session, so that a signed-in person's saved choice applies.
            LocaleMiddleware,
            # Public pages already made answer anonymous visitors here (web/page_cache.py).
            PublicPages,
            # After the session, so that an error page still knows who is signed in.
            BoundaryMiddleware,
        ],
        csrf_config=csrf,
        plugins=[HTMXPlugin()],
        template_config=TemplateConfig(
            directory=HERE / "templates", engine=JinjaTemplateEngine, engine_callback=templating.configure
        ),
        openapi_config=OpenAPIConfig(
            title="Kyoso API",
            version="1.0.0",
            description="共創 Kyoso: 市政アンケートの一元化と結果の見える化のための API",
            path="/schema",
        ),
        exception_handlers={
            DomainError: on_domain_error,
            RefusedInput: on_refused_input,
            HTTPException: on_http_error,
            HTTP_500_INTERNAL_SERVER_ERROR: on_server_error,
        },
        request_max_body_size=settings.max_body_bytes,
        before_send=[security_headers(settings.secure_cookies)],
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
    )
