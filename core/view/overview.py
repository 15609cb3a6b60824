"""The collection overview: counts behind the heatmap, the claims over time and the top speakers."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Sequence

import numpy as np

from factattr.config import Roles
from factattr.data.events import date_from_text

from . import charts
from .labels import pretty

TOP_SPEAKERS = 15


def is_claim(sentence: dict, roles: Roles) -> bool:
    """Does the sentence make a claim? All do when the schema has no claim head."""
    return roles.claim is None or sentence["labels"][roles.claim] != roles.no_claim


def heatmap(articles: Sequence[dict], rows: tuple[str, list[str]], columns: tuple[str, list[str]]) -> dict:
    """Sentences per (row head's label, column head's label); each given as (head, its labels in order)."""
    (row_head, row_labels), (column_head, column_labels) = rows, columns
    counts = np.zeros((len(row_labels), len(column_labels)), dtype=int)
    for article in articles:
        for s in article["sentences"]:
            counts[row_labels.index(s["labels"][row_head]), column_labels.index(s["labels"][column_head])] += 1
    title = f"Sentences by {pretty(row_head)} and {pretty(column_head)}"
    return {"svg": charts.heatmap_svg(counts, row_labels, column_labels, title, pretty(row_head), pretty(column_head)),
            "rows": [(label, [int(v) for v in counts[i]], int(counts[i].sum())) for i, label in enumerate(row_labels)],
            "totals": [int(v) for v in counts.sum(axis=0)], "row_head": row_head, "column_head": column_head,
            "column_labels": column_labels}


def _period(day: dt.date, unit: str) -> dt.date:
    if unit == "month":
        return day.replace(day=1)
    if unit == "week":
        return day - dt.timedelta(days=day.weekday())
    return day


def _periods(first: dt.date, last: dt.date, unit: str) -> list[dt.date]:
    """Every period from the first date's to the last's, empty ones included (a gap in coverage shows)."""
    out, at = [], _period(first, unit)
    while at <= last:
        out.append(at)
        if unit == "month":
            at = (at.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        else:
            at += dt.timedelta(days=7 if unit == "week" else 1)
    return out


def timeline(articles: Sequence[dict], head: str, labels: list[str], colours: dict[str, str], roles: Roles) -> dict:
    """Claims (sentences whose claim label is not the ``no_claim`` role's) per label of ``head`` by day,
    week or month, as the dates span."""
    dated = [(day, a) for a in articles if (day := date_from_text(a["date"])) is not None]
    result = {"undated": len(articles) - len(dated), "svg": None, "unit": None}
    if not dated:
        return result
    first, last = min(d for d, _ in dated), max(d for d, _ in dated)
    span = (last - first).days
    unit = "day" if span <= 31 else "week" if span <= 366 else "month"
    periods = _periods(first, last, unit)
    position = {p: i for i, p in enumerate(periods)}
    series = {label: [0] * len(periods) for label in labels}
    for day, article in dated:
        for s in article["sentences"]:
            if is_claim(s, roles):
                series[s["labels"][head]][position[_period(day, unit)]] += 1
    series = {s: v for s, v in series.items() if any(v)}
    names = [p.strftime("%Y-%m") if unit == "month" else p.isoformat() for p in periods]
    title = f"{'Claims' if roles.claim else 'Sentences'} per {unit} and {pretty(head)} ({len(dated)} dated articles)"
    result.update(unit=unit, first=first.isoformat(), last=last.isoformat(),
                  svg=charts.timeline_svg(names, series, colours, title) if series else None)
    return result


def speakers(articles: Sequence[dict], colours: dict[str, str], roles: Roles) -> dict:
    """Who makes the most claims: the speaker's words where the results name one, else the attribution
    label (the reporter's own narration left out). Without an attribution head: no chart."""
    head = roles.attribution
    if head is None:
        return {"svg": None, "rows": [], "with_speaker": False, "head": None}
    counts: Counter = Counter()
    shown: dict[tuple, str] = {}
    for article in articles:
        for s in article["sentences"]:
            label = s["labels"][head]
            if not is_claim(s, roles) or label == roles.narration:
                continue
            if s.get("speaker"):
                words = " ".join(s["speaker"]["text"].split())
                key = ("speaker", words.casefold(), label)
                shown.setdefault(key, words)
            else:
                key = ("class", label, label)
                shown.setdefault(key, f"{pretty(label)} ({pretty(head)} class)")
            counts[key] += 1
    top = [(shown[key], n, key[2], key[0]) for key, n in counts.most_common(TOP_SPEAKERS)]
    svg = charts.speakers_svg([(name, n, colours[source]) for name, n, source, _ in top],
                              f"Top {len(top)} speakers by claims") if top else None
    return {"svg": svg, "rows": top, "with_speaker": any(kind == "speaker" for *_, kind in top), "head": head}
