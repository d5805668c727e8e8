"""Reading a survey's results: counts, distributions and means by segment, small cells hidden."""

from collections import defaultdict
from typing import Any

import msgspec

from domain.questions import FreeText, MultipleChoice, Number, Scale, SingleChoice
from projections.catalogue import SurveyDetail
from projections.database import Database
from projections.segments import MIN_CELL, SEGMENT_VALUES, SEGMENTS, SUPPRESSED, shown
from projections.surveys import ANSWERED, SURVEY_COUNT, number_bins

ERASED_TEXT = "（削除済み）"

Shown = int | str  # a count, or "<5"


class Column(msgspec.Struct, kw_only=True):
    """One segment value (e.g. 園田, or 30代) of one question."""

    segment: str
    value: str
    label: str
    respondents: Shown
    counts: list[Shown]
    percents: list[float | None]
    mean: float | None = None


class QuestionResult(msgspec.Struct, kw_only=True):
    id: str
    text: str
    kind: str
    buckets: list[str]
    overall: Column
    breakdowns: dict[str, list[Column]]
    text_count: Shown | None = None


class SurveyResults(msgspec.Struct, kw_only=True):
    survey_id: str
    title: str
    respondents: Shown
    min_cell: int
    segments: dict[str, str]
    questions: list[QuestionResult]


class FreeTextAnswer(msgspec.Struct):
    text: str
    submitted_at: str


def bucket_labels(question: Any) -> tuple[list[str], list[str]]:
    """The buckets of a question's distribution: their keys in result_cells, and their labels."""
    if isinstance(question, SingleChoice | MultipleChoice):
        return [str(i) for i in range(len(question.options))], list(question.options)
    if isinstance(question, Scale):
        labels = [f"1 {question.low_label}", "2", "3", "4", f"5 {question.high_label}"]
        return [str(i) for i in range(1, 6)], labels
    if isinstance(question, Number):
        bins = number_bins(question)
        unit = question.unit
        labels = [f"{_n(lo)}{unit}" if lo == hi else f"{_n(lo)}〜{_n(hi)}{unit}" for lo, hi in bins]
        return [f"b{i}" for i in range(len(bins))], labels
    return [], []


def _n(x: float) -> str:
    return str(int(x)) if x == int(x) else f"{x:.1f}"


def complement(cells: list[Shown], total_shown: bool) -> list[int]:
    """Secondary suppression for one line of cells that add up to a shown total.

    With a single hidden cell, the total minus the others would give it away, so the smallest
    shown cell is hidden too. Returns the positions it hid.
    """
    hidden = [i for i, c in enumerate(cells) if c == SUPPRESSED]
    shown_at = [i for i, c in enumerate(cells) if c != SUPPRESSED]
    if not total_shown or len(hidden) != 1 or not shown_at:
        return []
    smallest = min(shown_at, key=lambda i: cells[i])  # type: ignore[arg-type, return-value]
    cells[smallest] = SUPPRESSED
    return [smallest]


def protect(overall: Column, breakdowns: dict[str, list[Column]], *, partitioned: bool) -> None:
    """Hides what could be worked out by subtraction, until nothing more can be.

    Segment values add up to the whole (every respondent has exactly one ward, age band and
    family status, "unknown" included), and for single choice, scale and number questions the
    buckets add up to the respondents of a column.
    """
    changed = True
    while changed:
        changed = False
        columns_of_all = [overall, *(c for cs in breakdowns.values() for c in cs)]
        if partitioned:
            for column in columns_of_all:
                for i in complement(column.counts, isinstance(column.respondents, int)):
                    column.percents[i] = None
                    changed = True
        for columns in breakdowns.values():
            respondents = [c.respondents for c in columns]
            for i in complement(respondents, isinstance(overall.respondents, int)):
                columns[i].respondents = SUPPRESSED
                changed = True
            for bucket, total in enumerate(overall.counts):
                line = [c.counts[bucket] for c in columns]
                for i in complement(line, isinstance(total, int)):
                    columns[i].counts[bucket] = SUPPRESSED
                    columns[i].percents[bucket] = None
                    changed = True


class Results:
    def __init__(self, db: Database) -> None:
        self.db = db

    def of(self, survey: SurveyDetail) -> SurveyResults:
        cells: dict[tuple[str, str, str], dict[str, tuple[int, float]]] = defaultdict(dict)
        for question_id, segment, value, bucket, count, total in self.db.query(
            "SELECT question_id, segment, segment_value, bucket, count, sum FROM result_cells WHERE survey_id = ?",
            (survey.id,),
        ):
            cells[(question_id, segment, value)][bucket] = (int(count), float(total))

        def respondents(segment: str, value: str) -> int:
            return cells[(SURVEY_COUNT, segment, value)].get(ANSWERED, (0, 0.0))[0]

        questions = []
        for question in survey.questions:
            keys, labels = bucket_labels(question)
            breakdowns: dict[str, list[Column]] = {}
            for segment in SEGMENTS:
                columns = []
                for value, label in SEGMENT_VALUES[segment].items():
                    if segment != "all" and respondents(segment, value) == 0:
                        continue
                    columns.append(
                        self._column(question, segment, value, label, keys, cells[(question.id, segment, value)])
                    )
                breakdowns[segment] = columns
            overall = breakdowns.pop("all")[0]
            protect(overall, breakdowns, partitioned=not isinstance(question, MultipleChoice | FreeText))
            text_count = None
            if isinstance(question, FreeText):
                text_count = overall.respondents
            questions.append(
                QuestionResult(
                    id=question.id,
                    text=question.text,
                    kind=question.__struct_config__.tag,  # type: ignore[arg-type]
                    buckets=labels,
                    overall=overall,
                    breakdowns=breakdowns,
                    text_count=text_count,
                )
            )
        return SurveyResults(
            survey_id=survey.id,
            title=survey.title,
            respondents=shown(respondents("all", "all")),
            min_cell=MIN_CELL,
            segments={k: v for k, v in SEGMENTS.items() if k != "all"},
            questions=questions,
        )

    @staticmethod
    def _column(
        question: Any,
        segment: str,
        value: str,
        label: str,
        keys: list[str],
        cells: dict[str, tuple[int, float]],
    ) -> Column:
        answered, total = cells.get(ANSWERED, (0, 0.0))
        hidden = answered < MIN_CELL
        counts: list[Shown] = []
        percents: list[float | None] = []
        for key in keys:
            count = cells.get(key, (0, 0.0))[0]
            if hidden or count < MIN_CELL:
                counts.append(SUPPRESSED)
                percents.append(None)
            else:
                counts.append(count)
                percents.append(round(100 * count / answered, 1))
        mean = None
        if isinstance(question, Scale | Number) and not hidden:
            mean = round(total / answered, 2)
        return Column(
            segment=segment,
            value=value,
            label=label,
            respondents=shown(answered),
            counts=counts,
            percents=percents,
            mean=mean,
        )

    def free_texts(
        self, survey_id: str, question_id: str, *, limit: int = 50, before: int | None = None
    ) -> list[FreeTextAnswer]:
        """The newest free-text answers first; `before` pages back by position. An erased
        person's answer is still counted and listed, as （削除済み）."""
        sql = "SELECT text, submitted_at, erased FROM free_text_answers WHERE survey_id = ? AND question_id = ?"
        params: list[Any] = [survey_id, question_id]
        if before is not None:
            sql += " AND position < ?"
            params.append(before)
        sql += " ORDER BY position DESC LIMIT ?"
        params.append(limit)
        return [FreeTextAnswer(ERASED_TEXT if erased else t, s) for t, s, erased in self.db.query(sql, params)]

    def free_text_rows(self, survey_id: str, question_id: str) -> list[tuple[str, str]]:
        """Every readable answer to one free-text question, oldest first, as (response id, text)."""
        return self.db.query(
            "SELECT response_id, text FROM free_text_answers WHERE survey_id = ? AND question_id = ? AND erased = 0"
            " ORDER BY position",
            (survey_id, question_id),
        )
