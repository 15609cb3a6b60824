"""Typed articles: what the data loaders produce and training, evaluation and scoring read.

Modelled on spaCy's ``Doc`` and ``Span``: an :class:`Article` holds its text and its sentences as
character offsets, and ``article.text[s.start:s.end] == s.text`` holds for every sentence, checked when the
article is built (offsets inside the text, sentences in order, not overlapping). Both types are frozen.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping

from factattr.errors import CorpusError

# Sentence keys of the corpus format that are not label heads.
SENTENCE_FIELDS = ("start", "end", "cue", "speaker", "tags", "probs")
METADATA = ("title", "outlet", "date", "form")


@dataclass(frozen=True)
class Sentence:
    """One annotated sentence: ``labels[head]`` is its gold label; ``probs[head]`` soft labels (self-training),
    one probability per schema label; ``extra`` the optional ``cue``, ``speaker`` and ``tags``."""

    start: int
    end: int
    text: str
    labels: Mapping[str, str]
    probs: Mapping[str, tuple[float, ...]] | None = None
    extra: Mapping[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = {"start": self.start, "end": self.end, **self.labels,
               **{key: value for key, value in self.extra.items() if value is not None}}
        if self.probs is not None:
            out["probs"] = {head: list(values) for head, values in self.probs.items()}
        return out


@dataclass(frozen=True)
class Article:
    """An article with its sentences; ``origin`` names the data source it came from (``written``, ``real``)."""

    id: str
    text: str
    sentences: tuple[Sentence, ...]
    origin: str = ""
    meta: Mapping[str, str] = field(default_factory=dict)   # title, outlet, date, form

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise CorpusError(f"article id must be a non-empty string, got {self.id!r}")
        if not isinstance(self.text, str):
            raise CorpusError(f"article {self.id!r}: text must be a string")
        previous_end = 0
        for i, s in enumerate(self.sentences):
            if not (previous_end <= s.start < s.end <= len(self.text)):
                raise CorpusError(f"article {self.id!r}: sentence {i} [{s.start}, {s.end}) must lie inside the text "
                                  f"(length {len(self.text)}) after the previous sentence (ending at {previous_end})")
            if self.text[s.start:s.end] != s.text:
                raise CorpusError(f"article {self.id!r}: sentence {i}'s text is not text[{s.start}:{s.end}]")
            previous_end = s.end

    @classmethod
    def from_dict(cls, data: Mapping, origin: str = "") -> "Article":
        """An article from the corpus format (a validated line of a corpus file, or a joined stand-off record)."""
        text = data["text"]
        sentences = tuple(Sentence(
            start=s["start"], end=s["end"], text=text[s["start"]:s["end"]],
            labels={k: v for k, v in s.items() if k not in SENTENCE_FIELDS},
            probs={head: tuple(float(p) for p in values) for head, values in s["probs"].items()} if "probs" in s else None,
            extra={k: s[k] for k in ("cue", "speaker", "tags") if k in s}) for s in data["sentences"])
        return cls(id=data["id"], text=text, sentences=sentences, origin=origin,
                   meta={k: data[k] for k in METADATA if isinstance(data.get(k), str)})

    def to_dict(self) -> dict:
        """The corpus format (without ``origin``, which belongs to the config, not the file)."""
        return {"id": self.id, "text": self.text, **self.meta, "sentences": [s.to_dict() for s in self.sentences]}

    @property
    def spans(self) -> list[tuple[int, int]]:
        """``(start, end)`` of every sentence: the gold segmentation."""
        return [(s.start, s.end) for s in self.sentences]

    def gold(self, head: str) -> list[str]:
        """Every sentence's gold label of ``head``."""
        return [s.labels[head] for s in self.sentences]

    @property
    def date(self) -> str | None:
        return self.meta.get("date")

    def with_origin(self, origin: str) -> "Article":
        return replace(self, origin=origin)

    def with_text(self, text: str, spans: list[tuple[int, int]]) -> "Article":
        """The same labels on another text (e.g. made to look scraped), with the sentences' new offsets."""
        sentences = tuple(replace(s, start=a, end=b, text=text[a:b]) for s, (a, b) in zip(self.sentences, spans))
        return replace(self, text=text, sentences=sentences)
