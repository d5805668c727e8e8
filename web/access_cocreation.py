"""Who may read and do what in co-creation: every co-creation route asks these predicates.

The rules themselves are the Proposal aggregate's (domain/proposal.py readable_by, decidable_by,
routable_by); here they are applied to the read models and the signed-in person. A proposal an
outsider may not read answers 404, never 403, so that its existence is not given away either.
"""

from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from domain.challenge import ChallengeStatus
from domain.errors import NotAllowed, NotFound
from domain.messages import N_
from domain.proposal import COCREATION_WINDOW, Actor, decidable_by, readable_by, routable_by
from domain.values import Role
from projections.cocreation_read import ChallengeView, CoCreationReader, ProposalRow
from web.auth import User, current_user

PROPOSAL_NOT_FOUND = N_("提案が見つかりません。")
BUSINESS_ONLY = N_("事業者アカウントでログインしてください。")
NOT_YOUR_CHALLENGE = N_("他の部署の課題は編集できません。")


def actor_of(storage: Any, user: User | None) -> Actor | None:
    """The signed-in person as the co-creation rules see them, with their organisation."""
    if user is None:
        return None
    organisation = None
    if user.role is Role.BUSINESS:
        try:
            organisation = storage.app.organisation_of(user.id)
        except (NotFound, NotAllowed):
            organisation = None
    return Actor(user.id, user.role, user.department, organisation)


def is_business(user: User | None) -> bool:
    return bool(user and user.role is Role.BUSINESS)


def may_read_proposal(actor: Actor | None, proposal: ProposalRow) -> bool:
    return readable_by(actor, proposal.department, UUID(proposal.organisation_id))


def is_member(actor: Actor | None, proposal: ProposalRow) -> bool:
    return bool(actor and actor.role is Role.BUSINESS and str(actor.organisation_id) == proposal.organisation_id)


def may_decide(actor: Actor | None, proposal: ProposalRow) -> bool:
    """Change the stage, reply in the thread, publish the summary."""
    return decidable_by(actor, proposal.department)


def may_post(actor: Actor | None, proposal: ProposalRow) -> bool:
    return is_member(actor, proposal) or may_decide(actor, proposal)


def may_route(actor: Actor | None, proposal: ProposalRow) -> bool:
    return routable_by(actor) and proposal.free and not proposal.routed and proposal.stage.value == "received"


def may_verify_organisations(user: User | None) -> bool:
    if user is None:
        return False
    return user.role is Role.ADMIN or (user.role is Role.STAFF and user.department == COCREATION_WINDOW)


def may_see_pipeline(user: User | None) -> bool:
    """The pipeline page: staff (each sees what the rules let them read), admins and auditors."""
    return bool(user and (user.is_staff or user.is_auditor))


def may_manage_challenge(user: User | None, challenge: ChallengeView) -> bool:
    return bool(user and (user.role is Role.ADMIN or (user.is_staff and user.department == challenge.department)))


def may_view_challenge(user: User | None, challenge: ChallengeView) -> bool:
    """Published and closed challenges are public; a draft only within its department."""
    return challenge.status is not ChallengeStatus.DRAFT or may_manage_challenge(user, challenge)


def readable_proposal(storage: Any, user: User | None, proposal_id: UUID) -> tuple[ProposalRow, Actor]:
    """The proposal and who is asking, or 404 for anyone the rules keep out (and 401 if nobody)."""
    if user is None:
        raise NotAuthorizedException(N_("ログインしてください。"))
    proposal = CoCreationReader(storage.db).proposal(str(proposal_id))
    actor = actor_of(storage, user)
    if proposal is None or actor is None or not may_read_proposal(actor, proposal):
        raise NotFoundException(PROPOSAL_NOT_FOUND)
    return proposal, actor


def require(allowed: bool, refusal: str) -> None:
    if not allowed:
        raise PermissionDeniedException(refusal)


async def business_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    user = current_user(connection)
    if user is None:
        raise NotAuthorizedException(N_("ログインしてください。"))
    require(is_business(user), BUSINESS_ONLY)


async def pipeline_readers_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    user = current_user(connection)
    if user is None:
        raise NotAuthorizedException(N_("ログインしてください。"))
    require(may_see_pipeline(user), N_("職員のみが利用できます。"))
