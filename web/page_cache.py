"""Public pages computed once per change of the read models, not once per request.

Every read model moves under one position (projections/composite.py), committed in the same
transaction as the rows it describes, and the projector commits in batches (at most a few times a
second). A page built only from read models is therefore a function of what was asked, the
position, and the code that renders it. Each web process keeps such pages, as bytes, keyed by
all three; every worker reads the same position from the database, so all of them agree on what
is current, and a worker renders a page at most once per change of the position.

The position is read afresh for every request, but concurrent requests share the read: a request
waits for a read that began after it arrived, never an older one, so no request is answered from a
position older than the one committed when it came in. The ETag is a digest of the bytes: the same
in every worker, and it changes exactly when the bytes do.

Only anonymous visitors get the cached bytes and `Cache-Control: public`: a signed-in person's page
shows who they are (and a CSRF token), so it is rendered per request (from cached figures where
they exist) and stays `no-store` (web/app.py). Anonymous pages carry no CSRF token and set no CSRF
cookie: they change nothing and have no form that does; the sign-in and sign-up pages, which do,
are not cached and still set both.
"""

import asyncio
import dataclasses
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
import msgspec
from litestar import Request
from litestar.middleware.csrf import CSRFMiddleware
from litestar.response import Template
from litestar.types import ASGIApp, Receive, Scope, Send

from domain.clock import city_today
from projections import results as results_module
from projections import segments
from projections.catalogue import SurveyDetail
from projections.results import SurveyResults
from projections.storage import Storage
from web.auth import SESSION_KEY

# Long enough for a crowd arriving from one link to be served by browsers and proxies, short enough
# that nobody reads numbers more than this much older than the read models.
PUBLIC_MAX_AGE = 5
CACHE_ENTRIES = 512
Version = tuple[int, int]  # read_models_version()
# The handler opt that lets PublicPageMiddleware decide about CSRF instead of Litestar's own.
CSRF_FREE = {"exclude_from_csrf": True}
# A public page: PublicPages may answer an anonymous GET of it from the cache.
OPT = {**CSRF_FREE, "public_page": True}
_PUBLIC = f"public, max-age={PUBLIC_MAX_AGE}".encode()

_SUPPRESSION_SOURCES = ("segments.py", "suppression.py", "results.py")
_SOURCE_DIGEST = hashlib.sha256(
    b"".join((Path(segments.__file__).parent / name).read_bytes() for name in _SUPPRESSION_SOURCES)
).hexdigest()[:16]


def rule_version() -> tuple[Any, ...]:
    """The suppression rule the numbers were hidden under: its constants as they are now (a test
    or an operator may change them in a running process) and the code that applies them."""
    return (results_module.MIN_CELL, segments.MIN_CELL, segments.SUPPRESSED, _SOURCE_DIGEST)


def signed_in(scope: Scope) -> bool:
    session = scope.get("session")
    return isinstance(session, dict) and bool(session.get(SESSION_KEY))


def language(scope: Scope) -> str:
    """The language the page is rendered in (web/i18n.py's middleware chose it)."""
    state = scope.get("state") or {}
    return str(state.get("language", "ja"))


class CachedPage(msgspec.Struct, frozen=True):
    body: bytes
    media_type: str
    etag: str

    @classmethod
    def of(cls, body: bytes, media_type: str) -> "CachedPage":
        return cls(body, media_type, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"')


_VERSION_SQL = (
    "SELECT position, (SELECT COUNT(*) FROM projection_failures WHERE projection = ?)"
    " FROM projection_positions WHERE projection = ?"
)


def read_models_version(storage: Storage) -> Version:
    """Where the read models stand: their position and, since `kyoso projections retry` applies a
    failed event again without moving the position, how many failed events are still on record."""
    name = storage.projector.projection.name
    row = storage.db.query_one(_VERSION_SQL, (name, name))
    return (int(row[0]), int(row[1])) if row else (0, 0)


class _PostgresVersion:
    """read_models_version over one connection of the event loop's own (PostgreSQL): no worker thread
    between the loop and the socket, and one connection per web process whatever the load."""

    def __init__(self, url: str, name: str) -> None:
        self.url, self.name = url, name
        self.conn: Any = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self) -> Version:
        import psycopg

        loop = asyncio.get_running_loop()
        if self.conn is None or self.conn.closed or self.loop is not loop:
            self.conn, self.loop = await psycopg.AsyncConnection.connect(self.url, autocommit=True), loop
        try:
            cur = await self.conn.execute(_VERSION_SQL.replace("?", "%s"), (self.name, self.name))
            row = await cur.fetchone()
        except psycopg.Error:
            await self.close()  # a new connection next time: the server may have restarted
            raise
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None and not conn.closed and self.loop is asyncio.get_running_loop():
            await conn.close()


class _Flight:
    """One read of the version at a time, shared by every request that arrived before it began.

    On SQLite the read is a lookup in a local file that writers never block (write-ahead log):
    made right here it costs less than any hand-over, so each request makes its own."""

    def __init__(self, read: Callable[[], Awaitable[Version]] | Callable[[], Version], inline: bool) -> None:
        self.read = read
        self.inline = inline
        self.loop: asyncio.AbstractEventLoop | None = None
        self.waiting: asyncio.Future[Version] | None = None
        self.running = False

    async def current(self) -> Version:
        if self.inline:
            return self.read()  # type: ignore[return-value]
        loop = asyncio.get_running_loop()
        if loop is not self.loop:  # a new event loop (a test client, a restarted server): start afresh
            self.loop, self.waiting, self.running = loop, None, False
        future = self.waiting
        if future is None:
            future = self.waiting = loop.create_future()
            if not self.running:
                self._start()
        return await asyncio.shield(future)

    def _start(self) -> None:
        future, self.waiting = self.waiting, None
        self.running = True
        assert future is not None and self.loop is not None
        self.loop.create_task(self._run(future))

    async def _run(self, future: asyncio.Future[Version]) -> None:
        try:
            future.set_result(await self.read())  # type: ignore[misc]
        except Exception as error:  # every waiter sees the database's error, as an uncached page would
            future.set_exception(error)
            future.exception()  # retrieved here too, so a future nobody awaits any more is not logged
        finally:
            self.running = False
            if self.waiting is not None:
                self._start()


class PageCache:
    """Rendered pages and computed figures by key, for one process. A key names everything the value
    depends on; its position is the read models' position the value was computed at (or later)."""

    def __init__(self, storage: Storage, entries: int = CACHE_ENTRIES) -> None:
        self.storage = storage
        self.entries = entries
        self.enabled = True
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._flights: dict[Hashable, asyncio.Future[Any]] = {}
        if storage.db.dialect == "sqlite":
            self._reader: _PostgresVersion | None = None
            self._position = _Flight(partial(read_models_version, storage), inline=True)
        else:
            self._reader = _PostgresVersion(storage.db.url, storage.projector.projection.name)  # type: ignore[attr-defined]
            self._position = _Flight(self._reader, inline=False)
        self._latest: Version = (-1, 0)
        self.builds = 0  # how many values were computed: what the tests and the bench count

    async def position(self) -> Version:
        return await self._position.current()

    async def aclose(self) -> None:
        if self._reader is not None:
            await self._reader.close()

    def get(self, key: Hashable) -> Any:
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any, position: Version) -> None:
        with self._lock:
            if position > self._latest:
                # Everything older is stale for any request from now on: drop it rather than wait for LRU.
                self._latest = position
                for old in [k for k in self._values if isinstance(k, tuple) and k and k[0] < position]:
                    del self._values[old]
            self._values[key] = value
            while len(self._values) > self.entries:
                self._values.popitem(last=False)

    async def value(self, position: Version, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """The value for (position, *key), built once in a worker thread however many ask at once."""
        full = (position, *key)
        if self.enabled and (hit := self.get(full)) is not None:
            return hit
        flight = self._flights.get(full)
        if flight is not None:
            return await asyncio.shield(flight)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._flights[full] = future
        try:
            value = await anyio.to_thread.run_sync(build)
        except BaseException as error:
            future.set_exception(error)
            future.exception()
            raise
        finally:
            self._flights.pop(full, None)
        self.builds += 1
        if self.enabled:
            self.put(full, value, position)
        future.set_result(value)
        return value


def page_cache(request: Request[Any, Any, Any]) -> PageCache:
    state = request.app.state
    cache = state.get("page_cache")
    if cache is None:
        cache = state["page_cache"] = PageCache(state.storage)
        request.app.on_shutdown.append(cache.aclose)
    return cache  # type: ignore[no-any-return]


def public_key(scope: Scope) -> tuple[Any, ...]:
    """What of an anonymous request a public page may show: the address (templates echo it, e.g. the
    language switch's link back), the language, and whether htmx asked for the fragment only. Only
    anonymous requests that passed every check of their route fill these entries."""
    return (
        "public",
        scope["path"],
        scope.get("query_string", b""),
        language(scope),
        _header(scope, b"hx-request"),
        city_today(),  # for anything a page says relative to today (締切まであと…)
    )


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


async def public_page(request: Request[Any, Any, Any], position: Version, build: Callable[[], CachedPage]) -> ASGIApp:
    """An anonymous visitor's page, rendered once per position and served to every one of them."""
    page = await page_cache(request).value(position, (*public_key(request.scope), rule_version()), build)
    return public_response(request.scope, page)


class BytesResponse:
    """An ASGI response of bytes already made: what a cached page needs, without Litestar's response
    machinery (header objects, cookies, encoders) on every request. The app's before-send hooks still
    add the security headers and Vary: Cookie, as for every response."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


def public_response(scope: Scope, page: CachedPage) -> BytesResponse:
    """The cached bytes for an anonymous visitor: 304 when they already hold them."""
    headers = [
        (b"cache-control", _PUBLIC),
        (b"etag", page.etag.encode()),
        # The same address is a whole page or, for htmx, a fragment of one.
        (b"vary", b"HX-Request"),
    ]
    if _matches(_header(scope, b"if-none-match"), page.etag):
        return BytesResponse(304, headers, b"")
    headers += [(b"content-type", page.media_type.encode()), (b"content-length", str(len(page.body)).encode())]
    return BytesResponse(200, headers, page.body)


def private_response(page: CachedPage) -> BytesResponse:
    """The same bytes for a signed-in person (web/app.py marks their responses no-store)."""
    headers = [(b"content-type", page.media_type.encode()), (b"content-length", str(len(page.body)).encode())]
    return BytesResponse(200, headers, page.body)


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


class PublicPageMiddleware:
    """For a cached public page: an anonymous GET gets no CSRF token (so the page is the same for
    everyone); a signed-in one goes through Litestar's CSRF middleware as every other page does."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._csrf: CSRFMiddleware | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and not signed_in(scope):
            await self.app(scope, receive, send)
            return
        if self._csrf is None:
            # The handler is excluded from the app-wide check by its opt; this one ignores that opt.
            config = dataclasses.replace(scope["litestar_app"].csrf_config, exclude_from_csrf_key="kyoso.never")
            self._csrf = CSRFMiddleware(self.app, config)
        await self._csrf(scope, receive, send)


def render(request: Request[Any, Any, Any], template: Template) -> CachedPage:
    """A page's bytes, exactly as Litestar would render the same Template for this request."""
    engine = request.app.template_engine
    assert engine is not None and template.template_name is not None
    body = engine.get_template(template.template_name).render(**template.create_template_context(request))
    return CachedPage.of(body.encode(template.encoding), "text/html; charset=utf-8")


async def survey_at(cache: PageCache, storage: Storage, position: Version, survey_id: Any) -> SurveyDetail | None:
    found = await cache.value(position, ("survey", str(survey_id)), lambda: (storage.catalogue.survey(str(survey_id)),))
    return found[0]  # type: ignore[no-any-return]


async def results_at(cache: PageCache, storage: Storage, position: Version, survey: SurveyDetail) -> SurveyResults:
    """A survey's figures (suppression applied) as they stand at the position: computed once per change."""
    return await cache.value(  # type: ignore[no-any-return]
        position, ("figures", survey.id, rule_version()), lambda: storage.results.of(survey)
    )


class PublicPages:
    """The anonymous visitor's short way (app middleware, once the session is loaded and the language
    chosen): an anonymous GET of a public page whose bytes are already made at the current position
    is answered here. CSRF (nothing is submitted), the input checks (the same address and query passed
    them when the page was made), parameter parsing and the handler are then all work that would not
    change the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and handler is not None
            and handler.opt.get("public_page")
        ):
            state = scope["litestar_app"].state
            cache: PageCache | None = state.get("page_cache")
            if cache is not None and cache.enabled and not signed_in(scope):
                position = await cache.position()
                page = cache.get((position, *public_key(scope), rule_version()))
                if page is not None:
                    await public_response(scope, page)(scope, receive, send)
                    return
        await self.app(scope, receive, send)
