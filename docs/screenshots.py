"""The README's screenshots of view.html and report.html, from project-written articles only.

    python docs/screenshots.py --checkpoint runs/default/best      (or: make screenshots)

Scores examples/sample_article.txt and the first articles of data/corpus.jsonl (both written by the
project) with the checkpoint, renders the view, evaluates the checkpoint on those corpus articles (no
baselines) for report.html, and saves three PNGs under docs/: the view's overview, its articles with a
sentence focused from the keyboard, and the report's top.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent


def _small_png(png: bytes, path: Path) -> Path:
    """Save a screenshot with a 256-colour palette: a page of text and flat colours loses nothing visible."""
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(png)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    image.save(path, optimize=True)
    print(f"{path.relative_to(REPO)}: {path.stat().st_size / 1e3:.0f} kB")
    return path


def make_pages(checkpoint: str, folder: Path, n: int) -> tuple[Path, Path]:
    from factattr.eval.evaluate import run_evaluation
    from factattr.model.tagger import Tagger
    from factattr.view import write_view
    from factattr.view.load import scored_article

    lines = (REPO / "data" / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    corpus = [json.loads(line) for line in lines if line.strip()][:n]
    subset = folder / "written.jsonl"
    subset.write_text("".join(json.dumps(a) + "\n" for a in corpus), encoding="utf-8")
    sample = {"id": "sample_article", "title": "examples/sample_article.txt",
              "text": (REPO / "examples" / "sample_article.txt").read_text(encoding="utf-8")}
    raw = [sample] + [{k: a[k] for k in ("id", "title", "outlet", "date", "text") if k in a} for a in corpus]
    tagger = Tagger.load(checkpoint)
    scored = [scored_article({**a, **result.to_dict()}, a["id"])
              for a, result in zip(raw, tagger.score_many([a["text"] for a in raw]))]
    view = write_view(folder / "view.html", scored, title="factattr view: the sample article and written articles",
                      page_size=5)
    report = run_evaluation(checkpoint, data=[str(subset)], out=folder / "report", baselines=False, progress=False)
    return view, report.out_dir / "report.html"


def shoot(view: Path, report: Path) -> None:
    from selenium.webdriver.common.by import By

    from factattr.view.browser import chromium, open_page, severe_logs

    with chromium(1200, 860) as driver:
        open_page(driver, view)
        _small_png(driver.get_screenshot_as_png(), DOCS / "view-overview.png")
        driver.execute_script("document.getElementById('articles').scrollIntoView()")
        sentence = driver.find_elements(By.CSS_SELECTOR, "#a0 .s")[2]
        driver.execute_script("window.scrollBy(0, arguments[0].getBoundingClientRect().top - 260)", sentence)
        driver.execute_script("arguments[0].focus({preventScroll: true})", sentence)
        time.sleep(0.2)
        _small_png(driver.get_screenshot_as_png(), DOCS / "view-articles.png")
        open_page(driver, report)
        _small_png(driver.get_screenshot_as_png(), DOCS / "report.png")
        errors = severe_logs(driver)
        if errors:
            raise SystemExit(f"console errors: {errors}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--articles", type=int, default=40, help="corpus articles to show (default: %(default)s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="factattr-shots-") as tmp:
        shoot(*make_pages(args.checkpoint, Path(tmp), args.articles))
    return 0


if __name__ == "__main__":
    sys.exit(main())
