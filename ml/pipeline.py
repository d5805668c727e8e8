"""``analyze``: opinions in, a two-level theme hierarchy with labels, quotes and duplicates out.

Steps: near-duplicate groups (ml/duplicates.py) → long opinions split into units (ml/units.py)
→ one embedding per distinct unit text → per-language centring, PCA → spectral clustering of the
units, each weighted by its group's size, k chosen by stability (ml/clustering.py) → keywords,
labels and quotes per theme. An opinion belongs to every theme one of its units is in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from threadpoolctl import threadpool_limits

from ml.cache import CachedEmbedder, make_embedder
from ml.clustering import ClusterSettings, center_by_group, cluster, reduce
from ml.duplicates import NEAR_JACCARD, Groups, group_near_duplicates
from ml.embedding import Embedder, ProgressCallback, embed_in_batches
from ml.keywords import class_tfidf, has_japanese, make_label, terms_of
from ml.quotes import mmr_select
from ml.types import AnalysisParams, DuplicateGroup, ModelInfo, Opinion, Quote, Theme, ThemeAnalysis
from ml.units import LONG_OPINION, split_units

ALGORITHM_VERSION = (
    "kyoso-themes-3 (near-duplicates, opinion-units, lang-center, pca, spectral-knn, stability-k, "
    "weighted-kmeans, c-tf-idf, mmr, distinct-labels)"
)
TOP_K_RANGE = range(5, 13)
CHILD_K_RANGE = range(2, 7)
# Themes smaller than this are not split further; they get one child holding all members so
# that every unit still sits in exactly one theme at each level.
MIN_SPLIT_SIZE = 12
QUOTES_PER_THEME = 3
KEYWORDS_PER_THEME = 10


def _embed(embedder: Embedder, texts: list[str], progress: ProgressCallback | None) -> np.ndarray:
    if isinstance(embedder, CachedEmbedder):
        return embedder.embed_with_progress(texts, progress)
    # Without a cache, still embed each distinct text once.
    distinct = list(dict.fromkeys(texts))
    vectors = embed_in_batches(embedder, distinct, progress=progress)
    row = {t: i for i, t in enumerate(distinct)}
    return vectors[[row[t] for t in texts]] if len(texts) else vectors


def language_groups(texts: list[str]) -> np.ndarray:
    # Script is a good enough language signal for Japanese vs everything else, and free.
    return np.array(["ja" if has_japanese(t) else "other" for t in texts])


@dataclass(frozen=True)
class Units:
    """The units clustered: one row per unit of each group's representative."""

    ids: list[str]
    texts: list[str]
    group: np.ndarray  # duplicate group of each unit
    weights: np.ndarray  # 1 + ln(group size)


def opinion_units(opinions: Sequence[Opinion], groups: Groups) -> Units:
    ids: list[str] = []
    texts: list[str] = []
    group: list[int] = []
    for g, rep in enumerate(groups.representatives):
        parts = split_units(opinions[rep].text)
        for n, part in enumerate(parts, start=1):
            ids.append(opinions[rep].id if len(parts) == 1 else f"{opinions[rep].id}#{n}")
            texts.append(part)
            group.append(g)
    group_array = np.array(group, dtype=np.int64)
    weights = 1.0 + np.log(groups.counts[group_array].astype(np.float64))
    return Units(ids, texts, group_array, weights)


class _Builder:
    """Turns unit labels into Themes: members, duplicate groups, keywords, labels, quotes."""

    def __init__(self, opinions: Sequence[Opinion], groups: Groups, units: Units, vectors: np.ndarray) -> None:
        self.opinions = opinions
        self.units = units
        self.vectors = vectors
        self.group_members = groups.members()
        self.group_exact = [bool(groups.exact[m].all()) for m in self.group_members]

    def members_of(self, unit_idx: np.ndarray) -> list[str]:
        seen: dict[str, None] = {}
        for g in dict.fromkeys(self.units.group[unit_idx].tolist()):
            for i in self.group_members[g]:
                seen.setdefault(self.opinions[i].id, None)
        return list(seen)

    def duplicates_of(self, unit_idx: np.ndarray) -> list[DuplicateGroup]:
        out = []
        for g in dict.fromkeys(self.units.group[unit_idx].tolist()):
            members = self.group_members[g]
            if len(members) > 1:
                ids = [self.opinions[i].id for i in members]
                out.append(DuplicateGroup(representative=ids[0], members=ids, exact=self.group_exact[g]))
        return sorted(out, key=lambda d: -len(d.members))

    def quotes(self, unit_idx: np.ndarray) -> list[Quote]:
        texts = [self.units.texts[i] for i in unit_idx]
        picked: list[Quote] = []
        for q in mmr_select(self.vectors[unit_idx], texts, QUOTES_PER_THEME + 2):
            opinion_id = self.units.ids[unit_idx[q]].split("#", 1)[0]
            if all(p.id != opinion_id for p in picked) and len(picked) < QUOTES_PER_THEME:
                picked.append(Quote(id=opinion_id, text=texts[q]))
        return picked

    def themes(
        self, prefix: str, unit_sets: list[np.ndarray], keywords: dict[int, list[str]], children: list[list[Theme]]
    ) -> list[Theme]:
        themes: list[Theme] = []
        taken: set[str] = set()
        for number, idx in enumerate(unit_sets):
            words = keywords.get(number, [])
            label = make_label(words, taken=taken)
            taken.add(label)
            members = self.members_of(idx)
            themes.append(
                Theme(
                    id=f"{prefix}{number + 1}",
                    label=label,
                    keywords=words,
                    size=len(members),
                    members=members,
                    quotes=self.quotes(idx),
                    children=children[number] if children else [],
                    units=[self.units.ids[i] for i in idx],
                    duplicates=self.duplicates_of(idx),
                )
            )
        return themes


def analyze(
    opinions: Sequence[Opinion],
    *,
    k: int | None = None,
    embedder: Embedder | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    center_languages: bool = True,
    near_duplicates: bool = True,
) -> ThemeAnalysis:
    """Find themes in ``opinions``.

    ``k`` fixes the number of top-level themes (else chosen by stability over 5..12).
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
    groups = group_near_duplicates(texts, NEAR_JACCARD if near_duplicates else 1.01)
    units = opinion_units(opinions, groups)
    vectors = _embed(embedder, units.texts, progress)

    # One BLAS/OpenMP thread for the numerical part: on a busy two-core machine the thread pools
    # oversubscribe the cores (PCA's SVD of 3,000 x 384 took 12.6 s instead of well under one).
    with threadpool_limits(1):
        return _analyze_vectors(opinions, groups, units, vectors, k, seed, center_languages, near_duplicates, embedder)


def _analyze_vectors(
    opinions: Sequence[Opinion],
    groups: Groups,
    units: Units,
    vectors: np.ndarray,
    k: int | None,
    seed: int,
    center_languages: bool,
    near_duplicates: bool,
    embedder: Embedder,
) -> ThemeAnalysis:
    settings = ClusterSettings()
    if center_languages:
        vectors = center_by_group(vectors, language_groups(units.texts), settings.min_language_group)
    points = reduce(vectors, settings.reduced_dim, seed)
    n_units = len(units.ids)
    if k is not None:
        k = min(k, n_units)  # duplicates merged: never more themes than distinct points

    if k == 1:
        top_labels, k_chosen, k_scores, criterion = np.zeros(n_units, dtype=np.int64), 1, {}, "given"
    else:
        top = cluster(points, k, TOP_K_RANGE, replace(settings, criterion="stability"), seed, units.weights)
        top_labels, k_chosen, k_scores, criterion = top.labels, top.k, top.silhouettes, top.criterion

    term_lists = [terms_of(t) for t in units.texts]
    top_units = [np.flatnonzero(top_labels == c) for c in range(k_chosen)]
    top_keywords = class_tfidf(term_lists, top_labels.tolist(), KEYWORDS_PER_THEME)
    build = _Builder(opinions, groups, units, vectors)

    all_children: list[list[Theme]] = []
    child_settings = replace(settings, spectral_sample=1500)
    for number, idx in enumerate(top_units):
        if len(idx) >= MIN_SPLIT_SIZE:
            sub = cluster(points[idx], None, CHILD_K_RANGE, child_settings, seed, units.weights[idx])
            sub_labels, sub_k = sub.labels, sub.k
        else:
            sub_labels, sub_k = np.zeros(len(idx), dtype=np.int64), 1
        if sub_k == 1:
            sub_keywords = {0: top_keywords.get(number, [])}
        else:
            # Keywords that set a sub-theme apart from its siblings, not from the whole set.
            sub_keywords = class_tfidf([term_lists[i] for i in idx], sub_labels.tolist(), KEYWORDS_PER_THEME)
        sub_units = [idx[sub_labels == c] for c in range(sub_k)]
        all_children.append(build.themes(f"t{number + 1}.", sub_units, sub_keywords, []))

    themes = build.themes("t", top_units, top_keywords, all_children)
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
            f"+ weighted kmeans(n_init={settings.kmeans_init})"
        ),
        n_opinions=len(opinions),
        silhouette_sample=settings.silhouette_sample,
        quotes_per_theme=QUOTES_PER_THEME,
        keywords_per_theme=KEYWORDS_PER_THEME,
        algorithm_version=ALGORITHM_VERSION,
        k_criterion=criterion,
        k_scores={str(c): s for c, s in k_scores.items()},
        near_duplicate_jaccard=NEAR_JACCARD if near_duplicates else 0.0,
        long_opinion_chars=LONG_OPINION,
        n_distinct=len(groups.representatives),
        n_units=n_units,
    )
    model = ModelInfo(name=embedder.name, version=embedder.version, dim=int(vectors.shape[1]))
    return ThemeAnalysis(themes=themes, model=model, params=params)
