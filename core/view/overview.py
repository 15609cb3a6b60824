"""The collection overview: counts behind the heatmap, the claims over time and the top speakers."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Sequence

import numpy as np

from factattr.data.events import article_date

from . import charts
from .labels import pretty

NO_CLAIM = "background"  # the claim type that makes no new claim about the war's events
TOP_SPEAKERS = 15


def is_claim(sentence: dict) -> bool:
    return sentence["claim_type"] != NO_CLAIM


def heatmap(articles: Sequence[dict], sources: list[str], claim_types: list[str]) -> dict:
    counts = np.zeros((len(sources), len(claim_types)), dtype=int)
    for article in articles:
        for s in article["sentences"]:
            counts[sources.index(s["source"]), claim_types.index(s["claim_type"])] += 1
    return {"svg": charts.heatmap_svg(counts, sources, claim_types, "Sentences by source and claim type"),
            "rows": [(source, [int(v) for v in counts[i]], int(counts[i].sum())) for i, source in enumerate(sources)],
            "totals": [int(v) for v in counts.sum(axis=0)]}


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


def timeline(articles: Sequence[dict], sources: list[str], colours: dict[str, str]) -> dict:
    """Claims (sentences that are not background) per source by day, week or month, as the dates span."""
    dated = [(day, a) for a in articles if (day := article_date(a)) is not None]
    result = {"undated": len(articles) - len(dated), "svg": None, "unit": None}
    if not dated:
        return result
    first, last = min(d for d, _ in dated), max(d for d, _ in dated)
    span = (last - first).days
    unit = "day" if span <= 31 else "week" if span <= 366 else "month"
    periods = _periods(first, last, unit)
    position = {p: i for i, p in enumerate(periods)}
    series = {source: [0] * len(periods) for source in sources}
    for day, article in dated:
        for s in article["sentences"]:
            if is_claim(s):
                series[s["source"]][position[_period(day, unit)]] += 1
    series = {s: v for s, v in series.items() if any(v)}
    labels = [p.strftime("%Y-%m") if unit == "month" else p.isoformat() for p in periods]
    title = f"Claims per {unit} and source ({len(dated)} dated articles)"
    result.update(unit=unit, first=first.isoformat(), last=last.isoformat(),
                  svg=charts.timeline_svg(labels, series, colours, title) if series else None)
    return result


def speakers(articles: Sequence[dict], colours: dict[str, str]) -> dict:
    """Who makes the most claims: the speaker's words where the results name one, else the source class."""
    counts: Counter = Counter()
    shown: dict[tuple, str] = {}
    for article in articles:
        for s in article["sentences"]:
            if not is_claim(s) or s["source"] == "none":
                continue
            if s.get("speaker"):
                words = " ".join(s["speaker"]["text"].split())
                key = ("speaker", words.casefold(), s["source"])
                shown.setdefault(key, words)
            else:
                key = ("class", s["source"], s["source"])
                shown.setdefault(key, f"{pretty(s['source'])} (source class)")
            counts[key] += 1
    top = [(shown[key], n, key[2], key[0]) for key, n in counts.most_common(TOP_SPEAKERS)]
    svg = charts.speakers_svg([(name, n, colours[source]) for name, n, source, _ in top],
                              f"Top {len(top)} speakers by claims") if top else None
    return {"svg": svg, "rows": top, "with_speaker": any(kind == "speaker" for *_, kind in top)}
