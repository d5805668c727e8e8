"""Near-duplicate opinions (同趣旨): the same text, or a template with a few words changed.

Two steps, both lexical so that a campaign of 500 copies costs one embedding, not 500:
1. Exact groups: texts equal after normalisation (NFKC, lower case, no whitespace, punctuation
   or symbols), so "保育園を増やして！" and "保育園を増やして。 " are one opinion.
2. Near groups: Jaccard similarity of the normalised texts' character 3-grams (5-grams for
   Latin-script text) at least ``NEAR_JACCARD``. Candidate pairs come from MinHash LSH (32 hashes
   in 16 bands of 2: a pair at 0.5 collides in some band with probability 0.99), each checked
   exactly; groups are the connected components of the checked pairs.

The threshold was measured (``python -m ml.evaluate``, "duplicates") on SIB-200 ja+en, 2,008
distinct sentences plus 600 injected templated variants of 100 of them (a header naming a ward or
who writes, a closing phrase, one or two short phrases swapped, or only punctuation and spacing
changed):

| Jaccard ≥ | variants grouped with their source | distinct sentences wrongly merged |
|---|---|---|
| 0.40 | 582 / 600 | 3 |
| 0.45 | 563 / 600 | 3 |
| **0.50** | **534 / 600 (89%)** | **1** (one SIB sentence contains the other) |
| 0.55 | 489 / 600 | 0 |
| 0.60 | 438 / 600 | 0 |

The variants missed are short sentences given both a header and a closing: more of their text
is template than opinion, and a lower threshold starts merging distinct sentences.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

NEAR_JACCARD = 0.5
SHINGLE = 3
LATIN_SHINGLE = 5
_HASHES, _BANDS = 32, 16
# Members checked per LSH bucket besides its first: a campaign puts hundreds of variants in one
# bucket, and comparing each with a few is enough once groups are connected components.
_BUCKET_CHECKS = 1
_STRIP = re.compile(r"[\s\W_]+")
_DROP: dict[int, None] | None = None


def _drop_table() -> dict[int, None]:
    global _DROP
    if _DROP is None:  # built once: a category lookup per character of every text is slow
        _DROP = {c: None for c in range(0x10000) if unicodedata.category(chr(c))[0] in "PSZC"}
    return _DROP


def normalise(text: str) -> str:
    """NFKC, lower case, whitespace, punctuation and symbols removed (Japanese letters kept)."""
    return _STRIP.sub("", unicodedata.normalize("NFKC", text).lower().translate(_drop_table()))


def shingles(normalised: str) -> set[str]:
    # Latin-script text shares many short letter runs ("the", "ing") between unrelated
    # sentences: 3-grams merged distinct English SIB sentences at 0.53, 5-grams did not.
    size = SHINGLE if not normalised.isascii() else LATIN_SHINGLE
    if len(normalised) <= size:
        return {normalised} if normalised else set()
    return {normalised[i : i + size] for i in range(len(normalised) - size + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class Groups:
    """``group_of[i]`` is the group of text i; a group's representative is its first (oldest) text."""

    group_of: np.ndarray
    representatives: list[int]  # index of each group's representative, in order of first appearance
    exact: np.ndarray  # per text: True when identical (after normalisation) to its representative

    @property
    def counts(self) -> np.ndarray:
        return np.bincount(self.group_of, minlength=len(self.representatives))

    def members(self) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in self.representatives]
        for i, g in enumerate(self.group_of.tolist()):
            out[g].append(i)
        return out


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)  # the older text stays the root


def _shingle_hashes(keys: list[str], size: int) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every character ``size``-gram of each key, concatenated, and where each
    key's start (a key shorter than ``size`` is one gram). Vectorised: MinHash needs no sets."""
    codes = np.frombuffer("".join(keys).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lengths = np.array([len(k) for k in keys], dtype=np.int64)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    with np.errstate(over="ignore"):
        rolled = np.zeros(len(codes), dtype=np.uint64)
        for j in range(size):  # polynomial hash of the window starting at each position
            part = np.zeros(len(codes), dtype=np.uint64)
            part[: len(codes) - j] = codes[j:]
            rolled = rolled * np.uint64(0x100000001B3) + part
    window_starts = [np.arange(s, max(s + 1, e - size + 1)) for s, e in zip(starts, ends, strict=True)]
    counts = np.array([len(w) for w in window_starts], dtype=np.int64)
    positions = np.concatenate(window_starts) if window_starts else np.zeros(0, dtype=np.int64)
    return rolled[np.minimum(positions, max(len(codes) - 1, 0))] if len(codes) else np.zeros(
        len(positions), dtype=np.uint64
    ), np.concatenate([[0], np.cumsum(counts)[:-1]])


def _minhash(keys: list[str]) -> np.ndarray:
    rng = np.random.default_rng(20240611)  # fixed: the same texts always give the same groups
    # Multiply-shift hashing (Dietzfelbinger): wrapping uint64 arithmetic, no modulo needed.
    a = rng.integers(1, 2**63, _HASHES, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, _HASHES, dtype=np.uint64)
    signatures = np.zeros((len(keys), _HASHES), dtype=np.uint32)
    latin = np.array([k.isascii() for k in keys], dtype=bool)
    for mask, size in ((~latin, SHINGLE), (latin, LATIN_SHINGLE)):
        chosen = np.flatnonzero(mask)
        if not len(chosen):
            continue
        hashes, starts = _shingle_hashes([keys[i] or " " for i in chosen], size)
        with np.errstate(over="ignore"):
            mixed = ((a * hashes[:, None] + b) >> np.uint64(32)).astype(np.uint32)
        signatures[chosen] = np.minimum.reduceat(mixed, starts, axis=0)
    return signatures


def group_near_duplicates(texts: Sequence[str], threshold: float = NEAR_JACCARD) -> Groups:
    n = len(texts)
    keys = [normalise(t) for t in texts]
    first_of: dict[str, int] = {}
    uf = _UnionFind(n)
    for i, key in enumerate(keys):
        j = first_of.setdefault(key, i)
        if j != i:
            uf.union(j, i)
    distinct = list(first_of.values())  # one text per exact group
    sets: dict[int, set[str]] = {}

    checked: set[tuple[int, int]] = set()

    def similar(x: int, y: int) -> bool:
        if (x, y) in checked:  # a pair colliding in several bands is compared once
            return False
        checked.add((x, y))
        for d in (x, y):
            if d not in sets:
                sets[d] = shingles(keys[distinct[d]])
        return jaccard(sets[x], sets[y]) >= threshold

    if len(distinct) > 1 and threshold <= 1.0:
        signatures = _minhash([keys[i] for i in distinct])
        rows = _HASHES // _BANDS
        for band in range(_BANDS):
            buckets: dict[bytes, list[int]] = {}
            part = np.ascontiguousarray(signatures[:, band * rows : (band + 1) * rows])
            for d, row in enumerate(part):
                buckets.setdefault(row.tobytes(), []).append(d)
            for members in buckets.values():
                if len(members) < 2:
                    continue
                leaders = members[: 1 + _BUCKET_CHECKS]
                for d in members[1:]:
                    root = uf.find(distinct[d])
                    for lead in leaders:
                        if lead != d and uf.find(distinct[lead]) != root and similar(lead, d):
                            uf.union(distinct[lead], distinct[d])
                            root = uf.find(distinct[d])
    roots = [uf.find(i) for i in range(n)]
    number: dict[int, int] = {}
    group_of = np.array([number.setdefault(r, len(number)) for r in roots], dtype=np.int64)
    representatives = list(number)
    exact = np.array([keys[i] == keys[roots[i]] for i in range(n)], dtype=bool)
    return Groups(group_of=group_of, representatives=representatives, exact=exact)
