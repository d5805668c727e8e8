"""Auditors' pages: recorded theme analyses, the latest events, and results replayed at any past moment."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import Parameter
from litestar.response import Template

from domain.clock import CITY_TZ
from domain.errors import InvalidCommand
from domain.values import ROLE_LABELS, Role
from projections.checkpoints import CheckpointError
from projections.storage import Storage
from web.auth import auditors_only, current_user
from web.event_names import actor_of, english_name, japanese_name
from web.i18n import gettext as _
from web.routes.common import FormData, go, page, survey_or_404, translated
from web.routes.themes import analysis_page


@dataclass(frozen=True)
class EventRow:
    """One event as the audit page lists it: its Japanese name with the English one, and who
    acted as a role and a department; the id itself only through a recorded lookup."""

    position: int
    at: datetime | None  # None when the stored record no longer decodes (tampering shows here too)
    japanese: str | None
    english: str
    originator_id: str
    version: int
    actor: str | None  # 職員（子育て支援課）; None when no person acted


@get("/", sync_to_thread=True)
def audit_home(request: Request[Any, Any, Any], storage: Storage) -> Template:
    events = storage.app.recorder.select_notifications(
        start=max(1, (storage.app.recorder.max_notification_id() or 0) - 49), limit=50
    )
    analyses = storage.themes.analyses(limit=200)
    return page(
        request,
        "audit/index.html",
        analyses=analyses,
        analysts=actor_labels(storage, (a.requested_by for a in analyses)),
        projection_failures=storage.projector.failures(limit=200),
        projection_failure_count=storage.projector.failure_count(),
        events=event_rows(storage, reversed(events)),
        surveys=storage.catalogue.surveys(limit=500),
        integrity=integrity(storage),
    )


def _decode(storage: Storage, notification: Any) -> Any | None:
    try:
        return storage.app.mapper.to_domain_event(notification)
    except Exception:
        return None


def event_rows(storage: Storage, notifications: Iterable[Any]) -> list[EventRow]:
    decoded = [(n, _decode(storage, n)) for n in notifications]
    actors = {n.id: actor_of(e) for n, e in decoded if e is not None}
    labels = actor_labels(storage, (str(a) for a in actors.values() if a is not None))
    return [
        EventRow(
            position=n.id,
            at=e.timestamp if e is not None else None,
            japanese=japanese_name(n.topic),
            english=english_name(n.topic),
            originator_id=str(n.originator_id),
            version=n.originator_version,
            actor=labels.get(str(actors[n.id])) if actors.get(n.id) else None,
        )
        for n, e in decoded
    ]


def actor_labels(storage: Storage, ids: Iterable[str]) -> dict[str, str]:
    """Each participant id as 役割（部署）, from the participants read model."""
    wanted = sorted({i for i in ids if i})
    labels: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for pid, role, department, erased in storage.db.query(
            f"SELECT participant_id, role, department, erased FROM participants WHERE participant_id IN ({marks})",
            chunk,
        ):
            label = _(str(ROLE_LABELS[Role(role)]))
            if department:
                label = _("%(role)s（%(department)s）") % {"role": label, "department": department}
            if erased:
                label = _("%(label)s・削除済み") % {"label": label}
            labels[pid] = label
    for pid in wanted:
        labels.setdefault(pid, _("不明な利用者"))
    return labels


def _event_at(storage: Storage, position: int) -> tuple[Any, Any]:
    found = storage.app.recorder.select_notifications(start=position, limit=1)
    if not found or found[0].id != position:
        raise NotFoundException(_("その番号のイベントはありません。"))
    event = _decode(storage, found[0])
    if event is None or actor_of(event) is None:
        raise NotFoundException(_("このイベントには照会できる利用者がいません。"))
    return found[0], event


def _lookup_page(
    request: Request[Any, Any, Any], storage: Storage, position: int, status_code: int = 200, **context: Any
) -> Template:
    notification, _ = _event_at(storage, position)
    (row,) = event_rows(storage, [notification])
    context.setdefault("errors", {})
    context.setdefault("reason", "")
    return page(request, "audit/actor.html", status_code=status_code, row=row, **context)


# An event's place in the log: the store's positions are 64-bit, so larger numbers are refused as
# input (a 400) rather than reaching the database driver.
Position = Annotated[int, Parameter(ge=1, le=2**63 - 1)]


@get("/events/{position:int}/actor", sync_to_thread=True)
def actor_form(request: Request[Any, Any, Any], storage: Storage, position: Position) -> Template:
    """Asks why, before the person behind an event is shown; nothing about them is on this page."""
    return _lookup_page(request, storage, position)


@post("/events/{position:int}/actor", sync_to_thread=True)
def resolve_actor(request: Request[Any, Any, Any], storage: Storage, position: Position, data: FormData) -> Template:
    """Records the lookup as an event, then shows the person: the id, and their name and e-mail
    while the account exists."""
    _, event = _event_at(storage, position)
    subject = actor_of(event)
    reason = str(data.get("reason", ""))
    user = current_user(request)
    assert user is not None and subject is not None
    try:
        storage.app.record_identity_lookup(auditor_id=user.id, subject_id=subject, position=position, reason=reason)
    except InvalidCommand as e:
        errors = translated(e.field_errors)
        return _lookup_page(request, storage, position, status_code=422, errors=errors, reason=reason)
    identity = storage.app.identities.get(subject) if storage.app.identities is not None else None
    return _lookup_page(request, storage, position, resolved=str(subject), identity=identity, reason=reason)


def integrity(storage: Storage) -> dict[str, Any]:
    """The event history's integrity: the last verification, the chain's head now, the latest checkpoint."""
    checkpointer = storage.checkpointer
    try:
        checkpoint, checkpoint_error = checkpointer.checkpoints.latest(), None
    except CheckpointError as e:
        checkpoint, checkpoint_error = None, str(e)
    return {
        "status": checkpointer.status,
        "head": storage.app.recorder.chain_head(),
        "checkpoint": checkpoint,
        "checkpoint_error": checkpoint_error,
    }


@post("/verify", sync_to_thread=True)
def audit_verify(request: Request[Any, Any, Any], storage: Storage) -> Response[Any]:
    """Verifies the whole history again; waits a few seconds at most, then shows where it stands."""
    storage.checkpointer.verify_now(wait=5.0)
    return go(request, "/audit#integrity")


@get("/themes/{analysis_id:uuid}", sync_to_thread=True)
def audit_analysis(request: Request[Any, Any, Any], storage: Storage, analysis_id: UUID) -> Template:
    return analysis_page(request, storage, analysis_id, audit=True)


@get("/surveys/{survey_id:uuid}", sync_to_thread=True)
def audit_survey_at(request: Request[Any, Any, Any], storage: Storage, survey_id: UUID, at: str = "") -> Template:
    """A survey's results as they stood at a past moment, replayed from the events."""
    from projections.replay import state_at

    survey_now = survey_or_404(storage, survey_id)
    moment, error = None, None
    if at:
        try:
            # As the form sends it (2026-05-01T09:30), or as the audit pages show it (2026/05/01 09:30).
            moment = datetime.fromisoformat(at.strip().replace("/", "-").replace(" ", "T"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=CITY_TZ)
            if not 2000 <= moment.year <= 9000:  # replay scans a little past the moment
                raise ValueError(at)
        except ValueError:
            moment, error = None, _("日時はYYYY-MM-DDTHH:MMの形式（2000年〜）で入力してください。")
    context: dict[str, Any] = {"survey": survey_now, "at": at, "error": error, "past": None}
    if moment is not None:
        past = state_at(storage.app, moment)
        try:
            survey = past.catalogue.survey(str(survey_id))
            context["past"] = {
                "survey": survey,
                "results": past.results.of(survey) if survey else None,
                "events": past.events,
                "at": moment.isoformat(),
            }
        finally:
            past.close()
    return page(request, "audit/survey_at.html", status_code=422 if error else 200, **context)


audit_router = Router(
    path="/audit",
    guards=[auditors_only],
    route_handlers=[audit_home, audit_verify, audit_analysis, audit_survey_at, actor_form, resolve_actor],
)

routes = [audit_router]
