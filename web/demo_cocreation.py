"""Demo data for organisations, challenges and proposals."""

from uuid import UUID

from projections.storage import Storage


def load_cocreation_demo(storage: Storage, ids: dict[str, UUID]) -> list[tuple[str, str]]:
    """Loads the demo and returns the extra logins it made, as (role, e-mail)."""
    return []
