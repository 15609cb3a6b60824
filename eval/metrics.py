"""Classification metrics for one head: per-label P/R/F1, macro/weighted F1, confusion, calibration; span
F1, speaker-linking accuracy and B-cubed of speaker entities."""

from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from factattr.data.spans import REFERRING


def present_labels(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> list[str]:
    """Schema labels that occur in the gold or predicted labels (the labels macro-F1 averages over)."""
    seen = set(gold) | set(pred)
    return [label for label in labels if label in seen]


def macro_f1(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> float:
    """Macro-F1 over the schema labels present in gold or predictions.

    A label absent from both (e.g. no Iraqi statements in a Syria-only set) is left out rather than
    counted as F1 = 0; a label predicted but never gold counts, with F1 = 0.
    """
    used = present_labels(gold, pred, labels)
    if not used:
        return 0.0
    return float(f1_score(gold, pred, labels=used, average="macro", zero_division=0))


def head_metrics(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict:
    """Accuracy, macro and weighted F1, per-label precision/recall/F1/support and the confusion matrix."""
    labels = list(labels)
    used = present_labels(gold, pred, labels)
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    return {
        "n": len(gold),
        "accuracy": float(accuracy_score(gold, pred)) if len(gold) else 0.0,
        "macro_f1": macro_f1(gold, pred, labels),
        "weighted_f1": float(f1_score(gold, pred, labels=used, average="weighted", zero_division=0)) if used else 0.0,
        "labels_in_macro": used,
        "per_label": {label: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                      for i, label in enumerate(labels)},
        "confusion": confusion_matrix(gold, pred, labels=labels).tolist() if len(gold) else [[0] * len(labels)] * len(labels),
    }


def calibration(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> dict:
    """Expected calibration error and the reliability diagram's bins (equal-width in confidence; each bin
    holds the confidences above its lower edge up to its upper edge, the first bin 0 too).

    Per-bin accuracy and mean confidence come from scikit-learn's ``calibration_curve``.
    """
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=int)
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], confidence), minlength=bins)  # calibration_curve's bins
    accuracy, mean_confidence = (calibration_curve(correct, confidence, n_bins=bins, pos_label=1)
                                 if len(confidence) else (np.zeros(0), np.zeros(0)))
    rows, ece, k = [], 0.0, 0
    for i in range(bins):
        count = int(counts[i])
        acc = conf = 0.0
        if count:
            acc, conf = float(accuracy[k]), float(mean_confidence[k])
            ece += count / len(confidence) * abs(acc - conf)
            k += 1
        rows.append({"lower": float(edges[i]), "upper": float(edges[i + 1]), "count": count, "accuracy": acc,
                     "confidence": conf})
    return {"ece": float(ece), "bins": rows}


def _article_resamples(groups: Sequence[str], samples: int, seed: int):
    """Sentence indices of ``samples`` resamples of whole articles (``groups``), drawn with replacement."""
    groups = np.asarray(groups)
    ids = np.unique(groups)
    members = {g: np.flatnonzero(groups == g) for g in ids}
    rng = np.random.default_rng(seed)
    for _ in range(samples):
        yield np.concatenate([members[g] for g in rng.choice(ids, size=len(ids), replace=True)])


def bootstrap_macro_f1(gold: Sequence[str], pred: Sequence[str], groups: Sequence[str], labels: Sequence[str],
                       samples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% interval of macro-F1 by resampling whole articles (``groups``) with replacement."""
    if samples <= 0 or not gold:
        return (float("nan"), float("nan"))
    gold, pred = np.asarray(gold), np.asarray(pred)
    scores = [macro_f1(gold[index].tolist(), pred[index].tolist(), labels)
              for index in _article_resamples(groups, samples, seed)]
    low, high = np.percentile(scores, [2.5, 97.5])
    return float(low), float(high)


def paired_bootstrap(gold: Sequence[str], pred_a: Sequence[str], pred_b: Sequence[str], groups: Sequence[str],
                     labels: Sequence[str], samples: int = 1000, seed: int = 0) -> dict:
    """Macro-F1 of system A minus system B on the same sentences, with a 95% interval from resampling
    whole articles (the same resample for both, so article difficulty cancels out), the share of
    resamples where A is ahead, and the sentences only one of them gets right."""
    gold, pred_a, pred_b, groups = map(np.asarray, (gold, pred_a, pred_b, groups))
    out = {"difference": macro_f1(gold.tolist(), pred_a.tolist(), labels) - macro_f1(gold.tolist(), pred_b.tolist(), labels),
           "ci95": [float("nan"), float("nan")], "a_ahead": float("nan"),
           "only_a_right": int(((pred_a == gold) & (pred_b != gold)).sum()),
           "only_b_right": int(((pred_b == gold) & (pred_a != gold)).sum())}
    if samples <= 0 or not len(gold):
        return out
    diffs = []
    for index in _article_resamples(groups, samples, seed):
        g = gold[index].tolist()
        diffs.append(macro_f1(g, pred_a[index].tolist(), labels) - macro_f1(g, pred_b[index].tolist(), labels))
    out["ci95"] = [float(x) for x in np.percentile(diffs, [2.5, 97.5])]
    out["a_ahead"] = float(np.mean(np.array(diffs) > 0))
    return out


def spans_overlap(a: dict, b: dict) -> bool:
    """Whether two character spans (``{"start", "end"}`` each) share a character."""
    return a["start"] < b["end"] and b["start"] < a["end"]


def span_f1(pairs: Sequence[tuple[dict | None, dict | None]]) -> dict:
    """Exact-match and overlap precision, recall and F1 of predicted character spans against gold ones,
    one (gold, predicted) pair per sentence (``None`` where a side has no span)."""
    gold = sum(g is not None for g, _ in pairs)
    predicted = sum(p is not None for _, p in pairs)
    out = {"gold": gold, "predicted": predicted}
    for name, hit in (("exact", lambda g, p: (g["start"], g["end"]) == (p["start"], p["end"])),
                      ("overlap", spans_overlap)):
        right = sum(1 for g, p in pairs if g is not None and p is not None and hit(g, p))
        precision = right / predicted if predicted else 0.0
        recall = right / gold if gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[name] = {"precision": precision, "recall": recall, "f1": f1}
    return out


def b_cubed(articles: Sequence[tuple[Sequence, Sequence]]) -> dict:
    """B-cubed precision, recall and F1 (Bagga and Baldwin 1998) of predicted speaker entities against gold
    ones, one ``(gold ids, predicted ids)`` pair per article (mention i's entity on each side): for each
    mention, the share of its predicted entity's mentions that share its gold entity (precision) and of
    its gold entity's mentions that share its predicted one (recall), averaged over all mentions. Merging
    two speakers costs precision, splitting one costs recall."""
    precision = recall = 0.0
    n = 0
    for where, (gold, predicted) in enumerate(articles):
        if len(gold) != len(predicted):
            raise ValueError(f"b_cubed: article {where} has {len(gold)} gold and {len(predicted)} predicted entity ids; "
                             "give one of each per mention")
        both, gold_size, predicted_size = Counter(zip(gold, predicted)), Counter(gold), Counter(predicted)
        for g, p in zip(gold, predicted):
            precision += both[g, p] / predicted_size[p]
            recall += both[g, p] / gold_size[g]
        n += len(gold)
    precision, recall = (precision / n, recall / n) if n else (0.0, 0.0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"mentions": n, "precision": precision, "recall": recall, "f1": f1}


def link_verdict(target: dict | None, naming: dict, mentions: Sequence[dict]) -> tuple[bool, bool]:
    """Whether a predicted link ``target`` (``None``: no link) points at the gold ``naming`` span, and
    whether it points at that or any of the speaker's other gold ``mentions`` (``{"start", "end"}`` each)."""
    if target is None:
        return False, False
    hit = spans_overlap(target, naming)
    return hit, hit or any(spans_overlap(target, m) for m in mentions)


def linking_accuracy(cases: Sequence[tuple[dict | None, dict | None, Sequence[dict]]]) -> dict:
    """How often the predicted speaker of a gold ``role`` or ``pronoun`` speaker named earlier in the
    article refers to the right one, per kind and for both together.

    One case per sentence: the gold speaker (its ``kind`` and the naming span it ``refers_to``), the
    predicted speaker (``None`` where there is none) and the gold speaker mentions of the same entity in
    the article (``{"start", "end"}`` each). Only gold speakers with a naming span count. "naming span": the
    predicted ``refers_to`` overlaps the gold naming span; "right speaker": it overlaps that or any gold
    mention of the same entity. A missing speaker or ``refers_to`` is wrong (``no_link`` counts them).
    """
    linked = [(g, p, m) for g, p, m in cases if g and g.get("kind") in REFERRING and g.get("refers_to")]
    out = {}
    for kind in (*REFERRING, "all"):
        part = [c for c in linked if kind == "all" or c[0]["kind"] == kind]
        naming = right = missing = 0
        for gold, predicted, mentions in part:
            target = (predicted or {}).get("refers_to")
            if target is None:
                missing += 1
                continue
            on_naming, on_speaker = link_verdict(target, gold["refers_to"], mentions)
            naming += on_naming
            right += on_speaker
        n = len(part)
        out[kind] = {"n": n, "no_link": missing,
                     "naming_span": {"right": naming, "share": naming / n if n else None},
                     "right_speaker": {"right": right, "share": right / n if n else None}}
    return out
