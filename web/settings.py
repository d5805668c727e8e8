"""Configuration, read from the environment (and the CLI's flags, which override it)."""

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "y", "yes", "true", "on"}


@dataclass
class Settings:
    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("KYOSO_DATA_DIR", ".data")))
    database_url: str | None = field(default_factory=lambda: os.environ.get("KYOSO_DATABASE_URL") or None)
    # Set behind TLS in production: cookies then carry the Secure flag.
    secure_cookies: bool = field(default_factory=lambda: _bool(os.environ.get("KYOSO_SECURE_COOKIES"), False))
    secret: str = field(default_factory=lambda: os.environ.get("KYOSO_SECRET", ""))
    # Run the projector inside the web process (always on SQLite; optional on PostgreSQL,
    # where `kyoso projections run` can do it in a separate worker instead).
    project_in_process: bool = field(default_factory=lambda: _bool(os.environ.get("KYOSO_PROJECT_IN_PROCESS"), True))
    auth_rate_limit_per_minute: int = field(default_factory=lambda: int(os.environ.get("KYOSO_AUTH_RATE_LIMIT", "20")))
    max_body_bytes: int = 256 * 1024
    session_max_age: int = 8 * 3600

    def resolved_secret(self) -> str:
        """The CSRF secret: configured, or kept in the data dir so restarts keep tokens valid."""
        if self.secret:
            return self.secret
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(32)
        path.write_text(value)
        path.chmod(0o600)
        return value
