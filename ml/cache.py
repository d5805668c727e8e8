"""Embedding cache: every text is embedded once per model.

Entries are keyed by (model name, model version, sha256 of the text). The on-disk layout is one
directory per model holding ``.npz`` shards, each with ``keys`` (32-byte digests) and ``vectors``.
A shard is written to a temporary file and renamed into place, so readers never see half a
shard and a crash loses at most the batch being written. Many shards are merged into one now and
then; duplicate keys across shards are harmless (all copies hold the same vector).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from ml.embedding import Embedder, ProgressCallback, embed_in_batches

DATA_DIR_ENV = "KYOSO_DATA_DIR"
_MAX_SHARDS = 32


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def default_cache_dir() -> Path:
    data_dir = os.environ.get(DATA_DIR_ENV)
    if data_dir:
        return Path(data_dir).expanduser() / "embeddings"
    return Path("~/.cache/kyoso/embeddings").expanduser()


class MemoryEmbeddingCache:
    """Process-local cache, for tests and one-off runs."""

    def __init__(self) -> None:
        self._store: dict[tuple[str, bytes], np.ndarray] = {}

    def get_many(self, model_key: str, keys: list[bytes]) -> list[np.ndarray | None]:
        return [self._store.get((model_key, k)) for k in keys]

    def put_many(self, model_key: str, keys: list[bytes], vectors: np.ndarray) -> None:
        for key, vector in zip(keys, vectors, strict=True):
            self._store[(model_key, key)] = np.array(vector, dtype=np.float32)


class DiskEmbeddingCache:
    """Directory of per-model shard files; safe against crashes and concurrent writers."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.directory = Path(directory).expanduser() if directory else default_cache_dir()
        self._loaded: dict[str, dict[bytes, np.ndarray]] = {}

    def _model_dir(self, model_key: str) -> Path:
        readable = re.sub(r"[^A-Za-z0-9._-]+", "_", model_key)[:60]
        digest = hashlib.sha256(model_key.encode()).hexdigest()[:12]
        return self.directory / f"{readable}-{digest}"

    def _index(self, model_key: str) -> dict[bytes, np.ndarray]:
        if model_key not in self._loaded:
            index: dict[bytes, np.ndarray] = {}
            folder = self._model_dir(model_key)
            for shard in sorted(folder.glob("shard-*.npz")) if folder.is_dir() else []:
                try:
                    with np.load(shard, allow_pickle=False) as data:
                        keys, vectors = data["keys"], data["vectors"]
                except (OSError, ValueError, KeyError):
                    continue  # an unreadable shard only costs re-embedding its texts
                for key, vector in zip(keys, vectors, strict=True):
                    index[bytes(key)] = vector
            self._loaded[model_key] = index
        return self._loaded[model_key]

    def get_many(self, model_key: str, keys: list[bytes]) -> list[np.ndarray | None]:
        index = self._index(model_key)
        return [index.get(k) for k in keys]

    def put_many(self, model_key: str, keys: list[bytes], vectors: np.ndarray) -> None:
        if not keys:
            return
        folder = self._model_dir(model_key)
        folder.mkdir(parents=True, exist_ok=True)
        vectors = np.asarray(vectors, dtype=np.float32)
        key_array = np.array(keys, dtype="S32")
        name = hashlib.sha256(key_array.tobytes()).hexdigest()[:24]
        self._write_shard(folder / f"shard-{name}.npz", key_array, vectors)
        index = self._index(model_key)
        for key, vector in zip(keys, vectors, strict=True):
            index[key] = vector
        shards = sorted(folder.glob("shard-*.npz"))
        if len(shards) > _MAX_SHARDS:
            self._compact(model_key, folder, shards)

    @staticmethod
    def _write_shard(path: Path, keys: np.ndarray, vectors: np.ndarray) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, keys=keys, vectors=vectors)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _compact(self, model_key: str, folder: Path, shards: list[Path]) -> None:
        index = self._index(model_key)
        keys = np.array(list(index.keys()), dtype="S32")
        vectors = np.vstack(list(index.values())).astype(np.float32)
        name = hashlib.sha256(keys.tobytes()).hexdigest()[:24]
        merged = folder / f"shard-{name}.npz"
        self._write_shard(merged, keys, vectors)
        # Old shards go only after the merged one is in place, so nothing is ever lost.
        for shard in shards:
            if shard != merged:
                shard.unlink(missing_ok=True)


EmbeddingCache = MemoryEmbeddingCache | DiskEmbeddingCache


class CachedEmbedder:
    """An ``Embedder`` that asks the model only for texts it has not seen before."""

    def __init__(self, inner: Embedder, cache: EmbeddingCache, batch_size: int = 64) -> None:
        self.inner = inner
        self.cache = cache
        self.batch_size = batch_size

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def version(self) -> str:
        return self.inner.version

    @property
    def dim(self) -> int:
        return self.inner.dim

    @property
    def model_key(self) -> str:
        return f"{self.inner.name}@{self.inner.version}"

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.embed_with_progress(texts)

    def embed_with_progress(self, texts: list[str], progress: ProgressCallback | None = None) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        found = self.cache.get_many(self.model_key, keys)
        missing: dict[bytes, str] = {}
        for key, text, vector in zip(keys, texts, found, strict=True):
            if vector is None:
                missing.setdefault(key, text)  # each distinct text goes to the model once
        total, cached = len(texts), len(texts) - len(missing)
        if progress is not None:
            progress(cached, total)
        new: dict[bytes, np.ndarray] = {}
        miss_keys, miss_texts = list(missing), list(missing.values())
        for start in range(0, len(miss_texts), self.batch_size):
            batch_keys = miss_keys[start : start + self.batch_size]
            vectors = embed_in_batches(self.inner, miss_texts[start : start + self.batch_size], self.batch_size)
            self.cache.put_many(self.model_key, batch_keys, vectors)
            new.update(zip(batch_keys, vectors, strict=True))
            if progress is not None:
                progress(cached + len(new), total)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        rows = [v if v is not None else new[k] for k, v in zip(keys, found, strict=True)]
        return np.vstack(rows).astype(np.float32, copy=False)


def make_embedder(
    model: str | Path | None = None,
    cache_dir: str | Path | None = None,
    *,
    in_memory: bool = False,
) -> CachedEmbedder:
    """The embedder the app and CLI should use: model from argument/env/default, with a cache.

    ``cache_dir`` defaults to ``$KYOSO_DATA_DIR/embeddings`` or ``~/.cache/kyoso/embeddings``.
    """
    from ml.embedding import base_embedder

    cache: EmbeddingCache = MemoryEmbeddingCache() if in_memory else DiskEmbeddingCache(cache_dir)
    return CachedEmbedder(base_embedder(model), cache)
