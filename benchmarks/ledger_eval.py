"""Figure extraction and place resolution against the ledger's gold (``data/ledger/gold.jsonl``).

    python benchmarks/ledger_eval.py [--part dev|test|all] [--texts ../shared/realtrain/articles.jsonl] [--errors]

Figures: a predicted figure is right when a gold figure of the same sentence has the same value_min,
value_max and counts (its span may differ). Places: a gold mention is resolved right when a predicted
mention overlaps it and names the same GeoNames id (or both are unknown: null); accuracy is over the gold
mentions, and the predicted mentions that overlap no gold one are counted apart.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load(gold_path: Path, texts_path: Path) -> list[dict]:
    from factattr.data.standoff import read_texts, text_hash
    from factattr.errors import CorpusError

    texts = read_texts(texts_path)
    rows = []
    for number, line in enumerate(gold_path.read_text(encoding="utf-8").splitlines(), 1):
        record = json.loads(line)
        article = texts.get(record["id"])
        if article is None or text_hash(article["text"]) != record["sha256"]:
            raise CorpusError(f"{gold_path}:{number}: article {record['id']!r} is missing from {texts_path} or its "
                              "text differs from the annotated one (sha256); use the original realtrain texts")
        rows.append({**record, "text": article["text"]})
    return rows


def score_part(rows: list[dict], resolver, show_errors: bool) -> dict:
    from factattr.ledger.figures import extract_figures

    tp = fp = fn = 0
    right = total = spurious = 0
    for row in rows:
        sentence = row["text"][row["start"]:row["end"]]
        predicted = [(f.value_min, f.value_max, f.counts) for f in extract_figures(sentence, row["start"])]
        gold = [(f["value_min"], f["value_max"], f["counts"]) for f in row["figures"]]
        matched = sum((Counter(predicted) & Counter(gold)).values())
        tp, fp, fn = tp + matched, fp + len(predicted) - matched, fn + len(gold) - matched
        if show_errors and Counter(predicted) != Counter(gold):
            print(f"FIG {row['id']}@{row['start']}: gold {gold} predicted {predicted}\n    {sentence[:160]}")
        places = resolver.find(sentence, row["start"])
        for gp in row["places"]:
            total += 1
            hit = [p for p in places if p.start < gp["end"] and gp["start"] < p.end]
            ok = bool(hit) and hit[0].geonameid == gp["geonameid"]
            right += ok
            if show_errors and not ok:
                got = (hit[0].name, hit[0].geonameid) if hit else None
                print(f"PLACE {row['id']}@{row['start']}: {row['text'][gp['start']:gp['end']]!r} gold {gp['geonameid']} got {got}")
        for p in places:
            if not any(p.start < g["end"] and g["start"] < p.end for g in row["places"]):
                spurious += 1
                if show_errors:
                    print(f"EXTRA {row['id']}@{row['start']}: {p.name!r} -> {p.geonameid}")
    return {"sentences": len(rows), "gold_figures": tp + fn, "figure_precision": tp / max(tp + fp, 1),
            "figure_recall": tp / max(tp + fn, 1), "gold_places": total, "place_accuracy": right / max(total, 1),
            "extra_places": spurious}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", default=str(REPO / "data" / "ledger" / "gold.jsonl"))
    parser.add_argument("--texts", default=str(REPO.parent / "shared" / "realtrain" / "articles.jsonl"))
    parser.add_argument("--part", choices=["dev", "test", "all"], default="all")
    parser.add_argument("--errors", action="store_true", help="print every disagreement")
    args = parser.parse_args(argv)
    from factattr.ledger.places import PlaceResolver

    rows = load(Path(args.gold), Path(args.texts))
    resolver = PlaceResolver()
    parts = ["dev", "test"] if args.part == "all" else [args.part]
    print(f"{'part':<6}{'sentences':>10}{'figures':>9}{'fig P':>8}{'fig R':>8}{'places':>8}{'place acc':>11}{'extra':>7}")
    for part in parts:
        r = score_part([row for row in rows if row["part"] == part], resolver, args.errors)
        print(f"{part:<6}{r['sentences']:>10}{r['gold_figures']:>9}{r['figure_precision']:>8.3f}{r['figure_recall']:>8.3f}"
              f"{r['gold_places']:>8}{r['place_accuracy']:>11.3f}{r['extra_places']:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
