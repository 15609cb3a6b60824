"""``factattr train CONFIG``: fine-tune the encoder and the label heads, keep the best dev checkpoint.

``train`` reads top to bottom: seed, data, model, loss, optimizer and schedule, loop (train an epoch,
evaluate on dev, save), calibration, the fast path. Run directory: ``metrics.jsonl`` (a line per logged
step and per epoch), ``config.yaml``, ``last/`` (the latest epoch, with ``resume.pt``) and ``best/`` (the
best epoch by the mean of the heads' macro-F1, with the int8 ONNX encoder written into it at the end:
``factattr.training.fastpath``).
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import time
from pathlib import Path
from typing import IO

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from factattr.config import Config, config_to_yaml
from factattr.data.corpus import LoadedData, iter_lines, load_data
from factattr.data.types import Article
from factattr.errors import ConfigError
from factattr.eval.metrics import macro_f1
from factattr.model.checkpoint import (atomic_directory, build_model, load_checkpoint, recover_directory,
                                       save_checkpoint)
from factattr.model.inference import encode_articles, predict_probs
from factattr.model.spans import tag_tensor
from factattr.model.windows import collate

from .augment import maybe_scrape, scrape_with_targets
from .calibrate import calibrate_checkpoint
from .fastpath import add_fast_path
from .loss import TaggingLoss, sentence_targets  # noqa: F401  (sentence_targets: part of this module's API)

log = logging.getLogger("factattr.train")


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def evaluate_split(model, tokenizer, articles: list[Article], windows_per_pass: int, by_article: bool = False) -> dict:
    """Macro-F1 and accuracy of every head on gold sentences, overall and per data origin (``real_...``,
    ``written_...``), and the overall mean macro-F1 of the heads (the model-selection score). ``by_article``:
    as :func:`~factattr.model.inference.predict` (needed by a dynamically quantised model)."""
    probs = predict_probs(model, tokenizer, [a.text for a in articles], [a.spans for a in articles], windows_per_pass,
                          by_article=by_article)
    origins = sorted({a.origin for a in articles} - {""})
    groups = {"": None, **{f"{o}_": o for o in origins}} if len(origins) > 1 else {"": None}
    metrics = {}
    for head, labels in model.config.labels.items():
        for prefix, origin in groups.items():
            keep = [i for i, a in enumerate(articles) if origin is None or a.origin == origin]
            gold = [label for i in keep for label in articles[i].gold(head)]
            pred = [labels[int(k)] for i in keep for k in probs[i][head].argmax(-1)] if probs else []
            metrics[f"{prefix}{head}_macro_f1"] = macro_f1(gold, pred, labels)
            metrics[f"{prefix}{head}_accuracy"] = float(np.mean([g == p for g, p in zip(gold, pred)])) if gold else 0.0
    heads = list(model.config.labels)
    metrics["score"] = sum(metrics[f"{head}_macro_f1"] for head in heads) / len(heads)
    return metrics


def epoch_articles(articles: list[Article], weights: dict[str, float], rng: random.Random) -> list[Article]:
    """An epoch's training articles under the data sources' sampling weights: each article floor(w) times,
    and once more with probability frac(w). All weights 1 gives the articles as they are (no draw)."""
    if all(weights.get(a.origin, 1.0) == 1.0 for a in articles):
        return list(articles)
    out = []
    for article in articles:
        weight = weights.get(article.origin, 1.0)
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

    data = load_data(config)
    train_articles, dev_articles = training_articles(config, data)
    _prepare_output(out, resume)  # only now, with the data known to be good, is a previous run replaced
    (out / "config.yaml").write_text(config_to_yaml(config), encoding="utf-8")

    model, tokenizer = build_model(config)
    loss = TaggingLoss.for_articles(config, train_articles)
    steps_per_epoch = describe_start(config, data, model, tokenizer, train_articles, dev_articles)
    optimizer, scheduler = make_optimizer(model, tc, steps_per_epoch)

    state = {"epoch": 0, "step": 0, "best_score": -1.0, "best_epoch": 0, "stale": 0, "elapsed": 0.0}
    if resume:
        resume_run(out, config, model, optimizer, scheduler, state)
    started = time.time() - state["elapsed"]
    stop = False
    with (out / "metrics.jsonl").open("a", encoding="utf-8") as metrics_log:
        while state["epoch"] < tc.epochs and not stop:
            epoch = state["epoch"] + 1
            losses, stop = train_epoch(model, tokenizer, loss, optimizer, scheduler, train_articles, config, epoch,
                                       state, metrics_log, progress)
            dev = evaluate_split(model, tokenizer, dev_articles, config.evaluation.windows_per_pass)
            improved = record_epoch(state, epoch, losses, dev, started, metrics_log, config.heads)
            save_epoch(out, model, tokenizer, config, data, optimizer, scheduler, state, dev, improved)
            if state["stale"] >= tc.patience:
                log.info("no dev improvement for %d epochs: stopping early", tc.patience)
                stop = True

    temperatures = calibrate_checkpoint(out / "best", config, dev_articles, config.evaluation.windows_per_pass)
    log.info("best epoch %d, dev score %.4f, %.0f s; softmax temperatures fitted on dev: %s", state["best_epoch"],
             state["best_score"], time.time() - started, ", ".join(f"{h} {t:.2f}" for h, t in temperatures.items()))
    # The fast scoring path ships inside the checkpoint, with the dev macro-F1 that decides if it is the default.
    add_fast_path(out / "best", dev_articles, config.evaluation.windows_per_pass, config.inference.threads)
    return out / "best"


def training_articles(config: Config, data: LoadedData) -> tuple[list[Article], list[Article]]:
    """The training articles (sources of weight 0 left out, ``training.limit`` applied) and the dev articles."""
    weights = source_weights(config)
    train_articles = [a for a in data.splits["train"] if weights[a.origin] > 0]
    if config.training.limit:
        train_articles = train_articles[: config.training.limit]
    dev_articles = data.splits["dev"]
    if not train_articles or not dev_articles:
        raise ConfigError(f"the corpus split gives {len(train_articles)} training and {len(dev_articles)} dev "
                          "articles; both must be non-empty (check data.sources and the split fractions; articles split by "
                          "same-event cluster, so alike undated articles fall together: give dates or raise "
                          "data.event_similarity)")
    if config.model.spans and not any("speaker" in s.extra for a in train_articles for s in a.sentences):
        raise ConfigError("model.spans is on but no training article has speaker and cue annotations; add `spans` "
                          "files to data.sources (e.g. data/spans/spans.jsonl), or set model.spans: false")
    return train_articles, dev_articles


def source_weights(config: Config) -> dict[str, float]:
    return {source.name: source.weight for source in config.data.sources}


def describe_start(config: Config, data: LoadedData, model, tokenizer, train_articles: list[Article],
                   dev_articles: list[Article]) -> int:
    """Log what training starts from, and return the optimisation steps of an epoch (as the first epoch's
    draw of articles packs them, without augmentation)."""
    tc = config.training
    first_epoch = epoch_articles(train_articles, source_weights(config), random.Random(tc.seed))
    windows = encode_articles(tokenizer, model, *maybe_scrape(first_epoch, 0.0, random.Random(0)))
    log.info("resolved config:\n%s", config_to_yaml(config))
    log.info("%s", data.describe())
    log.info("%d training articles (%d a weighted epoch) -> %d windows; %d dev articles", len(train_articles),
             len(first_epoch), len(windows), len(dev_articles))
    for w in windows[:3]:
        log.info("example window: %s", tokenizer.decode(w.input_ids)[:300])
    return len(make_batches(list(range(len(windows))), windows, tc.windows_per_step, tc.sentences_per_step))


def make_optimizer(model, tc, steps_per_epoch: int):
    """AdamW and a linear schedule with warm-up: the pretrained encoder moves slowly, the fresh heads faster."""
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    encoder_params = list(model.encoder.named_parameters())
    groups = [
        {"params": [p for n, p in encoder_params if not n.endswith(no_decay)], "lr": tc.lr, "weight_decay": tc.weight_decay},
        {"params": [p for n, p in encoder_params if n.endswith(no_decay)], "lr": tc.lr, "weight_decay": 0.0},
        {"params": list(model.heads.parameters()), "lr": tc.head_lr, "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups)
    total_steps = min(steps_per_epoch * tc.epochs, tc.max_steps or 10**12)
    return optimizer, get_linear_schedule_with_warmup(optimizer, int(tc.warmup_ratio * total_steps), total_steps)


def resume_run(out: Path, config: Config, model, optimizer, scheduler, state: dict) -> None:
    """Restore weights, optimizer, schedule, counters and random states from ``last/``."""
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


def train_epoch(model, tokenizer, loss: TaggingLoss, optimizer, scheduler, train_articles: list[Article],
                config: Config, epoch: int, state: dict, metrics_log: IO, progress: bool) -> tuple[list[float], bool]:
    """One epoch of steps; returns the steps' losses and whether ``training.max_steps`` was reached.

    A fresh, seeded draw each epoch: which articles (by source weight), which look scraped, which are
    read sentence by sentence.
    """
    tc = config.training
    model.train()
    rng = random.Random(tc.seed * 1000 + epoch)
    articles = epoch_articles(train_articles, source_weights(config), rng)
    texts, spans, marks = scrape_with_targets(articles, tc.augment_scraped, rng)
    alone = [rng.random() < tc.context_dropout for _ in articles]
    windows = encode_articles(tokenizer, model, texts, spans, alone)
    targets, span_targets = loss.targets(articles), loss.span_targets(articles, marks)
    bar = tqdm(epoch_batches(windows, tc, epoch), desc=f"epoch {epoch}/{tc.epochs}", disable=not progress, unit="step")
    losses: list[float] = []
    for members in bar:
        step_windows = [windows[i] for i in members]
        batch = collate(step_windows, tokenizer.pad_token_id)
        result = model(batch.input_ids, batch.attention_mask, batch.token_target, batch.num_targets)
        tags = tag_tensor(step_windows, batch.input_ids.size(1), span_targets) if span_targets else None
        step_loss = loss(result.logits, loss.batch_targets(targets, batch.target_keys), result.span_logits, tags)
        optimizer.zero_grad(set_to_none=True)
        step_loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
        optimizer.step()
        scheduler.step()
        state["step"] += 1
        losses.append(step_loss.item())
        bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}")
        if state["step"] % tc.log_every == 0:
            _write_record(metrics_log, {"type": "step", "epoch": epoch, "step": state["step"],
                                        "loss": float(np.mean(losses[-tc.log_every:])), "lr": scheduler.get_last_lr()[0]})
        if tc.max_steps and state["step"] >= tc.max_steps:
            return losses, True
    return losses, False


def record_epoch(state: dict, epoch: int, losses: list[float], dev: dict, started: float, metrics_log: IO,
                 heads: tuple[str, ...]) -> bool:
    """Count the epoch in ``state``, log its line to ``metrics.jsonl``; True when dev improved."""
    state["epoch"] = epoch
    state["elapsed"] = time.time() - started
    improved = dev["score"] > state["best_score"]
    if improved:
        state.update(best_score=dev["score"], best_epoch=epoch, stale=0)
    else:
        state["stale"] += 1
    record = {"type": "epoch", "epoch": epoch, "step": state["step"], "train_loss": float(np.mean(losses)),
              **{f"dev_{k}": v for k, v in dev.items()}, "elapsed_s": round(state["elapsed"], 1), "best": improved}
    _write_record(metrics_log, record)
    log.info("epoch %d step %d loss %.4f dev macro-F1 %s%s", epoch, state["step"], record["train_loss"],
             ", ".join(f"{h} {dev[f'{h}_macro_f1']:.4f}" for h in heads), " (best)" if improved else "")
    return improved


def save_epoch(out: Path, model, tokenizer, config: Config, data: LoadedData, optimizer, scheduler, state: dict,
               dev: dict, improved: bool) -> None:
    """Write ``last/`` (with the resume state) and, when dev improved, copy it to ``best/``."""
    metrics = {**{f"dev_{k}": v for k, v in dev.items()}, "epoch": state["epoch"], "step": state["step"],
               "train_seconds": round(state["elapsed"], 1), "training_data": data.describe()}

    def resume_state(tmp: Path) -> None:
        torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "state": dict(state),
                    "torch_rng": torch.get_rng_state(), "python_rng": random.getstate()}, tmp / "resume.pt")

    save_checkpoint(out / "last", model, tokenizer, config, metrics, extra=resume_state)
    if improved:
        atomic_directory(out / "best", lambda tmp: _copy_checkpoint(out / "last", tmp))


def _write_record(metrics_log: IO, record: dict) -> None:
    metrics_log.write(json.dumps(record) + "\n")
    metrics_log.flush()


def epoch_batches(windows: list, tc, epoch: int) -> list[list[int]]:
    """The epoch's steps as lists of window indices, seeded by the epoch.

    With ``group_by_length``, windows are grouped by length in mega-batches (the Hugging Face Trainer's
    ``group_by_length``) and the steps are then shuffled, so a step's padding stays small: context
    dropout mixes one-sentence windows with full ones, and padding them all to the longest would make an
    epoch much slower.
    """
    generator = torch.Generator().manual_seed(tc.seed + epoch)
    if tc.group_by_length:
        from transformers.trainer_pt_utils import get_length_grouped_indices

        order = get_length_grouped_indices([len(w) for w in windows], tc.sentences_per_step or tc.windows_per_step,
                                           generator=generator)
        batches = make_batches(order, windows, tc.windows_per_step, tc.sentences_per_step)
        return [batches[i] for i in torch.randperm(len(batches), generator=generator).tolist()]
    order = torch.randperm(len(windows), generator=generator).tolist()
    return make_batches(order, windows, tc.windows_per_step, tc.sentences_per_step)


def make_batches(order: list[int], windows: list, windows_per_step: int,
                 sentences_per_step: int | None) -> list[list[int]]:
    """Consecutive groups of ``order``: ``windows_per_step`` windows each, or, with ``sentences_per_step``, as
    many windows as it takes to reach that many target sentences (so steps stay comparable when some
    windows hold one sentence and others several)."""
    if not sentences_per_step:
        return [order[i:i + windows_per_step] for i in range(0, len(order), windows_per_step)]
    batches, current, count = [], [], 0
    for i in order:
        current.append(i)
        count += sum(windows[i].targets)
        if count >= sentences_per_step:
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
