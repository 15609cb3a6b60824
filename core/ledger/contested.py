"""Contested claims: claims about the same place (or places close by), an overlapping time window and
the same claim type, where different sources state figures that cannot all be true, or opposite
control claims. Groups are ranked by how far apart the figures are.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

from .claims import Claim
from .figures import Figure

NEAR_KM = 25.0
WINDOW_DAYS = 2
# War-long or months-long tolls ("since 2011", "so far this year") are not reports of one event.
_CUMULATIVE = re.compile(r"\b(?:since|so\s+far|to\s+date|in\s+total|throughout|over\s+the\s+past|"
                         r"in\s+the\s+past|in\s+(?:one|a|two|three)\s+(?:week|month)s?|in\s+recent\s+days|(?:past|last|in)\s+24\s+hours|(?:last|this|past)\s+(?:week|month|year)|the\s+(?:war|conflict)\s+(?:began|started|erupted))\b",
                         re.IGNORECASE)
# Words that turn a control claim into its opposite: the attack failed, the place is still held.
_DENIAL = re.compile(r"\b(?:repel\w*|foil\w*|thwart\w*|den(?:y|ied|ies)|still\s+(?:hold|held|control)\w*|"
                     r"regain\w*|recaptur\w*|retook|retake\w*|counter-?attack\w*|fail\w*|false)\b", re.IGNORECASE)


@dataclass
class Group:
    claim_type: str
    place: str | None
    lat: float | None
    lon: float | None
    claims: list[Claim]
    spread: float
    reason: str

    def date_range(self) -> tuple[str | None, str | None]:
        days = sorted(c.when for c in self.claims if c.when)
        return (days[0].isoformat(), days[-1].isoformat()) if days else (None, None)

    def to_dict(self, number: int) -> dict:
        date_from, date_to = self.date_range()
        return {"group": number, "claim_type": self.claim_type, "place": self.place, "lat": self.lat, "lon": self.lon,
                "date_from": date_from, "date_to": date_to, "spread": self.spread, "reason": self.reason,
                "claims": [_claim_dict(c) for c in self.claims]}


def _claim_dict(claim: Claim) -> dict:
    return {"article_id": claim.article_id, "outlet": claim.outlet, "source": claim.source, "speaker": claim.speaker,
            "start": claim.start, "end": claim.end, "text": claim.text,
            "date": claim.when.isoformat() if claim.when else None,
            "figures": [{k: f.to_dict()[k] for k in ("text", "start", "end", "value_min", "value_max", "counts")}
                        for f in claim.figures]}


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _anchor(claim: Claim):
    """The claim's first place with coordinates (a town, not a country): where it happened."""
    return next((p for p in claim.places if p.lat is not None), None)


def _place_clusters(anchors: list) -> dict[int, int]:
    """Places (by GeoNames id) merged with those within ``NEAR_KM``: id -> cluster id."""
    places = {p.geonameid: p for p in anchors}
    ids = sorted(places)
    cluster = {i: i for i in ids}

    def root(i: int) -> int:
        while cluster[i] != i:
            i = cluster[i]
        return i

    for k, a in enumerate(ids):
        for b in ids[k + 1:]:
            if distance_km((places[a].lat, places[a].lon), (places[b].lat, places[b].lon)) <= NEAR_KM:
                cluster[root(b)] = root(a)
    return {i: root(i) for i in ids}


def _components(claims: list[Claim], window_days: int) -> list[list[Claim]]:
    """Claims of one type and place cluster, cut into windows of ``window_days`` from each window's first
    claim (no chaining: a month of daily reports from one city is not one event)."""
    clusters = _place_clusters([_anchor(c) for c in claims])  # cheap: one pass over the distinct places
    buckets: dict[tuple, list[Claim]] = defaultdict(list)
    for claim in claims:
        buckets[(claim.claim_type, clusters[_anchor(claim).geonameid])].append(claim)
    groups = []
    for members in buckets.values():
        members.sort(key=lambda c: (c.when, c.article_id, c.start))
        current: list[Claim] = []
        for claim in members:
            if current and (claim.when - current[0].when).days > window_days:
                groups.append(current)
                current = []
            current.append(claim)
        groups.append(current)
    return [g for g in groups if len({c.article_id for c in g}) > 1]


_STOP = {"that", "this", "with", "from", "have", "were", "been", "said", "their", "they", "which", "when", "after",
         "also", "into", "against", "about", "other", "others", "more", "than", "least", "including", "people",
         "killed", "wounded", "injured", "syrian", "syria", "forces", "according", "there", "while", "where"}


def _words(claim: Claim) -> set[str]:
    return {w for w in re.findall(r"[a-z]{4,}", claim.text.lower()) if w not in _STOP}


def same_event(a: Claim, b: Claim, threshold: float = 0.15) -> bool:
    """Do two sentences tell of one incident? Their content words overlap (Jaccard) at least ``threshold``:
    the same city has many incidents a day, and a strike on a market is not a shelling of a district."""
    wa, wb = _words(a), _words(b)
    return bool(wa and wb) and len(wa & wb) / len(wa | wb) >= threshold


def _historical(claim: Claim) -> bool:
    """A sentence about an earlier year than the article's ("the August 2013 attack")."""
    years = [int(y) for y in re.findall(r"\b(19[5-9]\d|20[0-3]\d)\b", claim.text)]
    return bool(claim.date and claim.event_date is None and any(y < claim.date.year for y in years))


def _different_sources(a: Claim, b: Claim) -> bool:
    """Two reports, not one speaker updating itself: another outlet, or another attributed source."""
    if a.article_id == b.article_id and a.speaker == b.speaker:
        return False
    return a.outlet != b.outlet or (a.source != b.source and "none" not in (a.source, b.source))


def _place_of(claim: Claim, figure: Figure):
    """The place a figure is about: the nearest place with coordinates in its sentence."""
    located = [p for p in claim.places if p.lat is not None]
    return min(located, key=lambda p: min(abs(p.start - figure.end), abs(figure.start - p.end)), default=None)


def _toll(claim: Claim, counts: str, here: set[int] | None = None) -> tuple[float, float] | None:
    """A claim's figure for one kind at the group's place: the one with the highest lower bound (its
    total, not a part); a figure nearer another place of the sentence is about that place."""
    intervals = [f.interval() for f in claim.figures if f.counts == counts
                 and (here is None or getattr(_place_of(claim, f), "geonameid", None) in here)]
    return max(intervals, key=lambda i: (i[0], -i[1])) if intervals else None


def figure_spread(claims: list[Claim], here: set[int] | None = None) -> tuple[float, str | None]:
    """The widest gap between two sources' figures of one kind: the ratio of the higher figure's lower
    bound to the lower figure's upper bound (above 1 when both cannot be true). (spread, what is counted)."""
    best: tuple[float, str | None] = (1.0, None)
    kinds = {f.counts for c in claims for f in c.figures}
    for counts in sorted(kinds):
        tolls = [(c, _toll(c, counts, here)) for c in claims if _toll(c, counts, here)]
        for a, (low_a, _) in tolls:
            for b, (_, high_b) in tolls:
                if _different_sources(a, b) and 0 < high_b < low_a and low_a / high_b > best[0] and same_event(a, b):
                    best = (low_a / high_b, counts)
    return best


def _control_dispute(claims: list[Claim]) -> bool:
    """Opposite control claims: two sources, one claims a gain and another says it failed or is reversed."""
    denying = {c.source for c in claims if _DENIAL.search(c.text)}
    claiming = {c.source for c in claims if not _DENIAL.search(c.text)}
    return bool(denying and claiming and (denying | claiming) - (denying & claiming) and len(denying | claiming) > 1)


def contested_groups(claims: list[Claim], window_days: int = WINDOW_DAYS) -> list[Group]:
    """Contested groups, widest figure spread first (control disputes after figure disputes)."""
    usable = [c for c in claims if c.when and _anchor(c) and not _CUMULATIVE.search(c.text) and not _historical(c)
              and (c.figures or c.claim_type == "territorial_control")]
    groups = []
    clusters = _place_clusters([_anchor(c) for c in usable])
    for window in _components(usable, window_days):
        here = {g for g, root in clusters.items() if root == clusters[_anchor(window[0]).geonameid]}
        for members in _incidents(window):
            group = _judge(members, here)
            if group:
                groups.append(group)
    return sorted(groups, key=lambda g: -g.spread)


def _incidents(claims: list[Claim]) -> list[list[Claim]]:
    """Split claims of one place and window into incidents: connected by :func:`same_event`."""
    seen: set[int] = set()
    out = []
    for i in range(len(claims)):
        if i in seen:
            continue
        stack, members = [i], []
        seen.add(i)
        while stack:
            k = stack.pop()
            members.append(claims[k])
            for j in range(len(claims)):
                if j not in seen and same_event(claims[k], claims[j]):
                    seen.add(j)
                    stack.append(j)
        if len({c.article_id for c in members}) > 1:
            out.append(sorted(members, key=lambda c: (c.when, c.article_id, c.start)))
    return out


def _judge(members: list[Claim], here: set[int]) -> Group | None:
    """A group when its claims disagree: figures that cannot all be true, or opposite control claims."""
    anchor = _anchor(members[0])
    spread, counts = figure_spread(members, here)
    if counts:
        reason = f"different figures for {counts}"
    elif members[0].claim_type == "territorial_control" and _control_dispute(members):
        spread, reason = 0.0, "opposite control claims"
    else:
        return None
    return Group(members[0].claim_type, anchor.canonical or anchor.name, anchor.lat, anchor.lon, members,
                 round(spread, 3), reason)
