"""Reading what ``factattr view`` shows: scored articles, raw articles to score, and contested claims.

An input file is JSON Lines (one article a line), one JSON document (an article or a list of them, as
``factattr score --format json`` prints), or a plain text file (one raw article). A scored article has
``text`` and ``sentences`` with ``start``, ``end``, ``source`` and ``claim_type``; probabilities
(``source_probs``, ``claim_type_probs``), ``speaker`` and ``cue`` are shown when present. Gold corpus files
have the same shape without probabilities, so they can be viewed as they are. An article without
``sentences`` is raw: it is scored on the way when a scorer is given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterator, Sequence

from factattr.errors import ViewError

HEADS = ("source", "claim_type")
META_KEYS = ("title", "outlet", "date")
# A scorer takes raw texts and returns, per text, its list of sentence dicts (``ArticleResult.to_dict()``).
Scorer = Callable[[list[str]], list[list[dict]]]


def _records(path: Path) -> Iterator[tuple[str, object]]:
    """``(place, value)`` for each article of a file; place is ``file:line`` (or ``file``)."""
    try:
        raw = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ViewError(f"{path}: not UTF-8 text; factattr view reads JSON Lines, JSON or text files") from None
    stripped = raw.lstrip()
    if not stripped:
        raise ViewError(f"{path}: the file is empty; give scored articles (factattr score --format jsonl) or raw text")
    if stripped[0] in "{[":
        try:
            whole = json.loads(raw)
        except json.JSONDecodeError:
            whole = None  # JSON Lines: parsed line by line below
        if isinstance(whole, list):
            yield from ((f"{path}[{i}]", item) for i, item in enumerate(whole))
            return
        if isinstance(whole, dict):
            yield str(path), whole
            return
        records = []
        for number, line in enumerate(raw.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append((f"{path}:{number}", json.loads(line)))
            except json.JSONDecodeError as exc:
                if records:
                    raise ViewError(f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno}); a JSON "
                                    "Lines file holds one article object a line") from None
                break  # not JSON from its first line: a text that happens to open with a bracket
        else:
            yield from records
            return
    yield str(path), {"id": path.stem, "text": raw}


def _span(value: object, key: str, text: str, place: str) -> dict | None:
    """A speaker or cue: ``{"text", "start", "end", ...}`` with offsets into the article, or None."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ViewError(f"{place}: '{key}' must be an object {{text, start, end}} or null, got {type(value).__name__}")
    start, end = value.get("start"), value.get("end")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        raise ViewError(f"{place}: '{key}' needs integer 'start' < 'end' within the article's {len(text)} characters, "
                        f"got start={start!r}, end={end!r}")
    refers = value.get("refers_to")
    if refers is not None and not isinstance(refers, dict):
        raise ViewError(f"{place}: '{key}.refers_to' must be an object or null, got {type(refers).__name__}")
    return {"text": text[start:end], "start": start, "end": end, "refers_to": refers}


def _probs(value: object, key: str, place: str) -> dict[str, float] | None:
    if value is None:
        return None
    if not (isinstance(value, dict) and value
            and all(isinstance(k, str) and isinstance(p, (int, float)) and 0 <= p <= 1 for k, p in value.items())):
        raise ViewError(f"{place}: '{key}' must map each label to a probability in [0, 1]")
    return {k: float(p) for k, p in value.items()}


def _sentence(s: object, text: str, place: str) -> dict:
    if not isinstance(s, dict):
        raise ViewError(f"{place}: a sentence must be an object, got {type(s).__name__}")
    start, end = s.get("start"), s.get("end")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        raise ViewError(f"{place}: needs integer 'start' < 'end' within the article's {len(text)} characters, got "
                        f"start={start!r}, end={end!r}")
    for head in HEADS:
        if not isinstance(s.get(head), str) or not s[head]:
            raise ViewError(f"{place}: the sentence has no '{head}' label; score the articles first "
                            "(factattr score --format jsonl) or give --checkpoint")
    sentence = {"start": start, "end": end, "source": s["source"], "claim_type": s["claim_type"]}
    for head in HEADS:
        sentence[f"{head}_probs"] = _probs(s.get(f"{head}_probs"), f"{head}_probs", place)
    for key in ("speaker", "cue"):
        sentence[key] = _span(s.get(key), key, text, place)
    return sentence


def scored_article(record: dict, place: str) -> dict:
    """A validated article: id, metadata, text and its sentences in text order, none overlapping."""
    text = record["text"]
    if not isinstance(record["sentences"], list):
        raise ViewError(f"{place}: 'sentences' must be a list")
    article_id = str(record.get("id", place))
    sentences = sorted((_sentence(s, text, f"{place}: article {article_id!r}, sentence {i}")
                        for i, s in enumerate(record["sentences"])), key=lambda s: s["start"])
    for a, b in zip(sentences, sentences[1:]):
        if b["start"] < a["end"]:
            raise ViewError(f"{place}: article {article_id!r}: sentences {a['start']}-{a['end']} and "
                            f"{b['start']}-{b['end']} overlap; each character belongs to at most one sentence")
    meta = {k: record[k] if isinstance(record.get(k), str) and record[k].strip() else None for k in META_KEYS}
    return {"id": article_id, **meta, "text": text, "sentences": sentences, "place": place}


def read_articles(paths: Sequence[str | Path], scorer: Callable[[], Scorer] | None = None) -> list[dict]:
    """Every article of the files, in order; raw ones are scored by ``scorer()`` (made only when needed).

    Raises:
        ViewError: a file or article breaks the format, an id repeats, or raw articles come without a scorer.
    """
    articles: list[dict] = []
    raw: list[tuple[int, dict, str]] = []
    seen: dict[str, str] = {}
    for path in map(Path, paths):
        for place, record in _records(path):
            if not isinstance(record, dict) or not isinstance(record.get("text"), str) or not record["text"].strip():
                raise ViewError(f"{place}: an article is a JSON object with a non-empty string 'text'")
            article_id = str(record.get("id", place))
            if article_id in seen:
                raise ViewError(f"{place}: article id {article_id!r} already appears at {seen[article_id]}; ids must "
                                "be unique across the input files")
            seen[article_id] = place
            if "sentences" in record:
                articles.append(scored_article(record, place))
            else:
                raw.append((len(articles), record, place))
                articles.append({})
    if raw:
        if scorer is None:
            first = raw[0][2]
            raise ViewError(f"{first}: {len(raw)} article(s) have no 'sentences' (raw text); give --checkpoint to "
                            "score them on the way, or score them first with factattr score --format jsonl")
        results = scorer()([record["text"] for _, record, _ in raw])
        for (index, record, place), sentences in zip(raw, results):
            articles[index] = scored_article({**record, "sentences": sentences}, place)
    return articles


def tagger_scorer(checkpoint: str | Path, **load_options) -> Callable[[], Scorer]:
    """A scorer factory: loads the checkpoint only when raw articles are met."""
    def make() -> Scorer:
        from factattr.model.tagger import Tagger

        tagger = Tagger.load(checkpoint, **load_options)
        return lambda texts: [result.to_dict()["sentences"] for result in tagger.score_many(texts)]

    return make
