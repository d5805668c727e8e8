"""Rate limits on signing in and up, counted in the database so that every web worker shares them.

Two limits: attempts per client address (POST /login and /signup), and failed logins per
account, which lock that account's sign-in for a while whether or not the account exists. The
client address is the socket's peer; X-Forwarded-For is believed only from trusted proxies.
"""

import hashlib
import hmac
import ipaddress
import math
import time
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Scope

from domain.identities import normalise_email
from projections.database import Database
from web.security_log import security_event
from web.settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
AUTH_PATHS = frozenset({"/login", "/signup", "/signup/business"})
_PURGE_EVERY = 300.0


def parse_networks(text: str) -> tuple[Network, ...]:
    """KYOSO_TRUSTED_PROXIES: comma-separated addresses or CIDR blocks (a bad entry fails at start)."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


def _trusted(host: str, networks: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def client_address(scope: Scope, trusted: tuple[Network, ...]) -> str:
    """The socket's peer; behind trusted proxies, the right-most forwarded hop that is not one.

    Each proxy appends the address it saw, so entries left of the last untrusted one were written
    by the client and prove nothing.
    """
    client = scope.get("client")
    host = client[0] if client else "unknown"
    if not _trusted(host, trusted):
        return host
    hops = [
        hop.strip()
        for name, value in scope["headers"]
        if name == b"x-forwarded-for"
        for hop in value.decode("latin-1").split(",")
    ]
    for hop in reversed(hops):
        if not hop:
            continue
        if not _trusted(hop, trusted):
            return hop
        host = hop
    return host


class Counter:
    """Hits per key in fixed windows that open at a key's first hit; one atomic upsert per hit.

    Keys are HMACs of what is counted, so the table holds no address or e-mail in the clear.
    """

    def __init__(self, db: Database, secret: str, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self._secret = secret.encode()
        self._clock = clock
        self._purged_at = 0.0

    def key(self, kind: str, subject: str) -> str:
        digest = hmac.new(self._secret, f"{kind}\n{subject}".encode(), hashlib.sha256).hexdigest()
        return f"{kind}:{digest[:40]}"

    def hit(self, kind: str, subject: str, window: float) -> tuple[int, float]:
        """Counts one hit; returns the hits in the current window and the seconds left in it."""
        now = self._clock()
        with self.db.transaction() as cur:
            cur.execute(
                "INSERT INTO throttle_counts (key, hits, expires_at) VALUES (?, 1, ?)"
                " ON CONFLICT (key) DO UPDATE SET"
                " hits = CASE WHEN throttle_counts.expires_at <= ? THEN 1 ELSE throttle_counts.hits + 1 END,"
                " expires_at = CASE WHEN throttle_counts.expires_at <= ?"
                " THEN excluded.expires_at ELSE throttle_counts.expires_at END"
                " RETURNING hits, expires_at",
                (self.key(kind, subject), now + window, now, now),
            )
            row = cur.fetchone()
        assert row is not None
        if now - self._purged_at > _PURGE_EVERY:
            self.purge()
        return int(row[0]), float(row[1]) - now

    def hits(self, kind: str, subject: str) -> tuple[int, float]:
        """The hits in the current window and the seconds left in it, without counting one."""
        now = self._clock()
        row = self.db.query_one(
            "SELECT hits, expires_at FROM throttle_counts WHERE key = ? AND expires_at > ?",
            (self.key(kind, subject), now),
        )
        return (0, 0.0) if row is None else (int(row[0]), float(row[1]) - now)

    def forget(self, kind: str, subject: str) -> None:
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM throttle_counts WHERE key = ?", (self.key(kind, subject),))

    def purge(self) -> None:
        self._purged_at = now = self._clock()
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM throttle_counts WHERE expires_at <= ?", (now,))


class AuthThrottle:
    def __init__(self, db: Database, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.counter = Counter(db, settings.resolved_secret(), clock)
        self.trusted = parse_networks(settings.trusted_proxies)
        self.per_minute = settings.auth_rate_limit_per_minute
        self.failure_limit = settings.login_failure_limit
        self.failure_window = settings.login_failure_window

    def address(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        return client_address(connection.scope, self.trusted)

    def attempt(self, address: str) -> float | None:
        """Counts a sign-in or sign-up attempt; the seconds to wait if over the limit, else None."""
        hits, left = self.counter.hit("auth-address", address, 60.0)
        return left if hits > self.per_minute else None

    def account_locked(self, email: str) -> float | None:
        """The seconds to wait if this e-mail's failed logins reached the limit, else None."""
        hits, left = self.counter.hits("login-failures", normalise_email(email))
        return left if hits >= self.failure_limit else None

    def login_failed(self, email: str) -> None:
        self.counter.hit("login-failures", normalise_email(email), self.failure_window)

    def login_succeeded(self, email: str) -> None:
        self.counter.forget("login-failures", normalise_email(email))


def throttle_of(connection: ASGIConnection[Any, Any, Any, Any]) -> AuthThrottle:
    return connection.app.state.auth_throttle  # type: ignore[no-any-return]


async def limit_auth_attempts(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard: sign-in and sign-up attempts per client address; viewing the forms is free."""
    if connection.scope.get("method") != "POST" or connection.scope["path"] not in AUTH_PATHS:
        return
    throttle = throttle_of(connection)
    address = throttle.address(connection)
    wait = await anyio.to_thread.run_sync(throttle.attempt, address)
    if wait is not None:
        security_event("rate_limited", None, client=address, path=connection.scope["path"])
        raise TooManyRequestsException(headers={"Retry-After": str(max(1, math.ceil(wait)))})
