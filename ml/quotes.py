"""Representative quotes: close to the theme's centre, but not saying the same thing twice."""

from __future__ import annotations

import re
import unicodedata

import numpy as np

# Cosine similarity above which two opinions count as the same opinion (copy-paste, "+1" edits).
NEAR_DUPLICATE = 0.95


def _normalised(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", unicodedata.normalize("NFKC", text).lower())


def mmr_select(
    vectors: np.ndarray,
    texts: list[str],
    count: int,
    diversity: float = 0.3,
    pool: int = 200,
) -> list[int]:
    """Indices of up to ``count`` quotes by maximal marginal relevance around the centroid.

    Relevance is cosine similarity to the (normalised) centroid; each next pick maximises
    ``(1 - diversity) * relevance - diversity * max similarity to earlier picks``. Candidates
    are limited to the ``pool`` most central members so big themes stay cheap, and exact or
    near duplicates of an earlier pick are never chosen.
    """
    if len(vectors) == 0 or count <= 0:
        return []
    centroid = vectors.mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
    relevance = vectors @ centroid
    # Stable sort with index tie-break keeps the choice deterministic.
    candidates = np.argsort(-relevance, kind="stable")[:pool]
    chosen: list[int] = []
    seen_texts: set[str] = set()
    max_sim = np.full(len(candidates), -np.inf, dtype=np.float32)
    cand_vectors = vectors[candidates]
    available = np.ones(len(candidates), dtype=bool)
    while len(chosen) < count and available.any():
        penalty = np.where(np.isfinite(max_sim), max_sim, 0.0)
        score = (1 - diversity) * relevance[candidates] - diversity * penalty
        score = np.where(available, score, -np.inf)
        best = int(np.argmax(score))
        available[best] = False
        index = int(candidates[best])
        key = _normalised(texts[index])
        if key in seen_texts or (chosen and max_sim[best] >= NEAR_DUPLICATE):
            continue
        chosen.append(index)
        seen_texts.add(key)
        max_sim = np.maximum(max_sim, cand_vectors @ cand_vectors[best])
    return chosen
