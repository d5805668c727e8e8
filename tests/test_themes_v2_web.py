"""Themes v2 in the product: duplicate groups, opinions in several themes, segment lift under the
small-cell rule, and new opinions assigned to a recorded analysis (an event, projected, shown)."""

from typing import Any
from uuid import UUID

from domain.values import AgeBand, Ward
from ml.units import LONG_OPINION
from projections.segments import MIN_CELL, SUPPRESSED
from projections.storage import Storage
from projections.suppression import line
from tests.conftest import Client, World
from tests.support.adversary import Adversary
from web.themes import assign_new_opinions, opinions_for, run_analysis

PARK = "公園の遊具が古くなって危ないので、新しいものに取り替えてほしいです。"
BUS = "駅から市役所までのバスの本数が少なく、通勤や通院にとても不便です。"
OPINIONS = [
    PARK,
    "公園にもっと木陰とベンチがほしい。夏は暑くて子どもを遊ばせられません。",
    "ボール遊びができる広い公園を近くに作ってほしいです。",
    "公園のトイレが汚くて子どもが使えません。清掃を増やしてください。",
    BUS,
    "バスの路線が減って高齢の母が病院に行けなくなりました。",
    "駅前の駐輪場が足りず、いつも満車で困っています。",
    "夜のバスが早く終わるので、遅い勤務の帰りに困っています。",
    "保育園の空きが少なく、復職の見通しが立ちません。",
    "病児保育を増やしてほしい。仕事を休めない日があります。",
]
CAMPAIGN = [f"{ward}在住です。{BUS}強く要望します。" for ward in ("北区", "南区", "東区", "西区")] + [BUS + "！"]
LONG = (
    "公園の遊具が古くなっていて、子どもを遊ばせるのが心配です。新しい遊具に替えてください。"
    "砂場も汚れていて、猫のふんがあることもあります。定期的に清掃してほしいです。"
    "それから、駅から市役所までのバスの本数が少なすぎます。通院にも買い物にも不便です。"
    "せめて朝と夕方は一時間に三本は走らせてください。高齢の親は車を運転できません。"
    "バス停に屋根とベンチもなく、雨の日に長く待つのはつらいです。路線の見直しをお願いします。"
)


assert len(LONG) > LONG_OPINION


def long_text_survey(world: World, storage: Storage) -> tuple[UUID, str]:
    app = storage.app
    survey = app.draft_survey(staff_id=world.staff, title="まちづくり意見募集", description="説明")
    question = app.add_question(survey, staff_id=world.staff, kind="text", text="ご意見", max_length=2000)
    app.publish_survey(survey, staff_id=world.staff)
    return survey, question


def answer(world: World, storage: Storage, survey: UUID, question: str, texts: list[str], **attrs: Any) -> None:
    wards = list(Ward)
    for i, text in enumerate(texts):
        person_attrs = {"ward": wards[i % 2], "age_band": AgeBand.AGE_30S, **attrs}
        (person,) = world.citizens(1, **person_attrs)
        storage.app.submit_response(survey, person, {question: text})
    storage.projector.catch_up()


def test_page_shows_duplicate_groups_multi_theme_opinions_and_assignment(
    client: Client, world: World, storage: Storage
) -> None:
    survey, question = long_text_survey(world, storage)
    answer(world, storage, survey, question, OPINIONS + CAMPAIGN + [LONG])
    corpus = f"survey:{survey}:{question}"
    analysis_id = run_analysis(storage, corpus, world.staff, k=3)
    recorded = storage.app.get_theme_analysis(analysis_id)
    groups = [d for t in recorded.themes for d in t.duplicates]
    assert [len(g.members) for g in groups] == [6]  # BUS and its five campaign copies: 同趣旨 6件
    (long_id,) = [rid for rid, text in opinions_for(storage, corpus) if text == LONG]
    assert len([t for t in recorded.themes if long_id in t.members]) >= 2  # its park and bus points

    client.login("staff@example.jp")
    page = client.get(f"/staff/themes/{analysis_id}")
    assert page.status_code == 200
    assert "同趣旨 6件" in page.text and "同趣旨のまとまり 1 件" in page.text
    assert "ほかのテーマにもまたがる意見" in page.text and "複数のテーマにまたがる意見 1 件" in page.text
    assert "分析後に届いた意見 0 件をテーマに割り当てる" in page.text

    # Opinions arrive after the analysis: a campaign copy, one on a known theme, one on nothing known.
    later = [
        f"中区在住です。{BUS}よろしく。",
        "公園の遊具を新しくしてほしい。危ないです。",
        "市のマスコットキャラクターのデザインを公募で決めてはどうでしょうか。",
    ]
    answer(world, storage, survey, question, later)
    assert "分析後に届いた意見 3 件" in client.get(f"/staff/themes/{analysis_id}").text
    assigned = client.submit(f"/staff/themes/{analysis_id}/assign", {})
    assert assigned.status_code == 303 and assigned.headers["location"].endswith("#assignment")

    event = storage.app.get_theme_analysis(analysis_id)
    assert len(event.assignments) == 3 and recorded.themes == event.themes  # no re-clustering
    by_text = dict(zip(later, event.assignments, strict=True))
    bus_themes = [t.id for t in recorded.themes if any(g.representative for g in t.duplicates)]
    assert by_text[later[0]].duplicate_of and by_text[later[0]].themes == bus_themes
    runs = storage.themes.assignments(str(analysis_id))
    assert len(runs) == 1 and runs[0].opinion_count == 3
    page = client.get(f"/staff/themes/{analysis_id}").text
    assert "3 件をこの分析のテーマに割り当てました" in page
    if runs[0].new_count:
        assert "再分析をおすすめします" in page and "新しい意見（" in page


def test_assignment_refuses_nothing_new_and_other_departments(client: Client, world: World, storage: Storage) -> None:
    survey, question = long_text_survey(world, storage)
    answer(world, storage, survey, question, OPINIONS)
    analysis_id = run_analysis(storage, f"survey:{survey}:{question}", world.staff, k=2)
    client.login("staff@example.jp")
    refused = client.submit(f"/staff/themes/{analysis_id}/assign", {})
    assert refused.status_code == 422 and "届いた意見はありません" in refused.text
    assert storage.themes.assignments(str(analysis_id)) == []
    try:
        assign_new_opinions(storage, analysis_id, world.staff)
    except ValueError:
        pass
    else:
        raise AssertionError("nothing new must be refused")
    client.login("citizen@example.jp")
    assert client.submit(f"/staff/themes/{analysis_id}/assign", {}).status_code in (401, 403)


def test_lift_shows_only_what_counts_show_and_nothing_hidden_is_recoverable(world: World, storage: Storage) -> None:
    survey, question = long_text_survey(world, storage)
    # Parks come mostly from one ward, buses from another; a small ward says a little of both.
    wards = list(Ward)
    texts = []
    for topic, counts in ((0, (36, 8, 8, 2)), (4, (8, 36, 8, 3))):
        for ward, n in zip(wards[:4], counts, strict=True):
            texts += [(OPINIONS[topic + i % 4] + f"（{ward.value}{i}）", ward) for i in range(n)]
    for text, ward in texts:
        (person,) = world.citizens(1, ward=ward, age_band=AgeBand.AGE_40S, has_children=True)
        storage.app.submit_response(survey, person, {question: text})
    storage.projector.catch_up()
    analysis_id = run_analysis(storage, f"survey:{survey}:{question}", world.staff, k=2)
    view = storage.themes.analysis(str(analysis_id))
    assert view is not None
    tables = {t.segment: t for t in storage.themes.lift(view)}
    ward = tables["ward"]
    cells = [(theme_id, c) for theme_id, _, row in ward.rows for c in row]
    shown = [c for _, c in cells if c.count != SUPPRESSED]
    assert shown and any(c.significant for c in shown)  # parks/buses differ by ward
    assert ward.cells_tested == len(view.themes) * len(ward.columns)
    for _, c in cells:
        if c.count == SUPPRESSED:
            assert c.lift is None and c.p_adjusted is None and not c.significant
        else:
            assert c.count >= MIN_CELL and c.lift is not None
    # The lift is the shown count over the theme's size times the value's share: nothing more.
    size = {t.id: t.size for t in view.themes}
    everyone = sum(size.values())
    for theme_id, c in cells:
        if c.lift is not None:
            share = sum(1 for _, w in texts if w.value == c.value) / everyone
            assert abs(c.lift - c.count / (size[theme_id] * share)) < 0.01
    # An adversary with every shown count, theme size and value total recovers no hidden cell.
    adversary = Adversary()
    values = [v for v, _, _ in ward.columns]
    for theme_id, _, row in ward.rows:
        for c in row:
            key = (theme_id, c.value)
            if c.count == SUPPRESSED:
                adversary.hidden.add(key)
            else:
                adversary.known[key] = c.count
        adversary.known[("theme", theme_id)] = size[theme_id]
        adversary.equation(line(("theme", theme_id), [(theme_id, v) for v in values]))
    for v in values:
        adversary.known[("value", v)] = sum(1 for _, w in texts if w.value == v)
        adversary.equation(line(("value", v), [(t.id, v) for t in view.themes]))
    assert adversary.hidden and not adversary.recovered_by_subtraction() and not adversary.determined()


def test_analysis_page_renders_the_heat_map_with_its_table(client: Client, world: World, storage: Storage) -> None:
    survey, question = long_text_survey(world, storage)
    texts = [OPINIONS[i % 10] + f"（{i}）" * (1 + i % 3) for i in range(30)]
    answer(world, storage, survey, question, texts)
    analysis_id = run_analysis(storage, f"survey:{survey}:{question}", world.staff, k=2)
    client.login("staff@example.jp")
    page = client.get(f"/staff/themes/{analysis_id}").text
    assert 'data-testid="lift-ward"' in page and "ボンフェローニ補正" in page
    assert 'class="numbers heat"' in page and "<caption>" in page
