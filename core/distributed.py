"""Scoring a Ray Data dataset with a pool of actors: ``score_dataset(ds, checkpoint)``.

Each actor loads the checkpoint once (``Tagger.load``, so the same default path as on one machine)
and scores batches of rows with ``Tagger.score_many``; Ray spreads the batches over the pool, on this
machine or on a cluster (``ray.init(address=...)`` or ``RAY_ADDRESS``). Needs the ``ray`` extra:
``pip install 'factattr[ray]'``.

``score_path`` is ``factattr score INPUT --out OUTPUT --engine ray``: Ray reads INPUT (a local path or
an object-storage URI such as ``s3://bucket/articles/``). A local OUTPUT file is written by this process
from the scored rows in input order, through the same writers as the single-process path, so the two
engines write the same bytes; an OUTPUT URI is written by Ray itself as a folder of files, with bad
rows kept in it and their reason in the ``error`` column.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .batch import (INPUT_FORMATS, OUTPUT_FORMATS, Summary, check_output, check_row, count_rows, errors_path,
                    file_format, result_schema)
from .errors import FactattrError, InputError

log = logging.getLogger("factattr.distributed")


def _ray():
    try:
        import ray
    except ImportError:
        raise FactattrError("the Ray engine needs Ray: pip install 'factattr[ray]'") from None
    return ray


class TaggerActor:
    """One actor of the pool: a Tagger loaded once, scoring one batch (a ``pyarrow.Table``) per call."""

    def __init__(self, checkpoint: str, id_column: str, text_column: str, load_options: dict):
        from .model.tagger import Tagger

        self.tagger = Tagger.load(checkpoint, **load_options)
        self.id_column, self.text_column = id_column, text_column
        self.schema = result_schema(self.tagger.labels, error=True)

    def __call__(self, batch):
        import pyarrow as pa

        n = batch.num_rows
        ids = _column(batch, self.id_column, n)
        texts = _column(batch, self.text_column, n)
        rows = [check_row(0, {self.id_column: i, self.text_column: t}, self.id_column, self.text_column)
                for i, t in zip(ids, texts)]
        results = self.tagger.score_many([r.text for r in rows if r.error is None])
        out = [{"id": r.id, "error": r.error} if r.error else {"id": r.id, **next(results).to_dict(), "error": None}
               for r in rows]
        return pa.Table.from_pylist(out, schema=self.schema)


def _column(batch, name: str, n: int) -> list:
    return batch.column(name).to_pylist() if name in batch.column_names else [None] * n


def score_dataset(ds, checkpoint: str | Path, *, id_column: str = "id", text_column: str = "text",
                  concurrency: int = 2, threads: int | None = None, batch_size: int = 64,
                  backend: str | None = None, quantize: str | None = None):
    """``ds`` scored by ``concurrency`` actors, each loading ``checkpoint`` once.

    Returns a dataset with one row per input row: ``id``, the fields of ``ArticleResult.to_dict()``,
    and ``error`` (null, or why the row could not be scored: no id, no text, text not usable).
    Each actor reserves ``threads`` CPUs (default: the cluster's CPUs divided among the ``concurrency``
    actors), so the pool must fit the cluster. The checkpoint path must be readable by every node (a
    shared file system, or the same path on each machine).
    """
    ray = _ray()
    checkpoint = str(Path(checkpoint).resolve())
    if threads is None:  # the cluster's CPUs shared among the actors: a pool larger than that would never start
        threads = max(1, int(ray.cluster_resources().get("CPU", 1)) // concurrency)
    load_options = {"backend": backend, "quantize": quantize, "threads": threads}
    return ds.map_batches(TaggerActor, batch_format="pyarrow", batch_size=batch_size,
                          compute=ray.data.ActorPoolStrategy(size=concurrency), num_cpus=threads,
                          fn_constructor_kwargs={"checkpoint": checkpoint, "id_column": id_column,
                                                 "text_column": text_column, "load_options": load_options})


def read_dataset(path: str, fmt: str):
    """A Ray dataset of the input file or folder (local or object storage), in file order."""
    ray = _ray()
    reader = {"jsonl": ray.data.read_json, "csv": ray.data.read_csv, "parquet": ray.data.read_parquet}[fmt]
    # Reading reserves no CPU: the actor pool may hold every CPU, and a read task waiting for one would
    # wait for ever (reading is light next to scoring).
    return reader(path, num_cpus=0)


def score_path(source: str, out: str, checkpoint: str, *, errors: str | None = None, input_format: str | None = None,
               id_column: str = "id", text_column: str = "text", resume: bool = False, overwrite: bool = False,
               concurrency: int = 2, progress: bool = True, backend: str | None = None,
               quantize: str | None = None) -> Summary | None:
    """``factattr score INPUT --out OUTPUT --engine ray``; see the module docstring. None when Ray wrote
    OUTPUT (an object-storage URI) itself."""
    ray = _ray()
    if resume:
        raise InputError("--resume works with the local engine only: a Ray dataset has no row positions to "
                         "continue from; resume with --engine local, or score the remaining articles as a new input")
    in_fmt = file_format(source, input_format, INPUT_FORMATS, "input")
    out_fmt = file_format(out, None, OUTPUT_FORMATS, "output")
    if not ray.is_initialized():
        ray.init(logging_level=logging.WARNING, include_dashboard=False)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # results come back in input order
    context.enable_progress_bars = False             # this command shows its own
    scored = score_dataset(read_dataset(source, in_fmt), checkpoint, id_column=id_column, text_column=text_column,
                           concurrency=concurrency, backend=backend, quantize=quantize)
    if "://" in out:
        return _write_with_ray(scored, out, out_fmt)
    out_path = Path(out)
    errors_file = Path(errors) if errors else errors_path(out_path)
    check_output(out_path, errors_file, False, overwrite)
    total = count_rows(source, in_fmt) if progress and "://" not in source else None
    return _write_locally(scored, out_path, out_fmt, errors_file, total, progress)


def _write_with_ray(scored, out: str, fmt: str) -> None:
    """Ray writes the folder of files itself (in parallel, from the actors' output): nothing is counted here."""
    (scored.write_parquet if fmt == "parquet" else scored.write_json)(out, ray_remote_args={"num_cpus": 0})


def _write_locally(scored, out: Path, fmt: str, errors: Path, total: int | None, progress: bool) -> Summary:
    """Rows in input order into OUTPUT and the errors file, through the single-process writers."""
    from .batch import FLUSH_EVERY, PART_ROWS, _bar, writers

    size = FLUSH_EVERY if fmt == "jsonl" else PART_ROWS
    summary, chunk, position = Summary(), [], 0
    with writers(out, fmt, errors, False) as (sink, error_log), _bar(total, progress) as bar:
        for batch in scored.iter_batches(batch_format="pyarrow", batch_size=size):
            for record in batch.to_pylist():
                position += 1
                reason = record.pop("error")
                if reason is not None:
                    error_log.append([{"line": position, "id": record["id"], "reason": reason}])
                    summary.failed += 1
                else:
                    chunk.append(record)
                    summary.scored += 1
                    summary.sentences += len(record.get("sentences") or ())
                bar.update(1)
            if len(chunk) >= size:
                sink.append(chunk)
                chunk = []
        sink.append(chunk)
    return summary
