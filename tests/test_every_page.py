"""Every page and GET endpoint without path parameters, as every kind of person: never a 5xx.

A route registered twice, a template missing a global, a guard that trips on a role: each of
these answered 500 once, on a page no other test happened to open.
"""

import pytest

from domain.values import Role
from projections.storage import Storage
from tests.conftest import PASSWORD, PASSWORD_HASH, Client, World

ROLES = [None, Role.CITIZEN, Role.BUSINESS, Role.STAFF, Role.AUDITOR, Role.ADMIN]


def get_paths(client: Client) -> list[str]:
    paths = set()
    for route in client.app.routes:
        if "{" in route.path or route.path.startswith("/static"):
            continue
        if "GET" in getattr(route, "methods", ()):
            paths.add(route.path)
    return sorted(paths)


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
def test_no_page_answers_a_server_error(client: Client, world: World, storage: Storage, role: Role | None) -> None:
    if role is not None:
        email = f"{role.value}-smoke@example.jp"
        storage.app.sign_up(
            email=email,
            display_name=role.label,
            password_hash=PASSWORD_HASH,
            role=role,
            department="子育て支援課" if role in (Role.STAFF, Role.ADMIN) else None,
        )
        client.login(email, PASSWORD)
    paths = get_paths(client)
    assert "/participate" in paths and "/ideas" in paths and "/staff/challenges" in paths
    failures = {}
    for path in paths:
        response = client.get(path, follow_redirects=False)
        if response.status_code >= 500:
            failures[path] = response.status_code
    assert failures == {}
