"""``view.html``: scored articles and their overview as one self-contained page (Jinja2 templates; charts
inline as SVG; styles and the filter script inline, so the file opens from disk with no network)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from . import overview
from .labels import label_order, pretty, source_colours

LOW_CONFIDENCE = 0.6
PAGE_SIZE = 25


def environment() -> Environment:
    env = Environment(loader=PackageLoader("factattr.view", "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pretty"] = pretty
    return env


def _confidence(s: dict) -> float | None:
    """The lower of the two heads' top probabilities: a sentence is as sure as its less sure label."""
    probs = [s[f"{head}_probs"] for head in ("source", "claim_type")]
    if any(p is None for p in probs):
        return None
    return min(p.get(s[head], 0.0) for p, head in zip(probs, ("source", "claim_type")))


def _marks(article: dict) -> list[tuple[int, int, str, int]]:
    """(start, end, kind, sentence number) of every speaker and cue, none overlapping another."""
    marks = []
    for n, s in enumerate(article["sentences"]):
        for kind in ("speaker", "cue"):
            if s.get(kind):
                marks.append((s[kind]["start"], s[kind]["end"], kind, n))
    kept: list[tuple[int, int, str, int]] = []
    for mark in sorted(marks):
        if all(mark[0] >= e or mark[1] <= b for b, e, _, _ in kept):  # a shared span is marked once
            kept.append(mark)
    return kept


def _pieces(text: str, begin: int, end: int, marks: list) -> list[dict]:
    """The text in [begin, end) as plain pieces and underlined speaker/cue pieces (clipped to the range)."""
    pieces, at = [], begin
    for b, e, kind, n in marks:
        b, e = max(b, begin), min(e, end)
        if b >= e:
            continue
        if b > at:
            pieces.append({"text": text[at:b], "mark": None})
        pieces.append({"text": text[b:e], "mark": kind, "of": n})
        at = e
    if at < end:
        pieces.append({"text": text[at:end], "mark": None})
    return pieces


def article_segments(article: dict, low: float) -> list[dict]:
    """The article's text in order: sentences (with their labels) and the text between them."""
    text, marks, out, at = article["text"], _marks(article), [], 0
    for n, s in enumerate(article["sentences"]):
        if s["start"] > at:
            out.append({"sentence": None, "pieces": _pieces(text, at, s["start"], marks)})
        confidence = _confidence(s)
        out.append({"sentence": s, "n": n, "confidence": confidence,
                    "low": confidence is not None and confidence < low,
                    "pieces": _pieces(text, s["start"], s["end"], marks)})
        at = s["end"]
    if at < len(text):
        out.append({"sentence": None, "pieces": _pieces(text, at, len(text), marks)})
    return out


def _probs_attr(probs: dict | None, labels: list[str]) -> str | None:
    return None if probs is None else " ".join(f"{probs.get(label, 0.0):.3f}" for label in labels)


def _labels_seen(articles: Sequence[dict], head: str) -> list[str]:
    """Every label of a head the articles use or give a probability to, in order of appearance."""
    seen: dict[str, None] = {}
    for a in articles:
        for s in a["sentences"]:
            seen.update(dict.fromkeys(s[f"{head}_probs"] or ()))
            seen[s[head]] = None
    return list(seen)


def view_context(articles: Sequence[dict], contested: Sequence[dict] | None, title: str, low: float,
                 page_size: int) -> dict:
    sources, claim_types = (label_order(head, _labels_seen(articles, head)) for head in ("source", "claim_type"))
    colours = source_colours(sources)
    badge = {source: colour[1] for source, colour in colours.items()}
    n_sentences = sum(len(a["sentences"]) for a in articles)
    return {
        "title": title, "articles": articles, "sources": sources, "claim_types": claim_types, "colours": colours,
        "low": low, "page_size": page_size, "n_sentences": n_sentences,
        "segments": [article_segments(a, low) for a in articles],
        "probs_attr": lambda s, head: _probs_attr(s[f"{head}_probs"], sources if head == "source" else claim_types),
        "has_probs": any(s["source_probs"] for a in articles for s in a["sentences"]),
        "heatmap": overview.heatmap(articles, sources, claim_types),
        "timeline": overview.timeline(articles, sources, badge),
        "speakers": overview.speakers(articles, badge),
        "contested": contested,
        "article_index": {a["id"]: i for i, a in enumerate(articles)},
        "settings": {"sources": sources, "claim_types": claim_types, "low": low, "page_size": page_size},
    }


def render_view(articles: Sequence[dict], contested: Sequence[dict] | None = None, *, title: str = "factattr view",
                low: float = LOW_CONFIDENCE, page_size: int = PAGE_SIZE) -> str:
    """The page's HTML. ``contested``: the ledger's groups (:func:`factattr.view.read_contested`), if any."""
    return environment().get_template("view.html").render(view_context(articles, contested, title, low, page_size))


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write a file whole or not at all: a temporary sibling, flushed, then renamed over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
