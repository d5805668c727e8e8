"""Server-side sessions kept in the read-model database, with the id rotated at login.

Litestar's server-side backend keeps one id for the life of a session; reusing it across login
invites session fixation, so a handler that authenticates asks for a fresh id.
"""

import time
from collections import OrderedDict
from datetime import timedelta
from typing import Any

import anyio.to_thread
import msgspec
from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store
from litestar.types import Empty, Message, ScopeSession

from projections.database import Database
from web.auth import SESSION_KEY

ROTATE = "kyoso.rotate_session"
_NEW_ID = "kyoso.new_session_id"
# Sessions are read on every request; a short-lived local copy spares the database, and the
# lifetime bounds how long a logout in another worker process can go unnoticed here.
_CACHE_SECONDS = 5.0
_CACHE_SIZE = 10_000


def _seconds(value: int | timedelta | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class DatabaseSessionStore(Store):
    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: OrderedDict[str, tuple[float, bytes, float | None]] = OrderedDict()

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        cached = self._cache.get(key)
        expires_at = None if expires_in is None else time.time() + (_seconds(expires_in) or 0)
        if cached and cached[1] == data and time.monotonic() - cached[0] < _CACHE_SECONDS:
            return  # Unchanged: Litestar re-saves the session on every response.
        await anyio.to_thread.run_sync(self._write, key, data, expires_at)
        self._remember(key, data, expires_at)

    def _write(self, key: str, data: bytes, expires_at: float | None) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO web_sessions (session_id, data, expires_at, participant_id) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (session_id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at,"
                " participant_id = excluded.participant_id",
                (key, data, expires_at, _participant_of(data)),
            )

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        cached = self._cache.get(key)
        now = time.time()
        fresh = cached and time.monotonic() - cached[0] < _CACHE_SECONDS
        if fresh and (cached[2] is None or cached[2] > now):  # type: ignore[index]
            return cached[1]  # type: ignore[index]
        row = await anyio.to_thread.run_sync(
            self.db.query_one, "SELECT data, expires_at FROM web_sessions WHERE session_id = ?", (key,)
        )
        if row is None:
            self._cache.pop(key, None)
            return None
        data, expires_at = bytes(row[0]), row[1]
        if expires_at is not None and expires_at <= now:
            await self.delete(key)
            return None
        self._remember(key, data, expires_at)
        return data

    def _remember(self, key: str, data: bytes, expires_at: float | None) -> None:
        self._cache[key] = (time.monotonic(), data, expires_at)
        self._cache.move_to_end(key)
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)

    async def delete(self, key: str) -> None:
        self._cache.pop(key, None)
        await anyio.to_thread.run_sync(self._delete, key)

    def _delete(self, key: str) -> None:
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM web_sessions WHERE session_id = ?", (key,))

    async def delete_all(self) -> None:
        self._cache.clear()
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM web_sessions")

    async def delete_expired(self) -> None:
        self.purge_expired()

    def purge_expired(self) -> None:
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM web_sessions WHERE expires_at < ?", (time.time(),))

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        row = self.db.query_one("SELECT expires_at FROM web_sessions WHERE session_id = ?", (key,))
        if row is None or row[0] is None:
            return None
        return int(row[0] - time.time())


def _participant_of(data: bytes) -> str | None:
    """Whose session this is, so that erasing a person can end all their sessions at once."""
    try:
        user = msgspec.json.decode(data).get(SESSION_KEY) or {}
        return str(user["participant_id"])
    except (msgspec.DecodeError, AttributeError, KeyError, TypeError):
        return None


_LOADED = "kyoso.loaded_session"


class RotatingSessionBackend(ServerSideSessionBackend):
    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        connection.scope[_LOADED] = dict(data)  # type: ignore[literal-required]
        return data

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        scope: Any = connection.scope
        if scope.get(ROTATE):
            if _NEW_ID not in scope:
                scope[_NEW_ID] = self.generate_session_id()
            return scope[_NEW_ID]
        return super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        scope: Any = connection.scope
        has_cookie = bool(connection.cookies.get(self.config.key))
        if not scope_session and not has_cookie:
            return  # An anonymous visitor: no session row, no cookie, nothing to write.
        if has_cookie and not scope.get(ROTATE) and scope_session == scope.get(_LOADED):
            return  # Unchanged (most requests): no re-serialising, no write, no new cookie header.
        if not scope_session:
            scope_session = Empty  # Logged out: drop the row and expire the cookie.
        if scope.get(ROTATE) and (old := connection.cookies.get(self.config.key)):
            await self.delete(old, store=self.config.get_store_from_app(scope["app"]))
        await super().store_in_message(scope_session, message, connection)


class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


def rotate_session(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Asks for a new session id on this response, and drops the old one."""
    connection.scope[ROTATE] = True  # type: ignore[literal-required]
