"""Published figures give no hidden cell away: an attacker's every subtraction, checked exhaustively.

The checker reads only what is published (a SurveyResults, a theme breakdown) and writes down every
equation a reader can: segment values add up to the whole ("unknown" included), buckets of single
choice, scale and number questions add up to their column, each bucket line across segment values
adds up to the overall bucket (multiple choice too), sums (mean × respondents) add up across segment
values and, for a scale or a one-bin-per-value number, equal the weighted counts; a shown percent
ties a count to its respondents; a required question's respondents are the survey's. It then
(1) subtracts along every line until nothing new comes out, and (2) solves the whole system exactly,
and asserts that no hidden value is determined either way.
"""

import csv
import io
import random
from fractions import Fraction
from typing import Any
from uuid import UUID

import msgspec

from domain.questions import AnyQuestion, Number, Scale
from domain.themes import AnalysisModel, ThemeNode, ThemeQuote
from domain.values import AgeBand, Ward
from projections.results import (
    Column,
    Figures,
    QuestionResult,
    SurveyResults,
    hidden_cells,
    shown_column,
)
from projections.segments import MIN_CELL, SEGMENT_VALUES, SUPPRESSED, SUPPRESSED_LEGEND
from projections.storage import Storage
from projections.surveys import number_bins
from projections.themes import SegmentCount
from tests.conftest import Client, World
from tests.support.adversary import Adversary
from web.charts import HIDDEN_COLOUR, bar_chart, stacked_chart

Key = tuple[Any, ...]
BREAKDOWNS = ("ward", "age_band", "children")


class System(Adversary):
    """What a reader of the published figures knows: equations (Σ coefficient × cell = 0), the
    values shown, and the cells hidden from them."""

    def total(self, whole: Key, parts: list[Key], weights: list[Any] | None = None) -> None:
        terms: dict[Key, Any] = {whole: 1}
        for i, part in enumerate(parts):
            terms[part] = terms.get(part, 0) - (weights[i] if weights else 1)
        self.equation(terms)

    def cell(self, key: Key, value: Any) -> None:
        if isinstance(value, int):
            self.known[key] = Fraction(value)
        else:
            assert value == SUPPRESSED, (key, value)
            self.hidden.add(key)

    def assert_nothing_recoverable(self) -> None:
        assert self.hidden, "nothing is hidden: the layout tests nothing"
        assert self.recovered_by_subtraction() == {}
        assert self.determined() == set()


def weights_of(question: AnyQuestion) -> list[int] | None:
    if isinstance(question, Scale):
        return [1, 2, 3, 4, 5]
    if isinstance(question, Number) and all(lo == hi for lo, hi in number_bins(question)):
        return [int(lo) for lo, _ in number_bins(question)]
    return None


def add_question(system: System, q: QuestionResult, weights: list[int] | None, required: bool) -> None:
    partitioned = q.kind in ("single", "scale", "number")
    has_mean = q.kind in ("scale", "number")

    def key(col: Column, what: str, bucket: int | None = None) -> Key:
        return (q.id, col.segment, col.value, what, bucket)

    for col in [q.overall, *(c for cs in q.breakdowns.values() for c in cs)]:
        n = key(col, "n")
        system.cell(n, col.respondents)
        counts = [key(col, "c", b) for b in range(len(col.counts))]
        for c, count, percent in zip(counts, col.counts, col.percents, strict=True):
            system.cell(c, count)
            if percent is not None:  # 100 × count = percent × respondents
                system.equation({c: 100, n: -Fraction(str(percent))})
        if has_mean:
            s = key(col, "s")
            if col.mean is None:
                system.hidden.add(s)
            elif n in system.known:
                system.known[s] = Fraction(str(col.mean)) * system.known[n]
            else:
                system.equation({s: 1, n: -Fraction(str(col.mean))})
            if weights is not None:
                system.total(s, counts, weights)
        if partitioned:
            system.total(n, counts)
        if required:
            system.equation({n: 1, ("survey", col.segment, col.value): -1})
    for columns in q.breakdowns.values():
        system.total(key(q.overall, "n"), [key(c, "n") for c in columns])
        for b in range(len(q.buckets)):
            system.total(key(q.overall, "c", b), [key(c, "c", b) for c in columns])
        if has_mean:
            system.total(key(q.overall, "s"), [key(c, "s") for c in columns])


def results_system(results: SurveyResults, questions: list[AnyQuestion]) -> System:
    system = System()
    if isinstance(results.respondents, int):
        system.known[("survey", "all", "all")] = Fraction(results.respondents)
    by_id = {q.id: q for q in questions}
    for q in results.questions:
        add_question(system, q, weights_of(by_id[q.id]), by_id[q.id].required)
    return system


def theme_system(
    themes: list[ThemeNode], breakdown: dict[str, dict[str, list[SegmentCount]]], totals: dict[Key, int]
) -> System:
    """Rows are themes (their sizes shown), columns segment values; each column adds up to the
    free-text answers of that value, which a reader is assumed to know."""
    system = System()
    for segment in BREAKDOWNS:
        values = [c.value for c in breakdown[themes[0].id][segment]]
        for theme in themes:
            row = breakdown[theme.id][segment]
            assert [c.value for c in row] == values
            cells = [("theme", theme.id, segment, c.value) for c in row]
            for cell, c in zip(cells, row, strict=True):
                system.cell(cell, c.count)
            system.known[("size", theme.id)] = Fraction(theme.size)
            system.total(("size", theme.id), cells)
        for value in values:
            system.known[("total", segment, value)] = Fraction(totals.get((segment, value), 0))
            system.total(("total", segment, value), [("theme", t.id, segment, value) for t in themes])
    return system


def answer(world: World, n: int, answers: dict[str, Any], **attrs: Any) -> list[UUID]:
    return [
        world.storage.app.submit_response(world.survey, person, world.valid_answers(**answers))
        for person in world.citizens(n, **attrs)
    ]


def published(world: World, storage: Storage) -> SurveyResults:
    storage.projector.catch_up()
    survey = storage.catalogue.survey(str(world.survey))
    assert survey is not None
    results = storage.results.of(survey)
    results_system(results, survey.questions).assert_nothing_recoverable()
    return results


def column(results: SurveyResults, question: str, segment: str, value: str) -> Column:
    (q,) = [q for q in results.questions if q.id == question]
    (col,) = [c for c in q.breakdowns[segment] if c.value == value]
    return col


def assert_hidden_whole(col: Column) -> None:
    assert col.respondents == SUPPRESSED
    assert set(col.counts) <= {SUPPRESSED} and set(col.percents) <= {None} and col.mean is None


# ---- the mark --------------------------------------------------------------------------------


def test_every_hidden_cell_has_one_neutral_mark_with_its_legend() -> None:
    assert SUPPRESSED == "x" and MIN_CELL == 5
    assert SUPPRESSED_LEGEND == "x: 5人未満、または逆算防止のため非表示"


def test_the_checker_finds_the_leaks_the_issue_measured() -> None:
    """The old rule, by hand: a ward of one hidden, and 中央 hidden only by its respondents, whose
    percents and mean stayed visible. The checker must find both wards' figures."""
    buckets = ["1", "2", "3", "4", "5"]
    overall = Column(segment="all", value="all", label="全体", respondents=11, counts=[SUPPRESSED, 0, 0, 10, 0],
                     percents=[None] * 5, mean=3.73)  # fmt: skip
    chuo = Column(segment="ward", value="chuo", label="中央", respondents=SUPPRESSED, counts=[0, 0, 0, 10, 0],
                  percents=[0.0, 0.0, 0.0, 100.0, 0.0], mean=4.0)  # fmt: skip
    muko = Column(segment="ward", value="muko", label="武庫", respondents=SUPPRESSED, counts=[SUPPRESSED] * 5,
                  percents=[None] * 5)  # fmt: skip
    q = QuestionResult(id="q", text="満足度", kind="scale", buckets=buckets, overall=overall,
                       breakdowns={"ward": [chuo, muko]})  # fmt: skip
    system = System()
    add_question(system, q, [1, 2, 3, 4, 5], required=False)
    recovered = system.recovered_by_subtraction()
    assert recovered[("q", "ward", "muko", "n", None)] == 1  # 11 − 10: the percents gave 中央's 10
    assert round(recovered[("q", "ward", "muko", "s", None)]) == 1  # his answer: 3.73 × 11 − 4.0 × 10
    assert ("q", "ward", "muko", "c", 0) in system.determined()


# ---- the rule on many layouts, without storage ------------------------------------------------


WARDS = [w.value for w in Ward] + ["unknown"]
AGES = [a.value for a in AgeBand] + ["unknown"]


def _figures(kind: str, people: list[tuple[tuple[str, str, str], Any]], buckets: int, weight: list[int] | None) -> Any:
    def column_of(segment: str, value: str, members: list[Any]) -> Figures:
        counts = [0] * buckets
        total = 0.0
        for answer in members:
            for b in answer if isinstance(answer, list) else [answer]:
                counts[b] += 1
            if weight is not None:
                total += weight[answer]
        return Figures(segment, value, value, len(members), counts, total)

    overall = column_of("all", "all", [a for _, a in people])
    breakdowns = {}
    for i, segment in enumerate(BREAKDOWNS):
        values = sorted({attrs[i] for attrs, _ in people})
        breakdowns[segment] = [column_of(segment, v, [a for attrs, a in people if attrs[i] == v]) for v in values]
    return overall, breakdowns


def test_random_layouts_leave_nothing_recoverable() -> None:
    rng = random.Random(20250)
    kinds = {"single": (4, None), "multiple": (3, None), "scale": (5, [1, 2, 3, 4, 5]), "number": (4, [0, 1, 2, 3])}
    hidden_means = 0
    for trial in range(240):
        kind = list(kinds)[trial % 4]
        buckets, weights = kinds[kind]
        size = rng.choice([3, 6, 9, 14, 25, 40, 80])
        # A few big wards and a tail of small ones, skewed answers: small cells everywhere.
        wards = rng.sample(WARDS, rng.randint(1, 5))
        people = []
        for _ in range(size):
            attrs = (
                rng.choices(wards, weights=[2**-i for i in range(len(wards))])[0],
                rng.choice(AGES[: rng.randint(1, len(AGES))]),
                rng.choice(["yes", "no", "unknown"]),
            )
            if kind == "multiple":
                a: Any = sorted(set(rng.choices(range(buckets), weights=[6, 2, 1], k=rng.randint(1, 2))))
            else:
                a = rng.choices(range(buckets), weights=[1, 8, 3, 1, 6][:buckets])[0]
            people.append((attrs, a))
        overall, breakdowns = _figures(kind, people, buckets, weights)
        has_mean = weights is not None
        hidden = hidden_cells(overall, breakdowns, partitioned=kind != "multiple", has_mean=has_mean, weights=weights)
        q = QuestionResult(
            id="q",
            text="?",
            kind=kind,
            buckets=[str(b) for b in range(buckets)],
            overall=shown_column(overall, hidden, has_mean),
            breakdowns={s: [shown_column(f, hidden, has_mean) for f in fs] for s, fs in breakdowns.items()},
        )
        system = System()
        add_question(system, q, weights, required=True)
        assert system.recovered_by_subtraction() == {}, (trial, q)
        assert system.determined() == set(), (trial, q)
        if size >= MIN_CELL:
            assert q.overall.respondents == size  # the whole stays visible
            hidden_means += has_mean and q.overall.mean is None
        for columns in q.breakdowns.values():
            for col in columns:
                if col.respondents == SUPPRESSED:
                    assert_hidden_whole(col)
    assert hidden_means == 0  # the overall mean was never needed to hide anything here


# ---- adversarial surveys, on both engines -----------------------------------------------------


def test_a_single_respondent_in_a_ward_cannot_be_recovered(world: World, storage: Storage) -> None:
    for i in range(12):
        answer(world, 1, {world.q_single: i % 2, world.q_scale: 3 + i % 3, world.q_number: i % 4},
               ward=Ward.ODA, age_band=AgeBand.AGE_30S, has_children=True)  # fmt: skip
    for i in range(9):
        answer(world, 1, {world.q_single: 0, world.q_scale: 4 + i % 2, world.q_multi: [0]},
               ward=Ward.TACHIBANA, age_band=AgeBand.AGE_40S, has_children=False)  # fmt: skip
    answer(world, 1, {world.q_single: 2, world.q_scale: 1, world.q_number: 7, world.q_multi: [1]},
           ward=Ward.MUKO, age_band=AgeBand.AGE_70_PLUS, has_children=True)  # fmt: skip
    results = published(world, storage)
    for q in (world.q_single, world.q_multi, world.q_scale, world.q_number, world.q_text):
        assert_hidden_whole(column(results, q, "ward", "muko"))
        assert_hidden_whole(column(results, q, "age_band", "70+"))
    scale = results.questions[2]
    assert results.respondents == 22 and scale.overall.respondents == 22 and scale.overall.mean is not None


def test_two_small_wards_hide_each_other_and_nothing_more_than_needed(world: World, storage: Storage) -> None:
    answer(world, 2, {world.q_scale: 2}, ward=Ward.MUKO)
    answer(world, 3, {world.q_scale: 5}, ward=Ward.SONODA)
    for i in range(15):
        answer(world, 1, {world.q_single: i % 3, world.q_scale: 1 + i % 5}, ward=Ward.ODA)
    results = published(world, storage)
    assert_hidden_whole(column(results, world.q_scale, "ward", "muko"))
    assert_hidden_whole(column(results, world.q_scale, "ward", "sonoda"))
    oda = column(results, world.q_scale, "ward", "oda")
    assert oda.respondents == 15  # two hidden wards cover each other: 小田 stays visible


def test_a_column_hidden_only_to_block_subtraction_hides_all_its_figures(world: World, storage: Storage) -> None:
    for i in range(40):
        answer(world, 1, {world.q_single: i % 3, world.q_scale: 1 + i % 5, world.q_number: i % 11}, ward=Ward.ODA)
    answer(world, 1, {world.q_single: 1, world.q_scale: 2}, ward=Ward.MUKO)
    results = published(world, storage)
    for q in (world.q_single, world.q_multi, world.q_scale, world.q_number, world.q_text):
        # 40 respondents: not small, yet the same mark, and no percent or mean to multiply back.
        assert_hidden_whole(column(results, q, "ward", "oda"))
    assert results.questions[2].overall.respondents == 41 and results.questions[2].overall.mean == 2.98


def test_scale_means_do_not_pin_down_two_small_buckets(world: World, storage: Storage) -> None:
    # 小田: 10×5, 8×4, 6×3 shown; 1×2 and 2×1 small. With 小田's respondents and mean shown, its
    # count and its sum would give both small buckets: so one more of its figures must go.
    for value, n in ((5, 10), (4, 8), (3, 6), (2, 1), (1, 2)):
        answer(world, n, {world.q_scale: value}, ward=Ward.ODA)
    for value, n in ((5, 10), (4, 10)):
        answer(world, n, {world.q_scale: value}, ward=Ward.TACHIBANA)
    results = published(world, storage)
    oda = column(results, world.q_scale, "ward", "oda")
    assert oda.respondents == 27
    assert oda.mean is None or oda.counts[2:].count(SUPPRESSED) >= 1


def test_theme_by_segment_table_gives_no_small_cell_away(client: Client, world: World, storage: Storage) -> None:
    app = storage.app
    people: dict[str, tuple[str, str, str]] = {}
    layout = [
        (Ward.ODA, AgeBand.AGE_30S, True, 13),
        (Ward.MUKO, AgeBand.AGE_40S, False, 7),
        (Ward.SONODA, None, None, 1),
    ]
    for ward, age, kids, n in layout:
        kids_value = "unknown" if kids is None else ("yes" if kids else "no")
        for rid in answer(world, n, {}, ward=ward, age_band=age, has_children=kids):
            people[str(rid)] = (ward.value, age.value if age else "unknown", kids_value)
    storage.projector.catch_up()
    ids = list(people)  # 13 小田, 7 武庫, 1 園田
    # 小田 splits 6, 6 and 1: its column total minus the two sixes would give the one away.
    members = [ids[0:6] + ids[13:18], ids[6:12] + ids[18:20] + ids[20:21], ids[12:13]]
    themes = [
        ThemeNode(id=f"t{i}", label=f"テーマ{i}", keywords=[], size=len(m), members=m, quotes=[ThemeQuote(id=m[0])])
        for i, m in enumerate(members)
    ]
    analysis_id = app.record_theme_analysis(
        survey_id=world.survey,
        question_id=world.q_text,
        staff_id=world.staff,
        input_ids=ids,
        model=AnalysisModel(name="test", version="1", dim=3),
        params={},
        seed=0,
        themes=themes,
    )
    storage.projector.catch_up()
    view = storage.themes.analysis(str(analysis_id))
    assert view is not None
    breakdown = storage.themes.breakdown(view)
    totals: dict[Key, int] = {}
    for attrs in people.values():
        for segment, value in zip(BREAKDOWNS, attrs, strict=True):
            totals[(segment, value)] = totals.get((segment, value), 0) + 1
    theme_system(themes, breakdown, totals).assert_nothing_recoverable()
    counts = [c.count for t in themes for cs in breakdown[t.id].values() for c in cs]
    assert any(isinstance(c, int) and c >= MIN_CELL for c in counts)  # not everything is hidden
    assert {c.value for c in breakdown["t0"]["ward"]} == {*SEGMENT_VALUES["ward"]} - {"unknown"}
    assert breakdown["t2"]["ward"][1].count == SUPPRESSED and breakdown["t0"]["ward"][1].count == SUPPRESSED  # 小田

    client.login("staff@example.jp")
    page = client.get(f"/staff/themes/{analysis_id}")
    assert page.status_code == 200 and SUPPRESSED_LEGEND in page.text and "<td>x</td>" in page.text


# ---- what the public sees ----------------------------------------------------------------------


def test_public_api_without_signing_in_reveals_no_hidden_cell(client: Client, world: World, storage: Storage) -> None:
    for i in range(14):
        answer(world, 1, {world.q_single: i % 3, world.q_scale: 2 + i % 4, world.q_number: i % 5},
               ward=Ward.ODA, age_band=AgeBand.AGE_30S)  # fmt: skip
    answer(world, 6, {world.q_scale: 5}, ward=Ward.TACHIBANA, age_band=AgeBand.AGE_50S)
    answer(world, 1, {world.q_single: 2, world.q_scale: 1, world.q_number: 9}, ward=Ward.MUKO)
    storage.app.close_survey(world.survey, staff_id=world.staff)
    storage.app.publish_results(world.survey, staff_id=world.staff)
    storage.projector.catch_up()

    response = client.get(f"/api/v1/surveys/{world.survey}/results")
    assert response.status_code == 200
    body = response.json()
    assert body["suppressed_mark"] == "x" and body["min_cell"] == 5
    results = msgspec.json.decode(response.content, type=SurveyResults)
    survey = storage.catalogue.survey(str(world.survey))
    assert survey is not None
    results_system(results, survey.questions).assert_nothing_recoverable()
    assert_hidden_whole(column(results, world.q_scale, "ward", "muko"))

    page = client.get(f"/surveys/{world.survey}/results?segment=ward")
    assert page.status_code == 200
    assert SUPPRESSED_LEGEND in page.text and "&lt;5" not in page.text and "<5" not in page.text


def test_public_response_counts_below_five_show_the_mark(client: Client, world: World, storage: Storage) -> None:
    answer(world, 3, {})
    storage.projector.catch_up()
    (listed,) = client.get("/api/v1/surveys").json()
    assert listed["response_count"] == "x"
    assert client.get(f"/api/v1/surveys/{world.survey}").json()["response_count"] == "x"
    assert "回答 x 件" in client.get("/").text

    storage.app.close_survey(world.survey, staff_id=world.staff)
    storage.app.publish_results(world.survey, staff_id=world.staff)
    storage.projector.catch_up()
    assert "回答 x 件" in client.get("/results").text
    assert "回答 x 件" in client.get("/").text
    survey = storage.catalogue.survey(str(world.survey))
    assert survey is not None and survey.response_count == 3  # staff's own view keeps the count
    (closed,) = client.get("/api/v1/surveys?status=closed").json()
    assert closed["response_count"] == "x"


def test_public_response_counts_of_five_or_more_are_exact(client: Client, world: World, storage: Storage) -> None:
    answer(world, 5, {})
    storage.projector.catch_up()
    (listed,) = client.get("/api/v1/surveys").json()
    assert listed["response_count"] == 5
    assert "回答 5 件" in client.get("/").text


def test_charts_draw_the_mark_as_hidden_in_grey() -> None:
    rows: list[tuple[str, list[float | None], int | str]] = [("小田", [60.0, None], 20), ("武庫", [None, None], "x")]
    stacked = str(stacked_chart("満足度", ["はい", "いいえ"], rows))
    grey = f'fill="{HIDDEN_COLOUR}"'
    assert stacked.count(grey) == 3  # 小田's hidden 40%, 武庫 throughout, and the legend's swatch
    assert SUPPRESSED_LEGEND in stacked and ">x</text>" in stacked
    bars = str(bar_chart("満足度", ["はい", "いいえ"], [12, "x"]))
    assert bars.count("<rect") == 1 and ">x</text>" in bars and SUPPRESSED_LEGEND in bars
    assert SUPPRESSED_LEGEND not in str(bar_chart("満足度", ["はい"], [12]))


# ---- CSV for Excel -----------------------------------------------------------------------------


def test_results_csv_keeps_formulas_as_text(client: Client, world: World, storage: Storage) -> None:
    app = storage.app
    survey = app.draft_survey(staff_id=world.staff, title='=HYPERLINK("https://example.com")', description="")
    app.add_question(
        survey,
        staff_id=world.staff,
        kind="single",
        text='=HYPERLINK("https://example.com","開く")',
        options=["=1+1", "+SUM(A1:A9)", "-2+3", "@cmd", "普通"],
    )
    app.add_question(survey, staff_id=world.staff, kind="number", text="気温", minimum=-5, maximum=5)
    app.publish_survey(survey, staff_id=world.staff)
    storage.projector.catch_up()
    client.login("staff@example.jp")
    response = client.get(f"/staff/surveys/{survey}/results.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    cells = [c for row in rows for c in row]
    assert '\'=HYPERLINK("https://example.com","開く")' in cells
    assert {"'=1+1", "'+SUM(A1:A9)", "'-2+3", "'@cmd", "普通"} <= set(cells)
    assert "'-5" in cells  # a number bin's label is text too
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
