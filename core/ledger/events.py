"""Is it one event? What two claims' sentences say about the event itself, beyond place and day: the means
(air raids, shelling, bombing, ground fighting, chemical weapons), who attacked, the side of a divided city, who holds the
place hit, who the dead were (civilians or fighters) and the stated date; and how alike the sentences are
(TF-IDF cosine). A city has many incidents a day: air raids on the rebel-held east and rebel shelling of the
government-held west are two events, however close their places and days.
"""

from __future__ import annotations

import re

from sklearn.feature_extraction.text import TfidfVectorizer

from .claims import Claim

# The means of an attack. "raids" alone is an air raid in these reports; a barrel bomb is dropped from the air.
MEANS = {
    "air": r"air[\s-]*(?:raids?|strikes?|force|craft|attacks?)|airstrikes?|war\s*planes?|jets?|planes?|raids?|strikes?"
           r"|barrel\s+bombs?|helicopters?|bombardment",
    "shelling": r"shell(?:s|ing|ed)?|rockets?|mortars?|artillery|projectiles?",
    "bombing": r"car\s+bombs?|bomb\s+blast|bombers?|suicide|explosive\s+vest|explosions?|blasts?|ieds?",
    "ground": r"clashes|clashed|fighting|offensive|counter-?offensive|battles?|ambush(?:ed)?|assault",
    "chemical": r"chemical|poison(?:ous)?\s+gas|gas\s+attack|sarin|chlorine|toxic",
}
_MEANS = {kind: re.compile(rf"\b(?:{words})\b", re.IGNORECASE) for kind, words in MEANS.items()}
# The part of a divided city: "eastern Aleppo", "the west of the city", "west Aleppo".
_SIDE = re.compile(r"\b(east|west)(?:ern)?\s+(?=of\b|part|side|neighbo|district|areas?|quarters?|[A-Z])",
                   re.IGNORECASE)
# Who holds the place hit: "rebel-held east", "government-controlled parts", "IS-held area".
_HOLDER = {
    "rebels": re.compile(r"\b(?:rebel|opposition|insurgent)s?[\s-]+(?:held|controlled)\b", re.IGNORECASE),
    "is": re.compile(r"\b(?:is|isis|isil|daesh|jihadist)[\s-]+(?:held|controlled)\b", re.IGNORECASE),
    "government": re.compile(r"\b(?:government|regime|army|loyalist)[\s-]+(?:held|controlled)\b", re.IGNORECASE),
}
# Who attacked: a side named with the means ("regime airstrikes", "rebel shelling", "fired by terrorists").
_MEANS_WORD = r"(?:air|war|jets?|planes?|raids?|strikes?|airstrikes?|bombard\w*|shell\w*|rockets?|mortars?|fire|fired|forces|helicopters?|barrel|attacks?|fighter)"
_ATTACKER = {
    "government": re.compile(rf"\b(?:regime|government|russian|assad|syrian)(?:s|'s)?\s+(?:\w+\s+)?{_MEANS_WORD}\b", re.IGNORECASE),
    "rebels": re.compile(rf"\b(?:rebels?|opposition|terrorists?|militants?|insurgents?|jihadists?)\s+(?:\w+\s+)?"
                         rf"(?:{_MEANS_WORD}|groups?|organi[sz]ations?)\b|\bby\s+(?:the\s+)?(?:rebels?|terrorists?|opposition|militants?)\b",
                         re.IGNORECASE),
    "coalition": re.compile(rf"\b(?:coalition|us-led|american|israeli)\s+(?:\w+\s+)?{_MEANS_WORD}\b", re.IGNORECASE),
}
# Who the dead were, read in the words right after a figure ("Five civilians", "29 Syria Rebels").
VICTIMS = {
    "civilians": r"civilians?|children|child|women|residents|students|teachers|patients|worshippers|families",
    "fighters": r"rebels?|fighters?|militants?|terrorists?|jihadists?|soldiers?|troops?|gunmen|combatants?"
                r"|insurgents?|servicemen|personnel|recruits|members",
}
# Up to three words between, none a preposition: in "injured in terrorist attacks" the terrorists are the attackers.
_VICTIMS = {kind: re.compile(rf"^\W*(?:(?!(?:in|by|of|from|with|on|at)\b)\S+\s+){{0,3}}?(?:{words})\b", re.IGNORECASE)
            for kind, words in VICTIMS.items()}


def means(claim: Claim) -> set[str]:
    return {kind for kind, pattern in _MEANS.items() if pattern.search(claim.text)}


def sides(claim: Claim) -> set[str]:
    return {m.group(1).lower() for m in _SIDE.finditer(claim.text)}


def attackers(claim: Claim) -> set[str]:
    return {kind for kind, pattern in _ATTACKER.items() if pattern.search(claim.text)}


def holders(claim: Claim) -> set[str]:
    return {kind for kind, pattern in _HOLDER.items() if pattern.search(claim.text)}


def victims(claim: Claim) -> set[str]:
    """Civilians or fighters, from the words after each person figure of the sentence."""
    offset, found = claim.start, set()
    for figure in claim.figures:
        after = claim.text[figure.end - offset:figure.end - offset + 60]
        found |= {kind for kind, pattern in _VICTIMS.items() if pattern.search(after)}
    return found


def _clash(a: set[str], b: set[str]) -> bool:
    """Both sentences say it, and say different things."""
    return bool(a and b and not a & b)


def dates_agree(a: Claim, b: Claim, slack_days: int = 1) -> bool:
    """Two stated event dates must be the same day. A report that states none tells of its own day or the
    day before, never of a later day than it was published."""
    stated_a, stated_b = _stated(a), _stated(b)
    if stated_a and stated_b:
        return stated_a == stated_b
    if stated_a or stated_b:
        stated, report = (stated_a, b) if stated_a else (stated_b, a)
        return bool(report.date) and 0 <= (report.date - stated).days <= slack_days
    return bool(a.when and b.when) and abs((a.when - b.when).days) <= slack_days


def _stated(claim: Claim):
    """The event date the sentence states, unless it is a dateline ("Sun 10 Jul 2016 ...", "Published June 8
    2016 ..."): the report's own date, which says nothing about the event's."""
    words = claim.event_date_text or ""
    if not claim.event_date or (re.search(r"\b\d{4}\b", words) and 0 <= claim.text.find(words) < 40):
        return None
    return claim.event_date


def compatible(a: Claim, b: Claim) -> bool:
    """Nothing in the two sentences says they are different events."""
    return (dates_agree(a, b) and not any(_clash(f(a), f(b)) for f in (means, attackers, sides, holders, victims)))


class Similarity:
    """TF-IDF cosine of claim sentences, fitted on the claims compared (words only: the figures are what the
    claims dispute, not what tells the event)."""

    def __init__(self, claims: list[Claim]):
        self.row = {_key(c): i for i, c in enumerate(claims)}
        vectoriser = TfidfVectorizer(stop_words="english", sublinear_tf=True, token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z-]+\b")
        self.matrix = vectoriser.fit_transform([c.text for c in claims]) if claims else None

    def __call__(self, a: Claim, b: Claim) -> float:
        i, j = self.row[_key(a)], self.row[_key(b)]
        return float(self.matrix[i].multiply(self.matrix[j]).sum())


def _key(claim: Claim) -> tuple:
    return claim.article_id, claim.start, claim.end
