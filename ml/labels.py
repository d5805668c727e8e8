"""Theme labels a person would write: a short phrase from the theme's most central opinion.

Keyword triplets (ml/keywords.make_label) are precise but read like a search query; a citizen or
a manager reads 「保育園の待機児童」 faster than 「保育・待機児童・定員」. The phrase is the first
sentence of the most central opinion, cut where Japanese allows a cut: at 、 or just before a case
particle (what comes before it is a noun phrase), never inside brackets; English at a space.
"""

import re

PHRASE_CHARS = 24
# Ends of the first sentence; a newline too (an idea's first line is its title).
_SENTENCE_END = re.compile(r"[。．！？!?\n]|\.(?:\s|$)")
# Cut before one of these particles (after kanji, katakana or a closing bracket, so that inside words
# it rarely matches), or before を, which is nothing but a particle.
_PARTICLE = re.compile(r"(?<=[\u4e00-\u9fff\u30a0-\u30ffー」』）)])(?:が|は|に|で|と|も|へ|から|より)|を")
_OPEN, _CLOSE = "「『（(【［", "」』）)】］"
_TRAILING = "、，,・:：;；　 "


def _inside_brackets(text: str, end: int) -> bool:
    depth = 0
    for ch in text[:end]:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
    return depth > 0


def phrase_label(text: str, limit: int = PHRASE_CHARS) -> str:
    """A phrase of at most `limit` characters (plus "…" when cut) from the start of `text`."""
    # Not NFKC: the label shows the writer's own characters (full-width brackets stay full-width).
    text = text.replace("\r", "").replace("\u3000", " ").strip()
    first = _SENTENCE_END.split(text, maxsplit=1)[0].strip().strip(_TRAILING)
    if not first:
        return ""
    if len(first) <= limit:
        return first
    lower = max(4, limit // 3)
    cuts = [m.start() + 1 for m in re.finditer("[、，,]", first) if lower <= m.start() + 1 <= limit]
    if not cuts:
        cuts = [m.start() for m in _PARTICLE.finditer(first) if lower <= m.start() <= limit]
    if not cuts and " " in first[:limit]:
        cuts = [i for i, ch in enumerate(first[: limit + 1]) if ch == " " and i >= lower]
    cuts = [c for c in cuts if not _inside_brackets(first, c)]
    cut = max(cuts) if cuts else limit
    return first[:cut].rstrip(_TRAILING) + "…"
