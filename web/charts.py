"""Server-rendered SVG charts. Each chart is drawn beside a table holding the same numbers,
so screen-reader users read the table and the SVG is marked as an image with a summary."""

from collections.abc import Sequence

from markupsafe import Markup, escape

from projections.segments import SUPPRESSED_LEGEND as HIDDEN_LEGEND

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
BAR_COLOUR = "#0b5cad"
HIDDEN_COLOUR = "#b8b8b8"
LABEL_WIDTH = 150
LABEL_LIMIT = 20
ROW_HEIGHT = 28
WIDTH = 560


def _label(text: str, limit: int = 14) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _label_width(labels: Sequence[str], limit: int) -> int:
    """Room for the longest label (Japanese characters are about one em wide)."""
    longest = max((len(_label(label, limit)) for label in labels), default=4)
    return max(80, min(300, 13 * longest + 16))


def _hidden(value: object) -> bool:
    """A hidden cell: the mark (or anything that is not a number) where a count would be."""
    return not isinstance(value, int | float) or isinstance(value, bool)


def bar_chart(title: str, labels: Sequence[str], counts: Sequence[int | str]) -> Markup:
    """Horizontal bars, one per bucket; a hidden count (the mark "x") draws no bar, only the mark,
    and the chart then carries the legend for it."""
    numbers = [c for c in counts if not _hidden(c)]
    top = max(numbers, default=0) or 1
    label_width = _label_width(labels, LABEL_LIMIT)
    plot = WIDTH - label_width - 60
    any_hidden = any(_hidden(c) for c in counts)
    height = ROW_HEIGHT * len(labels) + 8 + (22 if any_hidden else 0)
    summary = "、".join(f"{label}: {count}" for label, count in zip(labels, counts, strict=True))
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}（{escape(summary)}）" focusable="false">'
    ]
    for i, (label, count) in enumerate(zip(labels, counts, strict=True)):
        y = 4 + i * ROW_HEIGHT
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 18}" text-anchor="end" class="chart-label">'
            f"{escape(_label(label, LABEL_LIMIT))}</text>"
        )
        if not _hidden(count) and count > 0:  # type: ignore[operator]
            w = max(2, round(plot * count / top))  # type: ignore[operator]
            parts.append(
                f'<rect x="{label_width}" y="{y + 4}" width="{w}" height="{ROW_HEIGHT - 10}" '
                f'fill="{BAR_COLOUR}" rx="2"/>'
            )
        else:
            w = 0
        parts.append(f'<text x="{label_width + w + 6}" y="{y + 18}" class="chart-value">{escape(str(count))}</text>')
    if any_hidden:  # no grey here: a hidden count has no bar at all
        y = ROW_HEIGHT * len(labels) + 19
        parts.append(f'<text x="10" y="{y}" class="chart-legend">{escape(HIDDEN_LEGEND)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _hidden_legend(x: int, y: int) -> str:
    return (
        f'<rect x="{x}" y="{y}" width="12" height="12" fill="{HIDDEN_COLOUR}"/>'
        f'<text x="{x + 18}" y="{y + 11}" class="chart-legend">{escape(HIDDEN_LEGEND)}</text>'
    )


def stacked_chart(
    title: str,
    bucket_labels: Sequence[str],
    rows: Sequence[tuple[str, Sequence[float | None], str | int]],
) -> Markup:
    """One 100% bar per segment value, split by bucket share. Hidden shares are grey, together:
    a row whose respondents are hidden (the mark "x") is grey throughout."""
    plot = WIDTH - LABEL_WIDTH - 10
    shares = [[None] * len(percents) if _hidden(n) else list(percents) for _, percents, n in rows]
    hidden_shares = [100 - sum(p for p in row if p) if any(p is None for p in row) else 0.0 for row in shares]
    any_hidden = any(h > 0.05 for h in hidden_shares)
    legend_rows = (len(bucket_labels) + 2) // 3 + (1 if any_hidden else 0)
    height = ROW_HEIGHT * len(rows) + 8 + legend_rows * 22
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}（数値は隣の表を参照）" focusable="false">'
    ]
    for i, ((label, _, respondents), row, hidden) in enumerate(zip(rows, shares, hidden_shares, strict=True)):
        y = 4 + i * ROW_HEIGHT
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 18}" text-anchor="end" class="chart-label">'
            f"{escape(_label(label))}</text>"
        )
        x = float(LABEL_WIDTH)
        for j, p in enumerate(row):
            if not p:
                continue
            w = plot * p / 100
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{ROW_HEIGHT - 10}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"/>'
            )
            x += w
        if hidden > 0.05:
            # Hidden cells are not dropped: their share together stays visible, in grey.
            w = plot * hidden / 100
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{ROW_HEIGHT - 10}" fill="{HIDDEN_COLOUR}"/>'
            )
        if _hidden(respondents):
            parts.append(
                f'<text x="{LABEL_WIDTH + 6}" y="{y + 18}" class="chart-value">{escape(str(respondents))}</text>'
            )
    y0 = 8 + ROW_HEIGHT * len(rows)
    for j, label in enumerate(bucket_labels):
        lx = 10 + (j % 3) * (WIDTH // 3)
        ly = y0 + (j // 3) * 22
        parts.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{PALETTE[j % len(PALETTE)]}"/>')
        parts.append(f'<text x="{lx + 18}" y="{ly + 11}" class="chart-legend">{escape(_label(label, 16))}</text>')
    if any_hidden:
        parts.append(_hidden_legend(10, y0 + (len(bucket_labels) + 2) // 3 * 22))
    parts.append("</svg>")
    return Markup("".join(parts))
