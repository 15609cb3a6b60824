"""The speaker-and-cue part of ``factattr evaluate``: span F1 of the model and of the rules, speaker-linking
accuracy, and the model's most confident span errors, on the aligned gold sentences that have span
annotations (``ANNOTATION_NOTES.md`` section 21)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from factattr.data.types import Article
from factattr.model.spans import FIELDS

from .baselines import rule_spans
from .metrics import linking_accuracy, span_f1, spans_overlap


@dataclass
class SpanCase:
    """One aligned gold sentence with span annotations and what the model (and the rules) marked in the
    predicted sentence aligned to it; all spans in article offsets."""

    article: str
    index: int                       # the gold sentence's index in its article
    origin: str
    sentence: tuple[int, int]        # the aligned predicted sentence
    gold: dict                       # the gold sentence's speaker (kind, entity, refers_to) and cue
    model: dict                      # the model's speaker (score, refers_to) and cue
    mentions: tuple[dict, ...] = ()  # the article's other gold mentions of this speaker's entity
    text: str = field(default="", repr=False)   # the article's text
    rules: dict | None = None        # the rules' guess, when the baselines ran
    gold_sentence: tuple[int, int] = (0, 0)


def entity_mentions(article: Article) -> dict[str, list[dict]]:
    """Every gold speaker mention of the article by entity: ``{"start", "end"}`` each."""
    out: dict[str, list[dict]] = {}
    for sentence in article.sentences:
        speaker = sentence.extra.get("speaker")
        if speaker and speaker.get("entity") is not None:
            out.setdefault(speaker["entity"], []).append({"start": speaker["start"], "end": speaker["end"]})
    return out


def span_cases(articles: Sequence[Article], pred_spans: Sequence[Sequence[tuple[int, int]]], rows: list[dict],
               model_marks) -> list[SpanCase]:
    """One case per aligned row whose gold sentence has span annotations; ``model_marks(row)`` gives the
    model's speaker and cue of the row's predicted sentence."""
    position = {a.id: i for i, a in enumerate(articles)}
    mentions: dict[str, dict] = {}
    cases = []
    for row in rows:
        article = articles[position[row["article"]]]
        gold = article.sentences[row["index"]].extra
        if "speaker" not in gold:
            continue
        if article.id not in mentions:
            mentions[article.id] = entity_mentions(article)
        speaker = gold["speaker"] or {}
        same = [m for m in mentions[article.id].get(speaker.get("entity"), [])
                if (m["start"], m["end"]) != (speaker.get("start"), speaker.get("end"))]
        sentence = article.sentences[row["index"]]
        predicted = pred_spans[position[article.id]][row["pred_index"]]
        cases.append(SpanCase(article.id, row["index"], article.origin, predicted, dict(gold), model_marks(row),
                              tuple(same), article.text, gold_sentence=(sentence.start, sentence.end)))
    return cases


def add_rule_spans(cases: list[SpanCase]) -> None:
    """The rules' speaker and cue (:func:`~factattr.eval.baselines.rule_spans`) of each case's predicted
    sentence, the very sentence the model marked."""
    for case in cases:
        start, end = case.sentence
        case.rules = rule_spans(case.text[start:end], start)


def _scores(cases: list[SpanCase], system: str) -> dict:
    return {f: span_f1([(c.gold.get(f), (getattr(c, system) or {}).get(f)) for c in cases]) for f in FIELDS}


def _links(cases: list[SpanCase]) -> dict:
    return linking_accuracy([(c.gold.get("speaker"), c.model.get("speaker"), c.mentions) for c in cases])


def span_results(cases: list[SpanCase], data_name: str, limit: int) -> dict:
    """The report's span entries: ``spans`` and ``linking`` (the model), ``spans_baseline`` (the rules, when
    they ran), each also per data origin when there are several (``..._by_origin``), and ``span_errors``."""
    parts = {"": cases}
    origins = sorted({c.origin for c in cases} - {""})
    if len(origins) > 1:
        parts.update({f"{data_name}-{o}": [c for c in cases if c.origin == o] for o in origins})
    with_rules = all(c.rules is not None for c in cases)
    out: dict = {}
    for part, chosen in parts.items():
        suffix = "_by_origin" if part else ""
        entries = {"spans": _scores(chosen, "model"), "linking": _links(chosen)}
        if with_rules:
            entries["spans_baseline"] = {"rules": _scores(chosen, "rules")}
        for key, value in entries.items():
            if part:
                out.setdefault(key + suffix, {})[part] = value
            else:
                out[key] = value
    out["span_errors"] = span_errors(cases, limit)
    return out


def _verdict(gold: dict | None, predicted: dict | None) -> str | None:
    """``None`` when the prediction is right (both absent, or overlapping), else the kind of error."""
    if gold is None:
        return None if predicted is None else "spurious"
    if predicted is None:
        return "missed"
    return None if spans_overlap(gold, predicted) else "wrong"


def span_errors(cases: list[SpanCase], limit: int) -> list[dict]:
    """The model's span errors (a speaker or cue missed, spurious, or not overlapping the gold one), the
    most confident first by the predicted speaker's score (missed speakers last), each with its gold
    sentence's text and whether the model's sentence has the same boundaries (else the model marked a
    sentence it split or fused differently)."""
    errors = []
    for c in cases:
        entry = {"article": c.article, "index": c.index, "origin": c.origin,
                 "score": (c.model.get("speaker") or {}).get("score")}
        wrong = False
        for f in FIELDS:
            gold, predicted = c.gold.get(f), c.model.get(f)
            verdict = _verdict(gold, predicted)
            wrong |= verdict is not None
            entry[f] = {"gold": c.text[gold["start"]:gold["end"]] if gold else None,
                        "predicted": predicted["text"] if predicted else None, "error": verdict}
        if wrong:
            (start, end), (p_start, p_end) = c.gold_sentence, c.sentence
            text = c.text[start:end]
            errors.append({**entry, "text": text, "same_sentence": text.strip() == c.text[p_start:p_end].strip()})
    errors.sort(key=lambda e: -(e["score"] if e["score"] is not None else -1.0))
    return errors[:limit]
