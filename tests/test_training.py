"""Training mechanics on a tiny random BERT: learning, determinism, resume, checkpoints."""

import json
import os
from pathlib import Path

import pytest
import torch

from factattr.config import load_config
from factattr.errors import CheckpointError, ConfigError
from factattr.model.checkpoint import atomic_directory, load_checkpoint
from factattr.training.train import train

from .conftest import REPO, tiny_overrides


def epochs(run: Path) -> list[dict]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["type"] == "epoch"]


def test_tiny_model_learns_and_checkpoint_is_complete(tiny_checkpoint):
    run = tiny_checkpoint.parent
    history = epochs(run)
    assert history[-1]["train_loss"] < history[0]["train_loss"] * 0.5
    best = max(h["dev_score"] for h in history)
    assert best > 0.9, history  # the synthetic labels follow from the words
    for name in ("config.json", "model.safetensors", "train_config.yaml", "metrics.json", "README.md", "tokenizer.json"):
        assert (tiny_checkpoint / name).is_file(), name
    assert not (tiny_checkpoint / "resume.pt").exists() and (run / "last" / "resume.pt").is_file()
    assert json.loads((tiny_checkpoint / "metrics.json").read_text())["dev_score"] == pytest.approx(best)
    assert "library_name: factattr" in (tiny_checkpoint / "README.md").read_text()


def test_same_config_same_dev_metrics(corpus_file, tmp_path):
    runs = []
    for name in ("a", "b"):
        config = load_config(REPO / "configs" / "tiny.yaml", tiny_overrides(corpus_file, tmp_path / name))
        train(config, progress=False)
        runs.append([(h["dev_source_macro_f1"], h["dev_claim_type_macro_f1"], h["train_loss"]) for h in epochs(tmp_path / name)])
    assert runs[0] == runs[1]


def test_resume_continues_to_the_same_result(corpus_file, tmp_path, monkeypatch):
    import factattr.training.train as train_module

    full = load_config(REPO / "configs" / "tiny.yaml", tiny_overrides(corpus_file, tmp_path / "full", **{"training.epochs": 3}))
    train(full, progress=False)
    # A run killed while evaluating its second epoch, then resumed: it redoes epoch 2 from epoch 1's state.
    part = load_config(REPO / "configs" / "tiny.yaml", tiny_overrides(corpus_file, tmp_path / "part", **{"training.epochs": 3}))
    real_evaluate, calls = train_module.evaluate_split, []

    def killed_on_second_call(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(train_module, "evaluate_split", killed_on_second_call)
    with pytest.raises(KeyboardInterrupt):
        train(part, progress=False)
    monkeypatch.setattr(train_module, "evaluate_split", real_evaluate)
    assert len(epochs(tmp_path / "part")) == 1
    train(part, resume=True, progress=False)
    got = [(h["epoch"], h["step"], round(h["dev_score"], 6), round(h["train_loss"], 5)) for h in epochs(tmp_path / "part")]
    want = [(h["epoch"], h["step"], round(h["dev_score"], 6), round(h["train_loss"], 5)) for h in epochs(tmp_path / "full")]
    assert got == want


def test_refuses_to_overwrite_a_run(tiny_config):
    train(tiny_config, progress=False)
    with pytest.raises(ConfigError, match="already exists and is not empty; use --overwrite"):
        train(tiny_config, progress=False)
    assert train(tiny_config, overwrite=True, progress=False).is_dir()


def test_resume_without_checkpoint_is_an_error(tiny_config):
    with pytest.raises(ConfigError, match="no resumable checkpoint"):
        train(tiny_config, resume=True, progress=False)


def test_schema_mismatch_is_a_clear_error(tiny_checkpoint, tmp_path):
    other = load_config(REPO / "configs" / "tiny.yaml", ["labels.source=[{name: a, description: x}, {name: b, description: y}]"],
                        check_files=False)
    with pytest.raises(CheckpointError, match=r"trained with source labels \['syrian_army'.*but the config has \['a', 'b'\]"):
        load_checkpoint(tiny_checkpoint, expect=other)


def test_incomplete_checkpoint_is_refused(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(CheckpointError, match="has no model.safetensors, train_config.yaml"):
        load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="is not a directory"):
        load_checkpoint(tmp_path / "nothing")


def test_crash_while_writing_keeps_the_old_checkpoint(tmp_path):
    target = tmp_path / "ckpt"
    atomic_directory(target, lambda d: (d / "weights").write_text("old"))

    def crash(d):
        (d / "weights").write_text("half")
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        atomic_directory(target, crash)
    assert (target / "weights").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]  # no temporary left behind


def test_checkpoint_holds_nothing_pickled(tiny_checkpoint):
    # Weights are safetensors; the only pickle-format file (resume.pt) is loaded with weights_only=True.
    for path in tiny_checkpoint.iterdir():
        assert path.suffix not in (".pt", ".bin", ".pkl"), path
    state = torch.load(tiny_checkpoint.parent / "last" / "resume.pt", weights_only=True)
    assert set(state) == {"optimizer", "scheduler", "state", "torch_rng", "python_rng"}
