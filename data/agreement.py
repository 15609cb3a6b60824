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


def against_gold(records: list[dict], gold: list, labels: dict[str, list[str]]) -> dict:
    """A labelling pass (one record per sentence: ``id``, ``i`` and a label per head) scored against gold
    articles: macro-F1, accuracy and Cohen's kappa per head, over the sentences both have."""
    from sklearn.metrics import accuracy_score, f1_score

    by_key = {(a.id, i): s for a in gold for i, s in enumerate(a.sentences)}
    pairs = [(by_key[(r["id"], r["i"])], r) for r in records if (r["id"], r["i"]) in by_key]
    out: dict = {"sentences": len(pairs), "articles": len({r["id"] for _, r in pairs})}
    for head, names in labels.items():
        truth = [s.labels[head] for s, _ in pairs]
        given = [r[head] for _, r in pairs]
        present = [n for n in names if n in truth or n in given]
        out[head] = {"macro_f1": float(f1_score(truth, given, labels=present, average="macro", zero_division=0)),
                     "accuracy": float(accuracy_score(truth, given)), "kappa": float(cohen_kappa_score(truth, given))}
    return out
