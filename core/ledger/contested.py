"""Contested claims: claims about the same place (or places close by), an overlapping time window and
the same claim type, that tell of one event (nothing in the sentences sets them apart, see
:mod:`.events`, and their words are alike), where different sources state figures that cannot all be true,
or opposite control claims. Groups are ranked by how far apart the figures are, discounted by how weakly
the disputing sentences resemble each other.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

from .claims import Claim
from .events import Similarity, compatible
from .figures import Figure

NEAR_KM = 25.0
WINDOW_DAYS = 2
SIMILAR = 0.2       # TF-IDF cosine two sentences of one event reach
ROUNDUP_KM = 150.0  # a sentence naming towns this far apart sums up several events
# War-long or months-long tolls ("since 2011", "so far this year") are not reports of one event.
_CUMULATIVE = re.compile(r"\b(?:since|so\s+far|to\s+date|in\s+total|throughout|over\s+the\s+past|"
                         r"in\s+the\s+past|in\s+(?:one|a|two|three|four|five|\d+)\s+(?:day|week|month)s?|in\s+recent\s+days|(?:past|last|in)\s+24\s+hours|(?:last|this|past)\s+(?:week|month|year)|the\s+(?:war|conflict)\s+(?:began|started|erupted))\b",
                         re.IGNORECASE)
# A figure that is one part of a longer list or toll: "Another 42 people...", "Five more civilians...",
# "The toll includes 126 killed by...".
_PART = re.compile(r"^\W*(?:another\b|\S+\s+more\s|(?:the\s+)?(?:death\s+)?toll\s+includes\b)"
                   r"|\bacross\s+(?:the\s+)?(?:province|country|region|governorate)\b", re.IGNORECASE)
# A figure of children or women alone is a part of a toll ("Six children were among the dead").
_SUBSET = re.compile(r"^\W*(?:\S+\s+)?(?:children|child|women|girls|boys)\b", re.IGNORECASE)
# Words that turn a control claim into its opposite: the attack failed, the place is still held.
_DENIAL = re.compile(r"\b(?:repel\w*|foil\w*|thwart\w*|den(?:y|ied|ies)|still\s+(?:hold|held|control)\w*|"
                     r"regain\w*|recaptur\w*|retook|retake\w*|counter-?attack\w*|fail\w*|false)\b", re.IGNORECASE)


@dataclass
class Group:
    kind: str  # the claim head's label the group's claims share
    place: str | None
    lat: float | None
    lon: float | None
    claims: list[Claim]
    spread: float
    reason: str
    score: float = 0.0  # the ranking: log(spread) times the disputing sentences' cosine

    def __getattr__(self, name: str):
        # The claim head's own name reads the kind too (``group.claim_type`` in the default schema).
        claims = self.__dict__.get("claims")
        if claims and name == claims[0].roles.claim:
            return self.kind
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def date_range(self) -> tuple[str | None, str | None]:
        days = sorted(c.when for c in self.claims if c.when)
        return (days[0].isoformat(), days[-1].isoformat()) if days else (None, None)

    def to_dict(self, number: int) -> dict:
        date_from, date_to = self.date_range()
        return {"group": number, self.claims[0].roles.claim: self.kind, "place": self.place, "lat": self.lat,
                "lon": self.lon,
                "date_from": date_from, "date_to": date_to, "spread": self.spread, "reason": self.reason,
                "claims": [_claim_dict(c) for c in self.claims]}


def _claim_dict(claim: Claim) -> dict:
    return {"article_id": claim.article_id, "outlet": claim.outlet, claim.roles.attribution: claim.attribution,
            "speaker": claim.speaker,
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
        buckets[(claim.kind, clusters[_anchor(claim).geonameid])].append(claim)
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


def same_event(a: Claim, b: Claim, similarity: Similarity, threshold: float = SIMILAR) -> bool:
    """Do two sentences tell of one incident? Nothing in them sets the events apart (means, side of the city,
    who holds the place, who died, stated date) and their words are alike (TF-IDF cosine >= ``threshold``)."""
    return compatible(a, b) and similarity(a, b) >= threshold


def _historical(claim: Claim) -> bool:
    """A sentence about an earlier year than the article's ("the August 2013 attack")."""
    years = [int(y) for y in re.findall(r"\b(19[5-9]\d|20[0-3]\d)\b", claim.text)]
    return bool(claim.date and claim.event_date is None and any(y < claim.date.year for y in years))


def _different_sources(a: Claim, b: Claim) -> bool:
    """Two reports, not one speaker updating itself: another outlet, or another attributed source (the
    reporter's own narration is no source)."""
    if a.article_id == b.article_id and a.speaker == b.speaker:
        return False
    return a.outlet != b.outlet or (a.attribution != b.attribution
                                    and a.roles.narration not in (a.attribution, b.attribution))


def _place_of(claim: Claim, figure: Figure):
    """The place a figure is about: the nearest place with coordinates in its sentence."""
    located = [p for p in claim.places if p.lat is not None]
    return min(located, key=lambda p: min(abs(p.start - figure.end), abs(figure.start - p.end)), default=None)


def _toll(claim: Claim, counts: str, here: set[int] | None = None) -> tuple[float, float] | None:
    """A claim's figure for one kind at the group's place: the one with the highest lower bound (its
    total, not a part); a figure nearer another place of the sentence is about that place."""
    offset = claim.start
    intervals = [f.interval() for f in claim.figures if f.counts == counts
                 and not _SUBSET.match(claim.text[f.end - offset:f.end - offset + 40])
                 and (here is None or getattr(_place_of(claim, f), "geonameid", None) in here)]
    return max(intervals, key=lambda i: (i[0], -i[1])) if intervals else None


def _control_dispute(claims: list[Claim]) -> bool:
    """Opposite control claims: two sources, one claims a gain and another says it failed or is reversed."""
    denying = {c.attribution for c in claims if _DENIAL.search(c.text)}
    claiming = {c.attribution for c in claims if not _DENIAL.search(c.text)}
    return bool(denying and claiming and (denying | claiming) - (denying & claiming) and len(denying | claiming) > 1)


def _roundup(claim: Claim) -> bool:
    """A sentence naming towns far apart ("attacks in Damascus, Aleppo and Homs") sums up several events."""
    towns = [p for p in claim.places if p.lat is not None and p.kind == "city"]
    return any(distance_km((p.lat, p.lon), (q.lat, q.lon)) > ROUNDUP_KM for p in towns for q in towns)


def _control(claim: Claim) -> bool:
    """A claim of who holds a place (the ``control`` role's label)."""
    return claim.roles.control is not None and claim.kind == claim.roles.control


def _usable(claim: Claim) -> bool:
    """A report of one event, dated and placed, with figures or a control claim."""
    return bool(claim.when and _anchor(claim) and (claim.figures or _control(claim))
                and not _CUMULATIVE.search(claim.text) and not _PART.search(claim.text) and not _historical(claim)
                and not _roundup(claim))


def figure_spread(claims: list[Claim], similarity: Similarity, here: set[int] | None = None) -> tuple[float, str | None, float]:
    """The strongest disagreement between two sources' figures of one kind about one event: the pair whose
    figures are furthest apart (the ratio of the higher figure's lower bound to the lower figure's upper
    bound, above 1 when both cannot be true), weighted by how alike its sentences are.
    (spread, what is counted, score); score is log(spread) times the sentences' cosine."""
    best: tuple[float, str | None, float] = (1.0, None, 0.0)
    for counts in sorted({f.counts for c in claims for f in c.figures}):
        tolls = [(c, _toll(c, counts, here)) for c in claims if _toll(c, counts, here)]
        for a, (low_a, _) in tolls:
            for b, (_, high_b) in tolls:
                if not (_different_sources(a, b) and 0 < high_b < low_a and same_event(a, b, similarity)):
                    continue
                score = math.log(low_a / high_b) * similarity(a, b)
                if score > best[2]:
                    best = (low_a / high_b, counts, score)
    return best


def contested_groups(claims: list[Claim], window_days: int = WINDOW_DAYS) -> list[Group]:
    """Contested groups, strongest disagreement first (control disputes after figure disputes)."""
    usable = [c for c in claims if _usable(c)]
    similarity = Similarity(usable)
    groups = []
    clusters = _place_clusters([_anchor(c) for c in usable])
    for window in _components(usable, window_days):
        here = {g for g, root in clusters.items() if root == clusters[_anchor(window[0]).geonameid]}
        for members in _incidents(window, similarity):
            group = _judge(members, here, similarity)
            if group:
                groups.append(group)
    return sorted(groups, key=lambda g: (-g.score, -g.spread))


def _incidents(claims: list[Claim], similarity: Similarity) -> list[list[Claim]]:
    """Split claims of one place and window into incidents. A claim joins the first incident it is
    :func:`same_event` with on average and compatible with every member of (no chaining: A like B and B like
    C does not make A and C one event); else it starts one."""
    incidents: list[list[Claim]] = []
    for claim in claims:
        for members in incidents:
            alike = sum(similarity(claim, m) for m in members) / len(members)
            if alike >= SIMILAR and all(compatible(claim, m) for m in members):
                members.append(claim)
                break
        else:
            incidents.append([claim])
    return [sorted(m, key=lambda c: (c.when, c.article_id, c.start)) for m in incidents
            if len({c.article_id for c in m}) > 1]


def _judge(members: list[Claim], here: set[int], similarity: Similarity) -> Group | None:
    """A group when its claims disagree: figures that cannot all be true, or opposite control claims."""
    anchor = _anchor(members[0])
    spread, counts, score = figure_spread(members, similarity, here)
    if counts:
        reason = f"different figures for {counts}"
    elif _control(members[0]) and _control_dispute(members):
        spread, score, reason = 0.0, 0.0, "opposite control claims"
    else:
        return None
    return Group(members[0].kind, anchor.canonical or anchor.name, anchor.lat, anchor.lon, members,
                 round(spread, 3), reason, round(score, 4))
