"""Server-rendered SVG charts. Each chart is drawn beside a table holding the same numbers,
so screen-reader users read the table and the SVG is marked as an image with a summary."""

from collections.abc import Sequence

from markupsafe import Markup, escape

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


def bar_chart(title: str, labels: Sequence[str], counts: Sequence[int | str]) -> Markup:
    """Horizontal bars, one per bucket; a suppressed count ("<5") draws no bar, only its text."""
    numbers = [c for c in counts if isinstance(c, int)]
    top = max(numbers, default=0) or 1
    label_width = _label_width(labels, LABEL_LIMIT)
    plot = WIDTH - label_width - 60
    height = ROW_HEIGHT * len(labels) + 8
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
        if isinstance(count, int) and count > 0:
            w = max(2, round(plot * count / top))
            parts.append(
                f'<rect x="{label_width}" y="{y + 4}" width="{w}" height="{ROW_HEIGHT - 10}" '
                f'fill="{BAR_COLOUR}" rx="2"/>'
            )
        else:
            w = 0
        parts.append(f'<text x="{label_width + w + 6}" y="{y + 18}" class="chart-value">{escape(str(count))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_chart(
    title: str,
    bucket_labels: Sequence[str],
    rows: Sequence[tuple[str, Sequence[float | None], str | int]],
) -> Markup:
    """One 100% bar per segment value, split by bucket share; a hidden segment shows only "<5"."""
    plot = WIDTH - LABEL_WIDTH - 10
    legend_rows = (len(bucket_labels) + 3) // 3
    height = ROW_HEIGHT * len(rows) + 8 + legend_rows * 22
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}（数値は隣の表を参照）" focusable="false">'
    ]
    for i, (label, percents, respondents) in enumerate(rows):
        y = 4 + i * ROW_HEIGHT
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 18}" text-anchor="end" class="chart-label">'
            f"{escape(_label(label))}</text>"
        )
        if any(p is None for p in percents) and all(p is None for p in percents):
            parts.append(
                f'<text x="{LABEL_WIDTH + 4}" y="{y + 18}" class="chart-value">{escape(str(respondents))}</text>'
            )
            continue
        x = float(LABEL_WIDTH)
        for j, p in enumerate(percents):
            if not p:
                continue
            w = plot * p / 100
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{ROW_HEIGHT - 10}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"/>'
            )
            x += w
        hidden = 100 - sum(p for p in percents if p)
        if any(p is None for p in percents) and hidden > 0.05:
            # Small cells are hidden, not dropped: their share together stays visible, in grey.
            w = plot * hidden / 100
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{ROW_HEIGHT - 10}" fill="{HIDDEN_COLOUR}"/>'
            )
    y0 = 8 + ROW_HEIGHT * len(rows)
    for j, label in enumerate([*bucket_labels, "5人未満のため非表示"]):
        lx = 10 + (j % 3) * (WIDTH // 3)
        ly = y0 + (j // 3) * 22
        colour = HIDDEN_COLOUR if j == len(bucket_labels) else PALETTE[j % len(PALETTE)]
        parts.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 18}" y="{ly + 11}" class="chart-legend">{escape(_label(label, 16))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
