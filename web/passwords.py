"""Password hashing with argon2id (argon2-cffi's defaults follow RFC 9106's recommendation)."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from domain.messages import N_

_hasher = PasswordHasher()
# Verifying against this when the e-mail is unknown keeps login time from revealing accounts.
_DUMMY_HASH = _hasher.hash("kyoso-timing-equaliser")

MIN_PASSWORD = 10
MAX_PASSWORD = 256


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return N_("パスワードは%(count)s文字以上にしてください。", count=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        return N_("パスワードは%(count)s文字以内にしてください。", count=MAX_PASSWORD)
    return None
