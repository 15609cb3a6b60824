"""Speaker and cue span annotations: the stand-off file, its checks and the agreement of two passes."""

from __future__ import annotations

import json

import pytest

from factattr.data.spans import check_spans, parse_record, read_spans, span_agreement
from factattr.errors import CorpusError

from .conftest import REPO, SHARED

TEXT = "Col. Ryan Dillon said 40 strikes hit Raqqa. He added that the rest come. Raqqa is on the river."
SENTENCES = [(0, 43, True), (44, 72, True), (73, 95, False)]
RECORD = {"id": "x", "entities": [{"entity": "E1", "start": 0, "end": 16}],
          "sentences": [{"i": 0, "speaker": {"start": 0, "end": 16, "kind": "name"}, "cue": {"start": 17, "end": 21},
                         "entity": "E1"},
                        {"i": 1, "speaker": {"start": 44, "end": 46, "kind": "pronoun"}, "cue": {"start": 47, "end": 52},
                         "entity": "E1"}]}


def record(**changes) -> dict:
    out = json.loads(json.dumps(RECORD))
    for path, value in changes.items():
        i, field = path.split("__")
        out["sentences"][int(i)][field] = value
    return out


def test_a_good_record_has_no_problems_and_links_its_pronoun():
    spans = parse_record(RECORD, "here")
    assert check_spans(spans, TEXT, SENTENCES) == []
    assert TEXT[spans.sentences[1].speaker.start:spans.sentences[1].speaker.end] == "He"
    named = spans.refers_to(1)
    assert TEXT[named.start:named.end] == "Col. Ryan Dillon"
    assert spans.refers_to(0) is None  # a name refers to nothing


@pytest.mark.parametrize("changes,problem", [
    ({"1__speaker": {"start": 44, "end": 47, "kind": "pronoun"}}, "word edges"),           # "He " ends in space
    ({"1__speaker": {"start": 30, "end": 46, "kind": "pronoun"}}, "not inside the sentence"),
    ({"1__cue": {"start": 45, "end": 52}}, "overlap"),
    ({"0__entity": "E9"}, "not among the article's entities"),
    ({"1__speaker": None}, "a cue without a speaker"),
    ({"1__speaker": {"start": 59, "end": 61, "kind": "pronoun"}}, "word edges"),           # "he" inside "the"
])
def test_bad_spans_are_named(changes, problem):
    problems = check_spans(parse_record(record(**changes), "here"), TEXT, SENTENCES)
    assert any(problem in p for p in problems), problems


def test_coverage_both_ways():
    missing = dict(RECORD, sentences=RECORD["sentences"][:1])
    assert any("sentence 1: attributed but has no span record" in p for p in check_spans(parse_record(missing, "h"), TEXT, SENTENCES))
    narration = dict(RECORD, sentences=RECORD["sentences"] + [{"i": 2, "speaker": None, "cue": None, "entity": "E1"}])
    assert any("narration" in p for p in check_spans(parse_record(narration, "h"), TEXT, SENTENCES))


def test_malformed_record_names_the_place():
    bad = dict(RECORD, sentences=[{"i": 0, "speaker": {"start": 0, "end": 16, "kind": "nickname"}}])
    with pytest.raises(CorpusError, match=r"spans.jsonl:3 \(article x\) sentence 0: speaker kind must be one of"):
        parse_record(bad, "spans.jsonl:3")


def test_agreement_exact_and_overlap():
    first = {"x": parse_record(RECORD, "a")}
    wider = record(**{"0__speaker": {"start": 0, "end": 21, "kind": "name"}})
    second = {"x": parse_record(wider, "b")}
    result = span_agreement(first, second)
    assert result["speaker"]["exact"]["f1"] == pytest.approx(0.5)
    assert result["speaker"]["overlap"]["f1"] == 1.0
    assert result["cue"]["exact"]["f1"] == 1.0
    assert result["refers_to_pairs"] == 1 and result["refers_to_agreement"] == 1.0


def test_the_corpus_spans_cover_every_attributed_written_sentence():
    spans = read_spans(REPO / "data" / "spans" / "spans.jsonl")
    checked = 0
    for line in (REPO / "data" / "corpus.jsonl").read_text(encoding="utf-8").split("\n"):
        if not line:
            continue
        article = json.loads(line)
        sentences = [(s["start"], s["end"], s["source"] != "none") for s in article["sentences"]]
        assert check_spans(spans[article["id"]], article["text"], sentences) == [], article["id"]
        checked += 1
    assert checked >= 500
    second = read_spans(REPO / "data" / "agreement" / "spans_second_pass.jsonl")
    assert len(second) >= 0.1 * len(spans)


@pytest.mark.skipif(not (SHARED / "realdev" / "realdev.jsonl").is_file(), reason="needs ../shared/realdev")
def test_realdev_spans_cover_every_attributed_sentence_of_its_unchanged_texts():
    """Realdev's spans (evaluation only) hold for realdev's texts and labels, and the blind pass covers a
    tenth of its articles at least."""
    from factattr.data.standoff import text_hash

    spans = read_spans(REPO / "data" / "spans" / "realdev.jsonl")
    articles = [json.loads(line) for line in (SHARED / "realdev" / "realdev.jsonl").read_text(encoding="utf-8").splitlines()]
    assert set(spans) == {a["id"] for a in articles}
    for article in articles:
        assert spans[article["id"]].sha256 == text_hash(article["text"]), article["id"]
        sentences = [(s["start"], s["end"], s["source"] != "none") for s in article["sentences"]]
        assert check_spans(spans[article["id"]], article["text"], sentences) == [], article["id"]
    second = read_spans(REPO / "data" / "agreement" / "realdev_spans_second_pass.jsonl")
    assert set(second) <= set(spans) and len(second) >= 0.1 * len(spans)


@pytest.mark.skipif(not (SHARED / "realtrain" / "articles.jsonl").is_file(), reason="needs ../shared/realtrain")
def test_the_check_set_is_labelled_spanned_and_never_trained_on():
    """The real check set (evaluation only): stand-off labels and spans that hold for their texts, and no
    article of it among the annotations the configs train on."""
    from factattr.config import load_config
    from factattr.data.standoff import read_standoff, read_texts

    config = load_config(REPO / "configs" / "default.yaml")
    articles, problems = read_standoff(REPO / "data" / "real" / "check.jsonl",
                                       read_texts(SHARED / "realtrain" / "articles.jsonl"),
                                       config.labels.label_lists(), {})
    assert problems == [] and len(articles) >= 20
    spans = read_spans(REPO / "data" / "spans" / "check.jsonl")
    for article in articles:
        sentences = [(x.start, x.end, x.labels["source"] != "none") for x in article.sentences]
        assert check_spans(spans[article.id], article.text, sentences) == [], article.id
    trained = {json.loads(line)["id"] for line in (REPO / "data" / "real" / "annotations.jsonl").read_text(
        encoding="utf-8").splitlines() if line.strip()}
    assert not trained & {a.id for a in articles}


def test_agreement_command_for_spans_and_for_a_pass_against_gold(tmp_path, capsys):
    from factattr.cli import main

    assert main(["agreement", "--spans", str(REPO / "data" / "spans" / "spans.jsonl"),
                 str(REPO / "data" / "agreement" / "spans_second_pass.jsonl")]) == 0
    spans = json.loads(capsys.readouterr().out)
    assert spans["articles"] >= 87 and spans["speaker"]["exact"]["f1"] > 0.9
    gold = tmp_path / "gold.jsonl"
    text = "The army said it took the town. The town lies on a river."
    gold.write_text(json.dumps({"id": "g", "text": text, "sentences": [
        {"start": 0, "end": 31, "source": "syrian_army", "claim_type": "territorial_control"},
        {"start": 32, "end": 57, "source": "none", "claim_type": "background"}]}) + "\n", encoding="utf-8")
    labels = tmp_path / "pass.jsonl"
    labels.write_text("".join(json.dumps({"id": "g", "i": i, "source": s, "claim_type": c}) + "\n" for i, (s, c) in
                              enumerate([("other", "territorial_control"), ("none", "background")])), encoding="utf-8")
    assert main(["agreement", str(labels), "--gold", str(gold), "--config", str(REPO / "configs" / "default.yaml")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["sentences"] == 2 and result["claim_type"]["accuracy"] == 1.0 and result["source"]["accuracy"] == 0.5
