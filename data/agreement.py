"""Inter-annotator agreement: Cohen's kappa between the first labels and an independent second pass.

``data/agreement/second_pass.jsonl`` holds one line per doubly-annotated sentence: the article ``id``,
sentence index ``i``, and the ``first``, ``second`` and adjudicated ``final`` labels of every head.
"""

from __future__ import annotations

from pathlib import Path

from sklearn.metrics import cohen_kappa_score


def read_pass(path: str | Path) -> list[dict]:
    from .standoff import read_jsonl

    return [record for _, record in read_jsonl(path)]


def agreement(records: list[dict]) -> dict:
    """Cohen's kappa, raw agreement and disagreement count per head (first vs second annotator); the heads
    are those the records label."""
    out = {"sentences": len(records), "articles": len({r["id"] for r in records})}
    for head in (records[0]["first"] if records else {}):
        first = [r["first"][head] for r in records]
        second = [r["second"][head] for r in records]
        out[head] = {"kappa": float(cohen_kappa_score(first, second)),
                     "agreement": sum(a == b for a, b in zip(first, second)) / len(records),
                     "disagreements": sum(a != b for a, b in zip(first, second))}
    return out
