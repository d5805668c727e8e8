"""SDGs points for staff and auditors: menus, venue codes, bulk awards, rewards, payouts, the dashboard."""

from typing import Any

routes: list[Any] = []
