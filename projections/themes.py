"""Reading theme analyses: the runs of a survey, one run's themes, and who raised each theme."""

from collections import Counter
from typing import Any

import msgspec

from domain.themes import AnalysisModel, ThemeNode
from projections.database import Database
from projections.results import complement
from projections.segments import SEGMENT_VALUES, SEGMENTS, UNKNOWN, shown

_THEMES = msgspec.json.Decoder(list[ThemeNode])
_MODEL = msgspec.json.Decoder(AnalysisModel)


class AnalysisSummary(msgspec.Struct, kw_only=True):
    id: str
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


_COLUMNS = "analysis_id, survey_id, question_id, requested_by, completed_at, input_count, model, params, seed, views"


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
    )


class ThemeReadModel:
    def __init__(self, db: Database) -> None:
        self.db = db

    def analyses(self, survey_id: str | None = None, limit: int = 100) -> list[AnalysisSummary]:
        sql = f"SELECT {_COLUMNS} FROM theme_analyses"
        params: list[Any] = []
        if survey_id:
            sql += " WHERE survey_id = ?"
            params.append(survey_id)
        sql += " ORDER BY completed_at DESC LIMIT ?"
        params.append(limit)
        return [AnalysisSummary(**_summary(r)) for r in self.db.query(sql, params)]

    def analysis(self, analysis_id: str) -> AnalysisView | None:
        row = self.db.query_one(f"SELECT {_COLUMNS}, themes FROM theme_analyses WHERE analysis_id = ?", (analysis_id,))
        if row is None:
            return None
        return AnalysisView(**_summary(row), themes=_THEMES.decode(row[10]))

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
        """For each top-level theme, how many of its opinions came from each segment (small cells hidden)."""
        attributes = {
            rid: (ward or UNKNOWN, age or UNKNOWN, UNKNOWN if kids is None else ("yes" if kids else "no"))
            for rid, ward, age, kids in self.db.query(
                "SELECT response_id, ward, age_band, has_children FROM free_text_answers"
                " WHERE survey_id = ? AND question_id = ?",
                (analysis.survey_id, analysis.question_id),
            )
        }
        result: dict[str, dict[str, list[SegmentCount]]] = {}
        segments = [s for s in SEGMENTS if s != "all"]
        for theme in analysis.themes:
            counts = [Counter() for _ in segments]  # type: ignore[var-annotated]
            for member in theme.members:
                values = attributes.get(member)
                if values:
                    for counter, value in zip(counts, values, strict=True):
                        counter[value] += 1
            result[theme.id] = {}
            for segment, counter in zip(segments, counts, strict=True):
                row = [
                    SegmentCount(value, label, shown(counter.get(value, 0)))
                    for value, label in SEGMENT_VALUES[segment].items()
                    if counter.get(value, 0) or value != UNKNOWN
                ]
                cells: list[int | str] = [c.count for c in row]
                for i in complement(cells, True):  # the theme's size is shown
                    row[i].count = cells[i]
                result[theme.id][segment] = row
        return result
