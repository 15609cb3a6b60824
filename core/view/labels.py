"""Label order and colours shared by the page and its charts.

Each source has a light background tint for highlighted text (dark text stays readable on it) and a dark
badge colour that white text reads on; a source is always shown with its name too, never by colour alone.
"""

from __future__ import annotations

from typing import Iterable

# The default schema's labels, in its order; other schemas' labels follow in order of appearance.
KNOWN = {"source": ["syrian_army", "iraqi_command", "us_coalition", "anonymous_officer", "other", "none"],
         "claim_type": ["territorial_control", "casualties", "force_strength", "military_action", "assessment",
                        "background"]}
# (tint, badge) pairs; every badge colour gives white text a contrast above 7:1.
_SOURCE_COLOURS = {"syrian_army": ("#fbe0de", "#9b1c1c"), "iraqi_command": ("#dcebfa", "#0b4a82"),
                   "us_coalition": ("#dff2dc", "#1d5f2b"), "anonymous_officer": ("#fdf0c8", "#6b4700"),
                   "other": ("#ece2f6", "#56287f"), "none": ("#eeeeee", "#474747")}
_SPARE = [("#d9f1f1", "#0b5656"), ("#f9e1ef", "#85154f"), ("#e6e9d0", "#4b5311"), ("#e2e4f7", "#2f3680")]


def label_order(head: str, seen: Iterable[str]) -> list[str]:
    """The default schema's order for known labels (those seen, or all if none is), the others after."""
    seen = list(dict.fromkeys(seen))
    known = [label for label in KNOWN.get(head, []) if label in seen]
    return known + [label for label in seen if label not in known]


def source_colours(sources: Iterable[str]) -> dict[str, tuple[str, str]]:
    """(tint, badge) per source; sources outside the default schema take spare colours in turn."""
    colours, spare = {}, 0
    for source in sources:
        if source in _SOURCE_COLOURS:
            colours[source] = _SOURCE_COLOURS[source]
        else:
            colours[source] = _SPARE[spare % len(_SPARE)]
            spare += 1
    return colours


def pretty(label: str) -> str:
    return label.replace("_", " ")
