"""The int8 ONNX encoder written by training into the checkpoint, and used by default when it keeps dev macro-F1."""

from __future__ import annotations

import json
import shutil

import pytest

from factattr.errors import CheckpointError
from factattr.model.checkpoint import file_sha256
from factattr.model.fastpath import FAST_PATH_FILE, accept
from factattr.model.tagger import Tagger

ARTICLE = "The Syrian army said it retook Palmyra. Palmyra is a town on the Euphrates river."


@pytest.fixture
def copy(tiny_checkpoint, tmp_path):
    return shutil.copytree(tiny_checkpoint, tmp_path / "best")


def set_default(checkpoint, value: bool) -> None:
    path = checkpoint / "metrics.json"
    metrics = json.loads(path.read_text())
    metrics["fast_path"]["default"] = value
    path.write_text(json.dumps(metrics))


def test_training_writes_the_int8_encoder_with_its_checksum_and_both_dev_scores(tiny_checkpoint):
    file = tiny_checkpoint / FAST_PATH_FILE
    assert file.is_file()
    assert json.loads((tiny_checkpoint / "checksums.json").read_text())[FAST_PATH_FILE] == file_sha256(file)
    record = json.loads((tiny_checkpoint / "metrics.json").read_text())["fast_path"]
    assert record["file"] == FAST_PATH_FILE and (record["backend"], record["quantize"]) == ("onnxruntime", "dynamic_int8")
    assert set(record["dev_fp32"]) == set(record["dev_int8"]) and len(record["dev_fp32"]) >= 2
    assert all(k.endswith("macro_f1") for k in record["dev_fp32"])
    assert record["default"] == accept(record["dev_fp32"], record["dev_int8"])
    card = (tiny_checkpoint / "README.md").read_text()
    assert card.count("## Fast path") == 1 and "| dev metric | fp32 | int8 |" in card
    assert not list(tiny_checkpoint.parent.glob(".best.onnx-*"))  # the export's scratch folder is gone


def test_accept_allows_at_most_one_point_lost_on_every_head():
    fp32 = {"source_macro_f1": 0.80, "claim_type_macro_f1": 0.70, "score": 0.75}
    assert accept(fp32, {"source_macro_f1": 0.791, "claim_type_macro_f1": 0.75, "score": 0.0})
    assert accept(fp32, {"source_macro_f1": 0.79, "claim_type_macro_f1": 0.69, "score": 0.0})
    assert not accept(fp32, {"source_macro_f1": 0.85, "claim_type_macro_f1": 0.6899, "score": 0.9})


def test_default_load_uses_the_checkpoint_file_without_export_or_cache(copy, onnx_cache):
    set_default(copy, True)
    before = set(onnx_cache.rglob("*"))
    tagger = Tagger.load(copy)
    assert (tagger.backend, tagger.quantize) == ("onnxruntime", "dynamic_int8")
    assert tagger.model.onnx_path == copy / FAST_PATH_FILE
    assert set(onnx_cache.rglob("*")) == before  # nothing exported, nothing cached
    explicit = Tagger.load(copy, backend="onnxruntime", quantize="dynamic_int8")
    assert explicit.model.onnx_path == copy / FAST_PATH_FILE
    assert tagger.score(ARTICLE) == explicit.score(ARTICLE)
    fp32 = Tagger.load(copy, backend="torch")  # fp32 one flag away
    assert (fp32.backend, fp32.quantize) == ("torch", "none")


def test_an_int8_encoder_that_lost_accuracy_is_not_the_default(copy):
    set_default(copy, False)
    tagger = Tagger.load(copy)
    assert (tagger.backend, tagger.quantize) == ("torch", "none")


def test_old_checkpoint_without_the_file_loads_as_before(copy):
    (copy / FAST_PATH_FILE).unlink()
    sums = json.loads((copy / "checksums.json").read_text())
    del sums[FAST_PATH_FILE]
    (copy / "checksums.json").write_text(json.dumps(sums))
    metrics = json.loads((copy / "metrics.json").read_text())
    del metrics["fast_path"]
    (copy / "metrics.json").write_text(json.dumps(metrics))
    tagger = Tagger.load(copy)
    assert (tagger.backend, tagger.quantize) == ("torch", "none")
    assert len(tagger.score(ARTICLE).sentences) == 2


def test_a_damaged_int8_file_is_refused(copy):
    data = bytearray((copy / FAST_PATH_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / FAST_PATH_FILE).write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="encoder-int8.onnx does not match its checksum"):
        Tagger.load(copy)


def test_the_first_feed_forward_output_stays_fp32_and_every_other_multiply_is_int8(tiny_checkpoint, tmp_path):
    import onnx

    from factattr.model.checkpoint import load_checkpoint
    from factattr.model.ort_backend import export_encoder, fp32_nodes, quantize_encoder

    model, _, _ = load_checkpoint(tiny_checkpoint)
    fp32 = export_encoder(model, tmp_path / "fp32.onnx")
    kept = fp32_nodes(fp32)
    assert kept == ["/encoder/encoder/layer.0/output/dense/MatMul"]
    int8 = onnx.load(str(quantize_encoder(fp32, tmp_path / "int8.onnx"))).graph
    plain = [node.name for node in int8.node if node.op_type == "MatMul"]
    weights = {init.name for init in int8.initializer}
    assert sorted(n for n in plain if any(i in weights for i in next(x for x in int8.node if x.name == n).input)) \
        == sorted(kept)                    # the only fp32 multiplies by a weight matrix are the kept ones
    assert any(node.op_type in ("MatMulInteger", "DynamicQuantizeMatMul") for node in int8.node)
