"""New opinions into a recorded analysis's themes, without clustering again.

Each theme's centre is the normalised mean of its units' vectors (centred per language on the
analysed corpus, as the analysis did). A new opinion is split into units the same way; each unit
goes to the theme whose centre is nearest, unless it is farther than ``threshold``: the 5th
percentile of the analysed units' similarity to their own theme's centre, measured per analysis
(so 95% of what the analysis put in a theme was at least this close). A new opinion none of whose
units is that close goes to 新しい意見, and the analysis is flagged for a re-run. A new opinion that
is a near-duplicate of an analysed one follows it into its themes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec
import numpy as np

from ml.clustering import ClusterSettings
from ml.duplicates import group_near_duplicates
from ml.embedding import Embedder, l2_normalise
from ml.pipeline import _embed, language_groups
from ml.types import Opinion
from ml.units import split_units

ASSIGN_VERSION = "kyoso-assign-1 (units, lang-center, centroid cosine, p5 threshold, near-duplicates)"
NEW_THEME = "new"
FAR_PERCENTILE = 5.0


class OpinionAssignment(msgspec.Struct, frozen=True):
    opinion_id: str
    themes: list[str]  # top-level theme ids; empty: 新しい意見
    similarity: float  # of its closest unit to its closest theme centre
    duplicate_of: str = ""  # an analysed opinion it repeats, if any


class Assignment(msgspec.Struct, frozen=True):
    assignments: list[OpinionAssignment]
    threshold: float
    rerun_recommended: bool
    algorithm_version: str = ASSIGN_VERSION

    @property
    def far(self) -> list[str]:
        return [a.opinion_id for a in self.assignments if not a.themes]


def _unit_text(texts: Mapping[str, str], unit_id: str) -> str | None:
    opinion_id, _, number = unit_id.partition("#")
    text = texts.get(opinion_id)
    if text is None:
        return None
    if not number:
        return text
    parts = split_units(text)
    n = int(number)
    return parts[n - 1] if 0 < n <= len(parts) else None


def assign(
    themes: Sequence[tuple[str, Sequence[str], Sequence[str]]],
    analysed: Mapping[str, str],
    new: Sequence[Opinion],
    embedder: Embedder,
) -> Assignment:
    """``themes``: (theme id, unit ids, member ids) of the analysis's top level; ``analysed``: the
    texts of its opinions (id -> text; an erased person's may be missing); ``new``: what came since."""
    if not new:
        raise ValueError("no new opinions to assign")
    unit_rows: list[tuple[int, str]] = []
    for number, (_, unit_ids, _) in enumerate(themes):
        for unit_id in unit_ids:
            text = _unit_text(analysed, unit_id)
            if text is not None:
                unit_rows.append((number, text))
    if not unit_rows:
        raise ValueError("none of the analysed opinions can be read any more")
    new_units = [(i, part) for i, o in enumerate(new) for part in split_units(o.text)]
    texts = [t for _, t in unit_rows] + [t for _, t in new_units]
    vectors = _embed(embedder, texts, None)
    vectors = _centre_like_analysis(vectors, texts, len(unit_rows))
    old, fresh = vectors[: len(unit_rows)], vectors[len(unit_rows) :]
    labels = np.array([n for n, _ in unit_rows])
    centres = l2_normalise(np.vstack([old[labels == n].mean(axis=0) for n in range(len(themes))]))
    own = np.einsum("ij,ij->i", old, centres[labels])
    threshold = float(np.percentile(own, FAR_PERCENTILE))

    followed = _duplicates_of(themes, analysed, new)
    sims = fresh @ centres.T
    best = sims.argmax(axis=1)
    out: list[OpinionAssignment] = []
    for i, opinion in enumerate(new):
        rows = [r for r, (owner, _) in enumerate(new_units) if owner == i]
        closest = max(float(sims[r, best[r]]) for r in rows)
        if opinion.id in followed:
            source, theme_ids = followed[opinion.id]
            out.append(OpinionAssignment(opinion.id, theme_ids, round(closest, 4), source))
            continue
        chosen = sorted({themes[int(best[r])][0] for r in rows if sims[r, best[r]] >= threshold})
        out.append(OpinionAssignment(opinion.id, chosen, round(closest, 4)))
    rerun = any(not a.themes for a in out)
    return Assignment(assignments=out, threshold=round(threshold, 4), rerun_recommended=rerun)


def _centre_like_analysis(vectors: np.ndarray, texts: list[str], n_old: int) -> np.ndarray:
    """Per-language centring with the means of the analysed units only (the new ones must not
    move the analysis's geometry), as ml.clustering.center_by_group does."""
    groups = language_groups(texts)
    old_groups = groups[:n_old]
    minimum = ClusterSettings().min_language_group
    centred = vectors - vectors[:n_old].mean(axis=0)
    for group in np.unique(groups):
        if (old_groups == group).sum() >= minimum:
            mask = groups == group
            centred[mask] = vectors[mask] - vectors[:n_old][old_groups == group].mean(axis=0)
    return l2_normalise(centred)


def _duplicates_of(
    themes: Sequence[tuple[str, Sequence[str], Sequence[str]]], analysed: Mapping[str, str], new: Sequence[Opinion]
) -> dict[str, tuple[str, list[str]]]:
    old_ids = list(analysed)
    groups = group_near_duplicates([analysed[i] for i in old_ids] + [o.text for o in new])
    first_old: dict[int, str] = {}
    for i, opinion_id in enumerate(old_ids):
        first_old.setdefault(int(groups.group_of[i]), opinion_id)
    themes_of: dict[str, list[str]] = {}
    for theme_id, _, members in themes:
        for m in members:
            themes_of.setdefault(m, []).append(theme_id)
    out = {}
    for j, opinion in enumerate(new):
        source = first_old.get(int(groups.group_of[len(old_ids) + j]))
        if source is not None and source in themes_of:
            out[opinion.id] = (source, sorted(themes_of[source]))
    return out
