"""Server-rendered SVG charts. Each chart is drawn beside a table holding the same numbers,
so screen-reader users read the table and the SVG is marked as an image with a summary."""

from collections.abc import Sequence

from markupsafe import Markup, escape

from projections import segments
from web.i18n import gettext

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
BAR_COLOUR = "#0b5cad"
HIDDEN_COLOUR = "#b8b8b8"
# Drawn in a narrow box, about the width of a phone's content column, so that the 14-unit text stays
# at least 12 CSS px on a 390 px phone (it used to be 560 units wide and shrank to 7 px there); wider
# screens scale it up, within the max-width the stylesheet sets.
WIDTH = 360
LABEL_WIDTH = 130
LABEL_LIMIT = 12
LEGEND_LIMIT = 11
LEGEND_COLUMNS = 2
ROW_HEIGHT = 30


def hidden_legend() -> str:
    """x: 5人未満、… in the reader's language, under the rule as it stands now."""
    return gettext(segments.SUPPRESSED_LEGEND_MESSAGE) % {"mark": segments.SUPPRESSED, "min": segments.MIN_CELL}


def _label(text: str, limit: int = 14) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _label_width(labels: Sequence[str], limit: int) -> int:
    """Room for the longest label (Japanese characters are about one em wide)."""
    longest = max((len(_label(label, limit)) for label in labels), default=4)
    return max(70, min(180, 14 * longest + 16))


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
    summary = gettext("、").join(f"{label}: {count}" for label, count in zip(labels, counts, strict=True))
    described = gettext("（%(summary)s）") % {"summary": summary}
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}{escape(described)}" focusable="false">'
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
        parts.append(f'<text x="10" y="{y}" class="chart-legend">{escape(hidden_legend())}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _hidden_legend(x: int, y: int) -> str:
    return (
        f'<rect x="{x}" y="{y}" width="12" height="12" fill="{HIDDEN_COLOUR}"/>'
        f'<text x="{x + 18}" y="{y + 11}" class="chart-legend">{escape(hidden_legend())}</text>'
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
    legend_rows = (len(bucket_labels) + LEGEND_COLUMNS - 1) // LEGEND_COLUMNS + (1 if any_hidden else 0)
    see_table = gettext("（数値は隣の表を参照）")
    height = ROW_HEIGHT * len(rows) + 8 + legend_rows * 22
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}{escape(see_table)}" focusable="false">'
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
        lx = 10 + (j % LEGEND_COLUMNS) * (WIDTH // LEGEND_COLUMNS)
        ly = y0 + (j // LEGEND_COLUMNS) * 22
        parts.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{PALETTE[j % len(PALETTE)]}"/>')
        parts.append(
            f'<text x="{lx + 18}" y="{ly + 11}" class="chart-legend">{escape(_label(label, LEGEND_LIMIT))}</text>'
        )
    if any_hidden:
        parts.append(_hidden_legend(10, y0 + (len(bucket_labels) + LEGEND_COLUMNS - 1) // LEGEND_COLUMNS * 22))
    parts.append("</svg>")
    return Markup("".join(parts))
