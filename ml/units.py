"""Opinion units: a long opinion cut into the sentences (or runs of sentences) that make its points.

SudachiPy (installed for keywords) has no sentence splitter in its Python API, so this is a
rule-based Japanese splitter, documented here:
- a sentence ends at 。．！？!? (and runs of them, with closing quotes or brackets after them),
  or at a line break;
- nothing splits inside 「」『』（）()【】〈〉《》“” — a quoted sentence stays in the sentence
  that quotes it;
- English "." ends a sentence only before a space and a capital letter or a Japanese character.
Only opinions longer than ``LONG_OPINION`` characters are split, and sentences shorter than
``MIN_UNIT`` are joined to the one before (a "よろしくお願いします。" is no point of its own), so
units are a few sentences that one reader would call one point.
"""

from __future__ import annotations

LONG_OPINION = 200
MIN_UNIT = 20
_ENDS = set("。．！？!?")
_OPEN = {"「": "」", "『": "』", "（": "）", "(": ")", "【": "】", "〈": "〉", "《": "》", "“": "”"}
_CLOSE = set(_OPEN.values())


def sentences(text: str) -> list[str]:
    """Sentences of ``text``, stripped, none empty; brackets are never cut."""
    out: list[str] = []
    current: list[str] = []
    stack: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in ("\n", "\r") and not stack:
            out.append("".join(current))
            current = []
            i += 1
            continue
        current.append(char)
        if char in _OPEN:
            stack.append(_OPEN[char])
        elif stack and char == stack[-1]:
            stack.pop()
        elif char in _CLOSE and not stack:
            pass  # an unmatched closer: nothing to pop, nothing to end
        if not stack and (char in _ENDS or (char == "." and _english_end(text, i))):
            while i + 1 < n and (text[i + 1] in _ENDS or text[i + 1] in _CLOSE):
                i += 1
                current.append(text[i])
            out.append("".join(current))
            current = []
        elif len(stack) > 0 and len(current) > 400:
            stack.clear()  # an unclosed bracket must not swallow the rest of a long opinion
        i += 1
    out.append("".join(current))
    return [s.strip() for s in out if s.strip()]


def _english_end(text: str, i: int) -> bool:
    if i + 2 >= len(text) or text[i + 1] != " ":
        return i + 1 >= len(text)
    following = text[i + 2]
    return following.isupper() or not following.isascii()


def split_units(text: str) -> list[str]:
    """One unit for an ordinary opinion; for a long one, its sentences with short ones merged."""
    if len(text) <= LONG_OPINION:
        return [text]
    units: list[str] = []
    for sentence in sentences(text):
        if units and (len(sentence) < MIN_UNIT or len(units[-1]) < MIN_UNIT):
            units[-1] = f"{units[-1]}{sentence}"
        else:
            units.append(sentence)
    return units or [text]
