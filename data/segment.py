"""Sentence segmentation with exact character offsets.

Wraps syntok (a maintained rule-based segmenter that needs no downloaded model, and on the seed article
the closest to the gold boundaries of the segmenters tried: README) and adds what news text needs on top:
line breaks as boundaries for headlines and datelines without a final full stop, but not the line
breaks of hard-wrapped text (a line that continues in lower case).
"""

from __future__ import annotations

import re

from syntok import segmenter
from syntok.tokenizer import Tokenizer

_TOKENIZER = Tokenizer(emit_hyphen_or_underscore_sep=True, replace_not_contraction=False)
# Any line break ends a block: \n, a lone \r (old Mac files, some scrapers), \r\n, and the Unicode line
# and paragraph separators.
_LINE_BREAK = re.compile(r"(?:\r\n?|[\n\x0b\x0c\x85\u2028\u2029])\s*")
# Titles and ranks that syntok sometimes takes for a sentence end ("Lt. Col. John Smith").
_TITLE_END = re.compile(
    r"\b(?:Lt|Col|Gen|Maj|Brig|Capt|Sgt|Cpl|Pvt|Adm|Cmdr|Cdr|Lieut|Gov|Sen|Rep|Dr|Mr|Mrs|Ms|Prof|St|Mt|Ft|Sheikh)\.$"
)
_MONTH_END = re.compile(r"\b(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|No)\.$")
# A dateline cut off from its story: "BAGHDAD (Reuters)" followed by "- Iraqi forces ...".
_DATELINE = re.compile(r"^[A-Z][A-Z .,'-]*(?:\([^)]*\))?$")


def _blocks(text: str) -> list[tuple[int, int]]:
    """Split at line breaks, except where the next line starts in lower case (a wrapped sentence)."""
    blocks, start = [], 0
    for match in _LINE_BREAK.finditer(text):
        following = text[match.end(): match.end() + 1]
        if following and following.islower():
            continue
        blocks.append((start, match.start()))
        start = match.end()
    blocks.append((start, len(text)))
    return [(s, e) for s, e in blocks if text[s:e].strip()]


def segment(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into sentences.

    Returns:
        ``(start, end)`` character offsets, in order, not overlapping, with no leading or trailing
        white space: ``text[start:end]`` is the sentence exactly as it stands in ``text``. Every
        non-space character of ``text`` lies in exactly one sentence.
    """
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _blocks(text):
        block = text[block_start:block_end]
        for sentence in segmenter.split(_TOKENIZER.tokenize(block)):
            tokens = [t for t in sentence if t.value]
            if not tokens:
                continue
            start = block_start + tokens[0].offset
            end = block_start + tokens[-1].offset + len(tokens[-1].value)
            if spans and _continues(text[spans[-1][0]:spans[-1][1]], text[start:end]):
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
    return _cover(text, spans)


def _continues(previous: str, sentence: str) -> bool:
    """True where syntok split inside a sentence: after a title, a month before a number, a dateline."""
    if _TITLE_END.search(previous):
        return True
    if _MONTH_END.search(previous) and sentence[:1].isdigit():
        return True
    return sentence[:1] in "-\u2013\u2014" and bool(_DATELINE.match(previous))


def _cover(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Make sure no non-space character falls between sentences (it joins the sentence before it)."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out:
            prev_start, prev_end = out[-1]
            gap = text[prev_end:start]
            if gap.strip():
                out[-1] = (prev_start, prev_end + len(gap.rstrip()))
        elif text[:start].strip():
            start = len(text) - len(text.lstrip())
        out.append((start, end))
    if out and text[out[-1][1]:].strip():
        out[-1] = (out[-1][0], len(text.rstrip()))
    return out
