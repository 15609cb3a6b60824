"""Checkpoints as transformers models, and checkpoints of the older layout."""

import json
import shutil

import pytest
import torch
import yaml
from safetensors.torch import load_file, save_file

from factattr import Tagger
from factattr.errors import CheckpointError
from factattr.model.checkpoint import load_checkpoint

from .conftest import rehash

ARTICLE = "The Syrian army said it retook Palmyra. A military source told SANA that jets struck Raqqa."


def test_checkpoint_loads_with_from_pretrained(tiny_checkpoint):
    from transformers import AutoModel

    from factattr.model import ClaimTaggerModel

    ours, _, _ = load_checkpoint(tiny_checkpoint)
    for model in (ClaimTaggerModel.from_pretrained(tiny_checkpoint), AutoModel.from_pretrained(tiny_checkpoint)):
        assert list(model.config.labels) == ["source", "claim_type"] and model.config.labels == ours.config.labels
        ids = torch.randint(5, 1000, (2, 9))
        mask, target = torch.ones_like(ids), torch.zeros_like(ids)
        a, b = model.eval()(ids, mask, target, 1).logits, ours(ids, mask, target, 1).logits
        assert all(torch.allclose(a[h], b[h]) for h in a)
    stored = yaml.safe_load((tiny_checkpoint / "train_config.yaml").read_text())
    assert "labels" not in stored and "model" not in stored  # recorded once, in config.json


def write_old_layout(checkpoint, target):
    """The files factattr wrote before label heads were data: two *_labels lists, *_head weights, and a
    train_config.yaml with the schema and the older key names."""
    shutil.copytree(checkpoint, target)
    new = json.loads((target / "config.json").read_text())
    labels = new["labels"]
    old = {"encoder": new["encoder"], "source_labels": labels["source"], "claim_labels": labels["claim_type"],
           "dropout": new["dropout"], "context": new["context"], "context_tokens": new["context_tokens"],
           "max_length": new["window_length"], "temperatures": new["temperatures"], "format_version": 1, "extra": {}}
    (target / "config.json").write_text(json.dumps(old, indent=2))
    weights = load_file(target / "model.safetensors")
    renamed = {k.replace("heads.source.", "source_head.").replace("heads.claim_type.", "claim_head."): v
               for k, v in weights.items()}
    save_file(renamed, target / "model.safetensors", metadata={"format": "pt"})
    stored = yaml.safe_load((target / "train_config.yaml").read_text())
    stored["labels"] = {h: [{"name": n, "description": d} for n, d in zip(labels[h], new["descriptions"][h])]
                        for h in ("source", "claim_type")}
    stored["model"] = {"context": new["context"], "context_tokens": new["context_tokens"], "dropout": new["dropout"]}
    stored["encoder"]["max_length"] = new["window_length"]
    training = stored["training"]
    training["batch_size"], training["batch_sentences"] = training.pop("windows_per_step"), training.pop("sentences_per_step")
    stored["inference"]["batch_size"] = stored["inference"].pop("windows_per_pass")
    stored["evaluation"]["batch_size"] = stored["evaluation"].pop("windows_per_pass")
    stored["evaluation"]["gazetteer"] = stored["evaluation"].pop("rules")["source"]["names"]
    (target / "train_config.yaml").write_text(yaml.safe_dump(stored, sort_keys=True))
    rehash(target)
    return target


def test_old_layout_loads_and_scores_the_same(tiny_checkpoint, tagger, tmp_path, caplog):
    old = write_old_layout(tiny_checkpoint, tmp_path / "old")
    loaded = Tagger.load(old)
    assert "written by an older factattr" in caplog.text and "factattr upgrade" in caplog.text
    assert loaded.score(ARTICLE).to_dict() == tagger.score(ARTICLE).to_dict()
    assert list(loaded.labels) == ["source", "claim_type"]
    assert loaded.config.evaluation.rules["source"].unknown_speaker == "other"
    from factattr.cli import main

    assert main(["upgrade", str(old), "--out", str(tmp_path / "new")]) == 0
    caplog.clear()
    again = Tagger.load(tmp_path / "new")
    assert "older factattr" not in caplog.text and again.score(ARTICLE).to_dict() == tagger.score(ARTICLE).to_dict()


def test_old_layout_that_cannot_be_converted_says_what_to_do(tiny_checkpoint, tmp_path):
    old = write_old_layout(tiny_checkpoint, tmp_path / "old")
    stored = yaml.safe_load((old / "train_config.yaml").read_text())
    stored["labels"].pop("claim_type")
    (old / "train_config.yaml").write_text(yaml.safe_dump(stored))
    with pytest.raises(CheckpointError, match="older layout .* cannot be converted: restore both files .* or retrain"):
        Tagger.load(old)
