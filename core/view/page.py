"""``view.html``: scored articles and their overview as one self-contained page (Jinja2 templates; charts
inline as SVG; styles and the filter script inline, so the file opens from disk with no network)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from factattr.config import Roles

from . import overview
from .labels import label_colours, label_order, pretty

LOW_CONFIDENCE = 0.6
PAGE_SIZE = 25


def environment() -> Environment:
    env = Environment(loader=PackageLoader("factattr.view", "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pretty"] = pretty
    return env


def _confidence(s: dict) -> float | None:
    """The lowest of the heads' top probabilities: a sentence is as sure as its least sure label."""
    if not s["probs"] or any(p is None for p in s["probs"].values()):
        return None
    return min(p.get(s["labels"][head], 0.0) for head, p in s["probs"].items())


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
            seen.update(dict.fromkeys(s["probs"][head] or ()))
            seen[s["labels"][head]] = None
    return list(seen)


def view_heads(articles: Sequence[dict], roles: Roles | None) -> tuple[list[str], Roles]:
    """The heads in the page's order (the colour head first: the attribution role's, else the first head)
    and the roles that apply to them."""
    first = next((s for a in articles for s in a["sentences"]), None)
    heads = list(first["labels"]) if first else []
    roles = (roles or Roles.defaults()).for_heads(heads)
    if roles.attribution:
        heads.remove(roles.attribution)
        heads.insert(0, roles.attribution)
    return heads, roles


def _head_labels(articles: Sequence[dict], head: str) -> list[str]:
    """A head's labels in the scores' order (the schema's) when there are probabilities, else in the
    default schema's order for its labels and in order of appearance for the others."""
    seen = _labels_seen(articles, head)
    with_probs = any(s["probs"][head] for a in articles for s in a["sentences"])
    return seen if with_probs else label_order(head, seen)


def _heads_settings(articles: Sequence[dict], heads: list[str]) -> list[dict]:
    return [{"name": head, "title": pretty(head), "labels": _head_labels(articles, head)} for head in heads]


def view_context(articles: Sequence[dict], contested: Sequence[dict] | None, title: str, low: float,
                 page_size: int, roles: Roles | None = None) -> dict:
    heads, roles = view_heads(articles, roles)
    settings = _heads_settings(articles, heads)
    colour_labels = settings[0]["labels"] if settings else []
    colours = label_colours(colour_labels)
    badge = {label: colour[1] for label, colour in colours.items()}
    columns = roles.claim if roles.claim else next(iter(heads[1:]), None)
    labels = {h["name"]: h["labels"] for h in settings}
    return {
        "title": title, "articles": articles, "heads": settings, "roles": roles, "colours": colours,
        "colour_labels": colour_labels, "low": low, "page_size": page_size,
        "n_sentences": sum(len(a["sentences"]) for a in articles),
        "segments": [article_segments(a, low) for a in articles],
        "probs_attr": lambda s, head: _probs_attr(s["probs"][head], labels[head]),
        "has_probs": any(s["probs"] and all(s["probs"].values()) for a in articles for s in a["sentences"]),
        "heatmap": overview.heatmap(articles, (heads[0], labels[heads[0]]), (columns, labels[columns]))
        if heads and columns else None,
        "timeline": overview.timeline(articles, heads[0], colour_labels, badge, roles) if heads else
        {"undated": len(articles), "svg": None, "unit": None},
        "speakers": overview.speakers(articles, badge, roles),
        "contested": contested,
        "article_index": {a["id"]: i for i, a in enumerate(articles)},
        "settings": {"heads": settings, "low": low, "page_size": page_size},
    }


def render_view(articles: Sequence[dict], contested: Sequence[dict] | None = None, *, title: str = "factattr view",
                low: float = LOW_CONFIDENCE, page_size: int = PAGE_SIZE, roles: Roles | None = None) -> str:
    """The page's HTML. ``contested``: the ledger's groups (:func:`factattr.view.read_contested`), if any;
    ``roles``: the label schema's roles (the default schema's when not given; those whose head the
    articles lack are left out)."""
    context = view_context(articles, contested, title, low, page_size, roles)
    return environment().get_template("view.html").render(context)


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
