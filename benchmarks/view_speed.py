"""How fast the pages open in headless Chromium, and how big they are: view.html and report.html for the
seed article, realdev and a 200-article collection, and view.html for a 1,000-article collection.

    python benchmarks/view_speed.py --checkpoint runs/default/best [--repeat 3] [--out DIR]

The view pages show the checkpoint's scores (raw texts scored here); the report pages are written by
``run_evaluation`` (no baselines) on the same articles. The 200-article collection is the first 200
articles of data/corpus.jsonl; the 1,000-article one repeats those 200 scored articles five times under
new ids (the page's work grows with its articles and sentences, not with what they say). Each page is
loaded ``--repeat`` times in one browser; the time is from navigation start to the first frame painted
after the page's script has run, as Chromium's clock measures it (median of the loads). Console errors
are counted on every load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEED = REPO.parent / "shared" / "seeds" / "000_945875a9a204537a.gold.jsonl"
REALDEV = REPO.parent / "shared" / "realdev" / "realdev.jsonl"
CORPUS = REPO / "data" / "corpus.jsonl"


def _read(path: Path, limit: int | None = None) -> list[dict]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [json.loads(line) for line in lines[:limit]]


def _scored(tagger, articles: list[dict]) -> list[dict]:
    """The articles as ``factattr score --format jsonl`` would write them (metadata kept)."""
    from factattr.view.load import scored_article

    out = []
    for article, result in zip(articles, tagger.score_many([a["text"] for a in articles])):
        record = {k: article[k] for k in ("id", "title", "outlet", "date") if k in article}
        out.append(scored_article({**record, **result.to_dict()}, article["id"]))
    return out


def build_pages(checkpoint: str, out: Path, collections: dict[str, Path], n: int, big: int) -> list[tuple[str, Path]]:
    from factattr.eval.evaluate import run_evaluation
    from factattr.model.tagger import Tagger
    from factattr.view import write_view

    tagger = Tagger.load(checkpoint)
    pages = []
    for name, path in collections.items():
        articles = _read(path, n)
        subset = out / f"{name}.jsonl"
        subset.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
        print(f"scoring {name}: {len(articles)} article(s)", file=sys.stderr)
        scored = _scored(tagger, articles)
        pages.append((f"view {name} ({len(scored)} articles)", write_view(out / f"view-{name}.html", scored, title=name)))
        report = run_evaluation(checkpoint, data=[str(subset)], out=out / f"report-{name}", baselines=False,
                                progress=False)
        pages.append((f"report {name} ({len(articles)} articles)", report.out_dir / "report.html"))
        if len(scored) == n and big > n:
            copies = [{**a, "id": f"{a['id']}~{k}"} for k in range(big // n) for a in scored]
            pages.append((f"view {name} x{big // n} ({len(copies)} articles)",
                          write_view(out / f"view-{name}-{len(copies)}.html", copies, title=f"{name}, {len(copies)}")))
    return pages


def time_pages(pages: list[tuple[str, Path]], repeat: int) -> None:
    from factattr.view.browser import chromium, open_page, severe_logs

    print(f"\n{'page':<42}{'size MB':>9}{'load s (median)':>17}{'max s':>8}{'filter s':>10}{'console errors':>16}")
    with chromium() as driver:
        for name, path in pages:
            times, filters, errors = [], [], 0
            for _ in range(repeat):
                driver.get("about:blank")
                times.append(open_page(driver, path))
                filters.append(_filter_seconds(driver))
                errors += len(severe_logs(driver))
            filtered = f"{statistics.median(filters):>10.3f}" if filters[0] is not None else f"{'-':>10}"
            print(f"{name:<42}{path.stat().st_size / 1e6:>9.2f}{statistics.median(times):>17.2f}{max(times):>8.2f}"
                  f"{filtered}{errors:>16}")


def _filter_seconds(driver) -> float | None:
    """A view page's response to a filter: untick the colour head's (the source's) first label, until the
    page's layout is done."""
    return driver.execute_script(
        "var box = document.querySelector('#f-h0 input'); if (!box) { return null; }"
        "var start = performance.now(); box.click(); document.body.getBoundingClientRect();"
        "return (performance.now() - start) / 1000;")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--repeat", type=int, default=3, help="loads per page (default: %(default)s)")
    parser.add_argument("--out", help="folder for the pages (default: a temporary folder, removed after)")
    parser.add_argument("--articles", type=int, default=200, help="the collection's size (default: %(default)s)")
    parser.add_argument("--big", type=int, default=1000, help="the large collection's size (default: %(default)s)")
    args = parser.parse_args()
    collections = {name: path for name, path in (("seed", SEED), ("realdev", REALDEV), ("corpus", CORPUS))
                   if path.is_file()}
    for name, path in (("seed", SEED), ("realdev", REALDEV)):
        if name not in collections:
            print(f"({path} not present: {name} skipped)", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="factattr-view-") as tmp:
        out = Path(args.out or tmp)
        out.mkdir(parents=True, exist_ok=True)
        time_pages(build_pages(args.checkpoint, out, collections, args.articles, args.big), args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
