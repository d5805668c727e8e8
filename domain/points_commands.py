"""The Kyoso Application's commands for SDGs points: a mixin of Kyoso.

Every award, whatever its channel, goes through `_award`: it decides each grant by the menu's rule
at the grant's moment, and saves the awards with the budgets and accounts they change in one
atomic save. A concurrent change to any of those aggregates makes the save conflict; the grants
are then decided again on fresh aggregates, so budgets and limits hold under any concurrency,
and an award already recorded (its id is derived from its source) is never recorded twice.
"""

import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError, Tracking

from domain import clock
from domain.awarding import Cause
from domain.combining import Combiner
from domain.errors import DomainError, InvalidCommand, NotAllowed, NotFound
from domain.idea import Idea
from domain.messages import N_
from domain.organisation import Membership, Organisation, membership_id
from domain.participant import Participant
from domain.personal_data import seal, unseal
from domain.points_ledger import (
    AlreadyAwarded,
    Award,
    MenuBudget,
    NotValid,
    PointsAccount,
    SourceKind,
    account_id,
    award_id,
    budget_id,
)
from domain.points_menu import MenuRule, SdgMenu, Trigger
from domain.points_rewards import MIN_TRANSFER, PayoutBatch, Reward, Transfer, check_wallet_number
from domain.proposal import Proposal
from domain.values import Role
from domain.venue_code import InvalidCode, VenueCode, read_code

# Concurrent awards of one menu conflict on its budget; each retry re-decides on fresh state, and
# one of the contenders always wins a round, so 50 concurrent claimants need at most 50 rounds.
AWARD_RETRIES = 200
EARNER_ROLES = frozenset({Role.CITIZEN, Role.BUSINESS})
REASONS = {
    Trigger.SURVEY_ANSWERED: "アンケートへの回答",
    Trigger.IDEA_ADOPTED: "提案が実施決定されました",
    Trigger.PROPOSAL_AGREED: "事業者提案が協定締結に至りました",
}


class AlreadyProcessed(Exception):
    """Another worker recorded the awards of these events (and moved the tracking past them) first."""


@dataclass(frozen=True)
class Grant:
    """One award to decide: to whom, for which menu, from what source, at what moment."""

    menu_id: UUID
    participant_id: UUID
    source_kind: SourceKind
    source: str
    caused_at: datetime
    reason: str
    # Claimed by a person waiting for the answer: "already claimed" is checked first, so that it
    # is the answer they get rather than a limit the earlier award used up.
    claimed: bool = False


@dataclass(frozen=True)
class BulkOutcome:
    """What became of each row of a bulk award: the award id, or the refusal's code."""

    awarded: int
    already: int
    refused: list[tuple[int, str]]


def wallet_context(participant_id: UUID) -> str:
    return f"participant/{participant_id}/wallet"


class PointsCommands:
    # Provided by Kyoso (domain/application.py).
    keys: Any
    recorder: Any
    repository: Any
    save: Any
    _get: Any
    _key_of: Any
    _require_staff: Any
    get_participant: Any
    code_key: bytes | None
    # Concurrent claims, decided together and saved in one transaction (domain/combining.py).
    _claims: Combiner[Grant, UUID]

    # Menus

    def define_menu(
        self,
        staff_id: UUID,
        *,
        name: str,
        sdg_goals: list[int],
        trigger: Trigger | str,
        rule: MenuRule,
        department: str | None = None,
        survey_ids: list[UUID] | None = None,
        funder_id: UUID | None = None,
    ) -> UUID:
        staff = self._require_staff(staff_id)
        department = department or staff.department or ""
        if staff.role is not Role.ADMIN and department != staff.department:
            raise NotAllowed(N_("他の部署のメニューは作成できません。"))
        if funder_id is not None:
            self._get(funder_id, Organisation, N_("協賛する組織が見つかりません。"))
        menu = SdgMenu.define(
            name=name,
            sdg_goals=sdg_goals,
            trigger=Trigger(trigger),
            department=department,
            rule=rule,
            defined_by=staff_id,
            survey_ids=survey_ids,
            funder_id=funder_id,
        )
        self.save(menu)
        return menu.id

    def change_menu_rule(self, staff_id: UUID, menu_id: UUID, rule: MenuRule) -> None:
        menu = self._menu_for_staff(staff_id, menu_id)
        menu.change_rule(rule, staff_id)
        self.save(menu)

    def get_menu(self, menu_id: UUID) -> SdgMenu:
        return self._get(menu_id, SdgMenu, N_("メニューが見つかりません。"))

    def _menu_for_staff(self, staff_id: UUID, menu_id: UUID) -> SdgMenu:
        staff = self._require_staff(staff_id)
        menu = self.get_menu(menu_id)
        if staff.role is not Role.ADMIN and staff.department != menu.department:
            raise NotAllowed(N_("他の部署のメニューは変更できません。"))
        return menu

    # Venue codes

    def issue_code(
        self, actor_id: UUID, menu_id: UUID, *, label: str, valid_from: datetime, valid_until: datetime
    ) -> UUID:
        """Staff of the menu's department issue its codes; so do members of the organisation funding it."""
        menu = self.get_menu(menu_id)
        actor = self.get_participant(actor_id)
        if not self._may_issue(actor, menu):
            raise NotAllowed(N_("このメニューのコードを発行する権限がありません。"))
        if menu.trigger is not Trigger.VENUE_CODE:
            raise InvalidCommand(N_("このメニューは会場コードで付与するメニューではありません。"))
        for _ in range(5):  # A 32-bit number may collide with an earlier code's: draw another.
            code = VenueCode.issue(
                menu_id=menu_id, label=label, valid_from=valid_from, valid_until=valid_until, issued_by=actor_id
            )
            try:
                self.save(code)
            except RecordConflictError:
                continue
            return code.id
        raise RuntimeError("could not draw a free venue code number")

    def _may_issue(self, actor: Participant, menu: SdgMenu) -> bool:
        if actor.erased:
            return False
        if actor.role is Role.ADMIN:
            return True
        if actor.role is Role.STAFF:
            return actor.department == menu.department
        if actor.role is Role.BUSINESS and menu.funder_id is not None:
            try:
                membership = self.repository.get(membership_id(actor.id))
            except AggregateNotFoundError:
                return False
            return isinstance(membership, Membership) and membership.organisation_id == menu.funder_id
        return False

    def get_code(self, code_id: UUID) -> VenueCode:
        return self._get(code_id, VenueCode, N_("コードが見つかりません。"))

    def code_text(self, code_id: UUID) -> str:
        return self.get_code(code_id).text(self._code_key())

    def withdraw_code(self, actor_id: UUID, code_id: UUID) -> None:
        code = self.get_code(code_id)
        if not self._may_issue(self.get_participant(actor_id), self.get_menu(code.menu_id)):
            raise NotAllowed()
        code.withdraw(actor_id)
        self.save(code)

    def _code_key(self) -> bytes:
        if not self.code_key:
            raise RuntimeError("venue codes need a code key")
        return self.code_key

    def claim_code(self, participant_id: UUID, text: str) -> UUID:
        """Awards a venue code's points to the person; returns the award's id.

        InvalidCode (422) for a malformed or forged code; 409 with a reason code for an expired
        code, a claim already made, an exhausted budget or a reached per-person limit."""
        found = read_code(self._code_key(), text)
        try:
            code = self.get_code(found)
        except NotFound:
            raise InvalidCode() from None
        now = clock.now()
        if not code.valid_at(now):
            raise NotValid(N_("このコードの有効期間外、または取り消されたコードです。"))
        grant = Grant(
            menu_id=code.menu_id,
            participant_id=participant_id,
            source_kind=SourceKind.CODE,
            # One award per code, person and day: a permanent code (a bicycle park's) serves a
            # daily menu every day, while the menu's own limit decides how often in all.
            source=f"code:{code.id}:{participant_id}:{clock.city_date(now).isoformat()}",
            caused_at=now,
            reason=code.label,
            claimed=True,
        )
        return self._claims(grant)

    # Bulk awards (a list of participants, e.g. those who had a health check-up)

    def award_bulk(
        self, staff_id: UUID, menu_id: UUID, *, reference: str, participant_ids: Sequence[UUID]
    ) -> BulkOutcome:
        """Awards a menu's points to each listed person; the same reference and person never earn twice,
        so uploading the same list again awards nothing more."""
        menu = self._menu_for_staff(staff_id, menu_id)
        if menu.trigger is not Trigger.BULK:
            raise InvalidCommand(N_("このメニューは名簿で一括付与するメニューではありません。"))
        reference = reference.strip()
        if not reference or len(reference) > 80:
            raise InvalidCommand(
                field_errors={"reference": N_("付与の名目（例: 2026年11月 特定健診）を80文字以内で入力してください。")}
            )
        now = clock.now()
        grants = [
            Grant(menu_id, pid, SourceKind.BULK, f"bulk:{reference}:{pid}", now, reference) for pid in participant_ids
        ]
        outcomes = self._award_codes(grants)
        awarded = sum(1 for o in outcomes if isinstance(o, UUID))
        already = sum(1 for o in outcomes if o == AlreadyAwarded.code)
        refused = [
            (row, str(o)) for row, o in enumerate(outcomes, 1) if not isinstance(o, UUID) and o != AlreadyAwarded.code
        ]
        return BulkOutcome(awarded, already, refused)

    # Automatic awards (the awarding process)

    def award_causes(
        self, causes: Iterable[Cause], menus: dict[Trigger, list[UUID]], tracking: Tracking | None = None
    ) -> list[UUID | str]:
        """Awards what the causes earn under the menus that apply, saving `tracking` in the same transaction."""
        grants: list[Grant] = []
        menus_read = _ReadOnce(
            lambda menu_id: self._get(menu_id, SdgMenu, N_("メニューが見つかりません。"), copy=False)
        )
        for cause in causes:
            menu_ids = menus.get(cause.trigger, [])
            if not menu_ids:
                continue
            earner = self._earner_of(cause)
            if earner is None:
                continue
            for menu_id in menu_ids:
                if cause.survey_id is not None and not menus_read[menu_id].covers_survey(cause.survey_id):
                    continue
                reason = REASONS.get(cause.trigger, "")
                grants.append(Grant(menu_id, earner, SourceKind.EVENT, cause.source, cause.caused_at, reason))
        return self._award_codes(grants, tracking=tracking)

    def _earner_of(self, cause: Cause) -> UUID | None:
        if cause.participant_id is not None:
            return cause.participant_id
        try:
            if cause.trigger is Trigger.IDEA_ADOPTED and cause.subject_id is not None:
                return self._get(cause.subject_id, Idea, "").author_id
            if cause.trigger is Trigger.PROPOSAL_AGREED and cause.subject_id is not None:
                return self._get(cause.subject_id, Proposal, "").submitted_by
        except NotFound:
            pass  # Not one of ours (a topic clash); nothing to award, and the process must go on.
        return None

    # The one way points are awarded

    def _award_codes(self, grants: Sequence[Grant], *, tracking: Tracking | None = None) -> list[UUID | str]:
        """As `_award`, with each refusal given by its code."""
        return [o if isinstance(o, UUID) else o.code for o in self._award(grants, tracking=tracking)]

    def _award(self, grants: Sequence[Grant], *, tracking: Tracking | None = None) -> list[UUID | DomainError]:
        """Decides and saves the grants together; returns, per grant, the award id or the refusal."""
        for attempt in range(AWARD_RETRIES):
            outcomes, aggregates = self._decide(grants, retrying=attempt > 0)
            if not aggregates and tracking is None:
                return outcomes
            try:
                self.save(*aggregates, tracking=tracking)
            except RecordConflictError:
                if tracking is not None and (self.recorder.max_tracking_id(tracking.application_name) or 0) >= (
                    tracking.notification_id
                ):
                    raise AlreadyProcessed() from None
                if attempt:  # Another server's claims or process: let it finish its round.
                    time.sleep(random.random() * 0.002 * min(attempt, 20))
                continue
            return outcomes
        raise DomainError(N_("混み合っています。しばらくしてからもう一度お試しください。"))

    def _decide(self, grants: Sequence[Grant], *, retrying: bool) -> tuple[list[UUID | DomainError], list[Any]]:
        budgets: dict[UUID, MenuBudget] = {}
        accounts: dict[UUID, PointsAccount] = {}
        awards: list[Award] = []
        outcomes: list[UUID | DomainError] = []
        decided: set[UUID] = set()
        # Menus and earners are only read: loaded once per round, without copies.
        reads = _Reads(
            _ReadOnce(lambda menu_id: self._get(menu_id, SdgMenu, N_("メニューが見つかりません。"), copy=False)),
            _ReadOnce(lambda pid: self._get(pid, Participant, N_("利用者が見つかりません。"), copy=False)),
        )
        for grant in grants:
            the_award_id = award_id(grant.menu_id, grant.source)
            if the_award_id in decided:  # The same source twice in one round.
                outcomes.append(AlreadyAwarded())
                continue
            try:
                awards.append(
                    self._decide_one(grant, reads, budgets, accounts, check_existing=retrying or grant.claimed)
                )
            except DomainError as refusal:
                # A refusal by the menu's rules may hide the real reason: it was awarded before.
                already = not isinstance(refusal, AlreadyAwarded) and the_award_id in self.repository
                outcomes.append(AlreadyAwarded() if already else refusal)
            else:
                decided.add(the_award_id)
                outcomes.append(the_award_id)
        return outcomes, [*awards, *budgets.values(), *accounts.values()]

    def _decide_one(
        self,
        grant: Grant,
        reads: "_Reads",
        budgets: dict[UUID, MenuBudget],
        accounts: dict[UUID, PointsAccount],
        *,
        check_existing: bool,
    ) -> Award:
        the_award_id = award_id(grant.menu_id, grant.source)
        # Only a kindness (the error names the real reason): a duplicate could not be saved anyway.
        if check_existing and the_award_id in self.repository:
            raise AlreadyAwarded()
        earner = reads.participants(grant.participant_id)
        if earner.erased or earner.role not in EARNER_ROLES:
            raise NotAllowed(N_("このアカウントではポイントを獲得できません。"))
        menu = reads.menus(grant.menu_id)
        in_force = menu.rule_at(grant.caused_at)
        earned_on = clock.city_date(grant.caused_at)
        if in_force is None or not in_force[1].valid_from <= earned_on <= in_force[1].valid_until:
            raise NotValid()
        version, rule = in_force
        fiscal_year = clock.fiscal_year(earned_on)
        budget = budgets.get(budget_id(menu.id, fiscal_year)) or self._budget(menu.id, fiscal_year)
        account = accounts.get(account_id(earner.id)) or self._account(earner.id)
        account.check_limit(menu.id, rule, earned_on, fiscal_year)
        award = Award(
            participant_id=earner.id,
            menu_id=menu.id,
            menu_version=version,
            points=rule.points,
            sdg_goals=menu.sdg_goals,
            source_kind=grant.source_kind,
            source=grant.source,
            caused_at=grant.caused_at,
            earned_on=earned_on,
            expires_on=rule.expiry_for(earned_on),
            reason=grant.reason,
            ward=earner.attributes.ward,
        )
        budget.draw(award.id, award.points, rule)
        account.credit(award, rule, earned_on, fiscal_year)
        budgets[budget.id] = budget
        accounts[account.id] = account
        return award

    def _budget(self, menu_id: UUID, fiscal_year: int) -> MenuBudget:
        try:
            return self.repository.get(budget_id(menu_id, fiscal_year))
        except AggregateNotFoundError:
            return MenuBudget(menu_id=menu_id, fiscal_year=fiscal_year)

    def _account(self, participant_id: UUID) -> PointsAccount:
        try:
            return self.repository.get(account_id(participant_id))
        except AggregateNotFoundError:
            return PointsAccount(participant_id=participant_id)

    def points_account(self, participant_id: UUID) -> PointsAccount | None:
        try:
            return self.repository.get(account_id(participant_id))
        except AggregateNotFoundError:
            return None

    # Revocation

    def revoke_award(self, staff_id: UUID, the_award_id: UUID, reason: str) -> int:
        """Revokes an award (a withdrawn source, fraud); takes back what is left of its points and
        returns how many. Points already spent stay spent: the balance never goes below zero."""
        self._require_staff(staff_id)
        for _ in range(AWARD_RETRIES):
            award = self._get(the_award_id, Award, N_("付与記録が見つかりません。"))
            account = self._account(award.participant_id)
            removed = account.take_back(award.id)
            award.revoke(reason, staff_id, removed)
            try:
                self.save(award, account)
            except RecordConflictError:
                continue
            return removed
        raise DomainError(N_("混み合っています。しばらくしてからもう一度お試しください。"))

    # Rewards and spending

    def offer_reward(self, staff_id: UUID, *, name: str, partner: str, points: int, stock: int | None = None) -> UUID:
        self._require_staff(staff_id)
        reward = Reward.offer(name=name, partner=partner, points=points, stock=stock, offered_by=staff_id)
        self.save(reward)
        return reward.id

    def withdraw_reward(self, staff_id: UUID, reward_id: UUID) -> None:
        self._require_staff(staff_id)
        reward = self._get(reward_id, Reward, N_("特典が見つかりません。"))
        reward.withdraw(staff_id)
        self.save(reward)

    def redeem_reward(self, participant_id: UUID, reward_id: UUID) -> UUID:
        """Exchanges points for a reward; returns the spending's id (the voucher the shop checks)."""
        self._require_earner(participant_id)
        spending_id = uuid4()
        for _ in range(AWARD_RETRIES):
            reward = self._get(reward_id, Reward, N_("特典が見つかりません。"))
            account = self._account(participant_id)
            reward.take(spending_id)
            account.spend(spending_id, "reward", reward.id, reward.points, clock.city_today())
            try:
                self.save(account, reward)
            except RecordConflictError:
                continue
            return spending_id
        raise DomainError(N_("混み合っています。しばらくしてからもう一度お試しください。"))

    def transfer_to_wallet(self, participant_id: UUID, points: int, wallet_number: str) -> UUID:
        """Sends points to the person's regional-currency wallet, to be paid in the next payout batch."""
        self._require_earner(participant_id)
        errors: dict[str, str] = {}
        if message := check_wallet_number(wallet_number):
            errors["wallet_number"] = message
        if not isinstance(points, int) or isinstance(points, bool) or points < MIN_TRANSFER:
            errors["points"] = N_("移行は%(minimum)sポイント以上で入力してください。", minimum=MIN_TRANSFER)
        if errors:
            raise InvalidCommand(field_errors=errors)
        digits = wallet_number.strip().replace("-", "").replace(" ", "")
        sealed = seal(self._key_of(participant_id), digits, wallet_context(participant_id))
        for _ in range(AWARD_RETRIES):
            account = self._account(participant_id)
            # The spending is the account's next event: the transfer names it, for the payout file.
            transfer = Transfer(
                participant_id=participant_id, points=points, wallet=sealed, spent_in=account.version + 1
            )
            account.spend(transfer.id, "transfer", transfer.id, points, clock.city_today())
            try:
                self.save(account, transfer)
            except RecordConflictError:
                continue
            return transfer.id
        raise DomainError(N_("混み合っています。しばらくしてからもう一度お試しください。"))

    def _require_earner(self, participant_id: UUID) -> Participant:
        person = self.get_participant(participant_id)
        if person.erased or person.role not in EARNER_ROLES:
            raise NotAllowed(N_("このアカウントではポイントを使えません。"))
        return person

    # Payout batches

    def make_payout_batch(self, staff_id: UUID, transfer_ids: Sequence[UUID]) -> UUID:
        self._require_staff(staff_id)
        transfers = [self._get(t, Transfer, N_("移行が見つかりません。")) for t in transfer_ids]
        batch = PayoutBatch.make(transfers, staff_id)
        try:
            self.save(batch, *transfers)
        except RecordConflictError:
            raise InvalidCommand(
                N_("ほかの職員が同じ移行で支払バッチを作成しました。一覧を更新してください。")
            ) from None
        return batch.id

    def payout_lines(self, batch_id: UUID) -> list[dict[str, Any]]:
        """The batch's lines for the currency operator, each naming the events it comes from."""
        batch = self._get(batch_id, PayoutBatch, N_("支払バッチが見つかりません。"))
        lines = []
        for number, transfer_id in enumerate(batch.transfer_ids, 1):
            transfer = self._get(transfer_id, Transfer, N_("移行が見つかりません。"))
            key = self.keys.existing_key(transfer.participant_id) if self.keys is not None else None
            wallet = unseal(bytes(key), transfer.wallet, wallet_context(transfer.participant_id)) if key else None
            lines.append(
                {
                    "batch_id": str(batch.id),
                    "line": number,
                    "transfer_id": str(transfer.id),
                    "participant": str(transfer.participant_id),
                    "wallet_number": wallet,
                    "points": transfer.points,
                    "yen": transfer.points,
                    "events": f"Transfer {transfer.id} v1; PointsAccount {account_id(transfer.participant_id)} "
                    f"v{transfer.spent_in}; PayoutBatch {batch.id} v1",
                }
            )
        return lines


class _ReadOnce:
    """Loads each aggregate once, remembering a failure as well (a missing menu stays missing)."""

    def __init__(self, load: Any) -> None:
        self._load = load
        self._found: dict[UUID, Any] = {}

    def __call__(self, aggregate_id: UUID) -> Any:
        found = self._found.get(aggregate_id)
        if found is None:
            try:
                found = self._load(aggregate_id)
            except DomainError as error:
                found = error
            self._found[aggregate_id] = found
        if isinstance(found, DomainError):
            raise found
        return found

    def __getitem__(self, aggregate_id: UUID) -> Any:
        return self(aggregate_id)


@dataclass(frozen=True)
class _Reads:
    menus: _ReadOnce
    participants: _ReadOnce
