"""Who is asking: the signed-in participant from the session, and the guards on routes."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from domain.values import Role

SESSION_KEY = "user"


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


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    data = connection.scope.get("session") or {}
    raw = data.get(SESSION_KEY) if isinstance(data, dict) else None
    if not raw:
        return None
    try:
        return msgspec.convert(raw, User)
    except msgspec.ValidationError:
        return None


def session_data(user: User) -> dict[str, Any]:
    return {SESSION_KEY: msgspec.to_builtins(user)}


def _guard(allowed: Callable[[User], bool], refusal: str) -> Callable[..., None]:
    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = current_user(connection)
        if user is None:
            raise NotAuthorizedException("ログインしてください。")
        if not allowed(user):
            raise PermissionDeniedException(refusal)

    return guard


signed_in = _guard(lambda user: True, "")
staff_only = _guard(lambda user: user.is_staff, "職員のみが利用できます。")
auditors_only = _guard(lambda user: user.is_auditor, "監査担当のみが利用できます。")
