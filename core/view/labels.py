"""Label order and colours shared by the page and its charts.

Each label of the colour head (the attribution head, else the first) has a light background tint for
highlighted text (dark text stays readable on it) and a dark badge colour that white text reads on; a
label is always shown with its name too, never by colour alone.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Iterable

from factattr.config import load_config


@cache
def known_orders() -> dict[str, list[str]]:
    """The default config's label order per head (none without the repository's configs/default.yaml)."""
    path = Path(__file__).resolve().parents[2] / "configs" / "default.yaml"
    return load_config(path, check_files=False).labels.label_lists() if path.is_file() else {}

# (tint, badge) pairs; every badge colour gives white text a contrast above 7:1.
_SOURCE_COLOURS = {"syrian_army": ("#fbe0de", "#9b1c1c"), "iraqi_command": ("#dcebfa", "#0b4a82"),
                   "us_coalition": ("#dff2dc", "#1d5f2b"), "anonymous_officer": ("#fdf0c8", "#6b4700"),
                   "other": ("#ece2f6", "#56287f"), "none": ("#eeeeee", "#474747")}
_SPARE = [("#d9f1f1", "#0b5656"), ("#f9e1ef", "#85154f"), ("#e6e9d0", "#4b5311"), ("#e2e4f7", "#2f3680")]


def label_order(head: str, seen: Iterable[str]) -> list[str]:
    """The default schema's order for known labels (those seen, or all if none is), the others after."""
    seen = list(dict.fromkeys(seen))
    known = [label for label in known_orders().get(head, []) if label in seen]
    return known + [label for label in seen if label not in known]


def label_colours(labels: Iterable[str]) -> dict[str, tuple[str, str]]:
    """(tint, badge) per label of the colour head; labels outside the default schema's sources take spare
    colours in turn."""
    colours, spare = {}, 0
    for label in labels:
        if label in _SOURCE_COLOURS:
            colours[label] = _SOURCE_COLOURS[label]
        else:
            colours[label] = _SPARE[spare % len(_SPARE)]
            spare += 1
    return colours


def pretty(label: str) -> str:
    return label.replace("_", " ")
