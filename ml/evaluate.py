"""Theme quality on SIB-200 (Japanese and English, 7 gold topics), for quoting and for tests.

Run ``python -m ml.evaluate`` to print V-measure, AMI and ARI of the themes against the gold
topic (and against language for the mixed set, where lower is better). The data is read from
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
        "topic": scores([d.topic for d in data], predicted),
        "seconds": round(elapsed, 2),
    }
    if len({d.language for d in data}) > 1:
        result["language"] = scores([d.language for d in data], predicted)
    return result


def evaluate_sib(embedder: Embedder, seed: int = 0) -> dict[str, Any]:
    """The figures quoted in the README / report: ja and ja+en, k=7 and automatic k."""
    ja = load_sib(("ja",))
    mixed = load_sib(("ja", "en"))
    return {
        "model": {"name": embedder.name, "version": embedder.version},
        "ja_k7": evaluate_set(ja, embedder, 7, seed),
        "ja_auto": evaluate_set(ja, embedder, None, seed),
        "ja_en_k7": evaluate_set(mixed, embedder, 7, seed),
        "ja_en_auto": evaluate_set(mixed, embedder, None, seed),
        "ja_en_k7_no_centering": evaluate_set(mixed, embedder, 7, seed, center_languages=False),
    }


def main() -> None:
    from ml.cache import make_embedder

    model = sys.argv[1] if len(sys.argv) > 1 else None
    print(json.dumps(evaluate_sib(make_embedder(model)), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
