"""The pipeline on SIB-200: quality floors, determinism, exact k, hierarchy invariants, quotes."""

from __future__ import annotations

from ml.cache import CachedEmbedder
from ml.evaluate import LabelledOpinion, scores, top_level_labels
from ml.pipeline import analyze
from ml.types import (
    Theme,
    ThemeAnalysis,
    analysis_from_dict,
    analysis_to_dict,
    decode_analysis,
    encode_analysis,
)


def _ids(data: list[LabelledOpinion]) -> list[str]:
    return [d.opinion.id for d in data]


def test_japanese_topics_k7(ja_k7: ThemeAnalysis, sib_ja: list[LabelledOpinion]) -> None:
    result = scores([d.topic for d in sib_ja], top_level_labels(ja_k7, _ids(sib_ja)))
    print("ja k=7", result)
    assert len(ja_k7.themes) == 7
    assert result["v_measure"] >= 0.45


def test_mixed_languages_cluster_by_topic(mixed_k7: ThemeAnalysis, sib_mixed: list[LabelledOpinion]) -> None:
    predicted = top_level_labels(mixed_k7, _ids(sib_mixed))
    topic = scores([d.topic for d in sib_mixed], predicted)
    language = scores([d.language for d in sib_mixed], predicted)
    print("ja+en k=7 topic", topic, "language", language)
    assert topic["v_measure"] >= 0.40
    assert language["v_measure"] <= 0.10


def test_same_input_same_result(ja_k7: ThemeAnalysis, sib_ja: list[LabelledOpinion], e5: CachedEmbedder) -> None:
    again = analyze([d.opinion for d in sib_ja], k=7, embedder=e5, seed=0)
    assert encode_analysis(again) == encode_analysis(ja_k7)


def test_exact_k_and_automatic_k(sib_ja: list[LabelledOpinion], e5: CachedEmbedder) -> None:
    opinions = [d.opinion for d in sib_ja]
    assert len(analyze(opinions, k=4, embedder=e5).themes) == 4
    assert len(analyze(opinions, k=11, embedder=e5).themes) == 11
    auto = analyze(opinions, embedder=e5)
    assert auto.params.k is None
    assert 5 <= auto.params.k_chosen <= 12 == auto.params.k_range[1]
    assert len(auto.themes) == auto.params.k_chosen


def test_automatic_k_by_stability_finds_about_seven_topics(
    sib_ja: list[LabelledOpinion], sib_mixed: list[LabelledOpinion], e5: CachedEmbedder
) -> None:
    for data in (sib_ja, sib_mixed):
        auto = analyze([d.opinion for d in data], embedder=e5, seed=0)
        quality = scores([d.topic for d in data], top_level_labels(auto, _ids(data)))
        print(len(data), "auto k", auto.params.k_chosen, quality, auto.params.k_scores)
        assert auto.params.k_criterion == "stability" and len(auto.params.k_scores) == 8
        assert 5 <= auto.params.k_chosen <= 9 and quality["v_measure"] >= 0.45


def _check_level(themes: list[Theme], ids: list[str]) -> None:
    units = [u for t in themes for u in t.units]
    assert len(units) == len(set(units))  # every unit exactly once
    assert {u.split("#")[0] for u in units} <= {m for t in themes for m in t.members} == set(ids)
    for theme in themes:
        assert theme.size == len(theme.members) > 0
        assert {u.split("#")[0] for u in theme.units} <= set(theme.members)


def test_hierarchy_invariants(mixed_k7: ThemeAnalysis, sib_mixed: list[LabelledOpinion]) -> None:
    ids = _ids(sib_mixed)
    _check_level(mixed_k7.themes, ids)
    _check_level([c for t in mixed_k7.themes for c in t.children], ids)
    for number, theme in enumerate(mixed_k7.themes, start=1):
        assert theme.id == f"t{number}"
        assert theme.children, "every theme has at least one sub-theme"
        assert sorted(u for c in theme.children for u in c.units) == sorted(theme.units)
        for child_number, child in enumerate(theme.children, start=1):
            assert child.id == f"t{number}.{child_number}"
            assert child.children == []
    sizes = [t.size for t in mixed_k7.themes]
    assert sizes == sorted(sizes, reverse=True)


def test_labels_keywords_and_quotes(mixed_k7: ThemeAnalysis) -> None:
    text_of_member = {}
    for theme in mixed_k7.themes + [c for t in mixed_k7.themes for c in t.children]:
        assert theme.label and theme.keywords
        assert len(theme.keywords) == len(set(theme.keywords))
        expected = min(3, theme.size)
        assert len(theme.quotes) >= min(expected, 2)
        quote_ids = [q.id for q in theme.quotes]
        assert len(set(quote_ids)) == len(quote_ids)
        assert len({q.text for q in theme.quotes}) == len(theme.quotes)
        assert set(quote_ids) <= set(theme.members)
        text_of_member.update({q.id: q.text for q in theme.quotes})
    for theme in mixed_k7.themes:
        assert len(theme.quotes) == 3


def test_result_records_model_params_and_round_trips(mixed_k7: ThemeAnalysis) -> None:
    assert mixed_k7.model.name == "intfloat/multilingual-e5-small"
    assert "prefix=query" in mixed_k7.model.version
    assert mixed_k7.params.seed == 0 and mixed_k7.params.k == 7
    assert decode_analysis(encode_analysis(mixed_k7)) == mixed_k7
    as_dict = analysis_to_dict(mixed_k7)
    assert set(as_dict) == {"themes", "model", "params"}
    assert set(as_dict["themes"][0]) >= {"id", "label", "keywords", "size", "members", "quotes", "children"}
    assert analysis_from_dict(as_dict) == mixed_k7
