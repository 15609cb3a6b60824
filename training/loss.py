"""The training loss: one cross-entropy per head, weighted and summed. It lives here, not on the network,
so a loaded model for scoring carries no training settings."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from sklearn.utils.class_weight import compute_class_weight

from factattr.data.types import Article
from factattr.model.spans import IGNORE


def class_weights(labels: Sequence[int], n: int, mode: str) -> torch.Tensor:
    """Per-label loss weights: scikit-learn's 'balanced' weights (inverse frequency), their square root
    ('sqrt'), or ones ('none'); labels absent from training weigh 0, and the weights of the others
    average 1."""
    if mode == "none":
        return torch.ones(n)
    present = np.unique(labels)
    weights = np.zeros(n)
    weights[present] = compute_class_weight("balanced", classes=present, y=np.asarray(labels))
    if mode == "sqrt":
        weights = np.sqrt(weights)
    return torch.tensor(weights / weights[present].mean(), dtype=torch.float)


def sentence_targets(articles: Sequence[Article], label_ids: dict[str, dict[str, int]], soft: bool) -> dict:
    """``(article, sentence) -> {head: target}``: label indices, or with ``soft`` a probability row per
    head: the sentence's own soft labels where it has them, one-hot otherwise."""
    targets = {}
    for ai, article in enumerate(articles):
        for si, sentence in enumerate(article.sentences):
            row = {}
            for head, ids in label_ids.items():
                index = ids[sentence.labels[head]]
                if not soft:
                    row[head] = index
                elif sentence.probs is not None:
                    row[head] = [float(p) for p in sentence.probs[head]]
                else:
                    row[head] = [float(i == index) for i in range(len(ids))]
            targets[(ai, si)] = row
    return targets


class TaggingLoss:
    """Sum over heads of ``head weight x cross-entropy`` (with per-label weights and label smoothing).

    Targets are label ids, or, when any training sentence carries soft labels (self-training), probability
    rows for every sentence; cross-entropy takes either form.
    """

    def __init__(self, label_ids: dict[str, dict[str, int]], head_weights: dict[str, float],
                 class_weights: dict[str, torch.Tensor], label_smoothing: float, soft: bool, span_weight: float = 0.0):
        self.label_ids = label_ids
        self.head_weights = head_weights
        self.class_weights = class_weights
        self.label_smoothing = label_smoothing
        self.soft = soft
        self.span_weight = span_weight      # 0 without the span head

    @classmethod
    def for_articles(cls, config, articles: Sequence[Article]) -> "TaggingLoss":
        """The loss a config asks for, with class weights counted on the training articles."""
        label_ids = {head: {name: i for i, name in enumerate(names)} for head, names in config.labels.label_lists().items()}
        mode = config.training.class_weighting
        weights = {head: class_weights([ids[s.labels[head]] for a in articles for s in a.sentences], len(ids), mode)
                   for head, ids in label_ids.items()}
        soft = any(s.probs is not None for a in articles for s in a.sentences)
        return cls(label_ids, {head: config.head_weight(head) for head in label_ids}, weights,
                   config.training.label_smoothing, soft, config.training.span_weight if config.model.spans else 0.0)

    def targets(self, articles: Sequence[Article]) -> dict:
        return sentence_targets(articles, self.label_ids, self.soft)

    def batch_targets(self, targets: dict, keys: Sequence[tuple[int, int]]) -> dict[str, torch.Tensor]:
        dtype = torch.float if self.soft else torch.long
        return {head: torch.tensor([targets[key][head] for key in keys], dtype=dtype) for head in self.label_ids}

    def __call__(self, logits: dict[str, torch.Tensor], targets: dict[str, torch.Tensor],
                 span_logits: torch.Tensor | None = None, span_tags: torch.Tensor | None = None) -> torch.Tensor:
        total = None
        for head, weight in self.head_weights.items():
            loss = weight * torch.nn.functional.cross_entropy(logits[head], targets[head], weight=self.class_weights[head],
                                                              label_smoothing=self.label_smoothing)
            total = loss if total is None else total + loss
        if self.span_weight and span_logits is not None and span_tags is not None and (span_tags != IGNORE).any():
            total = total + self.span_weight * torch.nn.functional.cross_entropy(
                span_logits.reshape(-1, span_logits.size(-1)), span_tags.reshape(-1), ignore_index=IGNORE)
        return total

    def span_targets(self, articles: Sequence[Article], spans: Sequence[Sequence[dict | None]]) -> dict:
        """``(article, sentence) -> {"speaker": (start, end) | None, "cue": ...}`` relative to the sentence,
        for the sentences whose article has span annotations (``spans[a][s]``: article offsets, from
        :func:`factattr.training.augment.maybe_scrape`, so they follow a scraped text)."""
        if not self.span_weight:
            return {}
        return {(ai, si): sentence_spans for ai, article in enumerate(spans) for si, sentence_spans in enumerate(article)
                if sentence_spans is not None}
