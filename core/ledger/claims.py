"""Claims: one row per sentence that states a claim, from scored sentences as ``ArticleResult.to_dict()``
(or ``factattr score --format jsonl``) gives them: ``text``, ``start``, ``end``, ``source``, ``claim_type``.

A sentence result may carry ``speaker: {"text", "start", "end", "refers_to"}`` (the span of who speaks);
the claim's speaker is its text, else the source class. Background sentences are not claims.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from factattr.errors import InputError

from .figures import Figure, extract_figures
from .places import Place, PlaceResolver
from .times import event_date, parse_date

NOT_CLAIMS = ("background",)
SENTENCE_KEYS = ("text", "start", "end", "source", "claim_type")


@dataclass(frozen=True)
class Claim:
    article_id: str
    outlet: str | None
    date: dt.date | None
    start: int
    end: int
    text: str
    source: str
    speaker: str
    claim_type: str
    figures: tuple[Figure, ...] = field(default_factory=tuple)
    places: tuple[Place, ...] = field(default_factory=tuple)
    event_date: dt.date | None = None
    event_date_text: str | None = None

    @property
    def when(self) -> dt.date | None:
        """The event date the sentence states, else the article's date."""
        return self.event_date or self.date

    def row(self) -> dict:
        """A flat row: dates as ISO text, figures and places as lists of dicts."""
        return {"article_id": self.article_id, "outlet": self.outlet,
                "date": self.date.isoformat() if self.date else None, "start": self.start, "end": self.end,
                "text": self.text, "source": self.source, "speaker": self.speaker, "claim_type": self.claim_type,
                "figures": [f.to_dict() for f in self.figures], "places": [p.to_dict() for p in self.places],
                "event_date": self.event_date.isoformat() if self.event_date else None,
                "event_date_text": self.event_date_text}


def check_sentence(sentence: object, where: str) -> dict:
    """Refuse a sentence result that lacks what a claim needs, naming the key."""
    if not isinstance(sentence, dict):
        raise InputError(f"{where}: a sentence result must be a JSON object, got {type(sentence).__name__}")
    missing = [key for key in SENTENCE_KEYS if key not in sentence]
    if missing:
        raise InputError(f"{where}: sentence result lacks {', '.join(map(repr, missing))}; give results as "
                         "`factattr score --format jsonl` writes them")
    if not (isinstance(sentence["start"], int) and isinstance(sentence["end"], int) and sentence["start"] <= sentence["end"]):
        raise InputError(f"{where}: 'start' and 'end' must be integers with start <= end")
    if not isinstance(sentence["text"], str):
        raise InputError(f"{where}: 'text' must be a string")
    return sentence


def speaker_of(sentence: dict) -> str:
    span = sentence.get("speaker")
    if isinstance(span, dict) and isinstance(span.get("text"), str) and span["text"].strip():
        return span["text"].strip()
    return sentence["source"]


def claims_from_article(article_id: str, sentences: list, resolver: PlaceResolver, outlet: str | None = None,
                        date: object = None) -> list[Claim]:
    """The claims of one scored article (every sentence but background ones)."""
    article_date = parse_date(date)
    claims = []
    for index, sentence in enumerate(sentences):
        sentence = check_sentence(sentence, f"article {article_id!r}, sentence {index}")
        if sentence["claim_type"] in NOT_CLAIMS:
            continue
        text, start = sentence["text"], sentence["start"]
        when, words = event_date(text, article_date)
        claims.append(Claim(article_id, outlet, article_date, start, sentence["end"], text, sentence["source"],
                            speaker_of(sentence), sentence["claim_type"], tuple(extract_figures(text, start)),
                            tuple(resolver.find(text, start)), when, words))
    return claims
