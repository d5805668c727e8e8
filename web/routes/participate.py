"""「参加する」: one page with everything a person can take part in now."""

from typing import Any

from litestar import Request, get
from litestar.response import Template

from domain.clock import city_today
from domain.values import SDG_GOALS, Audience, Role, sdg_goal_of
from projections.participation import ParticipationView
from projections.storage import Storage
from web.auth import current_user
from web.routes.common import page

# Who sees which surveys by default, and who is offered the city's challenges.
AUDIENCE_OF = {Role.CITIZEN: Audience.CITIZENS, Role.BUSINESS: Audience.BUSINESSES, Role.STAFF: Audience.STAFF}
CHALLENGES_FOR = {Role.BUSINESS, Role.STAFF, Role.ADMIN}


@get("/participate", sync_to_thread=True)
def participate(request: Request[Any, Any, Any], storage: Storage, department: str = "", goal: str = "") -> Template:
    user = current_user(request)
    role = user.role if user else None
    chosen_goal = sdg_goal_of(goal)
    view = ParticipationView(storage.db).for_person(
        audience=AUDIENCE_OF.get(role, Audience.CITIZENS) if role is not Role.ADMIN else None,
        with_challenges=role is None or role in CHALLENGES_FOR,
        today=city_today(),
        department=department[:60] or None,
        goal=chosen_goal,
    )
    template = "partials/participate_body.html" if request.headers.get("hx-request") else "participate.html"
    return page(request, template, view=view, department=department, goal=chosen_goal, SDG_GOALS=SDG_GOALS)


routes = [participate]
