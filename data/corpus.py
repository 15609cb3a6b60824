"""The corpus format: reading, validating, splitting, statistics, and loading into ``datasets``.

One article per line (JSON Lines)::

    {"id": "...", "text": "...", "title": "...", "outlet": "...", "date": "...",
     "sentences": [{"start": 0, "end": 52, "<head>": "<label>", ...,
                    "cue": {"start": .., "end": ..}, "speaker": {"start": .., "end": ..}}]}

Each sentence holds one label per head of the config's label schema, under the head's name.
``title``, ``outlet``, ``date``, ``form`` and per-sentence ``cue``, ``speaker``, ``tags`` and ``probs`` (soft
labels) are optional. Valid lines become :class:`~factattr.data.types.Article` objects.
"""

from __future__ import annotations

import collections
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator, Sequence

from factattr.errors import CorpusError

from .events import split_by_event, split_of_key
from .spans import attach_spans
from .types import SENTENCE_FIELDS, Article

ARTICLE_KEYS = {"id", "text", "sentences", "title", "outlet", "date", "form"}
SPLITS = ("train", "dev", "test")
log = logging.getLogger("factattr.data")


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


def _heads(sentence: dict, labels: dict[str, Sequence[str]] | None) -> list[str]:
    """The schema's heads, or without a schema the sentence's keys that are not other fields."""
    return list(labels) if labels is not None else [k for k in sentence if k not in SENTENCE_FIELDS]


def _probs_problems(probs: object, sentence: dict, labels: dict[str, Sequence[str]] | None) -> list[str]:
    """Soft labels (self-training): one probability per schema label and head, summing to 1, whose
    largest entry is the sentence's hard label."""
    heads = _heads(sentence, labels)
    if not isinstance(probs, dict) or set(probs) != set(heads):
        return ["'probs' must be {" + ", ".join(f"'{head}': [...]" for head in heads) + "}"]
    problems = []
    for head, values in probs.items():
        if not (isinstance(values, list) and values and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                          and 0 <= v <= 1 for v in values)):
            problems.append(f"probs.{head} must be a list of probabilities in [0, 1]")
            continue
        if abs(sum(values) - 1) > 1e-3:
            problems.append(f"probs.{head} sums to {sum(values):.4f}, not 1")
        if labels is not None:
            if len(values) != len(labels[head]):
                problems.append(f"probs.{head} has {len(values)} values; the schema has {len(labels[head])} labels")
            elif sentence.get(head) != labels[head][max(range(len(values)), key=values.__getitem__)]:
                problems.append(f"probs.{head}: its most probable label is not the sentence's {head!r}")
    return problems


def check_article(article: object, labels: dict[str, Sequence[str]] | None,
                  repairs: list[str] | None = None) -> list[str]:
    """Problems with one parsed article (empty list when it is valid).

    Args:
        article: the parsed JSON value of one line.
        labels: ``{head: [label names]}`` from the label schema, or None to skip the label check (every
            sentence key that is not another field is then taken for a head).
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
    return problems + _sentence_problems(sentences, len(text), labels, repairs)


def _sentence_problems(sentences: list, text_len: int, labels: dict[str, Sequence[str]] | None,
                       repairs: list[str] | None) -> list[str]:
    problems = []
    previous_end = 0
    for i, sentence in enumerate(sentences):
        where = f"sentence {i}"
        if not isinstance(sentence, dict):
            problems.append(f"{where}: must be an object")
            continue
        heads = _heads(sentence, labels)
        extra = sorted(set(sentence) - set(SENTENCE_FIELDS) - set(heads))
        if extra:
            problems.append(f"{where}: unknown key(s) {extra}; allowed: {sorted(set(SENTENCE_FIELDS) | set(heads))}")
        bad_span = _span_problem({"start": sentence.get("start"), "end": sentence.get("end")}, text_len, where)
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
                    msg = _span_problem(sentence[extra_span], text_len, f"{where}: {extra_span}")
                    if msg:
                        problems.append(msg)
        if "probs" in sentence:
            problems += [f"{where}: {msg}" for msg in _probs_problems(sentence["probs"], sentence, labels)]
        for head in heads:
            value = sentence.get(head)
            if not isinstance(value, str):
                problems.append(f"{where}: {head!r} must be a label name, got {value!r}")
            elif labels is not None and value not in labels[head]:
                problems.append(f"{where}: unknown {head} label {value!r}; the schema's labels are "
                                f"{list(labels[head])} (add it to the config's labels.{head} or fix the data)")
    return problems


def iter_lines(path: str | Path, stream: BinaryIO | None = None) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of a UTF-8 text file (or of a binary ``stream`` named ``path``, such as
    standard input), lines ended by ``\n`` only: every JSON Lines reader in factattr reads through here.

    ``str.splitlines`` would also break at U+2028, U+0085 and other separators that JSON strings may
    hold unescaped, cutting a valid record in two.
    """
    if stream is not None:
        handle = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")
    else:
        try:
            handle = Path(path).open("r", encoding="utf-8", newline="\n")
        except FileNotFoundError:
            raise CorpusError(f"{path}: file not found") from None
        except IsADirectoryError:
            raise CorpusError(f"{path}: is a directory; give a JSON Lines file") from None
        except PermissionError:
            raise CorpusError(f"{path}: permission denied; make the file readable") from None
    number = 0
    try:
        for number, line in enumerate(handle, start=1):
            yield number, line
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}:{number + 1}: not UTF-8 text ({exc.reason}); save the file as UTF-8") from None
    finally:
        if stream is None:
            handle.close()
        else:
            handle.detach()  # the caller's stream stays open


def validate_file(path: str | Path, labels: dict[str, Sequence[str]] | None, seen_ids: dict[str, str] | None = None,
                  repairs: list[Problem] | None = None) -> tuple[list[Article], list[Problem]]:
    """Read a corpus file and check every line; returns the valid articles and every problem found.

    With a ``repairs`` list, overlapping sentence boundaries are clipped (see :func:`check_article`) and
    each repair is recorded there instead of being a problem.
    """
    path = Path(path)
    seen_ids = {} if seen_ids is None else seen_ids
    articles, problems = [], []
    for number, line in iter_lines(path):
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
            articles.append(Article.from_dict(article))
    return articles, problems


def read_corpus(paths: str | Path | Iterable[str | Path], labels: dict[str, Sequence[str]] | None,
                repairs: list[Problem] | None = None) -> list[Article]:
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
    raise_problems(problems)
    return articles


def raise_problems(problems: Sequence[Problem]) -> None:
    if problems:
        shown = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise CorpusError(f"{len(problems)} problem(s) in the corpus:\n{shown}{more}")


def split_of(article_id: str, seed: int, dev_fraction: float, test_fraction: float) -> str:
    """The split of a lone article: a seeded hash of its id (see :func:`factattr.data.events.split_of_key`)."""
    return split_of_key(article_id, seed, dev_fraction, test_fraction)


def split_articles(articles: Sequence[Article], seed: int, dev_fraction: float, test_fraction: float,
                   by_event: dict | None = None) -> dict[str, list[Article]]:
    """Split by article (never by sentence) into train/dev/test, deterministically from the seed.

    With ``by_event`` (``{"days": .., "threshold": ..}``), the split is drawn per same-event cluster
    (:func:`factattr.data.events.split_by_event`), so two reports of one event never straddle splits.
    """
    if by_event is None:
        names = [split_of(a.id, seed, dev_fraction, test_fraction) for a in articles]
    else:
        names = split_by_event(articles, seed, dev_fraction, test_fraction, **by_event)
    out: dict[str, list[Article]] = {name: [] for name in SPLITS}
    for article, name in zip(articles, names):
        out[name].append(article)
    return out


def label_counts(articles: Iterable[Article]) -> dict[str, collections.Counter]:
    """``{head: Counter of labels}`` over every sentence of the articles."""
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for article in articles:
        for sentence in article.sentences:
            for head, label in sentence.labels.items():
                counts[head][label] += 1
    return counts


def stats_table(splits: dict[str, list[Article]], labels: dict[str, Sequence[str]] | None = None) -> str:
    """A Markdown table: articles, sentences and per-label counts for each split and in total."""
    columns = list(splits) + ["total"]
    groups = {**splits, "total": [a for arts in splits.values() for a in arts]}
    counts = {name: label_counts(arts) for name, arts in groups.items()}
    rows = [("articles", [len(groups[c]) for c in columns]),
            ("sentences", [sum(len(a.sentences) for a in groups[c]) for c in columns])]
    for head in (labels or counts["total"]):
        names = list(labels[head]) if labels else sorted(counts["total"][head])
        for name in names:
            rows.append((f"{head}: {name}", [counts[c][head][name] for c in columns]))
    lines = ["| | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    lines += [f"| {name} | " + " | ".join(str(v) for v in values) + " |" for name, values in rows]
    return "\n".join(lines)


def to_dataset(articles: Sequence[Article]):
    """A Hugging Face ``datasets.Dataset`` with one row per article (id, text, title, origin, sentences with
    their offsets and one label per head), for sharing the data or looking at it with ``datasets`` tools."""
    import datasets

    heads = list(articles[0].sentences[0].labels) if articles and articles[0].sentences else []
    rows = [{"id": a.id, "text": a.text, "title": a.meta.get("title", ""), "origin": a.origin,
             "sentences": [{"start": s.start, "end": s.end, **{h: s.labels[h] for h in heads}} for s in a.sentences]}
            for a in articles]
    sentence = {"start": datasets.Value("int32"), "end": datasets.Value("int32"),
                **{head: datasets.Value("string") for head in heads}}
    features = datasets.Features({"id": datasets.Value("string"), "text": datasets.Value("string"),
                                  "title": datasets.Value("string"), "origin": datasets.Value("string"),
                                  "sentences": datasets.List(sentence)})
    return datasets.Dataset.from_list(rows, features=features)


@dataclass
class LoadedData:
    """The config's articles split for training, and what went into them (for logs and the model card).

    Every article carries ``origin``: the name of the data source it came from (``written``, ``real``).
    """

    splits: dict[str, list[Article]]
    sources: dict[str, dict] = field(default_factory=dict)   # name -> {"articles", "sentences", "weight"}
    skipped: list[str] = field(default_factory=list)         # optional sources whose texts were absent
    excluded: list[dict] = field(default_factory=list)       # articles on a held-out article's event

    def describe(self) -> str:
        """One paragraph saying what the data is: sources, their sizes, what was left out and why."""
        used = "; ".join(f"{name}: {s['articles']} articles, {s['sentences']} sentences (weight {s['weight']:g})"
                         for name, s in self.sources.items() if s["weight"] > 0)
        parts = [f"Data: {used}; split by same-event cluster into train, dev and test, trained on train."]
        parts += [f"Source {name!r} ({s['articles']} articles) is in dev and test only (weight 0)."
                  for name, s in self.sources.items() if s["weight"] == 0]
        parts += [f"Not used: {note}." for note in self.skipped]
        held = [e for e in self.excluded if "held_out" in e]
        if held:
            parts.append(f"{len(held)} article(s) left out because they report the event of a held-out "
                         "evaluation article: " + ", ".join(f"{e['id']} (~{e['held_out']}, cosine {e['cosine']:.2f})"
                                                           for e in held) + ".")
        evaluated = [e for e in self.excluded if "evaluated" in e]
        if evaluated:
            parts.append(f"{len(evaluated)} training-only article(s) left out because they report the event of a "
                         "dev or test article.")
        return " ".join(parts)


def load_data(config) -> LoadedData:
    """Read every data source of the config, validate it against the label schema, leave out articles on
    held-out events, and split by same-event cluster.

    Raises:
        CorpusError: a file breaks the format, an id repeats across sources, a stand-off article is missing
            from its texts or its text changed; every problem is listed with file, line and article.
    """
    from .standoff import read_standoff_files

    labels = config.labels.label_lists()
    seen: dict[str, str] = {}
    articles: list[Article] = []
    problems: list[Problem] = []
    loaded = LoadedData(splits={})
    for source in config.data.sources:
        found: list[Article] = []
        if source.corpus:
            for path in source.corpus:
                ok, bad = validate_file(path, labels, seen)
                found += ok
                problems += bad
        elif source.optional and not Path(source.texts).is_file():
            loaded.skipped.append(f"source {source.name!r} ({len(source.annotations)} stand-off file(s)): its texts "
                                  f"{source.texts} are absent")
            log.warning("data source %r skipped: its texts %s are absent (optional source); training on the "
                        "other sources only", source.name, source.texts)
            continue
        else:
            found, bad = read_standoff_files(source.annotations, source.texts, labels, seen)
            problems += bad
        found = [article.with_origin(source.name) for article in found]
        if source.spans:
            found, bad = attach_spans(found, source.spans, attributed(config))
            problems += [Problem(path, 0, article_id, message) for path, article_id, message in bad]
        loaded.sources[source.name] = {"articles": len(found), "sentences": sum(len(a.sentences) for a in found),
                                       "weight": source.weight}
        articles += found
    raise_problems(problems)

    # Training-only articles are checked apart, so that adding them never changes the other splits.
    data = config.data
    train_only = {source.name for source in data.sources if source.train_only}
    by_event = {"days": data.event_days, "threshold": data.event_similarity}
    held = _read_held_out(data.held_out)
    evaluated = _without_held_out_events([a for a in articles if a.origin not in train_only], held, loaded.excluded)
    extra = _without_held_out_events([a for a in articles if a.origin in train_only], held, loaded.excluded)
    loaded.splits = split_articles(evaluated, data.split_seed, data.dev_fraction, data.test_fraction,
                                   by_event=by_event)
    loaded.splits["train"] += _outside_evaluated_events(extra, loaded.splits["dev"] + loaded.splits["test"],
                                                        by_event, loaded.excluded)
    return loaded


def attributed(config):
    """Whether a sentence is attributed (not the reporter's narration), by the config's roles; None when
    the schema has no attribution role, and span coverage then goes unchecked."""
    head, narration = config.roles.attribution, config.roles.narration
    if head is None or narration is None:
        return None
    return lambda sentence: sentence.labels[head] != narration


def _outside_evaluated_events(articles: list[Article], evaluated: list[Article], by_event: dict,
                              excluded: list[dict]) -> list[Article]:
    """Training-only articles that do not report the event of a dev or test article."""
    from .events import similar_pairs

    if not articles or not evaluated:
        return articles
    drop: dict[int, str] = {}
    for i, j, _ in similar_pairs(articles, evaluated, **by_event):
        drop.setdefault(i, evaluated[j].id)
    for i, other in sorted(drop.items()):
        excluded.append({"id": articles[i].id, "origin": articles[i].origin, "evaluated": other})
    return [a for i, a in enumerate(articles) if i not in drop]


def _read_held_out(paths: Sequence[str]) -> list[Article]:
    """The held-out articles of the files present (an absent file is warned about, not an error)."""
    present = [p for p in paths if Path(p).is_file()]
    for path in sorted(set(paths) - set(present)):
        log.warning("held-out file %s is absent: no check that training data avoids its events", path)
    return read_corpus(present, None, repairs=[]) if present else []


def _without_held_out_events(articles: list[Article], held: list[Article], excluded: list[dict]) -> list[Article]:
    """Drop articles that report the event of a held-out article (a wider date window and a lower text
    similarity than the split's clusters: leaking a held-out event costs more than losing an article)."""
    from .events import HELD_OUT_DAYS, HELD_OUT_SIMILARITY, similar_pairs

    if not held or not articles:
        return articles
    pairs = similar_pairs(articles, held, days=HELD_OUT_DAYS, threshold=HELD_OUT_SIMILARITY)
    drop: dict[int, tuple[str, float]] = {}
    for i, j, cosine in pairs:
        if i not in drop or cosine > drop[i][1]:
            drop[i] = (held[j].id, cosine)
    for i, (held_id, cosine) in sorted(drop.items()):
        excluded.append({"id": articles[i].id, "origin": articles[i].origin, "held_out": held_id,
                         "cosine": round(cosine, 3)})
        log.info("left out %s: it may report the event of held-out article %s (cosine %.2f)", articles[i].id,
                 held_id, cosine)
    return [a for i, a in enumerate(articles) if i not in drop]


def config_splits(config) -> dict[str, list[Article]]:
    """The config's train/dev/test articles (see :func:`load_data`)."""
    return load_data(config).splits


def load_splits(config) -> "datasets.DatasetDict":
    """The config's train/dev/test splits (see :func:`config_splits`) as a ``datasets.DatasetDict``."""
    import datasets

    return datasets.DatasetDict({name: to_dataset(arts) for name, arts in config_splits(config).items()})
