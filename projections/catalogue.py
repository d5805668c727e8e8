"""Reading the unified survey catalogue: every department's surveys in one list."""

from typing import Any

import msgspec

from domain.questions import AnyQuestion
from domain.survey import SurveyStatus, SurveyTranslation
from domain.values import Audience
from projections.database import Database
from projections.segments import shown
from projections.surveys import QUESTIONS, TRANSLATIONS


class _Survey(msgspec.Struct, kw_only=True):
    id: str
    department: str
    title: str
    description: str
    audience: Audience
    status: SurveyStatus
    results_published: bool
    opens_on: str | None
    closes_on: str | None
    published_at: str | None
    question_count: int
    # The staff's own texts in other languages by language code (web/localize.py shows them).
    translations: dict[str, SurveyTranslation] = {}


class PublicSurveySummary(_Survey, kw_only=True):
    """A survey as anyone may see it: fewer than MIN_CELL responses show only as the mark."""

    response_count: int | str


class PublicSurveyDetail(PublicSurveySummary, kw_only=True):
    questions: list[AnyQuestion]


class SurveySummary(_Survey, kw_only=True):
    """A survey with its exact response count, for its own department's staff."""

    response_count: int

    @property
    def shown_response_count(self) -> int | str:
        """The count as the public sees it: a survey of one or two respondents would say who answered."""
        return shown(self.response_count)

    def public(self) -> PublicSurveySummary:
        return PublicSurveySummary(**{**msgspec.structs.asdict(self), "response_count": self.shown_response_count})


class SurveyDetail(SurveySummary, kw_only=True):
    questions: list[AnyQuestion]

    def public(self) -> PublicSurveyDetail:
        return PublicSurveyDetail(**{**msgspec.structs.asdict(self), "response_count": self.shown_response_count})


_COLUMNS = (
    "survey_id, department, title, description, audience, status, results_published,"
    " opens_on, closes_on, published_at, response_count, questions, translations"
)


def _summary(row: tuple[Any, ...], cls: type = SurveySummary) -> Any:
    questions = QUESTIONS.decode(row[11])
    fields = dict(
        id=row[0],
        department=row[1],
        title=row[2],
        description=row[3],
        audience=Audience(row[4]),
        status=SurveyStatus(row[5]),
        results_published=bool(row[6]),
        opens_on=row[7],
        closes_on=row[8],
        published_at=row[9],
        response_count=int(row[10]),
        question_count=len(questions),
        translations=TRANSLATIONS.decode(row[12]) if row[12] else {},
    )
    if cls is SurveyDetail:
        fields["questions"] = questions
    return cls(**fields)


class Catalogue:
    def __init__(self, db: Database) -> None:
        self.db = db

    def surveys(
        self,
        *,
        statuses: tuple[SurveyStatus, ...] = (),
        audience: Audience | None = None,
        department: str | None = None,
        results_published: bool | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> list[SurveySummary]:
        where, params = [], []
        if statuses:
            where.append(f"status IN ({', '.join('?' for _ in statuses)})")
            params.extend(s.value for s in statuses)
        if audience:
            where.append("audience = ?")
            params.append(audience.value)
        if department:
            where.append("department = ?")
            params.append(department)
        if results_published is not None:
            where.append("results_published = ?")
            params.append(int(results_published))
        sql = f"SELECT {_COLUMNS} FROM surveys"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY COALESCE(published_at, drafted_at) DESC, survey_id LIMIT ? OFFSET ?"
        return [_summary(r) for r in self.db.query(sql, (*params, limit, offset))]

    def survey(self, survey_id: str) -> SurveyDetail | None:
        row = self.db.query_one(f"SELECT {_COLUMNS} FROM surveys WHERE survey_id = ?", (survey_id,))
        return _summary(row, SurveyDetail) if row else None

    def departments(self) -> list[str]:
        return [r[0] for r in self.db.query("SELECT DISTINCT department FROM surveys ORDER BY 1")]
