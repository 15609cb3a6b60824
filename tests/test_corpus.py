import json
from pathlib import Path

import pytest

from factattr.data.corpus import read_corpus, split_articles, split_of, stats_table, to_dataset, validate_file
from factattr.errors import CorpusError

LABELS = {"source": ["syrian_army", "iraqi_command", "us_coalition", "anonymous_officer", "other", "none"],
          "claim_type": ["territorial_control", "casualties", "force_strength", "military_action", "assessment", "background"]}
GOOD = {"id": "a1", "text": "Army retook Raqqa. It said so.",
        "sentences": [{"start": 0, "end": 18, "source": "syrian_army", "claim_type": "territorial_control"},
                      {"start": 19, "end": 30, "source": "syrian_army", "claim_type": "territorial_control"}]}


def corpus(tmp_path: Path, *lines) -> Path:
    path = tmp_path / "c.jsonl"
    path.write_text("".join((l if isinstance(l, str) else json.dumps(l)) + "\n" for l in lines), encoding="utf-8")
    return path


def variant(**changes):
    article = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        if key.startswith("s1_"):
            article["sentences"][1][key[3:]] = value
        else:
            article[key] = value
    return article


def test_valid_corpus_reads(tmp_path):
    assert read_corpus(corpus(tmp_path, GOOD), LABELS)[0].id == "a1"


@pytest.mark.parametrize("line, message", [
    ("{not json", r"c\.jsonl:2: not valid JSON"),
    (variant(s1_end=99), r"c\.jsonl:2: article 'a1': sentence 1 \[19, 99\) does not lie inside the text"),
    (variant(s1_start=10), r"sentence 1 starts at 10, before the previous sentence ends \(18\)"),
    (variant(s1_source="rebels"), r"c\.jsonl:2: article 'a1': sentence 1: unknown source label 'rebels'"),
    (variant(s1_claim_type="politics"), r"unknown claim_type label 'politics'"),
    (variant(text=""), r"'text' must be a non-empty string"),
    (variant(colour="red"), r"unknown key\(s\) \['colour'\]"),
    (variant(s1_start="19"), r"sentence 1 offsets must be integers"),
    (variant(s1_cue={"start": 5, "end": 500}), r"sentence 1: cue \[5, 500\) does not lie inside the text"),
])
def test_each_kind_of_bad_line_is_pointed_at(tmp_path, line, message):
    path = corpus(tmp_path, variant(id="ok"), line)
    with pytest.raises(CorpusError, match=message):
        read_corpus(path, LABELS)


def test_duplicate_ids_across_files(tmp_path):
    first = corpus(tmp_path, GOOD)
    second = tmp_path / "d.jsonl"
    second.write_text(json.dumps(GOOD) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"d\.jsonl:1: article 'a1': duplicate id \(first seen at .*c\.jsonl:1\)"):
        read_corpus([first, second], LABELS)


def test_validator_lists_every_problem(tmp_path):
    _, problems = validate_file(corpus(tmp_path, variant(s1_source="x"), variant(id="b", s1_claim_type="y")), LABELS)
    assert [p.line for p in problems] == [1, 2]


def test_split_is_by_article_deterministic_and_stable(corpus_file):
    articles = read_corpus(corpus_file, LABELS)
    a = split_articles(articles, 13, 0.15, 0.15)
    b = split_articles(list(reversed(articles)), 13, 0.15, 0.15)
    assert {k: sorted(x.id for x in v) for k, v in a.items()} == {k: sorted(x.id for x in v) for k, v in b.items()}
    assert sum(len(v) for v in a.values()) == len(articles)
    # Adding an article never moves the others; another seed gives another split.
    assert all(split_of(x.id, 13, 0.15, 0.15) == name for name, arts in a.items() for x in arts)
    assert split_articles(articles, 14, 0.15, 0.15) != a


def test_split_fractions_roughly_hold():
    ids = [f"art-{i}" for i in range(2000)]
    counts = {"train": 0, "dev": 0, "test": 0}
    for i in ids:
        counts[split_of(i, 13, 0.15, 0.15)] += 1
    assert 0.12 < counts["dev"] / 2000 < 0.18 and 0.12 < counts["test"] / 2000 < 0.18


def test_stats_table_and_dataset(corpus_file):
    articles = read_corpus(corpus_file, LABELS)
    splits = split_articles(articles, 13, 0.15, 0.15)
    table = stats_table(splits, LABELS)
    assert f"| articles | {len(splits['train'])} | {len(splits['dev'])} | {len(splits['test'])} | {len(articles)} |" in table
    assert "| source: none |" in table
    dataset = to_dataset(articles)
    assert dataset.num_rows == len(articles)
    assert dataset[0]["sentences"][0].keys() == {"start", "end", "source", "claim_type"}


def test_project_data_is_valid_and_splits_by_event():
    """The default config's data: the written corpus, and the real articles when their texts are present;
    no same-event pair (by the clustering rule) straddles two splits."""
    from factattr.config import load_config
    from factattr.data.corpus import load_data
    from factattr.data.events import similar_pairs

    repo = Path(__file__).resolve().parents[1]
    config = load_config(repo / "configs" / "default.yaml")
    data = load_data(config)
    assert data.sources["written"]["articles"] >= 500 and data.sources["written"]["sentences"] >= 7000
    if (repo.parent / "shared" / "realtrain" / "articles.jsonl").is_file():
        assert data.sources["real"]["articles"] >= 300 and data.sources["real"]["sentences"] >= 4000
        for split in ("dev", "test"):   # both kinds of text are evaluated
            assert {a.origin for a in data.splits[split]} == {"written", "real"}
    else:
        assert "real" not in data.sources and data.skipped
    articles = [a for split in data.splits.values() for a in split]
    split_of = {a.id: name for name, split in data.splits.items() for a in split}
    pairs = similar_pairs(articles, days=config.data.event_days, threshold=config.data.event_similarity)
    assert pairs, "the corpus has same-event pairs; the check below must see some"
    crossing = [(articles[i].id, articles[j].id) for i, j, _ in pairs
                if split_of[articles[i].id] != split_of[articles[j].id]]
    assert crossing == []
