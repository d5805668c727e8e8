"""Theme labels: short, built from distinctive keywords, and never repeated among siblings."""

from ml.keywords import make_label


def test_labels_skip_contained_terms() -> None:
    assert make_label(["保育", "保育園", "待機児童", "定員"]) == "保育・待機児童・定員"


def test_a_taken_label_uses_the_next_keyword_or_a_number() -> None:
    taken = {"不安・保育園・少ない"}
    assert make_label(["不安", "保育園", "少ない", "復職"], taken=taken) == "不安・保育園・復職"
    assert make_label(["不安", "保育園", "少ない"], taken=taken) == "不安・保育園・少ない（2）"
