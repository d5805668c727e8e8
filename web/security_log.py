"""Security events (sign-in, failed sign-in, sign-up, sign-out, erasure, role change) for the log.

One JSON line per event under the logger "kyoso.security": the event, the pseudonymous
participant id and non-personal fields such as the client address. Never an e-mail or a name:
the log outlives an erasure, which deletes a person's identity row and nothing else.
"""

import logging
from typing import Any
from uuid import UUID

import msgspec

log = logging.getLogger("kyoso.security")

_PERSONAL = frozenset({"email", "e_mail", "mail", "name", "display_name", "password"})


def security_event(kind: str, participant_id: UUID | None, **fields: Any) -> None:
    if personal := _PERSONAL & fields.keys():
        raise TypeError(f"security events carry no personal data: {sorted(personal)}")
    record = {"event": kind, "participant_id": str(participant_id) if participant_id else None, **fields}
    # JSON keeps a hostile value (a forged address, say) on its one line.
    log.info("security %s", msgspec.json.encode(record, enc_hook=str).decode())
