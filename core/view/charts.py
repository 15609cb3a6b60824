"""The overview's charts, drawn with matplotlib and inlined as SVG (text kept as text, so it scales and
reads in the browser's own font; nothing is fetched)."""

from __future__ import annotations

import io
import re
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .labels import pretty  # noqa: E402


def _svg(fig, name: str) -> str:
    """The figure as an inline ``<svg>`` element; ids are salted by chart name, so two charts on one page
    never share an id and the same data draws the same file."""
    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"factattr-{name}"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]  # drop the XML prolog and doctype: not allowed inside HTML
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)  # RDF boilerplate, nothing to show
    return re.sub(r"<svg ", '<svg role="img" focusable="false" ', svg, count=1)


def heatmap_svg(counts: np.ndarray, rows: Sequence[str], columns: Sequence[str], title: str, row_name: str,
                column_name: str) -> str:
    """Sentences per (row label, column label), each cell with its count; the axes named by their heads."""
    fig, ax = plt.subplots(figsize=(1.05 * len(columns) + 2.6, 0.5 * len(rows) + 1.9))
    top = max(int(counts.max()), 1) if counts.size else 1
    ax.imshow(counts, cmap="Blues", vmin=0, vmax=top, aspect="auto")
    ax.set_xticks(range(len(columns)), [pretty(c) for c in columns], rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), [pretty(s) for s in rows])
    for i in range(len(rows)):
        for j in range(len(columns)):
            value = int(counts[i, j])
            ax.text(j, i, str(value), ha="center", va="center", fontsize=9,
                    color="white" if value > top * 0.55 else "#1a1a1a")
    ax.set_xlabel(column_name)
    ax.set_ylabel(row_name)
    ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return _svg(fig, "heatmap")


def timeline_svg(periods: Sequence[str], series: dict[str, Sequence[int]], colours: dict[str, str], title: str) -> str:
    """Claims per period, one line per label (its badge colour, and its name in the legend)."""
    fig, ax = plt.subplots(figsize=(8.5, 3.4))
    x = np.arange(len(periods))
    markers = "osD^vP*X"
    for k, (label, values) in enumerate(series.items()):
        ax.plot(x, values, marker=markers[k % len(markers)], markersize=4, linewidth=1.6, color=colours[label],
                label=pretty(label))
    step = max(1, len(periods) // 12)
    ax.set_xticks(x[::step], [periods[i] for i in range(0, len(periods), step)], rotation=30, ha="right")
    ax.set_ylabel("claims")
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color="#dddddd")
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return _svg(fig, "timeline")


def speakers_svg(rows: Sequence[tuple[str, int, str]], title: str) -> str:
    """Horizontal bars: ``(speaker, claims, colour)`` from the most claims down."""
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(rows) + 1.2))
    names = [name if len(name) <= 42 else name[:40] + "…" for name, _, _ in rows]
    y = np.arange(len(rows))
    ax.barh(y, [n for _, n, _ in rows], color=[c for _, _, c in rows])
    ax.set_yticks(y, names, fontsize=8)
    ax.invert_yaxis()
    for i, (_, n, _) in enumerate(rows):
        ax.text(n, i, f" {n}", va="center", fontsize=8)
    ax.set_xlabel("claims")
    ax.set_title(title, fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return _svg(fig, "speakers")
