"""Scoring speed on a 2-core CPU: naive pipeline vs factattr (torch and ONNX Runtime, fp32 and int8), in one run.

    python benchmarks/speed.py --checkpoint runs/default/best [--data FILE ...] [--repeat N]

Each mode runs in its own process (so its peak memory is its own) on the same articles (default: the
checkpoint config's test split): load, warm up on one article, then time scoring every article
``--repeat`` times and keep the fastest pass (this shared 2-core machine's rates vary by up to 30%
between passes). The
naive baseline is what a user would write first: a `transformers` text-classification pipeline, called
one sentence at a time, with the same fine-tuned weights (encoder and both heads, one forward pass per
sentence, no neighbouring sentences). Prints sentences per second, peak resident memory, and each
mode's macro-F1 against the gold labels (model segmentation aligned to gold sentences).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

# mode -> (backend, quantize) of the factattr Tagger; the first mode is the naive baseline.
MODES = {"naive_pipeline": None,
         "factattr_torch_fp32": ("torch", "none"), "factattr_torch_int8": ("torch", "dynamic_int8"),
         "factattr_onnx_fp32": ("onnxruntime", "none"), "factattr_onnx_int8": ("onnxruntime", "dynamic_int8")}


def _articles(checkpoint: str, data: list[str] | None) -> list[dict]:
    from factattr.config import config_from_yaml_text
    from factattr.data.corpus import config_splits, read_corpus

    config = config_from_yaml_text((Path(checkpoint) / "train_config.yaml").read_text(), checkpoint)
    if data:
        return read_corpus(data, {h: config.label_names(h) for h in ("source", "claim_type")}, repairs=[])
    return config_splits(config)["test"]


def _naive(checkpoint: str, threads: int):
    """A text-classification pipeline over the fine-tuned weights: one sentence per call."""
    import torch
    from transformers import PreTrainedModel, logging as hf_logging, pipeline
    from transformers.modeling_outputs import SequenceClassifierOutput

    from factattr.model.checkpoint import load_checkpoint

    hf_logging.set_verbosity_error()
    torch.set_num_threads(threads)
    model, tokenizer, _ = load_checkpoint(checkpoint)
    labels = [f"source={l}" for l in model.config.source_labels] + [f"claim_type={l}" for l in model.config.claim_labels]

    class BothHeads(PreTrainedModel):
        config_class = type(model.encoder.config)

        def __init__(self, config):
            super().__init__(config)
            self.tagger = model

        def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, **_):
            target = torch.where(attention_mask.bool(), 0, -1)
            target[:, 0] = -1  # the sentence's own tokens, as factattr pools them
            target[torch.arange(len(target)), attention_mask.sum(1) - 1] = -1
            out = self.tagger(input_ids, attention_mask, target, 1)
            return SequenceClassifierOutput(logits=torch.cat([out.source_logits, out.claim_logits], dim=-1))

    config = model.encoder.config.__class__(**model.encoder.config.to_dict())
    config.id2label = dict(enumerate(labels))
    config.label2id = {l: i for i, l in enumerate(labels)}
    wrapped = BothHeads(config).eval()
    classify = pipeline("text-classification", model=wrapped, tokenizer=tokenizer, device=-1)
    source_labels, claim_labels = model.config.source_labels, model.config.claim_labels

    def score(text: str, spans):
        out = []
        for start, end in spans:
            scores = {d["label"]: d["score"] for d in classify(text[start:end], top_k=None, function_to_apply="none",
                                                               truncation=True)}
            s = max(source_labels, key=lambda l: scores[f"source={l}"])
            c = max(claim_labels, key=lambda l: scores[f"claim_type={l}"])
            out.append((start, end, s, c))
        return out

    return score


def run_mode(mode: str, checkpoint: str, data: list[str] | None, threads: int, repeat: int) -> dict:
    import torch

    from factattr.data.segment import segment
    from factattr.eval.align import align
    from factattr.eval.metrics import macro_f1
    from factattr.model.tagger import Tagger

    articles = _articles(checkpoint, data)
    texts = [a["text"] for a in articles]
    if mode == "naive_pipeline":
        naive = _naive(checkpoint, threads)

        def run(batch: list[str]) -> list:
            return [naive(t, segment(t)) for t in batch]
    else:
        backend, quantize = MODES[mode]
        tagger = Tagger.load(checkpoint, backend=backend, quantize=quantize, threads=threads)

        def run(batch: list[str]) -> list:
            return [[(s.start, s.end, s.source, s.claim_type) for s in r.sentences]
                    for r in tagger.score_many(batch, batch_size=32)]
    torch.set_num_threads(threads)
    with torch.inference_mode():
        run(texts[:1])  # warm-up
        passes = []
        for _ in range(repeat):
            started = time.perf_counter()
            predicted = run(texts)
            passes.append(time.perf_counter() - started)
        seconds = min(passes)  # as timeit does: the fastest pass is the least disturbed by other load
    n_sentences = sum(len(p) for p in predicted)
    gold = {h: [] for h in ("source", "claim_type")}
    pred = {h: [] for h in ("source", "claim_type")}
    for article, sentences in zip(articles, predicted):
        alignment = align(article["text"], [(s["start"], s["end"]) for s in article["sentences"]],
                          [(s, e) for s, e, _, _ in sentences])
        for g, k in enumerate(alignment.gold_to_pred):
            if k is not None:
                for h, col in (("source", 2), ("claim_type", 3)):
                    gold[h].append(article["sentences"][g][h])
                    pred[h].append(sentences[k][col])
    label_sets = {h: sorted(set(gold[h]) | set(pred[h])) for h in gold}
    return {"mode": mode, "articles": len(texts), "sentences": n_sentences, "seconds": seconds,
            "sentences_per_s": n_sentences / seconds,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "source_macro_f1": macro_f1(gold["source"], pred["source"], label_sets["source"]),
            "claim_type_macro_f1": macro_f1(gold["claim_type"], pred["claim_type"], label_sets["claim_type"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="runs/default/best")
    parser.add_argument("--data", nargs="+", help="corpus-format files (default: the test split)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the articles; the fastest counts")
    parser.add_argument("--mode", choices=list(MODES), help=argparse.SUPPRESS)  # internal: one mode in this process
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(run_mode(args.mode, args.checkpoint, args.data, args.threads, args.repeat)))
        return
    # Export the ONNX encoders into the cache first, so each timed process measures scoring, not export.
    prepare = ("from factattr.model.tagger import Tagger\n"
               f"for q in ('none', 'dynamic_int8'): Tagger.load({args.checkpoint!r}, backend='onnxruntime', quantize=q)")
    subprocess.run([sys.executable, "-c", prepare], check=True)
    rows = []
    for mode in MODES:
        cmd = [sys.executable, __file__, "--mode", mode, "--checkpoint", args.checkpoint, "--threads", str(args.threads),
               "--repeat", str(args.repeat)] + (["--data", *args.data] if args.data else [])
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"{mode} failed:\n{done.stderr}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"  {mode}: done", file=sys.stderr)
    base = rows[0]["sentences_per_s"]
    print(f"{rows[0]['articles']} articles, {rows[0]['sentences']} sentences, {args.threads} threads\n")
    print(f"| mode | sentences/s | speed-up | peak memory (MB) | source macro-F1 | claim_type macro-F1 |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['mode']} | {r['sentences_per_s']:.1f} | {r['sentences_per_s'] / base:.2f}x | {r['peak_rss_mb']:.0f} | "
              f"{r['source_macro_f1']:.3f} | {r['claim_type_macro_f1']:.3f} |")
    by_mode = {r["mode"]: r for r in rows}
    for backend in ("torch", "onnx"):
        fp32, int8 = by_mode[f"factattr_{backend}_fp32"], by_mode[f"factattr_{backend}_int8"]
        print(f"\n{backend} int8 vs fp32 macro-F1: source "
              f"{100 * (int8['source_macro_f1'] - fp32['source_macro_f1']):+.1f} points, claim_type "
              f"{100 * (int8['claim_type_macro_f1'] - fp32['claim_type_macro_f1']):+.1f} points", end="")
    print()


if __name__ == "__main__":
    main()
