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
    # Reverse proxies (comma-separated IPs or CIDRs) whose X-Forwarded-For names the client;
    # from anyone else the header is ignored, so a client cannot choose its own address.
    trusted_proxies: str = field(default_factory=lambda: os.environ.get("KYOSO_TRUSTED_PROXIES", ""))
    # Where e-mail goes out: smtp://[user:pass@]host[:port], smtps:// for TLS from the start,
    # smtp+starttls:// to upgrade; unset, no e-mail is sent and the outbox keeps it queued.
    smtp_url: str | None = field(default_factory=lambda: os.environ.get("KYOSO_SMTP_URL") or None)
    mail_from: str = field(default_factory=lambda: os.environ.get("KYOSO_MAIL_FROM") or "Kyoso <no-reply@kyoso.local>")
    # The site's public address, for links in e-mail (which has no request to take it from).
    base_url: str = field(default_factory=lambda: os.environ.get("KYOSO_BASE_URL") or "http://127.0.0.1:8000")
    # Failed logins for one account within the window before further attempts are refused.
    login_failure_limit: int = 10
    login_failure_window: int = 15 * 60
    max_body_bytes: int = 256 * 1024
    session_max_age: int = 8 * 3600

    @property
    def session_cookie(self) -> str:
        return self._cookie_prefix + "kyoso_session"

    @property
    def csrf_cookie(self) -> str:
        return self._cookie_prefix + "kyoso_csrf"

    @property
    def _cookie_prefix(self) -> str:
        # Behind TLS, "__Host-" makes browsers refuse the cookie unless it is Secure, host-only
        # and for the whole site, so a sibling subdomain or plain HTTP cannot plant one.
        return "__Host-" if self.secure_cookies else ""

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
