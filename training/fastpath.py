"""Writing the int8 ONNX encoder into a trained checkpoint, with the dev macro-F1 it keeps.

Called at the end of training on ``best/``; also usable on an older checkpoint (``add_fast_path``).
"""

from __future__ import annotations

import copy
import json
import logging
import shutil
import tempfile
from pathlib import Path

from factattr.model.checkpoint import CHECKED_FILES, CHECKSUMS, atomic_directory, file_sha256, load_checkpoint
from factattr.model.fastpath import FAST_BACKEND, FAST_PATH_FILE, FAST_QUANTIZE, MAX_DROP, accept
from factattr.model.ort_backend import INT8_DISABLED_OPTIMIZERS, OrtClaimTagger, export_encoder, quantize_encoder

log = logging.getLogger("factattr.fastpath")


def add_fast_path(checkpoint: str | Path, dev_articles: list[dict], batch_size: int, threads: int) -> dict:
    """Export and quantise the encoder, score dev with fp32 and int8, and write both into the checkpoint.

    Returns the ``fast_path`` record also stored in ``metrics.json``: both macro-F1 sets and whether
    int8 is the default (no macro-F1 more than one point below fp32's).
    """
    from .train import evaluate_split

    checkpoint = Path(checkpoint)
    model, tokenizer, _ = load_checkpoint(checkpoint)
    fp32 = evaluate_split(model, tokenizer, dev_articles, batch_size)
    with tempfile.TemporaryDirectory(dir=checkpoint.parent, prefix=f".{checkpoint.name}.onnx-") as tmp:
        fp32_file = export_encoder(model, Path(tmp) / "encoder-fp32.onnx")
        int8_file = quantize_encoder(fp32_file, Path(tmp) / FAST_PATH_FILE)
        int8_model = OrtClaimTagger(copy.deepcopy(model), int8_file, threads, INT8_DISABLED_OPTIMIZERS)
        int8 = evaluate_split(int8_model, tokenizer, dev_articles, batch_size, by_article=True)
        f1 = [k for k in fp32 if k.endswith("macro_f1")]
        record = {"file": FAST_PATH_FILE, "backend": FAST_BACKEND, "quantize": FAST_QUANTIZE, "max_drop": MAX_DROP,
                  "dev_fp32": {k: fp32[k] for k in f1}, "dev_int8": {k: int8[k] for k in f1},
                  "default": accept(fp32, int8)}
        atomic_directory(checkpoint, lambda new: _with_artefact(checkpoint, new, int8_file, record))
    log.info("int8 ONNX encoder written into %s (dev macro-F1 %s; fp32 %s): %s", checkpoint,
             _short(record["dev_int8"]), _short(record["dev_fp32"]),
             "the default path" if record["default"] else "kept off by default (more than one point lost)")
    return record


def _short(scores: dict) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in scores.items())


def _with_artefact(old: Path, new: Path, int8_file: Path, record: dict) -> None:
    """``new``: a copy of ``old`` plus the int8 encoder, its checksum, its metrics and a model-card section."""
    for path in old.iterdir():
        if path.is_file() and path.name != FAST_PATH_FILE:
            shutil.copy2(path, new / path.name)
    shutil.copy2(int8_file, new / FAST_PATH_FILE)
    sums_path = new / CHECKSUMS
    sums = json.loads(sums_path.read_text(encoding="utf-8")) if sums_path.is_file() else {
        name: file_sha256(new / name) for name in CHECKED_FILES}
    sums[FAST_PATH_FILE] = file_sha256(new / FAST_PATH_FILE)
    sums_path.write_text(json.dumps(sums, indent=2), encoding="utf-8")
    metrics_path = new / "metrics.json"
    metrics = json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.is_file() else {}
    metrics["fast_path"] = record
    metrics_path.write_text(json.dumps(metrics, indent=2, sort_keys=True), encoding="utf-8")
    card = new / "README.md"
    text = card.read_text(encoding="utf-8").split("\n## Fast path\n")[0] if card.is_file() else ""
    card.write_text(text.rstrip("\n") + "\n\n" + _card_section(record), encoding="utf-8")


def _card_section(record: dict) -> str:
    rows = "\n".join(f"| {k} | {record['dev_fp32'][k]:.4f} | {record['dev_int8'][k]:.4f} |" for k in record["dev_fp32"])
    verdict = ("It is the default scoring path (`Tagger.load(dir)`); `backend=\"torch\"` (CLI `--backend torch`) "
               "gives fp32." if record["default"] else
               f"It loses more than {100 * record['max_drop']:.0f} point of macro-F1 on dev, so fp32 stays the default; "
               "`quantize=\"dynamic_int8\", backend=\"onnxruntime\"` uses it.")
    return f"""## Fast path
`{record['file']}` is the encoder exported to ONNX with dynamic int8 weights (ONNX Runtime); the heads run
in torch as in training. {verdict}

| dev metric | fp32 | int8 |
|---|---:|---:|
{rows}
"""
