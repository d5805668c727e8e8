"""Signed checkpoints of the event chain's head, kept outside the database, and the server's auditor.

A checkpoint is (position, head digest, time) signed with an Ed25519 key that never enters the
database. Whoever can rewrite the database can recompute the chain (projections/event_chain.py),
but not re-sign a checkpoint: `verify` against the latest one catches a rewritten history or a
cut tail up to it. Checkpoints are appended as JSON lines next to the key and printed for an
external notary, which then holds a copy that deleting local files cannot undo.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from projections.event_chain import Link, Progress, Verification, verify

log = logging.getLogger(__name__)

JST = timezone(timedelta(hours=9))
KEY_FILE_VARIABLE = "KYOSO_AUDIT_KEY_FILE"
DIR_VARIABLE = "KYOSO_AUDIT_DIR"
INTERVAL_VARIABLE = "KYOSO_CHECKPOINT_SECONDS"
DEFAULT_INTERVAL = 600.0


class CheckpointError(Exception):
    """A checkpoint the key did not sign (forged or altered), or one that cannot be read or checked."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def signed_message(position: int, digest: str, signed_at: str) -> bytes:
    return f"kyoso.checkpoint.v1\n{position}\n{digest}\n{signed_at}\n".encode()


@dataclass(frozen=True)
class Checkpoint:
    position: int
    digest: str  # hex sha256, the chain's digest at `position`
    signed_at: str  # ISO time in Japan time
    public_key: str  # base64 raw Ed25519 public key
    signature: str  # base64 Ed25519 signature of signed_message(position, digest, signed_at)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> Checkpoint:
        try:
            fields = json.loads(line)
            checkpoint = cls(**{f.name: fields[f.name] for f in dataclasses.fields(cls)})
        except (ValueError, KeyError, TypeError) as e:
            raise CheckpointError(f"unreadable checkpoint: {e}") from None
        if not isinstance(checkpoint.position, int) or not all(
            isinstance(v, str) for v in (checkpoint.digest, checkpoint.signed_at, checkpoint.public_key)
        ):
            raise CheckpointError("unreadable checkpoint: wrong field types")
        return checkpoint

    def check(self, trusted: Ed25519PublicKey) -> None:
        """Raises CheckpointError unless `trusted` signed exactly these position, digest and time."""
        trusted_b64 = _b64(trusted.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
        if self.public_key != trusted_b64:
            raise CheckpointError(f"checkpoint at {self.position} was signed by another key ({self.public_key})")
        try:
            trusted.verify(
                base64.b64decode(self.signature, validate=True),
                signed_message(self.position, self.digest, self.signed_at),
            )
        except (InvalidSignature, binascii.Error, ValueError):
            raise CheckpointError(f"checkpoint at {self.position}: the signature does not match") from None

    @property
    def signed_at_jst(self) -> str:
        try:
            return datetime.fromisoformat(self.signed_at).astimezone(JST).strftime("%Y-%m-%d %H:%M:%S")
        except ValueError:
            return self.signed_at


class CheckpointLog:
    """The signing key and the checkpoints file, both outside the database."""

    def __init__(self, directory: Path, key_file: Path) -> None:
        self.directory = directory
        self.key_file = key_file
        self.path = directory / "checkpoints.jsonl"
        self._lock = threading.Lock()

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> CheckpointLog:
        directory = Path(os.environ.get(DIR_VARIABLE) or data_dir / "audit")
        key_file = Path(os.environ.get(KEY_FILE_VARIABLE) or directory / "signing.key")
        return cls(directory, key_file)

    def signing_key(self, *, create: bool = False) -> Ed25519PrivateKey | None:
        """The key, made (readable by this user only) on first use when `create`."""
        if not self.key_file.exists():
            if not create:
                return None
            self.key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            try:
                fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # Another process made it first: use theirs.
            else:
                with os.fdopen(fd, "wb") as f:
                    f.write(pem)
                return key
        key = serialization.load_pem_private_key(self.key_file.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise CheckpointError(f"{self.key_file} is not an Ed25519 private key")
        return key

    def public_key(self) -> str | None:
        key = self.signing_key()
        if key is None:
            return None
        return _b64(key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))

    def sign(self, head: Link) -> Checkpoint:
        """Signs the head and appends it to the file; returns it for printing."""
        key = self.signing_key(create=True)
        assert key is not None
        signed_at = datetime.now(JST).isoformat(timespec="seconds")
        checkpoint = Checkpoint(
            position=head.position,
            digest=head.hex,
            signed_at=signed_at,
            public_key=_b64(key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)),
            signature=_b64(key.sign(signed_message(head.position, head.hex, signed_at))),
        )
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            # One write of a whole line with O_APPEND: other processes' lines never interleave with it.
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, (checkpoint.to_json() + "\n").encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        return checkpoint

    def latest(self) -> Checkpoint | None:
        """The last checkpoint in the file, its signature checked; None when there is none yet."""
        line = _last_line(self.path)
        if line is None:
            return None
        checkpoint = Checkpoint.from_json(line)
        key = self.signing_key()
        if key is None:
            raise CheckpointError(f"there are checkpoints but no signing key at {self.key_file} to check them")
        checkpoint.check(key.public_key())
        return checkpoint


def _last_line(path: Path, block: int = 4096) -> str | None:
    """The file's last non-empty line, read from the end (the file grows for as long as the server runs)."""
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return None
    with f:
        end = f.seek(0, os.SEEK_END)
        data, start = b"", end
        while start > 0:
            start = max(0, start - block)
            f.seek(start)
            data = f.read(end - start)
            if b"\n" in data.rstrip():
                break
        text = data.rstrip()
        return text.rsplit(b"\n", 1)[-1].decode() if text else None


def verify_against_log(
    source: Any, checkpoints: CheckpointLog, *, resume: Link | None = None, progress: Progress | None = None
) -> tuple[Verification, Checkpoint | None]:
    """Verifies the chain against the latest signed checkpoint; a forged checkpoint fails it."""
    try:
        latest = checkpoints.latest()
    except CheckpointError as e:
        return Verification(False, 0, None, reason=f"{checkpoints.path}: {e}"), None
    return verify(source, latest, resume=resume, progress=progress), latest


@dataclass(frozen=True)
class AuditStatus:
    verification: Verification | None  # the last finished verification
    verified_at: datetime | None
    checkpoint: Checkpoint | None  # the latest checkpoint it was checked against
    verifying: bool


class _Stopped(Exception):
    pass


class Checkpointer:
    """Keeps the chain verified and, when its head moved, signs a checkpoint of it, in a thread.

    The first pass verifies everything; later passes go on from the last verified link kept in
    memory, so a pass costs only the events written since. A failed pass signs nothing and
    makes the next one verify everything again.
    """

    def __init__(self, source: Any, checkpoints: CheckpointLog) -> None:
        self.source = source
        self.checkpoints = checkpoints
        self._lock = threading.Lock()  # One verification at a time.
        self._verified: Link | None = None
        self._verified_events = 0
        self._status = AuditStatus(None, None, None, False)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._requested = self._served = 0  # Full verifications asked for, and done, by number.
        self._passed = threading.Condition()
        self._thread: threading.Thread | None = None

    @property
    def status(self) -> AuditStatus:
        return self._status

    def check(self, *, full: bool = False) -> Verification:
        """Verifies from the last verified link (or from the first event when `full`)."""
        with self._lock:
            self._status = dataclasses.replace(self._status, verifying=True)
            resume = None if full or self._verified is None else self._verified
            try:
                result, latest = verify_against_log(
                    self.source, self.checkpoints, resume=resume, progress=self._check_stop
                )
            except BaseException:
                self._status = dataclasses.replace(self._status, verifying=False)
                raise
            events = result.events + (self._verified_events if resume is not None else 0)
            result = dataclasses.replace(result, events=events)
            self._verified, self._verified_events = (result.head, events) if result.ok else (None, 0)
            self._status = AuditStatus(result, datetime.now(JST), latest, False)
            return result

    def tick(self, *, full: bool = False) -> Checkpoint | None:
        """One pass: verify, then sign the head if it moved past the latest checkpoint."""
        result = self.check(full=full)
        latest = self._status.checkpoint
        if not result.ok or result.head is None or (latest is not None and latest.position >= result.head.position):
            return None
        checkpoint = self.checkpoints.sign(result.head)
        self._status = dataclasses.replace(self._status, checkpoint=checkpoint)
        log.info("signed checkpoint at position %d", checkpoint.position)
        return checkpoint

    def start(self, interval: float | None = None) -> None:
        if interval is None:
            interval = float(os.environ.get(INTERVAL_VARIABLE) or DEFAULT_INTERVAL)
        if self._thread is not None or interval <= 0:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(interval,), name="kyoso-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout=30)
            self._thread = None
            self._stop.clear()

    def verify_now(self, wait: float = 5.0) -> bool:
        """Asks for a full verification; True if it finished within `wait` seconds.

        Without the thread it runs here; with it, the thread runs it, so a long history never
        holds the caller longer than `wait`.
        """
        if self._thread is None:
            self.check(full=True)
            return True
        with self._passed:
            self._requested += 1
            mine = self._requested
            self._wake.set()
            return self._passed.wait_for(lambda: self._served >= mine, timeout=wait)

    def _check_stop(self, done: int, total: int) -> None:
        if self._stop.is_set():
            raise _Stopped()

    def _run(self, interval: float) -> None:
        full, serving = True, 0
        while not self._stop.is_set():
            try:
                self.tick(full=full)
            except _Stopped:
                return
            except Exception:
                log.exception("event chain verification or checkpoint failed")
            with self._passed:
                self._served = serving
                self._passed.notify_all()
            self._wake.wait(interval)
            self._wake.clear()
            with self._passed:
                serving = self._requested
                full = serving > self._served
