"""Theme keywords without an LLM: content words per opinion, ranked by class-based TF-IDF.

Japanese goes through SudachiPy (nouns, verbs, adjectives as dictionary forms); Latin-script text
is split with a regex, since English needs no dictionary to find words.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

_JA_CHARS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
# Apostrophes split words, so "you're" yields two stopwords instead of a fake keyword.
_LATIN_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")
# Parts of speech worth showing staff; Sudachi tags 形状詞 (na-adjective stems) separately.
_CONTENT_POS = {"名詞", "動詞", "形容詞", "形状詞"}
_SKIP_NOUN_TYPES = {"数詞", "代名詞"}


def _words(block: str) -> list[str]:
    return block.split()


# Grammatical or near-empty words that survive the POS filter but say nothing about a theme.
JA_STOPWORDS = frozenset(
    _words(
        """
        する ある いる なる れる られる できる 思う 言う いう 行う おる 来る
        くる 見る みる こと もの ため よう それ これ あれ どれ ところ とき
        時 方 事 物 ほう 等 など 的 性 者 中 上 下 さん 様 ない 良い
        よい いい 多い 大きい 小さい 欲しい ほしい 有る 無い 居る 為る 成る
        出来る 年 月 日 人 今 後 前 間 際 点 場合 必要 可能 可能性 使用 よる 述べる 含む 持つ
        おこなう 関する 対する 行く 呼ぶ 以上 以下 自分 私 僕
        我々 彼 彼女 皆 みんな
        """
    )
)
EN_STOPWORDS = frozenset(
    _words(
        """
        a about above after again against all also am an and any are as at be because been
        before being below between both but by can could did do does doing down during each few
        for from further had has have having he her here hers herself him himself his how i if
        in into is it its itself just me more most my myself no nor not now of off on once only
        or other our ours ourselves out over own same she should so some such than that the
        their theirs them themselves then there these they this those through to too under until
        up very was we were what when where which while who whom why will with would you your
        yours yourself yourselves s t don t re ve ll d m one two many much may might must shall
        us get got also like well even however although though since still yet would could said
        say says often used use
        """
    )
)


def has_japanese(text: str) -> bool:
    return _JA_CHARS.search(text) is not None


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    from sudachipy import Dictionary, SplitMode

    # Mode C keeps compounds such as 子育て支援 whole, which reads better as a label; loading only
    # the fields we use makes tokenisation noticeably faster.
    return Dictionary(dict="core").tokenizer(mode=SplitMode.C, fields={"pos", "dictionary_form"})


def _japanese_terms(text: str) -> list[str]:
    terms: list[str] = []
    for morpheme in _tokenizer().tokenize(text):
        pos = morpheme.part_of_speech()
        if pos[0] not in _CONTENT_POS or pos[1] in _SKIP_NOUN_TYPES or pos[1] == "非自立可能":
            continue
        base = morpheme.dictionary_form()
        if base in JA_STOPWORDS or not _JA_CHARS.search(base):
            continue
        if len(base) == 1 and re.fullmatch(r"[\u3040-\u30ff]", base):
            continue  # lone kana are almost always fragments
        terms.append(base)
    return terms


def _latin_terms(text: str) -> list[str]:
    words = _LATIN_WORD.findall(text.lower())
    return [w for w in words if len(w) > 2 and w not in EN_STOPWORDS]


def terms_of(text: str) -> list[str]:
    """Content words of one opinion, Japanese and English mixed freely."""
    text = unicodedata.normalize("NFKC", text)
    terms = _japanese_terms(text) if has_japanese(text) else []
    # Latin words inside Japanese text (e.g. "Wi-Fi", "LGBT") are content words too.
    return terms + _latin_terms(text)


def class_tfidf(term_lists: Sequence[Sequence[str]], labels: Sequence[int], top_n: int) -> dict[int, list[str]]:
    """Top terms per class by class-based TF-IDF (as in BERTopic).

    Counts are per opinion (a word repeated in one opinion counts once) so one long rant cannot
    name a theme. Score = share of the class's opinions using the term (in-theme frequency) times
    log(1 + average class size / the term's count over all classes) (distinctiveness).
    """
    per_class: dict[int, Counter[str]] = {}
    class_sizes: Counter[int] = Counter()
    for terms, label in zip(term_lists, labels, strict=True):
        per_class.setdefault(label, Counter()).update(set(terms))
        class_sizes[label] += 1
    overall: Counter[str] = Counter()
    for counts in per_class.values():
        overall.update(counts)
    average = sum(class_sizes.values()) / max(len(class_sizes), 1)
    result: dict[int, list[str]] = {}
    for label, counts in per_class.items():
        size = class_sizes[label]
        # Needing at least two users keeps one-off words out of labels, unless the class is tiny.
        min_count = 2 if size >= 6 else 1
        scored = [
            (count / size * math.log(1 + average / overall[term]), term)
            for term, count in counts.items()
            if count >= min_count
        ]
        scored.sort(key=lambda item: (-item[0], item[1]))
        result[label] = [term for _, term in scored[:top_n]]
    for label in class_sizes:
        result.setdefault(label, [])
    return result


def make_label(keywords: Sequence[str], max_terms: int = 3, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A short label such as 「公園・トイレ・清掃」, skipping terms contained in a better one.

    Sibling themes can share their top terms; a label already `taken` is made distinct by the
    next distinctive keyword, or failing that by a number, so staff never see two alike.
    """
    distinct: list[str] = []
    for word in keywords:
        if not any(word in other or other in word for other in distinct):
            distinct.append(word)
    if not distinct:
        label = "（ラベルなし）"
    else:
        label = "・".join(distinct[:max_terms])
        for extra in distinct[max_terms:]:
            if label not in taken:
                break
            label = "・".join([*distinct[: max_terms - 1], extra])
    number = 2
    base = label
    while label in taken:
        label = f"{base}（{number}）"
        number += 1
    return label
