"""Pages and API for organisations, challenges and proposals."""

from typing import Any

routes: list[Any] = []
