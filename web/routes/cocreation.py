"""Pages and API for organisations, challenges and proposals (事業者提案).

Every access decision goes through web/access_cocreation.py; every change through a Kyoso command.
Uploads are the only multipart routes: each declares its own body limit (10 MB a file plus room for
the form), and web/boundary.py checks their text fields as it checks any form.
"""

import unicodedata
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID, uuid4

import msgspec
from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.params import Body, Parameter
from litestar.response import Response, Template
from litestar.status_codes import HTTP_201_CREATED

from domain import clock
from domain.attachment import MAX_BYTES
from domain.challenge import ChallengeStatus
from domain.corporate_number import normalise
from domain.errors import EmailAlreadyRegistered, InvalidCommand
from domain.identities import Consent
from domain.organisation import OrganisationExists, OrganisationKind, check_registration, organisation_id_for
from domain.proposal import COCREATION_WINDOW, STAGE_LABELS, TEXT_FIELDS, TRANSITIONS, Stage
from domain.values import SDG_GOALS, Role
from projections.attachment_store import AttachmentStore
from projections.cocreation_read import PLAN_TARGET, ChallengeView, CoCreationReader, ProposalDetail
from projections.storage import Storage
from web import access_cocreation as access
from web.auth import User, current_user, signed_in, staff_only
from web.forms import many, one, parse_date
from web.i18n import Translated, gettext
from web.legal import PRIVACY_VERSION, TERMS_VERSION
from web.passwords import hash_password, password_problem
from web.routes.auth_pages import email_problem, sign_in
from web.routes.common import FormData, go, page, translated
from web.security_log import security_event
from web.throttle import limit_auth_attempts, throttle_of

# Ten megabytes of file, plus room for the form's text fields and the multipart framing.
UPLOAD_BODY_LIMIT = MAX_BYTES + 256 * 1024
UploadData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
CHALLENGE_FIELDS = ("title", "background", "shareable_data", "outcomes")


def reader(storage: Storage) -> CoCreationReader:
    return CoCreationReader(storage.db)


def _user(request: Request[Any, Any, Any]) -> User:
    user = current_user(request)
    if user is None:
        raise NotAuthorizedException("ログインしてください。")
    return user


def _goals(values: list[str], errors: dict[str, str]) -> list[int]:
    goals = []
    for value in values:
        try:
            goals.append(int(value))
        except ValueError:
            errors["sdg_goals"] = gettext("SDGsの目標は一覧から選んでください。")
    return goals


def _yen(raw: str, errors: dict[str, str]) -> int:
    text = unicodedata.normalize("NFKC", raw).replace(",", "").replace("円", "").strip()
    try:
        value = int(text)
    except ValueError:
        errors["cost_yen"] = gettext("市の費用負担は0以上の整数（円）で入力してください。0円でも構いません。")
        return 0
    return value


def _files(data: dict[str, Any], name: str) -> list[tuple[str, bytes]]:
    value = data.get(name)
    uploads = value if isinstance(value, list) else [value]
    return [(u.filename or "", u.file.read()) for u in uploads if isinstance(u, UploadFile) and u.filename]


# Public pages


@get("/challenges", sync_to_thread=True)
def challenges_page(request: Request[Any, Any, Any], storage: Storage, department: str = "", goal: int = 0) -> Template:
    today = clock.city_today()
    found = reader(storage).open_challenges(today, department or None, goal or None)
    departments = sorted({c.department for c in reader(storage).open_challenges(today)})
    return page(
        request, "cocreation/challenges.html", challenges=found, departments=departments, department=department,
        goal=goal, SDG_GOALS=Translated(SDG_GOALS), today=today,
    )  # fmt: skip


def _visible_challenge(request: Request[Any, Any, Any], storage: Storage, challenge_id: UUID) -> ChallengeView:
    challenge = reader(storage).challenge(str(challenge_id))
    if challenge is None or not access.may_view_challenge(current_user(request), challenge):
        raise NotFoundException("課題が見つかりません。")
    return challenge


@get("/challenges/{challenge_id:uuid}", sync_to_thread=True)
def challenge_page(request: Request[Any, Any, Any], storage: Storage, challenge_id: UUID) -> Template:
    challenge = _visible_challenge(request, storage, challenge_id)
    user = current_user(request)
    return page(
        request, "cocreation/challenge.html", challenge=challenge, is_open=challenge.is_open(clock.city_today()),
        may_propose=access.is_business(user), may_manage=access.may_manage_challenge(user, challenge),
        SDG_GOALS=Translated(SDG_GOALS),
    )  # fmt: skip


@get("/cocreation", sync_to_thread=True)
def tally_page(request: Request[Any, Any, Any], storage: Storage) -> Template:
    read = reader(storage)
    return page(
        request, "cocreation/tally.html", tally=read.tally(), summaries=read.published_summaries(),
        challenges=len(read.open_challenges(clock.city_today())), STAGE_LABELS=STAGE_LABELS,
    )  # fmt: skip


# Business sign-up and organisations


@get("/signup/business", sync_to_thread=False)
def business_signup_form(request: Request[Any, Any, Any]) -> Template:
    return page(request, "cocreation/signup_business.html", errors={}, values={"kind": "corporation"})


@post("/signup/business", sync_to_thread=True, guards=[limit_auth_attempts])
def business_signup(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    """The person (Role.BUSINESS) and their organisation, with them as its first member."""
    errors: dict[str, str] = {}
    email, name, password = one(data, "email").strip(), one(data, "display_name").strip(), one(data, "password")
    kind, organisation_name = one(data, "kind"), one(data, "organisation_name").strip()
    number = one(data, "corporate_number") if kind == OrganisationKind.CORPORATION else ""
    if problem := email_problem(email):
        errors["email"] = problem
    if not name:
        errors["display_name"] = gettext("担当者名を入力してください。")
    elif len(name) > 40:
        errors["display_name"] = gettext("担当者名は40文字以内にしてください。")
    if problem := password_problem(password):
        errors["password"] = problem
    if one(data, "agree") != "on":
        errors["agree"] = gettext("利用規約とプライバシーポリシーへの同意が必要です。")
    errors.update({("organisation_name" if k == "name" else k): v for k, v in check_registration(
        organisation_name, kind, number or None).items()})  # fmt: skip
    if not errors and kind == OrganisationKind.CORPORATION and organisation_id_for(number) in storage.app.repository:
        errors["corporate_number"] = gettext(OrganisationExists.message)
    if not errors and storage.identities.find_by_email(email):
        errors["email"] = gettext(EmailAlreadyRegistered().message)
    if not errors:
        try:
            participant_id = storage.app.sign_up(
                email=email, display_name=name, password_hash=hash_password(password), role=Role.BUSINESS,
                consent=Consent(TERMS_VERSION, PRIVACY_VERSION),
            )  # fmt: skip
        except EmailAlreadyRegistered as e:
            errors["email"] = gettext(e.message)
        else:
            sign_in(request, User(str(participant_id), Role.BUSINESS, name))
            security_event("sign_up", participant_id, client=throttle_of(request).address(request))
            # Should a concurrent registration of the same number win, the account stays and the
            # person is sent on to /organisations/new with the reason.
            try:
                storage.app.register_organisation(
                    participant_id, kind=kind, name=organisation_name, corporate_number=number or None
                )
            except (OrganisationExists, InvalidCommand):
                return go(request, "/organisations/new?exists=1")
            storage.projector.catch_up()
            return go(request, "/business")
    values = {k: v for k, v in data.items() if k != "password"}
    return page(request, "cocreation/signup_business.html", status_code=422, errors=errors, values=values)


@get("/organisations/new", sync_to_thread=True, guards=[access.business_only])
def organisation_form(request: Request[Any, Any, Any], storage: Storage, exists: str = "") -> Response[Any]:
    if storage.app.organisation_of(_user(request).id):
        return go(request, "/business")
    errors = {"corporate_number": gettext(OrganisationExists.message)} if exists else {}
    return page(request, "cocreation/organisation_new.html", errors=errors, values={"kind": "corporation"})


@post("/organisations", sync_to_thread=True, guards=[access.business_only])
def create_organisation(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    kind = one(data, "kind")
    number = one(data, "corporate_number") if kind == OrganisationKind.CORPORATION else ""
    try:
        storage.app.register_organisation(
            _user(request).id, kind=kind, name=one(data, "organisation_name"), corporate_number=number or None
        )
    except InvalidCommand as e:
        errors = {("organisation_name" if k == "name" else k): v for k, v in translated(e.field_errors).items()}
        return page(request, "cocreation/organisation_new.html", status_code=422, errors=errors, values=data)
    except OrganisationExists as e:
        errors = {"corporate_number": gettext(e.message)}
        return page(request, "cocreation/organisation_new.html", status_code=409, errors=errors, values=data)
    storage.projector.catch_up()
    return go(request, "/business")


@post("/organisations/members", sync_to_thread=True, guards=[access.business_only])
def add_member(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    user = _user(request)
    organisation = storage.app.organisation_of(user.id)
    if organisation is None:
        return go(request, "/organisations/new")
    identity = storage.identities.find_by_email(one(data, "email").strip())
    if identity is None:
        return _business(
            request,
            storage,
            status_code=422,
            member_error=gettext("そのメールアドレスの事業者アカウントはありません。"),
        )
    try:
        storage.app.add_organisation_member(organisation, added_by=user.id, participant_id=identity.participant_id)
    except InvalidCommand as e:
        message = " ".join(translated(e.field_errors).values()) or gettext(e.message)
        return _business(request, storage, status_code=422, member_error=message)
    storage.projector.catch_up()
    return go(request, "/business?added=1")


def _business(
    request: Request[Any, Any, Any], storage: Storage, status_code: int = 200, **context: Any
) -> Response[Any]:
    user = _user(request)
    organisation_id = storage.app.organisation_of(user.id)
    if organisation_id is None:
        return go(request, "/organisations/new")
    read = reader(storage)
    return page(
        request, "cocreation/business.html", status_code=status_code,
        organisation=read.organisation(str(organisation_id)),
        proposals=read.proposals(organisation_id=str(organisation_id)),
        challenges=read.open_challenges(clock.city_today()), **context,
    )  # fmt: skip


@get("/business", sync_to_thread=True, guards=[access.business_only])
def business_home(request: Request[Any, Any, Any], storage: Storage, added: str = "") -> Response[Any]:
    return _business(request, storage, added=bool(added), member_error=None)


# Proposals


@get("/proposals/new", sync_to_thread=True, guards=[access.business_only])
def proposal_form(request: Request[Any, Any, Any], storage: Storage, challenge: UUID | None = None) -> Response[Any]:
    if storage.app.organisation_of(_user(request).id) is None:
        return go(request, "/organisations/new")
    target = _visible_challenge(request, storage, challenge) if challenge else None
    return _proposal_form(request, target, errors={}, values={"submission_key": str(uuid4())})


def _proposal_form(
    request: Request[Any, Any, Any], challenge: ChallengeView | None, status_code: int = 200, **context: Any
) -> Template:
    return page(
        request, "cocreation/proposal_new.html", status_code=status_code, challenge=challenge,
        is_open=challenge.is_open(clock.city_today()) if challenge else True, SDG_GOALS=Translated(SDG_GOALS),
        max_mb=MAX_BYTES // (1024 * 1024), **context,
    )  # fmt: skip


@post("/proposals", sync_to_thread=True, guards=[access.business_only], request_max_body_size=UPLOAD_BODY_LIMIT)
def submit_proposal(request: Request[Any, Any, Any], storage: Storage, data: UploadData) -> Response[Any]:
    errors: dict[str, str] = {}
    raw_challenge = one(data, "challenge")
    challenge = _visible_challenge(request, storage, _uuid(raw_challenge)) if raw_challenge else None
    cost = _yen(one(data, "cost_yen"), errors)
    goals = _goals(many(data, "sdg_goals"), errors)
    key = _uuid(one(data, "submission_key"))
    texts = {name: one(data, name) for name in TEXT_FIELDS}
    values = {**{k: v for k, v in data.items() if isinstance(v, str | list)}, "sdg_goals": many(data, "sdg_goals")}
    if not errors:
        try:
            proposal_id = storage.app.submit_proposal(
                _user(request).id, challenge_id=UUID(challenge.id) if challenge else None, submission_key=key,
                texts=texts, cost_yen=cost, sdg_goals=goals, files=_files(data, "file"),
                blobs=AttachmentStore(storage.db),
            )  # fmt: skip
        except InvalidCommand as e:
            errors = translated(e.field_errors) or {"form": gettext(e.message)}
        else:
            storage.projector.catch_up()
            return go(request, f"/proposals/{proposal_id}?sent=1")
    return _proposal_form(request, challenge, status_code=422, errors=errors, values=values)


def _uuid(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise NotFoundException("見つかりません。") from None


def _proposal_page(
    request: Request[Any, Any, Any], storage: Storage, proposal_id: UUID, status_code: int = 200, **context: Any
) -> Template:
    proposal, actor = access.readable_proposal(storage, current_user(request), proposal_id)
    read = reader(storage)
    now = clock.now()
    context.setdefault("errors", {})
    return page(
        request, "cocreation/proposal.html", status_code=status_code, proposal=proposal,
        history=read.history(proposal.id), messages=read.messages(proposal.id),
        attachments=read.attachments(proposal.id), is_member=access.is_member(actor, proposal),
        may_decide=access.may_decide(actor, proposal), may_post=access.may_post(actor, proposal) and
        proposal.stage is not Stage.ENDED, may_route=access.may_route(actor, proposal),
        next_stages=sorted(TRANSITIONS[proposal.stage], key=list(Stage).index),
        days_in_stage=proposal.days_in_stage(now),
        overdue=proposal.overdue(now), departments=_departments(storage), COCREATION_WINDOW=COCREATION_WINDOW,
        SDG_GOALS=Translated(SDG_GOALS), max_mb=MAX_BYTES // (1024 * 1024), **context,
    )  # fmt: skip


def _departments(storage: Storage) -> list[str]:
    return sorted({*reader(storage).departments(), *storage.catalogue.departments()} - {COCREATION_WINDOW})


@get("/proposals/{proposal_id:uuid}", sync_to_thread=True, guards=[signed_in])
def proposal_page(request: Request[Any, Any, Any], storage: Storage, proposal_id: UUID, sent: str = "") -> Template:
    return _proposal_page(request, storage, proposal_id, sent=bool(sent))


def _act(
    request: Request[Any, Any, Any], storage: Storage, proposal_id: UUID, command: Any, anchor: str, **values: Any
) -> Response[Any]:
    """Runs a command on a proposal the person may read; its field errors are shown on the page."""
    access.readable_proposal(storage, current_user(request), proposal_id)
    try:
        command()
    except InvalidCommand as e:
        errors = translated(e.field_errors) or {"form": gettext(e.message)}
        return _proposal_page(request, storage, proposal_id, status_code=422, errors=errors, values=values)
    storage.projector.catch_up()
    return go(request, f"/proposals/{proposal_id}#{anchor}")


@post("/proposals/{proposal_id:uuid}/messages", sync_to_thread=True, guards=[signed_in])
def post_message(request: Request[Any, Any, Any], storage: Storage, proposal_id: UUID, data: FormData) -> Response[Any]:
    text = one(data, "text")
    command = lambda: storage.app.post_proposal_message(proposal_id, author_id=_user(request).id, text=text)  # noqa: E731
    return _act(request, storage, proposal_id, command, "thread", text=text)


@post(
    "/proposals/{proposal_id:uuid}/attachments",
    sync_to_thread=True,
    guards=[access.business_only],
    request_max_body_size=UPLOAD_BODY_LIMIT,
)
def add_attachment(
    request: Request[Any, Any, Any], storage: Storage, proposal_id: UUID, data: UploadData
) -> Response[Any]:
    files = _files(data, "file") or [("", b"")]
    name, content = files[0]

    def command() -> None:
        storage.app.add_proposal_attachment(
            proposal_id, participant_id=_user(request).id, name=name, content=content, blobs=AttachmentStore(storage.db)
        )

    return _act(request, storage, proposal_id, command, "attachments")


@post("/proposals/{proposal_id:uuid}/consent", sync_to_thread=True, guards=[access.business_only])
def give_consent(request: Request[Any, Any, Any], storage: Storage, proposal_id: UUID) -> Response[Any]:
    command = lambda: storage.app.give_publication_consent(proposal_id, participant_id=_user(request).id)  # noqa: E731
    return _act(request, storage, proposal_id, command, "publication")


@get("/proposals/{proposal_id:uuid}/attachments/{sha256:str}", sync_to_thread=True, guards=[signed_in])
def download_attachment(
    request: Request[Any, Any, Any], storage: Storage, proposal_id: UUID, sha256: str
) -> Response[bytes]:
    proposal, _ = access.readable_proposal(storage, current_user(request), proposal_id)
    attachment = reader(storage).attachment(proposal.id, sha256)
    stored = AttachmentStore(storage.db).get(sha256) if attachment else None
    if attachment is None or stored is None:
        raise NotFoundException("ファイルが見つかりません。")
    fallback = "attachment" + ("." + attachment.name.rsplit(".", 1)[-1] if "." in attachment.name else "")
    fallback = fallback if fallback.isascii() else "attachment"
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(attachment.name)}"
    return Response(stored.content, media_type=stored.media_type, headers={"Content-Disposition": disposition})


# Staff: challenges


def _challenge_values(data: FormData, errors: dict[str, str]) -> dict[str, Any]:
    return {
        **{name: one(data, name) for name in CHALLENGE_FIELDS},
        "sdg_goals": _goals(many(data, "sdg_goals"), errors),
        "deadline": parse_date(one(data, "deadline"), "deadline", errors),
    }


def _staff_challenges(
    request: Request[Any, Any, Any], storage: Storage, status_code: int = 200, **context: Any
) -> Template:
    user = _user(request)
    mine = [c for c in reader(storage).challenges() if access.may_manage_challenge(user, c)]
    context.setdefault("errors", {})
    context.setdefault("values", {"sdg_goals": []})
    return page(
        request, "cocreation/staff_challenges.html", status_code=status_code, challenges=mine,
        SDG_GOALS=Translated(SDG_GOALS), today=clock.city_today(), **context,
    )  # fmt: skip


@get("/challenges", sync_to_thread=True, guards=[staff_only])
def staff_challenges(request: Request[Any, Any, Any], storage: Storage) -> Template:
    return _staff_challenges(request, storage)


@post("/challenges", sync_to_thread=True, guards=[staff_only])
def create_challenge(request: Request[Any, Any, Any], storage: Storage, data: FormData) -> Response[Any]:
    errors: dict[str, str] = {}
    details = _challenge_values(data, errors)
    if not errors:
        try:
            challenge_id = storage.app.draft_challenge(staff_id=_user(request).id, **details)
        except InvalidCommand as e:
            errors = translated(e.field_errors) or {"form": gettext(e.message)}
        else:
            storage.projector.catch_up()
            return go(request, f"/staff/challenges/{challenge_id}")
    values = {**data, "sdg_goals": many(data, "sdg_goals")}
    return _staff_challenges(request, storage, status_code=422, errors=errors, values=values)


def _managed(request: Request[Any, Any, Any], storage: Storage, challenge_id: UUID) -> ChallengeView:
    challenge = reader(storage).challenge(str(challenge_id))
    if challenge is None:
        raise NotFoundException("課題が見つかりません。")
    access.require(access.may_manage_challenge(_user(request), challenge), access.NOT_YOUR_CHALLENGE)
    return challenge


def _challenge_editor(
    request: Request[Any, Any, Any], storage: Storage, challenge: ChallengeView, status_code: int = 200, **context: Any
) -> Template:
    values = context.pop("values", None) or {
        **{name: getattr(challenge, name) for name in CHALLENGE_FIELDS},
        "sdg_goals": [str(g) for g in challenge.sdg_goals],
        "deadline": challenge.deadline.isoformat(),
    }
    return page(
        request, "cocreation/staff_challenge_edit.html", status_code=status_code, challenge=challenge, values=values,
        errors=context.pop("errors", {}), SDG_GOALS=Translated(SDG_GOALS),
        proposals=len(reader(storage).proposals(challenge_id=challenge.id)), **context,
    )  # fmt: skip


@get("/challenges/{challenge_id:uuid}", sync_to_thread=True, guards=[staff_only])
def edit_challenge(request: Request[Any, Any, Any], storage: Storage, challenge_id: UUID) -> Template:
    return _challenge_editor(request, storage, _managed(request, storage, challenge_id))


@post("/challenges/{challenge_id:uuid}", sync_to_thread=True, guards=[staff_only])
def revise_challenge(
    request: Request[Any, Any, Any], storage: Storage, challenge_id: UUID, data: FormData
) -> Response[Any]:
    challenge = _managed(request, storage, challenge_id)
    errors: dict[str, str] = {}
    details = _challenge_values(data, errors)
    if not errors:
        try:
            storage.app.revise_challenge(challenge_id, staff_id=_user(request).id, **details)
        except InvalidCommand as e:
            errors = translated(e.field_errors) or {"form": gettext(e.message)}
    if errors:
        values = {**data, "sdg_goals": many(data, "sdg_goals")}
        return _challenge_editor(request, storage, challenge, status_code=422, errors=errors, values=values)
    storage.projector.catch_up()
    return go(request, f"/staff/challenges/{challenge_id}?saved=1")


@post("/challenges/{challenge_id:uuid}/{action:str}", sync_to_thread=True, guards=[staff_only])
def challenge_lifecycle(
    request: Request[Any, Any, Any], storage: Storage, challenge_id: UUID, action: str
) -> Response[Any]:
    challenge = _managed(request, storage, challenge_id)
    commands = {"publish": storage.app.publish_challenge, "close": storage.app.close_challenge}
    if action not in commands:
        raise NotFoundException("見つかりません。")
    try:
        commands[action](challenge_id, staff_id=_user(request).id)
    except InvalidCommand as e:
        return _challenge_editor(request, storage, challenge, status_code=422, errors={"form": gettext(e.message)})
    storage.projector.catch_up()
    return go(request, f"/staff/challenges/{challenge_id}")


# Staff: the pipeline


@get("/proposals", sync_to_thread=True, guards=[access.pipeline_readers_only])
def pipeline(
    request: Request[Any, Any, Any],
    storage: Storage,
    stage: str = "",
    department: str = "",
    challenge: str = "",
    goal: int = 0,
    fiscal_year: Annotated[int, Parameter(ge=0, le=9999)] = 0,
) -> Template:
    user = _user(request)
    actor = access.actor_of(storage, user)
    read = reader(storage)
    now = clock.now()
    this_year = clock.fiscal_year(clock.city_today())
    stage = stage if stage in Stage.__members__.values() else ""
    rows = [
        p
        for p in read.proposals(
            stage=stage or None,
            department=department or None,
            challenge_id=challenge or None,
            goal=goal or None,
            fiscal_year=fiscal_year or None,
        )
        if access.may_read_proposal(actor, p)
    ]
    years = sorted({*read.fiscal_years(), this_year})
    # Counts only, no content: every staff member may see how the city is doing against the plan.
    per_year = [read.new_in_fiscal_year(y) for y in years]
    by_stage = {s: sum(1 for p in rows if p.stage is s) for s in Stage}
    return page(
        request, "cocreation/staff_proposals.html", rows=rows, now=now, by_stage=by_stage,
        filters={"stage": stage, "department": department, "challenge": challenge, "goal": goal,
                 "fiscal_year": fiscal_year},
        departments=read.departments(), challenges=read.challenges(), years=years, per_year=per_year,
        year_labels=[gettext("%(year)s年度") % {"year": y} for y in years],
        this_year=this_year, this_year_count=read.new_in_fiscal_year(this_year), target=PLAN_TARGET,
        overdue=sum(1 for p in rows if p.overdue(now)), SDG_GOALS=Translated(SDG_GOALS), Stage=Stage,
        unverified=read.organisations(unverified_only=True) if access.may_verify_organisations(user) else [],
    )  # fmt: skip


@post("/proposals/{proposal_id:uuid}/stage", sync_to_thread=True, guards=[staff_only])
def change_stage(request: Request[Any, Any, Any], storage: Storage, proposal_id: UUID, data: FormData) -> Response[Any]:
    stage, reason = one(data, "stage"), one(data, "reason")

    def command() -> None:
        storage.app.change_proposal_stage(proposal_id, staff_id=_user(request).id, stage=stage, reason=reason)

    return _act(request, storage, proposal_id, command, "stage", reason=reason)


@post("/proposals/{proposal_id:uuid}/route", sync_to_thread=True, guards=[staff_only])
def route_proposal(
    request: Request[Any, Any, Any], storage: Storage, proposal_id: UUID, data: FormData
) -> Response[Any]:
    department = one(data, "department")

    def command() -> None:
        storage.app.route_proposal(proposal_id, staff_id=_user(request).id, department=department)

    response = _act(request, storage, proposal_id, command, "stage")
    # Routed on, the proposal may no longer be the window's to read in detail: back to the pipeline.
    return go(request, "/staff/proposals") if response.status_code in (200, 303) else response


@post("/proposals/{proposal_id:uuid}/summary", sync_to_thread=True, guards=[staff_only])
def publish_summary(
    request: Request[Any, Any, Any], storage: Storage, proposal_id: UUID, data: FormData
) -> Response[Any]:
    text = one(data, "summary_text")

    def command() -> None:
        storage.app.publish_proposal_summary(proposal_id, staff_id=_user(request).id, text=text)

    return _act(request, storage, proposal_id, command, "publication", summary_text=text)


@post("/organisations/{organisation_id:uuid}/verify", sync_to_thread=True, guards=[staff_only])
def verify_organisation(request: Request[Any, Any, Any], storage: Storage, organisation_id: UUID) -> Response[Any]:
    storage.app.verify_organisation(organisation_id, staff_id=_user(request).id)
    storage.projector.catch_up()
    return go(request, "/staff/proposals#organisations")


# API


class ChallengeOut(msgspec.Struct):
    id: str
    department: str
    title: str
    background: str
    shareable_data: str
    outcomes: str
    sdg_goals: list[int]
    deadline: date
    status: ChallengeStatus
    accepting: bool


def _challenge_out(c: ChallengeView) -> ChallengeOut:
    return ChallengeOut(
        c.id, c.department, c.title, c.background, c.shareable_data, c.outcomes, c.sdg_goals, c.deadline, c.status,
        c.is_open(clock.city_today()),
    )  # fmt: skip


class OrganisationIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    kind: OrganisationKind = OrganisationKind.CORPORATION
    corporate_number: str | None = None


class OrganisationCreated(msgspec.Struct):
    organisation_id: str
    corporate_number: str | None


class ProposalIn(msgspec.Struct, forbid_unknown_fields=True):
    """A proposal without attachments (files are added on the proposal's page)."""

    title: str
    summary: str
    plan: str
    effect: str
    cost_yen: int
    period: str = ""
    challenge_id: UUID | None = None
    sdg_goals: list[int] = []
    submission_key: UUID | None = None


class ProposalCreated(msgspec.Struct):
    proposal_id: str
    department: str


class ProposalOut(msgspec.Struct):
    id: str
    title: str
    summary: str
    plan: str
    effect: str
    period: str
    cost_yen: int
    no_cost_to_city: bool
    organisation_id: str
    organisation_verified: bool
    challenge_id: str | None
    department: str
    sdg_goals: list[int]
    stage: Stage
    stage_since: str
    submitted_at: str
    fiscal_year: int
    public_summary: str | None


def _proposal_out(p: ProposalDetail) -> ProposalOut:
    return ProposalOut(
        p.id, p.title, p.summary, p.plan, p.effect, p.period, p.cost_yen, p.no_cost, p.organisation_id,
        p.organisation_verified, p.challenge_id, p.department, p.sdg_goals, p.stage, p.stage_since, p.submitted_at,
        p.fiscal_year, p.public_summary,
    )  # fmt: skip


@get("/challenges", sync_to_thread=True, summary="募集中の課題（テーマ型）")
def api_challenges(storage: Storage) -> list[ChallengeOut]:
    return [_challenge_out(c) for c in reader(storage).open_challenges(clock.city_today())]


@get("/challenges/{challenge_id:uuid}", sync_to_thread=True, summary="課題の詳細")
def api_challenge(request: Request[Any, Any, Any], storage: Storage, challenge_id: UUID) -> ChallengeOut:
    return _challenge_out(_visible_challenge(request, storage, challenge_id))


@post(
    "/organisations",
    status_code=HTTP_201_CREATED,
    sync_to_thread=True,
    summary="組織を登録する（事業者アカウント）",
    description="422: invalid fields, e.g. the 法人番号 check digit (field_errors). 409: the 法人番号 is registered.",
)
def api_create_organisation(
    request: Request[Any, Any, Any], storage: Storage, data: OrganisationIn
) -> OrganisationCreated:
    user = _user(request)
    if not access.is_business(user):
        raise PermissionDeniedException(access.BUSINESS_ONLY)
    organisation_id = storage.app.register_organisation(
        user.id, kind=data.kind, name=data.name, corporate_number=data.corporate_number
    )
    storage.projector.catch_up()
    number = normalise(data.corporate_number) if data.corporate_number and data.kind == "corporation" else None
    return OrganisationCreated(str(organisation_id), number)


@post(
    "/proposals",
    status_code=HTTP_201_CREATED,
    sync_to_thread=True,
    summary="提案を送る（事業者アカウントのみ）",
    description="403: not a business account. 409: challenge_closed. 422: invalid fields (field_errors).",
)
def api_create_proposal(request: Request[Any, Any, Any], storage: Storage, data: ProposalIn) -> ProposalCreated:
    user = _user(request)
    if not access.is_business(user):
        raise PermissionDeniedException(access.BUSINESS_ONLY)
    texts = {
        "title": data.title,
        "summary": data.summary,
        "plan": data.plan,
        "effect": data.effect,
        "period": data.period,
    }
    proposal_id = storage.app.submit_proposal(
        user.id, challenge_id=data.challenge_id, submission_key=data.submission_key or uuid4(), texts=texts,
        cost_yen=data.cost_yen, sdg_goals=data.sdg_goals,
    )  # fmt: skip
    storage.projector.catch_up()
    return ProposalCreated(str(proposal_id), storage.app.get_proposal(proposal_id).department)


@get(
    "/proposals/{proposal_id:uuid}",
    sync_to_thread=True,
    summary="提案（提案者の組織と担当職員のみ）",
    description="404 for everyone else, so that a proposal's existence is not disclosed either.",
)
def api_proposal(request: Request[Any, Any, Any], storage: Storage, proposal_id: UUID) -> ProposalOut:
    proposal, _ = access.readable_proposal(storage, current_user(request), proposal_id)
    detail = reader(storage).proposal(proposal.id)
    assert detail is not None
    return _proposal_out(detail)


api_router = Router(
    path="/api/v1",
    route_handlers=[api_challenges, api_challenge, api_create_organisation, api_create_proposal, api_proposal],
    tags=["co-creation"],
)

routes: list[Any] = [
    challenges_page,
    challenge_page,
    tally_page,
    business_signup_form,
    business_signup,
    organisation_form,
    create_organisation,
    add_member,
    business_home,
    proposal_form,
    submit_proposal,
    proposal_page,
    post_message,
    add_attachment,
    give_consent,
    download_attachment,
    # Under a Router of its own: the staff pages' Router already owns /staff, and a bare handler on
    # a path below it would be registered twice by Litestar (the GET then answers a coroutine).
    Router(
        path="/staff",
        route_handlers=[
            staff_challenges,
            create_challenge,
            edit_challenge,
            revise_challenge,
            challenge_lifecycle,
            pipeline,
            change_stage,
            route_proposal,
            publish_summary,
            verify_organisation,
        ],
    ),
    api_router,
]
