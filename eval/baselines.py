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


# The rules' speaker and cue guess (rule_spans): words with their offsets, titles and initialisms kept whole
# ("Col.", "U.S.-backed"), every other non-word character a token of its own.
_TOKEN = re.compile(r"(?:Col|Gen|Lt|Maj|Brig|Capt|Sgt|Adm|Mr|Mrs|Ms|Dr|Gov|Sen|Rep)\.|(?:[A-Z]\.){2,}(?:-\w+)*"
                    r"|\w(?:[\w'\u2019\-]*\w)?|[^\w\s]")
_CLAUSE = {"that", "which", "who", "whom", "whose", "when", "while", "but", "and", "or", "as", "after", "before",
           "because", "so", "if", "where", "although", "though", "since", "until", "than"}
_DETERMINERS = {"the", "a", "an", "this", "these", "those", "another"}
_AUXILIARIES = {"has", "have", "had", "will", "would", "is", "are", "was", "were", "did", "does", "do", "could",
                "can", "may", "might", "should", "been", "be"}
_PASSIVE = {"is", "are", "was", "were", "been", "be"}
_ADVERBS = {"also", "later", "earlier", "previously", "separately", "further", "again", "then", "reportedly",
            "recently", "once", "not", "never", "however"}
# A phrase after the cue ends at a clause edge or where time, place or a relay begins.
_HALT_AFTER = _CLAUSE | _AUXILIARIES | {"on", "in", "at", "during", "last", "yesterday", "today", "cited", "citing",
                                        "saying", "adding", "quoting"}
_DOCUMENTS = {"statement", "report", "communique", "announcement"}
_RECIPIENTS = {"reporters", "journalists"}
_MAX_WORDS = 8


def _is_word(token: str) -> bool:
    return token[0].isalnum()


def _other_cue(word: str) -> bool:
    """A cue word that ends a phrase; a document noun does not ("the ministry's statement said")."""
    return bool(CUES.fullmatch(word)) and word.lower() not in _DOCUMENTS


def _backward(tokens: list, last: int) -> tuple[int, int] | None:
    """The noun phrase ending at token ``last``: back to a clause edge (punctuation, a clause word, another
    cue) or through its determiner, at most ``_MAX_WORDS`` words; None when only a determiner is left."""
    start, i = None, last
    while i >= 0 and last - i < _MAX_WORDS:
        word = tokens[i][2]
        if not _is_word(word) or word.lower() in _CLAUSE or _other_cue(word):
            break
        start = i
        if word.lower() in _DETERMINERS:
            break
        i -= 1
    if start is None or all(tokens[k][2].lower() in _DETERMINERS for k in range(start, last + 1)):
        return None
    return start, last


def _forward(tokens: list, first: int) -> tuple[int, int] | None:
    """The noun phrase starting at token ``first``, up to a clause edge or a time, place or relay word."""
    end, i = None, first
    while i < len(tokens) and i - first < _MAX_WORDS:
        word = tokens[i][2]
        if not _is_word(word) or word.lower() in _HALT_AFTER or _other_cue(word):
            break
        end, i = i, i + 1
    if end is None or all(tokens[k][2].lower() in _DETERMINERS for k in range(first, end + 1)):
        return None
    return first, end


def _recipient_end(tokens: list, told: int) -> int:
    """The last token of "told"'s recipient when it is named ("told AFP", "told The Associated Press",
    "told reporters"); ``told`` itself otherwise."""
    i = told + 1
    if i < len(tokens) and tokens[i][2].lower() in _RECIPIENTS:
        return i
    j = i + int(i < len(tokens) and tokens[i][2].lower() == "the")
    k = j
    while k < len(tokens) and tokens[k][2][0].isupper():
        k += 1
    return k - 1 if k > j else told


def _verb_spans(tokens: list, first: int, last: int, verb: str) -> tuple[tuple | None, tuple]:
    """Speaker and cue token ranges around a reporting verb (tokens ``first``..``last``)."""
    words = [t[2].lower() for t in tokens]
    cue_first, cue_last = first, (_recipient_end(tokens, last) if verb in ("told", "tells") else last)
    while verb != "quoted" and cue_first > 0 and words[cue_first - 1] in _AUXILIARIES:
        cue_first -= 1           # "has said" (notes 21.4); "was quoted as saying" keeps "quoted"
    before = first - 1
    while before >= 0 and words[before] in _AUXILIARIES | _ADVERBS:
        before -= 1
    passive = any(words[i] in _PASSIVE for i in range(before + 1, first))
    if passive and verb != "quoted":          # "was reported by SANA": the agent, if any, speaks
        by = cue_last + 1 < len(words) and words[cue_last + 1] == "by"
        return (_forward(tokens, cue_last + 2) if by else None), (cue_first, cue_last)
    if verb == "quoted" and not passive:      # "SANA quoted a military source as saying": the originator
        return _forward(tokens, last + 1), (cue_first, cue_last)
    inverted = before < 0 or not _is_word(tokens[before][2])     # '"...," said the spokesman'
    return (_forward(tokens, cue_last + 1) if inverted else _backward(tokens, before)), (cue_first, cue_last)


def rule_spans(text: str, offset: int = 0) -> dict[str, dict | None]:
    """The rules' speaker and cue of one sentence, ``{"text", "start", "end"}`` in the offsets of the
    article the sentence starts at ``offset`` of, or both ``None``.

    A sentence with a reporting cue (:data:`CUES`) is one the rules deem attributed. The cue is the
    sentence's first cue other than a bare "statement" (that noun only when nothing else matches), with
    the auxiliaries just before a verb ("has said") and the named recipient of "told" ("told AFP"). The
    speaker is the noun phrase beside it, cut at whole words: after "according to" and after "quoted"
    ("SANA quoted a military source"), the words that follow, up to a clause edge (punctuation, a clause
    word, a time or place preposition); after a passive ("was reported by X"), the agent after "by", else
    nothing; otherwise the words before the verb back to a clause edge or through their determiner (at
    most eight), or, when the verb follows punctuation ('"...," said the spokesman'), the words after it.
    A possessive document ("the ministry's statement said") gives the holder as speaker and the noun to
    the cue. A sentence with no speaker found gets no cue either, as the annotation has no cue without a
    speaker.
    """
    none: dict[str, dict | None] = {"speaker": None, "cue": None}
    matches = list(CUES.finditer(text))
    if not matches:
        return none
    match = next((m for m in matches if m.group(1).lower() != "statement"), matches[0])
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    first = next(i for i, t in enumerate(tokens) if t[1] > match.start())
    last = max(i for i, t in enumerate(tokens) if t[0] < match.end())
    verb = match.group(1).lower()
    if verb == "according to":
        speaker, cue = _forward(tokens, last + 1), (first, last)
    else:
        speaker, cue = _verb_spans(tokens, first, last, verb)
    if speaker is None:
        return none
    chars = [tokens[speaker[0]][0], tokens[speaker[1]][1], tokens[cue[0]][0], tokens[cue[1]][1]]
    holder = tokens[speaker[1] - 1][2] if speaker[0] < speaker[1] < cue[0] else ""
    if holder[-2:].lower() in ("'s", "\u2019s") and tokens[speaker[1]][2].lower() in _DOCUMENTS:
        chars[1:3] = [tokens[speaker[1] - 1][1] - 2, tokens[speaker[1]][0]]
    return {field: {"text": text[a:b], "start": offset + a, "end": offset + b}
            for field, (a, b) in (("speaker", chars[:2]), ("cue", chars[2:]))}


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
