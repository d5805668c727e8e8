"""New opinions into a recorded analysis's themes, without clustering again (SIB-200, real e5)."""

from __future__ import annotations

from collections import Counter

import pytest

from ml.assign import assign
from ml.cache import CachedEmbedder
from ml.evaluate import LabelledOpinion
from ml.pipeline import analyze
from ml.types import Opinion


def test_held_out_opinions_join_their_topic_and_an_unseen_topic_is_new(
    sib_ja: list[LabelledOpinion], e5: CachedEmbedder
) -> None:
    unseen = "entertainment"
    seen = [d for d in sib_ja if d.topic != unseen]
    held = {id(d) for d in seen[::10]}
    analysed = [d for d in seen if id(d) not in held]
    later_known = [d for d in seen if id(d) in held]
    later_unseen = [d for d in sib_ja if d.topic == unseen][:40]
    result = analyze([d.opinion for d in analysed], k=6, embedder=e5, seed=0)
    topic_of = {d.opinion.id: d.topic for d in analysed}
    majority = {t.id: Counter(topic_of[m] for m in t.members).most_common(1)[0][0] for t in result.themes}

    themes = [(t.id, t.units, t.members) for t in result.themes]
    texts = {d.opinion.id: d.opinion.text for d in analysed}
    new = [d.opinion for d in later_known + later_unseen]
    outcome = assign(themes, texts, new, e5)
    by_id = {a.opinion_id: a for a in outcome.assignments}
    assert len(outcome.assignments) == len(new) and 0 < outcome.threshold < 1

    placed = [d for d in later_known if by_id[d.opinion.id].themes]
    right = sum(
        topic_of_theme == d.topic for d in placed for topic_of_theme in [majority[by_id[d.opinion.id].themes[0]]]
    )
    far_known = 1 - len(placed) / len(later_known)
    far_unseen = sum(not by_id[d.opinion.id].themes for d in later_unseen) / len(later_unseen)
    print(f"known placed right {right}/{len(placed)}, far: known {far_known:.2f} unseen {far_unseen:.2f}")
    assert right >= 0.6 * len(placed)
    assert far_known <= 0.15 and far_unseen > 2 * far_known
    assert outcome.rerun_recommended == bool(outcome.far)


def test_a_repeat_of_an_analysed_opinion_follows_it_and_nothing_is_clustered_again(counting_embedder) -> None:
    from ml.cache import MemoryEmbeddingCache

    cached = CachedEmbedder(counting_embedder, MemoryEmbeddingCache())
    texts = [f"{t}（{i}）" for i, t in enumerate(["公園の遊具が古い", "バスの本数が少ない", "保育園に入れない"] * 8)]
    opinions = [Opinion(f"o{i}", t) for i, t in enumerate(texts)]
    result = analyze(opinions, k=3, embedder=cached)
    themes = [(t.id, t.units, t.members) for t in result.themes]
    source = next(t for t in result.themes if "o1" in t.members)
    outcome = assign(
        themes, {o.id: o.text for o in opinions}, [Opinion("n1", "北区在住です。バスの本数が少ない（1）")], cached
    )
    (only,) = outcome.assignments
    assert only.duplicate_of and only.themes == [source.id]
    with pytest.raises(ValueError):
        assign(themes, {o.id: o.text for o in opinions}, [], cached)
