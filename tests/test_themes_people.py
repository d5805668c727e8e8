"""Themes for people (issue 12): labels a person would write, staff edits (rename, merge, split) as
events on top of the machine's analysis, and a curated summary published to citizens under the
small-cell rule, on a cached public page."""

from uuid import UUID, uuid4

import pytest

from domain.errors import InvalidCommand, NotAllowed
from domain.theme_curation import merge_themes, publish_theme_summary, rename_theme, split_theme
from domain.themes import AnalysisModel, DuplicateGroup, PublishedTheme, ThemeAnalysis, ThemeNode, ThemeQuote
from domain.values import Role
from ml.labels import phrase_label
from projections.segments import SUPPRESSED
from projections.storage import Storage
from projections.suppression import line
from projections.themes import public_counts
from tests.conftest import PASSWORD_HASH, Client, World
from tests.support.adversary import Adversary
from web.themes import opinions_for

MODEL = AnalysisModel(name="intfloat/multilingual-e5-small", version="test-1", dim=384)


def node(theme_id: str, members: list[str], label: str = "保育・待機児童・定員", **extra: object) -> ThemeNode:
    return ThemeNode(
        id=theme_id,
        label=label,
        keywords=["保育", "待機児童"],
        size=len(members),
        members=members,
        quotes=[ThemeQuote(members[0])],
        units=[f"{m}#0" for m in members],
        **extra,  # type: ignore[arg-type]
    )


def analysis(themes: list[ThemeNode]) -> ThemeAnalysis:
    ids = [m for t in themes for m in t.members]
    return ThemeAnalysis(
        corpus=f"survey:{uuid4()}:q1",
        survey_id=uuid4(),
        question_id="q1",
        requested_by=uuid4(),
        input_ids=list(dict.fromkeys(ids)),
        model=MODEL,
        params={},
        seed=0,
        themes=themes,
    )


# --- labels -----------------------------------------------------------------------------------


def test_phrase_label_is_the_first_sentence_cut_at_a_natural_boundary() -> None:
    assert phrase_label("公園のトイレをきれいにしてほしい。毎日使うので。") == "公園のトイレをきれいにしてほしい"
    cut = phrase_label("駅前の駐輪場が足りず、いつも歩道に自転車があふれていて危ないと感じています")
    assert cut == "駅前の駐輪場が足りず…"
    assert phrase_label("ゴミ出しのルールが地区ごとに違っていてわかりにくいです") == "ゴミ出しのルール…"
    # Never inside brackets, and English is cut at a space.
    bracketed = phrase_label("「子ども食堂」や「学習支援」の取り組みをもっと広げてほしいと思います")
    assert bracketed == "「子ども食堂」や「学習支援」の取り組み…"
    assert phrase_label("We need more buses in the evening because the last one leaves too early.").endswith(" in…")


# --- the aggregate ----------------------------------------------------------------------------


def test_rename_merge_and_split_are_events_that_leave_the_machines_themes_as_they_were() -> None:
    a = analysis([node("t1", ["a", "b", "c", "d"]), node("t2", ["e", "f"]), node("t3", ["g", "h", "a"])])
    staff = uuid4()
    a.rename_theme(staff, "t1", "  保育園に 入れない  ")
    a.merge_themes(staff, ["t3", "t2"], "交通と移動")
    a.split_theme(staff, "t1", ["b"], "病児保育")
    events = a.collect_events()
    assert [type(e).__name__ for e in events] == ["Completed", "ThemeRenamed", "ThemesMerged", "ThemeSplit"]
    assert all(getattr(e, "edited_by", staff) == staff for e in events[1:])
    assert [t.label for t in a.themes] == ["保育・待機児童・定員"] * 3  # the machine's output, untouched
    assert [(t.id, t.label, t.members) for t in a.curated] == [
        ("t1", "保育園に 入れない", ["a", "c", "d"]),
        ("h1", "病児保育", ["b"]),
        ("t2", "交通と移動", ["e", "f", "g", "h", "a"]),  # kept in the place of the first shown
    ]
    assert a.curated[2].size == 5  # "a" is in both merged themes: counted once


def test_edits_that_break_a_rule_are_refused() -> None:
    a = analysis([node("t1", ["a", "b", "c"], duplicates=[DuplicateGroup("a", ["a", "b"], True)]), node("t2", ["d"])])
    staff = uuid4()
    for bad in (
        lambda: a.rename_theme(staff, "t1", "   "),
        lambda: a.rename_theme(staff, "t1", "長" * 41),
        lambda: a.rename_theme(staff, "nope", "名前"),
        lambda: a.merge_themes(staff, ["t1"], "ひとつ"),
        lambda: a.merge_themes(staff, ["t1", "t1"], "同じ"),
        lambda: a.split_theme(staff, "t1", [], "空"),
        lambda: a.split_theme(staff, "t1", ["d"], "よそ"),
        lambda: a.split_theme(staff, "t1", ["a", "c"], "全部"),  # b follows a (同趣旨): nothing would stay
        lambda: a.publish_summary(staff, {"t1": "長" * 401}),
        lambda: a.publish_summary(staff, {"zz": "ない"}),
    ):
        with pytest.raises(InvalidCommand):
            bad()
    assert len(a.collect_events()) == 1
    a.split_theme(staff, "t1", ["b"], "コピーごと")  # a copy takes its whole 同趣旨 group along
    assert [t.members for t in a.curated] == [["c"], ["a", "b"], ["d"]]


def test_public_counts_hide_small_themes_and_whatever_subtraction_would_reveal() -> None:
    themes = [PublishedTheme("t1", "A", "", 12), PublishedTheme("t2", "B", "", 4), PublishedTheme("t3", "C", "", 6)]
    shown = public_counts(22, themes)
    assert shown == {"t1": 12, "t2": SUPPRESSED, "t3": SUPPRESSED}
    adversary = Adversary()
    adversary.equation(line("total", ["t1", "t2", "t3"]))
    adversary.known = {"total": 22, **{k: v for k, v in shown.items() if v != SUPPRESSED}}  # type: ignore[dict-item]
    adversary.hidden = {"t2", "t3"}
    assert adversary.recovered_by_subtraction() == {} and adversary.determined() == set()
    assert public_counts(20, [PublishedTheme("t1", "A", "", 12), PublishedTheme("t2", "B", "", 8)]) == {
        "t1": 12,
        "t2": 8,
    }


# --- storage, both engines --------------------------------------------------------------------

TEXTS = [f"保育園の定員を増やしてほしい（{i}）" for i in range(12)] + [f"バスの本数が少ない（{i}）" for i in range(10)]


def recorded(world: World, storage: Storage, results_published: bool = True) -> tuple[UUID, UUID, list[str]]:
    """A survey with one free-text question, 22 answers, and an analysis with themes of 12, 4 and 6."""
    app = storage.app
    survey = app.draft_survey(staff_id=world.staff, title="まちの意見募集", description="説明")
    question = app.add_question(survey, staff_id=world.staff, kind="text", text="市へのご意見", max_length=500)
    app.publish_survey(survey, staff_id=world.staff)
    for text in TEXTS:
        (person,) = world.citizens(1)
        app.submit_response(survey, person, {question: text})
    storage.projector.catch_up()
    corpus = f"survey:{survey}:{question}"
    ids = [rid for rid, _ in opinions_for(storage, corpus)]
    themes = [node("t1", ids[:12]), node("t2", ids[12:16], "バス・本数"), node("t3", ids[16:], "本数・路線")]
    analysis_id = app.record_theme_analysis(
        corpus=corpus, staff_id=world.staff, input_ids=ids, model=MODEL, params={}, seed=0, themes=themes
    )
    if results_published:
        app.close_survey(survey, staff_id=world.staff)
        app.publish_results(survey, staff_id=world.staff)
    storage.projector.catch_up()
    return survey, analysis_id, ids


def test_edits_and_summaries_are_projected_and_replay_like_the_aggregate(world: World, storage: Storage) -> None:
    survey, analysis_id, ids = recorded(world, storage)
    app = storage.app
    rename_theme(app, analysis_id, staff_id=world.staff, theme_id="t1", label="保育園の定員")
    split_theme(app, analysis_id, staff_id=world.staff, theme_id="t1", opinion_ids=ids[:2], label="保育の質")
    merge_themes(app, analysis_id, staff_id=world.staff, theme_ids=["t2", "t3"], label="バスの便")
    publish_theme_summary(app, analysis_id, staff_id=world.staff, summaries={"t1": "定員の拡大を求める声", "h1": ""})
    storage.projector.catch_up()

    view = storage.themes.analysis(str(analysis_id))
    assert view is not None and [t.label for t in view.themes] == ["保育・待機児童・定員", "バス・本数", "本数・路線"]
    edits = storage.themes.edits(str(analysis_id))
    assert [e.kind for e in edits] == ["renamed", "split", "merged"]
    assert {e.edited_by for e in edits} == {str(world.staff)}
    curated = storage.themes.curated(view, edits)
    assert curated == app.get_theme_analysis(analysis_id).curated
    assert [(t.label, t.size) for t in curated] == [("保育園の定員", 10), ("保育の質", 2), ("バスの便", 10)]
    assert edits[0].labels_before["t1"] == "保育・待機児童・定員"

    (summary,) = storage.themes.summaries(survey_id=str(survey))
    assert summary.total == 22 and [(t.label, t.summary, t.count) for t in summary.themes] == [
        ("保育園の定員", "定員の拡大を求める声", 10),
        ("保育の質", "", 2),
        ("バスの便", "", 10),
    ]
    # 2 is small, and either 10 would give it away (22 - 10 - 10): one of them is hidden too.
    assert summary.shown["h1"] == SUPPRESSED and sorted(map(str, summary.shown.values())) == ["10", "x", "x"]


def test_a_new_summary_hides_what_subtracting_an_earlier_one_would_reveal(world: World, storage: Storage) -> None:
    survey, analysis_id, ids = recorded(world, storage)
    app = storage.app
    publish_theme_summary(app, analysis_id, staff_id=world.staff, summaries={})
    storage.projector.catch_up()
    (first,) = storage.themes.summaries(survey_id=str(survey))
    assert first.shown == {"t1": 12, "t2": SUPPRESSED, "t3": SUPPRESSED}
    # Two opinions split off t1 and published again: 12 then 10 would say the new theme holds 2.
    split_theme(app, analysis_id, staff_id=world.staff, theme_id="t1", opinion_ids=ids[:2], label="保育の質")
    publish_theme_summary(app, analysis_id, staff_id=world.staff, summaries={})
    storage.projector.catch_up()
    (second,) = storage.themes.summaries(survey_id=str(survey))
    assert second.version > first.version and [t.count for t in second.themes] == [10, 2, 4, 6]

    adversary = Adversary()  # who kept the first page, and knows how the themes changed
    adversary.equation(line(("total", 0), [("old", t) for t in ("t1", "t2", "t3")]))
    adversary.equation(line(("total", 1), [("new", t) for t in ("t1", "h1", "t2", "t3")]))
    adversary.equation(line(("old", "t1"), [("new", "t1"), ("new", "h1")]))
    adversary.equation(line(("old", "t2"), [("new", "t2")]))
    adversary.equation(line(("old", "t3"), [("new", "t3")]))
    adversary.known = {("total", 0): 22, ("total", 1): 22}
    for key, summary in (("old", first), ("new", second)):
        for theme_id, value in summary.shown.items():
            if value == SUPPRESSED:
                adversary.hidden.add((key, theme_id))
            else:
                adversary.known[(key, theme_id)] = value  # type: ignore[assignment]
    assert ("new", "h1") in adversary.hidden
    assert adversary.recovered_by_subtraction() == {} and adversary.determined() == set()


def test_only_the_departments_staff_edit_and_only_published_results_get_a_summary(
    world: World, storage: Storage
) -> None:
    survey, analysis_id, _ = recorded(world, storage, results_published=False)
    other = storage.app.sign_up(
        email="other@example.jp", display_name="他", password_hash=PASSWORD_HASH, role=Role.STAFF, department="道路課"
    )
    with pytest.raises(NotAllowed):
        rename_theme(storage.app, analysis_id, staff_id=other, theme_id="t1", label="横取り")
    with pytest.raises(InvalidCommand):
        publish_theme_summary(storage.app, analysis_id, staff_id=world.staff, summaries={})
    storage.projector.catch_up()
    assert storage.themes.edits(str(analysis_id)) == [] and storage.themes.summaries(survey_id=str(survey)) == []


# --- the web ----------------------------------------------------------------------------------


def test_staff_rename_merge_split_and_publish_through_http(client: Client, world: World, storage: Storage) -> None:
    survey, analysis_id, ids = recorded(world, storage)
    citizen = Client(app=client.app, base_url="http://testserver.local")
    with citizen:
        before = citizen.get(f"/surveys/{survey}/themes")
        assert before.status_code == 200 and "テーマのまとめはまだ公表されていません" in before.text
        assert "public" in before.headers["cache-control"]
        cached = citizen.get(f"/surveys/{survey}/themes", headers={"if-none-match": before.headers["etag"]})
        assert cached.status_code == 304  # the page is cached until the read models move
        results = citizen.get(f"/surveys/{survey}/results")
        assert f'href="/surveys/{survey}/themes"' not in results.text  # no link to a summary nobody published

        client.login("staff@example.jp")
        base = f"/staff/themes/{analysis_id}"
        page = client.get(base)
        assert page.status_code == 200
        assert "保育園の定員を増やしてほしい（0）" in page.text  # a phrase of the central opinion labels t1
        assert "まだ編集はありません" in page.text and "市へのご意見" in page.text
        assert "spectral" not in page.text.split("再現のための技術情報")[0]

        no_csrf = client.post(f"{base}/rename", data={"theme_id": "t1", "label": "x"}, follow_redirects=False)
        assert no_csrf.status_code == 403
        assert client.submit(f"{base}/rename", {"theme_id": "t1", "label": ""}).status_code in (400, 422)
        assert client.submit(f"{base}/rename", {"theme_id": "t1", "label": "保育園の定員"}).status_code == 303
        assert client.submit(f"{base}/merge", {"theme_ids": ["t2", "t3"], "label": "バスの便"}).status_code == 303
        split = client.submit(f"{base}/split", {"theme_id": "t1", "opinion_ids": ids[:2], "label": "保育の質"})
        assert split.status_code == 303

        page = client.get(base)
        assert "保育園の定員" in page.text and "機械の案: 保育園の定員を増やしてほしい（0）" in page.text
        assert page.text.count('data-testid="machine-label"') == 2  # not for the theme staff made
        history = page.text.split('data-testid="edit-history"')[1].split("</ol>")[0]
        assert "「保育園の定員を増やしてほしい（0）」の名前を「保育園の定員」に変更" in history
        assert "「バスの本数が少ない（0）」「バスの本数が少ない（4）」を「バスの便」にまとめた" in history
        assert "新しいテーマ「保育の質」に分けた" in history and "職員（子育て支援課）" in history
        assert "T" not in history.split("</li>")[0].split(":")[0]  # Japan time, no ISO stamp

        published = client.submit(
            f"{base}/publish", {"summary_t1": "定員の拡大を求める声が多数", "summary_h1": "", "summary_t2": "夜の便"}
        )
        assert published.status_code == 303
        assert client.submit(f"{base}/publish", {"summary_t1": "長" * 401}).status_code in (400, 422)

        assert f'href="/surveys/{survey}/themes"' in citizen.get(f"/surveys/{survey}/results").text
        after = citizen.get(f"/surveys/{survey}/themes", headers={"if-none-match": before.headers["etag"]})
        assert after.status_code == 200 and "定員の拡大を求める声が多数" in after.text  # publishing changed it
        themes = after.text.split('data-testid="public-theme"')[1:]
        assert f"（{SUPPRESSED}）" in themes[1] and sum("（10件）" in t for t in themes) == 1
        for text in TEXTS:  # never an opinion
            assert text not in after.text
        assert "子育て支援課" in after.text and "市へのご意見" in after.text

        english = citizen.get(f"/surveys/{survey}/themes", headers={"accept-language": "en"})
        assert '<html lang="en"' in english.text and "Themes of the opinions received" in english.text


def test_another_departments_staff_cannot_edit_and_drafts_have_no_public_themes(
    client: Client, world: World, storage: Storage
) -> None:
    survey, analysis_id, _ = recorded(world, storage, results_published=False)
    assert client.get(f"/surveys/{survey}/themes").status_code in (403, 404)
    storage.app.sign_up(
        email="other@example.jp", display_name="他", password_hash=PASSWORD_HASH, role=Role.STAFF, department="道路課"
    )
    client.login("other@example.jp")
    refused = client.submit(f"/staff/themes/{analysis_id}/rename", {"theme_id": "t1", "label": "横取り"})
    assert refused.status_code == 403
    storage.projector.catch_up()
    assert storage.themes.edits(str(analysis_id)) == []
