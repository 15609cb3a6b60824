"""Aligning predicted sentences to gold sentences by character overlap."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

Span = tuple[int, int]


@dataclass
class Alignment:
    """``gold_to_pred[i]`` is the predicted sentence covering most of gold sentence i, or None."""

    gold_to_pred: list[int | None]
    exact: int            # gold sentences whose boundaries the prediction matches exactly
    partial: int          # aligned, but boundaries differ (split or fused sentences)
    unaligned_gold: int   # gold sentences no prediction overlaps
    unaligned_pred: int   # predicted sentences that overlap no gold sentence


def _strip(text: str, span: Span) -> Span:
    start, end = span
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def align(text: str, gold: Sequence[Span], pred: Sequence[Span]) -> Alignment:
    """Map each gold sentence to the predicted sentence it overlaps most (ties: the earlier one)."""
    gold = [_strip(text, s) for s in gold]
    pred = [_strip(text, s) for s in pred]
    mapping: list[int | None] = []
    used = set()
    exact = partial = 0
    j = 0
    for g_start, g_end in gold:
        while j < len(pred) and pred[j][1] <= g_start:
            j += 1
        best, best_overlap, k = None, 0, j
        while k < len(pred) and pred[k][0] < g_end:
            overlap = min(g_end, pred[k][1]) - max(g_start, pred[k][0])
            if overlap > best_overlap:
                best, best_overlap = k, overlap
            k += 1
        mapping.append(best)
        if best is None:
            continue
        used.add(best)
        if pred[best] == (g_start, g_end):
            exact += 1
        else:
            partial += 1
    unaligned_pred = sum(
        1 for k, (p_start, p_end) in enumerate(pred)
        if k not in used and not any(min(p_end, g_end) > max(p_start, g_start) for g_start, g_end in gold))
    return Alignment(mapping, exact, partial, sum(m is None for m in mapping), unaligned_pred)
