"""Cross-validating the linker's rankers on the config's train and dev splits together, the figures the
rankers were chosen on (README, "Who he is").

    python benchmarks/linker_cv.py [--config configs/default.yaml] [--folds 5] [--c 0.3 1 3 10]

For each regularisation ``--c``, prints how many examples each ranker decides right (a pronoun's or
role's candidate that is a mention of its speaker, or nobody earlier for a role whose speaker has no
earlier mention) and how many pronoun and role speakers named earlier it links to the right speaker from
the gold speaker mentions, with the rules' links of the same speakers beside them. Test, realdev and the
check set are never read: ``benchmarks/speaker_links.py`` measures the shipped weights on them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from factattr.config import load_config
from factattr.data.corpus import config_splits
from factattr.training.linker import C, cross_validate

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "configs" / "default.yaml"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="the shuffle that deals articles to folds")
    parser.add_argument("--c", type=float, nargs="+", default=[C], help="regularisation values to compare")
    args = parser.parse_args()
    splits = config_splits(load_config(args.config))
    articles = list(splits["train"]) + list(splits["dev"])
    print(f"{args.folds}-fold cross-validation over train and dev ({len(articles)} articles)")
    print(f"{'C':>6} {'kind':<8} {'decisions':>12} {'links':>12} {'rules links':>12}")
    for c in args.c:
        figures = cross_validate(articles, args.folds, args.seed, c)
        for kind in ("pronoun", "role"):
            cells = [f"{r}/{n}" for r, n in (figures[part][kind] for part in ("decisions", "links", "rules"))]
            print(f"{c:>6g} {kind:<8} " + " ".join(f"{cell:>12}" for cell in cells))


if __name__ == "__main__":
    main()
