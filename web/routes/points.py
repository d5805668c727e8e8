"""SDGs points for citizens: my points, claiming a venue code, rewards, transfers; and their API."""

from typing import Any

routes: list[Any] = []
