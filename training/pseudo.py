"""Self-training: a trained model's soft labels for the articles nobody annotated.

``factattr pseudo-label`` scores the texts of a texts file that no annotations file covers and writes
stand-off records whose sentences carry the model's calibrated probabilities (``probs``) beside its
labels. Given several checkpoints (say, one config trained with three seeds), the teacher is their
ensemble: the mean of their calibrated probabilities on the first one's sentences, a larger and better
calibrated teacher than any one of them, distilled into a single model by training on its soft labels.
A config then trains on them as a ``train_only`` source: training takes the probabilities as soft
targets, and the articles never enter dev or test.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from tqdm.auto import tqdm

from factattr.data.standoff import read_jsonl, read_texts, standoff_record, write_jsonl

log = logging.getLogger("factattr.pseudo")


def pseudo_label(checkpoint: str | Path | Sequence[str | Path], texts: str | Path, out: str | Path,
                 exclude: Sequence[str | Path] = (), min_confidence: float = 0.0, progress: bool = True) -> dict:
    """Write soft labels for every article of ``texts`` that no ``exclude`` annotations file holds.

    Args:
        checkpoint: the teacher, or several whose mean probabilities are the teacher (same label schema).
        min_confidence: keep only sentences whose predicted labels all have at least this probability
            (articles left with no sentence are dropped).

    Returns:
        Counts: articles and sentences written, sentences dropped for low confidence.
    """
    from factattr.model.tagger import Tagger

    checkpoints = [checkpoint] if isinstance(checkpoint, (str, Path)) else list(checkpoint)
    tagger = Tagger.load(checkpoints[0])
    labels = tagger.labels
    annotated = {record["id"] for path in exclude for _, record in read_jsonl(path) if isinstance(record, dict)}
    todo = [article for article_id, article in read_texts(texts).items() if article_id not in annotated]
    results = tagger.score_many(article["text"] for article in todo)
    if len(checkpoints) > 1:
        results = _ensemble(list(results), checkpoints[1:], todo, labels)
    records, kept, dropped = [], 0, 0
    for article, result in tqdm(zip(todo, results), total=len(todo), desc="pseudo-labelling", disable=not progress,
                                unit="article"):
        sentences = []
        for s in result.sentences:
            if min(s.score(head) for head in labels) < min_confidence:
                dropped += 1
                continue
            probs = {head: [round(s.probs[head][name], 4) for name in labels[head]] for head in labels}
            # The hard label is the soft label's largest entry (after rounding, which can only break ties).
            hard = {head: labels[head][max(range(len(p)), key=p.__getitem__)] for head, p in probs.items()}
            sentences.append({"start": s.start, "end": s.end, **hard, "probs": probs})
        kept += len(sentences)
        if sentences:
            records.append(standoff_record({"id": article["id"], "text": article["text"], "sentences": sentences}))
    write_jsonl(out, records)
    counts = {"articles": len(records), "sentences": kept, "dropped_sentences": dropped,
              "skipped_annotated": len(annotated)}
    log.info("%s: %d articles, %d sentences (%d below confidence %.2f dropped)", out, len(records), kept, dropped,
             min_confidence)
    return counts


def _ensemble(results: list, checkpoints: Sequence[str | Path], todo: list[dict], labels: dict) -> list:
    """``results`` (the first teacher's) with each sentence's probabilities replaced by the mean over all
    the teachers, scored on the first teacher's sentences, and its labels by the mean's argmax."""
    from factattr.errors import ConfigError
    from factattr.model.tagger import Tagger

    texts = [article["text"] for article in todo]
    spans = [[(s.start, s.end) for s in result.sentences] for result in results]
    others = []
    for checkpoint in checkpoints:
        teacher = Tagger.load(checkpoint)
        if teacher.labels != labels:
            raise ConfigError(f"{checkpoint}: its label schema differs from the first teacher's; an ensemble needs "
                              "one schema (train the teachers from one config)")
        others.append(teacher.score_spans(texts, spans))
    merged = []
    for i, result in enumerate(results):
        sentences = []
        for j, first in enumerate(result.sentences):
            members = [first] + [other[i].sentences[j] for other in others]
            probs = {head: {name: sum(m.probs[head][name] for m in members) / len(members) for name in names}
                     for head, names in labels.items()}
            sentences.append(replace(first, probs=probs, labels={h: max(p, key=p.get) for h, p in probs.items()}))
        merged.append(replace(result, sentences=tuple(sentences)))
    return merged
