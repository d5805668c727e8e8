"""Demo data for the staff engagement index (ぱいたり値): two UWES-9 waves a year apart (the last
fiscal year's and the latest), answered by staff of several departments, some with 5 or more
respondents and some with fewer (folded into その他), each step stamped at its moment."""

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from domain import clock
from domain.engagement import UWES_9, Subscale
from domain.values import Role
from projections.storage import Storage

# Department: (base level on the 0–6 scale, respondents in wave 1, in wave 2, change in wave 2).
# Japanese staff typically score around 3 on UWES-9; the 4s and under are folded into その他.
DEPARTMENTS: dict[str, tuple[float, int, int, float]] = {
    "人事課": (2.9, 10, 11, 0.1),
    "子育て支援課": (3.1, 8, 9, 0.35),
    "危機管理課": (2.6, 6, 4, 0.0),
    "公園計画課": (3.0, 5, 6, 0.15),
    "デジタル推進課": (3.3, 3, 5, 0.2),
    "市民協働課": (3.0, 2, 2, 0.1),
}
SUBSCALE_OFFSET = {Subscale.VIGOUR: -0.3, Subscale.DEDICATION: 0.25, Subscale.ABSORPTION: 0.0}
# Wave 2 is 372 days after wave 1, so the two always fall in consecutive fiscal years.
WAVES = ((-417, -403), (-45, -31))


def _at(today: date, days: int, hour: int, minute: int = 0) -> datetime:
    day = today + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=clock.CITY_TZ)


def load(storage: Storage, ids: dict[str, UUID], citizens: list[UUID], seed: int = 10) -> None:
    """Registers the staff who answer, drafts, publishes, answers and closes both waves."""
    del citizens  # Staff answer these; the signature is the demos' common one.
    rng = random.Random(seed)
    app = storage.app
    today = clock.city_today()
    with clock.frozen_at(_at(today, WAVES[0][0] - 23, 9)):
        staff = {
            department: [app.register_participant(Role.STAFF, department=department) for _ in range(max(n1, n2) + 2)]
            for department, (_, n1, n2, _) in DEPARTMENTS.items()
        }
    organiser = staff["人事課"][0]
    steps: list[tuple[datetime, Callable[[], Any]]] = []
    for number, (opens, closes) in enumerate(WAVES):
        opens_on, closes_on = today + timedelta(days=opens), today + timedelta(days=closes)
        label = f"{clock.fiscal_year(opens_on)}年度"
        with clock.frozen_at(_at(today, opens - 14, 10)):
            wave = app.draft_engagement_wave(organiser, label=label, opens_on=opens_on, closes_on=closes_on)
        items = {q.id: item for q, item in zip(app.get_survey(wave).questions, UWES_9.items, strict=True)}
        steps.append((_at(today, opens, 9), lambda w=wave: app.publish_survey(w, staff_id=organiser)))
        for department, (base, n1, n2, change) in DEPARTMENTS.items():
            people = list(staff[department])
            if number == 1 and department == "子育て支援課" and "staff" in ids:
                people[-1] = ids["staff"]  # The demo login answered the latest wave.
            level = base + (change if number == 1 else 0.0)
            for person in rng.sample(people, n2 if number == 1 else n1):
                answers = _answers(rng, level, items)
                at = _at(today, opens, 9) + timedelta(seconds=(closes - opens + 0.6) * 86400 * rng.random() ** 2)
                steps.append((at, lambda w=wave, p=person, a=answers: app.submit_response(w, p, a)))
        steps.append((_at(today, closes + 1, 9), lambda w=wave: app.close_survey(w, staff_id=organiser)))
    steps.sort(key=lambda step: step[0])
    for at, action in steps:
        with clock.frozen_at(at):
            action()


def _answers(rng: random.Random, level: float, items: dict[str, Any]) -> dict[str, int]:
    """One person's answers: their own level, each item around it, on the 0–6 scale."""
    own = rng.gauss(level, 0.8)
    return {
        question_id: min(UWES_9.top, max(0, round(own + SUBSCALE_OFFSET[item.subscale] + rng.gauss(0, 0.6))))
        for question_id, item in items.items()
    }
