"""Does deciding the attribution label once per speaker help? The model's labels with and without
``inference.speaker_sources`` on a split of the config's data (gold sentences), overall and on sentences
whose speaker was named (described) several sentences earlier.

    python benchmarks/speaker_sources.py --checkpoint runs/default/best [--split dev] [--far 3]

Needs a checkpoint with the span head and a config whose data sources have span annotations.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

from factattr.config import load_config
from factattr.data.corpus import config_splits
from factattr.data.spans import read_spans
from factattr.eval.metrics import macro_f1
from factattr.model.tagger import Tagger, pool_by_speaker

REPO = Path(__file__).resolve().parents[1]


def far_sentences(article, spans, far: int) -> set[int]:
    """Sentences whose speaker's naming mention is at least ``far`` sentences earlier."""
    starts = [s.start for s in article.sentences]
    out = set()
    for i, record in spans.sentences.items():
        named = spans.entities.get(record.entity)
        if record.speaker is not None and named is not None:
            named_in = max(k for k, start in enumerate(starts) if start <= named.start)
            if i - named_in >= far:
                out.add(i)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--config", default=str(REPO / "configs" / "default.yaml"))
    parser.add_argument("--split", default="dev", choices=["dev", "test"])
    parser.add_argument("--far", type=int, default=3, help="sentences between the naming mention and the speaker")
    args = parser.parse_args()
    config = load_config(args.config)
    head, narration = config.roles.attribution, config.roles.narration
    spans = {}
    for source in config.data.sources:
        for path in source.spans:
            spans.update(read_spans(path))
    articles = [a for a in config_splits(config)[args.split] if a.id in spans]
    tagger = Tagger.load(args.checkpoint, backend="torch")
    results = tagger.score_spans([a.text for a in articles], [a.spans for a in articles])
    rows = defaultdict(lambda: {"gold": [], "off": [], "on": []})
    for article, result in zip(articles, results):
        pooled = pool_by_speaker(list(result.sentences), head, narration)
        far = far_sentences(article, spans[article.id], args.far)
        for i, (gold, off, on) in enumerate(zip(article.sentences, result.sentences, pooled)):
            for part in (f"{article.origin} all", f"{article.origin} far") if i in far else (f"{article.origin} all",):
                rows[part]["gold"].append(gold.labels[head])
                rows[part]["off"].append(off.labels[head])
                rows[part]["on"].append(on.labels[head])
    labels = config.labels.names(head)
    print(f"{args.split}: {head} per speaker (far = named >= {args.far} sentences earlier)")
    print(f"{'part':<14}{'sentences':>10}{'acc off':>9}{'acc on':>8}{'F1 off':>8}{'F1 on':>7}")
    for part, r in sorted(rows.items()):
        acc = {k: sum(g == p for g, p in zip(r["gold"], r[k])) / len(r["gold"]) for k in ("off", "on")}
        f1 = {k: macro_f1(r["gold"], r[k], labels) for k in ("off", "on")}
        print(f"{part:<14}{len(r['gold']):>10}{acc['off']:>9.3f}{acc['on']:>8.3f}{f1['off']:>8.3f}{f1['on']:>7.3f}")


if __name__ == "__main__":
    main()
