"""How well the speaker-linking rule (factattr.model.speakers) finds who "he", "it" or "the spokesman" is,
on the annotated spans (data/spans/spans.jsonl), given the gold speaker spans.

    python benchmarks/speaker_links.py [--texts ../shared/realtrain/articles.jsonl] [--errors 20]

Prints, per origin (written, real): the share of pronoun and role speakers whose predicted naming span is
the annotated one (overlapping), the share whose predicted antecedent is a mention of the right speaker
(entity), and the pairwise entity agreement of all speaker mentions.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from factattr.data.spans import read_spans
from factattr.data.standoff import read_texts
from factattr.model.speakers import Mention, entities, link_speakers

REPO = Path(__file__).resolve().parents[1]


def article_texts(texts_path: Path) -> dict[str, tuple[str, str]]:
    """id -> (origin, text): the written corpus, and the real articles whose texts are present."""
    out = {}
    for line in (REPO / "data" / "corpus.jsonl").read_text(encoding="utf-8").split("\n"):
        if line:
            article = json.loads(line)
            out[article["id"]] = ("written", article["text"])
    if texts_path.is_file():
        out.update({i: ("real", record["text"]) for i, record in read_texts(texts_path).items()})
    return out


def score_article(spans, text: str, tally: dict, errors: list) -> None:
    items = sorted(((s.speaker, i) for i, s in spans.sentences.items() if s.speaker), key=lambda x: x[0].start)
    mentions = [Mention(span.start, span.end, text[span.start:span.end]) for span, _ in items]
    entity_of = {(span.start, span.end): spans.sentences[i].entity for span, i in items}
    for (span, i), mention, link in zip(items, mentions, link_speakers(mentions)):
        gold = spans.refers_to(i)
        if gold is None:
            continue
        tally["links"] += 1
        named = link is not None and link.start < gold.end and gold.start < link.end
        tally["naming"] += named
        tally["entity"] += named or (link is not None and entity_of.get((link.start, link.end)) == spans.sentences[i].entity)
        if not named:
            errors.append((spans.id, i, mention.text, link.text if link else None, text[gold.start:gold.end]))
    predicted = entities(mentions)
    gold_entities = [spans.sentences[i].entity for _, i in items]
    for a in range(len(items)):
        for b in range(a + 1, len(items)):
            tally["pairs"] += 1
            tally["pairs_agree"] += (gold_entities[a] == gold_entities[b]) == (predicted[a] == predicted[b])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=Path, default=REPO.parent / "shared" / "realtrain" / "articles.jsonl")
    parser.add_argument("--errors", type=int, default=0, help="print this many wrong links")
    args = parser.parse_args()
    texts = article_texts(args.texts)
    tallies: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    errors: list = []
    for article_id, spans in read_spans(REPO / "data" / "spans" / "spans.jsonl").items():
        if article_id in texts:
            origin, text = texts[article_id]
            score_article(spans, text, tallies[origin], errors)
    print(f"{'origin':<8} {'links':>6} {'naming span':>12} {'right speaker':>14} {'entity pairs':>13} {'agree':>7}")
    for origin, t in sorted(tallies.items()):
        print(f"{origin:<8} {t['links']:>6} {t['naming'] / t['links']:>12.3f} {t['entity'] / t['links']:>14.3f} "
              f"{t['pairs']:>13} {t['pairs_agree'] / t['pairs']:>7.3f}")
    for error in errors[:args.errors]:
        print("  %s#%d %r -> %r (annotated %r)" % error)


if __name__ == "__main__":
    main()
