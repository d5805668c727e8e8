"""What text a person may send: no NUL and no other control characters, except newline and tab.

PostgreSQL text columns refuse U+0000, and other control characters only ever arrive by
accident or as an attack on something downstream (terminals, CSV, logs). The web boundary
refuses them with a 422; the aggregates refuse them again, so nothing half-checked is stored.
"""

import re

from domain.messages import N_

# C0 controls but tab (\x09), newline (\x0a) and carriage return (\x0d, which forms turn
# "\n" into), plus DEL, the C1 controls, and the non-characters U+FFFE and U+FFFF.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
CONTROL_MESSAGE = N_("使用できない制御文字が含まれています。")


def has_forbidden_characters(text: str) -> bool:
    return _FORBIDDEN.search(text) is not None


def forbidden_characters_problem(text: str) -> str | None:
    """A message in Japanese if the text carries characters we never accept, else None."""
    return CONTROL_MESSAGE if has_forbidden_characters(text) else None
