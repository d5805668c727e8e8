"""A real, disposable PostgreSQL server for the tests and the benchmarks.

    from tests.support.postgres import ThrowawayPostgres

    with ThrowawayPostgres() as pg:
        pg.url                          # 'postgresql://postgres@127.0.0.1:54321/kyoso'
        other = pg.create_database()    # the URL of a new, empty database on the same server

    python -m tests.support.postgres -- kyoso bench    # runs a command with a server, then stops it

The server is `initdb`-ed into a fresh temporary directory (trust auth, UTF8, locale C), listens
on 127.0.0.1 on a free port, runs without durability (fsync off), and is stopped and deleted on
exit. `initdb` and `pg_ctl` refuse to run as root, so as root they run as the `postgres` OS user
through `runuser`. Should the owning process die without cleaning up (SIGKILL, a crashed pytest
worker), a tiny watchdog process notices and stops the server and removes its directory.
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
from pathlib import Path

import psycopg

# The variable through which `python -m tests.support.postgres -- COMMAND` hands COMMAND the URL.
URL_VARIABLE = "KYOSO_BENCH_DATABASE_URL"
OS_USER = "postgres"
USER = "postgres"
HOST = "127.0.0.1"
DBNAME = "kyoso"
STARTUP_TIMEOUT = 60.0
SETTINGS = {
    "listen_addresses": HOST,
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


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path)) or (0,)


def find_postgres_bindir() -> Path:
    """The directory holding `initdb` and `pg_ctl`: $KYOSO_PG_BINDIR, `pg_config --bindir`,
    $PATH, then /usr/lib/postgresql/*/bin (newest first)."""
    candidates: list[Path] = []
    if env_dir := os.environ.get("KYOSO_PG_BINDIR"):
        candidates.append(Path(env_dir))
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
    if initdb := shutil.which("initdb"):
        candidates.append(Path(os.path.realpath(initdb)).parent)
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True):
        candidates.append(Path(d))
    for d in candidates:
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file():
            return d.resolve()
    raise PostgresNotInstalled(
        "PostgreSQL server binaries (initdb, pg_ctl) not found in $KYOSO_PG_BINDIR, `pg_config --bindir`, "
        "$PATH or /usr/lib/postgresql/*/bin. Install the server (Debian: `apt-get install postgresql-15`) "
        "or set KYOSO_PG_BINDIR."
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _all_parents_traversable(path: Path) -> bool:
    """True when every ancestor directory of `path` can be entered by anyone (the postgres user)."""
    for parent in path.resolve().parents:
        try:
            if not os.stat(parent).st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


# The watchdog runs in its own session and blocks reading its stdin, a pipe whose only writer is
# the owning process: EOF means the owner has exited, cleanly or not. If the data directory is
# still there by then, it stops the server and deletes the directory.
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
        subprocess.run(cfg["stop"], cwd="/", stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    except BaseException:
        pass
shutil.rmtree(cfg["dir"], ignore_errors=True)
"""


class ThrowawayPostgres:
    """A disposable PostgreSQL server; use it as a context manager."""

    def __init__(self) -> None:
        self.port = 0
        self.dir: Path | None = None
        self._bindir: Path | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._started = False
        self._owner_pid = os.getpid()

    @property
    def url(self) -> str:
        return self._url_for(DBNAME)

    def create_database(self, name: str | None = None) -> str:
        """Creates a new, empty database (a random name unless given) and returns its URL."""
        name = name or f"t_{uuid.uuid4().hex[:16]}"
        if not _IDENT_RE.match(name):
            raise ValueError(f"invalid PostgreSQL identifier {name!r}")
        self._execute(f'CREATE DATABASE "{name}"')
        return self._url_for(name)

    def start(self) -> ThrowawayPostgres:
        with self._lock:
            if self._started:
                return self
            self._bindir = find_postgres_bindir()
            self._prepare_dir()
            self._started = True
            try:
                self._initdb()
                self._start_watchdog()
                self._start_server()
                self._wait_ready()
                self._execute(f'CREATE DATABASE "{DBNAME}"')
            except BaseException:
                self._stop_locked()
                raise
            atexit.register(self.stop)
            return self

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _url_for(self, dbname: str) -> str:
        return f"postgresql://{USER}@{HOST}:{self.port}/{dbname}"

    def _execute(self, sql: str) -> None:
        """One statement in autocommit mode, in the maintenance database."""
        with psycopg.connect(host=HOST, port=self.port, user=USER, dbname="postgres", autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def _data_dir(self) -> Path:
        assert self.dir is not None, "server not started"
        return self.dir / "data"

    def _cmd(self, *args: str) -> list[str]:
        if os.geteuid() != 0:
            return list(args)
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        if not os.path.exists(runuser):
            raise PostgresStartError("running as root, but `runuser` is missing (initdb and pg_ctl refuse root)")
        return [runuser, "-u", OS_USER, "--", *args]

    def _run(self, args: list[str], what: str, timeout: float = 120) -> None:
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

    def _prepare_dir(self) -> None:
        as_root = os.geteuid() == 0
        base = Path(tempfile.gettempdir())
        if as_root and not _all_parents_traversable(base / "x"):
            base = Path("/tmp")
        d = Path(tempfile.mkdtemp(prefix="kyoso-pg-", dir=base))
        # Unix socket paths are limited to about 107 bytes.
        if len(str(d / "sock" / ".s.PGSQL.65535")) > 100:
            shutil.rmtree(d, ignore_errors=True)
            d = Path(tempfile.mkdtemp(prefix="kyoso-pg-", dir="/tmp"))
        self.dir = d
        (d / "sock").mkdir()
        (d / "postgres.log").touch()
        if as_root:
            try:
                pw = pwd.getpwnam(OS_USER)
            except KeyError:
                raise PostgresStartError(
                    f"running as root, but there is no OS user {OS_USER!r} to run initdb and pg_ctl as "
                    "(install the postgresql package, or run as a normal user)"
                ) from None
            if not _all_parents_traversable(d):
                raise PostgresStartError(f"{d} is not reachable for OS user {OS_USER!r}; set TMPDIR")
            for p in (d, d / "sock", d / "postgres.log"):
                os.chown(p, pw.pw_uid, pw.pw_gid)

    def _initdb(self) -> None:
        assert self._bindir is not None
        self._run(
            [
                str(self._bindir / "initdb"),
                *("-D", str(self._data_dir()), "-U", USER),
                *("--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"),
            ],
            "initdb",
        )

    def _start_server(self) -> None:
        assert self._bindir is not None and self.dir is not None
        for attempt in range(5):
            self.port = _free_port()
            settings = [f"-c {k}={v}" for k, v in SETTINGS.items()]
            options = " ".join([f"-p {self.port}", f"-k {self.dir / 'sock'}", *settings])
            try:
                self._run(
                    [
                        str(self._bindir / "pg_ctl"),
                        *("start", "-D", str(self._data_dir()), "-l", str(self.dir / "postgres.log")),
                        *("-w", "-t", str(int(STARTUP_TIMEOUT)), "-o", options),
                    ],
                    "pg_ctl start",
                    timeout=STARTUP_TIMEOUT + 30,
                )
                return
            except PostgresStartError as e:
                port_taken = "could not bind" in str(e) or "already in use" in str(e)
                if attempt < 4 and port_taken:
                    continue  # lost a race for the port: try another one
                raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                self._execute("SELECT 1")
                return
            except psycopg.Error as e:
                last = e
                time.sleep(0.1)
        raise PostgresStartError(f"server did not accept connections in {STARTUP_TIMEOUT}s: {last}\n{self._log_tail()}")

    def _pg_ctl_stop(self, mode: str) -> list[str]:
        assert self._bindir is not None
        return [str(self._bindir / "pg_ctl"), "stop", "-D", str(self._data_dir()), "-m", mode, "-w", "-t", "30"]

    def _start_watchdog(self) -> None:
        assert self.dir is not None
        cfg = {
            "pidfile": str(self._data_dir() / "postmaster.pid"),
            "dir": str(self.dir),
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
        if not self._started or os.getpid() != self._owner_pid:
            return  # not running, or a forked child, which must not stop its parent's server
        self._started = False
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        d = self.dir
        try:
            if d is not None and (d / "data" / "postmaster.pid").exists():
                try:
                    self._run(self._pg_ctl_stop("fast"), "pg_ctl stop", timeout=60)
                except Exception:
                    with contextlib.suppress(Exception):
                        self._run(self._pg_ctl_stop("immediate"), "pg_ctl stop", timeout=60)
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


def main(argv: list[str]) -> int:
    """`-- COMMAND...`: runs COMMAND with $KYOSO_BENCH_DATABASE_URL naming a throwaway server, and
    exits with its status. Without a command: prints the URL and keeps the server until Ctrl-C."""
    command = argv[1:] if argv[:1] == ["--"] else argv
    with ThrowawayPostgres() as pg:
        if not command:
            print(pg.url, flush=True)
            print("Ctrl-C to stop and delete the server", file=sys.stderr, flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
            return 0
        with contextlib.suppress(KeyboardInterrupt):
            return subprocess.run(command, env={**os.environ, URL_VARIABLE: pg.url}).returncode
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
