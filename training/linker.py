"""Fitting the pronoun ranker of :mod:`factattr.model.speakers` on annotated speaker links.

Each pronoun speaker of the training split whose speaker is named earlier (``ANNOTATION_NOTES.md`` 21.7)
is one ranking example: its candidates are the earlier speaker mentions and narrated names, each
described by :func:`~factattr.model.speakers.pronoun_features`, and a candidate is right when its
entity's naming span is a mention of the annotated speaker (:func:`~factattr.eval.metrics.link_verdict`).
A logistic regression over all candidates scores them; linking takes the best-scored candidate. Earlier
mentions are typed by the rule's own resolution, as they are when the ranker runs.

``factattr fit-linker`` writes the weights into the package (``model/pronoun_ranker.json``), where linking
reads them, and prints how many train and dev pronouns the ranker links on gold spans
(``benchmarks/speaker_links.py --rule`` gives the rule's figures beside them).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression

from factattr.errors import ConfigError
from factattr.eval.metrics import link_verdict
from factattr.model.speakers import (Mention, _ranked, is_pronoun, narrated_names, pronoun_features,
                                     resolve)

C = 1.0   # the regularisation; 0.1 to 10 ranked the dev split alike


def pronoun_examples(articles: Sequence) -> list[tuple[list[dict], list[bool], dict]]:
    """``(feature rows, right or not per candidate, case)`` for each annotated pronoun speaker of
    ``articles`` (with spans attached, :func:`factattr.data.spans.attach_spans`) named earlier; ``case``
    holds what scoring needs: the pronoun, its candidates and their naming spans, the gold naming span and
    the speaker's other mentions."""
    examples = []
    for article in articles:
        marks = sorted((s.extra["speaker"] for s in article.sentences if s.extra.get("speaker")),
                       key=lambda m: m["start"])
        if not marks:
            continue
        text = article.text
        mentions = [Mention(m["start"], m["end"], text[m["start"]:m["end"]]) for m in marks]
        narrated = narrated_names(text, mentions)
        naming = dict(zip(mentions, resolve(mentions, text, ranker=False)))
        naming.update({m: m for m in narrated})
        for k, (mark, pronoun) in enumerate(zip(marks, mentions)):
            gold = mark.get("refers_to")
            if mark.get("kind") != "pronoun" or gold is None or not is_pronoun(pronoun.text):
                continue
            before = [m for m in narrated if m.end <= pronoun.start]
            candidates = sorted(mentions[:k] + before, key=lambda m: m.start)
            if not candidates:
                continue
            same = [{"start": m["start"], "end": m["end"]} for m in marks if m.get("entity") == mark.get("entity")]
            right = [link_verdict({"start": naming[c].start, "end": naming[c].end}, gold, same)[1] for c in candidates]
            case = {"pronoun": pronoun, "spoken": mentions[:k], "narrated": before, "naming": naming, "gold": gold,
                    "same": same}
            examples.append((pronoun_features(pronoun, candidates, mentions[:k], naming), right, case))
    return examples


def fit_pronoun_ranker(articles: Sequence, c: float = C) -> dict:
    """The ranker's weights from the annotated pronouns of ``articles`` (the training split)."""
    examples = pronoun_examples(articles)
    if not examples:
        raise ConfigError("no annotated pronoun speaker with an earlier naming span in the training split: give "
                          "the config's data sources their span files (data.sources[].spans) to fit the ranker on")
    names = list(examples[0][0][0])
    rows = [[row[n] for n in names] for rows, _, _ in examples for row in rows]
    labels = [y for _, right, _ in examples for y in right]
    model = LogisticRegression(C=c, max_iter=2000).fit(np.array(rows), np.array(labels))
    return {"features": names, "coef": [round(float(w), 6) for w in model.coef_[0]],
            "intercept": round(float(model.intercept_[0]), 6), "C": c, "pronouns": len(examples),
            "candidates": len(rows)}


def ranking_accuracy(articles: Sequence, weights: dict) -> tuple[int, int]:
    """(right, pronouns) of the ranker with ``weights`` on the annotated pronouns of ``articles``, each
    linked with the gold speaker mentions before it (as ``benchmarks/speaker_links.py`` does)."""
    right = 0
    examples = pronoun_examples(articles)
    for _, _, case in examples:
        chosen = _ranked(case["pronoun"], case["spoken"], case["narrated"], case["naming"], weights)
        target = case["naming"].get(chosen, chosen)
        right += link_verdict({"start": target.start, "end": target.end}, case["gold"], case["same"])[1]
    return right, len(examples)


def write_ranker(weights: dict, path: str | Path) -> None:
    from factattr.ledger.ledger import atomic_write

    text = json.dumps(weights, indent=1) + "\n"
    atomic_write(Path(path), lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
