"""Scoring speed on a 2-core CPU: naive pipeline vs factattr (torch and ONNX Runtime, fp32 and int8), in one run.

    python benchmarks/speed.py --checkpoint runs/default/best [--data FILE ...] [--repeat N]

Each mode runs in its own process (so its peak memory is its own) on the same articles (default: the
checkpoint config's test split), loaded and warmed up on one article. Then the modes take turns: in each
of ``--repeat`` rounds every mode times one pass over all the articles, so all modes are timed under the
same load, and each mode's fastest pass counts (this shared 2-core machine's rates vary by up to 30%
between passes). The table also gives the range of each mode's speed-up within a round.

The naive baseline is what a user would write first: a `transformers` text-classification pipeline,
called one sentence at a time, with the same fine-tuned weights (encoder and every head, one forward pass
per sentence, no neighbouring sentences). Prints sentences per second, peak resident memory, and each
mode's macro-F1 against the gold labels (model segmentation aligned to gold sentences).

Last, the fp32 ceiling: the encoder work per sentence of each path, counted from the actual padded
forward passes, over the fastest fp32 matrix multiply this machine runs, which bounds any fp32 speed-up.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path

# mode -> (backend, quantize) of the factattr Tagger; the first mode is the naive baseline.
MODES = {"naive_pipeline": None,
         "factattr_default": (None, None),     # Tagger.load(checkpoint): the checkpoint's own fast path when it has one
         "factattr_torch_fp32": ("torch", "none"), "factattr_torch_int8": ("torch", "dynamic_int8"),
         "factattr_onnx_fp32": ("onnxruntime", "none"), "factattr_onnx_int8": ("onnxruntime", "dynamic_int8")}


def _articles(checkpoint: str, data: list[str] | None) -> list:
    from factattr.data.corpus import config_splits, read_corpus
    from factattr.model.checkpoint import read_checkpoint_config

    config = read_checkpoint_config(checkpoint)
    if data:
        return read_corpus(data, config.labels.label_lists(), repairs=[])
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
    heads = model.config.labels
    labels = [f"{head}={label}" for head, names in heads.items() for label in names]

    class AllHeads(PreTrainedModel):
        config_class = type(model.encoder.config)

        def __init__(self, config):
            super().__init__(config)
            self.tagger = model

        def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, **_):
            target = torch.where(attention_mask.bool(), 0, -1)
            target[:, 0] = -1  # the sentence's own tokens, as factattr pools them
            target[torch.arange(len(target)), attention_mask.sum(1) - 1] = -1
            out = self.tagger(input_ids, attention_mask, target, 1)
            return SequenceClassifierOutput(logits=torch.cat(list(out.logits.values()), dim=-1))

    config = model.encoder.config.__class__(**model.encoder.config.to_dict())
    config.id2label = dict(enumerate(labels))
    config.label2id = {l: i for i, l in enumerate(labels)}
    wrapped = AllHeads(config).eval()
    classify = pipeline("text-classification", model=wrapped, tokenizer=tokenizer, device=-1)

    def score(text: str, spans):
        out = []
        for start, end in spans:
            scores = {d["label"]: d["score"] for d in classify(text[start:end], top_k=None, function_to_apply="none",
                                                               truncation=True)}
            out.append((start, end, {head: max(names, key=lambda l: scores[f"{head}={l}"]) for head, names in heads.items()}))
        return out

    return score


def serve_mode(mode: str, checkpoint: str, data: list[str] | None, threads: int) -> None:
    """One mode in this process: load and warm up, print ``ready``; then time one pass over the articles
    each time the parent writes ``pass`` (printing its seconds), and on ``finish`` print the mode's row:
    its fastest pass, peak memory and macro-F1."""
    import torch

    from factattr.data.segment import segment
    from factattr.model.tagger import Tagger

    articles = _articles(checkpoint, data)
    texts = [a.text for a in articles]
    if mode == "naive_pipeline":
        naive = _naive(checkpoint, threads)

        def run(batch: list[str]) -> list:
            return [naive(t, segment(t)) for t in batch]
    else:
        backend, quantize = MODES[mode]
        tagger = Tagger.load(checkpoint, backend=backend, quantize=quantize, threads=threads)

        def run(batch: list[str]) -> list:
            return [[(s.start, s.end, s.labels) for s in r.sentences] for r in tagger.score_many(batch)]
    torch.set_num_threads(threads)
    with torch.inference_mode():
        predicted = run(texts[:1])  # warm-up
        print("ready", flush=True)
        passes = []
        for command in sys.stdin:
            if command.strip() != "pass":
                break
            timer = timeit.Timer(lambda: predicted.__setitem__(slice(None), run(texts)))
            passes.append(timer.timeit(number=1))
            print(json.dumps({"seconds": passes[-1]}), flush=True)
    seconds = min(passes)  # as timeit.repeat advises: the fastest pass is the least disturbed by other load
    print(json.dumps({"mode": mode, "articles": len(texts), "sentences": sum(len(p) for p in predicted),
                      "seconds": seconds, "passes": passes,
                      "sentences_per_s": sum(len(p) for p in predicted) / seconds,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "macro_f1": _macro_f1(articles, predicted)}), flush=True)


def _macro_f1(articles: list, predicted: list) -> dict[str, float]:
    """Each head's macro-F1 of the predicted sentences aligned to the gold ones."""
    from factattr.eval.align import align
    from factattr.eval.metrics import macro_f1

    gold: dict[str, list] = {}
    pred: dict[str, list] = {}
    for article, sentences in zip(articles, predicted):
        alignment = align(article.text, article.spans, [(s, e) for s, e, _ in sentences])
        for g, k in enumerate(alignment.gold_to_pred):
            if k is not None:
                for head, label in article.sentences[g].labels.items():
                    gold.setdefault(head, []).append(label)
                    pred.setdefault(head, []).append(sentences[k][2][head])
    return {h: macro_f1(gold[h], pred[h], sorted(set(gold[h]) | set(pred[h]))) for h in gold}


def _mode_command(mode: str, args: argparse.Namespace) -> list[str]:
    """This script, run for one internal mode with the parent's checkpoint, threads and data."""
    return [sys.executable, __file__, "--mode", mode, "--checkpoint", args.checkpoint,
            "--threads", str(args.threads)] + (["--data", *args.data] if args.data else [])


class _ModeProcess:
    """A mode served by its own process (so its peak memory is its own), driven line by line."""

    def __init__(self, mode: str, args: argparse.Namespace, log_dir: Path):
        self.mode = mode
        self.log = (log_dir / f"{mode}.stderr").open("w+")
        self.proc = subprocess.Popen(_mode_command(mode, args), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.expect(lambda line: line == "ready")

    def expect(self, accept) -> str:
        for line in self.proc.stdout:  # libraries may print other lines first
            if accept(line.strip()):
                return line.strip()
        self.proc.wait()
        self.log.seek(0)
        sys.exit(f"{self.mode} failed:\n{self.log.read()}")

    def send(self, command: str) -> dict:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return json.loads(self.expect(lambda line: line.startswith("{")))


def _encoder_gflop(shapes: list[tuple[int, int]], layers: int, hidden: int, intermediate: int) -> float:
    """Encoder GFLOP for forward passes of (batch, tokens) shapes: its matrix multiplies only (the
    projections, the feed-forward layers and attention's two products), so it is a lower bound on the work."""
    flops = 0
    for batch, tokens in shapes:
        linear = 2 * batch * tokens * (4 * hidden * hidden + 2 * hidden * intermediate)
        attention = 4 * batch * tokens * tokens * hidden
        flops += layers * (linear + attention)
    return flops / 1e9


def _best_matmul_gflops(hidden: int, intermediate: int, tokens: int, threads: int) -> tuple[float, str]:
    """The fastest fp32 matrix multiply this machine runs at the encoder's feed-forward shape, in torch
    and in ONNX Runtime, best of 20 calls each: no fp32 implementation of the model can beat it."""
    import numpy as np
    import onnxruntime as ort
    import torch
    from onnx import TensorProto, helper, numpy_helper

    torch.set_num_threads(threads)
    x = np.random.default_rng(0).standard_normal((tokens, hidden), dtype=np.float32)
    w = np.random.default_rng(1).standard_normal((hidden, intermediate), dtype=np.float32)
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "matmul",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, hidden])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, intermediate])],
                              [numpy_helper.from_array(w, "w")])
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = ort.InferenceSession(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString(),
                                   options, providers=["CPUExecutionProvider"])
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)
    rates = {}
    for engine, call in (("torch", lambda: xt @ wt), ("onnxruntime", lambda: session.run(None, {"x": x}))):
        call()
        best = min(timeit.repeat(call, number=1, repeat=20))
        rates[engine] = 2 * tokens * hidden * intermediate / best / 1e9
    engine = max(rates, key=rates.get)
    return rates[engine], engine


def fp32_ceiling(checkpoint: str, data: list[str] | None, threads: int) -> dict:
    """How fast fp32 scoring could possibly be here: the encoder work each path needs per sentence,
    over the machine's best fp32 matrix-multiply rate."""
    from factattr.data.segment import segment
    from factattr.model.checkpoint import load_checkpoint
    from factattr.model.inference import encode_articles, length_batches
    from factattr.model.tagger import ARTICLES_PER_GROUP

    model, tokenizer, config = load_checkpoint(checkpoint)
    texts = [a.text for a in _articles(checkpoint, data)]
    spans = [segment(t) for t in texts]
    n_sentences = sum(len(s) for s in spans)
    # The naive pipeline: one sequence per sentence, with [CLS] and [SEP].
    naive = [(1, len(ids)) for t, article in zip(texts, spans) for ids in
             tokenizer([t[a:b] for a, b in article], truncation=True)["input_ids"]]
    # factattr: the forward passes Tagger.score_many runs, each padded to its longest window.
    shapes = []
    for first in range(0, len(texts), ARTICLES_PER_GROUP):
        windows = encode_articles(tokenizer, model, texts[first:first + ARTICLES_PER_GROUP],
                                  spans[first:first + ARTICLES_PER_GROUP])
        shapes += [(len(members), max(len(windows[i]) for i in members))
                   for members in length_batches(windows, config.inference.windows_per_pass)]
    enc = model.encoder.config
    dims = (enc.num_hidden_layers, enc.hidden_size, enc.intermediate_size)
    peak, engine = _best_matmul_gflops(enc.hidden_size, enc.intermediate_size, 4096, threads)
    factattr = _encoder_gflop(shapes, *dims) / n_sentences
    return {"mode": "fp32_ceiling", "naive_gflop_per_sentence": _encoder_gflop(naive, *dims) / n_sentences,
            "factattr_gflop_per_sentence": factattr, "peak_gflops": peak, "peak_engine": engine,
            "ceiling_sentences_per_s": peak / factattr}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="runs/default/best")
    parser.add_argument("--data", nargs="+", help="corpus-format files (default: the test split)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5,
                        help="rounds: each mode times one pass over the articles per round; its fastest counts")
    parser.add_argument("--mode", choices=[*MODES, "fp32_ceiling"], help=argparse.SUPPRESS)  # internal: one per process
    args = parser.parse_args()
    if args.mode == "fp32_ceiling":
        print(json.dumps(fp32_ceiling(args.checkpoint, args.data, args.threads)))
        return
    if args.mode:
        serve_mode(args.mode, args.checkpoint, args.data, args.threads)
        return
    # Export the ONNX encoders into the cache first, so each timed process measures scoring, not export.
    prepare = ("from factattr.model.tagger import Tagger\n"
               f"for q in ('none', 'dynamic_int8'): Tagger.load({args.checkpoint!r}, backend='onnxruntime', quantize=q)")
    subprocess.run([sys.executable, "-c", prepare], check=True)
    ceiling = subprocess.run(_mode_command("fp32_ceiling", args), capture_output=True, text=True)
    if ceiling.returncode:
        sys.exit(f"fp32_ceiling failed:\n{ceiling.stderr}")
    ceiling = json.loads(ceiling.stdout.strip().splitlines()[-1])
    # All modes stay loaded and take turns, one pass each per round (the order rotating), so every mode
    # is timed under the same load: on a shared machine, timing modes one after another skews ratios.
    with tempfile.TemporaryDirectory() as logs:
        procs = [_ModeProcess(mode, args, Path(logs)) for mode in MODES]
        for round_ in range(args.repeat):
            for p in procs[round_ % len(procs):] + procs[:round_ % len(procs)]:
                p.send("pass")
            print(f"  round {round_ + 1}/{args.repeat}: done", file=sys.stderr)
        rows = [p.send("finish") for p in procs]
        for p in procs:
            p.proc.wait()
    print(f"{rows[0]['articles']} articles, {rows[0]['sentences']} sentences, {args.threads} threads, "
          f"{args.repeat} rounds\n")
    _print_table(rows)
    _print_ceiling(ceiling, {r["mode"]: r for r in rows}, args.threads)


def _print_table(rows: list[dict]) -> None:
    base, naive_passes, heads = rows[0]["sentences_per_s"], rows[0]["passes"], list(rows[0]["macro_f1"])
    print("| mode | sentences/s | speed-up | speed-up within a round (min-max) | peak memory (MB) | "
          + " | ".join(f"{h} macro-F1" for h in heads) + " |")
    print("|---|---:|---:|---:|---:|" + "---:|" * len(heads))
    for r in rows:
        within = [n / t for n, t in zip(naive_passes, r["passes"])]
        print(f"| {r['mode']} | {r['sentences_per_s']:.1f} | {r['sentences_per_s'] / base:.2f}x | "
              f"{min(within):.2f}-{max(within):.2f}x | {r['peak_rss_mb']:.0f} | "
              + " | ".join(f"{r['macro_f1'][h]:.3f}" for h in heads) + " |")
    by_mode = {r["mode"]: r for r in rows}
    for backend in ("torch", "onnx"):
        fp32, int8 = by_mode[f"factattr_{backend}_fp32"], by_mode[f"factattr_{backend}_int8"]
        print(f"\n{backend} int8 vs fp32 macro-F1: " + ", ".join(
            f"{h} {100 * (int8['macro_f1'][h] - fp32['macro_f1'][h]):+.1f} points" for h in heads), end="")
    print("\n")


def _print_ceiling(c: dict, by_mode: dict, threads: int) -> None:
    naive, limit = by_mode["naive_pipeline"], c["ceiling_sentences_per_s"]
    print(f"fp32 ceiling: the encoder's matrix multiplies come to {c['factattr_gflop_per_sentence']:.3f} GFLOP a sentence "
          f"for factattr (each sentence read with its neighbours) and {c['naive_gflop_per_sentence']:.3f} for the naive "
          f"pipeline (the sentence alone). The fastest fp32 matrix multiply on this machine runs at "
          f"{c['peak_gflops']:.0f} GFLOP/s ({c['peak_engine']}, {threads} threads), so no fp32 implementation of this "
          f"model exceeds {limit:.0f} sentences/s: {limit / naive['sentences_per_s']:.2f}x the naive pipeline as "
          f"measured in this run.")
    shares = [f"{mode} {by_mode[mode]['sentences_per_s'] / limit:.0%}" for mode in ("factattr_torch_fp32", "factattr_onnx_fp32")]
    naive_share = naive["sentences_per_s"] * c["naive_gflop_per_sentence"] / c["peak_gflops"]
    print(f"Share of that ceiling reached: {', '.join(shares)}; the naive pipeline runs its own work at "
          f"{naive_share:.0%} of the peak rate.")


if __name__ == "__main__":
    main()
