"""Near-duplicate groups (同趣旨) and opinion units: fast checks with a fake model, then SIB-200."""

from __future__ import annotations

import numpy as np

from ml.cache import CachedEmbedder, MemoryEmbeddingCache
from ml.duplicates import group_near_duplicates, normalise
from ml.evaluate import LabelledOpinion, duplicate_figures, scores, templated_variants, top_level_labels
from ml.pipeline import analyze
from ml.types import Opinion
from ml.units import LONG_OPINION, sentences, split_units

PARK = "公園の遊具が古くなって危ないので、新しいものに取り替えてほしいです。"
BUS = "駅から市役所までのバスの本数が少なく、通勤や通院にとても不便です。"


def test_normalisation_makes_exact_groups() -> None:
    variants = [
        PARK,
        " 公園の遊具が古くなって危ないので 新しいものに取り替えてほしいです！",
        "公園の遊具が古くなって危ないので、新しいものに取り替えてほしいです。",
    ]
    assert len({normalise(v) for v in variants}) == 1
    assert normalise("ＡＢＣ　１２３。") == "abc123"
    groups = group_near_duplicates([*variants, BUS])
    assert groups.group_of.tolist() == [0, 0, 0, 1]
    assert groups.exact[:3].all() and groups.representatives == [0, 3]


def test_templated_variants_group_and_distinct_opinions_do_not() -> None:
    texts = [
        PARK,
        "北区在住の30代です。" + PARK + "以上、よろしくお願いします。",
        "南区在住、子育て中の母です。公園の遊具が古くなって危ないので、新しいものに取り替えて〇〇です。",
        BUS,
        "駅から市役所までのバスの料金が高く、通勤や通学の負担が大きいです。",  # shares words, says another thing
    ]
    groups = group_near_duplicates(texts)
    assert groups.group_of[1] == groups.group_of[2] == groups.group_of[0]
    assert not groups.exact[1]
    assert len({groups.group_of[0], groups.group_of[3], groups.group_of[4]}) == 3


def test_sentences_respect_brackets_and_line_breaks() -> None:
    text = "子どもが「公園で遊びたい。危なくない遊具がいい！」と言います。ベンチも増やして。\n以上です"
    assert sentences(text) == [
        "子どもが「公園で遊びたい。危なくない遊具がいい！」と言います。",
        "ベンチも増やして。",
        "以上です",
    ]
    assert sentences("Buses are rare. Trains too!? 本当に") == ["Buses are rare.", "Trains too!?", "本当に"]
    assert split_units(PARK) == [PARK]  # short opinions are one unit
    long = (PARK * 3) + "よろしく。" + (BUS * 3)
    assert len(long) > LONG_OPINION
    units = split_units(long)
    assert "".join(units) == long.replace("\n", "") and units[2].endswith("よろしく。")


def test_campaign_is_embedded_once_counted_in_full_and_kept_as_one_point(counting_embedder) -> None:
    cached = CachedEmbedder(counting_embedder, MemoryEmbeddingCache())
    others = [Opinion(f"o{i}", t) for i, t in enumerate([PARK, BUS, "図書館の開館時間を夜まで延ばしてほしい。"] * 1)]
    campaign = [Opinion(f"c{i}", f"{'北南東西'[i % 4]}区在住です。{BUS}強く要望します。") for i in range(200)]
    result = analyze(others + campaign, k=2, embedder=cached)
    assert result.params.n_distinct == 3 and counting_embedder.texts_seen == 3
    sizes = {t.id: t.size for t in result.themes}
    assert sum(sizes.values()) == 203  # every copy counted
    groups = [d for t in result.themes for d in t.duplicates]
    assert len(groups) == 1 and len(groups[0].members) == 201 and groups[0].representative == "o1"
    assert not groups[0].exact


def test_long_opinion_units_each_in_one_theme(counting_embedder) -> None:
    cached = CachedEmbedder(counting_embedder, MemoryEmbeddingCache())
    short = [Opinion(f"s{i}", f"{t}（{i}）") for i, t in enumerate([PARK, BUS] * 10)]
    parks = PARK + "本当に。" + PARK.replace("公園", "広場") + PARK.replace("遊具", "ベンチ")
    long = Opinion("long", parks + BUS + BUS.replace("バス", "電車") + BUS.replace("通院", "買い物"))
    assert len(long.text) > LONG_OPINION
    result = analyze([*short, long], k=2, embedder=cached)
    assert result.params.n_units == result.params.n_distinct - 1 + len(split_units(long.text))
    for level in (result.themes, [c for t in result.themes for c in t.children]):
        units = [u for t in level for u in t.units]
        assert len(units) == len(set(units)) == result.params.n_units  # every unit exactly once
        with_long = {t.id for t in level if any(u.startswith("long#") for u in t.units)}
        assert {t.id for t in level if "long" in t.members} == with_long
    assert len([t for t in result.themes if "long" in t.members]) == 2  # its park and bus points


def test_sib_variants_grouped_and_measured(sib_mixed: list[LabelledOpinion]) -> None:
    originals = [d.opinion for d in sib_mixed]
    variants, source_of = templated_variants(originals, 100, 6)
    figures = duplicate_figures(originals, variants, source_of)
    print("duplicates", figures)
    assert figures["variants_grouped_with_source"] >= 0.85 * len(variants)  # measured 534/600
    assert figures["distinct_opinions_wrongly_merged"] <= 2  # measured 1: one sentence contains another


def test_campaign_does_not_swamp_sib_themes(sib_ja: list[LabelledOpinion], e5: CachedEmbedder) -> None:
    originals = [d.opinion for d in sib_ja]
    variants, _ = templated_variants(originals, 2, 150, seed=1)
    result = analyze(originals + variants, embedder=e5, seed=0)
    gold = [d.topic for d in sib_ja]
    quality = scores(gold, top_level_labels(result, [o.id for o in originals]))
    print("SIB ja + 300-copy campaign", result.params.k_chosen, quality)
    assert 5 <= result.params.k_chosen <= 9 and quality["v_measure"] >= 0.45
    assert sum(t.size for t in result.themes) >= len(originals) + len(variants)


def test_multi_point_opinions_belong_to_several_themes(sib_ja: list[LabelledOpinion], e5: CachedEmbedder) -> None:
    by_topic: dict[str, list[str]] = {}
    for d in sib_ja:
        if len(d.opinion.text) >= 70:
            by_topic.setdefault(d.topic, []).append(d.opinion.text)
    topics = sorted(by_topic)
    rng = np.random.default_rng(0)
    longs = []
    for i in range(20):
        chosen = rng.choice(len(topics), 3, replace=False)
        longs.append(Opinion(f"long{i}", "".join(by_topic[topics[t]][i % len(by_topic[topics[t]])] for t in chosen)))
    assert all(len(o.text) > LONG_OPINION for o in longs)
    result = analyze([d.opinion for d in sib_ja] + longs, k=7, embedder=e5, seed=0)
    in_themes = [sum(o.id in t.members for t in result.themes) for o in longs]
    print("themes per 3-topic opinion", in_themes)
    assert sum(n >= 2 for n in in_themes) >= 15
    units = [u for t in result.themes for u in t.units]
    assert len(units) == len(set(units)) == result.params.n_units
