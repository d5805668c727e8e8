"""An auditor resolving the pseudonymous id behind an event to the person it names.

The audit pages show who acted as a role and a department; when an auditor needs the person, the
lookup itself goes on record first, one aggregate per lookup, in the hash-chained event log: a row
in a log table could be deleted by anyone with database access and nobody would know, while a
removed event breaks the chain that `kyoso audit verify` checks against the signed checkpoints.
The event holds pseudonymous ids and the auditor's stated reason only, so erasure is unaffected.
"""

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.aggregate import KyosoAggregate
from domain.errors import InvalidCommand, NotAllowed
from domain.messages import N_
from domain.text import forbidden_characters_problem
from domain.values import Role

MAX_REASON = 200
# Admins act as auditors too (web/auth.py User.is_auditor).
MAY_RESOLVE = frozenset({Role.AUDITOR, Role.ADMIN})


class IdentityLookup(KyosoAggregate):
    class Recorded(Aggregate.Created):
        auditor_id: UUID
        subject_id: UUID
        position: int  # the event whose actor was resolved
        reason: str

    @classmethod
    def record(
        cls, *, auditor_id: UUID, role: Role, erased: bool, subject_id: UUID, position: int, reason: str
    ) -> "IdentityLookup":
        if erased or Role(role) not in MAY_RESOLVE:
            raise NotAllowed(N_("利用者の照会ができるのは監査担当と管理者だけです。"))
        reason = reason.strip()
        if not reason:
            raise InvalidCommand(field_errors={"reason": N_("照会の理由を入力してください。")})
        if len(reason) > MAX_REASON:
            raise InvalidCommand(
                field_errors={"reason": N_("理由は%(limit)s文字以内にしてください。", limit=MAX_REASON)}
            )
        if problem := forbidden_characters_problem(reason):
            raise InvalidCommand(field_errors={"reason": problem})
        return cls(auditor_id=auditor_id, subject_id=subject_id, position=position, reason=reason)

    @event(Recorded)
    def __init__(self, auditor_id: UUID, subject_id: UUID, position: int, reason: str) -> None:
        self.auditor_id = auditor_id
        self.subject_id = subject_id
        self.position = position
        self.reason = reason
