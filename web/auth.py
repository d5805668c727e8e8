"""Who is asking: the signed-in participant from the session, and the guards on routes.

The session remembers who signed in; what they may do comes from the Participant aggregate as it
stands now, so a demoted, moved or erased account loses access at its next request rather than
when its session ends hours later.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from uuid import UUID

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from domain.errors import NotFound
from domain.messages import N_
from domain.values import Role

SESSION_KEY = "user"
# How long this process trusts what it last read of a person's role, department and erasure:
# the bound on how late a demotion or an erasure made elsewhere takes effect here.
FRESH_SECONDS = 5.0
FRESH_MAX = 10_000
_SCOPE_KEY = "kyoso.user"


class User(msgspec.Struct, frozen=True):
    participant_id: str
    role: Role
    display_name: str
    department: str | None = None

    @property
    def id(self) -> UUID:
        return UUID(self.participant_id)

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.STAFF, Role.ADMIN)

    @property
    def is_auditor(self) -> bool:
        return self.role in (Role.AUDITOR, Role.ADMIN)


class Standing(msgspec.Struct, frozen=True):
    """What a person may currently do, as last read from their Participant aggregate."""

    role: Role
    department: str | None
    present: bool
    language: str | None = None  # the interface language they chose, if they ever did


class _Standings:
    """A small, bounded, process-local cache of standings, so that a page costs no extra query
    within FRESH_SECONDS of the last one by the same person."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, tuple[float, Standing]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, participant_id: str, load: Callable[[], Standing]) -> Standing:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(participant_id)
            if hit is not None and now - hit[0] < FRESH_SECONDS:
                return hit[1]
        standing = load()
        with self._lock:
            self._items[participant_id] = (now, standing)
            self._items.move_to_end(participant_id)
            while len(self._items) > FRESH_MAX:
                self._items.popitem(last=False)
        return standing

    def forget(self, participant_id: str) -> None:
        """After the person changed something a standing holds, so that this process reads it again."""
        with self._lock:
            self._items.pop(participant_id, None)


standings = _Standings()


def standing_of(storage: Any, participant_id: str) -> Standing:
    try:
        participant = storage.app.get_participant(UUID(participant_id))
    except (NotFound, ValueError):
        return Standing(Role.CITIZEN, None, present=False)
    language = getattr(participant, "language", None)  # snapshots from before languages have none
    return Standing(participant.role, participant.department, present=not participant.erased, language=language)


def _session_user(connection: ASGIConnection[Any, Any, Any, Any]) -> tuple[Any, User | None]:
    data = connection.scope.get("session") or {}
    raw = data.get(SESSION_KEY) if isinstance(data, dict) else None
    if not raw:
        return raw, None
    try:
        return raw, msgspec.convert(raw, User)
    except msgspec.ValidationError:
        return raw, None


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    """The signed-in person with their current role and department; None if nobody is signed
    in or the account has been erased (whose session is then cleared)."""
    raw, user = _session_user(connection)
    if user is None:
        return None
    scope: Any = connection.scope
    remembered = scope.get(_SCOPE_KEY)
    if remembered is not None and remembered[0] == raw:
        return remembered[1]  # type: ignore[no-any-return]
    storage = connection.app.state.storage
    standing = standings.get(user.participant_id, lambda: standing_of(storage, user.participant_id))
    fresh: User | None = None
    if standing.present:
        fresh = msgspec.structs.replace(user, role=standing.role, department=standing.department)
    else:
        connection.clear_session()
    scope[_SCOPE_KEY] = (raw, fresh)
    return fresh


def session_data(user: User) -> dict[str, Any]:
    return {SESSION_KEY: msgspec.to_builtins(user)}


def _guard(allowed: Callable[[User], bool], refusal: str) -> Callable[..., None]:
    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = current_user(connection)
        if user is None:
            raise NotAuthorizedException(N_("ログインしてください。"))
        if not allowed(user):
            raise PermissionDeniedException(refusal)

    return guard


signed_in = _guard(lambda user: True, "")
staff_only = _guard(lambda user: user.is_staff, N_("職員のみが利用できます。"))
auditors_only = _guard(lambda user: user.is_auditor, N_("監査担当のみが利用できます。"))
