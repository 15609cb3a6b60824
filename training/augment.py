"""Training-time noise that makes clean articles look scraped, as users' pasted text often is.

Real scraped pages lose their commas and apostrophes ("Syrias army said") and their paragraph breaks.
Showing the model such copies of its training articles teaches it not to lean on punctuation.
"""

from __future__ import annotations

import random

from factattr.data.types import Article

STRIPPED = {",", "'", "\u2019", "\u2018"}


def scrape(text: str, spans: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """Remove commas and apostrophes, join paragraphs with a space; sentence offsets follow the text."""
    out: list[str] = []
    position = [0] * (len(text) + 1)  # old offset -> new offset
    i = 0
    while i < len(text):
        position[i] = len(out)
        ch = text[i]
        if ch in STRIPPED:
            i += 1
            continue
        if ch == "\n":
            j = i
            while j < len(text) and text[j].isspace():
                position[j] = len(out)
                j += 1
            out.append(" ")
            i = j
            continue
        out.append(ch)
        i += 1
    position[len(text)] = len(out)
    return "".join(out), [(position[s], position[e]) for s, e in spans]


def maybe_scrape(articles: list[Article], probability: float,
                 rng: random.Random) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """Texts and gold spans of the articles, each scraped with the given probability."""
    texts, spans = [], []
    for article in articles:
        text, article_spans = article.text, article.spans
        if probability > 0 and rng.random() < probability:
            text, article_spans = scrape(text, article_spans)
        texts.append(text)
        spans.append(article_spans)
    return texts, spans
