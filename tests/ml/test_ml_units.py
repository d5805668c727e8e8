"""Fast tests with a fake model: cache, MMR quotes, keywords, small inputs, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ml.cache import CachedEmbedder, DiskEmbeddingCache, MemoryEmbeddingCache
from ml.keywords import class_tfidf, make_label, terms_of
from ml.pipeline import analyze
from ml.quotes import mmr_select
from ml.types import Opinion

OPINIONS = [
    Opinion(id=f"o{i}", text=text)
    for i, text in enumerate(
        [
            "公園のトイレが汚いので清掃をお願いしたい",
            "公園の遊具が古くて危ない",
            "駅前の駐輪場が足りない",
            "駐輪場の料金が高すぎる",
            "バスの本数を増やしてほしい",
            "バスの路線が少ない",
            "The park toilets are dirty",
            "More buses please, the bus service is poor",
        ]
        * 3
    )
]
OPINIONS = [Opinion(id=o.id, text=f"{o.text}（{o.id}）") for o in OPINIONS]


def test_second_run_does_not_call_the_model(counting_embedder, tmp_path: Path) -> None:
    cached = CachedEmbedder(counting_embedder, DiskEmbeddingCache(tmp_path))
    first = analyze(OPINIONS, k=3, embedder=cached)
    # "X（o0）" and "X（o8）" are one near-duplicate group: its representative is embedded once.
    assert counting_embedder.texts_seen == first.params.n_distinct == 8
    calls = counting_embedder.calls
    again = analyze(OPINIONS, k=3, embedder=cached)
    assert counting_embedder.calls == calls
    # A fresh process (new cache object, same directory) also finds everything on disk.
    reopened = CachedEmbedder(counting_embedder, DiskEmbeddingCache(tmp_path))
    third = analyze(OPINIONS, k=3, embedder=reopened)
    assert counting_embedder.calls == calls
    assert first == again == third


def test_cache_is_keyed_by_model_and_text(counting_embedder) -> None:
    cache = MemoryEmbeddingCache()
    cached = CachedEmbedder(counting_embedder, cache)
    cached.embed(["a", "b", "a"])
    assert counting_embedder.texts_seen == 2  # duplicates embedded once
    counting_embedder.version = "2"  # a new model version must not reuse old vectors
    cached.embed(["a"])
    assert counting_embedder.texts_seen == 3


def test_disk_cache_compacts_shards_without_losing_entries(counting_embedder, tmp_path: Path) -> None:
    cached = CachedEmbedder(counting_embedder, DiskEmbeddingCache(tmp_path), batch_size=1)
    texts = [f"text {i}" for i in range(40)]
    vectors = cached.embed(texts)
    shards = list(tmp_path.rglob("shard-*.npz"))
    assert 1 <= len(shards) <= 33
    assert not list(tmp_path.rglob(".tmp-*"))
    fresh = CachedEmbedder(counting_embedder, DiskEmbeddingCache(tmp_path))
    seen = counting_embedder.texts_seen
    np.testing.assert_array_equal(fresh.embed(texts), vectors)
    assert counting_embedder.texts_seen == seen


def test_progress_reports_reach_the_total(counting_embedder) -> None:
    reports: list[tuple[int, int]] = []
    cached = CachedEmbedder(counting_embedder, MemoryEmbeddingCache(), batch_size=5)
    result = analyze(OPINIONS, k=2, embedder=cached, progress=lambda d, t: reports.append((d, t)))
    assert reports[-1] == (result.params.n_units, result.params.n_units)  # the texts embedded
    assert [d for d, _ in reports] == sorted(d for d, _ in reports)


def test_mmr_skips_near_duplicates() -> None:
    rng = np.random.default_rng(0)
    centre = np.eye(8, dtype=np.float32)[0]
    copies = [centre + 0.01 * rng.normal(size=8) for _ in range(3)]  # "+1" style re-posts
    others = [centre + 0.8 * np.eye(8)[i] for i in (1, 2, 3)]
    vectors = np.array(copies + others, dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = ["copy 1", "copy 2", "copy 3", "other 1", "other 2", "other 3"]
    picked = mmr_select(vectors, texts, 3)
    assert len(picked) == 3
    assert sum(i < 3 for i in picked) == 1  # one of the copies, never two
    sims = vectors[picked] @ vectors[picked].T
    assert (sims[~np.eye(3, dtype=bool)] < 0.95).all()


def test_mmr_never_repeats_identical_texts() -> None:
    vectors = np.tile(np.array([[1.0, 0.0]], dtype=np.float32), (5, 1))
    assert len(mmr_select(vectors, ["同じ意見"] * 5, 3)) == 1


def test_keywords_japanese_and_english() -> None:
    terms = terms_of("公園のトイレが汚いので、清掃してほしい。The toilets are dirty!")
    assert {"公園", "トイレ", "汚い", "清掃"} <= set(terms)
    assert {"toilets", "dirty"} <= set(terms)
    assert "の" not in terms and "the" not in terms and "する" not in terms
    ranked = class_tfidf([["公園", "トイレ"], ["公園", "遊具"], ["バス", "本数"], ["バス", "路線"]], [0, 0, 1, 1], 3)
    assert ranked[0][0] == "公園" and ranked[1][0] == "バス"
    assert make_label(["子育て支援", "子育て", "保育園", "待機児童"]) == "子育て支援・保育園・待機児童"


def test_small_and_invalid_inputs(counting_embedder) -> None:
    cached = CachedEmbedder(counting_embedder, MemoryEmbeddingCache())
    one = analyze(OPINIONS[:1], embedder=cached)
    assert len(one.themes) == 1 and one.themes[0].members == ["o0"]
    assert len(analyze(OPINIONS[:5], k=5, embedder=cached).themes) == 5
    with pytest.raises(ValueError):
        analyze([], embedder=cached)
    with pytest.raises(ValueError):
        analyze(OPINIONS[:3], k=4, embedder=cached)
    with pytest.raises(ValueError):
        analyze([OPINIONS[0], OPINIONS[0]], embedder=cached)
