"""Data shapes of opinion-theme analysis: the input opinion and the JSON-able result.

They are msgspec Structs so the web app can store a whole analysis inside a domain event and read
it back unchanged (see ``encode_analysis`` / ``decode_analysis``).
"""

from __future__ import annotations

from typing import Any

import msgspec


class Opinion(msgspec.Struct, frozen=True):
    """One citizen's free-text answer; ``id`` is whatever the caller uses to find it again."""

    id: str
    text: str


class Quote(msgspec.Struct, frozen=True):
    id: str
    text: str


class DuplicateGroup(msgspec.Struct, frozen=True):
    """Opinions that say the same thing (同趣旨): identical after normalisation (``exact``) or a
    template with a few words changed. ``representative`` (the oldest) stands for all of them."""

    representative: str
    members: list[str]
    exact: bool


class Theme(msgspec.Struct, frozen=True):
    """A theme; ``children`` are its sub-themes (empty at the leaf level).

    ``members`` are the opinions with at least one unit here (a long opinion can be in several
    themes); ``units`` the opinion units themselves (``<opinion id>`` for an opinion of one unit,
    ``<opinion id>#<n>`` for the n-th unit of a long one), each in exactly one theme per level.
    ``size`` counts members, copies of a duplicate group included.
    """

    id: str
    label: str
    keywords: list[str]
    size: int
    members: list[str]
    quotes: list[Quote]
    children: list[Theme] = []
    units: list[str] = []
    duplicates: list[DuplicateGroup] = []


class ModelInfo(msgspec.Struct, frozen=True):
    name: str
    version: str
    dim: int


class AnalysisParams(msgspec.Struct, frozen=True):
    """Everything besides the input and the model that decides the result."""

    seed: int
    k: int | None  # what the caller asked for; None means "choose automatically"
    k_chosen: int
    k_range: list[int]
    child_k_range: list[int]
    center_languages: bool
    reduced_dim: int
    clustering: str
    n_opinions: int
    silhouette_sample: int
    quotes_per_theme: int
    keywords_per_theme: int
    algorithm_version: str
    k_criterion: str = "silhouette"
    k_scores: dict[str, float] = {}
    near_duplicate_jaccard: float = 0.0
    long_opinion_chars: int = 0
    n_distinct: int = 0
    n_units: int = 0


class ThemeAnalysis(msgspec.Struct, frozen=True):
    themes: list[Theme]
    model: ModelInfo
    params: AnalysisParams


def analysis_to_dict(analysis: ThemeAnalysis) -> dict[str, Any]:
    """Plain dicts/lists/str/int, ready for any JSON encoder."""
    return msgspec.to_builtins(analysis)


def analysis_from_dict(data: dict[str, Any]) -> ThemeAnalysis:
    return msgspec.convert(data, ThemeAnalysis)


def encode_analysis(analysis: ThemeAnalysis) -> bytes:
    return msgspec.json.encode(analysis)


def decode_analysis(data: bytes | str) -> ThemeAnalysis:
    return msgspec.json.decode(data, type=ThemeAnalysis)
