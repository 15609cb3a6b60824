"""Scoring a corpus file: ``factattr score INPUT --out OUTPUT`` (``score_file``).

Reads JSON Lines, CSV or Parquet one row at a time and writes one result per article, in input order,
to JSON Lines or Parquet, so memory stays the same however long the input is.

Resumable by construction: results go to a ``.partial`` file (JSON Lines) or a ``.parts/`` folder of
numbered Parquet files, written in input order, each chunk fsynced (JSON Lines) or moved into place
whole (Parquet). A run killed at any point, even inside a write, leaves a prefix of the finished output
plus at most one torn line, which ``--resume`` cuts off before it skips the articles already written.
The finished output replaces OUTPUT atomically at the end. Because both the output and the errors file
are prefixes of the input, resuming compares them with the input row by row and needs no table of
ids in memory; an input that is not the one the output came from is refused.

A bad row (unparseable line, no id, no text, text that is not usable) goes to the errors file (JSON
Lines of ``line``, ``id`` and ``reason``) and the run goes on.
"""

from __future__ import annotations

import contextlib

import csv
import json
import logging
import os
import shutil
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .errors import FactattrError, InputError

log = logging.getLogger("factattr.batch")

INPUT_FORMATS = ("jsonl", "csv", "parquet")
OUTPUT_FORMATS = ("jsonl", "parquet")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet",
             ".pq": "parquet"}
FLUSH_EVERY = 64   # JSON Lines results written and fsynced together
PART_ROWS = 256    # Parquet results per part file (one row group each in the merged file)
READ_BATCH = 256   # Parquet rows read at a time


class ResumeError(FactattrError, ValueError):
    """``--resume`` found an output that does not belong to this input, or an unusable output state."""


@dataclass(frozen=True)
class Row:
    """One input row. ``line`` is the JSON Lines line, the CSV line where the record starts, or the
    Parquet row (all from 1); ``error`` says why the row cannot be scored, if it cannot."""

    line: int
    id: str | None
    text: object = None
    error: str | None = None


@dataclass
class Summary:
    scored: int = 0      # articles scored in this run
    skipped: int = 0     # rows found already done (--resume), scored or failed
    failed: int = 0      # rows in the errors file (with --resume, also those an earlier run logged)
    sentences: int = 0


def file_format(path: str | Path, given: str | None, allowed: tuple[str, ...], what: str) -> str:
    """``given``, or the format named by the file's extension."""
    fmt = given or _SUFFIXES.get(Path(str(path).rstrip("/")).suffix.lower())
    if fmt not in allowed:
        raise InputError(f"{what} {str(path)!r}: cannot tell its format from the extension; name it "
                         f"{' or '.join('.' + f for f in allowed)} or pass the format explicitly")
    return fmt


# Reading ---------------------------------------------------------------------------------------------

def read_rows(path: str | Path, fmt: str, id_column: str = "id", text_column: str = "text") -> Iterator[Row]:
    """The rows of an input file, read lazily; rows that cannot be scored carry their ``error``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file; give a JSON Lines, CSV or Parquet file of articles")
    reader = {"jsonl": _jsonl_records, "csv": _csv_records, "parquet": _parquet_records}[fmt]
    for line, record, error in reader(path, id_column, text_column):
        yield Row(line, None, None, error) if error else check_row(line, record, id_column, text_column)


def check_row(line: int, record: dict, id_column: str, text_column: str) -> Row:
    """The row with its id as a string, or with the reason it cannot be scored."""
    from .model.tagger import check_text

    ident = record.get(id_column)
    if isinstance(ident, bool) or not isinstance(ident, (str, int)) or str(ident) == "":
        return Row(line, None, None, f"no usable {id_column!r} (got {ident!r}); every article needs a string or "
                                     f"integer id (set the column with --id-column)")
    ident = str(ident)
    if text_column not in record or record[text_column] is None:
        return Row(line, ident, None, f"no {text_column!r} (set the column with --text-column)")
    try:
        text = check_text(record[text_column], text_column)
    except InputError as exc:
        return Row(line, ident, None, str(exc))
    return Row(line, ident, text)


def _jsonl_records(path: Path, id_column: str, text_column: str) -> Iterator[tuple[int, dict | None, str | None]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):  # binary lines end at b"\n" only, as JSON Lines does
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                yield number, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})"
                continue
            except json.JSONDecodeError as exc:
                yield number, None, f"not valid JSON: {exc.msg} at column {exc.colno}"
                continue
            if not isinstance(record, dict):
                yield number, None, f"a JSON object is needed, got {type(record).__name__}"
                continue
            yield number, record, None


def _csv_records(path: Path, id_column: str, text_column: str) -> Iterator[tuple[int, dict | None, str | None]]:
    csv.field_size_limit(1 << 30)  # an article easily passes the module's 128 KiB default
    with path.open("r", encoding="utf-8", newline="", errors="strict") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            return
        missing = [c for c in (id_column, text_column) if c not in header]
        if missing:
            raise InputError(f"{path}: the header has no column {', '.join(map(repr, missing))} (it has "
                             f"{header}); name the columns with --id-column and --text-column")
        start = reader.line_num + 1
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:  # the reader cannot go past a broken record
                raise InputError(f"{path}:{start}: unreadable CSV ({exc}); fix the file from this line on") from None
            if values:
                if len(values) != len(header):
                    yield start, None, f"{len(values)} fields where the header has {len(header)}"
                else:
                    yield start, dict(zip(header, values)), None
            start = reader.line_num + 1


def _parquet_records(path: Path, id_column: str, text_column: str) -> Iterator[tuple[int, dict | None, str | None]]:
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    names = file.schema_arrow.names
    missing = [c for c in (id_column, text_column) if c not in names]
    if missing:
        raise InputError(f"{path}: no column {', '.join(map(repr, missing))} (it has {names}); name the columns "
                         "with --id-column and --text-column")
    number = 0
    for batch in file.iter_batches(batch_size=READ_BATCH, columns=[id_column, text_column]):
        for record in batch.to_pylist():
            number += 1
            yield number, record, None


def count_rows(path: str | Path, fmt: str) -> int:
    """How many rows the input has (for the progress bar's ETA): one quick pass without parsing."""
    path = Path(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    if fmt == "csv":
        csv.field_size_limit(1 << 30)
        with path.open("r", encoding="utf-8", newline="", errors="replace") as handle:
            return max(0, sum(1 for values in csv.reader(handle) if values) - 1)
    with path.open("rb") as handle:
        return sum(1 for raw in handle if raw.strip())


# Writing ---------------------------------------------------------------------------------------------

def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class JsonlLog:
    """An append-only JSON Lines file kept at ``partial`` until :meth:`finish` moves it to ``final``.

    Lines are appended whole and fsynced per chunk; a run killed inside a write leaves at most one torn
    last line, which :meth:`open` removes when resuming.
    """

    def __init__(self, final: Path):
        self.final = Path(final)
        self.partial = self.final.with_name(self.final.name + ".partial")
        self.fd: int | None = None

    def open(self, resume: bool) -> None:
        """Start empty, or (``resume``) continue the partial file, or the finished one moved back."""
        if resume and not self.partial.exists() and self.final.exists():
            os.replace(self.final, self.partial)  # more rows to add: continue the finished file
        if resume and self.partial.exists():
            self._repair()
        else:
            self.partial.unlink(missing_ok=True)
        self.fd = os.open(self.partial, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _repair(self) -> None:
        """Cut off a torn or unparseable last line; refuse a damaged line anywhere else."""
        size = self.partial.stat().st_size
        good = 0
        with self.partial.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                end = good + len(raw)
                if raw.endswith(b"\n") and _parses(raw):
                    good = end
                    continue
                if end < size:
                    raise ResumeError(f"{self.partial}:{number}: damaged line in the middle of the file; it was "
                                      "not written by factattr score: start again without --resume")
        if good < size:
            log.info("%s: removing a torn last line (%d bytes) left by an interrupted write", self.partial, size - good)
            os.truncate(self.partial, good)

    def records(self) -> Iterator[dict]:
        """The records already in the file, in order (call after :meth:`open`)."""
        with self.partial.open("rb") as handle:
            for raw in handle:
                yield json.loads(raw)

    def append(self, records: list[dict]) -> None:
        if records:
            data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
            self._write(data)
            os.fsync(self.fd)

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def finish(self) -> Path:
        os.close(self.fd)
        self.fd = None
        os.replace(self.partial, self.final)
        _fsync_dir(self.final.parent)
        return self.final

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _parses(raw: bytes) -> bool:
    try:
        return isinstance(json.loads(raw), dict)
    except ValueError:
        return False


class ParquetParts:
    """Parquet output written as numbered part files, each moved into place whole, then merged.

    A part is either absent or complete, so a killed run loses at most the part it was writing; the
    merge into OUTPUT streams one row group at a time and replaces OUTPUT atomically.
    """

    def __init__(self, final: Path):
        self.final = Path(final)
        self.folder = self.final.with_name(self.final.name + ".parts")
        self.schema = None
        self.count = 0

    def open(self, resume: bool) -> None:
        if resume and not self.folder.exists() and self.final.exists():
            self.folder.mkdir()
            os.replace(self.final, self.folder / _part_name(0))  # continue the finished file as part 0
        if not resume and self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob(".*.tmp"):
            stale.unlink()
        parts = self._parts()
        if [p.name for p in parts] != [_part_name(i) for i in range(len(parts))]:
            raise ResumeError(f"{self.folder}: part files are not numbered 0, 1, 2, ... without gaps; it was not "
                              "written by factattr score: start again without --resume")
        self.count = len(parts)
        if parts:
            import pyarrow.parquet as pq

            self.schema = pq.read_schema(parts[0])

    def _parts(self) -> list[Path]:
        return sorted(self.folder.glob("part-*.parquet"))

    def records(self) -> Iterator[dict]:
        import pyarrow.parquet as pq

        for part in self._parts():
            for batch in pq.ParquetFile(part).iter_batches(batch_size=READ_BATCH, columns=["id"]):
                yield from batch.to_pylist()

    def append(self, records: list[dict]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not records:
            return
        self.schema = self.schema or result_schema(record_labels(records[0]))
        table = pa.Table.from_pylist(records, schema=self.schema)
        target = self.folder / _part_name(self.count)
        tmp = self.folder / f".{target.name}.tmp"
        pq.write_table(table, tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        self._write(tmp, target)
        self.count += 1

    def _write(self, tmp: Path, target: Path) -> None:
        os.replace(tmp, target)

    def finish(self) -> Path:
        import pyarrow.parquet as pq

        tmp = self.final.with_name(f".{self.final.name}.tmp")
        parts = self._parts()
        schema = self.schema or _empty_schema()
        with pq.ParquetWriter(tmp, schema) as writer:
            for part in parts:
                file = pq.ParquetFile(part)
                for group in range(file.num_row_groups):
                    writer.write_table(file.read_row_group(group))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, self.final)
        _fsync_dir(self.final.parent)
        shutil.rmtree(self.folder)  # only now: OUTPUT holds every row
        return self.final

    def close(self) -> None:
        pass


def _part_name(index: int) -> str:
    return f"part-{index:06d}.parquet"


def _empty_schema():
    import pyarrow as pa

    return pa.schema([("id", pa.string())])


def record_labels(record: dict) -> dict[str, list[str]]:
    """The heads and their labels of a scored article (``ArticleResult.to_dict()``), off its first sentence."""
    first = record["sentences"][0]
    return {key[:-len("_probs")]: list(first[key]) for key in first if key.endswith("_probs")}


def result_schema(labels: dict[str, list[str]], error: bool = False):
    """The Arrow schema of scored articles of a tagger with these heads and ``labels`` (``id`` and
    ``ArticleResult.to_dict()``), written out in full rather than inferred from the first rows: rows without a
    speaker, or whose speakers have no pronoun link, would type those fields as null and refuse every later
    row that has one."""
    import pyarrow as pa

    span = [("text", pa.string()), ("start", pa.int64()), ("end", pa.int64())]
    sentence = pa.struct(
        span + [(head, pa.string()) for head in labels]
        + [(f"{head}_probs", pa.struct([(name, pa.float64()) for name in names])) for head, names in labels.items()]
        + [("speaker", pa.struct(span + [("score", pa.float64()), ("refers_to", pa.struct(span)),
                                         ("entity", pa.int64())])),
           ("cue", pa.struct(span + [("score", pa.float64())]))])
    fields = [("id", pa.string()), ("text", pa.string()), ("sentences", pa.list_(sentence))]
    return pa.schema(fields + ([("error", pa.string())] if error else []))


def open_sink(path: Path, fmt: str):
    return JsonlLog(path) if fmt == "jsonl" else ParquetParts(path)


# Running ---------------------------------------------------------------------------------------------

class _Resumer:
    """Walks the input beside what earlier runs wrote: a row is done when it is the next one there."""

    def __init__(self, sink, errors: JsonlLog, where: Path):
        self.done = sink.records()
        self.failed = errors.records()
        self.next_done = next(self.done, None)
        self.next_failed = next(self.failed, None)
        self.where = where

    def already(self, row: Row) -> bool:
        if row.error is None:
            if self.next_done is None:
                return False
            if self.next_done.get("id") != row.id:
                raise ResumeError(f"--resume: the next article in {self.where} is {self.next_done.get('id')!r}, but "
                                  f"input line {row.line} is {row.id!r}: the output comes from another input (or "
                                  "the input changed); give the same input, or start again without --resume")
            self.next_done = next(self.done, None)
            return True
        if self.next_failed is None:
            return False
        if self.next_failed.get("line") != row.line:
            raise ResumeError(f"--resume: the next row in the errors file is line {self.next_failed.get('line')}, "
                              f"but input line {row.line} is the next bad row: the errors file comes from another "
                              "input (or the input changed); start again without --resume")
        self.next_failed = next(self.failed, None)
        return True

    def check_finished(self) -> None:
        if self.next_done is not None:
            raise ResumeError(f"--resume: {self.where} holds article {self.next_done.get('id')!r}, which the input "
                              "does not have at that place: the output comes from another input; start again "
                              "without --resume")
        if self.next_failed is not None:
            raise ResumeError(f"--resume: the errors file lists line {self.next_failed.get('line')}, which is not a "
                              "bad row of this input: it comes from another input; start again without --resume")


def errors_path(out: Path) -> Path:
    """Default errors file: ``OUTPUT`` with ``.errors.jsonl`` in place of its extension."""
    return out.with_name(out.name.rsplit(".", 1)[0] + ".errors.jsonl")


def check_output(out: Path, errors: Path, resume: bool, overwrite: bool) -> None:
    """Refuse to start over an existing output unless told what to do with it."""
    if resume or overwrite:
        return
    leftovers = [p for p in (out, out.with_name(out.name + ".partial"), out.with_name(out.name + ".parts"),
                             errors.with_name(errors.name + ".partial")) if p.exists()]
    if leftovers:
        raise InputError(f"{leftovers[0]} exists; use --resume to continue that run, or --overwrite to start again "
                         "(OUTPUT is replaced only when the new run finishes)")


def score_file(tagger, source: str | Path, out: str | Path, *, errors: str | Path | None = None,
               input_format: str | None = None, output_format: str | None = None, id_column: str = "id",
               text_column: str = "text", resume: bool = False, overwrite: bool = False,
               progress: bool = True) -> Summary:
    """Score every article of ``source`` into ``out`` in input order; bad rows go to ``errors``.

    Raises:
        InputError: the input cannot be read at all (missing, no such column), or the output exists
            without ``resume`` or ``overwrite``.
        ResumeError: with ``resume``, the output does not belong to this input.
    """
    source, out = Path(source), Path(out)
    errors = Path(errors) if errors else errors_path(out)
    in_fmt = file_format(source, input_format, INPUT_FORMATS, "input")
    out_fmt = file_format(out, output_format, OUTPUT_FORMATS, "output")
    check_output(out, errors, resume, overwrite)
    rows = read_rows(source, in_fmt, id_column, text_column)
    total = count_rows(source, in_fmt) if progress else None
    with writers(out, out_fmt, errors, resume) as (sink, error_log):
        return _run(tagger, rows, sink, error_log, _Resumer(sink, error_log, out) if resume else None,
                    _bar(total, progress))


@contextlib.contextmanager
def writers(out: Path, fmt: str, errors: Path, resume: bool):
    """OUTPUT's writer and the errors log, opened (or reopened to resume); both are finished (put in place)
    only when the block succeeds, and closed whatever happens."""
    sink, error_log = open_sink(out, fmt), JsonlLog(errors)
    sink.open(resume)
    error_log.open(resume)
    try:
        yield sink, error_log
        sink.finish()
        error_log.finish()
    finally:
        sink.close()
        error_log.close()


def _bar(total: int | None, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, unit="article", dynamic_ncols=True, smoothing=0.05)


def _run(tagger, rows: Iterable[Row], sink, error_log: JsonlLog, resumer: _Resumer | None, bar) -> Summary:
    """Feed good rows to the tagger and write results in order, bad rows to the errors log."""
    summary = Summary()
    pending: deque = deque()   # ids of articles handed to the tagger, not yet written

    def texts() -> Iterator[str]:
        for row in rows:
            if resumer is not None and resumer.already(row):
                summary.skipped += 1
                summary.failed += row.error is not None  # logged by an earlier run: still a failed row
                bar.update(1)
                continue
            if row.error is not None:
                error_log.append([{"line": row.line, "id": row.id, "reason": row.error}])
                summary.failed += 1
                bar.update(1)
                bar.set_postfix(failed=summary.failed)
                continue
            pending.append(row.id)
            yield row.text

    chunk: list[dict] = []
    size = FLUSH_EVERY if isinstance(sink, JsonlLog) else PART_ROWS
    with bar:
        for result in tagger.score_many(texts()):
            record = {"id": pending.popleft(), **result.to_dict()}
            chunk.append(record)
            summary.scored += 1
            summary.sentences += len(record.get("sentences", ()))
            bar.update(1)
            if len(chunk) >= size:
                sink.append(chunk)
                chunk = []
        sink.append(chunk)
    if resumer is not None:
        resumer.check_finished()
    return summary
