"""``factattr ledger``: read scored or raw articles, build the ledger, write it, list contested groups."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from factattr.errors import FactattrError, InputError

from .inputs import BadRow, Item, read_items
from .ledger import Ledger, _suffix, atomic_write


def run_ledger(args: argparse.Namespace) -> int:
    if not args.out and not args.contested and not args.contested_out:
        raise InputError("nothing to do: give --out FILE (.parquet, .csv, .jsonl), --contested or --contested-out")
    if args.out:
        _suffix(Path(args.out))  # refuse an unknown format before any work
    items = list(read_items(args.files))
    bad = [item for item in items if isinstance(item, BadRow)]
    good = [item for item in items if isinstance(item, Item)]
    tagger = _tagger(args) if any(item.result is None for item in good) else None
    from factattr.cli import command_roles

    ledger = Ledger(roles=command_roles(args, tagger.config if tagger else None))
    from tqdm import tqdm

    for item, result in tqdm(zip(good, _results(good, tagger)), total=len(good), desc="ledger", unit="article",
                             disable=True if args.no_progress else None, file=sys.stderr):
        try:
            ledger.add(item.article_id, result, item.outlet, item.date)
        except FactattrError as exc:
            bad.append(BadRow(item.path, item.line, item.article_id, str(exc)))
    if args.out:
        ledger.write(args.out)
        print(f"{args.out}: {len(ledger.claims)} claim(s) from {len(good) - _failed(bad, good)} article(s)",
              file=sys.stderr)
    if args.contested or args.contested_out:
        _contested(ledger, args)
    return _report_bad(bad, args)


def _tagger(args: argparse.Namespace):
    from factattr.model.tagger import Tagger

    return Tagger.load(args.checkpoint, backend=args.backend, quantize=args.quantize)


def _results(items: list[Item], tagger):
    """Each item's scored result; raw texts are scored with the checkpoint, in order, on the way."""
    raw = [item.text for item in items if item.result is None]
    scored = tagger.score_many(raw) if raw else iter(())
    for item in items:
        yield item.result if item.result is not None else next(scored).to_dict()


def _failed(bad: list[BadRow], good: list[Item]) -> int:
    ids = {(b.path, b.line) for b in bad}
    return sum((item.path, item.line) in ids for item in good)


def _contested(ledger: Ledger, args: argparse.Namespace) -> None:
    groups = ledger.contested()
    if args.contested_out:
        text = "".join(json.dumps(g.to_dict(n), ensure_ascii=False) + "\n" for n, g in enumerate(groups, 1))
        atomic_write(Path(args.contested_out), lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
        print(f"{args.contested_out}: {len(groups)} contested group(s)", file=sys.stderr)
    if args.contested:
        print(contested_table(groups, args.top))


def contested_table(groups, top: int) -> str:
    """A readable listing: per group the place, dates, type and spread, then one line per claim."""
    lines = [f"{len(groups)} contested group(s)" + (f"; the first {top}:" if len(groups) > top else ":")]
    for number, group in enumerate(groups[:top], 1):
        date_from, date_to = group.date_range()
        dates = date_from if date_from == date_to else f"{date_from}..{date_to}"
        lines.append(f"\n#{number}  {group.place}  {dates}  {group.kind}  spread {group.spread:g}  ({group.reason})")
        for claim in group.claims:
            figures = ", ".join(f"{f.text} {f.counts}" for f in claim.figures) or "-"
            lines.append(f"    {claim.when}  {str(claim.outlet or ''):<10} {claim.article_id:<18} {claim.speaker:<18} "
                         f"{figures}")
    return "\n".join(lines)


def _report_bad(bad: list[BadRow], args: argparse.Namespace) -> int:
    if not bad:
        return 0
    path = Path(args.errors or (f"{args.out}.errors.jsonl" if args.out else "ledger-errors.jsonl"))
    text = "".join(json.dumps(b.to_dict(), ensure_ascii=False) + "\n" for b in bad)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    print(f"{len(bad)} bad row(s) skipped; each with file, line and reason in {path}", file=sys.stderr)
    return 1
