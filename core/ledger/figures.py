"""Figures: the numbers a sentence states, what each counts, as exact values or ranges, with offsets.

A number is a figure only when it counts something of the war (``COUNTS``): a counted noun after it
("12 civilians", "31 lorries") or an event word near it ("killing 10", "6 were wounded"). Dates, years,
ages, durations, resolutions and share counters are not figures. The conventions (what counts, how
"dozens" or "at least" become ranges) are those of ``data/ANNOTATION_NOTES.md`` section 22.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

from text_to_num import text2num

COUNTS = ("killed", "wounded", "captured", "displaced", "fighters", "civilians", "people", "strikes", "villages",
          "vehicles", "buildings")
PERSON_CLASSES = {"fighters", "civilians", "people"}


@dataclass(frozen=True)
class Figure:
    """A figure: ``text == sentence_text[start - offset:end - offset]``; an open end is ``None``."""

    text: str
    start: int
    end: int
    value_min: float | None
    value_max: float | None
    counts: str

    def to_dict(self) -> dict:
        return asdict(self)

    def interval(self) -> tuple[float, float]:
        """The figure as a closed interval, open ends as 0 and infinity (for comparing claims)."""
        low = self.value_min if self.value_min is not None else 0.0
        high = self.value_max if self.value_max is not None else math.inf
        return low, high


_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "thirty",
          "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_WORD = r"(?:" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")"
_WORDS = rf"{_WORD}(?:[\s-]+(?:{_WORD}|hundred|thousand|million)(?![\w-]))*"
_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MULT = r"(?:\s+(?:million|thousand|hundred|billion)(?!\w))?"
_NUMBER = rf"(?:(?<![\w.,$€£])(?:{_DIGITS})(?![\w%])(?!\.\d)(?!,\d){_MULT}|(?<![\w-]){_WORDS}(?![\w-]))"
_MAGNITUDE = {"dozens": (24, 99), "scores": (40, 99), "hundreds": (200, 999), "thousands": (2000, 9999),
              "millions": (2_000_000, 9_990_000), "tens of thousands": (20000, 99999),
              "hundreds of thousands": (200000, 999999)}
_SCALE = {"dozen": 12, "hundred": 100, "thousand": 1000, "million": 1_000_000}
_VAGUE = (r"(?:tens|hundreds)\s+of\s+thousands|dozens|scores|hundreds|thousands|millions|half\s+a\s+dozen"
          rf"|(?:a|one|two|three|four|five)\s+dozen|(?:several|a\s+few)\s+(?:dozen|hundred|thousand|million)(?!s)")
_LOWER = r"at\s+least|more\s+than|over|in\s+excess\s+of|upwards\s+of|no\s+fewer\s+than|no\s+less\s+than"
_UPPER = r"up\s+to|at\s+most|fewer\s+than|less\s+than|under|no\s+more\s+than"
_APPROX = r"about|around|some|nearly|almost|approximately|roughly|an\s+estimated|estimated|close\s+to"
_RANGE = rf"(?:between\s+(?P<a1>{_NUMBER})\s+and\s+(?P<b1>{_NUMBER})|(?P<a2>{_NUMBER})\s*(?:-|–|to|or)\s*(?P<b2>{_NUMBER}))"
_FIGURE = re.compile(
    rf"(?:(?P<lower>{_LOWER})\s+|(?P<upper>{_UPPER})\s+|(?P<approx>{_APPROX})\s+)?"
    rf"(?:{_RANGE}|(?P<vague>{_VAGUE})(?![\w-])|(?P<num>{_NUMBER}))(?P<ormore>\s+or\s+more)?",
    re.IGNORECASE)

_MONTH = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|sep(?:t(?:ember)?)?"
          r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
# What follows a number that is not a count: units of time, distance, money, age; ordinals and names.
_NOT_AFTER = re.compile(
    r"^(?:\s*(?:-\s*)?(?:years?|year-old|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|am|pm|a\.m\.|p\.m\."
    r"|o'?clock|km|kilomet(?:er|re)s?|miles?|met(?:er|re)s?|percent|per\s+cent|%|dollars?|euros?|pounds?|kg"
    r"|kilograms?|tons?|tonnes?|square|sq|st|nd|rd|th|century|times|mm)(?![\w])|\s*(?:" + _MONTH + r")\b\.?"
    r"|\s*(?:-|–)\s*(?:year|day|week|month|hour|minute)\b|\s+\d|\.\d)", re.IGNORECASE)
_NOT_BEFORE = re.compile(
    r"(?:\b(?:" + _MONTH + r")\.?|\bresolutions?|\barticle|\bchapter|\bdivision|\bbrigade|\bno\.|\bsu|\bmig"
    r"|\bmi|\bf|\bsection|\broute|\bhighway|\bband|\bunit|\bflight|\bpage|\bage\s+of|\baged|\$|\bsince"
    r"|\bof\s+the)\s*-?\s*$", re.IGNORECASE)

# Counted nouns (singular or plural stems) and the class they give.
_NOUNS = {
    "people": "people", "person": "people", "persons": "people", "men": "people", "man": "people",
    "families": "people", "family": "people", "individuals": "people", "victims": "people", "others": None,
    "civilians": "civilians", "civilian": "civilians", "children": "civilians", "child": "civilians",
    "women": "civilians", "woman": "civilians", "residents": "civilians", "infants": "civilians",
    "volunteers": "civilians", "journalists": "civilians", "medics": "civilians", "patients": "civilians",
    "students": "civilians", "workers": "civilians", "doctors": "civilians", "mourners": "civilians",
    "fighters": "fighters", "fighter": "fighters", "militants": "fighters", "militant": "fighters",
    "terrorists": "fighters", "terrorist": "fighters", "rebels": "fighters", "rebel": "fighters",
    "troops": "fighters", "soldiers": "fighters", "soldier": "fighters", "insurgents": "fighters",
    "jihadists": "fighters", "commanders": "fighters", "commander": "fighters", "gunmen": "fighters",
    "recruits": "fighters", "advisers": "fighters", "advisors": "fighters", "personnel": "fighters",
    "servicemen": "fighters", "officers": "fighters", "mercenaries": "fighters", "members": "fighters",
    "policemen": "fighters", "guards": "fighters", "marines": "fighters", "extremists": "fighters",
    "martyrs": "killed", "bodies": "killed", "dead": "killed", "deaths": "killed", "corpses": "killed",
    "injured": "wounded", "wounded": "wounded", "injuries": "wounded", "casualties": "wounded",
    "prisoners": "captured", "detainees": "captured", "hostages": "captured", "captives": "captured",
    "refugees": "displaced", "migrants": "displaced", "evacuees": "displaced", "displaced": "displaced",
    "airstrikes": "strikes", "airstrike": "strikes", "strikes": "strikes", "strike": "strikes", "raids": "strikes",
    "raid": "strikes", "sorties": "strikes", "shells": "strikes", "shell": "strikes", "missiles": "strikes",
    "missile": "strikes", "rockets": "strikes", "rocket": "strikes", "bombs": "strikes", "attacks": "strikes",
    "bombings": "strikes", "explosions": "strikes", "mortars": "strikes", "blasts": "strikes",
    "villages": "villages", "village": "villages", "towns": "villages", "cities": "villages",
    "neighbourhoods": "villages", "neighborhoods": "villages", "areas": "villages", "positions": "villages",
    "checkpoints": "villages", "hills": "villages", "districts": "villages", "localities": "villages",
    "vehicles": "vehicles", "vehicle": "vehicles", "tanks": "vehicles", "cars": "vehicles", "trucks": "vehicles",
    "lorries": "vehicles", "aircraft": "vehicles", "warplanes": "vehicles", "planes": "vehicles",
    "jets": "vehicles", "helicopters": "vehicles", "boats": "vehicles", "buses": "vehicles",
    "buildings": "buildings", "houses": "buildings", "homes": "buildings", "hospitals": "buildings",
    "schools": "buildings", "mosques": "buildings", "facilities": "buildings",
}
# Event words: what happened to the people a figure counts.
_EVENTS = [
    ("killed", r"kill\w*|dead|died|die|dying|deaths?|martyr\w*|executed|execut\w+|slain|bodies|lives|toll"
               r"|eliminat\w+|massacred|perished|claim(?:s|ed|ing)?"),
    ("wounded", r"wound\w*|injur\w*|hurt|suffered"),
    ("captured", r"captured|arrested|detained|abducted|kidnapped|surrendered|prisoners?|taken\s+prisoner"),
    ("displaced", r"displaced|fled|flee\w*|evacuated|refugees|returned\s+home"),
]
_EVENT = [(name, re.compile(rf"^(?:{pattern})$", re.IGNORECASE)) for name, pattern in _EVENTS]
_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d,.]*")
_SKIP_NOUN = re.compile(r"^(?:more|other|of|the|a|an|\w+-?year-old|[A-Z][\w-]*|\(|aid|local|regime|government|"
                        r"pro-\w+|syrian|iraqi|russian|kurdish|army|security|armed|opposition|rebel|isis|isil)$")


def number_value(text: str) -> float:
    """The value of a number in digits ("1,500", "1.5 million") or words ("twenty-five")."""
    text = text.strip().lower()
    match = re.fullmatch(rf"({_DIGITS})\s*(million|thousand|hundred|billion)?", text)
    if match:
        scale = {"million": 1e6, "thousand": 1e3, "hundred": 1e2, "billion": 1e9}.get(match.group(2), 1.0)
        return float(match.group(1).replace(",", "")) * scale
    return float(text2num(re.sub(r"[\s-]+", " ", text), "en"))


def _vague_value(text: str) -> tuple[float, float]:
    words = re.sub(r"\s+", " ", text.lower())
    if words in _MAGNITUDE:
        return _MAGNITUDE[words]
    if words == "half a dozen":
        return 6, 6
    head, unit = words.rsplit(" ", 1)
    scale = _SCALE[unit]
    if head in ("several", "a few"):
        return 2 * scale, 9 * scale
    count = 1 if head in ("a", "one") else text2num(head, "en")
    return count * scale, count * scale


def _values(match: re.Match) -> tuple[float | None, float | None]:
    """(value_min, value_max) by the conventions: bounds, ranges, magnitudes, approximations."""
    groups = match.groupdict()
    if groups["a1"] or groups["a2"]:
        low = number_value(groups["a1"] or groups["a2"])
        high = number_value(groups["b1"] or groups["b2"])
        if high < low and (groups["a2"] or "").isdigit() and len(groups["b2"]) < len(groups["a2"]):
            high = float(str(int(low))[: len(str(int(low))) - len(groups["b2"])] + groups["b2"])  # "1500-50"
        return low, high
    low, high = _vague_value(groups["vague"]) if groups["vague"] else (number_value(groups["num"]),) * 2
    if groups["lower"] or groups["ormore"]:
        return low, None
    if groups["upper"]:
        return None, high
    return float(low), float(high)


def _tokens(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]


def _event_at(word: str) -> str | None:
    for name, pattern in _EVENT:
        if pattern.match(word):
            return name
    return None


def _noun_class(text: str, end: int, after: list[tuple[int, int, str]]) -> str | None:
    """The class of the counted noun after the figure ("31-vehicle convoy", "12 Daesh terrorists")."""
    compound = re.match(r"-([a-z]+)", text[end:])
    if compound and compound.group(1) in _NOUNS:
        return _NOUNS[compound.group(1)]
    for _, _, word in after[:6]:
        lower = word.lower()
        if lower in _NOUNS:
            return _NOUNS[lower] or ""
        if not _SKIP_NOUN.match(word):
            return None
    return None


def _event_class(before: list[tuple[int, int, str]], after: list[tuple[int, int, str]]) -> str | None:
    """What happened to the counted: an event word just before, within the same phrase ("killing 10",
    "claimed the lives of two"), else one within four tokens after ("6 were wounded"), else the nearest
    within ten after or twelve before."""
    for _, _, word in reversed(before[-3:]):
        if word.lower() in ("and", "while", "but", "as"):
            break
        if _event_at(word):
            return _event_at(word)
    found_after = next(((d, _event_at(w)) for d, (_, _, w) in enumerate(after[:10], 1) if _event_at(w)), None)
    if found_after and found_after[0] <= 4:
        return found_after[1]
    found_before = next(((d, _event_at(w)) for d, (_, _, w) in enumerate(reversed(before[-12:]), 1) if _event_at(w)),
                        None)
    candidates = [c for c in (found_after, found_before) if c]
    return min(candidates, key=lambda c: c[0])[1] if candidates else None


def _excluded(text: str, match: re.Match) -> bool:
    """Dates, years, units, names with numbers, share counters: numbers that count nothing."""
    if match.group("vague"):
        return False
    head = text[: match.start()]
    tail = text[match.end():]
    if _NOT_AFTER.match(tail) or _NOT_BEFORE.search(head[-20:]):
        return True
    number = match.group("num") or ""
    if re.fullmatch(r"(?:1[89]|20)\d\d", number) and not match.group("lower"):
        return True  # a year: "in 2014", "2011 and 2012"
    if re.match(r"\s+of\b", tail) and re.fullmatch(r"one", match.group(0).strip(), re.IGNORECASE):
        return True  # "one of those killed"
    return any(a < match.end() and match.start() < b for a, b in _dates(text))


def _dates(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"(?<![\w.])\d{1,4}[-./]\d{1,2}[-./]\d{2,4}", text)]


def extract_figures(text: str, offset: int = 0) -> list[Figure]:
    """The figures of one sentence, in order; ``offset`` is added to the character offsets."""
    tokens = _tokens(text)
    matches = [m for m in _FIGURE.finditer(text) if not _excluded(text, m)]
    figures: list[Figure] = []
    for k, match in enumerate(matches):
        start, end = match.span()
        limit = len(text)
        if k + 1 < len(matches) and not re.search(r"(?:including|among them|of them)\s*$", text[:matches[k + 1].start()]):
            limit = matches[k + 1].start()
        before = [t for t in tokens if t[1] <= start]
        after = [t for t in tokens if t[0] >= end and t[1] <= limit]  # up to the next number
        counts = _counts(text, end, before, after, figures)
        if counts is None:
            continue
        try:
            low, high = _values(match)
        except ValueError:
            continue  # words that are no one number ("two million three million")
        figures.append(Figure(text[start:end], start + offset, end + offset, low, high, counts))
    return figures


def _counts(text: str, end: int, before, after, previous: list[Figure]) -> str | None:
    noun = _noun_class(text, end, after)
    if noun and noun not in PERSON_CLASSES:
        return noun
    event = _event_class(before, after)
    if event:
        return event
    joined = " ".join(word.lower() for _, _, word in before[-3:])
    if previous and re.search(r"(?:including|among them|among whom|of whom|of them|in addition to|as well as|plus|and)$",
                              joined):
        return previous[-1].counts
    return noun or None
