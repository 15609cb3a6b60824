"""Claims: one row per sentence that states a claim, from scored sentences as ``ArticleResult.to_dict()``
(or ``factattr score --format jsonl``) gives them: ``text``, ``start``, ``end`` and a label under the name of
each head; the schema's :class:`~factattr.config.Roles` say which head is the attribution (who claims) and
which the claim type.

A sentence result may carry ``speaker: {"text", "start", "end", "refers_to"}`` (the span of who speaks);
the claim's speaker is its text, else the attribution label. Sentences whose claim label is the
``no_claim`` role's (background, in the default schema) are not claims.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from factattr.config import Roles
from factattr.errors import InputError

from .figures import Figure, extract_figures
from .places import Place, PlaceResolver
from .times import event_date, parse_date

SPAN_KEYS = ("text", "start", "end")
LEDGER_ROLES = ("attribution", "claim")  # the roles the ledger cannot work without


def ledger_roles(roles: Roles | None) -> Roles:
    """The roles a ledger works with (the default schema's when none are given), refused when incomplete."""
    roles = Roles.defaults() if roles is None else roles
    roles.require(*LEDGER_ROLES, user="the claims ledger")
    return roles


@dataclass(frozen=True)
class Claim:
    article_id: str
    outlet: str | None
    date: dt.date | None
    start: int
    end: int
    text: str
    attribution: str  # the attribution head's label: who makes the claim
    speaker: str
    kind: str         # the claim head's label: what kind of claim
    figures: tuple[Figure, ...] = field(default_factory=tuple)
    places: tuple[Place, ...] = field(default_factory=tuple)
    event_date: dt.date | None = None
    event_date_text: str | None = None
    roles: Roles = field(default_factory=Roles.defaults, compare=False, repr=False)

    def __getattr__(self, name: str):
        # The heads' own names read the two labels too (``claim.source`` in the default schema).
        roles = self.__dict__.get("roles")
        if roles is not None and name in (roles.attribution, roles.claim):
            return self.attribution if name == roles.attribution else self.kind
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    @property
    def when(self) -> dt.date | None:
        """The event date the sentence states, else the article's date."""
        return self.event_date or self.date

    def row(self) -> dict:
        """A flat row: dates as ISO text, figures and places as lists of dicts."""
        return {"article_id": self.article_id, "outlet": self.outlet,
                "date": self.date.isoformat() if self.date else None, "start": self.start, "end": self.end,
                "text": self.text, self.roles.attribution: self.attribution, "speaker": self.speaker,
                self.roles.claim: self.kind,
                "figures": [f.to_dict() for f in self.figures], "places": [p.to_dict() for p in self.places],
                "event_date": self.event_date.isoformat() if self.event_date else None,
                "event_date_text": self.event_date_text}


def check_sentence(sentence: object, where: str, roles: Roles) -> dict:
    """Refuse a sentence result that lacks what a claim needs, naming the key."""
    if not isinstance(sentence, dict):
        raise InputError(f"{where}: a sentence result must be a JSON object, got {type(sentence).__name__}")
    missing = [key for key in (*SPAN_KEYS, roles.attribution, roles.claim) if key not in sentence]
    if missing:
        raise InputError(f"{where}: sentence result lacks {', '.join(map(repr, missing))}; give results as "
                         "`factattr score --format jsonl` writes them")
    if not (isinstance(sentence["start"], int) and isinstance(sentence["end"], int) and sentence["start"] <= sentence["end"]):
        raise InputError(f"{where}: 'start' and 'end' must be integers with start <= end")
    if not isinstance(sentence["text"], str):
        raise InputError(f"{where}: 'text' must be a string")
    return sentence


def speaker_of(sentence: dict, attribution: str) -> str:
    """The speaker span's words, else the sentence's label under the ``attribution`` head."""
    span = sentence.get("speaker")
    if isinstance(span, dict) and isinstance(span.get("text"), str) and span["text"].strip():
        return span["text"].strip()
    return sentence[attribution]


def claims_from_article(article_id: str, sentences: list, resolver: PlaceResolver, outlet: str | None = None,
                        date: object = None, roles: Roles | None = None) -> list[Claim]:
    """The claims of one scored article: every sentence but those labelled with the ``no_claim`` role."""
    roles = ledger_roles(roles)
    article_date = parse_date(date)
    claims = []
    for index, sentence in enumerate(sentences):
        sentence = check_sentence(sentence, f"article {article_id!r}, sentence {index}", roles)
        if sentence[roles.claim] == roles.no_claim:
            continue
        text, start = sentence["text"], sentence["start"]
        when, words = event_date(text, article_date)
        claims.append(Claim(article_id, outlet, article_date, start, sentence["end"], text,
                            sentence[roles.attribution], speaker_of(sentence, roles.attribution),
                            sentence[roles.claim], tuple(extract_figures(text, start)),
                            tuple(resolver.find(text, start)), when, words, roles))
    return claims
