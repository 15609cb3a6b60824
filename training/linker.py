"""Fitting the linker's two rankers (:mod:`factattr.model.speakers`) on annotated speaker links.

- **Pronouns.** Each pronoun speaker of the training split whose speaker is named earlier
  (``ANNOTATION_NOTES.md`` 21.7) is one ranking example: its candidates are the earlier speaker mentions
  and narrated names, each described by :func:`~factattr.model.speakers.pronoun_features`, and a candidate
  is right when its entity's naming span is a mention of the annotated speaker
  (:func:`~factattr.eval.metrics.link_verdict`).
- **Roles.** Each speaker mention the linker takes for a bare role ("the coalition", "the statement", "the
  army general command") is one example, with the same candidates and one more, *nobody earlier*
  (:func:`~factattr.model.speakers.role_features`). A candidate is right when it, or its naming span, is a
  mention of the annotated speaker; nobody earlier is right when the annotated speaker has no mention
  before it (a description naming its speaker first, or a short name such as "the coalition" said first).

A conditional logit (a softmax over each example's candidates) scores them; linking takes the best-scored
candidate. A role's head noun ("coalition", "group", "statement") weighs *nobody earlier* by itself when the
training split has it often enough. Earlier
mentions are typed by the rules' own resolution, as they are when the rankers run.

``factattr fit-linker`` writes the weights into the package (``model/linker.json``), where linking reads
them, and prints how many train and dev pronouns and roles the rankers link on gold spans
(``benchmarks/speaker_links.py --rule`` gives the rules' figures for the pronouns and roles with a
naming span).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

from factattr.errors import ConfigError
from factattr.eval.metrics import link_verdict, spans_overlap
from factattr.model.speakers import (Mention, _best, document_issuer, is_pronoun, kind_of, link_speakers,
                                     narrated_names, pronoun_features, resolve, role_features)

C = 3.0   # the regularisation: of 0.3, 1, 3 and 10, 3 and 10 cross-validated best on train plus dev
KINDS = ("pronoun", "role")
MIN_LEXICAL = 5   # examples a head noun needs to get a weight of its own


def _speaker_mentions(article) -> tuple[list[dict], list[Mention]]:
    """The article's annotated speaker marks (attached by :func:`factattr.data.spans.attach_spans`) in text
    order, and each as a :class:`Mention`."""
    marks = sorted((s.extra["speaker"] for s in article.sentences if s.extra.get("speaker")),
                   key=lambda m: m["start"])
    return marks, [Mention(m["start"], m["end"], article.text[m["start"]:m["end"]]) for m in marks]


def linking_examples(articles: Sequence) -> dict[str, list[tuple[list[dict], list[bool]]]]:
    """``{"pronoun": examples, "role": examples}``, each example ``(feature rows, right or not per row)``,
    from the annotated speakers of ``articles`` (with spans attached,
    :func:`factattr.data.spans.attach_spans`)."""
    examples: dict[str, list] = {kind: [] for kind in KINDS}
    for article in articles:
        marks, mentions = _speaker_mentions(article)
        if not marks:
            continue
        text = article.text
        narrated = narrated_names(text, mentions)
        naming = dict(zip(mentions, resolve(mentions, text, ranker=False)))
        naming.update({m: m for m in narrated})
        for k, (mark, mention) in enumerate(zip(marks, mentions)):
            gold = mark.get("refers_to")
            before = [m for m in narrated if m.end <= mention.start]
            candidates = sorted(mentions[:k] + before, key=lambda m: m.start)
            same = [{"start": m["start"], "end": m["end"]} for m in marks if m.get("entity") == mark.get("entity")]
            if is_pronoun(mention.text):
                if mark.get("kind") != "pronoun" or gold is None or not candidates:
                    continue
                right = [link_verdict({"start": naming[c].start, "end": naming[c].end}, gold, same)[1]
                         for c in candidates]
                examples["pronoun"].append((pronoun_features(mention, candidates, mentions[:k], naming), right))
            elif kind_of(mention.text) == "role" and document_issuer(mention, mentions[:k], naming, text) is None:
                earlier = [m for m in same if m["end"] <= mention.start]
                right = [any(spans_overlap({"start": m.start, "end": m.end}, g) for m in (c, naming[c])
                             for g in earlier + ([gold] if gold else []))
                         for c in candidates]
                right.append(gold is None and not earlier)
                examples["role"].append((role_features(mention, candidates, mentions[:k], naming, text), right))
    return examples


def _fit(examples: list, c: float) -> dict:
    """A conditional logit: the weights that make each example's right candidates likely under a softmax
    over its candidates (an L2 penalty of ``1 / (2 c)``), fitted by L-BFGS. Examples with no right
    candidate (a speaker named where no candidate reaches) teach nothing and are left out."""
    counts = Counter(name for rows, _ in examples for row in rows for name in row)
    # every feature the examples share, and a lexical one (a head noun) where it is seen often enough to weigh
    names = [name for name, n in counts.items() if "=" not in name or n >= MIN_LEXICAL]
    data = [(np.array([[row.get(n, 0.0) for n in names] for row in rows]), np.array(right, dtype=bool))
            for rows, right in examples if any(right)]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.5 * w @ w / c, w / c
        for x, right in data:
            scores = x @ w
            everyone, the_right = logsumexp(scores), logsumexp(scores[right])
            total += everyone - the_right
            grad = grad + np.exp(scores - everyone) @ x - np.where(right, np.exp(scores - the_right), 0.0) @ x
        return total, grad

    fitted = minimize(loss, np.zeros(len(names)), jac=True, method="L-BFGS-B")
    return {"features": names, "coef": [round(float(w), 6) for w in fitted.x], "C": c, "examples": len(examples),
            "candidates": sum(len(rows) for rows, _ in examples)}


def fit_linker(articles: Sequence, c: float = C) -> dict:
    """The rankers' weights, ``{"pronoun": ..., "role": ...}``, from the annotated speakers of ``articles``
    (the training split)."""
    examples = linking_examples(articles)
    if not examples["pronoun"] or not examples["role"]:
        missing = " and ".join(f"{kind}s" for kind in KINDS if not examples[kind])
        raise ConfigError(f"no annotated speaker {missing} in the training split to fit the linker on: give the "
                          "config's data sources their span files (data.sources[].spans)")
    return {kind: _fit(examples[kind], c) for kind in KINDS}


def ranking_accuracy(articles: Sequence, weights: dict) -> dict[str, tuple[int, int]]:
    """``{kind: (right, examples)}``: how often each ranker's best-scored candidate is right on the annotated
    speakers of ``articles``, each ranked among the gold speaker mentions before it (as
    ``benchmarks/speaker_links.py`` links)."""
    out = {}
    for kind, examples in linking_examples(articles).items():
        out[kind] = (sum(right[_best(rows, weights[kind])] for rows, right in examples), len(examples))
    return out


def gold_links(articles: Sequence, ranker: bool | dict = True) -> dict[str, tuple[int, int]]:
    """``{kind: (right, links)}``: the annotated pronoun and role speakers of ``articles`` named earlier, and
    how many of them :func:`~factattr.model.speakers.link_speakers` links to the right speaker from the
    article's gold speaker mentions (``ranker``: the package's weights, False for the rules, or weights)."""
    out = {kind: [0, 0] for kind in KINDS}
    for article in articles:
        marks, mentions = _speaker_mentions(article)
        for mark, link in zip(marks, link_speakers(mentions, article.text, ranker)):
            if mark.get("kind") in KINDS and mark.get("refers_to") is not None:
                same = [m for m in marks if m.get("entity") == mark.get("entity")]
                out[mark["kind"]][0] += link_verdict(vars(link) if link else None, mark["refers_to"], same)[1]
                out[mark["kind"]][1] += 1
    return {kind: (right, n) for kind, (right, n) in out.items()}


def cross_validate(articles: Sequence, folds: int = 5, seed: int = 0, c: float = C) -> dict:
    """``folds``-fold cross-validation of the rankers over ``articles`` (shuffled by ``seed``): for each
    fold, the rankers fitted on the others rank its examples and link its gold speaker mentions. Returns
    ``{"decisions": {kind: (right, n)}, "links": {kind: (right, n)}, "rules": {kind: (right, n)}}``, the
    last the rules' links of the same mentions, which need no fitting."""
    shuffled = list(articles)
    random.Random(seed).shuffle(shuffled)
    parts = [shuffled[k::folds] for k in range(folds)]
    totals = {part: {kind: [0, 0] for kind in KINDS} for part in ("decisions", "links", "rules")}
    for k, held_out in enumerate(parts):
        weights = fit_linker([a for j, part in enumerate(parts) if j != k for a in part], c)
        for part, figures in (("decisions", ranking_accuracy(held_out, weights)),
                              ("links", gold_links(held_out, weights)), ("rules", gold_links(held_out, False))):
            for kind, (right, n) in figures.items():
                totals[part][kind][0] += right
                totals[part][kind][1] += n
    return {part: {kind: tuple(v) for kind, v in by_kind.items()} for part, by_kind in totals.items()}


def write_linker(weights: dict, path: str | Path) -> None:
    from factattr.ledger.ledger import atomic_write

    text = json.dumps(weights, indent=1) + "\n"
    atomic_write(Path(path), lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
