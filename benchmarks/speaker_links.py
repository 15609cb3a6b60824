"""How well speaker linking (factattr.model.speakers) finds who "he", "it" or "the spokesman" is,
on the annotated spans (data/spans/spans.jsonl), given the gold speaker spans.

    python benchmarks/speaker_links.py [--config configs/default.yaml] [--no-text] [--errors 20]
        [--extra realdev ../shared/realdev/realdev.jsonl data/spans/realdev.jsonl]
        [--extra check data/real/check.jsonl data/spans/check.jsonl ../shared/realtrain/articles.jsonl]

Prints, per split of the config's data and origin (written, real), for pronoun speakers, role speakers
and both: the share whose predicted naming span is the annotated one (overlapping), and the share whose
link points at a mention of the right speaker (the naming span, or another speaker mention of the same
annotated entity); then how well the predicted speaker entities match the annotated ones over every
speaker mention (B-cubed), which also counts a mention linked where it names a speaker of its own. The
rules and rankers were developed on the train and dev splits; test is the held-back check, and each
``--extra NAME DATA SPANS [TEXTS]`` adds an evaluation-only set (a corpus file, or stand-off labels with
their texts file) as the split NAME.
``--no-text`` links without the article's narration (speaker mentions only), as the rule did first;
``--rule`` links pronouns and roles by the rules instead of the learned rankers.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from factattr.config import load_config
from factattr.data.corpus import config_splits
from factattr.data.spans import ArticleSpans, read_spans
from factattr.eval.evaluate import evaluation_articles
from factattr.eval.metrics import b_cubed, link_verdict
from factattr.model.speakers import Mention, links_and_entities

REPO = Path(__file__).resolve().parents[1]
KINDS = ("pronoun", "role")


def score_article(spans: ArticleSpans, text: str, use_text: bool, tally: dict, errors: list, entities_of: list,
                  ranker: bool = True) -> None:
    items = sorted(((s.speaker, i) for i, s in spans.sentences.items() if s.speaker), key=lambda x: x[0].start)
    mentions = [Mention(span.start, span.end, text[span.start:span.end]) for span, _ in items]
    links, entities = links_and_entities(mentions, text if use_text else None, ranker)
    entities_of.append(([spans.sentences[i].entity for _, i in items], entities))
    for (span, i), mention, link in zip(items, mentions, links):
        gold = spans.refers_to(i)
        if gold is None:
            continue
        entity = spans.sentences[i].entity
        same = [vars(other) for other, k in items if spans.sentences[k].entity == entity]
        named, right = link_verdict(vars(link) if link else None, vars(gold), same)
        for kind in (span.kind, "both"):
            tally[kind]["links"] += 1
            tally[kind]["naming"] += named
            tally[kind]["right"] += right
        if not right:
            errors.append((spans.id, i, mention.text, link.text if link else None, text[gold.start:gold.end]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "configs" / "default.yaml"))
    parser.add_argument("--no-text", action="store_true", help="candidates from speaker mentions only")
    parser.add_argument("--rule", action="store_true", help="pronouns and roles by the rules, not the learned rankers")
    parser.add_argument("--errors", type=int, default=0, help="print this many wrong links of each split")
    parser.add_argument("--extra", nargs="+", action="append", default=[], metavar="NAME DATA SPANS [TEXTS]",
                        help="an evaluation-only set: its name, corpus (or stand-off) file, span file and, for "
                             "stand-off labels, texts file")
    args = parser.parse_args()
    config = load_config(args.config)
    tallies: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    entities: dict = defaultdict(list)       # (split, origin): (gold, predicted) entity ids of each article
    errors: dict = defaultdict(list)
    annotated = {}
    for path in {path for source in config.data.sources for path in source.spans}:
        annotated.update(read_spans(path))
    splits = config_splits(config)
    for extra in args.extra:
        if len(extra) not in (3, 4):
            parser.error(f"--extra takes NAME DATA SPANS [TEXTS], got {' '.join(extra)}")
        name, data, path = extra[:3]
        annotated.update(read_spans(path))
        found = evaluation_articles(config, [data], texts=extra[3] if len(extra) == 4 else None)[1]
        splits[name] = [a.with_origin("real") for a in found]
    for split, articles in splits.items():
        for article in articles:
            spans = annotated.get(article.id)
            if spans is not None:
                score_article(spans, article.text, not args.no_text, tallies[(split, article.origin)], errors[split],
                              entities[(split, article.origin)], not args.rule)
    print(f"{'split':<7} {'origin':<8} {'kind':<8} {'links':>6} {'naming span':>12} {'right speaker':>14}")
    for (split, origin), by_kind in sorted(tallies.items()):
        for kind in (*KINDS, "both"):
            t = by_kind[kind]
            if t["links"]:
                print(f"{split:<7} {origin:<8} {kind:<8} {t['links']:>6} {t['naming'] / t['links']:>12.3f} "
                      f"{t['right'] / t['links']:>14.3f}")
    print(f"\nspeaker entities, B-cubed over every speaker mention\n"
          f"{'split':<7} {'origin':<8} {'mentions':>8} {'precision':>10} {'recall':>8} {'F1':>6}")
    for (split, origin), pairs in sorted(entities.items()):
        b3 = b_cubed(pairs)
        print(f"{split:<7} {origin:<8} {b3['mentions']:>8} {b3['precision']:>10.3f} {b3['recall']:>8.3f} {b3['f1']:>6.3f}")
    for split, wrong in sorted(errors.items()):
        for error in wrong[:args.errors]:
            print(f"  {split} %s#%d %r -> %r (annotated %r)" % error)


if __name__ == "__main__":
    main()
