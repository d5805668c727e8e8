"""Opinion-theme analysis for Kyoso: free-text opinions in, labelled themes out.

No web or database code lives here; callers pass opinions and store the returned
``ThemeAnalysis`` however they like (``encode_analysis`` / ``decode_analysis`` round-trip it).
"""

from ml.assign import Assignment, OpinionAssignment, assign
from ml.cache import CachedEmbedder, DiskEmbeddingCache, MemoryEmbeddingCache, make_embedder
from ml.csvio import OpinionInputError, read_opinions_csv
from ml.embedding import E5Embedder, Embedder, SentenceTransformerEmbedder, base_embedder
from ml.pipeline import analyze
from ml.types import (
    AnalysisParams,
    DuplicateGroup,
    ModelInfo,
    Opinion,
    Quote,
    Theme,
    ThemeAnalysis,
    analysis_from_dict,
    analysis_to_dict,
    decode_analysis,
    encode_analysis,
)

__all__ = [
    "AnalysisParams",
    "Assignment",
    "CachedEmbedder",
    "DiskEmbeddingCache",
    "DuplicateGroup",
    "E5Embedder",
    "Embedder",
    "MemoryEmbeddingCache",
    "ModelInfo",
    "Opinion",
    "OpinionAssignment",
    "OpinionInputError",
    "Quote",
    "SentenceTransformerEmbedder",
    "Theme",
    "ThemeAnalysis",
    "analysis_from_dict",
    "analysis_to_dict",
    "analyze",
    "assign",
    "base_embedder",
    "decode_analysis",
    "encode_analysis",
    "make_embedder",
    "read_opinions_csv",
]
