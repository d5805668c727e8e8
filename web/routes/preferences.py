"""Routes: preferences (being built)."""

from typing import Any

routes: list[Any] = []
