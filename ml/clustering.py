"""Grouping opinion embeddings into themes, deterministically and fast on two cores.

Pipeline (each step measured on SIB-200, see ml/evaluate.py):
1. Per-language centering: subtracting each language's mean vector removes most of the
   "this is Japanese / this is English" direction, so mixed input clusters by topic
   (language V-measure fell from 0.53 to 0.00 on ja+en SIB).
2. PCA to a few dozen dimensions and re-normalisation: cheaper and slightly better.
3. Spectral clustering on a k-nearest-neighbour graph (beat k-means and Ward by ~0.04
   V-measure, and is far less seed-sensitive than k-means). For big inputs the graph is built
   on a fixed-seed sample and the other points take the majority theme of their nearest
   sampled neighbours, which keeps 10,000 opinions within a few seconds.
4. The number of top-level themes, unless given, is the most stable one: the clustering of
   the whole is compared (adjusted Rand index) with clusterings of resamples of 80% (at most
   ``stability_points``), and the k with the highest mean agreement wins. Silhouette picked 3 on
   SIB-200's 7 topics; so did raw stability, the spectral eigengap and prediction strength over
   2..12, because the 7 topics merge into 3 very stable groups. A page of 2 to 4 themes does not
   summarise a consultation, so the automatic range starts at 5 (``--k`` still allows any
   number) and within 5..12 stability chose 7 on SIB ja and ja+en for every seed tried (6 once).
   Sub-themes, cheaper, keep the silhouette.
5. Weights: a group of near-duplicate opinions is one point weighted 1 + ln(count) in k-means,
   so a campaign of 500 copies counts, but cannot pull a theme's centre onto itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.sparse import diags
from scipy.sparse.linalg import eigsh
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.neighbors import kneighbors_graph
from threadpoolctl import threadpool_limits

from ml.embedding import l2_normalise


@dataclass(frozen=True)
class ClusterSettings:
    reduced_dim: int = 50
    neighbours: int = 15
    # Above this many points, spectral clustering runs on a sample of this size.
    spectral_sample: int = 2500
    propagate_neighbours: int = 10
    silhouette_sample: int = 1500
    kmeans_init: int = 4
    # Groups smaller than this share the global mean instead of their own when centering; the
    # mean of a handful of opinions is mostly their content, not their language.
    min_language_group: int = 20
    min_spectral_points: int = 30
    criterion: str = "silhouette"  # or "stability"
    stability_resamples: int = 4
    stability_points: int = 1000


def center_by_group(vectors: np.ndarray, groups: np.ndarray, min_group: int) -> np.ndarray:
    """Subtract each group's mean (global mean for small groups) and re-normalise."""
    centred = vectors - vectors.mean(axis=0)
    for group in np.unique(groups):
        mask = groups == group
        if mask.sum() >= min_group:
            centred[mask] = vectors[mask] - vectors[mask].mean(axis=0)
    return l2_normalise(centred)


def reduce(vectors: np.ndarray, dim: int, seed: int) -> np.ndarray:
    dim = min(dim, vectors.shape[0] - 1, vectors.shape[1])
    if dim < 2:
        return l2_normalise(vectors)
    reduced = PCA(n_components=dim, svd_solver="full", random_state=seed).fit_transform(vectors)
    return l2_normalise(reduced)


def _spectral_basis(points: np.ndarray, components: int, settings: ClusterSettings, seed: int) -> np.ndarray:
    """Leading eigenvectors of the normalised kNN affinity D^-1/2 A D^-1/2 (Ng-Jordan-Weiss).

    Our own eigsh call with a loose tolerance is ~10x faster than sklearn's spectral_embedding
    (which solves to machine precision) and gave the same clusters on SIB-200.
    """
    n = len(points)
    components = min(components, n - 2)
    neighbours = min(settings.neighbours, n - 1)
    # Connectivity weights (all 1) measured as well as heat-kernel weights, with no bandwidth.
    graph = kneighbors_graph(points, neighbours, metric="cosine", include_self=False)
    graph = (0.5 * (graph + graph.T)).tocsr()
    inv_sqrt_degree = diags(1.0 / np.sqrt(np.asarray(graph.sum(axis=1)).ravel()))
    affinity = inv_sqrt_degree @ graph @ inv_sqrt_degree
    start = np.random.default_rng(seed).uniform(-1, 1, n)
    _, vectors = eigsh(affinity, k=components, which="LA", v0=start, tol=1e-4)
    vectors = vectors[:, ::-1]  # largest eigenvalue first
    # Eigenvectors have no inherent sign; fix it so results never depend on the solver's whim.
    signs = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(vectors.shape[1])])
    return (vectors * np.where(signs == 0, 1, signs)).astype(np.float64)


def _labels_for_k(
    basis: np.ndarray, k: int, settings: ClusterSettings, seed: int, weights: np.ndarray | None = None
) -> np.ndarray:
    # Row-normalised leading eigenvectors (Ng, Jordan & Weiss) measured better than raw ones.
    # One OpenMP thread: these fits are small, and on a busy two-core machine scikit-learn's
    # thread pool made 8 fits take 9.6 s instead of 0.55 s (oversubscription).
    features = l2_normalise(basis[:, :k])
    model = KMeans(n_clusters=k, n_init=settings.kmeans_init, random_state=seed)
    with threadpool_limits(1, user_api="openmp"):
        return model.fit_predict(features, sample_weight=weights)


def _stability(
    points: np.ndarray,
    labels: dict[int, np.ndarray],
    settings: ClusterSettings,
    seed: int,
    weights: np.ndarray | None,
) -> dict[int, float]:
    """Mean adjusted Rand index between each k's clustering and those of resamples."""
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(seed + 1)
    n = len(points)
    size = min(settings.stability_points, int(0.8 * n))
    agreement: dict[int, list[float]] = {k: [] for k in labels}
    quick = replace(settings, kmeans_init=2)  # resamples are many: fewer restarts each
    for r in range(settings.stability_resamples):
        sub = np.sort(rng.choice(n, size, replace=False))
        basis = _spectral_basis(points[sub], max(labels), settings, seed + 1 + r)
        w = weights[sub] if weights is not None else None
        for k, full in labels.items():
            again = _labels_for_k(basis, k, quick, seed + 1 + r, w)
            agreement[k].append(adjusted_rand_score(full[sub], again))
    return {k: round(float(np.mean(v)), 6) for k, v in agreement.items()}


def _propagate(
    points: np.ndarray, sample_idx: np.ndarray, sample_labels: np.ndarray, k: int, n_vote: int
) -> np.ndarray:
    """Give every point the similarity-weighted majority label of its nearest sampled points."""
    labels = np.empty(len(points), dtype=np.int64)
    labels[sample_idx] = sample_labels
    rest = np.setdiff1d(np.arange(len(points)), sample_idx)
    sample_points = points[sample_idx]
    n_vote = min(n_vote, len(sample_idx))
    for start in range(0, len(rest), 2048):
        chunk = rest[start : start + 2048]
        sims = points[chunk] @ sample_points.T
        nearest = np.argpartition(-sims, n_vote - 1, axis=1)[:, :n_vote]
        votes = np.zeros((len(chunk), k), dtype=np.float64)
        rows = np.repeat(np.arange(len(chunk)), n_vote)
        weights = np.take_along_axis(sims, nearest, axis=1).ravel()
        np.add.at(votes, (rows, sample_labels[nearest].ravel()), np.maximum(weights, 0) + 1e-6)
        labels[chunk] = votes.argmax(axis=1)
    return labels


def _relabel_by_size(labels: np.ndarray) -> np.ndarray:
    """Cluster 0 is the biggest (ties: first occurrence), so ids read in order of importance."""
    values, first, counts = np.unique(labels, return_index=True, return_counts=True)
    order = sorted(range(len(values)), key=lambda i: (-counts[i], first[i]))
    mapping = {values[i]: rank for rank, i in enumerate(order)}
    return np.array([mapping[v] for v in labels], dtype=np.int64)


def _distance_matrix(points: np.ndarray) -> np.ndarray:
    sims = np.clip(points @ points.T, -1.0, 1.0)
    return np.sqrt(np.maximum(2.0 - 2.0 * sims, 0.0))  # Euclidean distance of unit vectors


def _silhouette(distances: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette from a precomputed distance matrix (sklearn recomputes it every call)."""
    k = int(labels.max()) + 1
    onehot = np.zeros((len(labels), k))
    onehot[np.arange(len(labels)), labels] = 1.0
    counts = onehot.sum(axis=0)
    sums = distances @ onehot  # total distance from each point to each cluster
    own = labels
    own_count = counts[own]
    intra = sums[np.arange(len(labels)), own] / np.maximum(own_count - 1, 1)
    means = sums / np.maximum(counts, 1)
    means[np.arange(len(labels)), own] = np.inf
    means[:, counts == 0] = np.inf
    nearest = means.min(axis=1)
    score = (nearest - intra) / np.maximum(np.maximum(intra, nearest), 1e-12)
    score[own_count <= 1] = 0.0  # sklearn's convention for singletons
    return float(score.mean())


@dataclass(frozen=True)
class Clustering:
    labels: np.ndarray  # 0..k-1, 0 = biggest
    k: int
    silhouettes: dict[int, float]  # score per k tried (empty when k was given)
    criterion: str = "silhouette"


def cluster(
    points: np.ndarray,
    k: int | None,
    k_range: range,
    settings: ClusterSettings,
    seed: int,
    weights: np.ndarray | None = None,
) -> Clustering:
    """Cluster L2-normalised ``points`` into ``k`` groups, or into the best k in ``k_range``
    (by ``settings.criterion``); ``weights`` (one per point) weigh the k-means steps."""
    n = len(points)
    if k is not None and k >= n:
        return Clustering(np.arange(n, dtype=np.int64), n, {})
    candidates = [k] if k is not None else [c for c in k_range if 2 <= c < n]
    if n < 3 or not candidates:
        return Clustering(np.zeros(n, dtype=np.int64), 1, {})
    rng = np.random.default_rng(seed)
    if n < max(settings.min_spectral_points, max(candidates) + 2):
        # Too few points for a meaningful neighbour graph: plain k-means in the PCA space.
        best_k = candidates[0] if len(candidates) == 1 else min(max(candidates), max(2, n // 5))
        model = KMeans(n_clusters=best_k, n_init=settings.kmeans_init, random_state=seed)
        with threadpool_limits(1, user_api="openmp"):
            labels = _relabel_by_size(model.fit_predict(points, sample_weight=weights))
        return Clustering(labels, int(labels.max()) + 1, {})
    if n > settings.spectral_sample:
        sample_idx = np.sort(rng.choice(n, settings.spectral_sample, replace=False))
    else:
        sample_idx = np.arange(n)
    basis = _spectral_basis(points[sample_idx], max(candidates), settings, seed)
    sample_weights = weights[sample_idx] if weights is not None else None

    silhouettes: dict[int, float] = {}
    best_labels: np.ndarray | None = None
    if len(candidates) == 1:
        best_k = candidates[0]
        best_labels = _labels_for_k(basis, best_k, settings, seed, sample_weights)
    elif settings.criterion == "stability" and len(sample_idx) >= 2 * settings.min_spectral_points:
        by_k = {c: _labels_for_k(basis, c, settings, seed, sample_weights) for c in candidates}
        silhouettes = _stability(points[sample_idx], by_k, settings, seed, sample_weights)
        best_k = max(candidates, key=lambda c: (silhouettes[c], -c))
        best_labels = by_k[best_k]
    else:
        sil_size = min(settings.silhouette_sample, len(sample_idx))
        sil_idx = np.sort(rng.choice(len(sample_idx), sil_size, replace=False))
        # Silhouette in the PCA space, not the spectral one, so scores of different k are
        # measured on the same geometry; the distance matrix is shared by all k.
        distances = _distance_matrix(points[sample_idx][sil_idx])
        best_k, best_score = candidates[0], -np.inf
        for c in candidates:
            labels = _labels_for_k(basis, c, settings, seed, sample_weights)
            if len(np.unique(labels[sil_idx])) < 2:
                continue
            score = _silhouette(distances, labels[sil_idx])
            silhouettes[c] = round(score, 6)
            if score > best_score + 1e-9:
                best_k, best_score, best_labels = c, score, labels
        if best_labels is None:
            best_labels = _labels_for_k(basis, best_k, settings, seed, sample_weights)

    if len(sample_idx) < n:
        labels = _propagate(points, sample_idx, best_labels, best_k, settings.propagate_neighbours)
    else:
        labels = best_labels
    labels = _relabel_by_size(labels)
    criterion = settings.criterion if len(candidates) > 1 else "given"
    return Clustering(labels, int(labels.max()) + 1, silhouettes, criterion)
