"""Reading what ``factattr view`` shows: scored articles, raw articles to score, and contested claims.

An input file is JSON Lines (one article a line), one JSON document (an article or a list of them, as
``factattr score --format json`` prints), or a plain text file (one raw article). A scored article has
``text`` and ``sentences`` with ``start``, ``end`` and a label under each head's name; probabilities
(``<head>_probs``), ``speaker`` and ``cue`` are shown when present. The heads are the schema's when given,
else those the first sentence carries (its string values under names a head may take). Gold corpus files
have the same shape without probabilities, so they can be viewed as they are. An article without
``sentences`` is raw: it is scored on the way when a scorer is given.

A read sentence is ``{"start", "end", "labels": {head: label}, "probs": {head: {label: p} or None},
"speaker", "cue"}``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable, Iterator, Sequence

from factattr.config import HEAD_NAME, RESERVED_HEAD_NAMES
from factattr.errors import ViewError

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


def find_heads(sentence: object) -> list[str]:
    """The heads a scored sentence carries: keys a head may take whose values are labels (strings)."""
    if not isinstance(sentence, dict):
        return []
    return [key for key, value in sentence.items() if isinstance(value, str) and value and re.match(HEAD_NAME, key)
            and key not in RESERVED_HEAD_NAMES and not key.endswith("_probs")]


def _sentence(s: object, text: str, place: str, heads: Sequence[str]) -> dict:
    if not isinstance(s, dict):
        raise ViewError(f"{place}: a sentence must be an object, got {type(s).__name__}")
    start, end = s.get("start"), s.get("end")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        raise ViewError(f"{place}: needs integer 'start' < 'end' within the article's {len(text)} characters, got "
                        f"start={start!r}, end={end!r}")
    for head in heads:
        if not isinstance(s.get(head), str) or not s[head]:
            raise ViewError(f"{place}: the sentence has no '{head}' label (the heads are {list(heads)}); score the "
                            "articles first (factattr score --format jsonl), give --checkpoint, or give the --config "
                            "of their label schema")
    sentence = {"start": start, "end": end, "labels": {head: s[head] for head in heads},
                "probs": {head: _probs(s.get(f"{head}_probs"), f"{head}_probs", place) for head in heads}}
    for key in ("speaker", "cue"):
        sentence[key] = _span(s.get(key), key, text, place)
    return sentence


def scored_article(record: dict, place: str, heads: Sequence[str]) -> dict:
    """A validated article: id, metadata, text and its sentences in text order, none overlapping."""
    text = record["text"]
    if not isinstance(record["sentences"], list):
        raise ViewError(f"{place}: 'sentences' must be a list")
    article_id = str(record.get("id", place))
    sentences = sorted((_sentence(s, text, f"{place}: article {article_id!r}, sentence {i}", heads)
                        for i, s in enumerate(record["sentences"])), key=lambda s: s["start"])
    for a, b in zip(sentences, sentences[1:]):
        if b["start"] < a["end"]:
            raise ViewError(f"{place}: article {article_id!r}: sentences {a['start']}-{a['end']} and "
                            f"{b['start']}-{b['end']} overlap; each character belongs to at most one sentence")
    meta = {k: record[k] if isinstance(record.get(k), str) and record[k].strip() else None for k in META_KEYS}
    return {"id": article_id, **meta, "text": text, "sentences": sentences, "place": place}


def read_articles(paths: Sequence[str | Path], scorer: Callable[[], Scorer] | None = None,
                  heads: Sequence[str] | None = None) -> list[dict]:
    """Every article of the files, in order; raw ones are scored by ``scorer()`` (made only when needed).
    ``heads``: the label schema's heads (default: those of the first sentence).

    Raises:
        ViewError: a file or article breaks the format, an id repeats, or raw articles come without a scorer.
    """
    records = _read_records(paths)
    raw = [(index, record, place) for index, (record, place) in enumerate(records) if "sentences" not in record]
    if raw:
        if scorer is None:
            raise ViewError(f"{raw[0][2]}: {len(raw)} article(s) have no 'sentences' (raw text); give --checkpoint to "
                            "score them on the way, or score them first with factattr score --format jsonl")
        results = scorer()([record["text"] for _, record, _ in raw])
        for (index, record, place), sentences in zip(raw, results):
            records[index] = ({**record, "sentences": sentences}, place)
    if heads is None:
        first = next((r["sentences"][0] for r, _ in records if isinstance(r["sentences"], list) and r["sentences"]),
                     None)
        heads = find_heads(first)
        if first is not None and not heads:
            raise ViewError(f"{records[0][1]}: the sentences carry no labels (a head's name with a string label); "
                            "give scored articles (factattr score --format jsonl) or gold corpus files")
    return [scored_article(record, place, heads) for record, place in records]


def _read_records(paths: Sequence[str | Path]) -> list[tuple[dict, str]]:
    """(record, place) of every article of the files, checked to have text and a unique id."""
    records: list[tuple[dict, str]] = []
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
            records.append((record, place))
    return records


class TaggerScorer:
    """A scorer factory: loads the checkpoint only when raw articles are met; ``config`` is then its config
    (whose label schema and roles the view uses)."""

    def __init__(self, checkpoint: str | Path, **load_options):
        self.checkpoint, self.load_options, self.config = checkpoint, load_options, None

    def __call__(self) -> Scorer:
        from factattr.model.tagger import Tagger

        tagger = Tagger.load(self.checkpoint, **self.load_options)
        self.config = tagger.config
        return lambda texts: [result.to_dict()["sentences"] for result in tagger.score_many(texts)]


def tagger_scorer(checkpoint: str | Path, **load_options) -> TaggerScorer:
    """A scorer factory: loads the checkpoint only when raw articles are met."""
    return TaggerScorer(checkpoint, **load_options)
