"""Batched, length-aware prediction over articles: shared by the Tagger, training and evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from .modeling import ClaimTaggerModel
from .spans import decode
from .windows import Window, collate, pack_article

Span = tuple[int, int]


def tokenize_sentences(tokenizer: PreTrainedTokenizerBase, text: str,
                       spans: Sequence[Span]) -> tuple[list[list[int]], list[list[Span]]]:
    """Token ids of each sentence, without special tokens, and each token's character range in its sentence."""
    if not spans:
        return [], []
    pieces = [text[start:end] for start, end in spans]
    encoded = tokenizer(pieces, add_special_tokens=False, truncation=False, verbose=False, return_offsets_mapping=True)
    return encoded["input_ids"], [[tuple(pair) for pair in row] for row in encoded["offset_mapping"]]


def encode_articles(tokenizer: PreTrainedTokenizerBase, model: ClaimTaggerModel, texts: Sequence[str],
                    spans: Sequence[Sequence[Span]], alone: Sequence[bool] | None = None) -> list[Window]:
    """Windows for several articles, packed as the model was trained (context on or off).

    ``alone[i]`` packs article i sentence by sentence even when the model uses context (training's
    context dropout).
    """
    cfg = model.config
    windows: list[Window] = []
    for index, (text, article_spans) in enumerate(zip(texts, spans)):
        context = cfg.context and not (alone is not None and alone[index])
        token_ids, offsets = tokenize_sentences(tokenizer, text, article_spans)
        windows += pack_article(token_ids, article=index, max_length=cfg.window_length, context=context,
                                context_tokens=cfg.context_tokens, cls_id=tokenizer.cls_token_id,
                                sep_id=tokenizer.sep_token_id, offsets=offsets)
    return windows


def length_batches(windows: Sequence[Window], windows_per_pass: int, by_article: bool = False) -> list[list[int]]:
    """Window indices per forward pass: longest first, ``windows_per_pass`` at a time, so padding is small.

    ``by_article`` never puts two articles' windows in one pass, so a pass depends on one article only.
    """
    if by_article:
        per_article: dict[int, list[int]] = {}
        for i, window in enumerate(windows):
            per_article.setdefault(window.article, []).append(i)
        return [[members[k] for k in batch] for members in per_article.values()
                for batch in length_batches([windows[i] for i in members], windows_per_pass)]
    order = sorted(range(len(windows)), key=lambda i: len(windows[i]), reverse=True)
    return [order[begin:begin + windows_per_pass] for begin in range(0, len(order), windows_per_pass)]


@dataclass
class Prediction:
    """One article's scores: ``probs[head]`` (sentences, labels of the head) and, for a model with the span
    head, ``spans[i]`` the i-th sentence's ``{"speaker": (start, end, score) | None, "cue": ...}`` relative
    to the sentence."""

    probs: dict[str, np.ndarray]
    spans: list[dict] | None = None


@torch.inference_mode()
def predict(model: ClaimTaggerModel, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str],
            spans: Sequence[Sequence[Span]], windows_per_pass: int = 8, by_article: bool = False) -> list[Prediction]:
    """Every head's probabilities (and the speaker and cue) for every given sentence of every article.

    Windows of all articles are sorted by length and run ``windows_per_pass`` at a time, so padding is
    small. A dynamically quantised model needs ``by_article``: it picks one activation scale per forward
    pass, so an article's scores would otherwise depend on the articles it happens to be scored with.
    """
    model.eval()
    windows = encode_articles(tokenizer, model, texts, spans)
    labels, temperatures = model.config.labels, model.config.temperatures
    out = [Prediction({head: np.zeros((len(s), len(names)), dtype=np.float32) for head, names in labels.items()},
                      [{} for _ in s] if model.config.spans else None) for s in spans]
    for members in length_batches(windows, windows_per_pass, by_article):
        batch_windows = [windows[i] for i in members]
        batch = collate(batch_windows, tokenizer.pad_token_id)
        result = model(batch.input_ids, batch.attention_mask, batch.token_target, batch.num_targets)
        for head, logits in result.logits.items():
            probs = torch.softmax(logits.float() / temperatures[head], dim=-1).numpy()
            for row, (article, sentence) in enumerate(batch.target_keys):
                out[article].probs[head][sentence] = probs[row]
        if result.span_logits is not None:
            _decode_spans(torch.softmax(result.span_logits.float(), dim=-1).numpy(), batch_windows, out)
    return out


def _decode_spans(tag_probs: np.ndarray, windows: Sequence[Window], out: list[Prediction]) -> None:
    for b, window in enumerate(windows):
        for sentence, (start, end), is_target, offsets in zip(window.sentences, window.spans, window.targets,
                                                              window.offsets):
            if is_target:
                out[window.article].spans[sentence] = decode(tag_probs[b, start:end], offsets)


def predict_probs(model: ClaimTaggerModel, tokenizer: PreTrainedTokenizerBase, texts: Sequence[str],
                  spans: Sequence[Sequence[Span]], windows_per_pass: int = 8,
                  by_article: bool = False) -> list[dict[str, np.ndarray]]:
    """Every head's probabilities: for each article, ``{head: array (sentences, labels of the head)}``."""
    return [p.probs for p in predict(model, tokenizer, texts, spans, windows_per_pass, by_article)]
