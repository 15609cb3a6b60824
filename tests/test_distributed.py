"""The Ray engine in local mode (2 CPUs): the same Tagger over a Ray Data dataset, the same output as one process."""

from __future__ import annotations

import json

import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'factattr[ray]' (make test installs it)")

from factattr.cli import main  # noqa: E402
from factattr.distributed import score_dataset  # noqa: E402

from .test_batch import INT8, articles, read_jsonl, write_jsonl  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield
    ray.shutdown()


def test_ray_engine_writes_what_the_local_engine_writes(tiny_checkpoint, tmp_path):
    records = articles(6)
    records.insert(2, {"id": "blank", "text": "  "})
    source = write_jsonl(tmp_path / "in.jsonl", records)
    common = ["--checkpoint", str(tiny_checkpoint), *INT8]
    assert main(["score", str(source), "--out", str(tmp_path / "local.jsonl"), *common]) == 1
    assert main(["score", str(source), "--out", str(tmp_path / "ray.jsonl"), "--engine", "ray",
                 "--concurrency", "2", *common]) == 1
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    assert [r["id"] for r in read_jsonl(tmp_path / "ray.jsonl")] == [r["id"] for r in records if r["id"] != "blank"]
    assert read_jsonl(tmp_path / "ray.errors.jsonl") == read_jsonl(tmp_path / "local.errors.jsonl")


def test_score_dataset_returns_every_row_with_its_error(tiny_checkpoint, tmp_path):
    from factattr.model.tagger import Tagger

    records = [{"doc": r["id"], "body": r["text"]} for r in articles(5)] + [{"doc": "empty", "body": ""}]
    ds = ray.data.from_items(records)
    scored = score_dataset(ds, tiny_checkpoint, id_column="doc", text_column="body", concurrency=2, threads=1,
                           backend="onnxruntime", quantize="dynamic_int8")
    rows = {r["id"]: r for r in scored.take_all()}
    assert set(rows) == {r["doc"] for r in records}
    assert "empty or only white space" in rows["empty"]["error"] and rows["empty"]["sentences"] is None
    tagger = Tagger.load(tiny_checkpoint, backend="onnxruntime", quantize="dynamic_int8", threads=1)
    for record in records[:5]:
        row = rows[record["doc"]]
        assert row.pop("error") is None and row.pop("id") == record["doc"]
        assert row == tagger.score(record["body"]).to_dict()


def test_resume_is_refused_with_the_ray_engine(tiny_checkpoint, tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", articles(1))
    assert main(["score", str(source), "--out", str(tmp_path / "o.jsonl"), "--engine", "ray", "--resume",
                 "--checkpoint", str(tiny_checkpoint), *INT8]) == 1
    assert "--resume works with the local engine only" in capsys.readouterr().err
