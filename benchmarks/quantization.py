"""How close each dynamic-int8 recipe keeps the encoder to fp32, on the dev split (never realdev).

    python benchmarks/quantization.py --checkpoint runs/default/best [--config configs/default.yaml]

For each recipe (which of the encoder's matrix multiplies stay fp32): the mean total-variation distance
between its probabilities and fp32's per head (half the L1 distance, averaged over sentences: the
steadiest measure of fidelity), the share of labels that agree with fp32, the dev macro-F1 difference in
points (overall and per origin) and the file size. The default recipe is
``factattr.model.ort_backend.fp32_nodes``; speed is measured by ``make benchmark``.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
from pathlib import Path

import numpy as np

from factattr.config import load_config
from factattr.data.corpus import config_splits
from factattr.model.checkpoint import load_checkpoint
from factattr.model.inference import predict_probs
from factattr.model.ort_backend import (INT8_DISABLED_OPTIMIZERS, OrtClaimTagger, export_encoder, ffn_output_nodes,
                                        fp32_nodes, quantize_encoder)
from factattr.training.train import evaluate_split

REPO = Path(__file__).resolve().parents[1]


def recipes(fp32_file: Path) -> dict[str, list[str]]:
    ffn_out = ffn_output_nodes(fp32_file)
    return {"every multiply int8": [], "default: the first feed-forward output fp32": fp32_nodes(fp32_file),
            "the first three feed-forward outputs fp32": ffn_out[:3], "every feed-forward output fp32": ffn_out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--config", default=str(REPO / "configs" / "default.yaml"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    model, tokenizer, _ = load_checkpoint(args.checkpoint)
    dev = config_splits(load_config(args.config))["dev"]
    texts, spans = [a.text for a in dev], [a.spans for a in dev]
    reference = predict_probs(model, tokenizer, texts, spans)
    fp32_scores = evaluate_split(model, tokenizer, dev, 8)
    f1_keys = [k for k in fp32_scores if k.endswith("macro_f1")]
    print(f"dev: {len(dev)} articles, {sum(len(s) for s in spans)} sentences")
    print("| recipe | fp32 multiplies | size MB | " + " | ".join(f"{h} TV | {h} agree" for h in model.config.labels)
          + " | " + " | ".join(f"{k} (pts)" for k in f1_keys) + " |")
    with tempfile.TemporaryDirectory() as tmp:
        fp32_file = export_encoder(model, Path(tmp) / "fp32.onnx")
        for name, keep in recipes(fp32_file).items():
            file = quantize_encoder(fp32_file, Path(tmp) / f"int8-{len(keep)}.onnx", keep_fp32=keep)
            int8 = OrtClaimTagger(copy.deepcopy(model), file, args.threads, INT8_DISABLED_OPTIMIZERS)
            probs = predict_probs(int8, tokenizer, texts, spans, by_article=True)
            cells = []
            for head in model.config.labels:
                tv = np.concatenate([0.5 * np.abs(p[head] - r[head]).sum(-1) for p, r in zip(probs, reference)])
                agree = np.concatenate([p[head].argmax(-1) == r[head].argmax(-1) for p, r in zip(probs, reference)])
                cells += [f"{tv.mean():.4f}", f"{agree.mean():.3f}"]
            scores = evaluate_split(int8, tokenizer, dev, 8, by_article=True)
            cells += [f"{100 * (scores[k] - fp32_scores[k]):+.2f}" for k in f1_keys]
            print(f"| {name} | {len(keep)} | {file.stat().st_size / 1e6:.1f} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
