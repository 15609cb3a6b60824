"""``report.html``: the evaluation report as one self-contained page (report.md's tables, its pictures
embedded, and the worst errors each in its context), rendered from ``report.json``'s numbers: nothing is
measured again here."""

from __future__ import annotations

import base64
from pathlib import Path

from factattr.view import environment, write_text_atomic

from .report_md import _f, _f1_ci

RENDERED = "report.html"


def _embedded(path: Path) -> str:
    """A picture as a data URI, so the page needs no file beside it."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render_report_html(results: dict, labels: dict, out_dir: str | Path) -> str:
    """The page for an evaluation's results (the ``report.json`` dict); ``labels``: ``{head: [labels]}`` in
    the schema's order; its PNG pictures are read from ``out_dir``, where the evaluation wrote them."""
    env = environment()
    env.filters.update(f=_f, f1_ci=_f1_ci, points=lambda x: f"{x * 100:+.1f}")
    env.globals["zip"] = zip
    pictures = {key: _embedded(Path(out_dir) / name) for key, name in results.get("pictures", {}).items()}
    return env.get_template("report.html").render(title=f"factattr evaluation: {results['data']}", r=results,
                                                  labels=labels, heads=list(labels), pictures=pictures)


def write_report_html(results: dict, labels: dict, out_dir: str | Path) -> Path:
    """Write ``report.html`` into ``out_dir``, whole or not at all."""
    return write_text_atomic(Path(out_dir) / RENDERED, render_report_html(results, labels, out_dir))
