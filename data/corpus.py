"""The corpus format: reading, validating, splitting, statistics, and loading into ``datasets``.

One article per line (JSON Lines)::

    {"id": "...", "text": "...", "title": "...", "outlet": "...", "date": "...",
     "sentences": [{"start": 0, "end": 52, "source": "none", "claim_type": "background",
                    "cue": {"start": .., "end": ..}, "speaker": {"start": .., "end": ..}}]}

``title``, ``outlet``, ``date``, ``form`` and per-sentence ``cue``, ``speaker`` and ``tags`` are optional.
"""

from __future__ import annotations

import collections
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from factattr.errors import CorpusError

ARTICLE_KEYS = {"id", "text", "sentences", "title", "outlet", "date", "form"}
SENTENCE_KEYS = {"start", "end", "source", "claim_type", "cue", "speaker", "tags"}
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a corpus line."""

    path: str
    line: int
    article: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}"
        return f"{where}: article {self.article!r}: {self.message}" if self.article else f"{where}: {self.message}"


def _span_problem(span: object, text_len: int, what: str) -> str | None:
    if not isinstance(span, dict) or set(span) != {"start", "end"}:
        return f"{what} must be {{'start': int, 'end': int}}, got {span!r}"
    start, end = span["start"], span["end"]
    if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or isinstance(end, bool):
        return f"{what} offsets must be integers, got {start!r}, {end!r}"
    if not 0 <= start < end <= text_len:
        return f"{what} [{start}, {end}) does not lie inside the text (length {text_len})"
    return None


def check_article(article: object, labels: dict[str, Sequence[str]] | None,
                  repairs: list[str] | None = None) -> list[str]:
    """Problems with one parsed article (empty list when it is valid).

    Args:
        article: the parsed JSON value of one line.
        labels: ``{"source": [...], "claim_type": [...]}`` from the label schema, or None to skip the
            label check.
        repairs: when a list is given, a sentence that starts inside the previous one (as in scraped
            gold data where a quotation mark is counted twice) is clipped to start where the previous
            ends instead of being a problem, and a note is appended here.
    """
    if not isinstance(article, dict):
        return [f"a line must hold a JSON object, got {type(article).__name__}"]
    problems = []
    unknown = sorted(set(article) - ARTICLE_KEYS)
    if unknown:
        problems.append(f"unknown key(s) {unknown}; allowed: {sorted(ARTICLE_KEYS)}")
    if not isinstance(article.get("id"), str) or not article.get("id"):
        problems.append("'id' must be a non-empty string")
    text = article.get("text")
    if not isinstance(text, str) or not text.strip():
        return problems + ["'text' must be a non-empty string"]
    sentences = article.get("sentences")
    if not isinstance(sentences, list):
        return problems + ["'sentences' must be a list"]
    previous_end = 0
    for i, sentence in enumerate(sentences):
        where = f"sentence {i}"
        if not isinstance(sentence, dict):
            problems.append(f"{where}: must be an object")
            continue
        extra = sorted(set(sentence) - SENTENCE_KEYS)
        if extra:
            problems.append(f"{where}: unknown key(s) {extra}; allowed: {sorted(SENTENCE_KEYS)}")
        bad_span = _span_problem({"start": sentence.get("start"), "end": sentence.get("end")}, len(text), where)
        if bad_span:
            problems.append(bad_span)
        else:
            if sentence["start"] < previous_end < sentence["end"] and repairs is not None:
                repairs.append(f"{where}: start moved from {sentence['start']} to {previous_end} (overlapped the previous sentence)")
                sentence["start"] = previous_end
            elif sentence["start"] < previous_end:
                problems.append(f"{where} starts at {sentence['start']}, before the previous sentence ends "
                                f"({previous_end}): sentences must be in order and must not overlap")
            previous_end = sentence["end"]
            for extra_span in ("cue", "speaker"):
                if extra_span in sentence:
                    msg = _span_problem(sentence[extra_span], len(text), f"{where}: {extra_span}")
                    if msg:
                        problems.append(msg)
        for head in ("source", "claim_type"):
            value = sentence.get(head)
            if not isinstance(value, str):
                problems.append(f"{where}: {head!r} must be a label name, got {value!r}")
            elif labels is not None and value not in labels[head]:
                problems.append(f"{where}: unknown {head} label {value!r}; the schema's labels are "
                                f"{list(labels[head])} (add it to the config's labels.{head} or fix the data)")
    return problems


def validate_file(path: str | Path, labels: dict[str, Sequence[str]] | None, seen_ids: dict[str, str] | None = None,
                  repairs: list[Problem] | None = None) -> tuple[list[dict], list[Problem]]:
    """Read a corpus file and check every line; returns the valid articles and every problem found.

    With a ``repairs`` list, overlapping sentence boundaries are clipped (see :func:`check_article`) and
    each repair is recorded there instead of being a problem.
    """
    path = Path(path)
    seen_ids = {} if seen_ids is None else seen_ids
    articles, problems = [], []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise CorpusError(f"{path}: corpus file not found") from None
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not UTF-8 text ({exc})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            article = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(str(path), number, None, f"not valid JSON: {exc.msg} at column {exc.colno}"))
            continue
        article_id = article.get("id") if isinstance(article, dict) else None
        fixed: list[str] | None = [] if repairs is not None else None
        found = check_article(article, labels, fixed)
        if fixed:
            repairs.extend(Problem(str(path), number, article_id, msg) for msg in fixed)
        if isinstance(article_id, str) and article_id:
            if article_id in seen_ids:
                found.append(f"duplicate id (first seen at {seen_ids[article_id]})")
            else:
                seen_ids[article_id] = f"{path}:{number}"
        problems.extend(Problem(str(path), number, article_id, msg) for msg in found)
        if not found:
            articles.append(article)
    return articles, problems


def read_corpus(paths: str | Path | Iterable[str | Path], labels: dict[str, Sequence[str]] | None,
                repairs: list[Problem] | None = None) -> list[dict]:
    """Read and validate corpus files; raises :class:`CorpusError` listing every problem.

    Pass a ``repairs`` list to accept (and record) overlapping sentence boundaries, e.g. for third-party
    evaluation data; the project's own corpus is read strictly.
    """
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    seen: dict[str, str] = {}
    articles, problems = [], []
    for path in paths:
        found_articles, found_problems = validate_file(path, labels, seen, repairs)
        articles += found_articles
        problems += found_problems
    if problems:
        shown = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise CorpusError(f"{len(problems)} problem(s) in the corpus:\n{shown}{more}")
    return articles


def split_of(article_id: str, seed: int, dev_fraction: float, test_fraction: float) -> str:
    """The split of an article: a seeded hash of its id, so adding articles never moves the others."""
    digest = hashlib.sha256(f"{seed}:{article_id}".encode("utf-8")).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < test_fraction:
        return "test"
    if u < test_fraction + dev_fraction:
        return "dev"
    return "train"


def split_articles(articles: Sequence[dict], seed: int, dev_fraction: float, test_fraction: float) -> dict[str, list[dict]]:
    """Split by article (never by sentence) into train/dev/test, deterministically from the seed."""
    out: dict[str, list[dict]] = {name: [] for name in SPLITS}
    for article in articles:
        out[split_of(article["id"], seed, dev_fraction, test_fraction)].append(article)
    return out


def label_counts(articles: Iterable[dict]) -> dict[str, collections.Counter]:
    counts = {"source": collections.Counter(), "claim_type": collections.Counter()}
    for article in articles:
        for sentence in article["sentences"]:
            for head in counts:
                counts[head][sentence[head]] += 1
    return counts


def stats_table(splits: dict[str, list[dict]], labels: dict[str, Sequence[str]] | None = None) -> str:
    """A Markdown table: articles, sentences and per-label counts for each split and in total."""
    columns = list(splits) + ["total"]
    groups = {**splits, "total": [a for arts in splits.values() for a in arts]}
    counts = {name: label_counts(arts) for name, arts in groups.items()}
    rows = [("articles", [len(groups[c]) for c in columns]),
            ("sentences", [sum(len(a["sentences"]) for a in groups[c]) for c in columns])]
    for head in ("source", "claim_type"):
        names = list(labels[head]) if labels else sorted(counts["total"][head])
        for name in names:
            rows.append((f"{head}: {name}", [counts[c][head][name] for c in columns]))
    lines = ["| | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    lines += [f"| {name} | " + " | ".join(str(v) for v in values) + " |" for name, values in rows]
    return "\n".join(lines)


def to_dataset(articles: Sequence[dict]):
    """A Hugging Face ``datasets.Dataset`` with one row per article (id, text, title, sentences)."""
    import datasets

    rows = [{
        "id": a["id"], "text": a["text"], "title": a.get("title") or "",
        "sentences": [{"start": s["start"], "end": s["end"], "source": s["source"],
                       "claim_type": s["claim_type"]} for s in a["sentences"]],
    } for a in articles]
    features = datasets.Features({
        "id": datasets.Value("string"), "text": datasets.Value("string"), "title": datasets.Value("string"),
        "sentences": datasets.List({"start": datasets.Value("int32"), "end": datasets.Value("int32"),
                                    "source": datasets.Value("string"), "claim_type": datasets.Value("string")}),
    })
    return datasets.Dataset.from_list(rows, features=features)


def config_splits(config) -> dict[str, list[dict]]:
    """Read the config's corpus, validate it against the label schema and split it by article."""
    labels = {head: config.label_names(head) for head in ("source", "claim_type")}
    articles = read_corpus(config.data.corpus, labels)
    return split_articles(articles, config.data.split_seed, config.data.dev_fraction, config.data.test_fraction)


def load_splits(config) -> "datasets.DatasetDict":
    """The config's train/dev/test splits (see :func:`config_splits`) as a ``datasets.DatasetDict``."""
    import datasets

    return datasets.DatasetDict({name: to_dataset(arts) for name, arts in config_splits(config).items()})
