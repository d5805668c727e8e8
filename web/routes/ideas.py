"""Pages and API for citizens' ideas."""

from typing import Any

routes: list[Any] = []
