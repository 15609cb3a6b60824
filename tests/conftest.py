"""Shared fixtures: a small synthetic corpus, a tiny-BERT config, and a tiny trained checkpoint."""

from __future__ import annotations

import datetime
import json
import random
from pathlib import Path

import pytest

from factattr.config import load_config

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEED_ARTICLE = SHARED / "seeds" / "000_945875a9a204537a.gold.jsonl"

# (sentence, source, claim_type): short sentences whose labels a tiny model can learn from the words.
TEMPLATES = [
    ("The Syrian army said it retook {place}.", "syrian_army", "territorial_control"),
    ("Iraqi commanders announced that {n} militants were killed near {place}.", "iraqi_command", "casualties"),
    ("The coalition said ISIL has {n} fighters left in {place}.", "us_coalition", "force_strength"),
    ("A military source told SANA that jets struck {place}.", "anonymous_officer", "military_action"),
    ("The Observatory warned the fighting in {place} would get worse.", "other", "assessment"),
    ("{place} is a town on the Euphrates river.", "none", "background"),
]
PLACES = ["Mosul", "Raqqa", "Palmyra", "Hawija", "Tal Afar", "Manbij", "Deir Ezzor", "Ramadi"]


def make_article(index: int, rng: random.Random) -> dict:
    text, sentences = "", []
    picks = rng.sample(range(len(TEMPLATES)), k=len(TEMPLATES))
    for i in picks:
        template, source, claim = TEMPLATES[i]
        sentence = template.format(place=rng.choice(PLACES), n=rng.randint(10, 900))
        if text:
            text += " "
        sentences.append({"start": len(text), "end": len(text) + len(sentence), "source": source, "claim_type": claim})
        text += sentence
    # A week apart: templated texts are alike, and same-event clustering links alike articles of nearby dates.
    date = (datetime.date(2016, 1, 1) + datetime.timedelta(days=7 * index)).isoformat()
    return {"id": f"synthetic-{index:03d}", "title": f"Synthetic {index}", "date": date, "text": text,
            "sentences": sentences}


def write_corpus(path: Path, n: int = 24, seed: int = 0) -> Path:
    rng = random.Random(seed)
    path.write_text("".join(json.dumps(make_article(i, rng)) + "\n" for i in range(n)), encoding="utf-8")
    return path


@pytest.fixture(scope="session", autouse=True)
def onnx_cache(tmp_path_factory) -> Path:
    """ONNX exports go to a fresh cache, never the user's ~/.cache."""
    import os

    path = tmp_path_factory.mktemp("factattr-cache")
    os.environ["FACTATTR_CACHE"] = str(path)
    return path


@pytest.fixture(scope="session")
def corpus_file(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus") / "synthetic.jsonl")


def tiny_overrides(corpus: Path, out: Path, **extra) -> list[str]:
    items = {"data.corpus": str(corpus), "output_dir": str(out), "training.limit": "null", "training.epochs": 2,
             "training.log_every": 1, **extra}
    return [f"{k}={v}" for k, v in items.items()]


@pytest.fixture
def tiny_config(corpus_file, tmp_path):
    return load_config(REPO / "configs" / "tiny.yaml", tiny_overrides(corpus_file, tmp_path / "run"))


@pytest.fixture(scope="session")
def tiny_checkpoint(corpus_file, tmp_path_factory) -> Path:
    """A tiny random BERT trained for a few epochs on the synthetic corpus (about 10 s)."""
    from factattr.training.train import train

    out = tmp_path_factory.mktemp("tiny-run")
    config = load_config(REPO / "configs" / "tiny.yaml",
                         tiny_overrides(corpus_file, out / "run", **{"training.epochs": 8, "training.patience": 8,
                                                                     "training.lr": 3e-3}))
    return train(config, progress=False)


def rehash(checkpoint: Path) -> None:
    """Record the current files' checksums, as if the checkpoint had been saved with its edited files."""
    from factattr.model.checkpoint import CHECKED_FILES, CHECKSUMS, file_sha256

    sums = {name: file_sha256(checkpoint / name) for name in CHECKED_FILES}
    (checkpoint / CHECKSUMS).write_text(json.dumps(sums), encoding="utf-8")


@pytest.fixture(scope="session")
def tagger(tiny_checkpoint):
    """The tiny checkpoint loaded once, on the torch backend (read-only: tests must not change it)."""
    from factattr.model.tagger import Tagger

    return Tagger.load(tiny_checkpoint, backend="torch")
