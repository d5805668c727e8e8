"""Theme quality on SIB-200 (Japanese and English, 7 gold topics), for quoting and for tests.

Run ``python -m ml.evaluate`` to print V-measure, AMI and ARI of the themes against the gold
topic (and against language for the mixed set, where lower is better), the near-duplicate
grouping of injected templated variants, and the clustering families compared at k=7. The data is read from
``$KYOSO_SHARED_DIR/data/sib200`` or ``<repo>/../shared/data/sib200``; it is never copied into
the repository.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import (
    adjusted_mutual_info_score,
    adjusted_rand_score,
    v_measure_score,
)

from ml.embedding import Embedder
from ml.pipeline import analyze
from ml.types import Opinion, ThemeAnalysis

SHARED_DIR_ENV = "KYOSO_SHARED_DIR"
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class LabelledOpinion:
    opinion: Opinion
    topic: str
    language: str


def sib_dir() -> Path:
    shared = os.environ.get(SHARED_DIR_ENV)
    base = Path(shared) if shared else Path(__file__).resolve().parents[1] / ".." / "shared"
    return (base / "data" / "sib200").resolve()


def load_sib(languages: tuple[str, ...] = ("ja",)) -> list[LabelledOpinion]:
    """All splits of SIB-200 for ``languages``; ids look like ``ja-train-431``."""
    folder = sib_dir()
    rows: list[LabelledOpinion] = []
    for language in languages:
        for split in SPLITS:
            path = folder / f"{language}_{split}.tsv"
            with path.open(encoding="utf-8", newline="") as handle:
                reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
                for row in reader:
                    opinion = Opinion(id=f"{language}-{split}-{row['index_id']}", text=row["text"])
                    rows.append(LabelledOpinion(opinion, row["category"], language))
    return rows


_HEADERS_JA = ("北区在住の30代です。", "中央区に住む会社員です。", "南区在住、子育て中の母です。", "西区の者です。")
_CLOSINGS_JA = ("", "以上、よろしくお願いします。", "ぜひご検討ください。", "強く要望します。")
_HEADERS_EN = ("I live in Kita ward. ", "As a parent in Chuo ward: ", "Resident of Nishi ward here. ", "")
_CLOSINGS_EN = ("", " Thank you.", " Please consider this.", " I strongly request this.")


def templated_variants(
    base: list[Opinion], n_sources: int, per_source: int, seed: int = 0
) -> tuple[list[Opinion], dict[str, str]]:
    """Organised-campaign style copies of ``n_sources`` opinions: each variant gets a header
    (who is writing), a closing phrase, and one or two short phrases of the body swapped, or
    only punctuation and spacing changed. Returns the variants and, for each, its source's id."""
    rng = np.random.default_rng(seed)
    sources = [base[i] for i in rng.choice(len(base), n_sources, replace=False)]
    variants: list[Opinion] = []
    source_of: dict[str, str] = {}
    for s_number, source in enumerate(sources):
        ja = not source.text.isascii()
        headers, closings = (_HEADERS_JA, _CLOSINGS_JA) if ja else (_HEADERS_EN, _CLOSINGS_EN)
        for v in range(per_source):
            text = source.text
            style = v % 3
            if style == 0:  # copy-paste with different punctuation and spacing
                text = text.replace("、", " ").replace("。", "！").replace(",", " ,").replace(".", "!")
            else:
                for _ in range(style):  # one or two swapped phrases
                    span = 3 if ja else 6
                    at = int(rng.integers(0, max(1, len(text) - span)))
                    text = text[:at] + ("〇〇" if ja else "such a") + text[at + span :]
                text = headers[(s_number + v) % len(headers)] + text + closings[v % len(closings)]
            vid = f"{source.id}~v{v}"
            variants.append(Opinion(id=vid, text=text))
            source_of[vid] = source.id
    return variants, source_of


def duplicate_figures(originals: list[Opinion], variants: list[Opinion], source_of: dict[str, str]) -> dict[str, Any]:
    """How well near-duplicate grouping finds the injected variants, and what it wrongly merges."""
    from ml.duplicates import NEAR_JACCARD, group_near_duplicates

    opinions = originals + variants
    started = time.perf_counter()
    groups = group_near_duplicates([o.text for o in opinions])
    seconds = time.perf_counter() - started
    index = {o.id: i for i, o in enumerate(opinions)}
    grouped = sum(groups.group_of[index[v]] == groups.group_of[index[s]] for v, s in source_of.items())
    originals_per_group = np.bincount(groups.group_of[: len(originals)])
    wrongly_merged = int((originals_per_group[originals_per_group > 1] - 1).sum())
    return {
        "threshold_jaccard": NEAR_JACCARD,
        "originals": len(originals),
        "variants": len(variants),
        "variants_grouped_with_source": int(grouped),
        "distinct_opinions_wrongly_merged": wrongly_merged,
        "groups": len(groups.representatives),
        "seconds": round(seconds, 3),
    }


def top_level_labels(analysis: ThemeAnalysis, ids: list[str]) -> list[str]:
    theme_of = {member: theme.id for theme in analysis.themes for member in theme.members}
    return [theme_of[i] for i in ids]


def scores(gold: list[str], predicted: list[str]) -> dict[str, float]:
    return {
        "v_measure": round(float(v_measure_score(gold, predicted)), 4),
        "ami": round(float(adjusted_mutual_info_score(gold, predicted)), 4),
        "ari": round(float(adjusted_rand_score(gold, predicted)), 4),
    }


def evaluate_set(
    data: list[LabelledOpinion], embedder: Embedder, k: int | None, seed: int = 0, **options: Any
) -> dict[str, Any]:
    opinions = [d.opinion for d in data]
    started = time.perf_counter()
    analysis = analyze(opinions, k=k, embedder=embedder, seed=seed, **options)
    elapsed = time.perf_counter() - started
    predicted = top_level_labels(analysis, [o.id for o in opinions])
    result: dict[str, Any] = {
        "n": len(data),
        "k_requested": k,
        "k": analysis.params.k_chosen,
        "k_criterion": analysis.params.k_criterion,
        "topic": scores([d.topic for d in data], predicted),
        "seconds": round(elapsed, 2),
    }
    if len({d.language for d in data}) > 1:
        result["language"] = scores([d.language for d in data], predicted)
    return result


def compare_families(data: list[LabelledOpinion], embedder: Embedder, k: int = 7, seed: int = 0) -> dict[str, Any]:
    """The representation x clustering families of issue 11 at SIB's coarse granularity (k=7).

    Centred e5 is the pipeline's per-language centring; the lexical part is character 2-3-gram
    TF-IDF reduced by SVD to 50 dimensions, mixed 0.6/0.4 by squared weight."""
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    from ml.clustering import ClusterSettings, center_by_group, cluster, reduce
    from ml.embedding import l2_normalise
    from ml.pipeline import language_groups

    texts = [d.opinion.text for d in data]
    gold = [d.topic for d in data]
    centred = center_by_group(embedder.embed(texts), language_groups(texts), ClusterSettings().min_language_group)
    tfidf = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), sublinear_tf=True, min_df=2).fit_transform(texts)
    lexical = l2_normalise(TruncatedSVD(50, random_state=seed).fit_transform(tfidf))
    mixed = l2_normalise(np.hstack([np.sqrt(0.6) * centred, np.sqrt(0.4) * lexical]))
    settings = ClusterSettings()

    def spectral(vectors: np.ndarray) -> np.ndarray:
        return cluster(reduce(vectors, settings.reduced_dim, seed), k, range(k, k + 1), settings, seed).labels

    def linkage(vectors: np.ndarray, how: str) -> np.ndarray:
        metric = "euclidean" if how == "ward" else "cosine"
        points = reduce(vectors, settings.reduced_dim, seed) if how == "ward" else vectors
        return AgglomerativeClustering(k, linkage=how, metric=metric).fit_predict(points)

    runs = {
        "centred e5, spectral (the pipeline)": lambda: spectral(centred),
        "centred e5, Ward": lambda: linkage(centred, "ward"),
        "centred e5, average-cosine linkage": lambda: linkage(centred, "average"),
        "centred e5 0.6 + char TF-IDF SVD 0.4, average-cosine linkage": lambda: linkage(mixed, "average"),
        "centred e5 0.6 + char TF-IDF SVD 0.4, spectral": lambda: spectral(mixed),
        "char TF-IDF SVD, spectral": lambda: spectral(lexical),
    }
    return {name: scores(gold, [str(x) for x in run()]) for name, run in runs.items()}


def sib_duplicate_figures(n_sources: int = 100, per_source: int = 6) -> dict[str, Any]:
    """Near-duplicate grouping on SIB ja+en with ``n_sources`` x ``per_source`` templated variants."""
    originals = [d.opinion for d in load_sib(("ja", "en"))]
    variants, source_of = templated_variants(originals, n_sources, per_source)
    return duplicate_figures(originals, variants, source_of)


def evaluate_sib(embedder: Embedder, seed: int = 0) -> dict[str, Any]:
    """The figures quoted in the README / report: ja and ja+en, k=7 and automatic k (stability),
    near-duplicate grouping, and the clustering families compared at k=7."""
    ja = load_sib(("ja",))
    mixed = load_sib(("ja", "en"))
    return {
        "model": {"name": embedder.name, "version": embedder.version},
        "ja_k7": evaluate_set(ja, embedder, 7, seed),
        "ja_auto": evaluate_set(ja, embedder, None, seed),
        "ja_en_k7": evaluate_set(mixed, embedder, 7, seed),
        "ja_en_auto": evaluate_set(mixed, embedder, None, seed),
        "ja_en_k7_no_centering": evaluate_set(mixed, embedder, 7, seed, center_languages=False),
        "duplicates": sib_duplicate_figures(),
        "families_ja_k7": compare_families(ja, embedder, 7, seed),
        "families_ja_en_k7": compare_families(mixed, embedder, 7, seed),
    }


def main() -> None:
    from ml.cache import make_embedder

    model = sys.argv[1] if len(sys.argv) > 1 else None
    print(json.dumps(evaluate_sib(make_embedder(model)), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
