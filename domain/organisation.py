"""An organisation that brings proposals to the city: a corporation (法人) or a sole proprietor (個人事業主).

A corporation's id is derived from its 法人番号, so a second registration of the same number is
a second "version 1" that the event store refuses: one organisation per 法人番号 by construction.
A person belongs to at most one organisation, by the same device (Membership, keyed by the person).

Names: a company's name is public business data (it is in the 国税庁 法人番号公表サイト), so it
travels in plain text. A sole proprietor's trade name is often just the owner's own name, which is
personal data: it is sealed under the registering member's key, so erasing that person erases it.
"""

from enum import StrEnum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.aggregate import KyosoAggregate
from domain.corporate_number import corporate_number_problem, normalise
from domain.errors import DomainError, InvalidCommand
from domain.messages import N_
from domain.text import forbidden_characters_problem

ORGANISATION_NAMESPACE = UUID("0d5c4f52-54b4-4c38-9e5e-1f6c0a7b2e31")
MEMBERSHIP_NAMESPACE = UUID("a3f1e0c9-2b7d-4f06-8c1e-5d9b6a4e7f12")
MAX_NAME = 100


class OrganisationKind(StrEnum):
    CORPORATION = "corporation"
    SOLE_PROPRIETOR = "sole_proprietor"

    @property
    def label(self) -> str:
        return {"corporation": "法人", "sole_proprietor": "個人事業主"}[self.value]


class OrganisationExists(DomainError):
    code = "organisation_exists"
    message = N_("この法人番号の組織はすでに登録されています。登録済みのメンバーに追加を依頼してください。")


class AlreadyMember(DomainError):
    code = "already_member"
    message = N_("このアカウントはすでに組織に所属しています。")


def organisation_id_for(corporate_number: str) -> UUID:
    return uuid5(ORGANISATION_NAMESPACE, normalise(corporate_number))


def sole_proprietor_id(registered_by: UUID) -> UUID:
    """A sole proprietor has no number; the business is its owner's, so its id is derived from them."""
    return uuid5(ORGANISATION_NAMESPACE, f"sole-proprietor/{registered_by}")


def membership_id(participant_id: UUID) -> UUID:
    return uuid5(MEMBERSHIP_NAMESPACE, str(participant_id))


def name_context(organisation_id: UUID) -> str:
    return f"organisation/{organisation_id}/name"


def check_registration(name: str, kind: str, corporate_number: str | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = N_("組織名（屋号）を入力してください。")
    elif len(name.strip()) > MAX_NAME:
        errors["name"] = N_("組織名は%(limit)s文字以内にしてください。", limit=MAX_NAME)
    elif problem := forbidden_characters_problem(name):
        errors["name"] = problem
    if kind not in OrganisationKind.__members__.values():
        errors["kind"] = N_("法人か個人事業主かを選んでください。")
    elif kind == OrganisationKind.CORPORATION:
        if problem := corporate_number_problem(corporate_number or ""):
            errors["corporate_number"] = problem
    elif corporate_number and normalise(corporate_number):
        errors["corporate_number"] = N_("個人事業主の場合、法人番号は入力しないでください。")
    return errors


class Organisation(KyosoAggregate):
    class Registered(Aggregate.Created):
        """`name` is empty when it is sealed (`sealed_name`, under `registered_by`'s key)."""

        kind: OrganisationKind
        corporate_number: str | None
        name: str
        sealed_name: bytes | None
        registered_by: UUID

    class MemberAdded(Aggregate.Event):
        participant_id: UUID
        added_by: UUID

    class Verified(Aggregate.Event):
        verified_by: UUID

    @staticmethod
    def create_id(corporate_number: str | None, registered_by: UUID, **_: object) -> UUID:  # type: ignore[override]
        if corporate_number:
            return organisation_id_for(corporate_number)
        return sole_proprietor_id(registered_by)

    @classmethod
    def register(
        cls,
        *,
        kind: OrganisationKind,
        corporate_number: str | None,
        name: str,
        sealed_name: bytes | None,
        registered_by: UUID,
    ) -> "Organisation":
        kind = OrganisationKind(kind)
        number = normalise(corporate_number) if corporate_number else None
        errors = check_registration(name if sealed_name is None else "x", kind, number)
        if kind is OrganisationKind.SOLE_PROPRIETOR and sealed_name is None:
            errors["name"] = N_("個人事業主の屋号は本人の鍵で保護して登録します。")
        if errors:
            raise InvalidCommand(field_errors=errors)
        organisation = cls(
            kind=kind,
            corporate_number=number,
            name=name.strip() if sealed_name is None else "",
            sealed_name=sealed_name,
            registered_by=registered_by,
        )
        organisation.add_member(registered_by, added_by=registered_by)
        return organisation

    @event(Registered)
    def __init__(
        self,
        kind: OrganisationKind,
        corporate_number: str | None,
        name: str,
        sealed_name: bytes | None,
        registered_by: UUID,
    ) -> None:
        self.kind = kind
        self.corporate_number = corporate_number
        self.name = name
        self.sealed_name = sealed_name
        self.registered_by = registered_by
        self.members: list[UUID] = []
        self.verified = False

    def is_member(self, participant_id: UUID) -> bool:
        return participant_id in self.members

    def add_member(self, participant_id: UUID, *, added_by: UUID) -> None:
        if participant_id in self.members:
            raise AlreadyMember(N_("このアカウントはすでにこの組織のメンバーです。"))
        if self.members and added_by not in self.members:
            raise InvalidCommand(N_("メンバーを追加できるのは組織のメンバーだけです。"))
        self._add_member(participant_id, added_by)

    def verify(self, verified_by: UUID) -> None:
        if self.verified:
            raise InvalidCommand(N_("この組織はすでに確認済みです。"))
        self._verify(verified_by)

    @event(MemberAdded)
    def _add_member(self, participant_id: UUID, added_by: UUID) -> None:
        self.members.append(participant_id)

    @event(Verified)
    def _verify(self, verified_by: UUID) -> None:
        self.verified = True


class Membership(KyosoAggregate):
    """Which organisation a person acts for: at most one, since the id is derived from the person."""

    class Joined(Aggregate.Created):
        participant_id: UUID
        organisation_id: UUID

    @staticmethod
    def create_id(participant_id: UUID, **_: object) -> UUID:  # type: ignore[override]
        return membership_id(participant_id)

    @event(Joined)
    def __init__(self, participant_id: UUID, organisation_id: UUID) -> None:
        self.participant_id = participant_id
        self.organisation_id = organisation_id
