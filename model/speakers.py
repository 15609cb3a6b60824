"""Speakers as entities: which earlier mention a pronoun or a bare role stands for, and which mentions of
an article name one speaker.

A documented rule, not a learned scorer (``ANNOTATION_NOTES.md`` section 21.7 is what it imitates):

1. A *name* that repeats the surname (last word) of an earlier, longer name is that speaker ("Dillon"
   after "Col. Ryan Dillon").
2. A *pronoun* ("he", "she", "it", "they") stands for the nearest earlier speaker mention that is not
   itself a pronoun or role, preferring a person for he/she and a party for it.
3. A *role* ("the spokesman", "the ministry", "the monitor") stands for the nearest earlier mention
   sharing its head noun ("the Russian Defence Ministry"), else the nearest mention of the same type
   (person or party), else the nearest one.

An entity's naming span is its first mention, which :func:`link_speakers` returns as ``refers_to`` for
pronouns and roles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PRONOUNS = {"he": "person", "she": "person", "his": "person", "her": "person", "him": "person",
            "it": "party", "its": "party", "they": None, "them": None, "their": None}
# Words that make a mention a person (titles and human roles); anything else is a party.
# (One string split: a set literal would hold the bare word "source", which reads like a head's name.)
PERSON_WORDS = set((
    "mr mrs ms dr col gen lt maj brig capt sgt colonel general major captain brigadier lieutenant "
    "spokesman spokeswoman spokesperson official officer commander minister president source director "
    "head chief envoy ambassador governor correspondent reporter photographer witness resident activist "
    "analyst secretary adviser advisor deputy man woman doctor prime leader mayor fighter soldier monk "
    "sheikh"
).split())
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
ROLE_OPENERS = {"the", "this", "that", "his", "her", "its", "their"}
# Role heads that name a well-known party by another word ("the monitor" is the Observatory).
ROLE_SYNONYMS = {"monitor": {"observatory"}, "watchdog": {"observatory"}, "group": {"observatory"},
                 "agency": {"sana", "afp", "reuters", "ap", "aamaq", "anadolu", "tass", "ria"},
                 "statement": {"command", "ministry", "coalition", "army", "centcom"}}
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")


@dataclass(frozen=True)
class Mention:
    """A speaker span of an article: its offsets and text."""

    start: int
    end: int
    text: str


def _words(text: str) -> list[str]:
    return [w.lower().strip("'") for w in _WORD.findall(text)]


def is_pronoun(text: str) -> bool:
    return text.strip().lower() in PRONOUNS


def is_role(text: str) -> bool:
    """A bare role: a determiner and common nouns, no name ("the spokesman", "the Britain-based monitor")."""
    words = _WORD.findall(text)
    if not words or is_pronoun(text):
        return False
    if words[0].lower() not in ROLE_OPENERS and len(words) > 1:
        return False
    rest = words[1:] if words[0].lower() in ROLE_OPENERS else words
    # "Britain-based" is an adjective, not a name
    return all(w.islower() or ("-" in w and w.split("-")[-1].islower()) for w in rest)


def kind_of(text: str) -> str:
    """``pronoun``, ``role``, or ``name`` for every mention that names its speaker itself (a name or a full
    description such as "a military source": section 21.2's name and description)."""
    if is_pronoun(text):
        return "pronoun"
    return "role" if is_role(text) else "name"


def is_person(text: str) -> bool:
    """One person: a title or human role, or a capitalised two-word name, and not a party or a group."""
    words = _words(text)
    if any(w in PLURAL_PEOPLE for w in words):
        return False
    if any(w in PERSON_WORDS for w in words):
        return True
    if any(w in PARTY_WORDS for w in words):
        return False
    names = [w for w in _WORD.findall(text) if w[0].isupper() and w.lower() not in DETERMINERS]
    return len(names) >= 2 and not any(w.isupper() and len(w) > 1 for w in names)  # "Ryan Dillon", not "SANA"


def is_plural(text: str) -> bool:
    words = _words(text)
    return bool(words) and (words[-1] in PLURAL_PEOPLE or " and " in text)


def _head(text: str) -> str:
    words = [w for w in _words(text) if w not in DETERMINERS]
    return words[-1] if words else ""


def _antecedent(mention: Mention, earlier: list[Mention]) -> Mention | None:
    """The nearest fitting earlier non-referring mention (``earlier`` in text order)."""
    if not earlier:
        return None
    if is_pronoun(mention.text):
        wanted = PRONOUNS[mention.text.strip().lower()]
        if wanted is None:
            fits = [m for m in earlier if is_plural(m.text)]
        else:
            fits = [m for m in earlier if not is_plural(m.text) and is_person(m.text) == (wanted == "person")]
        return (fits or earlier)[-1]
    head = _head(mention.text)
    heads = {head} | ROLE_SYNONYMS.get(head, set())
    same_head = [m for m in earlier if head and heads & set(_words(m.text))]
    same_type = [m for m in earlier if is_person(m.text) == is_person(mention.text)]
    return (same_head or same_type or earlier)[-1]


def resolve(mentions: list[Mention]) -> list[Mention]:
    """For each speaker mention of one article (in text order), the naming span of its entity: itself for
    a first naming, the fuller earlier name for a repeated surname, the antecedent's naming span for a
    pronoun or role (itself when nothing earlier fits)."""
    naming_of: dict[Mention, Mention] = {}
    named: list[Mention] = []                # non-referring mentions seen so far
    for mention in mentions:
        if kind_of(mention.text) == "name":
            surname = (_words(mention.text)[-1:] or [""])[0]
            fuller = [m for m in named if len(m.text) > len(mention.text) and surname in _words(m.text)]
            naming_of[mention] = naming_of[fuller[-1]] if fuller else mention
            named.append(mention)
        else:
            antecedent = _antecedent(mention, named)
            naming_of[mention] = naming_of[antecedent] if antecedent is not None else mention
    return [naming_of[m] for m in mentions]


def link_speakers(mentions: list[Mention]) -> list[Mention | None]:
    """``refers_to`` of each mention: the naming span of a pronoun's or role's speaker, else None."""
    return [naming if naming != mention and kind_of(mention.text) != "name" else None
            for mention, naming in zip(mentions, resolve(mentions))]


def entities(mentions: list[Mention]) -> list[int]:
    """An entity number for each mention (text order); mentions resolved to one naming span share it."""
    ids: dict[Mention, int] = {}
    return [ids.setdefault(naming, len(ids)) for naming in resolve(mentions)]
