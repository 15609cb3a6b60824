"""Training-time noise that makes clean articles look scraped, as users' pasted text often is.

Real scraped pages lose their commas and apostrophes ("Syrias army said") and their paragraph breaks.
Showing the model such copies of its training articles teaches it not to lean on punctuation.
"""

from __future__ import annotations

import random

from factattr.data.types import Article
from factattr.model.spans import FIELDS

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
    texts, spans, _ = scrape_with_targets(articles, probability, rng)
    return texts, spans


def scrape_with_targets(articles: list[Article], probability: float, rng: random.Random):
    """As :func:`maybe_scrape`, and each sentence's speaker and cue as ranges relative to the sentence in
    the text as given (``None`` for a sentence of an article without span annotations)."""
    texts, spans, targets = [], [], []
    for article in articles:
        text, article_spans = article.text, article.spans
        marks = [(m["start"], m["end"]) for s in article.sentences for m in _marks(s) if m is not None]
        if probability > 0 and rng.random() < probability:
            text, moved = scrape(text, article_spans + marks)
            article_spans, marks = moved[:len(article_spans)], moved[len(article_spans):]
        texts.append(text)
        spans.append(article_spans)
        targets.append(_relative_targets(article, article_spans, iter(marks)))
    return texts, spans, targets


def _marks(sentence) -> list:
    return [sentence.extra.get(field) for field in FIELDS] if "speaker" in sentence.extra else []


def _relative_targets(article: Article, spans: list[tuple[int, int]], marks) -> list[dict | None]:
    out = []
    for sentence, (start, _) in zip(article.sentences, spans):
        if "speaker" not in sentence.extra:
            out.append(None)
            continue
        target = {}
        for field in FIELDS:
            if sentence.extra.get(field) is None:
                target[field] = None
            else:
                a, b = next(marks)
                target[field] = (a - start, b - start)
        out.append(target)
    return out
