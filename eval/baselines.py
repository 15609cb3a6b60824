"""Baselines scored on the same sentences as the model: majority label, rules, TF-IDF + logistic regression.

Every baseline has ``fit(train_sentences)`` and ``predict(articles) -> {head: (labels, probs)}`` where
``articles`` is a list of lists of sentence texts in article order (rules need the order to carry a source
forward) and ``probs`` is an (n, labels) array.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

HEADS = ("source", "claim_type")

# Reporting-verb cues: a sentence with one of these attributes its claim to someone.
CUES = re.compile(r"\b(said|says|say|told|tells|according to|announced|announces|claimed|claims|stated|added|"
                  r"reported|reports|quoted|statement|confirmed|denied|estimated|noted|stressed|warned)\b", re.I)
# A continuation: opens inside a quotation, or a pronoun/description speaker with a reporting verb.
CONTINUATION = re.compile(r"^\s*(?:[\"\u201c\u2018']|(?:he|she|they|the (?:source|spokesman|officer|official|"
                          r"statement|ministry|command|monitor))\b)", re.I)

# Keyword rules for claim_type, tried in the guide's priority order.
CLAIM_KEYWORDS = (
    ("casualties", r"\b(killed|kill|killing|dead|deaths?|died|wounded|injured|casualt|executed|captured \d|"
                   r"displaced|civilians|toll|bodies|massacre|kidnapped|beheaded|fled their homes)"),
    ("territorial_control", r"\b(retook|retake|recaptur|captured|liberat|seized|control|entered|encircl|besieg|"
                            r"siege|fell|regained|cleared|took over|territory|held|holds|stronghold|lost)"),
    ("force_strength", r"\b(fighters left|\d[\d,]* (?:fighters|troops|militants|soldiers|jihadists|members)|"
                       r"tanks|weapons|equipment|armou?red|reinforcements|artillery pieces|strength|arsenal)"),
    ("military_action", r"\b(strikes?|struck|hit|pound|airstrikes?|raids?|attack|offensive|operation|shell|bomb|clash|advanc|"
                        r"assault|fighting|push|launched|fired|destroyed|targeted|deployed|withdr)"),
    ("assessment", r"\b(expect|warn|will|would|could|may|might|likely|strategic|believe|threat|aim|intend|"
                   r"significant|blow|fear|worr|predict|hope)"),
)


class MajorityBaseline:
    """Always the most frequent training label; its probabilities are the training label frequencies."""

    name = "majority"

    def __init__(self, labels: dict[str, list[str]]):
        self.labels = labels

    def fit(self, sentences: Sequence[dict]) -> "MajorityBaseline":
        self.prior = {}
        for head in HEADS:
            counts = Counter(s[head] for s in sentences)
            total = sum(counts.values())
            self.prior[head] = np.array([counts[label] / total for label in self.labels[head]])
        return self

    def predict(self, articles: Sequence[Sequence[str]]) -> dict:
        n = sum(len(a) for a in articles)
        out = {}
        for head in HEADS:
            probs = np.tile(self.prior[head], (n, 1))
            out[head] = ([self.labels[head][int(self.prior[head].argmax())]] * n, probs)
        return out


class RuleBaseline:
    """Reporting-verb cues plus a source gazetteer; continuations carry the last source forward.

    A sentence with a cue takes the source whose gazetteer name occurs first in it (an unknown speaker is
    ``other``); a sentence that continues a report (open quotation, pronoun speaker) keeps the previous
    source; anything else is ``none``. claim_type comes from keyword rules in the guide's priority order.
    """

    name = "rules"

    def __init__(self, labels: dict[str, list[str]], gazetteer: dict[str, list[str]]):
        self.labels = labels
        self.gazetteer = [(label, name.lower()) for label, names in gazetteer.items() for name in names]
        self.claim_rules = [(label, re.compile(pattern, re.I)) for label, pattern in CLAIM_KEYWORDS]

    def fit(self, sentences: Sequence[dict]) -> "RuleBaseline":
        return self  # nothing to learn

    def _source(self, text: str, previous: str) -> str:
        lower = text.lower()
        found = [(lower.find(name), label) for label, name in self.gazetteer if name in lower]
        if CONTINUATION.match(text) and previous != "none" and not found:
            return previous
        if CUES.search(text):
            return min(found)[1] if found else ("other" if "other" in self.labels["source"] else previous)
        return "none"

    def _claim(self, text: str) -> str:
        for label, pattern in self.claim_rules:
            if pattern.search(text):
                return label
        return "background"

    def predict(self, articles: Sequence[Sequence[str]]) -> dict:
        sources, claims = [], []
        for sentences in articles:
            previous = "none"
            for text in sentences:
                previous = self._source(text, previous)
                sources.append(previous)
                claims.append(self._claim(text))
        out = {}
        for head, predicted in (("source", sources), ("claim_type", claims)):
            index = {label: i for i, label in enumerate(self.labels[head])}
            probs = np.zeros((len(predicted), len(index)))
            probs[np.arange(len(predicted)), [index[p] for p in predicted]] = 1.0
            out[head] = (predicted, probs)
        return out


class TfidfBaseline:
    """Word and word-pair TF-IDF of the sentence with a logistic regression per head (scikit-learn)."""

    name = "tfidf_logreg"

    def __init__(self, labels: dict[str, list[str]], seed: int = 0):
        self.labels = labels
        self.seed = seed

    def fit(self, sentences: Sequence[dict]) -> "TfidfBaseline":
        texts = [s["text"] for s in sentences]
        self.models = {}
        for head in HEADS:
            model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
                                  LogisticRegression(max_iter=2000, C=10.0, random_state=self.seed))
            self.models[head] = model.fit(texts, [s[head] for s in sentences])
        return self

    def predict(self, articles: Sequence[Sequence[str]]) -> dict:
        texts = [t for sentences in articles for t in sentences]
        out = {}
        for head in HEADS:
            model = self.models[head]
            known = list(model.classes_)
            raw = model.predict_proba(texts) if texts else np.zeros((0, len(known)))
            probs = np.zeros((len(texts), len(self.labels[head])))
            for j, label in enumerate(known):
                probs[:, self.labels[head].index(label)] = raw[:, j]
            out[head] = ([self.labels[head][int(i)] for i in probs.argmax(-1)], probs)
        return out
