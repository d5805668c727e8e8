"""Auditors' pages: recorded theme analyses, the latest events, and results replayed at any past moment."""

from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.response import Template

from domain.clock import CITY_TZ
from projections.checkpoints import CheckpointError
from projections.storage import Storage
from web.auth import auditors_only
from web.routes.common import go, page, survey_or_404
from web.routes.themes import analysis_page


@get("/", sync_to_thread=True)
def audit_home(request: Request[Any, Any, Any], storage: Storage) -> Template:
    events = storage.app.recorder.select_notifications(
        start=max(1, (storage.app.recorder.max_notification_id() or 0) - 49), limit=50
    )
    return page(
        request,
        "audit/index.html",
        analyses=storage.themes.analyses(limit=200),
        projection_failures=storage.projector.failures(limit=200),
        projection_failure_count=storage.projector.failure_count(),
        events=[(n, _stamp(storage, n)) for n in reversed(events)],
        surveys=storage.catalogue.surveys(limit=500),
        integrity=integrity(storage),
    )


def _stamp(storage: Storage, notification: Any) -> datetime | None:
    """When the event happened; None if its stored record no longer decodes (tampering shows here too)."""
    try:
        return storage.app.mapper.to_domain_event(notification).timestamp  # type: ignore[no-any-return]
    except Exception:
        return None


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
            moment, error = None, "日時はYYYY-MM-DDTHH:MMの形式（2000年〜）で入力してください。"
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
    path="/audit", guards=[auditors_only], route_handlers=[audit_home, audit_verify, audit_analysis, audit_survey_at]
)

routes = [audit_router]
