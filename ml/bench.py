"""Benchmarks of theme analysis: embedding throughput and analysis time for 10,000 opinions.

``run_benchmarks()`` yields one dict per figure (``web/bench.py`` prints them as JSON lines).
The 10,000 opinions are synthesised from SIB-200 sentences (ja + en): each is a real sentence
plus a short closing phrase, and its cached vector is the sentence's e5 vector plus noise
(cosine ~0.9 to the original), i.e. paraphrase-like variants. That measures what the issue
asks: analysis time when embeddings are already cached.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from ml.cache import CachedEmbedder, MemoryEmbeddingCache, make_embedder, text_key
from ml.embedding import E5Embedder, l2_normalise
from ml.evaluate import load_sib
from ml.pipeline import analyze
from ml.types import Opinion

CLUSTER_OPINIONS = 10_000
EMBED_TEXTS = 96
_CLOSINGS_JA = (
    "",
    "と思います。",
    "早急に対応をお願いします。",
    "市でも検討してください。",
    "以上、よろしくお願いします。",
    "個人的な意見です。",
)
_CLOSINGS_EN = ("", " I think so.", " Please consider this.", " Thank you.", " Just my view.")


def synthesise(base: list[Opinion], vectors: np.ndarray, n: int, seed: int = 0) -> tuple[list[Opinion], np.ndarray]:
    """``n`` distinct opinions and their vectors, derived from ``base`` as described above."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(base), n)
    noise = rng.normal(0.0, 0.45 / np.sqrt(vectors.shape[1]), (n, vectors.shape[1]))
    synth_vectors = l2_normalise(vectors[picks] + noise.astype(np.float32))
    opinions = []
    for i, p in enumerate(picks):
        text = base[p].text
        closings = _CLOSINGS_EN if text.isascii() else _CLOSINGS_JA
        text = f"{text}{closings[i % len(closings)]} (#{i})"
        opinions.append(Opinion(id=f"s{i}", text=text))
    return opinions, synth_vectors


def bench_embed(texts: list[str]) -> dict[str, Any]:
    """Batched throughput (as the cache fills itself), against one text per call."""
    embedder = E5Embedder()
    embedder.embed(texts[:4])  # loading the model is not part of throughput
    started = time.perf_counter()
    for start in range(0, len(texts), 32):
        embedder.embed(texts[start : start + 32])
    batched = len(texts) / (time.perf_counter() - started)
    singles = texts[: len(texts) // 3]
    started = time.perf_counter()
    for text in singles:
        embedder.embed([text])
    one_by_one = len(singles) / (time.perf_counter() - started)
    return {
        "name": "themes.embed",
        "value": round(batched, 2),
        "unit": "texts/s",
        "baseline": round(one_by_one, 2),
        "ratio": round(batched / one_by_one, 2),
        "baseline_is": "one text per call",
        "texts": len(texts),
        "model": f"{embedder.name} {embedder.version}",
    }


def bench_cluster(n: int = CLUSTER_OPINIONS) -> dict[str, Any]:
    data = load_sib(("ja", "en"))
    base = [d.opinion for d in data]
    # The SIB vectors come from the on-disk cache after the first run (first run: ~2 min).
    disk = make_embedder()
    base_vectors = disk.embed([o.text for o in base])
    opinions, vectors = synthesise(base, base_vectors, n)
    cache = MemoryEmbeddingCache()
    embedder = CachedEmbedder(disk.inner, cache)
    cache.put_many(embedder.model_key, [text_key(o.text) for o in opinions], vectors)

    started = time.perf_counter()
    analysis = analyze(opinions, embedder=embedder, seed=0)
    seconds = time.perf_counter() - started
    return {
        "name": "themes.cluster",
        "value": round(seconds, 2),
        "unit": "s",
        "opinions": n,
        "themes": len(analysis.themes),
        "sub_themes": sum(len(t.children) for t in analysis.themes),
        "goal": 10.0,
    }


def run_benchmarks() -> Iterator[dict[str, Any]]:
    sentences = [d.opinion.text for d in load_sib(("ja", "en"))]
    rng = np.random.default_rng(0)
    sample = [sentences[i] for i in rng.choice(len(sentences), EMBED_TEXTS, replace=False)]
    yield bench_embed(sample)
    yield bench_cluster()


if __name__ == "__main__":
    import json

    for line in run_benchmarks():
        print(json.dumps(line, ensure_ascii=False), flush=True)
