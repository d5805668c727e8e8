"""Reading theme analyses: the runs of a survey, one run's themes, and who raised each theme."""

from collections import Counter
from typing import Any

import msgspec

from domain.themes import IDEAS, PROPOSALS, SURVEY, AnalysisModel, ThemeNode, parse_corpus
from projections.database import Database
from projections.results import ERASED_TEXT as ERASED
from projections.segments import MIN_CELL, SEGMENT_VALUES, SEGMENTS, SUPPRESSED, UNKNOWN
from projections.suppression import line, protect

_THEMES = msgspec.json.Decoder(list[ThemeNode])
_MODEL = msgspec.json.Decoder(AnalysisModel)


class AnalysisSummary(msgspec.Struct, kw_only=True):
    id: str
    corpus: str
    survey_id: str
    question_id: str
    requested_by: str
    completed_at: str
    input_count: int
    model: AnalysisModel
    params: dict[str, Any]
    seed: int
    views: int


class AnalysisView(AnalysisSummary, kw_only=True):
    themes: list[ThemeNode]


class SegmentCount(msgspec.Struct):
    value: str
    label: str
    count: int | str


_COLUMNS = (
    "analysis_id, survey_id, question_id, requested_by, completed_at, input_count, model, params, seed, views, corpus"
)


def _summary(row: tuple[Any, ...]) -> dict[str, Any]:
    return dict(
        id=row[0],
        survey_id=row[1],
        question_id=row[2],
        requested_by=row[3],
        completed_at=row[4],
        input_count=int(row[5]),
        model=_MODEL.decode(row[6]),
        params=msgspec.json.decode(row[7]),
        seed=int(row[8]),
        views=int(row[9]),
        corpus=row[10],
    )


class ThemeReadModel:
    def __init__(self, db: Database) -> None:
        self.db = db

    def analyses(
        self, survey_id: str | None = None, limit: int = 100, *, corpus: str | None = None
    ) -> list[AnalysisSummary]:
        sql = f"SELECT {_COLUMNS} FROM theme_analyses"
        params: list[Any] = []
        if survey_id:
            sql += " WHERE survey_id = ?"
            params.append(survey_id)
        elif corpus:
            sql += " WHERE corpus = ?"
            params.append(corpus)
        sql += " ORDER BY completed_at DESC LIMIT ?"
        params.append(limit)
        return [AnalysisSummary(**_summary(r)) for r in self.db.query(sql, params)]

    def analysis(self, analysis_id: str) -> AnalysisView | None:
        row = self.db.query_one(f"SELECT {_COLUMNS}, themes FROM theme_analyses WHERE analysis_id = ?", (analysis_id,))
        if row is None:
            return None
        return AnalysisView(**_summary(row), themes=_THEMES.decode(row[11]))

    def corpus_opinions(self, analysis: AnalysisSummary, ids: list[str]) -> dict[str, str]:
        """The readable opinions among `ids` of what the analysis read (an erased person's are gone)."""
        kind = parse_corpus(analysis.corpus)[0]
        if kind == IDEAS:
            return idea_texts(self.db, ids)
        if kind == PROPOSALS:
            return proposal_texts(self.db, ids)
        return self.opinions(analysis.survey_id, analysis.question_id, ids)

    def opinions(self, survey_id: str, question_id: str, ids: list[str]) -> dict[str, str]:
        wanted = set(ids)
        return {
            rid: text
            for rid, text in self.db.query(
                "SELECT response_id, text FROM free_text_answers"
                " WHERE survey_id = ? AND question_id = ? AND erased = 0",
                (survey_id, question_id),
            )
            if rid in wanted
        }

    def breakdown(self, analysis: AnalysisView) -> dict[str, dict[str, list[SegmentCount]]]:
        """For each top-level theme, how many of its opinions came from each segment value.

        One table per segment, themes by segment values, with small cells hidden and enough more
        that none can be worked out: each theme's size is shown, and the opinions of a segment
        value add up to its free-text answers, which the published results may show.
        """
        if parse_corpus(analysis.corpus)[0] != SURVEY:
            return {}  # Ideas carry no respondent attributes to break down by.
        attributes = {
            rid: (ward or UNKNOWN, age or UNKNOWN, UNKNOWN if kids is None else ("yes" if kids else "no"))
            for rid, ward, age, kids in self.db.query(
                "SELECT response_id, ward, age_band, has_children FROM free_text_answers"
                " WHERE survey_id = ? AND question_id = ?",
                (analysis.survey_id, analysis.question_id),
            )
        }
        segments = [s for s in SEGMENTS if s != "all"]
        counts: dict[tuple[str, str, str], int] = Counter()  # (theme, segment, value)
        for theme in analysis.themes:
            for member in theme.members:
                for segment, value in zip(segments, attributes.get(member, ()), strict=False):
                    counts[(theme.id, segment, value)] += 1
        result: dict[str, dict[str, list[SegmentCount]]] = {theme.id: {} for theme in analysis.themes}
        for segment in segments:
            values = [
                (value, label)
                for value, label in SEGMENT_VALUES[segment].items()
                if value != UNKNOWN or any(counts[(t.id, segment, UNKNOWN)] for t in analysis.themes)
            ]
            hidden = _hidden_cells([t.id for t in analysis.themes], segment, [v for v, _ in values], counts)
            for theme in analysis.themes:
                cells = [((theme.id, segment, value), label) for value, label in values]
                result[theme.id][segment] = [
                    SegmentCount(cell[2], label, SUPPRESSED if cell in hidden else counts[cell])
                    for cell, label in cells
                ]
        return result


def _hidden_cells(
    themes: list[str], segment: str, values: list[str], counts: dict[tuple[str, str, str], int]
) -> set[tuple[str, str, str]]:
    cells = {(t, segment, v): counts[(t, segment, v)] for t in themes for v in values}
    # The totals are keys of their own, always shown: a theme's size, a segment value's answers.
    equations = [line(("theme", t), [(t, segment, v) for v in values]) for t in themes]
    equations += [line(("value", v), [(t, segment, v) for t in themes]) for v in values]
    hidden = {cell for cell, count in cells.items() if count < MIN_CELL}
    cost = {cell: (count, i) for i, (cell, count) in enumerate(cells.items())}
    return protect(equations, hidden, cost)  # type: ignore[arg-type, return-value]


def idea_count(db: Database, department: str) -> int:
    row = db.query_one("SELECT COUNT(*) FROM ideas WHERE listed = 1 AND erased = 0 AND department = ?", (department,))
    return int(row[0]) if row else 0


def proposal_count(db: Database, department: str) -> int:
    row = db.query_one("SELECT COUNT(*) FROM proposals WHERE summary <> ? AND department = ?", (ERASED, department))
    return int(row[0]) if row else 0


def idea_texts(db: Database, ids: list[str] | None = None, department: str | None = None) -> dict[str, str]:
    """Ideas as opinions: title and body of each listed idea whose author is not erased."""
    sql = "SELECT idea_id, title, body FROM ideas WHERE listed = 1 AND erased = 0"
    params: list[Any] = []
    if department is not None:
        sql += " AND department = ?"
        params.append(department)
    wanted = set(ids) if ids is not None else None
    return {
        idea_id: f"{title}\n{body}"
        for idea_id, title, body in db.query(sql + " ORDER BY submitted_at, idea_id", params)
        if wanted is None or idea_id in wanted
    }


def proposal_texts(db: Database, ids: list[str] | None = None, department: str | None = None) -> dict[str, str]:
    """Business proposals as opinions: title and summary, for the department that handles them
    (confidential: only its staff see these). An erased writer's texts are gone."""
    sql = "SELECT proposal_id, title, summary FROM proposals WHERE summary <> ?"
    params: list[Any] = [ERASED]
    if department is not None:
        sql += " AND department = ?"
        params.append(department)
    wanted = set(ids) if ids is not None else None
    return {
        proposal_id: f"{title}\n{summary}"
        for proposal_id, title, summary in db.query(sql + " ORDER BY submitted_at, proposal_id", params)
        if wanted is None or proposal_id in wanted
    }
