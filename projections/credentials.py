"""Changing a person's sign-in details in the identity store, and ending their sessions.

Both live only in read-model tables (identities, web_sessions): an e-mail address is personal
data and never enters an event, so a change of address is an update of the one erasable row.
"""

import sqlite3
from uuid import UUID

from domain.identities import normalise_email
from projections.database import Database


def change_email(db: Database, participant_id: UUID, email: str) -> bool:
    """Moves the account to a new address; False when another account already has it."""
    import psycopg.errors

    address = normalise_email(email)
    try:
        with db.transaction() as cur:
            # The NOT EXISTS answers the usual case; the UNIQUE index settles a concurrent race.
            cur.execute(
                "UPDATE identities SET email = ? WHERE participant_id = ?"
                " AND NOT EXISTS (SELECT 1 FROM identities WHERE email = ? AND participant_id <> ?)",
                (address, str(participant_id), address, str(participant_id)),
            )
            changed = cur.rowcount == 1
    except (sqlite3.IntegrityError, psycopg.errors.UniqueViolation):
        return False
    return changed


def end_sessions(db: Database, participant_id: UUID) -> int:
    """Ends every session of this person (after a password or address change, or a reset);
    the caller then gives the person in front of it a fresh one."""
    with db.transaction() as cur:
        cur.execute("DELETE FROM web_sessions WHERE participant_id = ?", (str(participant_id),))
        return cur.rowcount
