"""``factattr view``: scored articles, their overview and the ledger's contested claims as one HTML page.

``read_articles`` reads scored (or raw, scored on the way) articles, ``read_contested`` the ledger's
contested groups, ``render_view`` builds the page and ``write_view`` writes it atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .contested import read_contested
from .load import read_articles, tagger_scorer
from .page import LOW_CONFIDENCE, PAGE_SIZE, environment, render_view, write_text_atomic

__all__ = ["LOW_CONFIDENCE", "PAGE_SIZE", "environment", "read_articles", "read_contested", "render_view",
           "tagger_scorer", "write_text_atomic", "write_view"]


def write_view(out: str | Path, articles: Sequence[dict], contested: Sequence[dict] | None = None, **options) -> Path:
    """Render the page (options as :func:`render_view`) and write it to ``out`` whole or not at all."""
    return write_text_atomic(out, render_view(articles, contested, **options))
