"""Benchmarks of theme analysis: embedding throughput and analysis time for 10,000 opinions.

``run_benchmarks()`` yields one dict per figure (``web/bench.py`` prints them as JSON lines).
The 10,000 opinions are synthesised from SIB-200 sentences (ja + en): each is a real sentence
plus a short closing phrase, and its cached vector is the sentence's e5 vector plus noise
(cosine ~0.9 to the original), i.e. paraphrase-like variants; every fiftieth is a long opinion of
five sentences, split into units. That measures what the issue asks: analysis time when
embeddings are already cached, near-duplicate detection and unit splitting included.
``themes.cluster`` runs the whole pipeline (copies of one sentence group as near-duplicates);
``themes.cluster_distinct`` turns near-duplicate grouping off, so all 10,000 are clustered.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from ml.cache import CachedEmbedder, MemoryEmbeddingCache, make_embedder, text_key
from ml.embedding import E5Embedder, l2_normalise
from ml.evaluate import load_sib
from ml.pipeline import analyze
from ml.types import Opinion
from ml.units import MIN_UNIT, sentences, split_units

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
    # Sentences that are one unit each, so a long opinion's units are cached sentences.
    single = [q for q, o in enumerate(base) if sentences(o.text) == [o.text] and len(o.text) >= MIN_UNIT]
    opinions = []
    for i, p in enumerate(picks):
        text = base[p].text
        closings = _CLOSINGS_EN if text.isascii() else _CLOSINGS_JA
        if i % 50 == 49:  # a long opinion of five sentences, cut into units that are those sentences
            text = "\n".join(base[single[q]].text for q in rng.choice(len(single), 5, replace=False))
        else:
            text = f"{text}{closings[i % len(closings)]} (#{i})"
        opinions.append(Opinion(id=f"s{i}", text=text))
    return opinions, synth_vectors


def _rate(embedder: E5Embedder, texts: list[str], batch: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        embedder.embed(texts[start : start + batch])
    return len(texts) / (time.perf_counter() - started)


def bench_embed(texts: list[str]) -> dict[str, Any]:
    """Batched throughput (as the cache fills itself), against one text per call, and against
    what the cores allow: one thread's batched rate times the cores this process may use (the
    engine is compute-bound, so that product is the ceiling on this machine)."""
    embedder = E5Embedder()
    embedder.embed(texts[:4])  # loading the model is not part of throughput
    batched = _rate(embedder, texts, 32)
    singles = texts[: len(texts) // 3]
    one_by_one = _rate(embedder, singles, 1)
    # The engine runs on OpenMP; limiting the pool at run time (its own num_threads only works
    # before the runtime starts) gives one core's rate.
    with threadpool_limits(1, user_api="openmp"):
        single_core = _rate(embedder, texts[: len(texts) // 2], 32)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return {
        "name": "themes.embed",
        "value": round(batched, 2),
        "unit": "texts/s",
        "baseline": round(one_by_one, 2),
        "ratio": round(batched / one_by_one, 2),
        "baseline_is": "one text per call",
        "texts": len(texts),
        "model": f"{embedder.name} {embedder.version}",
        "one_thread": round(single_core, 2),
        "cores": cores,
        "hardware_ceiling": round(single_core * cores, 2),
        "share_of_ceiling": round(batched / (single_core * cores), 2),
    }


def bench_cluster(n: int = CLUSTER_OPINIONS) -> Iterator[dict[str, Any]]:
    data = load_sib(("ja", "en"))
    base = [d.opinion for d in data]
    # The SIB vectors come from the on-disk cache after the first run (first run: ~2 min).
    disk = make_embedder()
    base_vectors = disk.embed([o.text for o in base])
    opinions, vectors = synthesise(base, base_vectors, n)
    cache = MemoryEmbeddingCache()
    embedder = CachedEmbedder(disk.inner, cache)
    cache.put_many(embedder.model_key, [text_key(o.text) for o in opinions], vectors)
    cache.put_many(embedder.model_key, [text_key(o.text) for o in base], base_vectors)
    # A long opinion's units stand in with its own vector (the base sentences are cached already).
    units = [(u, v) for o, v in zip(opinions, vectors, strict=True) for u in split_units(o.text) if u != o.text]
    cache.put_many(embedder.model_key, [text_key(u) for u, _ in units], np.array([v for _, v in units]))
    calls = [0]
    inner_embed = disk.inner.embed

    def counted(texts: list[str]) -> Any:
        calls[0] += len(texts)
        return inner_embed(texts)

    disk.inner.embed = counted  # type: ignore[method-assign]
    for name, near in (("themes.cluster", True), ("themes.cluster_distinct", False)):
        started = time.perf_counter()
        analysis = analyze(opinions, embedder=embedder, seed=0, near_duplicates=near)
        seconds = time.perf_counter() - started
        yield {
            "name": name,
            "value": round(seconds, 2),
            "unit": "s",
            "opinions": n,
            "distinct_after_grouping": analysis.params.n_distinct,
            "units": analysis.params.n_units,
            "texts_embedded_not_cached": calls[0],
            "themes": len(analysis.themes),
            "k_criterion": analysis.params.k_criterion,
            "sub_themes": sum(len(t.children) for t in analysis.themes),
            "goal": 10.0,
        }


def run_benchmarks() -> Iterator[dict[str, Any]]:
    sentences = [d.opinion.text for d in load_sib(("ja", "en"))]
    rng = np.random.default_rng(0)
    sample = [sentences[i] for i in rng.choice(len(sentences), EMBED_TEXTS, replace=False)]
    yield bench_embed(sample)
    yield from bench_cluster()


if __name__ == "__main__":
    import json

    for line in run_benchmarks():
        print(json.dumps(line, ensure_ascii=False), flush=True)
