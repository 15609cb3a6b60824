"""Speaker and cue spans (``ANNOTATION_NOTES.md`` section 21): stand-off records, their checks, and the
agreement of two annotation passes.

``data/spans/spans.jsonl`` holds one line per article: its ``id`` and text ``sha256``, the ``entities``
(one per distinct speaker, each with the character span of its naming mention) and, for every attributed
sentence ``i``, the ``speaker`` span with its ``kind``, the ``cue`` span and the ``entity``. Offsets index
the article's text. Narration (source ``none``) has no record.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from factattr.errors import CorpusError

KINDS = ("name", "description", "role", "pronoun")
REFERRING = ("role", "pronoun")   # kinds whose speaker is named elsewhere in the article


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str | None = None      # speakers only

    def overlaps(self, other: "Span") -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class SentenceSpans:
    index: int
    speaker: Span | None
    cue: Span | None
    entity: str | None


@dataclass(frozen=True)
class ArticleSpans:
    id: str
    sha256: str
    entities: dict[str, Span]
    sentences: dict[int, SentenceSpans]

    def refers_to(self, index: int) -> Span | None:
        """The naming span a ``role`` or ``pronoun`` speaker refers to, when it comes earlier in the text."""
        record = self.sentences.get(index)
        if record is None or record.speaker is None or record.speaker.kind not in REFERRING:
            return None
        named = self.entities.get(record.entity)
        return named if named is not None and named.end <= record.speaker.start else None


def _span(value, where: str, kind: bool = False) -> Span | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(value.get(k), int) for k in ("start", "end")):
        raise CorpusError(f"{where}: a span is {{\"start\": int, \"end\": int}}, got {value!r}")
    if kind and value.get("kind") not in KINDS:
        raise CorpusError(f"{where}: speaker kind must be one of {', '.join(KINDS)}, got {value.get('kind')!r}")
    return Span(value["start"], value["end"], value.get("kind") if kind else None)


def parse_record(record: object, where: str) -> ArticleSpans:
    """One stand-off line as typed spans; a malformed line is a :class:`CorpusError` naming ``where``."""
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        raise CorpusError(f"{where}: a span record is a JSON object with an 'id'")
    where = f"{where} (article {record['id']})"
    entities = {}
    for entity in record.get("entities", []):
        if not isinstance(entity, dict) or not isinstance(entity.get("entity"), str):
            raise CorpusError(f"{where}: each entity needs an 'entity' name and its naming span")
        entities[entity["entity"]] = _span(entity, f"{where} entity {entity['entity']}")
    sentences = {}
    for item in record.get("sentences", []):
        if not isinstance(item, dict) or not isinstance(item.get("i"), int):
            raise CorpusError(f"{where}: each sentence record needs its index 'i'")
        at = f"{where} sentence {item['i']}"
        sentences[item["i"]] = SentenceSpans(item["i"], _span(item.get("speaker"), at, kind=True),
                                             _span(item.get("cue"), at), item.get("entity"))
    return ArticleSpans(record["id"], str(record.get("sha256", "")), entities, sentences)


def _whole_words(text: str, span: Span) -> bool:
    """A span starts and ends at word edges; inside a word only where scraping glued two words together,
    which shows as a lower-case letter followed by a capital ("attackFNA")."""
    def edge(left: int) -> bool:   # is the boundary between text[left] and text[left + 1] allowed?
        if left < 0 or left + 1 >= len(text) or not (text[left].isalnum() and text[left + 1].isalnum()):
            return True
        return text[left].islower() and text[left + 1].isupper()

    return edge(span.start - 1) and edge(span.end - 1)


def check_spans(spans: ArticleSpans, text: str, sentences: list[tuple[int, int, bool]]) -> list[str]:
    """Every problem of one article's spans: ``sentences`` are its (start, end, attributed) in order, where
    ``attributed`` is false for the reporter's narration (which has no spans)."""
    problems = []
    for name, span in spans.entities.items():
        if not 0 <= span.start < span.end <= len(text):
            problems.append(f"entity {name}: naming span {span.start}-{span.end} is outside the text")
    for i, (start, end, attributed) in enumerate(sentences):
        record = spans.sentences.get(i)
        if not attributed:
            if record is not None:
                problems.append(f"sentence {i}: narration has spans; remove them")
            continue
        if record is None:
            problems.append(f"sentence {i}: attributed but has no span record")
            continue
        if record.entity not in spans.entities:
            problems.append(f"sentence {i}: entity {record.entity!r} is not among the article's entities")
        for field, span in (("speaker", record.speaker), ("cue", record.cue)):
            if span is None:
                continue
            inner = text[span.start:span.end] if start <= span.start < span.end <= end else ""
            if not inner:
                problems.append(f"sentence {i}: {field} {span.start}-{span.end} is not inside the sentence ({start}-{end})")
            elif inner != inner.strip() or not _whole_words(text, span):
                problems.append(f"sentence {i}: {field} {inner!r} does not start and end at word edges")
        if record.speaker and record.cue and record.speaker.overlaps(record.cue):
            problems.append(f"sentence {i}: speaker and cue overlap")
        if record.cue and not record.speaker:
            problems.append(f"sentence {i}: a cue without a speaker (section 21.5: both or neither)")
    extra = sorted(set(spans.sentences) - set(range(len(sentences))))
    if extra:
        problems.append(f"sentence records {extra} are beyond the article's {len(sentences)} sentences")
    return problems


def read_spans(path: str | Path) -> dict[str, ArticleSpans]:
    """Every article's spans in a stand-off file, by article id (checked against texts by :func:`check_spans`)."""
    from .standoff import read_jsonl

    out: dict[str, ArticleSpans] = {}
    for number, record in read_jsonl(path):
        spans = parse_record(record, f"{path}:{number}")
        if spans.id in out:
            raise CorpusError(f"{path}:{number}: article {spans.id} has spans twice; keep one line per article")
        out[spans.id] = spans
    return out


def _f1(matched_first: int, n_first: int, matched_second: int, n_second: int) -> dict:
    precision = matched_first / n_first if n_first else 1.0
    recall = matched_second / n_second if n_second else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"f1": f1, "first": n_first, "second": n_second}


def _field_agreement(first: dict[tuple, Span], second: dict[tuple, Span]) -> dict:
    exact = sum(1 for key, span in first.items() if key in second and (second[key].start, second[key].end) == (span.start, span.end))
    overlap_first = sum(1 for key, span in first.items() if key in second and span.overlaps(second[key]))
    overlap_second = sum(1 for key, span in second.items() if key in first and span.overlaps(first[key]))
    return {"exact": _f1(exact, len(first), exact, len(second)),
            "overlap": _f1(overlap_first, len(first), overlap_second, len(second))}


def span_agreement(first: dict[str, ArticleSpans], second: dict[str, ArticleSpans]) -> dict:
    """Agreement of two passes over the same articles (those in both): exact and overlap F1 of speaker and
    cue spans, the second pass taken as reference (F1 is symmetric), the speaker kind where both spans
    match exactly, and the naming span a role or pronoun refers to where both passes link one."""
    shared = sorted(set(first) & set(second))
    out: dict = {"articles": len(shared)}
    for field in ("speaker", "cue"):
        spans = [{(a, i): getattr(s, field) for a in shared for i, s in passes[a].sentences.items()
                  if getattr(s, field) is not None} for passes in (first, second)]
        out[field] = _field_agreement(*spans)
    both = [(first[a].sentences[i].speaker, second[a].sentences[i].speaker) for a in shared
            for i in set(first[a].sentences) & set(second[a].sentences)]
    same = [(x, y) for x, y in both if x and y and (x.start, x.end) == (y.start, y.end)]
    out["kind_agreement"] = sum(x.kind == y.kind for x, y in same) / len(same) if same else 1.0
    links = [(first[a].refers_to(i), second[a].refers_to(i)) for a in shared
             for i in set(first[a].sentences) & set(second[a].sentences)]
    linked = [(x, y) for x, y in links if x and y]
    out["refers_to_agreement"] = sum(x.overlaps(y) for x, y in linked) / len(linked) if linked else 1.0
    out["refers_to_pairs"] = len(linked)
    return out


def attach_spans(articles: list, paths: list[str],
                 attributed=None) -> tuple[list, list[tuple[str, str, str]]]:
    """The articles with each sentence's ``speaker`` and ``cue`` (article offsets; ``None`` where it has
    none; a speaker also carries its ``kind``, its ``entity`` and, for a role or pronoun named earlier, the
    naming span it ``refers_to``, else ``None``) from the stand-off span files, for the articles they
    cover; and every problem found (changed text, spans outside their sentence, and with
    ``attributed(sentence)`` telling narration apart, every problem :func:`check_spans` finds) as
    ``(file, article id, message)``."""
    from .standoff import text_hash   # here: standoff reads through corpus, which imports this module

    by_id = {article.id: article for article in articles}
    problems: list[tuple[str, str, str]] = []
    for path in paths:
        for article_id, spans in read_spans(path).items():
            article = by_id.get(article_id)
            if article is None:
                continue                      # spans of another source's article
            if spans.sha256 and spans.sha256 != text_hash(article.text):
                problems.append((path, article_id, "the text changed since its spans were made (sha256 differs); "
                                 "re-annotate it or restore the text"))
                continue
            sentences, bad = _sentences_with_spans(article, spans)
            if attributed is not None and not bad:
                bad = check_spans(spans, article.text, [(x.start, x.end, attributed(x)) for x in article.sentences])
            problems += [(path, article_id, p) for p in bad]
            by_id[article_id] = replace(article, sentences=sentences)
    return [by_id[article.id] for article in articles], problems


def _sentences_with_spans(article, spans: ArticleSpans) -> tuple[tuple, list[str]]:
    out, problems = [], []
    for i, sentence in enumerate(article.sentences):
        record = spans.sentences.get(i)
        marks = {"speaker": None, "cue": None}
        for field in marks:
            span = getattr(record, field) if record is not None else None
            if span is None:
                continue
            if not sentence.start <= span.start < span.end <= sentence.end:
                problems.append(f"sentence {i}: {field} {span.start}-{span.end} is not inside the sentence")
                continue
            marks[field] = {"start": span.start, "end": span.end, **({"kind": span.kind} if span.kind else {})}
        if marks["speaker"] is not None:      # for linking accuracy: whose mention it is, and what it refers to
            named = spans.refers_to(i)
            marks["speaker"].update(entity=record.entity, refers_to=None if named is None
                                   else {"start": named.start, "end": named.end})
        out.append(replace(sentence, extra={**sentence.extra, **marks}))
    return tuple(out), problems

