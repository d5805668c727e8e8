"""The identity store: e-mail, display name and password hash, keyed by the pseudonymous id.

It is the only place that holds personal data, so erasing a person is deleting one row.
"""

from datetime import UTC, datetime
from uuid import UUID

from domain.errors import EmailAlreadyRegistered
from domain.identities import Identity, normalise_email
from projections.database import Database

_COLUMNS = "participant_id, email, display_name, password_hash"


def _identity(row: tuple[str, str, str, str] | None) -> Identity | None:
    if row is None:
        return None
    return Identity(UUID(row[0]), row[1], row[2], row[3])


class SQLIdentityStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, identity: Identity) -> None:
        with self.db.transaction() as cur:
            # ON CONFLICT keeps the unique check atomic without relying on driver exception types.
            cur.execute(
                "INSERT INTO identities (participant_id, email, display_name, password_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING",
                (
                    str(identity.participant_id),
                    normalise_email(identity.email),
                    identity.display_name,
                    identity.password_hash,
                    datetime.now(UTC).isoformat(),
                ),
            )
            if cur.rowcount != 1:
                raise EmailAlreadyRegistered()

    def find_by_email(self, email: str) -> Identity | None:
        return _identity(
            self.db.query_one(f"SELECT {_COLUMNS} FROM identities WHERE email = ?", (normalise_email(email),))
        )  # type: ignore[arg-type]

    def get(self, participant_id: UUID) -> Identity | None:
        return _identity(
            self.db.query_one(f"SELECT {_COLUMNS} FROM identities WHERE participant_id = ?", (str(participant_id),))
        )  # type: ignore[arg-type]

    def update_password_hash(self, participant_id: UUID, password_hash: str) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                "UPDATE identities SET password_hash = ? WHERE participant_id = ?",
                (password_hash, str(participant_id)),
            )

    def erase(self, participant_id: UUID) -> None:
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM identities WHERE participant_id = ?", (str(participant_id),))
