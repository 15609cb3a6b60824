"""The speed benchmark's fp32 ceiling: its work count is the encoder's real one, and it runs end to end."""

from __future__ import annotations

import copy
import importlib.util
import subprocess
import sys

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from factattr.model.checkpoint import load_checkpoint
from factattr.model.modeling import build_encoder

from .conftest import REPO


@pytest.fixture(scope="module")
def speed():
    spec = importlib.util.spec_from_file_location("speed", REPO / "benchmarks" / "speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("shapes", [[(1, 9)], [(3, 20)], [(2, 31), (4, 7)]])
def test_encoder_work_count_matches_torch_flop_counter(speed, tiny_checkpoint, shapes):
    model, _, _ = load_checkpoint(tiny_checkpoint)
    # Eager attention runs its two products as plain matmuls, which the counter sees.
    encoder = build_encoder(copy.deepcopy(model.encoder.config), attn_implementation="eager").eval()
    enc = encoder.config
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        for batch, tokens in shapes:
            ids = torch.randint(5, enc.vocab_size, (batch, tokens))
            encoder(input_ids=ids, attention_mask=torch.ones_like(ids))
    expected = speed._encoder_gflop(shapes, enc.num_hidden_layers, enc.hidden_size, enc.intermediate_size)
    assert counter.get_total_flops() / 1e9 == pytest.approx(expected, rel=1e-9)


def test_fp32_ceiling_counts_context_work_on_the_test_split(speed, tiny_checkpoint):
    c = speed.fp32_ceiling(str(tiny_checkpoint), None, threads=1)
    assert c["peak_gflops"] > 0 and c["peak_engine"] in ("torch", "onnxruntime")
    assert c["ceiling_sentences_per_s"] == pytest.approx(c["peak_gflops"] / c["factattr_gflop_per_sentence"])
    # The tiny config reads every sentence with its neighbours: more work per sentence than alone.
    assert c["factattr_gflop_per_sentence"] > c["naive_gflop_per_sentence"] > 0


def test_benchmark_runs_every_mode_in_turn(tiny_checkpoint):
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "speed.py"), "--checkpoint", str(tiny_checkpoint),
                           "--repeat", "2", "--threads", "1"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [row.split(" | ")[0].lstrip("| ") for row in rows] == [
        "naive_pipeline", "factattr_default", "factattr_torch_fp32", "factattr_torch_int8", "factattr_onnx_fp32", "factattr_onnx_int8"]
    assert rows[0].split(" | ")[2] == "1.00x"
    assert "round 2/2: done" in done.stderr
    assert "fp32 ceiling:" in done.stdout and "no fp32 implementation of this model exceeds" in done.stdout
