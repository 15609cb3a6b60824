"""Batch scoring (factattr.batch, `factattr score INPUT --out OUTPUT`): formats, errors file, resume after SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from factattr import batch
from factattr.cli import main

from .conftest import make_article

# Per-article int8 passes: an article's scores do not depend on which articles share its batch, so a
# resumed run (batched differently) must give the same bytes.
INT8 = ["--backend", "onnxruntime", "--quantize", "dynamic_int8", "--no-progress"]


def articles(n: int, first: int = 0) -> list[dict]:
    import random

    rng = random.Random(first)
    return [{"id": f"a{i:03d}", "text": make_article(i, rng)["text"]} for i in range(first, first + n)]


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def score(tiny_checkpoint, source: Path, out: Path, *extra: str) -> int:
    return main(["score", str(source), "--out", str(out), "--checkpoint", str(tiny_checkpoint), *INT8, *extra])


@pytest.fixture(scope="module")
def int8(tiny_checkpoint):
    from factattr.model.tagger import Tagger

    return Tagger.load(tiny_checkpoint, backend="onnxruntime", quantize="dynamic_int8")


def expected(int8, records: list[dict]) -> list[dict]:
    return [{"id": r["id"], **int8.score(r["text"]).to_dict()} for r in records]


def test_jsonl_csv_and_parquet_in_jsonl_and_parquet_out(int8, tmp_path):
    records = articles(7)
    want = expected(int8, records)
    table = pa.Table.from_pylist([{"doc": r["id"], "body": r["text"], "extra": 1} for r in records])
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=3)
    pacsv.write_csv(table, tmp_path / "in.csv")
    write_jsonl(tmp_path / "in.jsonl", [{"doc": r["id"], "body": r["text"]} for r in records])
    for source in ("in.jsonl", "in.csv", "in.parquet"):
        for suffix in ("jsonl", "parquet"):
            out = tmp_path / f"{source}.out.{suffix}"
            summary = batch.score_file(int8, tmp_path / source, out, id_column="doc", text_column="body", progress=False)
            assert (summary.scored, summary.failed, summary.skipped) == (7, 0, 0)
            got = read_jsonl(out) if suffix == "jsonl" else pq.read_table(out).to_pylist()
            assert got == want, (source, suffix)
            assert read_jsonl(tmp_path / f"{source}.out.errors.jsonl") == []
            assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob("*.parts"))


def test_bad_rows_go_to_the_errors_file_and_the_run_goes_on(tiny_checkpoint, tmp_path, capsys):
    good = articles(3)
    lines = [good[0], "{not json", {"id": "no-text"}, {"id": "number", "text": 42}, good[1], {"text": "No id here."},
             {"id": "blank", "text": "   "}, "[1, 2]", good[2]]
    source = write_jsonl(tmp_path / "in.jsonl", lines)
    with source.open("ab") as handle:
        handle.write(b'{"id": "latin1", "text": "caf\xe9"}\n')
    assert score(tiny_checkpoint, source, tmp_path / "out.jsonl") == 1
    assert [r["id"] for r in read_jsonl(tmp_path / "out.jsonl")] == ["a000", "a001", "a002"]
    errors = read_jsonl(tmp_path / "out.errors.jsonl")
    assert [(e["line"], e["id"]) for e in errors] == [(2, None), (3, "no-text"), (4, "number"), (6, None),
                                                      (7, "blank"), (8, None), (10, None)]
    reasons = [e["reason"] for e in errors]
    assert "not valid JSON" in reasons[0] and "no 'text'" in reasons[1] and "must be str, got int" in reasons[2]
    assert "no usable 'id'" in reasons[3] and "empty or only white space" in reasons[4]
    assert "JSON object is needed" in reasons[5] and "not UTF-8" in reasons[6]
    err = capsys.readouterr().err
    assert "3 article(s) scored" in err and "7 row(s) failed" in err and "out.errors.jsonl" in err


def test_all_rows_scored_exits_0_and_an_existing_output_needs_resume_or_overwrite(tiny_checkpoint, tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", articles(2))
    assert score(tiny_checkpoint, source, tmp_path / "out.jsonl") == 0
    first = (tmp_path / "out.jsonl").read_bytes()
    assert score(tiny_checkpoint, source, tmp_path / "out.jsonl") == 1
    assert "out.jsonl exists; use --resume" in capsys.readouterr().err
    assert score(tiny_checkpoint, source, tmp_path / "out.jsonl", "--overwrite") == 0
    assert score(tiny_checkpoint, source, tmp_path / "out.jsonl", "--resume") == 0  # nothing left to do
    assert (tmp_path / "out.jsonl").read_bytes() == first
    assert "2 already done" in capsys.readouterr().err


def test_usage_errors(tiny_checkpoint, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", articles(1))
    for argv in (["score", str(source), str(source), "--out", "x.jsonl"], ["score", str(source), "--resume"],
                 ["score", str(source), "--out", "x.jsonl", "--resume", "--overwrite"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
    assert score(tiny_checkpoint, source, tmp_path / "out.txt") == 1  # unknown output format: a clear error


def test_resume_refuses_output_of_another_input(tiny_checkpoint, tmp_path, capsys):
    write_jsonl(tmp_path / "a.jsonl", articles(3))
    assert score(tiny_checkpoint, tmp_path / "a.jsonl", tmp_path / "out.jsonl") == 0
    write_jsonl(tmp_path / "b.jsonl", articles(3, first=50))
    assert score(tiny_checkpoint, tmp_path / "b.jsonl", tmp_path / "out.jsonl", "--resume") == 1
    assert "comes from another input" in capsys.readouterr().err


KILLER = textwrap.dedent("""
    import os, signal, sys
    from factattr import batch
    from factattr.cli import main

    batch.FLUSH_EVERY, batch.PART_ROWS = 2, 2
    calls = []

    def write(self, data):                      # JsonlLog: the kill comes half-way through a write of results
        calls.append(1) if not self.final.name.endswith(".errors.jsonl") else None
        if len(calls) == 3:
            os.write(self.fd, data[: len(data) // 2])
            os.kill(os.getpid(), signal.SIGKILL)
        os.write(self.fd, data)

    def place(self, tmp, target):               # ParquetParts: written, not yet moved into place
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        os.replace(tmp, target)

    batch.JsonlLog._write = write
    batch.ParquetParts._write = place
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_resume_after_sigkill_inside_a_write_gives_the_uninterrupted_output(tiny_checkpoint, tmp_path, monkeypatch,
                                                                          suffix):
    records = articles(9)
    records.insert(4, {"id": "bad", "text": ""})
    source = write_jsonl(tmp_path / "in.jsonl", records)
    monkeypatch.setattr(batch, "FLUSH_EVERY", 4)
    monkeypatch.setattr(batch, "PART_ROWS", 4)
    assert score(tiny_checkpoint, source, tmp_path / f"whole.{suffix}") == 1

    out = tmp_path / f"out.{suffix}"
    argv = ["score", str(source), "--out", str(out), "--checkpoint", str(tiny_checkpoint), *INT8]
    killed = subprocess.run([sys.executable, "-c", KILLER, *argv], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not out.exists()  # OUTPUT appears only when complete
    if suffix == "jsonl":
        partial = (tmp_path / "out.jsonl.partial").read_bytes()
        assert partial.count(b"\n") >= 4 and not partial.endswith(b"\n")  # two whole chunks, then a torn write
    else:
        parts = tmp_path / "out.parquet.parts"
        assert len(list(parts.glob("part-*.parquet"))) == 2 and len(list(parts.glob(".*.tmp"))) == 1

    assert main([*argv, "--resume"]) == 1  # the bad row still fails
    if suffix == "jsonl":
        assert out.read_bytes() == (tmp_path / "whole.jsonl").read_bytes()
    else:
        assert pq.read_table(out).equals(pq.read_table(tmp_path / "whole.parquet"))
        assert not (tmp_path / "out.parquet.parts").exists()
    ids = [r["id"] for r in (read_jsonl(out) if suffix == "jsonl" else pq.read_table(out).to_pylist())]
    assert ids == [r["id"] for r in records if r["id"] != "bad"]  # every id once, in input order
    assert read_jsonl(tmp_path / f"out.errors.jsonl") == read_jsonl(tmp_path / "whole.errors.jsonl")
    assert len(read_jsonl(tmp_path / "out.errors.jsonl")) == 1


def test_a_damaged_line_inside_the_partial_output_is_refused(tiny_checkpoint, tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", articles(3))
    (tmp_path / "out.jsonl.partial").write_text('{"id": "a000"}\ngarbage\n{"id": "a001"}\n', encoding="utf-8")
    assert score(tiny_checkpoint, source, tmp_path / "out.jsonl", "--resume") == 1
    assert "damaged line in the middle" in capsys.readouterr().err


def test_memory_stays_flat_reading_rows(tmp_path):
    """Rows are read lazily: the reader holds one row (JSON Lines, CSV) or one batch (Parquet) at a time."""
    records = articles(600)
    write_jsonl(tmp_path / "in.jsonl", records)
    rows = batch.read_rows(tmp_path / "in.jsonl", "jsonl")
    assert next(rows).id == "a000"  # a generator: nothing past the first line has been parsed
    assert batch.count_rows(tmp_path / "in.jsonl", "jsonl") == 600


def _scored(ident: str, speaker: dict | None) -> dict:
    """A scored article as ``ArticleResult.to_dict()`` writes it, with one sentence and the speaker given."""
    probs = {"source_probs": {"army": 0.9, "none": 0.1}, "claim_probs": {"casualties": 0.7, "background": 0.3}}
    sentence = {"text": "The army said ten died.", "start": 0, "end": 23, "source": "army", "claim": "casualties",
                **probs, "speaker": speaker, "cue": {"text": "said", "start": 9, "end": 13, "score": 0.9} if speaker else None}
    return {"id": ident, "text": sentence["text"], "sentences": [sentence]}


def test_parquet_takes_speakers_and_links_that_the_first_rows_lacked(tmp_path):
    # The schema comes from the heads, not from the first rows: a first part with no speaker (narration) or no
    # pronoun link would otherwise type those fields null and refuse every later row that has one.
    linked = {"text": "He", "start": 0, "end": 2, "score": 0.8, "entity": 0,
              "refers_to": {"text": "Col. Ryan Dillon", "start": 40, "end": 56}}
    unlinked = {**linked, "refers_to": None}
    parts = batch.ParquetParts(tmp_path / "out.parquet")
    parts.open(resume=False)
    for chunk in ([_scored("a", None)], [_scored("b", unlinked)], [_scored("c", linked)]):
        parts.append(chunk)
    rows = pq.read_table(parts.finish()).to_pylist()
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert rows[0]["sentences"][0]["speaker"] is None
    assert rows[2]["sentences"][0]["speaker"] == linked
    assert rows[2]["sentences"][0]["claim_probs"] == {"casualties": 0.7, "background": 0.3}
    schema = batch.result_schema(batch.record_labels(_scored("x", None)), error=True)
    assert schema.names == ["id", "text", "sentences", "error"]
