"""``factattr evaluate``: score a corpus with a checkpoint and the baselines, and write a report.

The model segments each article's raw text itself (as it does for users) unless told to use the gold
sentences; its sentences are aligned to the gold ones by character overlap, and the alignment counts go
into the report. Baselines label the very same sentences.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm.auto import tqdm

from factattr.config import Config
from factattr.data.corpus import config_splits, read_corpus
from factattr.data.segment import segment
from factattr.errors import ConfigError
from factattr.model.checkpoint import check_schema
from factattr.model.tagger import Tagger

from .align import align
from .baselines import MajorityBaseline, RuleBaseline, TfidfBaseline
from .metrics import bootstrap_macro_f1, calibration, head_metrics, macro_f1, paired_bootstrap
from .plots import confusion_png, reliability_png
from .report_html import write_report_html
from .report_md import render_markdown

log = logging.getLogger("factattr.eval")
HEADS = ("source", "claim_type")


@dataclass
class EvalReport:
    """Everything measured; ``results`` is what ``report.json`` holds."""

    data_name: str
    out_dir: Path
    results: dict = field(default_factory=dict)

    def summary(self) -> str:
        """A compact table: macro-F1 (with the model's 95% interval) and accuracy per system and head."""
        r = self.results
        lines = [f"evaluation on {self.data_name}: {r['n_articles']} articles, {r['n_gold_sentences']} gold sentences "
                 f"({r['alignment']['exact']} exact, {r['alignment']['partial']} partial, "
                 f"{r['alignment']['unaligned_gold']} unaligned)",
                 f"{'system':<14}{'source F1':>11}{'acc':>7}{'claim F1':>11}{'acc':>7}"]
        for name, system in r["systems"].items():
            s, c = system["source"], system["claim_type"]
            lines.append(f"{name:<14}{s['macro_f1']:>11.3f}{s['accuracy']:>7.3f}{c['macro_f1']:>11.3f}{c['accuracy']:>7.3f}")
        for part, entry in r.get("by_origin", {}).items():
            lines.append(f"{part}: {entry['n_articles']} articles, {entry['n_sentences']} sentences")
            for name, system in entry["systems"].items():
                s, c = system["source"], system["claim_type"]
                lines.append(f"  {name:<12}{s['macro_f1']:>11.3f}{s['accuracy']:>7.3f}{c['macro_f1']:>11.3f}"
                             f"{c['accuracy']:>7.3f}")
            for other, heads in entry.get("comparisons", {}).items():
                lines.append(f"  model minus {other}: " + "; ".join(
                    f"{h} {c['difference']:+.3f} [{c['ci95'][0]:+.3f}, {c['ci95'][1]:+.3f}]" for h, c in heads.items()))
        model = r["systems"]["model"]
        lines.append("model macro-F1 95% CI: source [{:.3f}, {:.3f}], claim_type [{:.3f}, {:.3f}]; ECE source {:.3f}, "
                     "claim_type {:.3f}".format(*model["source"]["macro_f1_ci95"], *model["claim_type"]["macro_f1_ci95"],
                                                model["source"]["calibration"]["ece"], model["claim_type"]["calibration"]["ece"]))
        for other, heads in r.get("comparisons", {}).items():
            lines.append(f"model minus {other}: " + "; ".join(
                f"{h} {c['difference']:+.3f} [{c['ci95'][0]:+.3f}, {c['ci95'][1]:+.3f}], sentences right only by the model "
                f"{c['only_a_right']}, only by {other} {c['only_b_right']}" for h, c in heads.items()))
        return "\n".join(lines)


def _sentences(articles: list[dict]) -> list[dict]:
    return [{"text": a["text"][s["start"]:s["end"]], **{h: s[h] for h in HEADS}} for a in articles for s in a["sentences"]]


def compare_name(checkpoint: str | Path) -> str:
    """A short system name for a compared checkpoint: ``runs/no_context/best`` -> ``no_context/best``."""
    path = Path(checkpoint).resolve()
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def run_evaluation(checkpoint: str | Path, *, config: Config | None = None, data: Sequence[str] | None = None,
                   out: str | Path | None = None, baselines: bool = True, segmentation: str = "model",
                   compare: Sequence[str | Path] = (), progress: bool = True) -> EvalReport:
    """Evaluate a checkpoint (and the baselines) on the test split or on corpus files; write the report.

    Args:
        checkpoint: checkpoint directory.
        config: data and evaluation options; default: the config saved in the checkpoint.
        data: corpus-format files; default: the config's test split.
        out: report directory; default ``report-<data name>`` beside the checkpoint directory (for
            ``runs/default/best``: ``runs/default/report-test``), never the training-time ``output_dir``.
        segmentation: ``"model"`` (segment raw text and align to gold) or ``"gold"`` (gold sentences).
        compare: other checkpoints (e.g. the no-context ablation) scored on the very same sentences, each
            reported beside the model with a paired bootstrap of the macro-F1 difference.
    """
    if segmentation not in ("model", "gold"):
        raise ConfigError(f"segmentation must be 'model' or 'gold', got {segmentation!r}")
    tagger = Tagger.load(checkpoint)
    config = config or tagger.config
    check_schema(tagger.model.config, config, checkpoint)
    others = {}
    for other in compare:
        name = compare_name(other)
        if name in others or name == "model":
            raise ConfigError(f"compared checkpoint {other}: another system is already called {name!r}")
        others[name] = Tagger.load(other)
        check_schema(others[name].model.config, config, other)
    labels = {head: config.label_names(head) for head in HEADS}
    repairs: list = []
    splits = None  # the corpus is read (and validated) once, for the test split and the baselines
    if data:
        name, articles = "+".join(Path(d).stem for d in data), read_corpus(data, labels, repairs)
    else:
        splits = config_splits(config)
        name, articles = "test", splits["test"]
    for repair in repairs:
        log.warning("repaired: %s", repair)
    if not articles:
        raise ConfigError(f"no articles to evaluate in {name}")
    # Beside the checkpoint as it is now: its training-time output_dir may be another run's folder (a moved
    # or shared checkpoint) or not exist on this machine.
    out_dir = Path(out) if out else Path(checkpoint).resolve().parent / f"report-{name}"
    out_dir.mkdir(parents=True, exist_ok=True)

    # The model labels its own sentences (or the gold ones).
    texts = [a["text"] for a in articles]
    gold_spans = [[(s["start"], s["end"]) for s in a["sentences"]] for a in articles]
    pred_spans = gold_spans if segmentation == "gold" else [segment(t) for t in texts]
    started = time.time()
    model_results = _score(tagger, texts, pred_spans, "scoring", progress)
    seconds = time.time() - started
    other_results = {name: _score(t, texts, pred_spans, f"scoring {name}", progress) for name, t in others.items()}

    # Align predicted sentences to gold ones; every gold sentence is either aligned or counted as unaligned.
    rows, totals = [], {"exact": 0, "partial": 0, "unaligned_gold": 0, "unaligned_pred": 0}
    for a, article in enumerate(articles):
        alignment = align(article["text"], gold_spans[a], pred_spans[a])
        for key in totals:
            totals[key] += getattr(alignment, key)
        for g, k in enumerate(alignment.gold_to_pred):
            if k is None:
                continue
            sent = article["sentences"][g]
            prev = article["sentences"][g - 1] if g else None
            after = article["sentences"][g + 1] if g + 1 < len(article["sentences"]) else None
            rows.append({"article": article["id"], "index": g, "pred_index": k,
                         "text": article["text"][sent["start"]:sent["end"]],
                         "previous": article["text"][prev["start"]:prev["end"]] if prev else "",
                         "next": article["text"][after["start"]:after["end"]] if after else "",
                         "gold": {h: sent[h] for h in HEADS}})

    # Predictions of every system for the aligned gold sentences.
    position = {a["id"]: i for i, a in enumerate(articles)}
    systems: dict[str, dict] = {}
    for system, scored in {"model": model_results, **other_results}.items():
        systems[system] = {}
        for head in HEADS:
            probs = np.array([[getattr(scored[position[r["article"]]].sentences[r["pred_index"]], f"{head}_probs")[label]
                               for label in labels[head]] for r in rows]).reshape(len(rows), len(labels[head]))
            systems[system][head] = ([labels[head][int(i)] for i in probs.argmax(-1)], probs)
    baseline_note = None
    if baselines:
        try:
            train_sentences = _sentences((splits or config_splits(config))["train"])
        except Exception as exc:  # the corpus may not travel with a checkpoint
            baseline_note = f"baselines skipped: training corpus unavailable ({exc})"
            log.warning(baseline_note)
        else:
            pred_texts = [[t[s:e] for s, e in spans] for t, spans in zip(texts, pred_spans)]
            offsets = np.cumsum([0] + [len(p) for p in pred_texts])
            flat_index = [offsets[position[r["article"]]] + r["pred_index"] for r in rows]
            for baseline in (MajorityBaseline(labels), RuleBaseline(labels, config.evaluation.gazetteer),
                             TfidfBaseline(labels, seed=config.training.seed)):
                predicted = baseline.fit(train_sentences).predict(pred_texts)
                systems[baseline.name] = {head: ([predicted[head][0][i] for i in flat_index], predicted[head][1][flat_index])
                                          for head in HEADS}

    groups = [r["article"] for r in rows]
    results: dict = {
        "data": name, "checkpoint": str(checkpoint), "segmentation": segmentation,
        "n_articles": len(articles), "n_gold_sentences": sum(len(s) for s in gold_spans),
        "n_predicted_sentences": sum(len(s) for s in pred_spans), "n_scored": len(rows), "alignment": totals,
        "model_seconds": round(seconds, 2),
        "backend": f"{tagger.backend}, quantize {tagger.quantize}", "systems": {}, "notes": [n for n in [baseline_note] if n] + [f"repaired gold boundary: {r}" for r in repairs],
    }
    pictures = {}
    for system, heads in systems.items():
        results["systems"][system] = {}
        for head in HEADS:
            predicted, probs = heads[head]
            gold = [r["gold"][head] for r in rows]
            metrics = head_metrics(gold, predicted, labels[head])
            metrics["macro_f1_ci95"] = list(bootstrap_macro_f1(gold, predicted, groups, labels[head],
                                                               config.evaluation.bootstrap_samples, seed=0))
            confidence = probs.max(-1) if len(probs) else np.zeros(0)
            metrics["calibration"] = calibration(confidence, np.array(gold) == np.array(predicted),
                                                 config.evaluation.calibration_bins)
            results["systems"][system][head] = metrics
        if system == "model":
            for head in HEADS:
                m = results["systems"]["model"][head]
                pictures[f"confusion_{head}"] = confusion_png(m["confusion"], labels[head], f"model: {head} ({name})",
                                                              out_dir / f"confusion_{head}.png").name
                pictures[f"reliability_{head}"] = reliability_png(m["calibration"]["bins"], m["calibration"]["ece"],
                                                                  f"model: {head} ({name})",
                                                                  out_dir / f"reliability_{head}.png").name
    results["pictures"] = pictures
    results["by_origin"] = _by_origin(articles, rows, systems, labels, results["data"],
                                      config.evaluation.bootstrap_samples, compared=list(others))
    results["margins"] = {
        baseline: {head: results["systems"]["model"][head]["macro_f1"] - results["systems"][baseline][head]["macro_f1"]
                   for head in HEADS}
        for baseline in results["systems"] if baseline != "model"}
    results["comparisons"] = {
        name: {head: paired_bootstrap([r["gold"][head] for r in rows], systems["model"][head][0], systems[name][head][0],
                                      groups, labels[head], config.evaluation.bootstrap_samples, seed=0)
               for head in HEADS}
        for name in others}
    results["errors"] = _worst_errors(rows, systems["model"], labels, config.evaluation.worst_errors)

    (out_dir / "report.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (out_dir / "report.md").write_text(render_markdown(results, labels), encoding="utf-8")
    write_report_html(results, labels, out_dir)
    return EvalReport(name, out_dir, results)


def _by_origin(articles: list[dict], rows: list[dict], systems: dict, labels: dict, data_name: str,
               samples: int, compared: Sequence[str] = ()) -> dict:
    """Every system's macro-F1 (with its interval) and accuracy on each data origin's part of the rows
    (``test-real``, ``test-written``), and the paired comparison with each compared checkpoint there,
    when the articles come from more than one origin."""
    origin = {a["id"]: a.get("origin") or "" for a in articles}
    names = sorted(set(origin.values()) - {""})
    if len(names) < 2:
        return {}
    out = {}
    for part in names:
        keep = [i for i, r in enumerate(rows) if origin[r["article"]] == part]
        groups = [rows[i]["article"] for i in keep]
        gold = {head: [rows[i]["gold"][head] for i in keep] for head in HEADS}
        predicted = {system: {head: [heads[head][0][i] for i in keep] for head in HEADS}
                     for system, heads in systems.items()}
        entry = {"n_articles": len(set(groups)), "n_sentences": len(keep), "systems": {}, "comparisons": {}}
        for system in systems:
            entry["systems"][system] = {head: {
                "macro_f1": macro_f1(gold[head], predicted[system][head], labels[head]),
                "macro_f1_ci95": list(bootstrap_macro_f1(gold[head], predicted[system][head], groups, labels[head],
                                                         samples, seed=0)),
                "accuracy": float(np.mean([g == p for g, p in zip(gold[head], predicted[system][head])])) if keep else 0.0}
                for head in HEADS}
        for other in compared:
            entry["comparisons"][other] = {
                head: paired_bootstrap(gold[head], predicted["model"][head], predicted[other][head], groups,
                                       labels[head], samples, seed=0) for head in HEADS}
        out[f"{data_name}-{part}"] = entry
    return out


def _score(tagger: Tagger, texts: list[str], spans: list, desc: str, progress: bool, chunk: int = 8) -> list:
    results = []
    for begin in tqdm(range(0, len(texts), chunk), desc=desc, disable=not progress, unit="batch"):
        results += tagger.score_spans(texts[begin:begin + chunk], spans[begin:begin + chunk])
    return results


def _worst_errors(rows: list[dict], model: dict, labels: dict, limit: int) -> list[dict]:
    """The model's most confident mistakes: sentences where a head is wrong, by the probability it gave."""
    errors = []
    for i, row in enumerate(rows):
        entry, worst = {}, -1.0
        for head in HEADS:
            predicted, probs = model[head]
            p = float(probs[i].max())
            entry[head] = {"gold": row["gold"][head], "predicted": predicted[i], "probability": round(p, 4),
                           "gold_probability": round(float(probs[i][labels[head].index(row["gold"][head])]), 4)}
            if predicted[i] != row["gold"][head]:
                worst = max(worst, p)
        if worst >= 0:
            errors.append({"article": row["article"], "index": row["index"], "previous": row["previous"],
                           "text": row["text"], "next": row["next"], **entry, "confidence_of_error": round(worst, 4)})
    errors.sort(key=lambda e: -e["confidence_of_error"])
    return errors[:limit]
