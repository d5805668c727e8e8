"""Shared fixtures for the theme-analysis tests.

Real e5 embeddings of SIB-200 are expensive (~20 texts/s on two cores), so they are computed
once per session, through the normal on-disk cache (``$KYOSO_DATA_DIR`` or ~/.cache/kyoso):
the first run pays ~2 minutes, later runs read the cache.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from ml.cache import CachedEmbedder, make_embedder
from ml.embedding import l2_normalise
from ml.evaluate import LabelledOpinion, load_sib, sib_dir
from ml.pipeline import analyze
from ml.types import ThemeAnalysis


class CountingEmbedder:
    """A fast fake model: bag-of-characters hashed into 64 dims; counts the texts it sees."""

    name = "test/char-hash"
    version = "1"
    dim = 64

    def __init__(self) -> None:
        self.calls = 0
        self.texts_seen = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts_seen += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for char in text:
                bucket = hashlib.blake2b(char.encode(), digest_size=2).digest()
                out[row, int.from_bytes(bucket, "little") % self.dim] += 1.0
        return l2_normalise(out + 1e-3)


@pytest.fixture
def counting_embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture(scope="session")
def sib_available() -> None:
    if not (sib_dir() / "ja_train.tsv").is_file():
        pytest.fail(f"SIB-200 data not found at {sib_dir()} (set KYOSO_SHARED_DIR)")


@pytest.fixture(scope="session")
def e5(sib_available: None) -> CachedEmbedder:
    return make_embedder(None)


@pytest.fixture(scope="session")
def sib_ja(sib_available: None) -> list[LabelledOpinion]:
    return load_sib(("ja",))


@pytest.fixture(scope="session")
def sib_mixed(sib_available: None, e5: CachedEmbedder) -> list[LabelledOpinion]:
    data = load_sib(("ja", "en"))
    e5.embed_with_progress([d.opinion.text for d in data])  # warm the cache once
    return data


@pytest.fixture(scope="session")
def ja_k7(sib_ja: list[LabelledOpinion], e5: CachedEmbedder) -> ThemeAnalysis:
    return analyze([d.opinion for d in sib_ja], k=7, embedder=e5, seed=0)


@pytest.fixture(scope="session")
def mixed_k7(sib_mixed: list[LabelledOpinion], e5: CachedEmbedder) -> ThemeAnalysis:
    return analyze([d.opinion for d in sib_mixed], k=7, embedder=e5, seed=0)
