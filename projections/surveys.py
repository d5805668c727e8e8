"""The unified survey projection: the catalogue of every department's surveys and their results.

Results are kept as pre-aggregated counts per (question, segment, bucket), so reading them
costs the same for a hundred responses as for a million. A batch of events is folded into
in-memory deltas first and written with one upsert per distinct cell.
"""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec

from domain.participant import Participant
from domain.personal_data import text_context, unseal
from domain.questions import AnyQuestion, MultipleChoice, Number, Scale, SingleChoice
from domain.response import Response
from domain.survey import Survey, SurveyStatus, SurveyTranslation
from domain.themes import ThemeAnalysis
from domain.values import Attributes
from projections.database import Cursor
from projections.keystore import live_keys
from projections.segments import segments_of
from projections.survey_changes import record_change

QUESTIONS = msgspec.json.Decoder(list[AnyQuestion])
TRANSLATIONS = msgspec.json.Decoder(dict[str, SurveyTranslation])
_encode = msgspec.json.encode

CELL_COLUMNS = [
    ("survey_id", "text"),
    ("question_id", "text"),
    ("segment", "text"),
    ("segment_value", "text"),
    ("bucket", "text"),
    ("count", "bigint"),
    ("sum", "float8"),
]
TEXT_COLUMNS = [
    ("position", "bigint"),
    ("survey_id", "text"),
    ("question_id", "text"),
    ("response_id", "text"),
    ("text", "text"),
    ("ward", "text"),
    ("age_band", "text"),
    ("has_children", "integer"),
    ("submitted_at", "text"),
    ("participant_id", "text"),
    ("erased", "integer"),
]
ANSWERED_COLUMNS = [
    ("participant_id", "text"),
    ("survey_id", "text"),
    ("response_id", "text"),
    ("position", "bigint"),
    ("submitted_at", "text"),
]

SURVEY_COUNT = "_survey"
ANSWERED = "_n"
NUMBER_BINS = 10


def number_bins(question: Number) -> list[tuple[float, float]]:
    """Histogram bins for a number question: one per value for small integer ranges."""
    lo, hi = question.minimum, question.maximum
    if question.integer and hi - lo < 2 * NUMBER_BINS:
        return [(v, v) for v in range(int(lo), int(hi) + 1)]
    width = (hi - lo) / NUMBER_BINS or 1
    return [(lo + i * width, lo + (i + 1) * width) for i in range(NUMBER_BINS)]


def number_bin(question: Number, value: float) -> int:
    lo, hi = question.minimum, question.maximum
    if question.integer and hi - lo < 2 * NUMBER_BINS:
        return int(value - lo)
    width = (hi - lo) / NUMBER_BINS or 1
    return min(NUMBER_BINS - 1, int((value - lo) / width))


# How each kind of question is folded: the plan holds its cell keys, built once per survey.
CHOICE, SCALE, NUMBER, TEXT = 1, 2, 3, 4


def fold_plan(question: AnyQuestion) -> tuple[int, list[tuple[str, str]], AnyQuestion]:
    """(kind, keys, question): keys[0] counts answers; the rest are the distribution's buckets."""
    qid = question.id
    if isinstance(question, SingleChoice | MultipleChoice):
        buckets = [str(i) for i in range(len(question.options))]
        kind = CHOICE
    elif isinstance(question, Scale):
        buckets = [str(v) for v in range(1, 6)]
        kind = SCALE
    elif isinstance(question, Number):
        buckets = [f"b{i}" for i in range(len(number_bins(question)))]
        kind = NUMBER
    else:
        buckets, kind = [], TEXT
    return kind, [(qid, ANSWERED)] + [(qid, b) for b in buckets], question


SURVEY_KEY = (SURVEY_COUNT, ANSWERED)


class Fold:
    """Counts of one survey's responses from one combination of attributes, within a batch."""

    __slots__ = ("columns", "counts", "sums", "survey")

    def __init__(self, survey_id: UUID, attributes: Attributes) -> None:
        self.survey = str(survey_id)
        # The attributes as free_text_answers stores them: ward, age band, children (0/1).
        self.columns = (
            attributes.ward.value if attributes.ward else None,
            attributes.age_band.value if attributes.age_band else None,
            None if attributes.has_children is None else int(attributes.has_children),
        )
        self.counts: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.sums: defaultdict[str, float] = defaultdict(float)


def _expand(
    combos: dict[tuple[UUID, Attributes], Fold],
) -> tuple[dict[tuple[str, str, str, str, str], list[Any]], dict[str, int]]:
    cells: dict[tuple[str, str, str, str, str], list[Any]] = {}
    responses: dict[str, int] = defaultdict(int)
    for (survey_uuid, attributes), fold in combos.items():
        survey_id = str(survey_uuid)
        segments = segments_of(attributes)
        responses[survey_id] += fold.counts.get(SURVEY_KEY, 0)
        for (question_id, bucket), n in fold.counts.items():
            total = fold.sums.get(question_id, 0.0) if bucket == ANSWERED else 0.0
            for segment, value in segments:
                key = (survey_id, question_id, segment, value, bucket)
                cell = cells.get(key)
                if cell is None:
                    cells[key] = [n, total]
                else:
                    cell[0] += n
                    cell[1] += total
    return cells, responses


def _topic(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


class SurveyProjection:
    name = "surveys"
    topics = tuple(
        _topic(cls)
        for cls in (
            Survey.Drafted,
            Survey.DetailsRevised,
            Survey.QuestionAdded,
            Survey.QuestionRevised,
            Survey.QuestionRemoved,
            Survey.QuestionsReordered,
            Survey.DetailsCorrected,
            Survey.ClosingExtended,
            Survey.Published,
            Survey.Closed,
            Survey.ResultsPublished,
            Survey.TranslationProvided,
            Response.Submitted,
            ThemeAnalysis.Completed,
            ThemeAnalysis.Viewed,
            Participant.Erased,
        )
    )

    def __init__(self) -> None:
        # Questions cannot change once a survey is published, and responses only come after.
        self._plans: dict[UUID, dict[str, tuple[int, list[tuple[str, str]], AnyQuestion]]] = {}

    def clear(self, cur: Cursor) -> None:
        for table in (
            "theme_analyses",
            "participant_responses",
            "free_text_answers",
            "result_cells",
            "survey_changes",
            "surveys",
        ):
            cur.execute(f"DELETE FROM {table}")
        self._plans.clear()

    def project(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        # Responses are first folded into counts per (survey, attributes); those are expanded
        # into the four segments once per distinct combination rather than once per response.
        combos: dict[tuple[UUID, Attributes], Fold] = {}
        texts: list[list[Any]] = []
        answered: list[tuple[Any, ...]] = []
        for position, event in events:
            if type(event) is Response.Submitted:
                answered.append(self._fold_response(cur, position, event, combos, texts))
            elif isinstance(event, ThemeAnalysis.Completed | ThemeAnalysis.Viewed):
                self._apply_theme_event(cur, event)
            elif isinstance(event, Participant.Erased):
                # Earlier rows of this batch are not written yet: write them first, then scrub.
                self._write_texts(cur, texts)
                texts.clear()
                cur.execute(
                    "UPDATE free_text_answers SET text = '', erased = 1 WHERE participant_id = ?",
                    (str(event.originator_id),),
                )
            else:
                self._apply_survey_event(cur, event)
        cells, responses = _expand(combos)
        if cells:
            cur.insert_many(
                "result_cells",
                CELL_COLUMNS,
                [(*key, c, t) for key, (c, t) in cells.items()],
                "ON CONFLICT (survey_id, question_id, segment, segment_value, bucket)"
                " DO UPDATE SET count = result_cells.count + excluded.count, sum = result_cells.sum + excluded.sum",
            )
        if responses:
            cur.executemany(
                "UPDATE surveys SET response_count = response_count + ? WHERE survey_id = ?",
                [(n, sid) for sid, n in responses.items()],
            )
        self._write_texts(cur, texts)
        if answered:
            cur.append_rows("participant_responses", ANSWERED_COLUMNS, answered)

    @staticmethod
    def _write_texts(cur: Cursor, texts: list[list[Any]]) -> None:
        """Opens the sealed texts with their authors' live keys; an erased author's text stays shut."""
        if not texts:
            return
        sealed = [row for row in texts if isinstance(row[TEXT], bytes)]
        if sealed:
            keys = live_keys(cur, (row[PARTICIPANT] for row in sealed))
            for row in sealed:
                key = keys.get(row[PARTICIPANT])
                text = unseal(key, row[TEXT], text_context(row[RESPONSE], row[QUESTION])) if key else None
                row[TEXT], row[ERASED] = (text, 0) if text is not None else ("", 1)
        cur.append_rows("free_text_answers", TEXT_COLUMNS, texts)

    def _fold_response(
        self,
        cur: Cursor,
        position: int,
        event: Response.Submitted,
        combos: dict[tuple[UUID, Attributes], "Fold"],
        texts: list[list[Any]],
    ) -> tuple[str, str, str, int, str]:
        """Folds the answers into counts; returns the row of participant_responses."""
        survey_id = event.survey_id
        plans = self._plans_of(cur, survey_id)
        fold = combos.get((survey_id, event.attributes))
        if fold is None:
            fold = combos[(survey_id, event.attributes)] = Fold(survey_id, event.attributes)
        # Each is made once per response: str() of a UUID and isoformat() cost more than the folding.
        row = (str(event.participant_id), fold.survey, str(event.originator_id), position, event.timestamp.isoformat())
        counts = fold.counts
        counts[SURVEY_KEY] += 1
        for question_id, answer in event.answers.items():
            plan = plans.get(question_id)
            if plan is None or answer is None:
                continue
            kind, keys, question = plan
            counts[keys[0]] += 1
            if kind == CHOICE:
                if type(answer) is list:
                    for index in answer:
                        counts[keys[index + 1]] += 1
                else:
                    counts[keys[answer + 1]] += 1  # type: ignore[operator]
            elif kind == SCALE:
                counts[keys[answer]] += 1  # type: ignore[index]
                fold.sums[question_id] += answer  # type: ignore[operator]
            elif kind == NUMBER:
                counts[keys[number_bin(question, answer) + 1]] += 1  # type: ignore[arg-type]
                fold.sums[question_id] += answer  # type: ignore[operator]
            else:  # Free text kept in plain view by version 1 of the event.
                texts.append(_text_row(row, fold, question_id, answer))
        for question_id, sealed in event.texts.items():
            plan = plans.get(question_id)
            if plan is not None:
                counts[plan[1][0]] += 1
                texts.append(_text_row(row, fold, question_id, sealed))
        return row

    def _apply_theme_event(self, cur: Cursor, event: Any) -> None:
        if isinstance(event, ThemeAnalysis.Completed):
            cur.execute(
                "INSERT INTO theme_analyses (analysis_id, survey_id, question_id, requested_by, completed_at,"
                " input_count, model, params, seed, themes, corpus) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    str(event.originator_id),
                    str(event.survey_id) if event.survey_id else "",
                    event.question_id or "",
                    str(event.requested_by),
                    event.timestamp.isoformat(),
                    len(event.input_ids),
                    _encode(event.model).decode(),
                    _encode(event.params).decode(),
                    event.seed,
                    _encode(event.themes).decode(),
                    event.corpus,
                ),
            )
        else:
            cur.execute(
                "UPDATE theme_analyses SET views = views + 1 WHERE analysis_id = ?", (str(event.originator_id),)
            )

    def _plans_of(self, cur: Cursor, survey_id: UUID) -> dict[str, tuple[int, list[tuple[str, str]], AnyQuestion]]:
        plans = self._plans.get(survey_id)
        if plans is None:
            row = cur.execute("SELECT questions FROM surveys WHERE survey_id = ?", (str(survey_id),)).fetchone()
            plans = {q.id: fold_plan(q) for q in QUESTIONS.decode(row[0])} if row else {}
            self._plans[survey_id] = plans
        return plans

    def _apply_survey_event(self, cur: Cursor, event: Any) -> None:
        survey_id = str(event.originator_id)
        at = event.timestamp.isoformat()
        if isinstance(event, Survey.Drafted):
            cur.execute(
                "INSERT INTO surveys (survey_id, department, title, description, audience, status,"
                " opens_on, closes_on, drafted_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    survey_id,
                    event.department,
                    event.title,
                    event.description,
                    event.audience.value,
                    SurveyStatus.DRAFT.value,
                    _date(event.opens_on),
                    _date(event.closes_on),
                    at,
                    at,
                ),
            )
        elif isinstance(event, Survey.DetailsRevised):
            cur.execute(
                "UPDATE surveys SET title = ?, description = ?, audience = ?, opens_on = ?,"
                " closes_on = ?, updated_at = ? WHERE survey_id = ?",
                (
                    event.title,
                    event.description,
                    event.audience.value,
                    _date(event.opens_on),
                    _date(event.closes_on),
                    at,
                    survey_id,
                ),
            )
        elif isinstance(event, Survey.DetailsCorrected | Survey.ClosingExtended):
            # After publication: the change is also kept as a row of 更新履歴 for respondents.
            changed = record_change(cur, event)
            columns = ", ".join(f"{name} = ?" for name in changed)
            cur.execute(
                f"UPDATE surveys SET {columns}, updated_at = ? WHERE survey_id = ?",
                (*changed.values(), at, survey_id),
            )
        elif isinstance(event, Survey.QuestionsReordered):
            row = cur.execute("SELECT questions FROM surveys WHERE survey_id = ?", (survey_id,)).fetchone()
            by_id = {q.id: q for q in (QUESTIONS.decode(row[0]) if row else [])}
            questions = [by_id[qid] for qid in event.order if qid in by_id]
            cur.execute(
                "UPDATE surveys SET questions = ?, updated_at = ? WHERE survey_id = ?",
                (_encode(questions).decode(), at, survey_id),
            )
        elif isinstance(event, Survey.QuestionAdded | Survey.QuestionRevised | Survey.QuestionRemoved):
            self._plans.pop(event.originator_id, None)
            row = cur.execute("SELECT questions FROM surveys WHERE survey_id = ?", (survey_id,)).fetchone()
            questions = QUESTIONS.decode(row[0]) if row else []
            if isinstance(event, Survey.QuestionAdded):
                questions.append(event.question)
            elif isinstance(event, Survey.QuestionRevised):
                questions = [event.question if q.id == event.question.id else q for q in questions]
            else:
                questions = [q for q in questions if q.id != event.question_id]
            cur.execute(
                "UPDATE surveys SET questions = ?, updated_at = ? WHERE survey_id = ?",
                (_encode(questions).decode(), at, survey_id),
            )
        elif isinstance(event, Survey.Published):
            cur.execute(
                "UPDATE surveys SET status = ?, published_at = ?, updated_at = ? WHERE survey_id = ?",
                (SurveyStatus.PUBLISHED.value, at, at, survey_id),
            )
        elif isinstance(event, Survey.Closed):
            cur.execute(
                "UPDATE surveys SET status = ?, closed_at = ?, updated_at = ? WHERE survey_id = ?",
                (SurveyStatus.CLOSED.value, at, at, survey_id),
            )
        elif isinstance(event, Survey.ResultsPublished):
            cur.execute(
                "UPDATE surveys SET results_published = 1, updated_at = ? WHERE survey_id = ?",
                (at, survey_id),
            )
        elif isinstance(event, Survey.TranslationProvided):
            row = cur.execute("SELECT translations FROM surveys WHERE survey_id = ?", (survey_id,)).fetchone()
            translations = TRANSLATIONS.decode(row[0]) if row else {}
            translations[event.language] = SurveyTranslation(
                title=event.title, description=event.description, questions=event.questions
            )
            cur.execute(
                "UPDATE surveys SET translations = ?, updated_at = ? WHERE survey_id = ?",
                (_encode(translations).decode(), at, survey_id),
            )


# Where _text_row puts what _write_texts needs.
RESPONSE, QUESTION, TEXT, PARTICIPANT, ERASED = 3, 2, 4, 9, 10


def _text_row(response: tuple[str, str, str, int, str], fold: Fold, question_id: str, text: str | bytes) -> list[Any]:
    participant_id, survey_id, response_id, position, submitted_at = response
    return [position, survey_id, question_id, response_id, text, *fold.columns, submitted_at, participant_id, 0]


def _date(value: Any) -> str | None:
    return value.isoformat() if value else None
