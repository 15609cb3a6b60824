"""Corpus-scale scoring: throughput and peak memory of `factattr score INPUT --out OUTPUT`, in one run.

    python benchmarks/batch.py --checkpoint runs/default/best [--articles 60] [--engines naive,local,ray]
    python benchmarks/batch.py --checkpoint runs/default/best --memory 200,20000

Input: the project's written corpus (data/corpus.jsonl), repeated under new ids to the size asked for.
The checkpoint is used as is when it holds the int8 ONNX encoder training writes; an older one is
copied to --work and the encoder added there (factattr.training.fastpath), the original left untouched.

Speed: each engine runs in its own process on the same articles, as the user would run it:
  - naive: a `transformers` text-classification pipeline, one sentence per call (benchmarks/speed.py);
  - local: the batch path in one process (Tagger.load's default: the int8 encoder);
  - ray: the same through Ray local mode, --concurrency actors of 1 thread each (the CPUs split among them).
Each prints sentences per second (load excluded) and the peak resident memory of its whole process tree
(Ray's actors and daemons included), sampled from /proc.

Memory: the local batch path scores inputs of each size in a fresh process; flat memory means the
largest input's peak is within 10% of the smallest's.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "data" / "corpus.jsonl"


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (Linux /proc), in MB."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(l for l in status.splitlines() if l.startswith("VmRSS:")).split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total / 1024


class PeakSampler(threading.Thread):
    """Samples this process tree's resident memory every 50 ms; ``peak`` is the largest sum seen."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.running = 0.0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, tree_rss_mb(os.getpid()))
            time.sleep(0.05)

    def stop(self) -> float:
        self.running = False
        self.join()
        return max(self.peak, tree_rss_mb(os.getpid()))


def write_input(path: Path, n: int) -> Path:
    """``n`` articles of the written corpus, repeated under new ids (``copy-k/original-id``)."""
    texts = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            article = texts[i % len(texts)]
            handle.write(json.dumps({"id": f"copy-{i // len(texts)}/{article['id']}", "text": article["text"]},
                                    ensure_ascii=False) + "\n")
    return path


def prepare_checkpoint(checkpoint: str, work: Path) -> str:
    """The checkpoint itself if it holds the int8 encoder; else a copy under ``work`` with it added."""
    from factattr.model.fastpath import FAST_PATH_FILE

    if (Path(checkpoint) / FAST_PATH_FILE).is_file():
        return checkpoint
    copy = work / "checkpoint"
    if not (copy / FAST_PATH_FILE).is_file():
        from factattr.data.corpus import config_splits
        from factattr.model.checkpoint import read_checkpoint_config
        from factattr.training.fastpath import add_fast_path

        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(checkpoint, copy)
        config = read_checkpoint_config(copy)
        record = add_fast_path(copy, config_splits(config)["dev"], config.evaluation.windows_per_pass,
                               config.inference.threads)
        print(f"added the int8 encoder to a copy: {copy} (dev fp32 {record['dev_fp32']}, int8 {record['dev_int8']}, "
              f"default: {record['default']})", file=sys.stderr)
    return str(copy)


def run_engine(engine: str, checkpoint: str, source: Path, out: Path, threads: int, concurrency: int) -> dict:
    """One engine over the input in this process; its figures as a dict."""
    sampler = PeakSampler()
    sampler.start()
    if engine == "naive":
        spec = importlib.util.spec_from_file_location("speed", REPO / "benchmarks" / "speed.py")
        speed = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(speed)
        from factattr.data.segment import segment

        naive = speed._naive(checkpoint, threads)
        texts = [json.loads(line)["text"] for line in source.read_text(encoding="utf-8").splitlines()]
        started = time.perf_counter()
        sentences = sum(len(naive(t, segment(t))) for t in texts)
        seconds = time.perf_counter() - started
    elif engine == "local":
        from factattr.batch import score_file
        from factattr.model.tagger import Tagger

        tagger = Tagger.load(checkpoint, threads=threads)
        started = time.perf_counter()
        summary = score_file(tagger, source, out, progress=False, overwrite=True)
        seconds, sentences = time.perf_counter() - started, summary.sentences
    else:
        import ray

        from factattr.distributed import score_path

        ray.init(num_cpus=threads, include_dashboard=False, logging_level="ERROR")
        started = time.perf_counter()  # includes the actors' loading: a Ray job pays it once per actor
        summary = score_path(str(source), str(out), checkpoint, concurrency=concurrency, progress=False, overwrite=True)
        seconds, sentences = time.perf_counter() - started, summary.sentences
    return {"engine": engine, "sentences": sentences, "seconds": seconds, "sentences_per_s": sentences / seconds,
            "peak_tree_rss_mb": sampler.stop()}


def _child(args: argparse.Namespace, engine: str, source: Path, out: Path) -> dict:
    command = [sys.executable, __file__, "--engine-run", engine, "--checkpoint", args.checkpoint, "--input", str(source),
               "--out", str(out), "--threads", str(args.threads), "--concurrency", str(args.concurrency)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{engine} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def speed(args: argparse.Namespace, work: Path) -> None:
    source = write_input(work / f"speed-{args.articles}.jsonl", args.articles)
    rows = [_child(args, engine, source, work / f"out-{engine}.jsonl") for engine in args.engines.split(",")]
    base = next((r["sentences_per_s"] for r in rows if r["engine"] == "naive"), None)
    print(f"{args.articles} articles of data/corpus.jsonl, {rows[0]['sentences']} sentences, {args.threads} CPUs "
          f"(ray: {args.concurrency} actors)\n")
    print("| engine | sentences/s | vs naive | peak memory, process tree (MB) |")
    print("|---|---:|---:|---:|")
    for r in rows:
        ratio = f"{r['sentences_per_s'] / base:.2f}x" if base else "-"
        print(f"| {r['engine']} | {r['sentences_per_s']:.1f} | {ratio} | {r['peak_tree_rss_mb']:.0f} |")


def memory(args: argparse.Namespace, work: Path) -> None:
    sizes = [int(n) for n in args.memory.split(",")]
    rows = []
    for n in sizes:
        source = write_input(work / f"memory-{n}.jsonl", n)
        row = _child(args, "local", source, work / f"memory-{n}.out.jsonl")
        rows.append({"articles": n, **row})
        print(f"  {n} articles: {row['sentences']} sentences in {row['seconds']:.0f} s, "
              f"peak {row['peak_tree_rss_mb']:.0f} MB", file=sys.stderr, flush=True)
    print("| articles | sentences | seconds | sentences/s | peak memory (MB) | vs smallest input |")
    print("|---:|---:|---:|---:|---:|---:|")
    first = rows[0]["peak_tree_rss_mb"]
    for r in rows:
        print(f"| {r['articles']} | {r['sentences']} | {r['seconds']:.0f} | {r['sentences_per_s']:.1f} | "
              f"{r['peak_tree_rss_mb']:.0f} | {100 * (r['peak_tree_rss_mb'] / first - 1):+.1f}% |")
    worst = max(r["peak_tree_rss_mb"] for r in rows) / first - 1
    print(f"\nflat memory (largest peak within 10% of the smallest input's): {'yes' if worst <= 0.10 else 'NO'} "
          f"({100 * worst:+.1f}%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="runs/default/best")
    parser.add_argument("--articles", type=int, default=60, help="speed: articles scored by each engine")
    parser.add_argument("--engines", default="naive,local,ray")
    parser.add_argument("--memory", metavar="N,N,...", help="instead of speed: peak memory for inputs of these sizes")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--work", help="folder for inputs, outputs and a checkpoint copy (default: a temporary one)")
    parser.add_argument("--engine-run", help=argparse.SUPPRESS)  # internal: one engine per process
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine_run:
        print(json.dumps(run_engine(args.engine_run, args.checkpoint, Path(args.input), Path(args.out), args.threads,
                                    args.concurrency)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        args.checkpoint = prepare_checkpoint(args.checkpoint, work)
        memory(args, work) if args.memory else speed(args, work)


if __name__ == "__main__":
    main()
