"""The ``factattr`` command: train, evaluate, score, ledger, view, stats, validate and the data and checkpoint tools.

Each sub-command parses its arguments and calls the library; errors factattr raises on purpose, and
errors reading or writing files, are printed as one readable block and exit with status 1 (2 for usage
errors, from argparse). A closed output pipe (``| head``) ends the command quietly.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Iterator

from .errors import FactattrError, InputError

DEFAULT_CONFIG = "configs/default.yaml"


def _config(path: str, overrides: list[str] | None, check_files: bool = True):
    from .config import load_config

    return load_config(path, overrides, check_files=check_files)


def cmd_train(args: argparse.Namespace) -> int:
    config = _config(args.config, args.set)  # validate before importing torch: config errors come fast
    from .training.train import train

    best = train(config, resume=args.resume, overwrite=args.overwrite, progress=not args.no_progress)
    print(best)  # the last line on stdout: the best checkpoint, for scripts
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .eval.evaluate import run_evaluation

    config = _config(args.config, args.set) if args.config else None
    report = run_evaluation(args.checkpoint, config=config, data=args.data, out=args.out,
                            baselines=not args.no_baselines, segmentation=args.segmentation,
                            compare=args.compare or (), progress=not args.no_progress, backend=args.backend,
                            quantize=args.quantize, ensemble=args.ensemble,
                            spans=args.spans or (), texts=args.texts)
    print(report.summary())
    print(report.out_dir)
    return 0


def _read_inputs(files: list[str], fmt: str) -> Iterator[tuple[str, str, object, dict]]:
    """(place, id, text, metadata) of each article, read lazily: whole files, or one JSON article per line
    with --format jsonl (place is ``file:line``, id the record's ``id`` or the place; its title, outlet and
    date travel to the output, where the view's timeline reads the date)."""
    from .data.standoff import read_jsonl

    for name in files or ["<stdin>"]:
        stream = sys.stdin.buffer if not files else None
        if fmt != "jsonl":
            try:
                raw = stream.read() if stream else Path(name).read_bytes()
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InputError(f"{name}: not UTF-8 text; factattr scores UTF-8 text files only") from None
            except OSError as exc:
                raise InputError(f"{name}: cannot read ({exc.strerror}); give a readable text file") from None
            yield name, name, text, {}
            continue
        for number, record in read_jsonl(name, stream):
            place = f"{name}:{number}"
            if not isinstance(record, dict) or "text" not in record:
                raise InputError(f"{place}: a JSON object with a 'text' field is needed (--format jsonl reads one "
                                 "{\"id\": ..., \"text\": ...} object per line)")
            meta = {key: record[key] for key in ("title", "outlet", "date") if key in record}
            yield place, str(record.get("id", place)), record["text"], meta


def cmd_score(args: argparse.Namespace) -> int:
    from collections import deque

    from .model.tagger import Tagger, check_text

    if args.out:
        return _score_to_file(args)
    tagger = Tagger.load(args.checkpoint, backend=args.backend, quantize=args.quantize)
    pending: deque = deque()   # (id, metadata) of each text handed to score_many, in order

    def texts() -> Iterator[str]:
        # Checked here, where the file, line and id are known; score_many prints every earlier result first.
        for place, ident, text, meta in _read_inputs(args.files, args.format):
            label = place if ident == place else f"{place} (id {ident!r})"
            checked = check_text(text, f"{label}: text")
            pending.append((ident, meta))
            yield checked

    for result in tagger.score_many(texts()):
        name, meta = pending.popleft()
        if args.format == "json":
            print(json.dumps({"id": name, **meta, **result.to_dict()}, ensure_ascii=False, indent=2))
        elif args.format == "jsonl":
            print(json.dumps({"id": name, **meta, **result.to_dict()}, ensure_ascii=False))
        else:
            print(_table(name, result, tagger.labels))
    return 0


def command_roles(args: argparse.Namespace, checkpoint_config=None):
    """The roles of a command's label schema: ``--config``'s; else the config of the checkpoint that scores
    on the way; else configs/default.yaml's when there is one; else the built-in defaults."""
    from .config import Roles

    if args.config:
        return _config(args.config, None, check_files=False).roles
    if checkpoint_config is not None:
        return checkpoint_config.roles
    if Path(DEFAULT_CONFIG).is_file():
        return _config(DEFAULT_CONFIG, None, check_files=False).roles
    return Roles.defaults()


def cmd_view(args: argparse.Namespace) -> int:
    from .view import read_articles, read_contested, tagger_scorer, write_view

    config = _config(args.config, None, check_files=False) if args.config else None
    scorer = tagger_scorer(args.checkpoint, backend=args.backend, quantize=args.quantize) if args.checkpoint else None
    articles = read_articles(args.files, scorer, heads=config.heads if config else None)
    roles = command_roles(args, scorer.config if scorer else None)
    contested = read_contested(args.contested, roles) if args.contested else None
    title = args.title or f"factattr: {', '.join(Path(f).name for f in args.files)}"
    out = write_view(args.out, articles, contested, title=title, low=args.low_confidence, page_size=args.page_size,
                     roles=roles)
    size = out.stat().st_size
    print(f"{out}: {len(articles)} article(s), {sum(len(a['sentences']) for a in articles)} sentence(s), "
          f"{size / 1e6:.2f} MB")
    return 0


def _probability(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"{value} is not a probability in [0, 1]")
    return number


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive whole number")
    return number


def _score_to_file(args: argparse.Namespace) -> int:
    """``score INPUT --out OUTPUT``: the resumable batch path, on this machine or on a Ray cluster."""
    from .batch import errors_path, score_file

    options = dict(errors=args.errors, input_format=args.input_format, id_column=args.id_column,
                   text_column=args.text_column, resume=args.resume, overwrite=args.overwrite)
    if args.engine == "ray":
        from .distributed import score_path

        summary = score_path(args.files[0], args.out, args.checkpoint, backend=args.backend, quantize=args.quantize,
                             concurrency=args.concurrency, progress=not args.no_progress, **options)
    else:
        from .model.tagger import Tagger

        tagger = Tagger.load(args.checkpoint, backend=args.backend, quantize=args.quantize)
        summary = score_file(tagger, args.files[0], args.out, progress=not args.no_progress, **options)
    if summary is None:
        print(f"{args.out}: written by Ray; rows that could not be scored have their reason in the 'error' column",
              file=sys.stderr)
        return 0
    errors = args.errors or errors_path(Path(args.out))
    print(f"{args.out}: {summary.scored} article(s) scored, {summary.sentences} sentence(s)"
          + (f"; {summary.skipped} already done" if summary.skipped else ""), file=sys.stderr)
    if summary.failed:
        print(f"{summary.failed} row(s) failed and were not scored: see {errors}", file=sys.stderr)
        return 1
    return 0


def _table(name: str, result, labels: dict[str, list[str]]) -> str:
    """A readable table: offsets, then each head's label and its probability, then the sentence."""
    widths = {head: max(len(head), *map(len, names)) + 2 for head, names in labels.items()}
    lines = [f"== {name}", f"{'offsets':>11}  " + "".join(f"{head:<{w}}{'p':>5}  " for head, w in widths.items())
             + "sentence"]
    for s in result.sentences:
        text = " ".join(s.text.split())
        text = text if len(text) <= 70 else text[:67] + "..."
        lines.append(f"{s.start:>5}-{s.end:<5}  " + "".join(f"{s.labels[head]:<{w}}{s.score(head):>5.2f}  "
                                                            for head, w in widths.items()) + text)
        if s.speaker is not None:
            lines.append(" " * 13 + _who(s))
    return "\n".join(lines)


def _who(s) -> str:
    """``speaker: "he" (= "Col. Ryan Dillon") [10-12], cue: "said" [13-17]`` under a sentence."""
    speaker, cue = s.speaker, s.cue
    named = f' (= "{speaker["refers_to"]["text"]}")' if speaker.get("refers_to") else ""
    out = f'speaker: "{speaker["text"]}"{named} [{speaker["start"]}-{speaker["end"]}]'
    return out + (f', cue: "{cue["text"]}" [{cue["start"]}-{cue["end"]}]' if cue else "")


def _labels_from(args: argparse.Namespace):
    config_path = args.config or (DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None)
    if not config_path:
        return None, None
    config = _config(config_path, None, check_files=False)
    return config.labels.label_lists(), config


def cmd_validate(args: argparse.Namespace) -> int:
    from .data.corpus import validate_file

    labels, _ = _labels_from(args)
    seen: dict[str, str] = {}
    total = 0
    for path in args.files:
        articles, problems = validate_file(path, labels, seen)
        for problem in problems:
            print(problem)
        total += len(problems)
        print(f"{path}: {len(articles)} valid article(s), {len(problems)} problem(s)", file=sys.stderr)
    return 1 if total else 0


def cmd_stats(args: argparse.Namespace) -> int:
    from .data.corpus import load_data, read_corpus, split_articles, stats_table

    if not args.files:  # the config's own data: every source, left-out articles, splits by event and origin
        config = _config(args.config or DEFAULT_CONFIG, args.set)
        labels = config.labels.label_lists()
        data = load_data(config)
        print(data.describe())
        groups = {f"{split}-{origin}": [a for a in articles if a.origin == origin]
                  for split, articles in data.splits.items() for origin in data.sources}
        print(f"(split seed {config.data.split_seed} by same-event cluster, dev {config.data.dev_fraction:.0%}, "
              f"test {config.data.test_fraction:.0%})\n")
        print(stats_table(groups, labels))
        return 0
    from .config import DataConfig

    labels, config = _labels_from(args)
    data = config.data if config else DataConfig(corpus=args.files)
    articles = read_corpus(args.files, labels)
    splits = split_articles(articles, data.split_seed, data.dev_fraction, data.test_fraction,
                            by_event={"days": data.event_days, "threshold": data.event_similarity})
    print(f"{len(articles)} articles, {sum(len(a.sentences) for a in articles)} sentences "
          f"(split seed {data.split_seed} by same-event cluster, dev {data.dev_fraction:.0%}, test {data.test_fraction:.0%})\n")
    print(stats_table(splits, labels))
    return 0


def cmd_overlap(args: argparse.Namespace) -> int:
    from .data.corpus import read_corpus
    from .data.events import HELD_OUT_DAYS, HELD_OUT_SIMILARITY, similar_pairs

    articles = read_corpus(args.files, None, repairs=[])
    held = read_corpus(args.against, None, repairs=[])
    days = HELD_OUT_DAYS if args.days is None else args.days
    similarity = HELD_OUT_SIMILARITY if args.similarity is None else args.similarity
    pairs = similar_pairs(articles, held, days=days, threshold=similarity)
    for i, j, cosine in sorted(pairs, key=lambda p: -p[2]):
        a, b = articles[i], held[j]
        print(f"{a.id}\t{a.date or ''}\t{b.id}\t{b.date or ''}\t{cosine:.3f}")
    print(f"{len(pairs)} pair(s) within {days} days with TF-IDF cosine >= {similarity} "
          f"({len(articles)} articles against {len(held)} held-out)", file=sys.stderr)
    return 1 if pairs else 0


def cmd_import_fakes(args: argparse.Namespace) -> int:
    from .data.standoff import read_jsonl, texts_from_fakes_csv

    ids = None
    if args.annotations:
        ids = {record["id"] for path in args.annotations for _, record in read_jsonl(path) if isinstance(record, dict)}
    n = texts_from_fakes_csv(args.csv, args.out, ids)
    print(f"{args.out}: {n} article(s)" + (f" of the {len(ids)} annotated" if ids is not None else ""))
    return 0 if ids is None or n == len(ids) else 1


def cmd_upgrade(args: argparse.Namespace) -> int:
    import json as json_

    from .model.checkpoint import load_checkpoint, save_checkpoint

    model, tokenizer, config = load_checkpoint(args.checkpoint)
    metrics_file = Path(args.checkpoint) / "metrics.json"
    metrics = json_.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file.is_file() else {}
    print(save_checkpoint(args.out, model, tokenizer, config, metrics))
    return 0


def cmd_fit_linker(args: argparse.Namespace) -> int:
    from .data.corpus import config_splits
    from .model.speakers import ranker_path
    from .training.linker import fit_linker, ranking_accuracy, write_linker

    config = _config(args.config or DEFAULT_CONFIG, args.set)
    splits = config_splits(config)
    weights = fit_linker(splits["train"])
    for split in ("train", "dev"):
        for kind, (right, n) in ranking_accuracy(splits[split], weights).items():
            print(f"{split}: {right} of {n} {kind}s linked to their speaker ({right / max(n, 1):.3f}), gold spans")
    out = args.out or str(ranker_path())
    write_linker(weights, out)
    print(f"{out}: " + ", ".join(f"{w['examples']} {kind}s ({w['candidates']} candidates)" for kind, w in weights.items()))
    return 0


def cmd_pseudo_label(args: argparse.Namespace) -> int:
    from .training.pseudo import pseudo_label

    counts = pseudo_label(args.checkpoint, args.texts, args.out, args.exclude or (), args.min_confidence,
                          progress=not args.no_progress)
    print(f"{args.out}: {counts['articles']} article(s), {counts['sentences']} sentence(s) with soft labels "
          f"({counts['dropped_sentences']} below --min-confidence left out)")
    return 0


def cmd_ledger(args: argparse.Namespace) -> int:
    from .ledger.cli import run_ledger

    return run_ledger(args)


def build_parser() -> argparse.ArgumentParser:
    from .config import BACKENDS, QUANTIZE_MODES

    parser = argparse.ArgumentParser(prog="factattr", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("train", help="train a model from a YAML config; prints the best checkpoint's path last")
    p.add_argument("config", help="YAML config, e.g. configs/default.yaml")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a key, e.g. --set training.lr=3e-5")
    p.add_argument("--resume", action="store_true", help="continue the run in output_dir from its last checkpoint")
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty output_dir")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="evaluate a checkpoint (and the baselines) and write a report")
    p.add_argument("--checkpoint", required=True, help="checkpoint directory, e.g. runs/default/best")
    p.add_argument("--config", help="config for data and evaluation options (default: the checkpoint's own)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key")
    p.add_argument("--data", nargs="+", metavar="FILE", help="corpus-format files to evaluate (default: the test split)")
    p.add_argument("--texts", metavar="FILE",
                   help="the texts (id, text lines) of stand-off --data annotations, e.g. data/real/check.jsonl "
                        "with ../shared/realtrain/articles.jsonl")
    p.add_argument("--spans", nargs="+", metavar="FILE",
                   help="stand-off speaker and cue spans of the --data articles (e.g. data/spans/realdev.jsonl, kept "
                        "for evaluation only), for the span, linking and span-error sections")
    p.add_argument("--out", help="report directory (default: report-<data> beside the checkpoint, e.g. runs/default/report-test)")
    p.add_argument("--segmentation", choices=["model", "gold"], default="model",
                   help="model: segment the raw text and align to the gold sentences (default); gold: label the gold sentences")
    p.add_argument("--compare", nargs="+", metavar="CHECKPOINT",
                   help="other checkpoints to score on the same sentences, with a paired bootstrap of the difference "
                        "(e.g. runs/no_context/best)")
    p.add_argument("--ensemble", action="store_true",
                   help="also score the mean probabilities of the model and the compared checkpoints, as the system "
                        "'ensemble' (e.g. three seeds: the teacher that pseudo-label --checkpoint A B C distils)")
    p.add_argument("--no-baselines", action="store_true", help="skip the baselines")
    p.add_argument("--backend", choices=BACKENDS, help="for the model and every compared checkpoint (default: each "
                   "one's own int8 encoder when training accepted it, else its config's); torch: fp32")
    p.add_argument("--quantize", choices=QUANTIZE_MODES, help="override the checkpoint config's inference.quantize")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_evaluate)

    _add_score(sub, BACKENDS, QUANTIZE_MODES)
    _add_collection_tools(sub, BACKENDS, QUANTIZE_MODES)
    _add_data_tools(sub)
    return parser


def _add_score(sub, backends, quantize_modes) -> None:
    p = sub.add_parser("score", help="tag the sentences of articles (files or standard input)")
    p.add_argument("files", nargs="*", metavar="FILE", help="text files (or JSON Lines with --format jsonl); none: stdin")
    p.add_argument("--checkpoint", default="runs/default/best", help="checkpoint directory (default: %(default)s)")
    p.add_argument("--format", choices=["table", "json", "jsonl"], default="table",
                   help="table (default), json, or jsonl: one {'id', 'text'} article per input line, one result per output line")
    p.add_argument("--backend", choices=backends, help="override the checkpoint config's inference.backend")
    p.add_argument("--quantize", choices=quantize_modes, help="override the checkpoint config's inference.quantize")
    g = p.add_argument_group("batch scoring (with --out: one INPUT file, results streamed to OUTPUT in input order)")
    g.add_argument("--out", metavar="OUTPUT", help="write results here: .jsonl or .parquet (a local path; with "
                   "--engine ray also a directory or object-storage URI such as s3://bucket/scores/)")
    g.add_argument("--input-format", choices=("jsonl", "csv", "parquet"), help="default: from INPUT's extension")
    g.add_argument("--id-column", default="id", help="the article id's column or key (default: %(default)s)")
    g.add_argument("--text-column", default="text", help="the article text's column or key (default: %(default)s)")
    g.add_argument("--errors", metavar="FILE", help="bad rows, as JSON Lines of line, id and reason "
                   "(default: OUTPUT with .errors.jsonl for its extension)")
    g.add_argument("--resume", action="store_true", help="continue an interrupted run: rows already in OUTPUT are skipped")
    g.add_argument("--overwrite", action="store_true", help="start again over an existing OUTPUT (replaced at the end)")
    g.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local (default): this process; ray: a pool of Ray actors (pip install factattr[ray])")
    g.add_argument("--concurrency", type=int, default=2, help="--engine ray: actors, each with its own model (default: 2)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_score)


def _add_collection_tools(sub, backends, quantize_modes) -> None:
    p = sub.add_parser("ledger", help="the claims ledger: who claimed what, where and when, across articles")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="scored JSON Lines (factattr score --format jsonl, with optional 'outlet' and 'date'), raw "
                        "articles as JSON Lines of {'id', 'text', 'outlet', 'date'}, or text files")
    p.add_argument("--out", help="ledger file to write: .parquet, .csv or .jsonl")
    p.add_argument("--contested", action="store_true", help="print the contested groups, widest spread first")
    p.add_argument("--contested-out", metavar="FILE", help="write the contested groups as JSON Lines")
    p.add_argument("--top", type=int, default=10, help="contested groups to print (default: %(default)s)")
    p.add_argument("--errors", metavar="FILE",
                   help="where bad rows go (default: <out>.errors.jsonl, or ledger-errors.jsonl without --out)")
    p.add_argument("--checkpoint", default="runs/default/best", help="checkpoint to score raw articles with")
    p.add_argument("--config", help="config whose label schema's roles name the attribution and claim heads "
                   f"(default: the checkpoint's when it scores, else {DEFAULT_CONFIG} when present, else the "
                   "built-in roles)")
    p.add_argument("--backend", choices=backends, help="override the checkpoint config's inference.backend")
    p.add_argument("--quantize", choices=quantize_modes, help="override the checkpoint config's inference.quantize")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_ledger)

    p = sub.add_parser("view", help="write one self-contained HTML page of scored articles, their overview and "
                                    "the ledger's contested claims")
    p.add_argument("files", nargs="+", metavar="ARTICLES",
                   help="scored articles (factattr score --format jsonl, or corpus files with gold labels), or raw "
                        "articles (JSON Lines of id and text, or text files) scored with --checkpoint")
    p.add_argument("--out", required=True, help="the HTML file to write, e.g. view.html")
    p.add_argument("--checkpoint", help="score articles that have no sentences with this checkpoint")
    p.add_argument("--config", help="config whose label schema gives the heads and roles (default: the "
                   f"checkpoint's when it scores, else {DEFAULT_CONFIG} when present, else the heads found in "
                   "the articles and the built-in roles)")
    p.add_argument("--contested", metavar="FILE", help="the ledger's contested groups (JSON Lines), shown in a section")
    p.add_argument("--title", help="the page's title (default: the input file names)")
    p.add_argument("--low-confidence", type=_probability, default=0.6,
                   help="mark sentences whose less sure label has a probability below this (default: %(default)s)")
    p.add_argument("--page-size", type=_positive, default=25, help="articles per page of the page (default: %(default)s)")
    p.add_argument("--backend", choices=backends, help="override the checkpoint config's inference.backend")
    p.add_argument("--quantize", choices=quantize_modes, help="override the checkpoint config's inference.quantize")
    p.set_defaults(func=cmd_view)


def cmd_agreement(args: argparse.Namespace) -> int:
    from .data.agreement import against_gold, agreement, read_pass
    from .data.corpus import read_corpus
    from .data.spans import read_spans, span_agreement

    if args.spans:
        result = span_agreement(read_spans(args.spans[0]), read_spans(args.spans[1]))
    elif args.gold:
        _, config = _labels_from(args)
        labels = config.labels.label_lists() if config else None
        result = against_gold(read_pass(args.file), read_corpus(args.gold, labels), labels)
    else:
        result = agreement(read_pass(args.file))
    print(json.dumps(result, indent=2))
    return 0


def _add_data_tools(sub) -> None:
    p = sub.add_parser("agreement", help="agreement of two annotation passes (labels: Cohen's kappa; spans: exact "
                                         "and overlap F1), or of a pass with gold articles")
    p.add_argument("file", nargs="?", help="a second-pass file (first and second labels per sentence), or with "
                                           "--gold a pass of labels per sentence")
    p.add_argument("--gold", nargs="+", metavar="FILE", help="corpus files the pass is scored against")
    p.add_argument("--spans", nargs=2, metavar=("FIRST", "SECOND"), help="two stand-off span files to compare")
    p.add_argument("--config", help=f"config with the label schema (default: {DEFAULT_CONFIG} if present)")
    p.set_defaults(func=cmd_agreement)

    p = sub.add_parser("stats", help="validate the data and print label counts per split (and per origin)")
    p.add_argument("files", nargs="*", metavar="FILE",
                   help="corpus JSONL files (default: every data source of the config, split by event and origin)")
    p.add_argument("--config", help=f"config with the label schema, data and split (default: {DEFAULT_CONFIG})")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("validate", help="check corpus files and list every problem")
    p.add_argument("files", nargs="+", metavar="FILE", help="corpus JSONL files")
    p.add_argument("--config", help=f"config with the label schema (default: {DEFAULT_CONFIG} if present)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("overlap", help="list articles that report the event of a held-out article (exit 1 if any)")
    p.add_argument("files", nargs="+", metavar="FILE", help="corpus JSONL files to check")
    p.add_argument("--against", nargs="+", required=True, metavar="FILE", help="held-out corpus files, e.g. realdev")
    p.add_argument("--days", type=int, help="publication dates at most this far apart (default: as training checks)")
    p.add_argument("--similarity", type=float, help="TF-IDF cosine at least this (default: as training checks)")
    p.set_defaults(func=cmd_overlap)

    p = sub.add_parser("fit-linker", help="fit the pronoun and role rankers of speaker linking on the training split's "
                                          "annotated speaker links (writes the package's linker.json)")
    p.add_argument("--config", help=f"config whose data and split to fit on (default: {DEFAULT_CONFIG})")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key")
    p.add_argument("--out", help="where to write the weights (default: the installed package's model folder)")
    p.set_defaults(func=cmd_fit_linker)

    p = sub.add_parser("pseudo-label", help="self-training: write a model's soft labels for unannotated articles")
    p.add_argument("--checkpoint", required=True, nargs="+", metavar="CHECKPOINT",
                   help="the teacher checkpoint, e.g. runs/default/best; several: their ensemble (mean probabilities)")
    p.add_argument("--texts", required=True, help="texts file (JSON Lines of id and text)")
    p.add_argument("--exclude", nargs="+", metavar="FILE", help="annotation files whose articles are skipped")
    p.add_argument("--out", required=True, help="stand-off file to write, with soft labels")
    p.add_argument("--min-confidence", type=float, default=0.0,
                   help="keep sentences whose labels all have at least this probability (default: all)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_pseudo_label)

    p = sub.add_parser("upgrade", help="re-save a checkpoint of an older factattr in the current layout")
    p.add_argument("checkpoint", help="checkpoint directory written by an older factattr")
    p.add_argument("--out", required=True, help="directory to write (written atomically)")
    p.set_defaults(func=cmd_upgrade)

    p = sub.add_parser("import-fakes", help="build the texts file of stand-off annotations from the FA-KES CSV")
    p.add_argument("csv", help="the FA-KES release's CSV (unit_id, article_title, article_content, source, date, location)")
    p.add_argument("--out", required=True, help="texts file to write (JSON Lines), e.g. ../shared/realtrain/articles.jsonl")
    p.add_argument("--annotations", nargs="+", metavar="FILE",
                   help="keep only the articles these stand-off files annotate (default: every row)")
    p.set_defaults(func=cmd_import_fakes)


def _check_score_usage(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    batch_only = [f"--{name.replace('_', '-')}" for name in ("errors", "input_format", "resume", "overwrite")
                  if getattr(args, name)] + (["--engine ray"] if args.engine == "ray" else [])
    if args.out and len(args.files) != 1:
        parser.error("score --out takes exactly one INPUT file")
    if not args.out and batch_only:
        parser.error(f"{', '.join(batch_only)} need(s) --out OUTPUT")
    if args.resume and args.overwrite:
        parser.error("--resume and --overwrite exclude each other")
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "score":
        _check_score_usage(parser, args)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    try:
        status = args.func(args)
        sys.stdout.flush()  # a closed pipe shows up here, inside the handler below, not at exit
        return status
    except BrokenPipeError:
        # The reader stopped early (`factattr score ... | head -1`): say nothing, as other Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, the status a shell reports for a tool killed by a closed pipe
    except FactattrError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file the user named: missing, a directory, unreadable, disk full
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
