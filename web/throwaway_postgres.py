"""A real, disposable PostgreSQL server for tests, demos and benchmarks.

Usage::

    from web.throwaway_postgres import ThrowawayPostgres

    with ThrowawayPostgres() as pg:
        pg.url          # 'postgresql://postgres@127.0.0.1:54321/kyoso'
        pg.dsn          # {'host': '127.0.0.1', 'port': 54321, 'user': 'postgres',
                        #  'dbname': 'kyoso'}
        other = pg.create_database("case_42")   # -> URL of a new, empty database
        env = pg.eventsourcing_env()            # POSTGRES_* settings for eventsourcing

The server is ``initdb``-ed into a fresh temporary directory (trust auth, UTF8,
locale C), listens on 127.0.0.1 on a free TCP port (plus a Unix socket inside the
temporary directory), runs with durability switched off (fsync etc.), and is
stopped and deleted on exit.

``initdb``/``pg_ctl`` refuse to run as root, so when the current process is root
they are run as the ``postgres`` OS user via ``runuser``.

Cleanup happens on ``stop()``/context exit, at interpreter exit (``atexit``), and
-- should the owning process die without running either (SIGKILL, OOM, a crashed
pytest worker) -- through a tiny watchdog process that notices the owner is gone
and stops the server and removes its directory.

Only the standard library is needed; psycopg is used for the readiness check and
``CREATE DATABASE`` when importable, otherwise the ``pg_isready``/``psql`` binaries.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

__all__ = [
    "PostgresNotInstalled",
    "PostgresStartError",
    "ThrowawayPostgres",
    "find_postgres_bindir",
    "running_postgres",
]

DEFAULT_SETTINGS: dict[str, str] = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}

_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class PostgresNotInstalled(RuntimeError):
    """No PostgreSQL server binaries (initdb, pg_ctl) could be found."""


class PostgresStartError(RuntimeError):
    """The throwaway server could not be initialised or started."""


# --------------------------------------------------------------------------- binaries


def _version_key(path: str) -> tuple[int, ...]:
    nums = re.findall(r"\d+", path)
    return tuple(int(n) for n in nums) or (0,)


def find_postgres_bindir() -> Path:
    """Directory holding ``initdb`` and ``pg_ctl``.

    Looked up via ``$KYOSO_PG_BINDIR``, ``pg_config --bindir``, ``$PATH`` and
    ``/usr/lib/postgresql/*/bin`` (newest version first), in that order.
    """
    candidates: list[Path] = []
    env_dir = os.environ.get("KYOSO_PG_BINDIR")
    if env_dir:
        candidates.append(Path(env_dir))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(os.path.realpath(initdb)).parent)
        candidates.append(Path(initdb).parent)
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True):
        candidates.append(Path(d))
    for d in sorted(glob.glob("/usr/pgsql-*/bin"), key=_version_key, reverse=True):
        candidates.append(Path(d))

    for d in candidates:
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file():
            return d.resolve()
    raise PostgresNotInstalled(
        "PostgreSQL server binaries (initdb, pg_ctl) not found. Looked in $KYOSO_PG_BINDIR, "
        "`pg_config --bindir`, $PATH and /usr/lib/postgresql/*/bin. Install the server "
        "(Debian: `apt-get install postgresql-15`) or set KYOSO_PG_BINDIR."
    )


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _all_parents_traversable(path: Path) -> bool:
    """True when every ancestor directory of ``path`` can be entered by anyone."""
    for parent in path.resolve().parents:
        try:
            if not os.stat(parent).st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


# The watchdog runs in its own session; it blocks reading its stdin (a pipe whose
# only writer is the owning process).  EOF means the owner has exited -- cleanly
# or not.  If the data directory is still there by then, stop the server and
# delete the directory.
_WATCHDOG = r"""
import json, os, shutil, signal, subprocess, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
cfg = json.loads(sys.argv[1])
try:
    while sys.stdin.buffer.read(65536):
        pass
except BaseException:
    pass
if os.path.exists(cfg["pidfile"]):
    try:
        subprocess.run(cfg["stop"], cwd=cfg["cwd"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    except BaseException:
        pass
shutil.rmtree(cfg["dir"], ignore_errors=True)
"""


# --------------------------------------------------------------------------- server


class ThrowawayPostgres:
    """A disposable PostgreSQL server; use as a context manager or call start()/stop().

    Args:
        dbname: database created at start (``kyoso``).
        user: superuser name given to initdb (``postgres``, also when not root).
        host: TCP address to listen on and to put in URLs.
        port: fixed port, or ``None`` for a free one.
        settings: extra/overriding server settings (``-c name=value``).
        base_dir: where to create the temporary directory (default: the system temp dir).
        bindir: PostgreSQL bin directory (default: :func:`find_postgres_bindir`).
        os_user: OS user to run the server as when the current process is root.
        startup_timeout: seconds to wait for the server to accept connections.
        keep_log: on stop, copy the server log to this path (for debugging).
    """

    def __init__(
        self,
        *,
        dbname: str = "kyoso",
        user: str = "postgres",
        host: str = "127.0.0.1",
        port: int | None = None,
        settings: dict[str, Any] | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        bindir: str | os.PathLike[str] | None = None,
        os_user: str = "postgres",
        startup_timeout: float = 60.0,
        keep_log: str | os.PathLike[str] | None = None,
    ) -> None:
        _check_ident(dbname)
        _check_ident(user)
        self.dbname = dbname
        self.user = user
        self.host = host
        self._fixed_port = port
        self.port: int = port or 0
        self.settings = {**DEFAULT_SETTINGS, "listen_addresses": host}
        self.settings.update({k: str(v) for k, v in (settings or {}).items()})
        self._base_dir = Path(base_dir) if base_dir else None
        self._bindir = Path(bindir) if bindir else None
        self._os_user = os_user
        self.startup_timeout = startup_timeout
        self._keep_log = Path(keep_log) if keep_log else None

        self.dir: Path | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._started = False
        self._owner_pid = os.getpid()

    # ------------------------------------------------------------------ public API

    @property
    def url(self) -> str:
        """URL of the main database, e.g. ``postgresql://postgres@127.0.0.1:PORT/kyoso``."""
        return self.url_for(self.dbname)

    @property
    def dsn(self) -> dict[str, Any]:
        """Connection parameters: ``psycopg.connect(**pg.dsn)``."""
        return {"host": self.host, "port": self.port, "user": self.user, "dbname": self.dbname}

    @property
    def data_dir(self) -> Path:
        assert self.dir is not None, "server not started"
        return self.dir / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.dir is not None, "server not started"
        return self.dir / "sock"

    @property
    def log_file(self) -> Path:
        assert self.dir is not None, "server not started"
        return self.dir / "postgres.log"

    def url_for(self, dbname: str) -> str:
        """URL of another database on this server."""
        return f"postgresql://{quote(self.user)}@{self.host}:{self.port}/{quote(dbname)}"

    def eventsourcing_env(self, dbname: str | None = None) -> dict[str, str]:
        """Environment settings for ``eventsourcing.postgres`` pointing at this server."""
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": dbname or self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": "",
        }

    def create_database(self, name: str | None = None, *, template: str | None = None) -> str:
        """Create a new, empty database (random name when ``name`` is None); return its URL."""
        if name is None:
            name = f"t_{uuid.uuid4().hex[:16]}"
        _check_ident(name)
        sql = f'CREATE DATABASE "{name}"'
        if template:
            _check_ident(template)
            sql += f' TEMPLATE "{template}"'
        self.execute(sql, dbname="postgres")
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop a database (terminating its connections)."""
        _check_ident(name)
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', dbname="postgres")

    def execute(self, sql: str, *, dbname: str | None = None) -> None:
        """Run one statement in autocommit mode (no parameters, no results)."""
        db = dbname or self.dbname
        try:
            import psycopg
        except ImportError:
            self._run_psql(sql, db)
            return
        with psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            dbname=db,
            autocommit=True,
            connect_timeout=10,
        ) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def start(self) -> ThrowawayPostgres:
        with self._lock:
            if self._started:
                return self
            self._bindir = self._bindir or find_postgres_bindir()
            self._prepare_dir()
            try:
                self._initdb()
                self._start_watchdog()
                self._start_server()
                self._wait_ready()
                self.execute(f'CREATE DATABASE "{self.dbname}"', dbname="postgres")
            except BaseException:
                self._started = True
                self._stop_locked()
                raise
            self._started = True
            atexit.register(self.stop)
            return self

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._started and self.dir else "stopped"
        return f"<ThrowawayPostgres {state} {self.url if self.port else ''}>"

    # ------------------------------------------------------------------ internals

    @property
    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _cmd(self, *args: str) -> list[str]:
        if not self._as_root:
            return list(args)
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        if not os.path.exists(runuser):
            raise PostgresStartError(
                "running as root, but `runuser` is not available to drop privileges "
                "for initdb/pg_ctl (they refuse to run as root)"
            )
        return [runuser, "-u", self._os_user, "--", *args]

    def _run(self, args: list[str], what: str, timeout: float = 120) -> str:
        assert self.dir is not None
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        env.pop("PGDATA", None)
        try:
            proc = subprocess.run(
                self._cmd(*args),
                cwd=self.dir,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as e:
            raise PostgresStartError(f"{what} timed out after {timeout}s\n{self._log_tail()}") from e
        if proc.returncode != 0:
            raise PostgresStartError(
                f"{what} failed (exit {proc.returncode}): {' '.join(args)}\n"
                f"{proc.stdout}{proc.stderr}\n{self._log_tail()}"
            )
        return proc.stdout

    def _prepare_dir(self) -> None:
        base = self._base_dir
        if base is None:
            base = Path(tempfile.gettempdir())
            if self._as_root and not _all_parents_traversable(base / "x"):
                base = Path("/tmp")
        base.mkdir(parents=True, exist_ok=True)
        d = Path(tempfile.mkdtemp(prefix="kyoso-pg-", dir=base))
        # Unix socket paths are limited to ~107 bytes.
        if len(str(d / "sock" / ".s.PGSQL.65535")) > 100:
            shutil.rmtree(d, ignore_errors=True)
            d = Path(tempfile.mkdtemp(prefix="kyoso-pg-", dir="/tmp"))
        self.dir = d
        (d / "sock").mkdir()
        (d / "postgres.log").touch()
        if self._as_root:
            try:
                pw = pwd.getpwnam(self._os_user)
            except KeyError:
                raise PostgresStartError(
                    f"running as root, but OS user {self._os_user!r} does not exist; "
                    "initdb/pg_ctl refuse to run as root (create the user, e.g. by "
                    "installing the postgresql package, or run as a normal user)"
                ) from None
            if not _all_parents_traversable(d):
                raise PostgresStartError(
                    f"{d} is not reachable for OS user {self._os_user!r} (a parent directory "
                    "is not world-traversable); pass base_dir= or set TMPDIR"
                )
            for p in (d, d / "sock", d / "postgres.log"):
                os.chown(p, pw.pw_uid, pw.pw_gid)

    def _initdb(self) -> None:
        assert self._bindir is not None
        self._run(
            [
                str(self._bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                self.user,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            "initdb",
        )

    def _server_options(self) -> str:
        opts = [f"-p {self.port}", f"-k {self.socket_dir}"]
        opts += [f"-c {k}={v}" for k, v in self.settings.items()]
        return " ".join(opts)

    def _start_server(self) -> None:
        assert self._bindir is not None
        attempts = 1 if self._fixed_port else 5
        for attempt in range(attempts):
            if not self._fixed_port:
                self.port = _free_port(self.host)
            try:
                self._run(
                    [
                        str(self._bindir / "pg_ctl"),
                        "start",
                        "-D",
                        str(self.data_dir),
                        "-l",
                        str(self.log_file),
                        "-w",
                        "-t",
                        str(int(self.startup_timeout)),
                        "-o",
                        self._server_options(),
                    ],
                    "pg_ctl start",
                    timeout=self.startup_timeout + 30,
                )
                return
            except PostgresStartError as e:
                port_taken = "could not bind" in str(e) or "already in use" in str(e)
                if attempt + 1 < attempts and port_taken:
                    continue  # lost a race for the port: try another one
                raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                self._ping()
                return
            except Exception as e:
                last = e
                time.sleep(0.1)
        raise PostgresStartError(
            f"server did not accept connections within {self.startup_timeout}s: {last}\n{self._log_tail()}"
        )

    def _ping(self) -> None:
        try:
            import psycopg
        except ImportError:
            assert self._bindir is not None
            subprocess.run(
                [
                    str(self._bindir / "pg_isready"),
                    "-h",
                    self.host,
                    "-p",
                    str(self.port),
                    "-U",
                    self.user,
                    "-d",
                    "postgres",
                    "-q",
                ],
                check=True,
                timeout=10,
            )
            return
        with psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", connect_timeout=5
        ) as conn:
            conn.execute("SELECT 1")

    def _run_psql(self, sql: str, dbname: str) -> None:
        assert self._bindir is not None
        subprocess.run(
            [
                str(self._bindir / "psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                dbname,
                "-c",
                sql,
            ],
            check=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    def _pg_ctl_stop(self, mode: str) -> list[str]:
        assert self._bindir is not None
        return [str(self._bindir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", mode, "-w", "-t", "30"]

    def _start_watchdog(self) -> None:
        assert self.dir is not None and self._bindir is not None
        cfg = {
            "pidfile": str(self.data_dir / "postmaster.pid"),
            "dir": str(self.dir),
            "cwd": "/",
            "stop": self._cmd(*self._pg_ctl_stop("immediate")),
        }
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, json.dumps(cfg)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            cwd="/",
        )

    def _stop_locked(self) -> None:
        if not self._started:
            return
        if os.getpid() != self._owner_pid:
            return  # a forked child must not stop its parent's server
        self._started = False
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        d = self.dir
        try:
            if d is not None and (d / "data" / "postmaster.pid").exists():
                try:
                    self._run(
                        self._pg_ctl_stop("fast"),
                        "pg_ctl stop",
                        timeout=60,
                    )
                except Exception:
                    with contextlib.suppress(Exception):
                        self._run(
                            self._pg_ctl_stop("immediate"),
                            "pg_ctl stop",
                            timeout=60,
                        )
            if d is not None and self._keep_log:
                with contextlib.suppress(OSError):
                    shutil.copyfile(d / "postgres.log", self._keep_log)
        finally:
            if d is not None:
                shutil.rmtree(d, ignore_errors=True)
            self.dir = None
            if self._watchdog is not None:
                with contextlib.suppress(Exception):
                    assert self._watchdog.stdin is not None
                    self._watchdog.stdin.close()
                with contextlib.suppress(Exception):
                    self._watchdog.wait(timeout=10)
                self._watchdog = None

    def _log_tail(self, lines: int = 30) -> str:
        if self.dir is None:
            return ""
        try:
            text = (self.dir / "postgres.log").read_text(errors="replace")
        except OSError:
            return ""
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- postgres.log (tail) ---\n{tail}" if tail else ""


def _check_ident(name: str) -> None:
    if not _IDENT_RE.match(name):
        raise ValueError(f"invalid PostgreSQL identifier {name!r} (letters, digits, underscore; max 63)")


@contextlib.contextmanager
def running_postgres(**kwargs: Any) -> Iterator[ThrowawayPostgres]:
    """``with running_postgres() as pg: ...`` -- same arguments as :class:`ThrowawayPostgres`."""
    with ThrowawayPostgres(**kwargs) as pg:
        yield pg


if __name__ == "__main__":  # pragma: no cover - manual use: python -m web.throwaway_postgres
    with ThrowawayPostgres() as _pg:
        print(_pg.url, flush=True)
        print("Ctrl-C to stop and delete the server", file=sys.stderr, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
