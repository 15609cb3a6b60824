import json
from pathlib import Path

import pytest

from factattr.data.agreement import agreement, read_pass
from factattr.training.augment import maybe_scrape, scrape

REPO = Path(__file__).resolve().parents[1]


def test_kappa_on_a_known_case():
    # 4 sentences; source agrees on 3 (kappa (0.75 - 0.5) / 0.5 = 0.5 with balanced marginals).
    pairs = [("p", "p"), ("q", "q"), ("p", "q"), ("q", "q")]
    records = [{"id": "a", "i": i, "first": {"source": f, "claim_type": f}, "second": {"source": s, "claim_type": f}}
               for i, (f, s) in enumerate(pairs)]
    result = agreement(records)
    assert result["claim_type"] == {"kappa": 1.0, "agreement": 1.0, "disagreements": 0}
    assert result["source"]["agreement"] == 0.75 and result["source"]["disagreements"] == 1
    assert result["source"]["kappa"] == pytest.approx(0.5)
    assert result["sentences"] == 4 and result["articles"] == 1


def test_second_pass_matches_the_corpus():
    records = read_pass(REPO / "data" / "agreement" / "second_pass.jsonl")
    corpus = {json.loads(l)["id"]: json.loads(l) for l in (REPO / "data" / "corpus.jsonl").read_text().splitlines()}
    total = sum(len(a["sentences"]) for a in corpus.values())
    assert len(records) >= 0.1 * total  # at least 10% of the sentences doubly annotated
    for r in records:  # the corpus holds the adjudicated labels
        sentence = corpus[r["id"]]["sentences"][r["i"]]
        assert {h: sentence[h] for h in ("source", "claim_type")} == r["final"]


def test_scrape_strips_punctuation_and_keeps_offsets():
    text = "Army\u2019s men, he said.\n\nIt didn't fall, they said."
    spans = [(0, 20), (22, len(text))]
    new, new_spans = scrape(text, spans)
    assert new == "Armys men he said. It didnt fall they said."
    assert [new[s:e] for s, e in new_spans] == ["Armys men he said.", "It didnt fall they said."]


def test_maybe_scrape_is_seeded():
    import random

    from factattr.data.types import Article

    articles = [Article.from_dict({"id": "a", "text": "A, b.", "sentences": [{"start": 0, "end": 5, "h": "x"}]})] * 20
    first = maybe_scrape(articles, 0.5, random.Random(3))
    assert first == maybe_scrape(articles, 0.5, random.Random(3))
    assert 0 < sum(t == "A b." for t in first[0]) < 20


def test_temperature_fitting_softens_an_overconfident_model():
    import numpy as np

    from factattr.training.calibrate import fit_temperature

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=400)
    logits = rng.normal(size=(400, 3))
    logits[np.arange(400), labels] += 1.0   # informative ...
    overconfident = logits * 8.0            # ... but scaled up 8x
    t = fit_temperature(overconfident, labels)
    assert 5.0 < t < 12.0
    assert fit_temperature(logits, labels) == pytest.approx(1.0, abs=0.25)
