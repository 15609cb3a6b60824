"""Precision of contested groups against a person's same-event judgments (``data/ledger/contested_judgments.jsonl``).

    python benchmarks/contested_eval.py CONTESTED.jsonl [MORE.jsonl ...] [--k 10 30] [--texts ARTICLES.jsonl]
    python benchmarks/contested_eval.py A.jsonl B.jsonl --todo     # the unjudged claim pairs of both, shuffled

A judgment is about a pair of claims (article id, sentence offsets): do the two sentences report the same
event? It does not depend on which grouping put them together, so the pairs of several lists are judged
once, in shuffled order, without knowing which list they came from. A group is correct when every pair of
its claims is judged the same event, wrong when one pair is judged not, unjudged otherwise; precision@k is
correct groups over the first k (unjudged ones count as not correct and are reported).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
JUDGMENTS = REPO / "data" / "ledger" / "contested_judgments.jsonl"


def claim_key(claim: dict) -> tuple[str, int, int]:
    return claim["article_id"], int(claim["start"]), int(claim["end"])


def pair_key(a: tuple, b: tuple) -> tuple:
    return tuple(sorted((tuple(a), tuple(b))))


def read_judgments(path: Path, texts_path: Path | None = None) -> dict[tuple, bool]:
    """Pair -> same event; with the articles' texts, refuse a judgment whose article text differs (sha256)."""
    from factattr.errors import CorpusError

    texts = None
    if texts_path and texts_path.is_file():
        from factattr.data.standoff import read_texts, text_hash
        texts = {k: text_hash(v["text"]) for k, v in read_texts(texts_path).items()}
    verdicts = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        record = json.loads(line)
        ends = [(c["id"], c["start"], c["end"]) for c in (record["a"], record["b"])]
        if texts is not None and any(texts.get(c["id"]) != c["sha256"] for c in (record["a"], record["b"])):
            raise CorpusError(f"{path}:{number}: an article of this judgment is missing from {texts_path} or its text "
                              "differs from the judged one (sha256); use the original realtrain texts")
        verdicts[pair_key(*ends)] = bool(record["same_event"])
    return verdicts


def read_groups(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def group_pairs(group: dict) -> list[tuple]:
    keys = sorted({claim_key(c) for c in group["claims"]})
    return [pair_key(a, b) for a, b in itertools.combinations(keys, 2)]


def verdict(group: dict, judged: dict[tuple, bool]) -> bool | None:
    """True when every pair is the same event, False when one is not, None when a pair is unjudged."""
    values = [judged.get(p) for p in group_pairs(group)]
    if False in values:
        return False
    return None if None in values else True


def precision_at(groups: list[dict], judged: dict[tuple, bool], k: int) -> tuple[float, int, int]:
    """(precision@k, groups judged wrong, groups unjudged) over the first k groups."""
    top = [verdict(g, judged) for g in groups[:k]]
    return sum(v is True for v in top) / max(len(top), 1), top.count(False), top.count(None)


def print_todo(files: list[Path], judged: dict[tuple, bool], attribution: str) -> None:
    """Every unjudged pair of the lists, shuffled, with both sentences (and each claim's label under the
    ``attribution`` head): for the person judging."""
    texts, pairs = {}, set()
    for path in files:
        for group in read_groups(path):
            texts.update({claim_key(c): c for c in group["claims"]})
            pairs.update(p for p in group_pairs(group) if p not in judged)
    order = sorted(pairs)
    random.Random(15).shuffle(order)
    for a, b in order:
        print(json.dumps({"a": a, "b": b}))
        for key in (a, b):
            c = texts[key]
            print(f"   {c['outlet']} {c['date']} {c[attribution]}: {c['text'][:400]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("contested", nargs="+", help="contested groups as `factattr ledger --contested-out` writes")
    parser.add_argument("--judgments", default=str(JUDGMENTS))
    parser.add_argument("--texts", default=str(REPO.parent / "shared" / "realtrain" / "articles.jsonl"),
                        help="the realtrain articles, to check the judged texts' sha256 (skipped when absent)")
    parser.add_argument("--k", type=int, nargs="+", default=[10, 30])
    parser.add_argument("--todo", action="store_true", help="print the unjudged pairs instead of scoring")
    parser.add_argument("--config", default=str(REPO / "configs" / "default.yaml"),
                        help="config whose roles name the attribution head of the groups' claims (--todo)")
    args = parser.parse_args(argv)
    path = Path(args.judgments)
    judged = read_judgments(path, Path(args.texts)) if path.is_file() else {}
    files = [Path(p) for p in args.contested]
    if args.todo:
        from factattr.config import load_config
        from factattr.ledger.claims import ledger_roles

        print_todo(files, judged, ledger_roles(load_config(args.config, check_files=False).roles).attribution)
        return 0
    print(f"{'file':<40}{'groups':>7}" + "".join(f"{'P@' + str(k):>8}{'wrong':>6}{'unjdg':>6}" for k in args.k))
    for file in files:
        groups = read_groups(file)
        cells = "".join(f"{p:>8.3f}{w:>6}{u:>6}" for p, w, u in (precision_at(groups, judged, k) for k in args.k))
        print(f"{str(file)[-40:]:<40}{len(groups):>7}{cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
