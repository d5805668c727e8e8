"""Reading theme analyses: the runs of a survey, one run's themes, who raised each theme (counts
and lift), and the new opinions assigned to an analysis since it ran."""

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import msgspec
from eventsourcing.utils import get_topic

from domain.themes import (
    IDEAS,
    PROPOSALS,
    SURVEY,
    AnalysisModel,
    OpinionAssignment,
    PublishedTheme,
    ThemeAnalysis,
    ThemeNode,
    merged,
    parse_corpus,
    renamed,
    split_off,
)
from projections.database import Cursor, Database
from projections.results import ERASED_TEXT as ERASED
from projections.segments import MIN_CELL, SEGMENT_VALUES, SEGMENTS, SUPPRESSED, UNKNOWN
from projections.suppression import determined, line, protect

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


# Significance of a lift: two-sided binomial test, Bonferroni-corrected for every cell of its
# table (themes × values, a number anyone can count, so the correction reveals nothing hidden).
ALPHA = 0.05


class LiftCell(msgspec.Struct):
    """A theme × segment value: its count, and how over- or under-represented the value is in the
    theme compared with all respondents (lift 1.0 = as in the whole). Hidden cells show neither."""

    value: str
    label: str
    count: int | str
    lift: float | None
    p_adjusted: float | None
    significant: str  # "+" over-represented, "-" under-represented, "" neither or hidden


class LiftTable(msgspec.Struct):
    segment: str
    columns: list[tuple[str, str, str]]  # value, label, share among all respondents ("12.5%" or x)
    rows: list[tuple[str, str, list[LiftCell]]]  # theme id, label, cells
    cells_tested: int


class AssignmentRun(msgspec.Struct):
    version: int
    assigned_at: str
    assigned_by: str
    opinion_count: int
    new_count: int
    threshold: float
    rerun_recommended: bool
    assignments: list[OpinionAssignment]

    def by_theme(self) -> dict[str, list[OpinionAssignment]]:
        out: dict[str, list[OpinionAssignment]] = {}
        for a in self.assignments:
            for theme_id in a.themes or ["new"]:
                out.setdefault(theme_id, []).append(a)
        return out


_ASSIGNMENTS = msgspec.json.Decoder(list[OpinionAssignment])


class ThemeEdit(msgspec.Struct):
    """A staff edit of an analysis's themes, as the history shows it."""

    version: int
    kind: str  # "renamed", "merged", "split"
    edited_at: str
    edited_by: str
    theme_id: str = ""
    theme_ids: list[str] = []
    new_theme_id: str = ""
    opinion_ids: list[str] = []
    label: str = ""
    # Filled in by ThemeReadModel.curated: the labels the themes had just before this edit.
    labels_before: dict[str, str] = {}


class ThemeSummary(msgspec.Struct):
    """A summary published to citizens; `shown` is what the public page may show of each count."""

    analysis_id: str
    version: int
    survey_id: str
    question_id: str
    published_at: str
    published_by: str
    total: int
    themes: list[PublishedTheme]
    shown: dict[str, int | str] = {}


_EDIT_KINDS = {
    ThemeAnalysis.ThemeRenamed: "renamed",
    ThemeAnalysis.ThemesMerged: "merged",
    ThemeAnalysis.ThemeSplit: "split",
}
_EDIT_FIELDS = ("theme_id", "theme_ids", "new_theme_id", "opinion_ids", "label")
_PUBLISHED = msgspec.json.Decoder(list[PublishedTheme])


class ThemeAssignmentProjection:
    """What happened to recorded analyses after they ran: new opinions assigned, staff edits of the
    themes, summaries published (topics of their own: no rebuild needed to add them)."""

    name = "theme_assignments"
    topics = (
        get_topic(ThemeAnalysis.NewOpinionsAssigned),
        *(get_topic(cls) for cls in _EDIT_KINDS),
        get_topic(ThemeAnalysis.ThemeSummaryPublished),
    )

    def clear(self, cur: Cursor) -> None:
        cur.execute("DELETE FROM theme_assignments")
        cur.execute("DELETE FROM theme_edits")
        cur.execute("DELETE FROM theme_summaries")

    def project(self, cur: Cursor, events: Sequence[tuple[int, Any]]) -> None:
        for _, event in events:
            kind = _EDIT_KINDS.get(type(event))
            if kind is not None:
                payload = {f: getattr(event, f) for f in _EDIT_FIELDS if hasattr(event, f)}
                cur.execute(
                    "INSERT INTO theme_edits (analysis_id, version, kind, edited_at, edited_by, payload)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        str(event.originator_id),
                        event.originator_version,
                        kind,
                        event.timestamp.isoformat(),
                        str(event.edited_by),
                        msgspec.json.encode(payload).decode(),
                    ),
                )
                continue
            if isinstance(event, ThemeAnalysis.ThemeSummaryPublished):
                cur.execute(
                    "INSERT INTO theme_summaries (analysis_id, version, survey_id, question_id, published_at,"
                    " published_by, total, themes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        str(event.originator_id),
                        event.originator_version,
                        str(event.survey_id),
                        event.question_id,
                        event.timestamp.isoformat(),
                        str(event.published_by),
                        event.total,
                        msgspec.json.encode(event.themes).decode(),
                    ),
                )
                continue
            cur.execute(
                "INSERT INTO theme_assignments (analysis_id, version, assigned_at, assigned_by, opinion_count,"
                " new_count, threshold, rerun_recommended, assignments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    str(event.originator_id),
                    event.originator_version,
                    event.timestamp.isoformat(),
                    str(event.assigned_by),
                    len(event.assignments),
                    sum(1 for a in event.assignments if not a.themes),
                    float(event.threshold),
                    1 if event.rerun_recommended else 0,
                    msgspec.json.encode(event.assignments).decode(),
                ),
            )


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

    def assignments(self, analysis_id: str) -> list[AssignmentRun]:
        """Every assignment of new opinions to this analysis, latest first."""
        rows = self.db.query(
            "SELECT version, assigned_at, assigned_by, opinion_count, new_count, threshold, rerun_recommended,"
            " assignments FROM theme_assignments WHERE analysis_id = ? ORDER BY version DESC",
            (analysis_id,),
        )
        return [
            AssignmentRun(int(v), at, by, int(n), int(new), float(t), bool(r), _ASSIGNMENTS.decode(a))
            for v, at, by, n, new, t, r, a in rows
        ]

    def edits(self, analysis_id: str) -> list[ThemeEdit]:
        """Staff edits of the analysis's themes, oldest first."""
        return [
            msgspec.convert(
                {"version": int(v), "kind": kind, "edited_at": at, "edited_by": by, **msgspec.json.decode(payload)},
                ThemeEdit,
            )
            for v, kind, at, by, payload in self.db.query(
                "SELECT version, kind, edited_at, edited_by, payload FROM theme_edits WHERE analysis_id = ?"
                " ORDER BY version",
                (analysis_id,),
            )
        ]

    def curated(self, analysis: AnalysisView, edits: list[ThemeEdit] | None = None) -> list[ThemeNode]:
        """The themes with staff edits applied, by the same rules as the aggregate."""
        themes = list(analysis.themes)
        for edit in self.edits(analysis.id) if edits is None else edits:
            edit.labels_before = {t.id: t.label for t in themes}
            if edit.kind == "renamed":
                themes = renamed(themes, edit.theme_id, edit.label)
            elif edit.kind == "merged":
                themes = merged(themes, edit.theme_ids, edit.label)
            elif edit.kind == "split":
                themes = split_off(themes, edit.theme_id, edit.new_theme_id, edit.opinion_ids, edit.label)
        return themes

    def summaries(self, *, analysis_id: str | None = None, survey_id: str | None = None) -> list[ThemeSummary]:
        """Published summaries, latest first: of one analysis, or the latest of each question of a
        survey (what citizens see), each with its counts as the public page may show them."""
        sql = (
            "SELECT analysis_id, version, survey_id, question_id, published_at, published_by, total, themes"
            " FROM theme_summaries WHERE "
        )
        sql += "analysis_id = ?" if analysis_id else "survey_id = ?"
        rows = self.db.query(sql + " ORDER BY published_at, version", (analysis_id or survey_id,))
        every = [
            ThemeSummary(a, int(v), s, q, at, by, int(n), _PUBLISHED.decode(t)) for a, v, s, q, at, by, n, t in rows
        ]
        if analysis_id is not None:
            return every[::-1]
        latest: list[ThemeSummary] = []
        for question_id in dict.fromkeys(s.question_id for s in every):
            history = [s for s in every if s.question_id == question_id]
            shown = public_counts_over([(s.total, s.themes, self._members_at(s)) for s in history])
            history[-1].shown = shown[-1]
            latest.append(history[-1])  # older summaries of the question are replaced, yet still counted
        return latest[::-1]

    def _members_at(self, summary: ThemeSummary) -> dict[str, list[str]]:
        """Each published theme's opinions as they were when the summary was published."""
        view = self.analysis(summary.analysis_id)
        if view is None:
            return {}
        before = [e for e in self.edits(summary.analysis_id) if e.version < summary.version]
        return {t.id: t.members for t in self.curated(view, before)}

    def lift(self, analysis: AnalysisView) -> list[LiftTable]:
        """Per segment, each theme × value: the shown count of `breakdown`, and where it is shown,
        its lift against all analysed respondents with a Bonferroni-corrected binomial test.

        Only shown numbers go in: the lift of a cell is its count over the theme's size times the
        value's share, all three on the page, so it tells nothing the counts do not; hidden cells
        get no lift and no p-value."""
        breakdown = self.breakdown(analysis)
        if not breakdown:
            return []
        totals = self._value_totals(analysis)
        everyone = sum(totals.get("ward", {}).values())
        tables = []
        for segment in next(iter(breakdown.values())):
            values = breakdown[analysis.themes[0].id][segment]
            m = len(analysis.themes) * len(values)
            columns = []
            for c in values:
                n_v = totals.get(segment, {}).get(c.value, 0)
                share = f"{100 * n_v / everyone:.1f}%" if everyone and n_v >= MIN_CELL else SUPPRESSED
                columns.append((c.value, c.label, share))
            rows = []
            for theme in analysis.themes:
                cells = []
                for c in breakdown[theme.id][segment]:
                    n_v = totals.get(segment, {}).get(c.value, 0)
                    if isinstance(c.count, str) or not everyone or n_v < MIN_CELL or not theme.size:
                        cells.append(LiftCell(c.value, c.label, c.count, None, None, ""))
                        continue
                    expected = theme.size * n_v / everyone
                    lift = c.count / expected
                    p = min(1.0, _binomial_two_sided(c.count, theme.size, n_v / everyone) * m)
                    mark = ("+" if lift > 1 else "-") if p < ALPHA else ""
                    cells.append(LiftCell(c.value, c.label, c.count, round(lift, 2), round(p, 4), mark))
                rows.append((theme.id, theme.label, cells))
            tables.append(LiftTable(segment, columns, rows, m))
        return tables

    def _value_totals(self, analysis: AnalysisView) -> dict[str, dict[str, int]]:
        """How many of the analysed respondents have each segment value (the baseline)."""
        analysed = {m for t in analysis.themes for m in t.members}
        totals: dict[str, dict[str, int]] = {"ward": Counter(), "age_band": Counter(), "children": Counter()}
        for rid, ward, age, kids in self.db.query(
            "SELECT response_id, ward, age_band, has_children FROM free_text_answers"
            " WHERE survey_id = ? AND question_id = ?",
            (analysis.survey_id, analysis.question_id),
        ):
            if rid in analysed:
                totals["ward"][ward or UNKNOWN] += 1
                totals["age_band"][age or UNKNOWN] += 1
                totals["children"][UNKNOWN if kids is None else ("yes" if kids else "no")] += 1
        return totals

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


def public_counts(total: int, themes: list[PublishedTheme]) -> dict[str, int | str]:
    """One summary's counts as the public page shows them (see public_counts_over)."""
    return public_counts_over([(total, themes, {})])[0]


def public_counts_over(
    history: list[tuple[int, list[PublishedTheme], dict[str, list[str]]]],
) -> list[dict[str, int | str]]:
    """The counts of each summary of one question, in the order published, as the public page
    shows them: the neutral mark where a count is under MIN_CELL, or where the total, the other
    counts, or those of an earlier summary (someone may have kept that page) would give it away.

    Two kinds of equations. Within a summary, the total is the sum of the counts, as if no opinion
    were in two themes: the strictest case, so overlaps only make it safer. Across summaries (a
    theme renamed, merged or split since, or another analysis of the same answers), each count is
    the sum of "atoms": the opinions sharing one pattern of membership in every published theme.
    Atoms are never shown; a count is safe when no combination of shown numbers gives it alone.
    Earlier summaries stay as they were published: only the newest one's counts can be hidden more.
    """
    shown_before: list[dict[str, int | str]] = []
    hidden: set[Any] = set()
    for i, (_, themes, _) in enumerate(history):
        equations = []
        atoms: dict[str, set[Any]] = {}  # opinion -> the cells it counts in
        for j, (_, earlier, members) in enumerate(history[: i + 1]):
            equations.append(line(("total", j), [("count", j, t.id) for t in earlier]))
            for theme_id, ids in members.items():
                for m in ids:
                    atoms.setdefault(m, set()).add(("count", j, theme_id))
        by_pattern: dict[frozenset[Any], str] = {}
        for cells in atoms.values():
            by_pattern.setdefault(frozenset(cells), f"atom{len(by_pattern)}")
        for j, (_, earlier, members) in enumerate(history[: i + 1]):
            if not members:
                continue
            in_j = [a for pattern, a in by_pattern.items() if any(c[1] == j for c in pattern)]
            equations.append(line(("total", j), [("atom", a) for a in in_j]))
            for t in earlier:
                cell = ("count", j, t.id)
                equations.append(line(cell, [("atom", a) for pattern, a in by_pattern.items() if cell in pattern]))
        hidden |= {("atom", a) for a in by_pattern.values()}
        current = {("count", i, t.id): t.count for t in themes}
        hidden |= {cell for cell, n in current.items() if n < MIN_CELL}
        cost = {cell: (n, k) for k, (cell, n) in enumerate(current.items())}
        _protect_counts(equations, hidden, cost)
        shown_before.append({t.id: SUPPRESSED if ("count", i, t.id) in hidden else t.count for t in themes})
    return shown_before


def _protect_counts(equations: list[dict[Any, int]], hidden: set[Any], cost: dict[Any, Any]) -> None:
    """Hides the cheapest shown cells of `cost` until no hidden count (atoms aside: they are no
    figure anyone reads) follows from the equations."""
    while True:
        given_away = {k: row for k, row in determined(equations, hidden).items() if k[0] == "count"}
        if not given_away:
            return
        for row in given_away.values():
            candidates = [k for k in row if k in cost and k not in hidden]
            if not candidates:  # only earlier summaries are involved: hide all of the newest
                hidden |= set(cost)
                return
            hidden.add(min(candidates, key=cost.__getitem__))
            break


def _binomial_two_sided(k: int, n: int, p: float) -> float:
    """P-value of k successes in n trials with probability p, two-sided (the probabilities of
    all outcomes no more likely than k), as scipy.stats.binomtest computes it."""
    from scipy.stats import binomtest

    if n == 0 or p <= 0 or p >= 1:
        return 1.0
    return float(binomtest(k, n, p).pvalue) if not math.isnan(p) else 1.0


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
