"""Packing an article's sentences into encoder windows, and the batches built from them.

A window is ``[CLS] s_i [SEP] s_i+1 [SEP] ... [SEP]``. Each sentence is *predicted* in exactly one
window (its target window) and may appear in a neighbour as context. When an article does not fit in
one window, windows slide: each keeps up to ``context_tokens`` of the sentences before and after the
ones it predicts, so every sentence sees neighbours on both sides and is encoded as a target once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import torch


@dataclass
class Window:
    """One encoder input. ``spans[k]`` is the token range of the k-th sentence in ``input_ids``."""

    article: int                     # index of the article in the batch of articles being encoded
    input_ids: list[int]
    sentences: list[int] = field(default_factory=list)   # article-level sentence indices, in order
    spans: list[tuple[int, int]] = field(default_factory=list)
    targets: list[bool] = field(default_factory=list)    # whether this window predicts that sentence
    offsets: list = field(default_factory=list)          # per sentence, its tokens' character ranges in it

    def __len__(self) -> int:
        return len(self.input_ids)


def _build(article: int, token_ids: Sequence[Sequence[int]], first: int, stop: int, target_range: range,
           cls_id: int, sep_id: int, max_body: int, offsets: Sequence | None = None) -> Window:
    window = Window(article=article, input_ids=[cls_id])
    for i in range(first, stop):
        tokens = list(token_ids[i][:max_body]) or [sep_id]  # an empty sentence still gets one token
        begin = len(window.input_ids)
        window.input_ids.extend(tokens)
        window.spans.append((begin, begin + len(tokens)))
        window.offsets.append(list(offsets[i][:max_body]) if offsets is not None else [])
        window.input_ids.append(sep_id)
        window.sentences.append(i)
        window.targets.append(i in target_range)
    return window


def pack_article(token_ids: Sequence[Sequence[int]], *, article: int = 0, max_length: int, context: bool,
                 context_tokens: int, cls_id: int, sep_id: int, offsets: Sequence | None = None) -> list[Window]:
    """Pack one article's tokenised sentences (no special tokens) into windows.

    Args:
        token_ids: one list of token ids per sentence.
        max_length: tokens per window, special tokens included.
        context: False puts every sentence alone in its own window (the no-context ablation).
        context_tokens: tokens of context kept on each side when an article needs several windows.
        offsets: optionally, each sentence's tokens' character ranges (kept beside the tokens, for spans).

    Returns:
        Windows in order; each sentence index is a target in exactly one of them. A sentence longer
        than a window keeps its first ``max_length - 2`` tokens (it is never dropped).
    """
    n = len(token_ids)
    max_body = max_length - 2
    if not context:
        return [_build(article, token_ids, i, i + 1, range(i, i + 1), cls_id, sep_id, max_body, offsets)
                for i in range(n)]
    cost = [min(len(t), max_body) + 1 for t in token_ids]  # sentence plus its [SEP]
    capacity = max_length - 1                                # minus [CLS]
    windows, t = [], 0
    while t < n:
        start, used = t, 0
        while start > 0 and used + cost[start - 1] <= context_tokens:
            start -= 1
            used += cost[start]
        while used + cost[t] > capacity:                     # left context must leave room for sentence t
            used -= cost[start]
            start += 1
        end = t
        while end < n and used + cost[end] <= capacity:
            used += cost[end]
            end += 1
        last = end
        if end < n:                                          # keep right context unless at the article's end
            right = 0
            while last - 1 > t and right + cost[last - 1] <= context_tokens:
                last -= 1
                right += cost[last]
        windows.append(_build(article, token_ids, start, end, range(t, last), cls_id, sep_id, max_body, offsets))
        t = last
    return windows


@dataclass
class Batch:
    """Tensors for one forward pass. ``token_target[b, t]`` is the target row the token pools into, or -1."""

    input_ids: torch.Tensor          # (B, T)
    attention_mask: torch.Tensor     # (B, T)
    token_target: torch.Tensor       # (B, T)
    num_targets: int
    target_keys: list[tuple[int, int]]  # (article, sentence) of each target row, in row order


def collate(windows: Sequence[Window], pad_id: int) -> Batch:
    """Pad windows into tensors and map each target sentence's tokens to its output row."""
    width = max(len(w) for w in windows)
    input_ids = torch.full((len(windows), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(windows), width), dtype=torch.long)
    token_target = torch.full((len(windows), width), -1, dtype=torch.long)
    keys: list[tuple[int, int]] = []
    for b, window in enumerate(windows):
        input_ids[b, : len(window)] = torch.tensor(window.input_ids)
        attention_mask[b, : len(window)] = 1
        for sentence, (start, end), is_target in zip(window.sentences, window.spans, window.targets):
            if is_target:
                token_target[b, start:end] = len(keys)
                keys.append((window.article, sentence))
    return Batch(input_ids, attention_mask, token_target, len(keys), keys)
