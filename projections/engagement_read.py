"""Reading the engagement index (ぱいたり値): per wave, for the organisation and per department, with
the trend between waves, as of now or of any past moment.

A wave's figures are shown only once it has finished (closed, or past its closing day): figures
that move while people watch, or that differ between two nearby moments, would let anyone work
out the answers of the person who answered in between. A finished wave never changes, so "as of
a moment" is the waves finished by then; `replay_at` rebuilds the same from the events alone.

No group of fewer than 5 respondents is ever shown. Departments under 5 are folded into その他;
if その他 would then hold 1–4 people, the smallest shown departments join it until it holds 5 or
more, since otherwise its figures would follow from the organisation's minus the shown ones.
A wave with fewer than 5 respondents in all shows no figures at all.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from eventsourcing.application import Application

from domain import clock
from domain.engagement import UWES_9, Scores, Subscale, score
from domain.survey import Survey
from migrations import migrate
from projections.database import Database, SQLiteDatabase
from projections.engagement import RESPONDENTS, UNKNOWN_DEPARTMENT, EngagementProjection
from projections.replay import BATCH, SLACK
from projections.surveys import SurveyProjection

MIN_GROUP = 5
OTHERS = "その他"
UNKNOWN_LABEL = "（部署未登録）"
DRAFT, OPEN, FINISHED = "draft", "open", "finished"
STATUS_LABELS = {DRAFT: "準備中", OPEN: "回答受付中（終了後に集計）", FINISHED: "集計済み"}


@dataclass(frozen=True)
class Group:
    """A department's scores, or その他's (`folded` departments in it)."""

    label: str
    scores: Scores
    folded: int = 0

    @property
    def is_others(self) -> bool:
        return self.label == OTHERS


@dataclass(frozen=True)
class Change:
    """From the previous finished wave to this one, in points of the 0–6 scale."""

    index: float | None
    subscales: dict[Subscale, float | None]


@dataclass
class Wave:
    survey_id: str
    label: str
    instrument: str
    department: str
    status: str
    opens_on: str | None
    closes_on: str | None
    finished_at: datetime | None
    organisation: Scores | None = None  # None until finished, or when under 5 respondents.
    departments: list[Group] = field(default_factory=list)
    change: Change | None = None
    department_changes: dict[str, float | None] = field(default_factory=dict)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def too_few(self) -> bool:
        return self.status == FINISHED and self.organisation is None


def fold_departments(by_department: dict[str, tuple[int, dict[int, tuple[int, int]]]]) -> list[Group]:
    """Groups of 5 or more from (respondents, item sums) per department: the departments of 5 or
    more by name, largest first, then その他. Assumes at least 5 respondents in all."""
    big = sorted(
        ((d, n) for d, (n, _) in by_department.items() if n >= MIN_GROUP and d != UNKNOWN_DEPARTMENT),
        key=lambda pair: (-pair[1], pair[0]),
    )
    others = [d for d in by_department if d not in {name for name, _ in big}]
    while big and 0 < sum(by_department[d][0] for d in others) < MIN_GROUP:
        others.append(big.pop()[0])  # The smallest shown department joins その他.
    groups = [Group(d, _scores([by_department[d]])) for d, _ in big]
    if others:
        groups.append(Group(OTHERS, _scores([by_department[d] for d in others]), folded=len(others)))
    return groups


def _scores(parts: Sequence[tuple[int, dict[int, tuple[int, int]]]]) -> Scores:
    sums: dict[int, tuple[int, int]] = {}
    for _, items in parts:
        for item, (answers, total) in items.items():
            before = sums.get(item, (0, 0))
            sums[item] = (before[0] + answers, before[1] + total)
    return score(UWES_9, sum(n for n, _ in parts), sums)


def _moment(raw: str | None) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


def _end_of(day: str) -> datetime:
    """The first moment after a closing day, city time: no answer is taken from then on."""
    start = datetime.fromisoformat(day).date() + timedelta(days=1)
    return datetime.combine(start, time.min, tzinfo=clock.CITY_TZ)


def end_of_day(day: Any) -> datetime:
    """The last moment of a city day, for "as of" a date."""
    return datetime.combine(day, time.max, tzinfo=clock.CITY_TZ)


class EngagementReader:
    def __init__(self, db: Database) -> None:
        self.db = db

    def waves(self, as_of: datetime | None = None) -> list[Wave]:
        """Every wave as it stood at `as_of` (default now), oldest first, with its figures once finished."""
        at = as_of or clock.now()
        if at.tzinfo is None:  # A naive moment is read as the city's time.
            at = at.replace(tzinfo=clock.CITY_TZ)
        rows = self.db.query(
            "SELECT w.survey_id, w.label, w.instrument, w.attached_at, s.department, s.opens_on, s.closes_on,"
            " s.published_at, s.closed_at FROM engagement_waves w JOIN surveys s ON s.survey_id = w.survey_id"
        )
        waves = []
        for survey_id, label, instrument, attached_at, department, opens_on, closes_on, published, closed in rows:
            if datetime.fromisoformat(attached_at) > at:
                continue
            published_at, closed_at = _moment(published), _moment(closed)
            finished_at = None
            if published_at and published_at <= at:
                ends = [m for m in (closed_at, _end_of(closes_on) if closes_on else None) if m]
                finished_at = min(ends) if ends and min(ends) <= at else None
                status = FINISHED if finished_at else OPEN
            else:
                status = DRAFT
            waves.append(Wave(survey_id, label, instrument, department, status, opens_on, closes_on, finished_at))
        waves.sort(key=lambda w: (w.finished_at is None, w.finished_at or at, w.opens_on or "", w.label))
        self._fill(waves)
        return waves

    def finished(self, as_of: datetime | None = None) -> list[Wave]:
        return [w for w in self.waves(as_of) if w.status == FINISHED]

    def _fill(self, waves: list[Wave]) -> None:
        finished = [w for w in waves if w.status == FINISHED]
        if not finished:
            return
        marks = ", ".join("?" for _ in finished)
        rows = self.db.query(
            f"SELECT survey_id, department, item, answers, total FROM engagement_cells WHERE survey_id IN ({marks})",
            [w.survey_id for w in finished],
        )
        cells: dict[str, dict[str, tuple[int, dict[int, tuple[int, int]]]]] = {}
        for survey_id, department, item, answers, total in rows:
            n, items = cells.setdefault(survey_id, {}).get(department, (0, {}))
            if item == RESPONDENTS:
                n = int(answers)
            else:
                items[int(item)] = (int(answers), int(total))
            cells[survey_id][department] = (n, items)
        previous: Wave | None = None
        for wave in finished:
            by_department = cells.get(wave.survey_id, {})
            if sum(n for n, _ in by_department.values()) >= MIN_GROUP:
                wave.organisation = _scores(list(by_department.values()))
                wave.departments = [
                    Group(UNKNOWN_LABEL, g.scores) if g.label == UNKNOWN_DEPARTMENT else g
                    for g in fold_departments(by_department)
                ]
            if previous and previous.organisation and wave.organisation:
                wave.change = _change(previous.organisation, wave.organisation)
                before = {g.label: g.scores for g in previous.departments if not g.is_others}
                wave.department_changes = {
                    g.label: _delta(before[g.label].index, g.scores.index)
                    for g in wave.departments
                    if g.label in before and not g.is_others
                }
            if wave.organisation:
                previous = wave

    def organisation_index(self, as_of: datetime | None = None) -> tuple[float | None, str]:
        finished = self.finished(as_of)
        if not finished:
            return None, ""
        latest = finished[-1]
        return (latest.organisation.index if latest.organisation else None), latest.label


def _delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def _change(before: Scores, after: Scores) -> Change:
    return Change(
        index=_delta(before.index, after.index),
        subscales={s: _delta(before.subscales[s], after.subscales[s]) for s in Subscale},
    )


def organisation_index(db: Database, as_of: datetime | None = None) -> tuple[float | None, str]:
    """The latest finished wave's organisation-wide index on the 0–6 scale (None when it had under
    5 respondents, or there is no finished wave) and its label, as of `as_of` (default now)."""
    return EngagementReader(db).organisation_index(as_of)


_SURVEY_EVENTS = (
    Survey.Drafted,
    Survey.DetailsRevised,
    Survey.QuestionAdded,
    Survey.QuestionRevised,
    Survey.QuestionRemoved,
    Survey.QuestionsReordered,
    Survey.DetailsCorrected,
    Survey.ClosingExtended,  # a wave whose closing date was extended finishes later
    Survey.Published,
    Survey.Closed,
    Survey.ResultsPublished,
)


def replay_at(app: Application[Any], at: datetime) -> EngagementReader:
    """The engagement read model rebuilt from the events recorded up to `at` alone, in a private
    in-memory database (one thread; close `reader.db` after use). It reads every response of every
    survey, so it is for audits and checks, not pages: those read the read model as of `at`."""
    db = SQLiteDatabase(":memory:")
    migrate(db)
    surveys, engagement = SurveyProjection(), EngagementProjection()
    topics = tuple(dict.fromkeys([*(f"{c.__module__}:{c.__qualname__}" for c in _SURVEY_EVENTS), *engagement.topics]))
    start = 0
    while True:
        notifications = app.recorder.select_notifications(
            start=start, limit=BATCH, topics=topics, inclusive_of_start=False
        )
        if not notifications:
            break
        events = [(n.id, app.mapper.to_domain_event(n)) for n in notifications]
        due = [(position, e) for position, e in events if e.timestamp <= at]
        with db.transaction() as cur:
            surveys.project(cur, [(p, e) for p, e in due if isinstance(e, _SURVEY_EVENTS)])
            engagement.project(cur, [(p, e) for p, e in due if not isinstance(e, _SURVEY_EVENTS)])
        if events[-1][1].timestamp > at + SLACK:
            break
        start = notifications[-1].id
    return EngagementReader(db)
