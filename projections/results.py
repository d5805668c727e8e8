"""Reading a survey's results: counts, distributions and means by segment, small cells hidden."""

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import msgspec

from domain.questions import FreeText, MultipleChoice, Number, Scale, SingleChoice
from domain.survey import SurveyStatus
from projections.catalogue import SurveyDetail
from projections.database import Database
from projections.segments import (
    COARSE_GROUPS,
    COARSE_LABELS,
    COARSE_OF,
    COARSE_SEGMENTS,
    MIN_CELL,
    SEGMENT_VALUES,
    SEGMENTS,
    SUPPRESSED,
    shown,
)
from projections.suppression import line, protect
from projections.surveys import ANSWERED, SURVEY_COUNT, number_bin, number_bins

ERASED_TEXT = "（削除済み）"

Shown = int | str  # a count, or the mark SUPPRESSED
Cell = tuple[str | int, ...]  # ("n" | "c" | "s", segment, value[, bucket]): respondents, a count, a sum


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
    suppressed_mark: str = SUPPRESSED
    segments: dict[str, str]
    questions: list[QuestionResult]
    coarser: dict[str, str] = {}  # a segment → its coarser grouping, offered when cells are hidden


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
        return [f"b{i}" for i in range(len(number_bins(question)))], number_labels(question)
    return [], []


def number_labels(question: Number) -> list[str]:
    """Labels that never share a value: integers as the ranges number_bin really puts in each
    bin (0〜5, 6〜11, …), other numbers as 以上/未満 with the last bin closed (以下)."""
    bins, unit = number_bins(question), question.unit
    if all(lo == hi for lo, hi in bins):
        return [f"{_n(lo)}{unit}" for lo, _ in bins]
    if not question.integer:
        last = len(bins) - 1
        return [f"{_n(lo)}以上{_n(hi)}{'以下' if i == last else '未満'}{unit}" for i, (lo, hi) in enumerate(bins)]
    starts = [_first_integer_of_bin(question, i) for i in range(len(bins))] + [math.floor(question.maximum) + 1]
    labels = []
    for first, after in itertools.pairwise(starts):
        last_value = after - 1
        labels.append(f"{first}{unit}" if first >= last_value else f"{first}〜{last_value}{unit}")
    return labels


def _first_integer_of_bin(question: Number, index: int) -> int:
    """The smallest integer answer that number_bin files in bin `index` or later."""
    width = (question.maximum - question.minimum) / len(number_bins(question)) or 1
    value = max(math.ceil(question.minimum), math.ceil(question.minimum + index * width) - 1)
    while value <= question.maximum and number_bin(question, value) < index:
        value += 1
    while value - 1 >= question.minimum and number_bin(question, value - 1) >= index:
        value -= 1
    return value


def _n(x: float) -> str:
    return str(int(x)) if x == int(x) else f"{x:.1f}"


def bucket_weights(question: Any) -> list[int] | None:
    """The value each bucket stands for, when a column's sum is the weighted sum of its counts:
    then a shown mean ties the counts by one more equation (a scale, or a number one per value)."""
    if isinstance(question, Scale):
        return list(range(1, 6))
    if isinstance(question, Number):
        bins = number_bins(question)
        if all(lo == hi for lo, hi in bins):
            return [int(lo) for lo, _ in bins]
    return None


class Figures(msgspec.Struct, frozen=True):
    """The true figures of one column, before anything is hidden."""

    segment: str
    value: str
    label: str
    respondents: int
    counts: list[int]
    total: float


def _n_cell(f: Figures) -> Cell:
    return ("n", f.segment, f.value)


def _count_cell(f: Figures, bucket: int) -> Cell:
    return ("c", f.segment, f.value, bucket)


def _sum_cell(f: Figures) -> Cell:
    return ("s", f.segment, f.value)


def hidden_cells(
    overall: Figures,
    breakdowns: dict[str, list[Figures]],
    *,
    partitioned: bool,
    has_mean: bool,
    weights: list[int] | None,
    nesting: Sequence[tuple[Figures, Sequence[Figures]]] = (),
) -> set[Cell]:
    """The cells to hide so that no hidden figure can be worked out from the shown ones.

    A column of fewer than MIN_CELL respondents is hidden whole (respondents, counts, percents,
    mean), and so are more columns wherever the respondents alone would give a hidden one away:
    the second smallest where one column alone is hidden in a breakdown, and whatever the exact
    audit of the respondents' equations finds, a coarser grouping being the sum of its finer
    values (`nesting`: e.g. 40〜59歳 = 40代 + 50代, both tables shown). Those choices depend on
    the respondents alone, so they agree between questions answered by the same people.
    Counts under MIN_CELL are hidden. Then the equations anyone can write are
    audited exactly (projections.suppression): segment values add up to the whole ("unknown"
    included), buckets of single choice, scale and number questions add up to their column,
    sums (mean × n) add up across segment values and, for a scale or a one-bin-per-value number,
    equal the weighted counts. More counts or means are hidden, breakdown cells before overall
    ones, until none is determined. With MIN_CELL or more, the overall respondents stay shown.
    """
    everything = [overall, *(f for fs in breakdowns.values() for f in fs)]

    def whole(f: Figures) -> list[Cell]:
        return [_n_cell(f), *(_count_cell(f, b) for b in range(len(f.counts))), *([_sum_cell(f)] if has_mean else [])]

    if overall.respondents < MIN_CELL:
        return {cell for f in everything for cell in whole(f)}
    columns_hidden = _hidden_respondents(overall, breakdowns, nesting)
    hidden: set[Cell] = set()
    for f in everything:
        if _n_cell(f) in columns_hidden:
            hidden.update(whole(f))
    for f in everything:
        hidden.update(_count_cell(f, b) for b, count in enumerate(f.counts) if count < MIN_CELL)

    equations: list[dict[Cell, int]] = []
    for total, parts in _lines(overall, breakdowns, nesting):
        equations.append(line(_n_cell(total), map(_n_cell, parts)))
        for b in range(len(overall.counts)):
            equations.append(line(_count_cell(total, b), [_count_cell(f, b) for f in parts]))
        if has_mean:
            equations.append(line(_sum_cell(total), map(_sum_cell, parts)))
    for f in everything:
        buckets = [_count_cell(f, b) for b in range(len(f.counts))]
        if partitioned:
            equations.append(line(_n_cell(f), buckets))
        if weights is not None:
            equations.append(line(_sum_cell(f), buckets, lambda cell: weights[cell[3]]))

    # What may be hidden more, cheapest first: breakdown counts and means (a mean is worth its
    # column's respondents), then overall counts, and the overall mean last of all (only a 0/1
    # number question, whose mean is a share, has been seen to need it).
    cost: dict[Cell, tuple[int, float, int]] = {}
    for f in everything:
        tier = 1 if f is overall else 0
        for b, count in enumerate(f.counts):
            cost[_count_cell(f, b)] = (tier, count, len(cost))
        if has_mean:
            cost[_sum_cell(f)] = (2, 0, len(cost)) if f is overall else (0, f.respondents, len(cost))
    return protect(equations, hidden, cost)


def _lines(
    overall: Figures, breakdowns: dict[str, list[Figures]], nesting: Sequence[tuple[Figures, Sequence[Figures]]]
) -> list[tuple[Figures, Sequence[Figures]]]:
    """Every total with the parts that add up to it: each breakdown to the whole, each coarser
    value to its finer ones."""
    return [(overall, columns) for columns in breakdowns.values()] + list(nesting)


def _hidden_respondents(
    overall: Figures, breakdowns: dict[str, list[Figures]], nesting: Sequence[tuple[Figures, Sequence[Figures]]]
) -> set[Cell]:
    """The respondents cells to hide, from the respondents alone: the small ones, then the
    smallest others until the totals and the nesting determine none of them."""
    columns = [f for fs in breakdowns.values() for f in fs]
    hidden = {_n_cell(f) for f in columns if f.respondents < MIN_CELL}
    equations = [line(_n_cell(total), map(_n_cell, parts)) for total, parts in _lines(overall, breakdowns, nesting)]
    cost = {_n_cell(f): (f.respondents, i) for i, f in enumerate(columns)}
    return protect(equations, hidden, cost)


def shown_column(f: Figures, hidden: set[Cell], has_mean: bool) -> Column:
    """A column as published: a percent only beside a shown count of shown respondents."""
    n_shown = _n_cell(f) not in hidden
    counts: list[Shown] = []
    percents: list[float | None] = []
    for b, count in enumerate(f.counts):
        if _count_cell(f, b) in hidden:
            counts.append(SUPPRESSED)
            percents.append(None)
        else:
            counts.append(count)
            percents.append(round(100 * count / f.respondents, 1) if n_shown and f.respondents else None)
    mean = None
    if has_mean and n_shown and f.respondents and _sum_cell(f) not in hidden:
        mean = round(f.total / f.respondents, 2)
    return Column(
        segment=f.segment,
        value=f.value,
        label=f.label,
        respondents=f.respondents if n_shown else SUPPRESSED,
        counts=counts,
        percents=percents,
        mean=mean,
    )


# The breakdowns offered, each coarser grouping right after the one it groups.
SHOWN_SEGMENTS: dict[str, str] = {}
for _key, _label in SEGMENTS.items():
    if _key != "all":
        SHOWN_SEGMENTS[_key] = _label
        SHOWN_SEGMENTS.update({c: COARSE_SEGMENTS[c] for c, fine in COARSE_OF.items() if fine == _key})


def _with_coarser(
    figures: dict[str, list[Figures]],
) -> tuple[dict[str, list[Figures]], list[tuple[Figures, list[Figures]]]]:
    """The breakdowns with each coarser grouping summed from its finer one, and the nesting:
    each coarser column with the finer columns it adds up."""
    out: dict[str, list[Figures]] = {}
    nesting: list[tuple[Figures, list[Figures]]] = []
    for segment in SHOWN_SEGMENTS:
        fine = COARSE_OF.get(segment)
        if fine is None:
            out[segment] = figures[segment]
            continue
        by_value = {f.value: f for f in figures[fine]}
        out[segment] = []
        for value, members in COARSE_GROUPS[segment].items():
            parts = [by_value[m] for m in members if m in by_value]
            if not parts:
                continue
            group = Figures(
                segment,
                value,
                COARSE_LABELS[segment][value],
                sum(f.respondents for f in parts),
                [sum(counts) for counts in zip(*(f.counts for f in parts), strict=True)],
                sum(f.total for f in parts),
            )
            out[segment].append(group)
            nesting.append((group, parts))
    return out, nesting


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

        # A draft takes no answers (Survey.accept), so its zero is known from its status alone and
        # is shown as 0. Once published, 0 stays hidden like 1–4: the moment a survey's first
        # answer arrives would otherwise show.
        draft = survey.status is SurveyStatus.DRAFT
        questions = []
        for question in survey.questions:
            keys, labels = bucket_labels(question)
            figures: dict[str, list[Figures]] = {}
            for segment in SEGMENTS:
                figures[segment] = []
                for value, label in SEGMENT_VALUES[segment].items():
                    if segment != "all" and respondents(segment, value) == 0:
                        continue
                    found = cells[(question.id, segment, value)]
                    answered, total = found.get(ANSWERED, (0, 0.0))
                    counts = [found.get(key, (0, 0.0))[0] for key in keys]
                    figures[segment].append(Figures(segment, value, label, answered, counts, total))
            overall = figures.pop("all")[0]
            figures, nesting = _with_coarser(figures)
            has_mean = isinstance(question, Scale | Number)
            if draft:
                hidden: set[Cell] = set()  # nobody can have answered a draft: its zeros are no one's
            else:
                hidden = hidden_cells(
                    overall,
                    figures,
                    partitioned=not isinstance(question, MultipleChoice | FreeText),
                    has_mean=has_mean,
                    weights=bucket_weights(question),
                    nesting=nesting,
                )
            shown_overall = shown_column(overall, hidden, has_mean)
            questions.append(
                QuestionResult(
                    id=question.id,
                    text=question.text,
                    kind=question.__struct_config__.tag,  # type: ignore[arg-type]
                    buckets=labels,
                    overall=shown_overall,
                    breakdowns={s: [shown_column(f, hidden, has_mean) for f in fs] for s, fs in figures.items()},
                    text_count=shown_overall.respondents if isinstance(question, FreeText) else None,
                )
            )
        return SurveyResults(
            survey_id=survey.id,
            title=survey.title,
            respondents=0 if draft else shown(respondents("all", "all")),
            min_cell=MIN_CELL,
            segments=SHOWN_SEGMENTS,
            coarser={fine: coarse for coarse, fine in COARSE_OF.items()},
            questions=questions,
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
