"""The segments results are broken down by, and the rule that keeps small cells hidden."""

from domain.messages import N_
from domain.values import AGE_BAND_LABELS, WARD_LABELS, AgeBand, Attributes, Ward

# A cell describing fewer respondents than this is hidden, so no one is identifiable.
MIN_CELL = 5
# The one neutral mark for every hidden cell, whether it is small or hidden so that a small one
# cannot be worked out by subtraction ("<5" would be false for the latter), as in Japan's
# official statistics: readers are told both reasons, never which one applies.
SUPPRESSED = "x"
# The legend as a message (web/charts.py and the pages show it translated), and as it reads in Japanese.
SUPPRESSED_LEGEND_MESSAGE = N_("%(mark)s: %(min)s人未満、または逆算防止のため非表示")
SUPPRESSED_LEGEND = SUPPRESSED_LEGEND_MESSAGE % {"mark": SUPPRESSED, "min": MIN_CELL}

UNKNOWN = "unknown"

SEGMENTS: dict[str, str] = {
    "all": N_("全体"),
    "ward": N_("地区"),
    "age_band": N_("年代"),
    "children": N_("18歳未満の子どもと同居"),
}

SEGMENT_VALUES: dict[str, dict[str, str]] = {
    "all": {"all": N_("全体")},
    "ward": {**{w.value: WARD_LABELS[w] for w in Ward}, UNKNOWN: N_("未回答")},
    "age_band": {**{a.value: AGE_BAND_LABELS[a] for a in AgeBand}, UNKNOWN: N_("未回答")},
    "children": {"yes": N_("子育て世帯"), "no": N_("それ以外"), UNKNOWN: N_("未回答")},
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


# Coarser groupings, summed from the stored segments when results are read (nothing more is
# projected). With a dozen respondents nearly every cell of 8 age bands is hidden, while 3 groups
# may show; both tables are published together, so their nesting (a group is the sum of its
# bands) is one more set of equations the small-cell rule audits (projections/results.py).
COARSE_SEGMENTS: dict[str, str] = {"age3": N_("年代（3区分）")}
COARSE_OF: dict[str, str] = {"age3": "age_band"}
COARSE_GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "age3": {
        "under40": (AgeBand.UNDER_18.value, AgeBand.AGE_18_29.value, AgeBand.AGE_30S.value),
        "40-59": (AgeBand.AGE_40S.value, AgeBand.AGE_50S.value),
        "60+": (AgeBand.AGE_60S.value, AgeBand.AGE_70_PLUS.value),
        UNKNOWN: (UNKNOWN,),
    }
}
COARSE_LABELS: dict[str, dict[str, str]] = {
    "age3": {"under40": N_("39歳以下"), "40-59": N_("40〜59歳"), "60+": N_("60歳以上"), UNKNOWN: N_("未回答")}
}
