"""Test helpers: a headless Chromium via Playwright, and an ASGI app served in a thread.

    from tests.support.browser import chromium, serve_in_thread

    with serve_in_thread(app) as base_url, chromium() as browser:
        page = browser.new_page()
        page.goto(base_url + "/")

Playwright cannot download its own browsers here; Debian's /usr/bin/chromium is used
instead (override with $KYOSO_CHROMIUM).  `make browser` installs it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

__all__ = [
    "CHROMIUM_ARGS",
    "CHROMIUM_PATH",
    "chromium",
    "chromium_missing_reason",
    "launch_chromium",
    "serve_in_thread",
]

CHROMIUM_PATH = os.environ.get("KYOSO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # Pages follow Accept-Language; a Japanese resident's browser asks for Japanese first (a context
    # given `locale="en-US"` still asks for English).
    "--accept-lang=ja-JP,ja",
]


def chromium_missing_reason() -> str | None:
    """None when Chromium can be launched, otherwise a human-readable reason."""
    if not os.path.isfile(CHROMIUM_PATH) or not os.access(CHROMIUM_PATH, os.X_OK):
        return f"Chromium not found at {CHROMIUM_PATH} (run `make browser`)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (run `make install`)"
    return None


def launch_chromium(playwright: Playwright, **kwargs: Any) -> Browser:
    """Launch headless Debian Chromium from an already started ``sync_playwright()``.

    Extra keyword arguments go to ``playwright.chromium.launch`` (``args`` are appended).
    """
    args = [*CHROMIUM_ARGS, *kwargs.pop("args", [])]
    kwargs.setdefault("headless", True)
    kwargs.setdefault("timeout", 60_000)
    return playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=args, **kwargs)


@contextlib.contextmanager
def chromium(**kwargs: Any) -> Iterator[Browser]:
    """Start Playwright and a headless Chromium; close both on exit."""
    from playwright.sync_api import sync_playwright

    reason = chromium_missing_reason()
    if reason:
        raise RuntimeError(reason)
    with sync_playwright() as p:
        browser = launch_chromium(p, **kwargs)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def serve_in_thread(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    log_level: str = "warning",
    lifespan: str = "on",
    startup_timeout: float = 30.0,
    **uvicorn_kwargs: Any,
) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a daemon thread; yield its base URL.

    The listening socket is bound before the server starts (port 0 = a free port),
    so there is no race for the port.  On exit the server shuts down gracefully and
    the thread is joined.  Errors raised during startup are re-raised here.
    """
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    bound_port = sock.getsockname()[1]

    config = uvicorn.Config(
        app,
        host=host,
        port=bound_port,
        log_level=log_level,
        lifespan=lifespan,
        access_log=False,
        **uvicorn_kwargs,
    )
    server = uvicorn.Server(config)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as e:  # SystemExit from a failed lifespan startup, too
            errors.append(e)

    thread = threading.Thread(target=run, name=f"uvicorn-{bound_port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if errors or not thread.is_alive():
                raise RuntimeError(f"uvicorn failed to start: {errors[0] if errors else '?'}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start within {startup_timeout}s")
            time.sleep(0.02)
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=10)
        sock.close()
