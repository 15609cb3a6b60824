"""Baselines scored on the same sentences as the model: majority label, rules, TF-IDF + logistic regression.

Every baseline has ``fit(train_sentences)`` (:class:`~factattr.data.types.Sentence` objects) and
``predict(articles) -> {head: (labels, probs)}`` where ``articles`` is a list of lists of sentence texts in
article order (rules need the order to carry a speaker forward) and ``probs`` is an (n, labels) array;
both iterate over the heads of ``labels``.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from factattr.data.types import Sentence

# Reporting-verb cues: a sentence with one of these attributes its claim to someone.
CUES = re.compile(r"\b(said|says|say|told|tells|according to|announced|announces|claimed|claims|stated|added|"
                  r"reported|reports|quoted|statement|confirmed|denied|estimated|noted|stressed|warned)\b", re.I)
# A continuation: opens inside a quotation, or a pronoun/description speaker with a reporting verb.
CONTINUATION = re.compile(r"^\s*(?:[\"\u201c\u2018']|(?:he|she|they|the (?:source|spokesman|officer|official|"
                          r"statement|ministry|command|monitor))\b)", re.I)


class MajorityBaseline:
    """Always the most frequent training label; its probabilities are the training label frequencies."""

    name = "majority"

    def __init__(self, labels: dict[str, list[str]]):
        self.labels = labels

    def fit(self, sentences: Sequence[Sentence]) -> "MajorityBaseline":
        self.prior = {}
        for head in self.labels:
            counts = Counter(s.labels[head] for s in sentences)
            total = sum(counts.values())
            self.prior[head] = np.array([counts[label] / total for label in self.labels[head]])
        return self

    def predict(self, articles: Sequence[Sequence[str]]) -> dict:
        n = sum(len(a) for a in articles)
        out = {}
        for head in self.labels:
            probs = np.tile(self.prior[head], (n, 1))
            out[head] = ([self.labels[head][int(self.prior[head].argmax())]] * n, probs)
        return out


class RuleBaseline:
    """Per head, the rules of the config's ``evaluation.rules`` (a head without rules: the majority label).

    ``attribution`` rules: a sentence with a reporting-verb cue takes the label whose name occurs first in
    it (an unknown speaker is ``unknown_speaker``); a sentence that continues a report (open quotation,
    pronoun speaker) keeps the previous label; anything else is ``narration``. ``keywords`` rules: the
    first label whose pattern matches, in order, else ``fallback``.
    """

    name = "rules"

    def __init__(self, labels: dict[str, list[str]], rules: dict):
        self.labels = labels
        self.rules = {head: r for head, r in rules.items() if head in labels and set(
            [r.narration, r.unknown_speaker] if r.kind == "attribution" else [r.fallback]) <= set(labels[head])}
        self.names = {head: [(label, name.lower()) for label, names in r.names.items() for name in names
                             if label in labels[head]] for head, r in self.rules.items() if r.kind == "attribution"}
        self.patterns = {head: [(label, re.compile(pattern, re.I)) for label, pattern in r.patterns.items()
                                if label in labels[head]] for head, r in self.rules.items() if r.kind == "keywords"}

    def fit(self, sentences: Sequence[Sentence]) -> "RuleBaseline":
        self.majority = MajorityBaseline(self.labels).fit(sentences)  # for heads without rules
        return self

    def _attributed(self, head: str, text: str, previous: str) -> str:
        rules, lower = self.rules[head], text.lower()
        found = [(lower.find(name), label) for label, name in self.names[head] if name in lower]
        if CONTINUATION.match(text) and previous != rules.narration and not found:
            return previous
        if CUES.search(text):
            return min(found)[1] if found else rules.unknown_speaker
        return rules.narration

    def _keyword(self, head: str, text: str) -> str:
        return next((label for label, pattern in self.patterns[head] if pattern.search(text)), self.rules[head].fallback)

    def _head(self, head: str, articles: Sequence[Sequence[str]]) -> list[str]:
        predicted = []
        for sentences in articles:
            previous = self.rules[head].narration
            for text in sentences:
                previous = self._attributed(head, text, previous)
                predicted.append(previous)
        return predicted

    def predict(self, articles: Sequence[Sequence[str]]) -> dict:
        out = self.majority.predict(articles)
        for head in self.rules:
            if head in self.names:
                predicted = self._head(head, articles)
            else:
                predicted = [self._keyword(head, text) for sentences in articles for text in sentences]
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

    def fit(self, sentences: Sequence[Sentence]) -> "TfidfBaseline":
        texts = [s.text for s in sentences]
        self.models = {}
        for head in self.labels:
            model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
                                  LogisticRegression(max_iter=2000, C=10.0, random_state=self.seed))
            self.models[head] = model.fit(texts, [s.labels[head] for s in sentences])
        return self

    def predict(self, articles: Sequence[Sequence[str]]) -> dict:
        texts = [t for sentences in articles for t in sentences]
        out = {}
        for head in self.labels:
            model = self.models[head]
            known = list(model.classes_)
            raw = model.predict_proba(texts) if texts else np.zeros((0, len(known)))
            probs = np.zeros((len(texts), len(self.labels[head])))
            for j, label in enumerate(known):
                probs[:, self.labels[head].index(label)] = raw[:, j]
            out[head] = ([self.labels[head][int(i)] for i in probs.argmax(-1)], probs)
        return out
