"""Reading the ledger's input: scored JSON Lines (one ``factattr score --format jsonl`` result a line,
optionally with ``outlet`` and ``date``), raw articles (JSON Lines of ``id``, ``text`` and metadata, or
plain text files), scored on the way. A bad line becomes an error row and the rest goes on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator


@dataclass
class Item:
    """One article read from the input: scored (``result``) or raw (``text`` to score)."""

    path: str
    line: int
    article_id: str
    outlet: str | None
    date: str | None
    result: dict | None = None
    text: str | None = None


@dataclass
class BadRow:
    path: str
    line: int
    article_id: str | None
    reason: str

    def to_dict(self) -> dict:
        return {"file": self.path, "line": self.line, "article_id": self.article_id, "reason": self.reason}


def read_items(paths: list[str]) -> Iterator[Item | BadRow]:
    """Items and bad rows of every input file, in order."""
    for path in paths:
        if not Path(path).suffix.lower() in (".jsonl", ".json", ".ndjson"):
            yield from _text_file(path)
            continue
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    yield _parse(path, number, line)


def _text_file(path: str) -> Iterator[Item | BadRow]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        yield BadRow(path, 0, Path(path).stem, "not UTF-8 text; give text files or JSON Lines")
        return
    if not text.strip():
        yield BadRow(path, 0, Path(path).stem, "empty file")
        return
    yield Item(path, 0, Path(path).stem, None, None, text=text)


def _parse(path: str, number: int, line: str) -> Item | BadRow:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return BadRow(path, number, None, f"not valid JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(record, dict):
        return BadRow(path, number, None, "a line must be a JSON object")
    article_id = str(record.get("id", f"{Path(path).name}:{number}"))
    outlet, date = record.get("outlet"), record.get("date")
    if "sentences" in record:
        if not isinstance(record["sentences"], list):
            return BadRow(path, number, article_id, "'sentences' must be a list of sentence results")
        return Item(path, number, article_id, outlet, date, result=record)
    if isinstance(record.get("text"), str) and record["text"].strip():
        return Item(path, number, article_id, outlet, date, text=record["text"])
    return BadRow(path, number, article_id, "neither 'sentences' (a scored result) nor a non-empty 'text' (an article "
                                            "to score)")
