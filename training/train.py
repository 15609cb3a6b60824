"""``factattr train CONFIG``: fine-tune the encoder and both heads, keep the best dev checkpoint.

Reads top to bottom: seed, data, model, optimizer and schedule, loop (train, evaluate, save), result.
Run directory: ``metrics.jsonl`` (a line per logged step and per epoch), ``config.yaml``, ``last/`` (the
latest epoch, with ``resume.pt``) and ``best/`` (the best epoch by the mean of the heads' macro-F1,
with the int8 ONNX encoder written into it at the end: ``factattr.training.fastpath``).
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from factattr.config import Config, config_to_yaml
from factattr.data.corpus import iter_lines, load_data
from factattr.errors import ConfigError
from factattr.eval.metrics import macro_f1
from factattr.model.checkpoint import (atomic_directory, build_model, load_checkpoint, recover_directory,
                                       save_checkpoint)
from factattr.model.inference import encode_articles, predict_probs
from factattr.model.windows import collate

from .augment import maybe_scrape
from .calibrate import calibrate_checkpoint
from .fastpath import add_fast_path

log = logging.getLogger("factattr.train")
HEADS = ("source", "claim_type")


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def class_weights(labels: list[int], n: int, mode: str) -> torch.Tensor:
    """Inverse-frequency weights ('balanced'), their square root ('sqrt'), or ones ('none')."""
    if mode == "none":
        return torch.ones(n)
    counts = np.bincount(labels, minlength=n).astype(float)
    weights = np.where(counts > 0, len(labels) / (n * np.maximum(counts, 1)), 0.0)
    if mode == "sqrt":
        weights = np.sqrt(weights)
    return torch.tensor(weights / weights[counts > 0].mean(), dtype=torch.float)


def evaluate_split(model, tokenizer, articles: list[dict], batch_size: int, by_article: bool = False) -> dict:
    """Macro-F1 and accuracy of both heads on gold sentences, overall and per data origin (``real_...``,
    ``written_...``), and the overall mean macro-F1 (the model-selection score). ``by_article``: as
    :func:`~factattr.model.inference.predict_probs` (needed by a dynamically quantised model)."""
    texts = [a["text"] for a in articles]
    spans = [[(s["start"], s["end"]) for s in a["sentences"]] for a in articles]
    probs = predict_probs(model, tokenizer, texts, spans, batch_size, by_article=by_article)
    origins = sorted({a.get("origin") or "" for a in articles} - {""})
    groups = {"": None, **{f"{o}_": o for o in origins}} if len(origins) > 1 else {"": None}
    metrics = {}
    for h, (head, labels) in enumerate((("source", model.config.source_labels), ("claim_type", model.config.claim_labels))):
        for prefix, origin in groups.items():
            keep = [i for i, a in enumerate(articles) if origin is None or a.get("origin") == origin]
            gold = [s[head] for i in keep for s in articles[i]["sentences"]]
            pred = [labels[int(k)] for i in keep for k in probs[i][h].argmax(-1)] if probs else []
            metrics[f"{prefix}{head}_macro_f1"] = macro_f1(gold, pred, labels)
            metrics[f"{prefix}{head}_accuracy"] = float(np.mean([g == p for g, p in zip(gold, pred)])) if gold else 0.0
    metrics["score"] = (metrics["source_macro_f1"] + metrics["claim_type_macro_f1"]) / 2
    return metrics


def sentence_targets(articles: list[dict], label_ids: dict[str, dict[str, int]], soft: bool) -> dict:
    """``(article, sentence) -> (source target, claim_type target)``: label indices, or with ``soft`` a
    probability row per head: the sentence's own soft labels where it has them, one-hot otherwise."""
    targets = {}
    for ai, article in enumerate(articles):
        for si, sentence in enumerate(article["sentences"]):
            pair = []
            for head in HEADS:
                index = label_ids[head][sentence[head]]
                if not soft:
                    pair.append(index)
                elif "probs" in sentence:
                    pair.append([float(p) for p in sentence["probs"][head]])
                else:
                    pair.append([float(i == index) for i in range(len(label_ids[head]))])
            targets[(ai, si)] = tuple(pair)
    return targets


def epoch_articles(articles: list[dict], weights: dict[str, float], rng: random.Random) -> list[dict]:
    """An epoch's training articles under the data sources' sampling weights: each article floor(w) times,
    and once more with probability frac(w). All weights 1 gives the articles as they are (no draw)."""
    if all(weights.get(a.get("origin"), 1.0) == 1.0 for a in articles):
        return list(articles)
    out = []
    for article in articles:
        weight = weights.get(article.get("origin"), 1.0)
        copies = int(weight) + (rng.random() < weight - int(weight))
        out += [article] * copies
    return out


def _is_run(path: Path) -> bool:
    """True if ``path`` holds a factattr run: its resolved config plus a metrics log or a checkpoint."""
    return (path / "config.yaml").is_file() and any((path / name).exists() for name in ("metrics.jsonl", "last", "best"))


def _check_output(config: Config, resume: bool, overwrite: bool) -> Path:
    """Refuse an output_dir that cannot be used, before anything is read or deleted."""
    out = Path(config.output_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"output_dir {str(out)!r} is a file; set output_dir to a directory")
    if resume:
        recover_directory(out / "last")
        if not (out / "last" / "resume.pt").is_file():
            raise ConfigError(f"--resume: {out / 'last'} holds no resumable checkpoint; train without --resume first")
        return out
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise ConfigError(f"output_dir {str(out)!r} already exists and is not empty; use --overwrite to "
                              "replace it or --resume to continue it")
        if not _is_run(out):
            raise ConfigError(f"output_dir {str(out)!r} is not empty and is not a factattr run (no config.yaml with "
                              "metrics.jsonl, last/ or best/), so --overwrite will not delete it; choose another "
                              "output_dir, or empty it yourself")
    return out


def _prepare_output(out: Path, resume: bool) -> None:
    """Empty a previous run's directory (checked by :func:`_check_output`); called once the data is valid."""
    if not resume and out.exists() and any(out.iterdir()):
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def _resume_log(out: Path, step: int) -> None:
    """Cut ``metrics.jsonl`` back to the resumed checkpoint's step, so records of the steps that are run
    again appear once, as in an uninterrupted run (a torn last line is dropped too)."""
    path = out / "metrics.jsonl"
    if not path.is_file():
        return
    keep = []
    for _, line in iter_lines(path):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and record.get("step", 0) <= step:
            keep.append(line if line.endswith("\n") else line + "\n")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(keep), encoding="utf-8")
    os.replace(tmp, path)


def train(config: Config, *, resume: bool = False, overwrite: bool = False, progress: bool = True) -> Path:
    """Train from a validated config and return the path of the best checkpoint.

    A previous run in ``output_dir`` is deleted with ``overwrite`` only after the data is read and
    valid, and only if the directory holds a factattr run.

    Raises:
        ConfigError: the output directory is not empty (without ``overwrite``), is not a factattr run (with
            ``overwrite``), or has nothing to resume.
        CorpusError: the corpus breaks the format or uses labels missing from the schema.
    """
    tc = config.training
    set_seed(tc.seed)
    torch.set_num_threads(tc.threads)
    out = _check_output(config, resume, overwrite)

    # Data: article-level splits; windows are shuffled each epoch (and rebuilt when augmenting).
    data = load_data(config)
    weights = {source.name: source.weight for source in config.data.sources}
    train_articles = [a for a in data.splits["train"] if weights[a["origin"]] > 0]
    if tc.limit:
        train_articles = train_articles[: tc.limit]
    dev_articles = data.splits["dev"]
    if not train_articles or not dev_articles:
        raise ConfigError(f"the corpus split gives {len(train_articles)} training and {len(dev_articles)} dev "
                          "articles; both must be non-empty (check data.sources and the split fractions; articles split by "
                          "same-event cluster, so alike undated articles fall together: give dates or raise "
                          "data.event_similarity)")
    # Only now, with the data known to be good, is a previous run replaced.
    _prepare_output(out, resume)
    (out / "config.yaml").write_text(config_to_yaml(config), encoding="utf-8")

    # Model: fresh, or the last checkpoint when resuming.
    model, tokenizer = build_model(config)
    label_ids = {h: {name: i for i, name in enumerate(config.label_names(h))} for h in HEADS}
    first_epoch = epoch_articles(train_articles, weights, random.Random(tc.seed))
    windows = encode_articles(tokenizer, model, *maybe_scrape(first_epoch, 0.0, random.Random(0)))
    all_gold = [(label_ids["source"][s["source"]], label_ids["claim_type"][s["claim_type"]])
                for a in train_articles for s in a["sentences"]]
    model.source_class_weights = class_weights([g[0] for g in all_gold], len(label_ids["source"]), tc.class_weighting)
    model.claim_class_weights = class_weights([g[1] for g in all_gold], len(label_ids["claim_type"]), tc.class_weighting)
    # Soft labels (self-training) make every target a probability row; cross-entropy takes either form.
    soft = any("probs" in s for a in train_articles for s in a["sentences"])
    model.head_weights = dict(tc.head_weights)
    model.label_smoothing = tc.label_smoothing
    log.info("resolved config:\n%s", config_to_yaml(config))
    log.info("%s", data.describe())
    log.info("%d training articles (%d a weighted epoch) -> %d windows; %d dev articles", len(train_articles),
             len(first_epoch), len(windows), len(dev_articles))
    for w in windows[:3]:
        log.info("example window: %s", tokenizer.decode(w.input_ids)[:300])

    # Optimizer and schedule: the pretrained encoder moves slowly, the fresh heads faster.
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    encoder_params = list(model.encoder.named_parameters())
    groups = [
        {"params": [p for n, p in encoder_params if not n.endswith(no_decay)], "lr": tc.lr, "weight_decay": tc.weight_decay},
        {"params": [p for n, p in encoder_params if n.endswith(no_decay)], "lr": tc.lr, "weight_decay": 0.0},
        {"params": list(model.source_head.parameters()) + list(model.claim_head.parameters()), "lr": tc.head_lr,
         "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups)
    steps_per_epoch = len(make_batches(list(range(len(windows))), windows, tc.batch_size, tc.batch_sentences))
    total_steps = min(steps_per_epoch * tc.epochs, tc.max_steps or 10**12)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(tc.warmup_ratio * total_steps), total_steps)

    state = {"epoch": 0, "step": 0, "best_score": -1.0, "best_epoch": 0, "stale": 0, "elapsed": 0.0}
    if resume:
        resumed, _, _ = load_checkpoint(out / "last", expect=config)
        model.load_state_dict(resumed.state_dict())
        saved = torch.load(out / "last" / "resume.pt", weights_only=True)  # never unpickles arbitrary objects
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        state.update(saved["state"])
        torch.set_rng_state(saved["torch_rng"])
        random.setstate(_tuplify(saved["python_rng"]))
        _resume_log(out, state["step"])
        recover_directory(out / "best")
        if state["best_epoch"] == state["epoch"] and _checkpoint_epoch(out / "best") != state["epoch"]:
            # Killed between writing last/ and copying it to best/: finish the copy.
            atomic_directory(out / "best", lambda tmp: _copy_checkpoint(out / "last", tmp))
        log.info("resuming after epoch %d (step %d)", state["epoch"], state["step"])

    metrics_log = (out / "metrics.jsonl").open("a", encoding="utf-8")
    started = time.time() - state["elapsed"]
    stop = False
    while state["epoch"] < tc.epochs and not stop:
        epoch = state["epoch"] + 1
        model.train()
        # A fresh, seeded draw each epoch: which articles (by source weight), which look scraped, which
        # are read sentence by sentence.
        rng = random.Random(tc.seed * 1000 + epoch)
        articles = epoch_articles(train_articles, weights, rng)
        texts, spans = maybe_scrape(articles, tc.augment_scraped, rng)
        alone = [rng.random() < tc.context_dropout for _ in articles]
        windows = encode_articles(tokenizer, model, texts, spans, alone)
        gold = sentence_targets(articles, label_ids, soft)
        bar = tqdm(epoch_batches(windows, tc, epoch), desc=f"epoch {epoch}/{tc.epochs}", disable=not progress,
                   unit="step")
        running = []
        for members in bar:
            batch = collate([windows[i] for i in members], tokenizer.pad_token_id)
            dtype = torch.float if soft else torch.long
            source_targets = torch.tensor([gold[key][0] for key in batch.target_keys], dtype=dtype)
            claim_targets = torch.tensor([gold[key][1] for key in batch.target_keys], dtype=dtype)
            result = model(batch.input_ids, batch.attention_mask, batch.token_target, batch.num_targets,
                           source_labels=source_targets, claim_labels=claim_targets)
            optimizer.zero_grad(set_to_none=True)
            result.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
            optimizer.step()
            scheduler.step()
            state["step"] += 1
            running.append(result.loss.item())
            bar.set_postfix(loss=f"{np.mean(running[-20:]):.3f}")
            if state["step"] % tc.log_every == 0:
                metrics_log.write(json.dumps({"type": "step", "epoch": epoch, "step": state["step"],
                                              "loss": float(np.mean(running[-tc.log_every:])),
                                              "lr": scheduler.get_last_lr()[0]}) + "\n")
                metrics_log.flush()
            if tc.max_steps and state["step"] >= tc.max_steps:
                stop = True
                break

        dev = evaluate_split(model, tokenizer, dev_articles, config.evaluation.batch_size)
        state["epoch"] = epoch
        state["elapsed"] = time.time() - started
        improved = dev["score"] > state["best_score"]
        if improved:
            state.update(best_score=dev["score"], best_epoch=epoch, stale=0)
        else:
            state["stale"] += 1
        record = {"type": "epoch", "epoch": epoch, "step": state["step"], "train_loss": float(np.mean(running)),
                  **{f"dev_{k}": v for k, v in dev.items()}, "elapsed_s": round(state["elapsed"], 1), "best": improved}
        metrics_log.write(json.dumps(record) + "\n")
        metrics_log.flush()
        log.info("epoch %d step %d loss %.4f dev source macro-F1 %.4f claim_type macro-F1 %.4f%s", epoch, state["step"],
                 record["train_loss"], dev["source_macro_f1"], dev["claim_type_macro_f1"], " (best)" if improved else "")

        metrics = {**{f"dev_{k}": v for k, v in dev.items()}, "epoch": epoch, "step": state["step"],
                   "train_seconds": round(state["elapsed"], 1), "training_data": data.describe()}

        def resume_state(tmp: Path) -> None:
            torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "state": dict(state),
                        "torch_rng": torch.get_rng_state(), "python_rng": random.getstate()}, tmp / "resume.pt")

        save_checkpoint(out / "last", model, tokenizer, config, metrics, extra=resume_state)
        if improved:
            atomic_directory(out / "best", lambda tmp: _copy_checkpoint(out / "last", tmp))
        if state["stale"] >= tc.patience:
            log.info("no dev improvement for %d epochs: stopping early", tc.patience)
            stop = True
    metrics_log.close()
    temperatures = calibrate_checkpoint(out / "best", config, dev_articles, config.evaluation.batch_size)
    log.info("best epoch %d, dev score %.4f, %.0f s; softmax temperatures fitted on dev: source %.2f, claim_type %.2f",
             state["best_epoch"], state["best_score"], time.time() - started, temperatures["source"],
             temperatures["claim_type"])
    # The fast scoring path ships inside the checkpoint, with the dev macro-F1 that decides if it is the default.
    add_fast_path(out / "best", dev_articles, config.evaluation.batch_size, config.inference.threads)
    return out / "best"


def epoch_batches(windows: list, tc, epoch: int) -> list[list[int]]:
    """The epoch's batches of window indices, seeded by the epoch.

    With ``group_by_length``, windows are grouped by length in mega-batches (the Hugging Face Trainer's
    ``group_by_length``) and the batches are then shuffled, so a step's padding stays small: context
    dropout mixes one-sentence windows with full ones, and padding them all to the longest made an
    epoch take about twice as long (~225 s instead of ~110 s on 2 cores).
    """
    generator = torch.Generator().manual_seed(tc.seed + epoch)
    if tc.group_by_length:
        from transformers.trainer_pt_utils import get_length_grouped_indices

        order = get_length_grouped_indices([len(w) for w in windows], tc.batch_sentences or tc.batch_size,
                                           generator=generator)
        batches = make_batches(order, windows, tc.batch_size, tc.batch_sentences)
        return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
    order = torch.randperm(len(windows), generator=generator).tolist()
    return make_batches(order, windows, tc.batch_size, tc.batch_sentences)


def make_batches(order: list[int], windows: list, batch_size: int, batch_sentences: int | None) -> list[list[int]]:
    """Consecutive groups of ``order``: ``batch_size`` windows each, or, with ``batch_sentences``, as many
    windows as it takes to reach that many target sentences (so steps stay comparable when some windows
    hold one sentence and others several)."""
    if not batch_sentences:
        return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    batches, current, count = [], [], 0
    for i in order:
        current.append(i)
        count += sum(windows[i].targets)
        if count >= batch_sentences:
            batches.append(current)
            current, count = [], 0
    if current:
        batches.append(current)
    return batches


def _checkpoint_epoch(path: Path) -> int | None:
    try:
        return json.loads((path / "metrics.json").read_text(encoding="utf-8")).get("epoch")
    except (OSError, ValueError, AttributeError):
        return None


def _copy_checkpoint(source: Path, tmp: Path) -> None:
    for path in source.iterdir():
        if path.name != "resume.pt":  # best/ is for use, not for resuming
            shutil.copy2(path, tmp / path.name)


def _tuplify(value):
    """``random.setstate`` needs tuples; the state comes back from torch.load with lists inside."""
    return tuple(_tuplify(v) for v in value) if isinstance(value, (list, tuple)) else value
