"""法人番号 (corporate numbers): 13 digits, the first a check digit over the other twelve.

The National Tax Agency's rule (法人番号の指定, 検査用数字の計算方法): with P_n the n-th digit of
the 12-digit base counted from the right, and Q_n = 1 for odd n and 2 for even n,
check = 9 − ((Σ P_n × Q_n) mod 9).
"""

import re
import unicodedata

from domain.messages import N_

LENGTH = 13
# Hyphens and dashes people type between groups of digits (ASCII, Japanese IMEs, Word's autocorrect).
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−ーｰ－]")

MISSING = N_("法人番号を入力してください。")
NOT_DIGITS = N_("法人番号は13桁の数字で入力してください。")
BAD_CHECK_DIGIT = N_("法人番号の検査用数字が一致しません。番号を確認してください。")


def normalise(raw: str) -> str:
    """Full-width digits to ASCII, separators dropped: "１２３-４５６" is "123456"."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))


def check_digit(base: str) -> int:
    """The check digit of a 12-digit base number."""
    if len(base) != LENGTH - 1 or not base.isascii() or not base.isdigit():
        raise ValueError("the base of a corporate number is 12 ASCII digits")
    total = sum(int(digit) * (1 if n % 2 else 2) for n, digit in enumerate(reversed(base), start=1))
    return 9 - total % 9


def with_check_digit(base: str) -> str:
    """The full 13-digit number for a 12-digit base (demo data and tests make numbers this way)."""
    return f"{check_digit(base)}{base}"


def corporate_number_problem(raw: str) -> str | None:
    """A message in Japanese if this is not a valid 法人番号, else None (after normalising)."""
    number = normalise(raw)
    if not number:
        return MISSING
    if len(number) != LENGTH or not number.isascii() or not number.isdigit():
        return NOT_DIGITS
    if int(number[0]) != check_digit(number[1:]):
        return BAD_CHECK_DIGIT
    return None
