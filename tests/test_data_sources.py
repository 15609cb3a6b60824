"""Data sources: stand-off annotations joined with their texts, optional sources, held-out events,
same-event splits and sampling weights."""

import csv
import json
import random
import shutil
from pathlib import Path

import pytest

from factattr.config import load_config
from factattr.data.corpus import load_data
from factattr.data.events import event_clusters, similar_pairs, split_by_event
from factattr.data.standoff import join, read_jsonl, standoff_record, text_hash, texts_from_fakes_csv, write_jsonl
from factattr.errors import ConfigError, CorpusError
from factattr.training.train import epoch_articles

from .conftest import REPO, SHARED, make_article, tiny_overrides

LABELS = {"source": ["syrian_army", "iraqi_command", "us_coalition", "anonymous_officer", "other", "none"],
          "claim_type": ["territorial_control", "casualties", "force_strength", "military_action", "assessment",
                         "background"]}


def standoff_pair(tmp_path: Path, n: int = 12, seed: int = 1) -> tuple[Path, Path, list[dict]]:
    """A texts file and a stand-off annotations file for ``n`` synthetic articles."""
    rng = random.Random(seed)
    articles = [make_article(100 + i, rng) for i in range(n)]
    texts = write_jsonl(tmp_path / "texts.jsonl", ({"id": a["id"], "date": a["date"], "text": a["text"]} for a in articles))
    annotations = write_jsonl(tmp_path / "annotations.jsonl", (standoff_record(a) for a in articles))
    return texts, annotations, articles


def test_standoff_keeps_no_text_and_joins_back(tmp_path):
    texts, annotations, articles = standoff_pair(tmp_path)
    stored = annotations.read_text(encoding="utf-8")
    assert all(a["text"] not in stored for a in articles)
    joined = [article for _, article in join(annotations, texts)]
    assert [(a["id"], a["text"], a["sentences"]) for a in joined] == [(a["id"], a["text"], a["sentences"]) for a in articles]


def test_standoff_missing_article_and_changed_text_name_the_article(tmp_path):
    texts, annotations, articles = standoff_pair(tmp_path)
    records = [json.loads(line) for line in texts.read_text(encoding="utf-8").splitlines()]
    records[2]["text"] = records[2]["text"].replace("The", "Teh", 1)
    write_jsonl(texts, [r for r in records if r["id"] != articles[5]["id"]])
    with pytest.raises(CorpusError) as caught:
        join(annotations, texts)
    message = str(caught.value)
    assert f"annotations.jsonl:3: article {articles[2]['id']!r}: its text in" in message and "sha256 differs" in message
    assert f"annotations.jsonl:6: article {articles[5]['id']!r} is not in" in message


def test_jsonl_lines_end_at_newline_only(tmp_path):
    # U+2028 and U+0085 are valid unescaped inside JSON strings; splitlines() would cut the record.
    record = {"id": "x", "text": "one\u2028two\u0085three\x1c"}
    path = write_jsonl(tmp_path / "t.jsonl", [record, record | {"id": "y"}])
    assert [r for _, r in read_jsonl(path)] == [record, record | {"id": "y"}]


def test_fakes_csv_builds_the_texts_file(tmp_path):
    texts, annotations, articles = standoff_pair(tmp_path, n=3)
    path = tmp_path / "fakes.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["unit_id", "article_title", "article_content", "source", "date", "location", "labels"])
        for i, a in enumerate(articles):
            writer.writerow([a["id"], f"title {i}", f"  {a['text']}\n", "sana", "10/17/2016", "aleppo", "1"])
        writer.writerow(["999", "not annotated", "text", "sana", "1/1/2016", "x", "0"])
    records = [{**standoff_record(a), "id": f"fakes-{a['id']}"} for a in articles]
    write_jsonl(annotations, records)
    out = tmp_path / "built.jsonl"
    assert texts_from_fakes_csv(path, out, {r["id"] for r in records}) == 3
    built = [r for _, r in read_jsonl(out)]
    assert built[0]["date"] == "2016-10-17" and built[0]["outlet"] == "sana"
    assert len(join(annotations, out)) == 3   # stripped content hashes as annotated


def test_fakes_csv_with_wrong_columns_is_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("id,text\n1,hello\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"not the FA-KES CSV: column\(s\) \['unit_id'"):
        texts_from_fakes_csv(path, tmp_path / "out.jsonl")


def two_source_config(tmp_path, corpus_file, optional=True, weight=2.0, texts=None, held_out=(), n=16):
    t, annotations, _ = standoff_pair(tmp_path, n)
    path = tmp_path / "two.yaml"
    path.write_text(f"extends: {REPO / 'configs' / 'tiny.yaml'}\ndata:\n  sources:\n"
                    f"    - {{name: written, corpus: {corpus_file}}}\n"
                    f"    - {{name: real, annotations: {annotations}, texts: {texts or t}, weight: {weight}, "
                    f"optional: {str(optional).lower()}}}\n  held_out: {json.dumps([str(p) for p in held_out])}\n",
                    encoding="utf-8")
    return load_config(path, two_source_overrides(tmp_path, corpus_file))


def two_source_overrides(tmp_path, corpus_file) -> list[str]:
    # A third each to dev and test, so both hold articles of both sources.
    overrides = [o for o in tiny_overrides(corpus_file, tmp_path / "run") if not o.startswith("data.corpus")]
    return overrides + ["data.dev_fraction=0.3", "data.test_fraction=0.3"]


def test_two_sources_load_with_their_origin(tmp_path, corpus_file):
    data = load_data(two_source_config(tmp_path, corpus_file))
    assert set(data.sources) == {"written", "real"} and data.sources["real"]["articles"] == 16
    assert {a.origin for split in data.splits.values() for a in split} == {"written", "real"}
    assert "real: 16 articles" in data.describe()


def test_optional_source_without_texts_is_skipped_and_said(tmp_path, corpus_file):
    config = two_source_config(tmp_path, corpus_file, texts=tmp_path / "absent.jsonl")
    data = load_data(config)
    assert set(data.sources) == {"written"}
    assert "Not used: source 'real'" in data.describe() and "absent.jsonl are absent" in data.describe()


def test_required_source_without_texts_is_a_config_error(tmp_path, corpus_file):
    with pytest.raises(ConfigError, match=r"data\.sources\[1\]\.texts \(source 'real'\): file not found: .*absent"):
        two_source_config(tmp_path, corpus_file, optional=False, texts=tmp_path / "absent.jsonl")


def test_source_needs_exactly_one_kind(tmp_path, corpus_file):
    path = tmp_path / "c.yaml"
    path.write_text(f"extends: {REPO / 'configs' / 'tiny.yaml'}\ndata:\n  sources:\n"
                    f"    - {{name: real, annotations: {corpus_file}}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"stand-off annotations need `texts`"):
        load_config(path)


def dated(article_id: str, date: str, text: str):
    from factattr.data.types import Article

    return Article(article_id, text, (), meta={"date": date})


STORY = "A car bomb exploded near the police station in Qamishli killing {} people and wounding dozens."
OTHER = "Rebels shelled government positions in Daraa as talks on a truce in Geneva stalled again."


def test_same_event_needs_both_close_dates_and_alike_text():
    articles = [dated("a", "2016-07-27", STORY.format(40)), dated("b", "7/28/2016", STORY.format(44)),
                dated("c", "2016-09-01", STORY.format(40)), dated("d", "2016-07-27", OTHER)]
    clusters = event_clusters(articles)
    assert clusters[0] == clusters[1]
    assert len({clusters[0], clusters[2], clusters[3]}) == 3
    # An undated article links on its text alone, and so chains a's event to c's.
    clusters = event_clusters(articles + [dated("e", "", STORY.format(48))])
    assert clusters[0] == clusters[1] == clusters[2] == clusters[4] != clusters[3]


def test_split_by_event_never_splits_a_cluster():
    rng = random.Random(0)
    articles = []
    for event in range(40):
        day = f"2016-{1 + event % 12:02d}-{1 + event % 27:02d}"
        for copy in range(rng.randint(1, 3)):
            articles.append(dated(f"e{event}-{copy}", day, f"{STORY.format(event)} event{event} " * (1 + copy)))
    splits = split_by_event(articles, 13, 0.2, 0.2)
    clusters = event_clusters(articles)
    for cluster in set(clusters):
        assert len({s for s, c in zip(splits, clusters) if c == cluster}) == 1
    assert set(splits) == {"train", "dev", "test"}


def test_held_out_events_are_left_out(tmp_path, corpus_file):
    victim = load_data(two_source_config(tmp_path, corpus_file)).splits["train"][0]
    held = write_jsonl(tmp_path / "held.jsonl", [{
        "id": "held-1", "date": victim.date, "text": victim.text + " More.",
        "sentences": [{"start": 0, "end": 5, "source": "none", "claim_type": "background"}]}])
    data = load_data(two_source_config(tmp_path, corpus_file, held_out=[held]))
    assert victim.id in {e["id"] for e in data.excluded}
    assert victim.id not in {a.id for split in data.splits.values() for a in split}
    assert f"{victim.id} (~held-1" in data.describe()


@pytest.mark.skipif(not (SHARED / "realdev" / "realdev.jsonl").is_file(), reason="needs ../shared/realdev")
def test_written_corpus_reports_no_realdev_event():
    from factattr.data.corpus import read_corpus
    from factattr.data.events import HELD_OUT_DAYS, HELD_OUT_SIMILARITY

    written = read_corpus(REPO / "data" / "corpus.jsonl", None)
    realdev = read_corpus(SHARED / "realdev" / "realdev.jsonl", None, repairs=[])
    pairs = similar_pairs(written, realdev, days=HELD_OUT_DAYS, threshold=HELD_OUT_SIMILARITY)
    assert [(written[i].id, realdev[j].id) for i, j, _ in pairs] == []


def test_sampling_weights_repeat_and_thin_articles():
    from factattr.data.types import Article

    articles = [Article(f"w{i}", "", (), origin="written") for i in range(1000)] + \
               [Article(f"r{i}", "", (), origin="real") for i in range(1000)]
    assert epoch_articles(articles, {"written": 1.0, "real": 1.0}, random.Random(0)) == articles
    drawn = epoch_articles(articles, {"written": 0.5, "real": 2.0}, random.Random(0))
    written = sum(a.origin == "written" for a in drawn)
    assert 430 < written < 570 and sum(a.origin == "real" for a in drawn) == 2000


def test_text_hash_is_of_the_exact_text():
    assert text_hash("a") != text_hash("a ") and len(text_hash("")) == 64


def test_training_on_two_sources_reports_each(tmp_path, corpus_file):
    from factattr.eval.evaluate import run_evaluation
    from factattr.training.train import train

    config = two_source_config(tmp_path, corpus_file)
    best = train(config, progress=False)
    epoch = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()][-1]
    assert {"dev_real_source_macro_f1", "dev_written_claim_type_accuracy", "dev_score"} <= set(epoch)
    card = (best / "README.md").read_text()
    assert "Data: written: " in card and "real: 16 articles" in card and "(weight 2)" in card
    twin = tmp_path / "twin" / "best"
    shutil.copytree(best, twin)
    report = run_evaluation(best, out=tmp_path / "report", baselines=False, compare=[twin], progress=False)
    parts = report.results["by_origin"]
    assert set(parts) == {"test-real", "test-written"}
    assert sum(p["n_sentences"] for p in parts.values()) == report.results["n_scored"]
    assert parts["test-real"]["comparisons"]["twin/best"]["source"]["difference"] == 0
    assert "test-real: " in report.summary() and "  model minus twin/best: source +0.000" in report.summary()
    markdown = (tmp_path / "report" / "report.md").read_text()
    assert "### test-written" in markdown and "Model minus twin/best, paired over this part's articles" in markdown


def test_weight_zero_keeps_a_source_out_of_training_only(tmp_path, corpus_file, monkeypatch):
    import factattr.training.train as train_module

    seen = []
    real_encode = train_module.encode_articles
    monkeypatch.setattr(train_module, "encode_articles", lambda tok, model, texts, *rest: seen.append(list(texts)) or
                        real_encode(tok, model, texts, *rest))
    config = two_source_config(tmp_path, corpus_file, weight=0)
    data = load_data(config)
    best = train_module.train(config.model_copy(update={"training": config.training.model_copy(update={"epochs": 1})}),
                              progress=False)
    real_texts = {a.text for a in data.splits["train"] if a.origin == "real"}
    assert real_texts and not real_texts & {t for texts in seen for t in texts}
    assert "Source 'real' (16 articles) is in dev and test only (weight 0)." in (best / "README.md").read_text()


def test_pseudo_labels_train_only_with_soft_targets(tmp_path, corpus_file, tiny_checkpoint):
    from factattr.data.standoff import read_standoff
    from factattr.training.pseudo import pseudo_label
    from factattr.training.train import sentence_targets, train

    texts, annotations, articles = standoff_pair(tmp_path, n=16)
    unlabelled = write_jsonl(tmp_path / "more.jsonl", [
        {"id": f"u{i}", "date": f"2020-{1 + i:02d}-01", "text": a["text"]} for i, a in enumerate(articles[:6])])
    pseudo = tmp_path / "pseudo.jsonl"
    counts = pseudo_label(tiny_checkpoint, unlabelled, pseudo, exclude=[], progress=False)
    assert counts["articles"] == 6 and counts["sentences"] == 36
    joined, problems = read_standoff(pseudo, unlabelled, LABELS, {})
    assert problems == [] and all(abs(sum(s.probs["source"]) - 1) < 1e-3 for a in joined for s in a.sentences)
    assert pseudo_label(tiny_checkpoint, unlabelled, tmp_path / "none.jsonl", exclude=[pseudo],
                        progress=False)["articles"] == 0

    # One pseudo-labelled article repeats a dev article's text on its date: it reports that event, so it is left out.
    config = two_source_config(tmp_path, corpus_file, n=16)
    dev_article = load_data(config).splits["dev"][0]
    write_jsonl(unlabelled, [{"id": "u-dev", "date": dev_article.date, "text": dev_article.text}] +
                [{"id": f"u{i}", "date": f"2020-{1 + i:02d}-01", "text": a["text"]} for i, a in enumerate(articles[:6])])
    pseudo_label(tiny_checkpoint, unlabelled, pseudo, progress=False)
    raw = (tmp_path / "two.yaml").read_text()
    (tmp_path / "two.yaml").write_text(raw.replace("  held_out:", f"    - {{name: pseudo, annotations: {pseudo}, "
                                                   f"texts: {unlabelled}, train_only: true}}\n  held_out:"))
    config = load_config(tmp_path / "two.yaml", two_source_overrides(tmp_path, corpus_file))
    data = load_data(config)
    placed = {a.id: split for split, arts in data.splits.items() for a in arts}
    assert {placed.get(f"u{i}") for i in range(6)} == {"train"} and "u-dev" not in placed
    assert "1 training-only article(s) left out" in data.describe()
    labels = {h: {n: i for i, n in enumerate(config.label_names(h))} for h in ("source", "claim_type")}
    targets = sentence_targets(data.splits["train"], labels, soft=True)
    assert all(len(t["source"]) == 6 and abs(sum(t["source"]) - 1) < 1e-3 for t in targets.values())
    best = train(config, progress=False)
    assert (best / "model.safetensors").is_file()


@pytest.mark.parametrize("probs, message", [
    ({"source": [1.0]}, "must be {'source'"),
    ({"source": [0.5, 0.6, 0, 0, 0, 0], "claim_type": [1, 0, 0, 0, 0, 0]}, "probs.source sums to 1.1000"),
    ({"source": [1, 0, 0, 0, 0], "claim_type": [1, 0, 0, 0, 0, 0]}, "probs.source has 5 values; the schema has 6"),
    ({"source": [0, 1, 0, 0, 0, 0], "claim_type": [1, 0, 0, 0, 0, 0]}, "most probable label is not the sentence's 'source'"),
    ({"source": [1, 0, 0, 0, 0, 0], "claim_type": ["x", 0, 0, 0, 0, 1]}, "probs.claim_type must be a list of probabilities"),
])
def test_soft_labels_are_checked(probs, message):
    from factattr.data.corpus import check_article

    article = {"id": "a", "text": "Hello there.", "sentences": [
        {"start": 0, "end": 12, "source": "syrian_army", "claim_type": "territorial_control", "probs": probs}]}
    assert any(message in p for p in check_article(article, LABELS))


def test_written_files_get_ordinary_permissions(tmp_path):
    import os
    import stat

    path = write_jsonl(tmp_path / "x.jsonl", [{"id": "a"}])
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_an_ensemble_teacher_writes_the_mean_of_its_members_probabilities(tmp_path, corpus_file, tiny_checkpoint):
    from factattr.data.standoff import read_standoff
    from factattr.model.tagger import Tagger
    from factattr.training.pseudo import pseudo_label
    from factattr.training.train import train

    second = train(load_config(REPO / "configs" / "tiny.yaml", tiny_overrides(
        corpus_file, tmp_path / "second", **{"training.seed": 7, "training.epochs": 2})), progress=False)
    _, _, articles = standoff_pair(tmp_path, n=16)
    unlabelled = write_jsonl(tmp_path / "more.jsonl", [
        {"id": f"u{i}", "date": f"2020-{1 + i:02d}-01", "text": a["text"]} for i, a in enumerate(articles[:3])])
    pseudo = tmp_path / "pseudo.jsonl"
    pseudo_label([tiny_checkpoint, second], unlabelled, pseudo, progress=False)
    joined, problems = read_standoff(pseudo, unlabelled, LABELS, {})
    assert problems == []
    texts = [a.text for a in joined]
    spans = [[(s.start, s.end) for s in a.sentences] for a in joined]
    members = [Tagger.load(c).score_spans(texts, spans) for c in (tiny_checkpoint, second)]  # as pseudo_label loads them
    for article, one, two in zip(joined, *members):
        for s, a, b in zip(article.sentences, one.sentences, two.sentences):
            mean = [(a.probs["source"][n] + b.probs["source"][n]) / 2 for n in LABELS["source"]]
            assert s.probs["source"] == pytest.approx(mean, abs=1e-3)   # the file rounds to 4 places
            assert s.labels["source"] == LABELS["source"][max(range(len(mean)), key=mean.__getitem__)]


def test_an_ensemble_of_two_schemas_is_refused(tmp_path, tiny_checkpoint):
    from factattr.training.pseudo import pseudo_label
    from factattr.training.train import train

    from .test_other_schema import write_config

    other = train(load_config(write_config(tmp_path)[0], ["training.epochs=1"]), progress=False)
    _, _, articles = standoff_pair(tmp_path, n=16)
    unlabelled = write_jsonl(tmp_path / "more.jsonl", [{"id": "u0", "date": "2020-01-01", "text": articles[0]["text"]}])
    with pytest.raises(ConfigError, match="label schema differs"):
        pseudo_label([tiny_checkpoint, other], unlabelled, tmp_path / "p.jsonl", progress=False)
    assert not (tmp_path / "p.jsonl").exists()
