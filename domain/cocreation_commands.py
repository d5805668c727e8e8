"""The Kyoso Application's commands for organisations, challenges and proposals (事業者提案): a mixin of Kyoso.

Each command loads its aggregates, asks them (their rules decide), seals what a person wrote under
that person's key, and saves everything one command changes in one atomic save.
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import RecordConflictError

from domain import clock
from domain.attachment import check_file
from domain.challenge import Challenge
from domain.errors import InvalidCommand, NotAllowed
from domain.messages import N_, Message
from domain.organisation import (
    AlreadyMember,
    Membership,
    Organisation,
    OrganisationExists,
    OrganisationKind,
    check_registration,
    membership_id,
    name_context,
    organisation_id_for,
    sole_proprietor_id,
)
from domain.personal_data import seal
from domain.proposal import (
    COCREATION_WINDOW,
    TEXT_FIELDS,
    Actor,
    Proposal,
    Stage,
    attachment_context,
    check_content,
    message_context,
    proposal_id_for,
    text_context,
)
from domain.values import Role


class AttachmentBlobs(Protocol):
    """Where attachment content is kept, by SHA-256, outside the events."""

    def put(self, sha256: str, content: bytes, media_type: str) -> None: ...


class CoCreationCommands:
    # Provided by Kyoso; named here so the mixin reads on its own.
    keys: Any
    save: Any
    _get: Any
    _require_staff: Any
    get_participant: Any
    repository: Any
    _key_of: Any

    # Organisations

    def register_organisation(
        self, participant_id: UUID, *, kind: OrganisationKind | str, name: str, corporate_number: str | None
    ) -> UUID:
        person = self.get_participant(participant_id)
        if person.role is not Role.BUSINESS or person.erased:
            raise NotAllowed(N_("組織を登録できるのは事業者アカウントだけです。"))
        errors = check_registration(name, str(kind), corporate_number)
        if errors:
            raise InvalidCommand(field_errors=errors)
        if membership_id(participant_id) in self.repository:
            raise AlreadyMember()
        kind = OrganisationKind(kind)
        if kind is OrganisationKind.CORPORATION and organisation_id_for(corporate_number or "") in self.repository:
            raise OrganisationExists()
        sealed_name = None
        if kind is OrganisationKind.SOLE_PROPRIETOR:
            # Sealed under the registering member's key: a trade name is often the owner's own name.
            corporate_number = None
            context = name_context(sole_proprietor_id(participant_id))
            sealed_name = seal(self._key_of(participant_id), name.strip(), context)
        organisation = Organisation.register(
            kind=kind,
            corporate_number=corporate_number,
            name=name,
            sealed_name=sealed_name,
            registered_by=participant_id,
        )
        membership = Membership(participant_id=participant_id, organisation_id=organisation.id)
        try:
            self.save(organisation, membership)
        except RecordConflictError:
            if membership_id(participant_id) in self.repository:
                raise AlreadyMember() from None
            raise OrganisationExists() from None
        return organisation.id  # type: ignore[no-any-return]

    def add_organisation_member(self, organisation_id: UUID, *, added_by: UUID, participant_id: UUID) -> None:
        person = self.get_participant(participant_id)
        if person.role is not Role.BUSINESS or person.erased:
            raise InvalidCommand(field_errors={"email": N_("事業者アカウントだけをメンバーに追加できます。")})
        organisation = self.get_organisation(organisation_id)
        if membership_id(participant_id) in self.repository:
            raise AlreadyMember()
        organisation.add_member(participant_id, added_by=added_by)
        try:
            self.save(organisation, Membership(participant_id=participant_id, organisation_id=organisation_id))
        except RecordConflictError:
            raise AlreadyMember() from None

    def verify_organisation(self, organisation_id: UUID, *, staff_id: UUID) -> None:
        staff = self._require_staff(staff_id)
        if staff.role is not Role.ADMIN and staff.department != COCREATION_WINDOW:
            raise NotAllowed(N_("組織の確認は%(window)sが行います。", window=Message(COCREATION_WINDOW)))
        organisation = self.get_organisation(organisation_id)
        organisation.verify(staff_id)
        self.save(organisation)

    def get_organisation(self, organisation_id: UUID) -> Organisation:
        return self._get(organisation_id, Organisation, N_("組織が見つかりません。"))  # type: ignore[no-any-return]

    def organisation_of(self, participant_id: UUID) -> UUID | None:
        if membership_id(participant_id) not in self.repository:
            return None
        membership = self._get(membership_id(participant_id), Membership, N_("所属が見つかりません。"))
        return membership.organisation_id  # type: ignore[no-any-return]

    def actor(self, participant_id: UUID) -> Actor:
        """The person as the co-creation rules see them (an erased person is nobody)."""
        person = self.get_participant(participant_id)
        if person.erased:
            raise NotAllowed()
        organisation = self.organisation_of(participant_id) if person.role is Role.BUSINESS else None
        return Actor(participant_id, person.role, person.department, organisation)

    # Challenges

    def draft_challenge(
        self,
        *,
        staff_id: UUID,
        title: str,
        background: str,
        shareable_data: str,
        outcomes: str,
        sdg_goals: Sequence[int],
        deadline: date | None,
    ) -> UUID:
        staff = self._require_staff(staff_id)
        if not staff.department:
            raise NotAllowed(N_("課題は部署の職員が作成します。"))
        challenge = Challenge.draft(
            department=staff.department,
            title=title,
            background=background,
            shareable_data=shareable_data,
            outcomes=outcomes,
            sdg_goals=list(sdg_goals),
            deadline=deadline,
            drafted_by=staff_id,
        )
        self.save(challenge)
        return challenge.id  # type: ignore[no-any-return]

    def revise_challenge(self, challenge_id: UUID, *, staff_id: UUID, **details: Any) -> None:
        challenge = self._editable_challenge(challenge_id, staff_id)
        challenge.revise(revised_by=staff_id, **{**details, "sdg_goals": list(details.get("sdg_goals", []))})
        self.save(challenge)

    def publish_challenge(self, challenge_id: UUID, *, staff_id: UUID) -> None:
        challenge = self._editable_challenge(challenge_id, staff_id)
        challenge.publish(staff_id, clock.now())
        self.save(challenge)

    def close_challenge(self, challenge_id: UUID, *, staff_id: UUID) -> None:
        challenge = self._editable_challenge(challenge_id, staff_id)
        challenge.close(staff_id)
        self.save(challenge)

    def get_challenge(self, challenge_id: UUID) -> Challenge:
        return self._get(challenge_id, Challenge, N_("課題が見つかりません。"))  # type: ignore[no-any-return]

    def _editable_challenge(self, challenge_id: UUID, staff_id: UUID) -> Challenge:
        staff = self._require_staff(staff_id)
        challenge = self.get_challenge(challenge_id)
        if staff.role is not Role.ADMIN and staff.department != challenge.department:
            raise NotAllowed(N_("他の部署の課題は編集できません。"))
        return challenge

    # Proposals

    def submit_proposal(
        self,
        participant_id: UUID,
        *,
        challenge_id: UUID | None,
        submission_key: UUID,
        texts: dict[str, str],
        cost_yen: int,
        sdg_goals: Sequence[int] = (),
        files: Sequence[tuple[str, bytes]] = (),
        blobs: AttachmentBlobs | None = None,
        now: datetime | None = None,
    ) -> UUID:
        """A proposal with its attachments, saved at once: nothing is recorded if any part is refused."""
        actor = self.actor(participant_id)
        if actor.role is not Role.BUSINESS:
            raise NotAllowed(N_("提案できるのは事業者アカウントだけです。"))
        if actor.organisation_id is None:
            raise NotAllowed(N_("提案の前に組織を登録してください。"))
        organisation = self.get_organisation(actor.organisation_id)
        challenge = self.get_challenge(challenge_id) if challenge_id else None
        if challenge is not None:
            challenge.require_accepting(now or clock.now())
        texts = {name: texts.get(name, "").strip() for name in TEXT_FIELDS}
        errors = check_content(texts, cost_yen, list(sdg_goals))
        checked = []
        for name, content in files:
            try:
                checked.append((check_file(name, content), content))
            except InvalidCommand as e:
                errors.update(e.field_errors)
        if errors:
            raise InvalidCommand(field_errors=errors)
        proposal_id = proposal_id_for(organisation.id, submission_key)
        key = self._key_of(participant_id)
        sealed = {name: seal(key, value, text_context(proposal_id, name)) for name, value in texts.items() if value}
        proposal = Proposal.submit(
            actor=actor,
            organisation=organisation,
            challenge=challenge,
            submission_key=submission_key,
            texts=sealed,
            cost_yen=cost_yen,
            sdg_goals=list(sdg_goals),
            now=now or clock.now(),
        )
        for file, content in checked:
            self._attach(proposal, actor, key, file, content, blobs)
        try:
            self.save(proposal)
        except RecordConflictError:
            raise InvalidCommand(N_("この提案はすでに送信されています。")) from None
        return proposal.id  # type: ignore[no-any-return]

    def add_proposal_attachment(
        self, proposal_id: UUID, *, participant_id: UUID, name: str, content: bytes, blobs: AttachmentBlobs
    ) -> str:
        actor = self.actor(participant_id)
        proposal = self.get_proposal(proposal_id)
        file = check_file(name, content)
        self._attach(proposal, actor, self._key_of(participant_id), file, content, blobs)
        self.save(proposal)
        return file.sha256

    def _attach(
        self, proposal: Proposal, actor: Actor, key: bytes, file: Any, content: bytes, blobs: AttachmentBlobs | None
    ) -> None:
        if blobs is None:
            raise RuntimeError("attachments need a blob store")
        sealed_name = seal(key, file.name, attachment_context(proposal.id, file.sha256))
        proposal.add_attachment(actor, file.sha256, sealed_name, file.media_type, file.size)
        # Stored before the event is saved, so no event ever names content that is missing. If the
        # save then fails, the blob stays unreferenced: harmless, since it is keyed by its digest.
        blobs.put(file.sha256, content, file.media_type)

    def route_proposal(self, proposal_id: UUID, *, staff_id: UUID, department: str) -> None:
        proposal = self.get_proposal(proposal_id)
        proposal.route(department, self.actor(staff_id))
        self.save(proposal)

    def change_proposal_stage(self, proposal_id: UUID, *, staff_id: UUID, stage: Stage | str, reason: str = "") -> None:
        proposal = self.get_proposal(proposal_id)
        try:
            stage = Stage(stage)
        except ValueError:
            raise InvalidCommand(field_errors={"stage": N_("段階を選んでください。")}) from None
        proposal.change_stage(stage, reason, self.actor(staff_id))
        self.save(proposal)

    def post_proposal_message(self, proposal_id: UUID, *, author_id: UUID, text: str) -> None:
        actor = self.actor(author_id)
        proposal = self.get_proposal(proposal_id)
        from_city = proposal.check_message(actor, text)
        number = proposal.next_message_number
        sealed = seal(self._key_of(author_id), text.strip(), message_context(proposal_id, number))
        proposal.post_message(actor, sealed, number, from_city)
        self.save(proposal)

    def give_publication_consent(self, proposal_id: UUID, *, participant_id: UUID) -> None:
        proposal = self.get_proposal(proposal_id)
        proposal.give_consent(self.actor(participant_id))
        self.save(proposal)

    def publish_proposal_summary(self, proposal_id: UUID, *, staff_id: UUID, text: str) -> None:
        proposal = self.get_proposal(proposal_id)
        proposal.publish_summary(text, self.actor(staff_id))
        self.save(proposal)

    def get_proposal(self, proposal_id: UUID) -> Proposal:
        return self._get(proposal_id, Proposal, N_("提案が見つかりません。"))  # type: ignore[no-any-return]
