"""Stand-off annotations: labels kept apart from third-party texts, joined with them when data is loaded.

The repository stores what the project wrote, never the articles: one JSON object a line,
``{"id", "sha256", "sentences": [{"start", "end", "<head>": label, ..., "tags"?}]}``, where ``sha256`` is
the hash of the article's UTF-8 text. The texts live in a JSON Lines file of ``{"id", "text", ...}``
(``../shared/realtrain/articles.jsonl`` here; :func:`texts_from_fakes_csv` builds it from the official
FA-KES CSV elsewhere). :func:`join` puts the two together and refuses an article whose text is missing or
differs from the one annotated.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from factattr.errors import CorpusError

from .corpus import iter_lines

# What a joined article keeps from the texts file besides its text (metadata, not prose).
METADATA_KEYS = ("title", "outlet", "date")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_jsonl(path: str | Path, stream: BinaryIO | None = None) -> Iterator[tuple[int, object]]:
    """``(line number, parsed value)`` for each non-blank line of a JSON Lines file (or of a binary
    ``stream`` named ``path``; see :func:`~factattr.data.corpus.iter_lines`)."""
    for number, line in iter_lines(path, stream):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{path}:{number}: not valid JSON: {exc.msg} at column {exc.colno}") from None


def read_texts(path: str | Path) -> dict[str, dict]:
    """The articles of a texts file by id (``id`` and ``text`` required; later keys are metadata)."""
    texts: dict[str, dict] = {}
    for number, record in read_jsonl(path):
        if not (isinstance(record, dict) and isinstance(record.get("id"), str) and isinstance(record.get("text"), str)):
            raise CorpusError(f"{path}:{number}: a texts file holds one JSON object a line with string 'id' and 'text'")
        if record["id"] in texts:
            raise CorpusError(f"{path}:{number}: article {record['id']!r} appears twice")
        texts[record["id"]] = record
    return texts


def join(annotations: str | Path, texts: str | Path | dict[str, dict]) -> list[tuple[int, dict]]:
    """``(line number, corpus-format article)``: each stand-off record joined with its text (the labels
    are not validated here; :func:`factattr.data.corpus.read_standoff` does that).

    Raises:
        CorpusError: an annotated article is missing from the texts, or its text changed since it was
            annotated (the hash differs); both name the article and the files.
    """
    by_id = texts if isinstance(texts, dict) else read_texts(texts)
    where = "the texts" if isinstance(texts, dict) else str(texts)
    articles, problems = [], []
    for number, record in read_jsonl(annotations):
        if not (isinstance(record, dict) and isinstance(record.get("id"), str) and {"sha256", "sentences"} <= set(record)):
            problems.append(f"{annotations}:{number}: a stand-off record needs 'id', 'sha256' and 'sentences'")
            continue
        article_id = record["id"]
        found = by_id.get(article_id)
        if found is None:
            problems.append(f"{annotations}:{number}: article {article_id!r} is not in {where}; point the config's "
                            "texts at the file the annotations were made on")
            continue
        if text_hash(found["text"]) != record["sha256"]:
            problems.append(f"{annotations}:{number}: article {article_id!r}: its text in {where} is not the text "
                            "that was annotated (sha256 differs); use the original texts, byte for byte")
            continue
        article = {"id": article_id, "text": found["text"], "sentences": record["sentences"]}
        article.update({k: found[k] for k in METADATA_KEYS if isinstance(found.get(k), str)})
        articles.append((number, article))
    if problems:
        shown = "\n".join(f"  {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise CorpusError(f"{len(problems)} stand-off annotation(s) cannot be joined with their texts:\n{shown}{more}")
    return articles


def standoff_record(article: dict) -> dict:
    """The stand-off form of a corpus-format article: id, text hash and sentences, no text."""
    return {"id": article["id"], "sha256": text_hash(article["text"]), "sentences": article["sentences"]}


def write_jsonl(path: str | Path, records: Iterable[dict]) -> Path:
    """Write JSON Lines atomically: a temporary sibling, flushed to disk, then renamed over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's file is private; the result is an ordinary file
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# The FA-KES release's columns, and how they map to a texts file.
FAKES_COLUMNS = ("unit_id", "article_title", "article_content", "source", "date", "location")


def _iso_date(value: str) -> str:
    """FA-KES dates (``10/17/2016``) as ISO dates; a date that cannot be read is kept as it is."""
    from dateutil import parser

    try:
        return parser.parse(value, dayfirst=False).date().isoformat()
    except (ValueError, OverflowError):
        return value


def texts_from_fakes_csv(csv_path: str | Path, out: str | Path, ids: Iterable[str] | None = None) -> int:
    """Build a texts file from the official FA-KES CSV: ``id`` is ``fakes-<unit_id>``, ``text`` the
    article content with surrounding white space stripped (as the project's annotations expect).

    Args:
        ids: keep only these article ids (e.g. those of an annotations file); default: every row.

    Returns:
        The number of articles written.
    """
    csv_path = Path(csv_path)
    wanted = set(ids) if ids is not None else None
    records = []
    try:
        with csv_path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in FAKES_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise CorpusError(f"{csv_path}: not the FA-KES CSV: column(s) {missing} missing "
                                  f"(found {reader.fieldnames})")
            for row in reader:
                article_id = f"fakes-{row['unit_id'].strip()}"
                if wanted is not None and article_id not in wanted:
                    continue
                records.append({"id": article_id, "title": row["article_title"], "outlet": row["source"],
                                "date": _iso_date(row["date"]), "location": row["location"], "text": row["article_content"].strip()})
    except FileNotFoundError:
        raise CorpusError(f"{csv_path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{csv_path}: not UTF-8 text ({exc})") from None
    write_jsonl(out, records)
    return len(records)


def read_standoff(annotations: str | Path, texts: str | Path | dict[str, dict], labels, seen_ids: dict[str, str]):
    """Joined and validated articles of one stand-off file, and the problems found (as ``Problem``s
    naming the annotations file, its line and the article)."""
    from .corpus import Problem, check_article
    from .types import Article

    articles, problems = [], []
    for number, article in join(annotations, texts):
        found = check_article(article, labels)
        if article["id"] in seen_ids:
            found.append(f"duplicate id (first seen at {seen_ids[article['id']]})")
        else:
            seen_ids[article["id"]] = f"{annotations}:{number}"
        problems.extend(Problem(str(annotations), number, article["id"], msg) for msg in found)
        if not found:
            articles.append(Article.from_dict(article))
    return articles, problems


def read_standoff_files(annotations: Iterable[str | Path], texts: str | Path, labels,
                        seen_ids: dict[str, str]) -> tuple[list, list]:
    """:func:`read_standoff` over several stand-off files that share one texts file, read once."""
    by_id = read_texts(texts)
    articles, problems = [], []
    for path in annotations:
        found, bad = read_standoff(path, by_id, labels, seen_ids)
        articles += found
        problems += bad
    return articles, problems
