"""The segments results are broken down by, and the rule that keeps small cells hidden."""

from domain.values import AGE_BAND_LABELS, WARD_LABELS, AgeBand, Attributes, Ward

# A cell describing fewer respondents than this is hidden, so no one is identifiable.
MIN_CELL = 5
# The one neutral mark for every hidden cell, whether it is small or hidden so that a small one
# cannot be worked out by subtraction ("<5" would be false for the latter), as in Japan's
# official statistics: readers are told both reasons, never which one applies.
SUPPRESSED = "x"
SUPPRESSED_LEGEND = f"{SUPPRESSED}: {MIN_CELL}人未満、または逆算防止のため非表示"

UNKNOWN = "unknown"

SEGMENTS: dict[str, str] = {
    "all": "全体",
    "ward": "地区",
    "age_band": "年代",
    "children": "18歳未満の子どもと同居",
}

SEGMENT_VALUES: dict[str, dict[str, str]] = {
    "all": {"all": "全体"},
    "ward": {**{w.value: WARD_LABELS[w] for w in Ward}, UNKNOWN: "未回答"},
    "age_band": {**{a.value: AGE_BAND_LABELS[a] for a in AgeBand}, UNKNOWN: "未回答"},
    "children": {"yes": "子育て世帯", "no": "それ以外", UNKNOWN: "未回答"},
}


def segments_of(attributes: Attributes) -> tuple[tuple[str, str], ...]:
    if attributes.has_children is None:
        children = UNKNOWN
    else:
        children = "yes" if attributes.has_children else "no"
    return (
        ("all", "all"),
        ("ward", attributes.ward.value if attributes.ward else UNKNOWN),
        ("age_band", attributes.age_band.value if attributes.age_band else UNKNOWN),
        ("children", children),
    )


def shown(count: int) -> int | str:
    return count if count >= MIN_CELL else SUPPRESSED
