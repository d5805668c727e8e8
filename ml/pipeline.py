"""``analyze``: opinions in, a two-level theme hierarchy with labels and quotes out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ml.cache import CachedEmbedder, make_embedder
from ml.clustering import ClusterSettings, center_by_group, cluster, reduce
from ml.embedding import Embedder, ProgressCallback, embed_in_batches
from ml.keywords import class_tfidf, has_japanese, make_label, terms_of
from ml.quotes import mmr_select
from ml.types import AnalysisParams, ModelInfo, Opinion, Quote, Theme, ThemeAnalysis

ALGORITHM_VERSION = "kyoso-themes-2 (lang-center, pca, spectral-knn, c-tf-idf, mmr, distinct-labels)"
TOP_K_RANGE = range(2, 13)
CHILD_K_RANGE = range(2, 7)
# Themes smaller than this are not split further; they get one child holding all members so
# that every opinion still sits in exactly one theme at each level.
MIN_SPLIT_SIZE = 12
QUOTES_PER_THEME = 3
KEYWORDS_PER_THEME = 10


def _embed(embedder: Embedder, texts: list[str], progress: ProgressCallback | None) -> np.ndarray:
    if isinstance(embedder, CachedEmbedder):
        return embedder.embed_with_progress(texts, progress)
    return embed_in_batches(embedder, texts, progress=progress)


def _language_groups(texts: list[str]) -> np.ndarray:
    # Script is a good enough language signal for Japanese vs everything else, and free.
    return np.array(["ja" if has_japanese(t) else "other" for t in texts])


def _build_themes(
    prefix: str,
    member_idx: list[np.ndarray],
    keywords: dict[int, list[str]],
    opinions: Sequence[Opinion],
    vectors: np.ndarray,
    children: list[list[Theme]],
) -> list[Theme]:
    themes: list[Theme] = []
    taken: set[str] = set()
    texts = [o.text for o in opinions]
    for number, idx in enumerate(member_idx):
        words = keywords.get(number, [])
        quote_idx = mmr_select(vectors[idx], [texts[i] for i in idx], QUOTES_PER_THEME)
        themes.append(
            Theme(
                id=f"{prefix}{number + 1}",
                label=_take(taken, make_label(words, taken=taken)),
                keywords=words,
                size=len(idx),
                members=[opinions[i].id for i in idx],
                quotes=[Quote(id=opinions[idx[q]].id, text=texts[idx[q]]) for q in quote_idx],
                children=children[number] if children else [],
            )
        )
    return themes


def _take(taken: set[str], label: str) -> str:
    taken.add(label)
    return label


def analyze(
    opinions: Sequence[Opinion],
    *,
    k: int | None = None,
    embedder: Embedder | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    center_languages: bool = True,
) -> ThemeAnalysis:
    """Find themes in ``opinions``.

    ``k`` fixes the number of top-level themes (else chosen by silhouette over 2..12).
    ``embedder`` defaults to ``make_embedder()`` (env-configured model, on-disk cache).
    ``progress(done, total)`` is called while texts are embedded. Same opinions, model,
    parameters and seed give the same result.
    """
    if not opinions:
        raise ValueError("no opinions to analyse")
    ids = [o.id for o in opinions]
    if len(set(ids)) != len(ids):
        raise ValueError("opinion ids must be unique")
    if k is not None and not 1 <= k <= len(opinions):
        raise ValueError(f"k must be between 1 and the number of opinions ({len(opinions)})")
    embedder = embedder or make_embedder()
    texts = [o.text for o in opinions]
    vectors = _embed(embedder, texts, progress)

    settings = ClusterSettings()
    groups = _language_groups(texts)
    if center_languages:
        vectors = center_by_group(vectors, groups, settings.min_language_group)
    points = reduce(vectors, settings.reduced_dim, seed)

    if k == 1:
        top_labels, k_chosen = np.zeros(len(texts), dtype=np.int64), 1
    else:
        top = cluster(points, k, TOP_K_RANGE, settings, seed)
        top_labels, k_chosen = top.labels, top.k

    term_lists = [terms_of(t) for t in texts]
    top_members = [np.flatnonzero(top_labels == c) for c in range(k_chosen)]
    top_keywords = class_tfidf(term_lists, top_labels.tolist(), KEYWORDS_PER_THEME)

    all_children: list[list[Theme]] = []
    child_settings = replace(settings, spectral_sample=1500)
    for number, idx in enumerate(top_members):
        if len(idx) >= MIN_SPLIT_SIZE:
            sub = cluster(points[idx], None, CHILD_K_RANGE, child_settings, seed)
            sub_labels, sub_k = sub.labels, sub.k
        else:
            sub_labels, sub_k = np.zeros(len(idx), dtype=np.int64), 1
        if sub_k == 1:
            sub_keywords = {0: top_keywords.get(number, [])}
        else:
            # Keywords that set a sub-theme apart from its siblings, not from the whole set.
            sub_keywords = class_tfidf([term_lists[i] for i in idx], sub_labels.tolist(), KEYWORDS_PER_THEME)
        sub_members = [idx[sub_labels == c] for c in range(sub_k)]
        all_children.append(_build_themes(f"t{number + 1}.", sub_members, sub_keywords, opinions, vectors, []))

    themes = _build_themes("t", top_members, top_keywords, opinions, vectors, all_children)
    params = AnalysisParams(
        seed=seed,
        k=k,
        k_chosen=k_chosen,
        k_range=[TOP_K_RANGE.start, TOP_K_RANGE.stop - 1],
        child_k_range=[CHILD_K_RANGE.start, CHILD_K_RANGE.stop - 1],
        center_languages=center_languages,
        reduced_dim=settings.reduced_dim,
        clustering=(
            f"spectral(knn={settings.neighbours}, sample={settings.spectral_sample}) "
            f"+ kmeans(n_init={settings.kmeans_init})"
        ),
        n_opinions=len(opinions),
        silhouette_sample=settings.silhouette_sample,
        quotes_per_theme=QUOTES_PER_THEME,
        keywords_per_theme=KEYWORDS_PER_THEME,
        algorithm_version=ALGORITHM_VERSION,
    )
    model = ModelInfo(name=embedder.name, version=embedder.version, dim=int(vectors.shape[1]))
    return ThemeAnalysis(themes=themes, model=model, params=params)
