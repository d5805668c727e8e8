"""Secondary suppression: hiding enough more cells that no hidden cell can be worked out.

A published table is a set of cells tied by linear equations that anyone can write down: a total
is the sum of its parts, a column's buckets add up to its respondents, a sum (mean × n) is the
weighted sum of its buckets. Hiding a cell only protects it if no combination of those equations
pins it down. `protect` first applies the line rule (no equation may have exactly one hidden
cell) and then audits the whole system exactly, hiding more cells until the audit finds nothing.
"""

from collections.abc import Callable, Hashable, Iterable, Mapping
from math import gcd
from typing import Any

Key = Hashable
Equation = Mapping[Key, int]  # sum of coefficient × cell == 0


def protect(
    equations: Iterable[Equation],
    hidden: set[Key],
    cost: Mapping[Key, Any],
) -> set[Key]:
    """Hides more cells (only cells in `cost`, cheapest first) until no hidden cell is determined.

    Cells not in `cost` are never hidden here: the caller keeps them shown, or has hidden them
    already. Returns the hidden set, grown in place.
    """
    equations = [{k: v for k, v in e.items() if v} for e in equations]
    while True:
        _line_rule(equations, hidden, cost)
        # Hidden cells alone say whether any is determined; the shown ones, which say what to
        # hide next, lengthen every row, so they are carried only when something was found.
        if not determined(equations, hidden, with_shown=False):
            return hidden
        found = determined(equations, hidden)
        more = {c for c in (_cheapest(row, hidden, cost) for row in found.values()) if c is not None}
        if not more:
            return hidden
        hidden |= more


def _cheapest(row: Mapping[Key, int], hidden: set[Key], cost: Mapping[Key, Any]) -> Key | None:
    candidates = [k for k, v in row.items() if v and k not in hidden and k in cost]
    return min(candidates, key=cost.__getitem__) if candidates else None


def _line_rule(equations: list[dict[Key, int]], hidden: set[Key], cost: Mapping[Key, Any]) -> None:
    """The cheap pass: a line with a single hidden cell gives it away by subtraction."""
    changed = True
    while changed:
        changed = False
        for equation in equations:
            if sum(1 for k in equation if k in hidden) == 1:
                cell = _cheapest(equation, hidden, cost)
                if cell is not None:
                    hidden.add(cell)
                    changed = True


def determined(
    equations: Iterable[Equation], hidden: set[Key], *, with_shown: bool = True
) -> dict[Key, dict[Key, int]]:
    """The hidden cells whose value follows from the equations and the shown cells.

    Exact Gauss–Jordan elimination over the integers, pivoting only on hidden cells: a hidden cell
    is determined when the reduced row of its pivot holds no other hidden cell. That row, the
    combination that gives it away, is returned with it (its other entries are shown cells, left
    out `with_shown=False`).
    """
    equations = list(equations)
    # Sparse lines first, and as pivot the hidden cell in fewest lines: less fill-in.
    lines_of: dict[Key, int] = {}
    for equation in equations:
        for k in equation:
            if k in hidden:
                lines_of[k] = lines_of.get(k, 0) + 1
    equations.sort(key=lambda e: sum(1 for k in e if k in hidden))
    pivots: dict[Key, dict[Key, int]] = {}
    for equation in equations:
        row = {k: v for k, v in equation.items() if v and (with_shown or k in hidden)}
        for pivot in [k for k in row if k in pivots]:
            if pivot in row:
                row = _eliminate(row, pivots[pivot], pivot)
        free = [k for k in row if k in hidden]
        if not free:
            continue
        new = min(free, key=lines_of.__getitem__)
        for other, other_row in pivots.items():
            if new in other_row:
                pivots[other] = _eliminate(other_row, row, new)
        pivots[new] = row
    return {k: row for k, row in pivots.items() if not any(c in hidden and c != k for c in row)}


def _eliminate(row: dict[Key, int], by: dict[Key, int], key: Key) -> dict[Key, int]:
    """row × by[key] − by × row[key], divided by the gcd of what is left: `key` drops out."""
    a, b = by[key], row[key]
    out = {k: a * v for k, v in row.items()}
    for k, v in by.items():
        out[k] = out.get(k, 0) - b * v
    out = {k: v for k, v in out.items() if v}
    g = 0
    for v in out.values():
        g = gcd(g, v)
    return {k: v // g for k, v in out.items()} if g > 1 else out


def line(total: Key, parts: Iterable[Key], weights: Callable[[Key], int] | None = None) -> dict[Key, int]:
    """The equation total = Σ weight × part."""
    equation: dict[Key, int] = {total: 1}
    for part in parts:
        equation[part] = equation.get(part, 0) - (weights(part) if weights else 1)
    return equation
