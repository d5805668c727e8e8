"""A reader of published figures who tries to recover hidden cells: the test of the small-cell rule.

It knows the equations anyone can write down (Σ coefficient × cell = 0), the values shown and the
cells hidden; it subtracts along every line until nothing new comes out, then solves exactly.
"""

from fractions import Fraction
from typing import Any


class Adversary:
    def __init__(self) -> None:
        self.equations: list[dict[Any, Fraction]] = []
        self.known: dict[Any, Fraction] = {}
        self.hidden: set[Any] = set()

    def equation(self, terms: dict[Any, Any]) -> None:
        self.equations.append({k: Fraction(v) for k, v in terms.items() if v})

    def recovered_by_subtraction(self) -> dict[Any, Fraction]:
        """Every line with a single unknown left gives it; repeated until nothing new comes out."""
        known = dict(self.known)
        changed = True
        while changed:
            changed = False
            for eq in self.equations:
                unknown = [k for k in eq if k not in known]
                if len(unknown) == 1:
                    (k,) = unknown
                    known[k] = -sum((c * known[j] for j, c in eq.items() if j != k), Fraction(0)) / eq[k]
                    changed = True
        return {k: v for k, v in known.items() if k in self.hidden}

    def determined(self) -> set[Any]:
        """Hidden cells fixed by some combination of the equations (exact Gauss–Jordan)."""
        pivots: dict[Any, dict[Any, Fraction]] = {}
        for eq in self.equations:
            row = {k: c for k, c in eq.items() if k not in self.known}
            for p in [k for k in row if k in pivots]:
                factor = row.get(p, Fraction(0))
                for k, v in pivots[p].items():
                    row[k] = row.get(k, Fraction(0)) - factor * v
                row = {k: v for k, v in row.items() if v}
            if not row:
                continue
            p = next(iter(row))
            row = {k: v / row[p] for k, v in row.items()}
            for q, other in pivots.items():
                if p in other:
                    factor = other[p]
                    merged = {k: other.get(k, Fraction(0)) - factor * row.get(k, Fraction(0)) for k in {*other, *row}}
                    pivots[q] = {k: v for k, v in merged.items() if v}
            pivots[p] = row
        return {p for p, row in pivots.items() if len(row) == 1 and p in self.hidden}
