"""``factattr evaluate``: score a corpus with a checkpoint and the baselines, and write a report.

Three steps: :func:`collect_predictions` (the model segments each article's raw text itself, as it does
for users, unless told to use the gold sentences; its sentences are aligned to the gold ones by character
overlap; every system labels the very same sentences), :func:`score_systems` (metrics, intervals,
calibration, comparisons) and :func:`write_reports` (``report.json``, ``report.md``, pictures).
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
from factattr.data.corpus import Problem, attributed, config_splits, raise_problems, read_corpus
from factattr.data.spans import attach_spans
from factattr.data.standoff import read_standoff_files
from factattr.data.segment import segment
from factattr.data.types import Article
from factattr.errors import ConfigError
from factattr.model.checkpoint import check_schema, read_checkpoint_config
from factattr.model.spans import FIELDS as SPAN_FIELDS
from factattr.model.tagger import Tagger

from .align import align
from .baselines import MajorityBaseline, RuleBaseline, TfidfBaseline
from .metrics import bootstrap_macro_f1, calibration, head_metrics, macro_f1, paired_bootstrap
from .plots import confusion_png, reliability_png
from .report_html import write_report_html
from .report_md import render_markdown
from .span_report import SpanCase, add_rule_spans, span_cases, span_results

log = logging.getLogger("factattr.eval")


@dataclass
class EvalReport:
    """Everything measured; ``results`` is what ``report.json`` holds."""

    data_name: str
    out_dir: Path
    results: dict = field(default_factory=dict)

    def summary(self) -> str:
        """A compact table: macro-F1 (with the model's 95% interval) and accuracy per system and head."""
        r = self.results
        heads = r["heads"]
        lines = [f"evaluation on {self.data_name}: {r['n_articles']} articles, {r['n_gold_sentences']} gold sentences "
                 f"({r['alignment']['exact']} exact, {r['alignment']['partial']} partial, "
                 f"{r['alignment']['unaligned_gold']} unaligned)",
                 f"{'system':<14}" + "".join(f"{head + ' F1':>16}{'acc':>7}" for head in heads)]
        for name, system in r["systems"].items():
            lines.append(f"{name:<14}" + _cells(system, heads))
        for part, entry in r.get("by_origin", {}).items():
            lines.append(f"{part}: {entry['n_articles']} articles, {entry['n_sentences']} sentences")
            for name, system in entry["systems"].items():
                lines.append(f"  {name:<12}" + _cells(system, heads))
            for other, by_head in entry.get("comparisons", {}).items():
                lines.append(f"  model minus {other}: " + "; ".join(
                    f"{h} {c['difference']:+.3f} [{c['ci95'][0]:+.3f}, {c['ci95'][1]:+.3f}]" for h, c in by_head.items()))
        lines += _span_summary(r)
        model = r["systems"]["model"]
        lines.append("model macro-F1 95% CI: " + ", ".join(
            "{} [{:.3f}, {:.3f}]".format(h, *model[h]["macro_f1_ci95"]) for h in heads)
            + "; ECE " + ", ".join(f"{h} {model[h]['calibration']['ece']:.3f}" for h in heads))
        for other, by_head in r.get("comparisons", {}).items():
            lines.append(f"model minus {other}: " + "; ".join(
                f"{h} {c['difference']:+.3f} [{c['ci95'][0]:+.3f}, {c['ci95'][1]:+.3f}], sentences right only by the model "
                f"{c['only_a_right']}, only by {other} {c['only_b_right']}" for h, c in by_head.items()))
        return "\n".join(lines)


def _span_summary(r: dict) -> list[str]:
    """Speaker and cue span F1 of the model (and of the rules), and how often pronouns and roles are linked
    to the right speaker."""
    lines = []
    for field, m in r.get("spans", {}).items():
        rules = r.get("spans_baseline", {}).get("rules", {}).get(field)
        lines.append(f"{field} spans: exact F1 {m['exact']['f1']:.3f} (P {m['exact']['precision']:.3f}, R "
                     f"{m['exact']['recall']:.3f}), overlap F1 {m['overlap']['f1']:.3f}; {m['gold']} gold, "
                     f"{m['predicted']} predicted" + (f"; rules exact F1 {rules['exact']['f1']:.3f}, overlap F1 "
                                                      f"{rules['overlap']['f1']:.3f}" if rules else ""))
    if r.get("linking", {}).get("all", {}).get("n"):
        lines.append("pronoun and role speakers linked (naming span / right speaker): " + "; ".join(
            f"{kind} {_share(m['naming_span'])} / {_share(m['right_speaker'])} of {m['n']}"
            for kind, m in r["linking"].items()))
    return lines


def _share(entry: dict) -> str:
    return "-" if entry["share"] is None else f"{entry['share']:.3f}"


def _cells(system: dict, heads: Sequence[str]) -> str:
    return "".join(f"{system[h]['macro_f1']:>16.3f}{system[h]['accuracy']:>7.3f}" for h in heads)


def compare_name(checkpoint: str | Path) -> str:
    """A short system name for a compared checkpoint: ``runs/no_context/best`` -> ``no_context/best``."""
    path = Path(checkpoint).resolve()
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


@dataclass
class Predictions:
    """Step 1's result: the aligned gold sentences (``rows``) and what every system predicted for them
    (``systems[system][head] = (labels, probabilities)``)."""

    name: str
    articles: list[Article]
    pred_spans: list[list[tuple[int, int]]]
    rows: list[dict]
    alignment: dict
    systems: dict[str, dict[str, tuple[list[str], np.ndarray]]]
    model_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    # the aligned sentences that have span annotations, with the model's speaker and cue
    span_cases: list[SpanCase] = field(default_factory=list)


def run_evaluation(checkpoint: str | Path, *, config: Config | None = None, data: Sequence[str] | None = None,
                   out: str | Path | None = None, baselines: bool = True, segmentation: str = "model",
                   compare: Sequence[str | Path] = (), progress: bool = True, backend: str | None = None,
                   quantize: str | None = None, ensemble: bool = False, spans: Sequence[str] = (),
                   texts: str | None = None) -> EvalReport:
    """Evaluate a checkpoint (and the baselines) on the test split or on corpus files; write the report.

    Args:
        checkpoint: checkpoint directory.
        config: data and evaluation options; default: the config saved in the checkpoint.
        data: corpus-format files; default: the config's test split.
        spans: stand-off speaker and cue span files of the ``data`` articles (``data/spans/*.jsonl``), e.g.
            realdev's, kept for evaluation only; the test split takes its spans from the config's sources.
        texts: a texts file (``{"id", "text"}`` lines) that makes ``data`` stand-off annotations, joined with
            their texts as the config's stand-off sources are (``data/real/check.jsonl`` with
            ``../shared/realtrain/articles.jsonl``).
        out: report directory; default ``report-<data name>`` beside the checkpoint directory (for
            ``runs/default/best``: ``runs/default/report-test``), never the training-time ``output_dir``.
        segmentation: ``"model"`` (segment raw text and align to gold) or ``"gold"`` (gold sentences).
        compare: other checkpoints (e.g. the no-context ablation) scored on the very same sentences, each
            reported beside the model with a paired bootstrap of the macro-F1 difference.
        backend, quantize: as ``Tagger.load`` (default: each checkpoint's default path, its int8 encoder
            when training accepted it); ``backend="torch"`` scores in fp32.
        ensemble: also report ``"ensemble"``, the mean probabilities of the model and the compared
            checkpoints (the teacher of ``factattr pseudo-label`` with several checkpoints), paired with the
            model like a compared checkpoint.
    """
    if segmentation not in ("model", "gold"):
        raise ConfigError(f"segmentation must be 'model' or 'gold', got {segmentation!r}")
    if ensemble and not compare:
        raise ConfigError("an ensemble needs other checkpoints: give them with compare (--compare A B ...)")
    config = config or read_checkpoint_config(checkpoint)
    taggers = load_taggers(checkpoint, config, compare, backend, quantize)
    name, articles, splits, notes = evaluation_articles(config, data, spans, texts)
    predictions = collect_predictions(taggers, articles, name, segmentation, progress)
    predictions.notes += notes
    if ensemble:
        add_ensemble(predictions, list(taggers), config.labels.label_lists())
    if baselines:
        add_baselines(predictions, config, splits)
        add_rule_spans(predictions.span_cases)
    results = score_systems(predictions, config, compared=[n for n in taggers if n != "model"] + ["ensemble"] * ensemble)
    results.update(checkpoint=str(checkpoint), segmentation=segmentation,
                   backend=f"{taggers['model'].backend}, quantize {taggers['model'].quantize}")
    # Beside the checkpoint as it is now: its training-time output_dir may be another run's folder (a moved
    # or shared checkpoint) or not exist on this machine.
    out_dir = Path(out) if out else Path(checkpoint).resolve().parent / f"report-{name}"
    write_reports(results, out_dir, config.labels.label_lists())
    return EvalReport(name, out_dir, results)


def load_taggers(checkpoint: str | Path, config: Config, compare: Sequence[str | Path], backend: str | None = None,
                 quantize: str | None = None) -> dict[str, Tagger]:
    """The model (as ``"model"``) and every compared checkpoint, each checked against the config's schema
    and run with ``evaluation.windows_per_pass`` on the same backend."""
    taggers = {}
    for name, path in [("model", checkpoint)] + [(compare_name(other), other) for other in compare]:
        if name in taggers:
            raise ConfigError(f"compared checkpoint {path}: another system is already called {name!r}")
        taggers[name] = Tagger.load(path, backend=backend, quantize=quantize,
                                    windows_per_pass=config.evaluation.windows_per_pass)
        check_schema(taggers[name].model.config, config, path)
    return taggers


def evaluation_articles(config: Config, data: Sequence[str] | None, spans: Sequence[str] = (),
                        texts: str | None = None) -> tuple[str, list[Article], dict | None, list[str]]:
    """The data's name, its articles (stand-off annotations joined with ``texts`` when it is given; the
    speaker and cue ``spans`` files attached), the config's splits when they were read (for the baselines'
    training articles) and notes on repaired gold boundaries."""
    repairs: list = []
    splits = None  # the corpus is read (and validated) once, for the test split and the baselines
    if (spans or texts) and not data:
        raise ConfigError("--spans and --texts go with --data: the test split takes its texts and spans from the "
                          "config's data sources")
    if data:
        name = "+".join(Path(d).stem for d in data)
        articles = (_joined(data, texts, config) if texts
                    else read_corpus(data, config.labels.label_lists(), repairs))
        articles = _with_spans(articles, spans, config) if spans else articles
    else:
        splits = config_splits(config)
        name, articles = "test", splits["test"]
    for repair in repairs:
        log.warning("repaired: %s", repair)
    if not articles:
        raise ConfigError(f"no articles to evaluate in {name}")
    return name, articles, splits, [f"repaired gold boundary: {r}" for r in repairs]


def _joined(annotations: Sequence[str], texts: str, config: Config) -> list[Article]:
    """Stand-off annotation files joined with their texts and validated; every problem (a missing or changed
    text, a bad label) is a :class:`CorpusError` naming the file, line and article."""
    articles, problems = read_standoff_files(annotations, texts, config.labels.label_lists(), {})
    raise_problems(problems)
    return articles


def _with_spans(articles: list[Article], spans: Sequence[str], config: Config) -> list[Article]:
    """The articles with the span files attached; every problem (changed text, a span outside its sentence,
    an attributed sentence without a record) is a :class:`CorpusError` naming the file and article."""
    articles, problems = attach_spans(articles, list(spans), attributed(config))
    raise_problems([Problem(path, 0, article_id, message) for path, article_id, message in problems])
    if not any("speaker" in s.extra for a in articles for s in a.sentences):
        raise ConfigError(f"no article of the data has a record in {', '.join(spans)}: check the ids and files")
    return articles


def collect_predictions(taggers: dict[str, Tagger], articles: list[Article], name: str, segmentation: str,
                        progress: bool) -> Predictions:
    """Step 1: every tagger labels the same sentences (the model's own segmentation, or the gold one), and
    each gold sentence is aligned to the predicted sentence that covers most of it."""
    texts = [a.text for a in articles]
    pred_spans = [a.spans for a in articles] if segmentation == "gold" else [segment(t) for t in texts]
    scored, seconds = {}, {}
    for system, tagger in taggers.items():
        started = time.time()
        scored[system] = _score(tagger, texts, pred_spans, "scoring" if system == "model" else f"scoring {system}",
                                progress)
        seconds[system] = time.time() - started
    rows, totals = align_gold(articles, pred_spans)
    position = {a.id: i for i, a in enumerate(articles)}
    systems = {}
    for system, results in scored.items():
        systems[system] = {}
        for head, labels in taggers["model"].labels.items():
            probs = np.array([[results[position[r["article"]]].sentences[r["pred_index"]].probs[head][label]
                               for label in labels] for r in rows]).reshape(len(rows), len(labels))
            systems[system][head] = ([labels[int(i)] for i in probs.argmax(-1)], probs)
    cases = span_cases(articles, pred_spans, rows,
                       lambda r: vars_of(scored["model"][position[r["article"]]].sentences[r["pred_index"]]))
    return Predictions(name, articles, pred_spans, rows, totals, systems, round(seconds["model"], 2),
                       span_cases=cases if taggers["model"].model.config.spans else [])


def vars_of(sentence) -> dict:
    """A scored sentence's speaker and cue as the corpus stores them (article offsets)."""
    return {field: getattr(sentence, field) for field in SPAN_FIELDS}


def align_gold(articles: list[Article], pred_spans: list[list[tuple[int, int]]]) -> tuple[list[dict], dict]:
    """One row per gold sentence aligned to a predicted one, and the alignment counts: every gold sentence
    is either aligned or counted as unaligned."""
    rows, totals = [], {"exact": 0, "partial": 0, "unaligned_gold": 0, "unaligned_pred": 0}
    for article, spans in zip(articles, pred_spans):
        alignment = align(article.text, article.spans, spans)
        for key in totals:
            totals[key] += getattr(alignment, key)
        for g, k in enumerate(alignment.gold_to_pred):
            if k is not None:
                sentence = article.sentences[g]
                after = article.sentences[g + 1].text if g + 1 < len(article.sentences) else ""
                rows.append({"article": article.id, "index": g, "pred_index": k, "text": sentence.text,
                             "previous": article.sentences[g - 1].text if g else "", "next": after,
                             "gold": dict(sentence.labels)})
    return rows, totals


def add_ensemble(predictions: Predictions, members: Sequence[str], labels: dict[str, list[str]]) -> None:
    """The system ``"ensemble"``: the mean of the ``members``' probabilities on the same sentences (columns in
    the schema's ``labels`` order, as every tagger's), labelled by its argmax."""
    if "ensemble" in predictions.systems:
        raise ConfigError("a compared checkpoint is already called 'ensemble'; rename its run folder")
    predictions.systems["ensemble"] = {}
    for head, names in labels.items():
        mean = np.mean([predictions.systems[m][head][1] for m in members], axis=0)
        predictions.systems["ensemble"][head] = ([names[int(i)] for i in mean.argmax(-1)], mean)


def add_baselines(predictions: Predictions, config: Config, splits: dict | None) -> None:
    """The baselines, trained on the config's training split, label the model's sentences."""
    try:
        train_sentences = [s for a in (splits or config_splits(config))["train"] for s in a.sentences]
    except Exception as exc:  # the corpus may not travel with a checkpoint
        note = f"baselines skipped: training corpus unavailable ({exc})"
        log.warning(note)
        predictions.notes.insert(0, note)
        return
    labels = config.labels.label_lists()
    pred_texts = [[a.text[s:e] for s, e in spans] for a, spans in zip(predictions.articles, predictions.pred_spans)]
    offsets = np.cumsum([0] + [len(p) for p in pred_texts])
    position = {a.id: i for i, a in enumerate(predictions.articles)}
    flat_index = [offsets[position[r["article"]]] + r["pred_index"] for r in predictions.rows]
    for baseline in (MajorityBaseline(labels), RuleBaseline(labels, config.evaluation.rules),
                     TfidfBaseline(labels, seed=config.training.seed)):
        predicted = baseline.fit(train_sentences).predict(pred_texts)
        predictions.systems[baseline.name] = {head: ([labels_[i] for i in flat_index], probs[flat_index])
                                              for head, (labels_, probs) in predicted.items()}


def score_systems(p: Predictions, config: Config, compared: Sequence[str] = ()) -> dict:
    """Step 2: every number of the report (``report.json`` without its pictures)."""
    labels, samples = config.labels.label_lists(), config.evaluation.bootstrap_samples
    groups = [r["article"] for r in p.rows]
    results: dict = {
        "data": p.name, "heads": list(labels), "n_articles": len(p.articles),
        "n_gold_sentences": sum(len(a.sentences) for a in p.articles),
        "n_predicted_sentences": sum(len(s) for s in p.pred_spans), "n_scored": len(p.rows), "alignment": p.alignment,
        "model_seconds": p.model_seconds, "notes": p.notes,
        "systems": {system: {head: _head_report(p.rows, heads[head], head, labels[head], groups, config)
                             for head in labels} for system, heads in p.systems.items()}}
    results["by_origin"] = _by_origin(p.articles, p.rows, p.systems, labels, p.name, samples, compared)
    results["margins"] = {
        baseline: {head: results["systems"]["model"][head]["macro_f1"] - results["systems"][baseline][head]["macro_f1"]
                   for head in labels}
        for baseline in results["systems"] if baseline != "model"}
    results["comparisons"] = {
        name: {head: paired_bootstrap([r["gold"][head] for r in p.rows], p.systems["model"][head][0],
                                      p.systems[name][head][0], groups, labels[head], samples, seed=0)
               for head in labels}
        for name in compared}
    results["errors"] = _worst_errors(p.rows, p.systems["model"], labels, config.evaluation.worst_errors)
    if p.span_cases:
        results.update(span_results(p.span_cases, p.name, config.evaluation.worst_errors))
    return results


def _head_report(rows: list[dict], predicted_probs: tuple, head: str, labels: list[str], groups: list[str],
                 config: Config) -> dict:
    predicted, probs = predicted_probs
    gold = [r["gold"][head] for r in rows]
    metrics = head_metrics(gold, predicted, labels)
    metrics["macro_f1_ci95"] = list(bootstrap_macro_f1(gold, predicted, groups, labels,
                                                       config.evaluation.bootstrap_samples, seed=0))
    confidence = probs.max(-1) if len(probs) else np.zeros(0)
    metrics["calibration"] = calibration(confidence, np.array(gold) == np.array(predicted),
                                         config.evaluation.calibration_bins)
    return metrics


def write_reports(results: dict, out_dir: Path, labels: dict[str, list[str]]) -> None:
    """Step 3: the model's pictures per head, ``report.json``, ``report.md`` and ``report.html``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pictures = {}
    for head in labels:
        m, title = results["systems"]["model"][head], f"model: {head} ({results['data']})"
        pictures[f"confusion_{head}"] = confusion_png(m["confusion"], labels[head], title,
                                                      out_dir / f"confusion_{head}.png").name
        pictures[f"reliability_{head}"] = reliability_png(m["calibration"]["bins"], m["calibration"]["ece"], title,
                                                          out_dir / f"reliability_{head}.png").name
    results["pictures"] = pictures
    (out_dir / "report.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (out_dir / "report.md").write_text(render_markdown(results, labels), encoding="utf-8")
    write_report_html(results, labels, out_dir)


def _by_origin(articles: list[Article], rows: list[dict], systems: dict, labels: dict, data_name: str,
               samples: int, compared: Sequence[str] = ()) -> dict:
    """Every system's macro-F1 (with its interval) and accuracy on each data origin's part of the rows
    (``test-real``, ``test-written``), and the paired comparison with each compared checkpoint there,
    when the articles come from more than one origin."""
    origin = {a.id: a.origin for a in articles}
    names = sorted(set(origin.values()) - {""})
    if len(names) < 2:
        return {}
    out = {}
    for part in names:
        keep = [i for i, r in enumerate(rows) if origin[r["article"]] == part]
        groups = [rows[i]["article"] for i in keep]
        gold = {head: [rows[i]["gold"][head] for i in keep] for head in labels}
        predicted = {system: {head: [heads[head][0][i] for i in keep] for head in labels}
                     for system, heads in systems.items()}
        entry = {"n_articles": len(set(groups)), "n_sentences": len(keep), "systems": {}, "comparisons": {}}
        for system in systems:
            entry["systems"][system] = {head: {
                "macro_f1": macro_f1(gold[head], predicted[system][head], labels[head]),
                "macro_f1_ci95": list(bootstrap_macro_f1(gold[head], predicted[system][head], groups, labels[head],
                                                         samples, seed=0)),
                "accuracy": float(np.mean([g == p for g, p in zip(gold[head], predicted[system][head])])) if keep else 0.0}
                for head in labels}
        for other in compared:
            entry["comparisons"][other] = {
                head: paired_bootstrap(gold[head], predicted["model"][head], predicted[other][head], groups,
                                       labels[head], samples, seed=0) for head in labels}
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
        for head in labels:
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
